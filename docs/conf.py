"""Sphinx configuration of qpcsim's docs site (``make docs``).

The API reference is generated from the numpydoc docstrings (``api/``: one page per public
name of ``qpcsim.__all__`` and of the public subpackages, written by ``_api_pages.py``), the
user guide is the Markdown of ``docs/`` (myst-parser) and the gallery is ``examples/``
with its outputs: those of ``make test``'s nbmake run where it ran (``gallery_executed/``),
else executed by myst-nb and cached, so that a second ``make docs`` executes nothing.
"""
import importlib
import re
import sys
import warnings
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))
import _api_pages  # noqa: E402  (a helper next to this file, not part of qpcsim)

import qpcsim  # noqa: E402

project = "qpcsim"
author = "the qpcsim developers"
release = version = qpcsim.__version__
copyright = "the qpcsim developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Formulas render with no network (a cluster, a laptop on a train): MathJax 3 comes from
    # this pinned package, which sets mathjax_path to its copy in _static/mathjax, not a CDN.
    "sphinx-mathjax-offline",
    "numpydoc",
    "myst_nb",          # Markdown (MyST) pages and executed notebooks
]
# gallery_executed/: `make test`'s executed copies of the notebooks, read by _copy_gallery
exclude_patterns = ["_build", "**.ipynb_checkpoints", "gallery_executed"]
templates_path = ["_templates"]

# API reference: types live in the numpydoc sections, not in the signatures.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autosummary_generate = False        # _api_pages writes the pages itself (fixed, reviewable list)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()  # tests/test_docs.py checks the sections that matter

# Every cross-reference must resolve (make docs runs -n -W).  Third-party types are not
# resolvable offline (no intersphinx inventories: the build machines reach no documentation
# sites), so references into these packages are ignored by name, nothing else.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|xarray|kwant|tinyarray|matplotlib|concurrent|dask|distributed"
               r"|pathlib|collections|typing|os|adaptive|gdstk|h5py)(\..*)?"),
    # Private helpers (a leading underscore, by the project's convention) have no page.
    (r"py:.*", r"(.*\.)?_[A-Za-z]\w*"),
]
# Internal modules and the names defined there have no page by design (the public API is __all__): a docstring that names
# one renders the name unlinked.  The list is computed, so a public module can never hide here.
nitpick_ignore = [(f"py:{role}", name) for module, role, full in _api_pages.internal_names()
                  for name in (full, full.rsplit(".", 1)[-1])]

# User guide (Markdown) and gallery (notebooks, executed once and cached).
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_merge_streams = True

html_theme = "pydata_sphinx_theme"
html_title = f"qpcsim {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2,
                      "header_links_before_dropdown": 3,
                      "secondary_sidebar_items": ["page-toc"]}
html_static_path = []


_BARS = re.compile(r"(``.*?``|:math:`.*?`|\|)")


def _escape_absolute_value_bars(app, what, name, obj, options, lines):
    """Docstrings write |x| for an absolute value; in reST that is a substitution: escape it."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("+") or (len(stripped) > 1 and stripped[0] == stripped[-1] == "|"
                                        and stripped.count("|") > 2):
            continue                                     # a grid table: leave it
        lines[index] = _BARS.sub(lambda m: "\\|" if m.group(0) == "|" else m.group(0), line)


def _import_object(dotted):
    """The object a dotted name denotes, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _resolve_alias(app, env, node, contnode):
    """Resolve a reference written with a short or another public name of a documented object:
    ``TransportResult``, ``with_disorder``, ``fits.MeanFreePathFit``.  Candidates are
    the documented objects of the reference's type whose name ends like the target; several
    names of one object (an alias and its canonical name) count as one.  Anything else stays
    unresolved, so nitpicky still reports it."""
    target = node.get("reftarget", "").lstrip(".~")
    if node.get("refdomain") != "py" or not target or target.split(".")[-1].startswith("_"):
        return None
    domain = env.get_domain("py")
    types = set(domain.objtypes_for_role(node["reftype"]) or ())
    named = [name for name, _, kind, *_ in domain.get_objects() if kind in types]
    wanted = _import_object(target) if target.startswith("qpcsim.") else None
    candidates = {}
    for name in named:
        if name.endswith("." + target) or (wanted is not None and name.endswith("." + target.split(".")[-1])):
            obj = _import_object(name)
            if wanted is None or obj is wanted:
                candidates.setdefault(id(obj), []).append(name)
    if len(candidates) != 1:
        return None
    node["reftarget"] = min(candidates.popitem()[1], key=len)
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                               node["reftarget"], node, contnode)


def _code(notebook):
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _read(path):
    with warnings.catch_warnings():       # the sources have no cell ids (nbformat < 4.5)
        warnings.simplefilter("ignore", nbformat.validator.MissingIDFieldWarning)
        return nbformat.read(path, as_version=4)


def _copy_gallery(app):
    """Copy the notebooks of ``examples/`` into ``docs/gallery/`` (a build product).  Where
    ``make test`` has left an executed copy of the same code in ``gallery_executed/`` (its
    nbmake run, ``--overwrite``), that copy is taken with its outputs and not run again;
    any other notebook is executed by myst-nb (and cached)."""
    gallery = DOCS / "gallery"
    gallery.mkdir(exist_ok=True)
    for source in sorted((DOCS.parent / "examples").glob("*.ipynb")):
        content = _read(source)
        executed = DOCS / "gallery_executed" / source.name
        if executed.exists() and _code(_read(executed)) == _code(content):
            content = _read(executed)
            content.metadata["mystnb"] = {"execution_mode": "off"}
        content.nbformat_minor = max(content.nbformat_minor, 5)
        for number, cell in enumerate(content.cells):
            cell.setdefault("id", f"cell-{number}")     # nbformat >= 4.5 wants ids
        text = nbformat.writes(content)
        target = gallery / source.name
        if not target.exists() or target.read_text() != text:
            target.write_text(text)


def setup(app):
    app.connect("builder-inited", _copy_gallery)
    app.connect("autodoc-process-docstring", _escape_absolute_value_bars)
    app.connect("missing-reference", _resolve_alias)
    app.connect("builder-inited", lambda app: _api_pages.write_pages(DOCS / "api"))
