"""The API reference: every public name has a docstring and a page, and numpydoc sections
that document each parameter (with its unit where the parameter is a physical quantity)."""
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape")   # the `docs` extra (make setup installs it)

ROOT = Path(__file__).resolve().parent.parent


def _load_api_pages():
    spec = importlib.util.spec_from_file_location("_api_pages", ROOT / "docs" / "_api_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


API_PAGES = _load_api_pages()
PUBLIC = API_PAGES.public_objects()
PUBLIC_IDS = [f"{package}.{name}" for package, name, _ in PUBLIC]
DOCUMENTED = [(package, name, obj) for package, name, obj in PUBLIC
              if inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)]

# Public callables whose docstring is still prose (no numpydoc Parameters section). This list
# may only shrink: a name converted to numpydoc makes test_parameters_documented fail until
# it is removed here.
PROSE_DOCSTRINGS = {
    "qpcsim.adiabaticity_scan", "qpcsim.beenakker_conductance", "qpcsim.check_geometry_params",
    "qpcsim.dephasing_length", "qpcsim.diamond_spacings", "qpcsim.fit_localization_length",
    "qpcsim.load_geometry_module", "qpcsim.load_result", "qpcsim.noise",
    "qpcsim.predicted_localization_length", "qpcsim.thermoelectric", "qpcsim.LatticeError",
    "qpcsim.backends.backend_info", "qpcsim.backends.choose_backend",
    "qpcsim.backends.create_backend", "qpcsim.backends.fast_path_applies",
    "qpcsim.backends.register", "qpcsim.engine.DeviceRecipe", "qpcsim.engine.load_result",
    "qpcsim.engine.run_spec", "qpcsim.spectral.compute_spectrum", "qpcsim.spectral.device_grid",
    "qpcsim.spectral.fermi", "qpcsim.spectral.fermi_window",
    "qpcsim.electrostatics.DonorLandscape", "qpcsim.electrostatics.gate_potential",
    "qpcsim.electrostatics.layout_potential",
}

# A parameter named like a physical quantity must say its unit (or that it has none); a name
# with a unit suffix (``depth_nm``, ``tolerance_meV``) carries its unit already.
QUANTITY_NAME = re.compile(r"^(energy|temperature|B|width|length|bias|V_sd|Vg|lattice_constant)$")
UNIT = re.compile(r"\b(meV|eV|nm|K|T|V|mV|cm|lattice units?|dimensionless|2e²/h|e²/h|units?)\b"
                  r"|\b(nm|meV|cm)\^?[-−⁻]?[0-9²]|\(\s*[a-zA-Z²⁻/ ]+\s*\)")


def _scraped(obj):
    return docscrape.ClassDoc(obj) if inspect.isclass(obj) else docscrape.FunctionDoc(obj)


def _parameters(obj):
    """The named parameters a caller passes (not self, *args, **kwargs); None if no signature."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [name for name, parameter in signature.parameters.items()
            if name not in ("self", "cls") and parameter.kind not in variadic]


@pytest.mark.parametrize("package, name, obj", PUBLIC, ids=PUBLIC_IDS)
def test_every_public_name_has_a_docstring(package, name, obj):
    if not (inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)):
        return                                 # constants: documented on their module's page
    doc = inspect.getdoc(obj)
    assert doc and len(doc.split()) >= 5, f"{package}.{name} has no docstring worth the name"


def test_every_public_name_gets_a_page(tmp_path):
    API_PAGES.write_pages(tmp_path)
    pages = {path.stem for path in tmp_path.glob("*.rst")}
    missing = sorted(set(PUBLIC_IDS) - pages)
    assert not missing, f"no API page for {missing}"
    index = (tmp_path / "index.rst").read_text()
    assert all(f"   {name}\n" in index for name in PUBLIC_IDS)


@pytest.mark.parametrize("package, name, obj", [entry for entry in DOCUMENTED
                                                if not inspect.ismodule(entry[2])],
                         ids=[f"{p}.{n}" for p, n, o in DOCUMENTED if not inspect.ismodule(o)])
def test_parameters_documented(package, name, obj):
    full_name = f"{package}.{name}"
    parameters = _parameters(obj)
    if not parameters:
        return
    doc = _scraped(obj)
    if not doc["Parameters"]:
        if inspect.isclass(obj) and doc["Attributes"]:
            return                             # a result/record class: fields in Attributes
        assert full_name in PROSE_DOCSTRINGS, f"{full_name}: no numpydoc Parameters section"
        return
    assert full_name not in PROSE_DOCSTRINGS, f"{full_name} is numpydoc now: drop it from PROSE_DOCSTRINGS"
    entries = {part.strip(): entry for entry in doc["Parameters"] for part in entry.name.split(",")}
    undocumented = [parameter for parameter in parameters if parameter not in entries]
    assert not undocumented, f"{full_name}: parameters {undocumented} not in its Parameters section"
    no_unit = [parameter for parameter in parameters if QUANTITY_NAME.search(parameter)
               and not UNIT.search(entries[parameter].type + " " + " ".join(entries[parameter].desc))]
    assert not no_unit, f"{full_name}: parameters {no_unit} do not state their unit"


def test_math_renders_offline(tmp_path):
    """The site's formulas need no network: docs/conf.py's extensions load MathJax from a
    file inside the built site (shipped by a pinned package), never from a CDN."""
    sphinx_application = pytest.importorskip("sphinx.application")
    sphinx_config = pytest.importorskip("sphinx.config")
    extensions = sphinx_config.Config.read(ROOT / "docs").extensions
    (tmp_path / "conf.py").write_text(f"extensions = {extensions!r}\n")
    (tmp_path / "index.rst").write_text("Landauer\n========\n\n.. math:: G = \\frac{2e^2}{h} N\n")
    out = tmp_path / "html"
    app = sphinx_application.Sphinx(tmp_path, tmp_path, out, tmp_path / "doctrees", "html",
                                    status=None, warning=None, freshenv=True)
    app.build()
    html = (out / "index.html").read_text()
    sources = [src for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', html) if "mathjax" in src.lower()]
    assert sources, "no MathJax script on a page with a formula"
    for src in sources:
        assert "//" not in src, f"MathJax loads from the network: {src}"
        assert (out / src.split("?")[0]).is_file(), f"MathJax script {src} is not in the built site"
