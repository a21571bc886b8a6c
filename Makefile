# qpcsim: two commands do everything on a fresh machine.
#   make demo   set up (if needed), run the split-gate QPC sweep and the comparisons -> results/
#   make test   set up (if needed), run qpcsim's tests and Kwant's own test suite
# Set-up is idempotent: a second run rebuilds nothing.

VENV   ?= .venv
PY     := $(VENV)/bin/python
QPCSIM := $(VENV)/bin/qpcsim
STAMP  := $(VENV)/.setup-complete
RESULTS ?= results

# Kwant 1.5.0's own suite is our peer check of the stack. These three tests fail
# with NumPy 2 + matplotlib 3.8 in Kwant's 3-D plotting code only (see README,
# "Known Kwant test failures"); every other failure stops `make test`.
KWANT_KNOWN_FAILURES := \
	--deselect tests/test_plotter.py::test_matplotlib_plot \
	--deselect "tests/test_plotter.py::test_spectrum[matplotlib]" \
	--deselect tests/test_wraparound.py::test_plot_2d_bands

.PHONY: setup test test-qpcsim test-kwant test-slow demo bench clean

$(STAMP): scripts/setup_env.sh pyproject.toml requirements/constraints.txt
	bash scripts/setup_env.sh
	touch $@

setup: $(STAMP)

test: test-qpcsim test-kwant

test-qpcsim: $(STAMP)
	$(QPCSIM) info
	$(PY) -m pytest -q tests
	$(PY) -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=300 examples

test-kwant: $(STAMP)
	KWANT_DIR=$$($(PY) -c "import kwant, os; print(os.path.dirname(kwant.__file__))") && \
	cd /tmp && $(CURDIR)/$(PY) -m pytest -q -p no:cacheprovider --rootdir=$$KWANT_DIR \
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

clean:
	rm -rf $(VENV) $(RESULTS) .pytest_cache
