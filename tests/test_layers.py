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
    "backends": 2, "scattering": 2.5, "solver": 3, "spectral": 3, "engine": 4, "physics": 5, "electrostatics": 5,
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


def _module_name(path: Path) -> str:
    parts = ("qpcsim",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, modules: set) -> set:
    """qpcsim modules ``path`` imports, at module top or inside functions: for ``from X
    import y``, ``X.y`` where that is a module (a submodule import), else ``X``."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != here}


def _import_cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle_between_any_modules():
    """No circle of imports among qpcsim's modules, inside a layer too (e.g. solver <->
    spectral), counting imports inside functions (they hide a circle, not remove it).
    A package's ``__init__`` importing its own modules is not a circle by itself."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _imported_modules(p, modules) for p in paths}
    cycles = _import_cycles(graph)
    assert not cycles, cycles


def test_the_cycle_check_sees_a_cycle():
    """The check itself: a circle through function-local imports is found."""
    assert _import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _import_cycles({"a": {"b"}, "b": set()}) == []
