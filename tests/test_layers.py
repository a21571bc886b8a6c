"""The package's folders are its layers, and each imports only downward."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "qpcsim"
#: Layer of each top-level module or subpackage (lower = more basic).
LAYER = {
    "_version": 0, "units": 0, "validate": 0, "serialize": 0, "potentials": 0,
    "observables": 0, "analysis": 0, "budget": 0, "sanity": 0, "terminals": 0, "device": 1,
    "geometry": 1,
    "hamiltonian": 1, "superconductivity": 1, "lattices": 1,
    "backends": 2, "solver": 3, "spectral": 3, "engine": 4, "physics": 5, "electrostatics": 5,
    "plotting": 6, "cli": 7,
    "fingerprint": 0,
}


def _component(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_components(path: Path):
    """Top-level qpcsim components imported by ``path`` (absolute or relative)."""
    tree = ast.parse(path.read_text())
    package = list(path.relative_to(PACKAGE).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                parts = base + (node.module.split(".") if node.module else [])
                if parts:
                    yield parts[0], node.lineno
                else:   # "from . import x" at the package root
                    for alias in node.names:
                        yield alias.name, node.lineno
            elif node.module and node.module.split(".")[0] == "qpcsim":
                parts = node.module.split(".")[1:]
                if parts:
                    yield parts[0], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "qpcsim" and len(parts) > 1:
                    yield parts[1], node.lineno


def test_every_module_is_in_a_layer():
    components = {_component(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"
                  or p.parent != PACKAGE}
    assert components <= set(LAYER), sorted(components - set(LAYER))


def test_folders_import_only_downward():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue          # the package face re-exports everything
        here = _component(path)
        for target, line in _imported_components(path):
            if target in LAYER and target != here and LAYER[target] > LAYER[here]:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert not upward, upward


def test_every_subpackage_is_reachable_from_the_package_face():
    """``import qpcsim`` then ``qpcsim.plotting.plot_result`` (the README's snippet) works
    for every subpackage, not only after an explicit ``import qpcsim.plotting``."""
    import qpcsim
    # cli/ is the shell's face (the `qpcsim` entry point), not imported by the library
    folders = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py") if p.parent.name != "cli")
    assert folders and all(hasattr(qpcsim, name) for name in folders), \
        [name for name in folders if not hasattr(qpcsim, name)]
