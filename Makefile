# qpcsim: two commands do everything on a fresh machine.
#   make demo   set up (if needed), run the split-gate QPC sweep and the comparisons -> results/
#   make test   set up (if needed), run qpcsim's tests and Kwant's own test suite
#   make docs   the Sphinx site (API reference, user guide, executed gallery) -> docs/_build/html
# Set-up is idempotent: a second run rebuilds nothing.
# Another interpreter: `make test PYTHON=python3.12` (or 3.13) sets up and uses .venv-3.12.

PYTHON ?= python3
VENV   ?= $(if $(filter python3 python,$(notdir $(PYTHON))),.venv,.venv-$(patsubst python%,%,$(notdir $(PYTHON))))
PY     := $(VENV)/bin/python
QPCSIM := $(VENV)/bin/qpcsim
STAMP  := $(VENV)/.setup-complete
RESULTS ?= results
EXECUTED := docs/gallery_executed

# Kwant 1.5.0's own suite is our peer check of the stack. These three tests fail
# with NumPy 2 + matplotlib 3.8 in Kwant's 3-D plotting code only (see README,
# "Known Kwant test failures"); every other failure stops `make test`.
KWANT_KNOWN_FAILURES := \
	--deselect tests/test_plotter.py::test_matplotlib_plot \
	--deselect "tests/test_plotter.py::test_spectrum[matplotlib]" \
	--deselect tests/test_wraparound.py::test_plot_2d_bands
# Python 3.13 runs matplotlib 3.9 (the oldest with 3.13 wheels): there Kwant's check that
# importing kwant leaves matplotlib's backend unset fails as well (its own test harness, not
# plotting); the three above fail the same way.  Its SciPy 1.14 (the oldest with 3.13 wheels) has
# no sparse `.A`, which Kwant uses only to print the lead matrix in magnetic_gauge's ValueError for
# an unfixable gauge: test_unfixable_gauge gets an AttributeError there instead (see README).
ifneq ($(filter %3.13,$(PYTHON)),)
KWANT_KNOWN_FAILURES += --deselect tests/test_plotter.py::test_matplotlib_backend_unset \
	--deselect physics/tests/test_gauge.py::test_unfixable_gauge
endif

.PHONY: setup test test-qpcsim test-kwant test-slow demo bench docs clean

$(STAMP): scripts/setup_env.sh pyproject.toml requirements/constraints.txt
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup_env.sh
	touch $@

setup: $(STAMP)

test: test-qpcsim test-kwant

test-qpcsim: $(STAMP)
	$(QPCSIM) info
	$(PY) -m pytest -q tests
	@# The gallery runs on copies that keep their outputs (--overwrite), which `make docs`
	@# renders instead of executing every notebook a second time.
	rm -rf $(EXECUTED) && mkdir -p $(EXECUTED) && cp examples/*.ipynb $(EXECUTED)/
	$(PY) -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=300 --overwrite $(EXECUTED)

# PYTHONHASHSEED is fixed for Kwant's suite because its test_builder.py::test_fill depends on the
# string-hash seed: its "weird system" drops every 7th site and every 11th / 13th hopping in set
# order, and for about 1 seed in 360 (e.g. 329) that leaves one site with no hopping, which the
# flood fill under test cannot reach (CI failed on this once). A defect of the test, not of fill.
test-kwant: $(STAMP)
	KWANT_DIR=$$($(PY) -c "import kwant, os; print(os.path.dirname(kwant.__file__))") && \
	cd /tmp && PYTHONHASHSEED=0 $(CURDIR)/$(PY) -m pytest -q -p no:cacheprovider --rootdir=$$KWANT_DIR \
		--pyargs kwant $(KWANT_KNOWN_FAILURES) -W ignore::DeprecationWarning

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

demo: $(STAMP)
	bash scripts/demo.sh $(RESULTS)

bench: $(STAMP)
	$(PY) benchmarks/run.py
	$(PY) benchmarks/bench_backends.py
	$(PY) benchmarks/bench_sampling.py
	$(PY) benchmarks/bench_electrostatics.py

# Warnings are errors (-W) and every cross-reference must resolve (-n, nitpicky); the
# gallery shows the outputs of `make test`'s notebook run, or executes the notebooks once
# (cached in docs/_build/.jupyter_cache) where that did not run.
docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -n -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(RESULTS) .pytest_cache docs/_build docs/gallery docs/gallery_executed
