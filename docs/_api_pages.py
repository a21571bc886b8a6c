"""Write the API reference pages: one page per public name (``__all__``) of qpcsim and of its
public subpackages, each rendered by autodoc from the name's numpydoc docstring.

An object reachable under two public names (``qpcsim.sweep`` is ``qpcsim.engine.sweep``) is
documented once, on the page of its first name; the other page says which name it is.
"""
import importlib
import inspect
import pkgutil
from pathlib import Path

# The public subpackages, in the order of ARCHITECTURE.md's layers (bottom up).
SUBPACKAGES = ("backends", "engine", "spectral", "physics", "electrostatics", "plotting")
PACKAGES = ("qpcsim",) + tuple(f"qpcsim.{sub}" for sub in SUBPACKAGES)


def public_names(package_name):
    """The names of ``package_name.__all__`` (sorted, ``__version__`` left out)."""
    package = importlib.import_module(package_name)
    return sorted(name for name in package.__all__ if not name.startswith("_"))


def public_objects():
    """``[(package_name, name, object)]`` for every public name, in page order."""
    return [(package_name, name, getattr(importlib.import_module(package_name), name))
            for package_name in PACKAGES for name in public_names(package_name)]


def _role(obj):
    if inspect.ismodule(obj):
        return "mod", ".. automodule:: {}\n   :members:\n   :undoc-members:\n{}"
    if inspect.isclass(obj):
        return "class", ".. autoclass:: {}\n   :members:\n{}"
    if callable(obj):
        return "func", ".. autofunction:: {}\n{}"
    return "data", ".. autodata:: {}\n   :annotation:\n{}"


def _primary_names(objects):
    """The name each object is documented under: a module's own name where public, else the first."""
    primary = {}
    for package_name, name, obj in objects:
        full_name = f"{package_name}.{name}"
        if inspect.ismodule(obj) and obj.__name__ == full_name:
            primary[id(obj)] = full_name
        primary.setdefault(id(obj), full_name)
    return primary


def documented_modules():
    """The module names that get a page of their own (everything else is internal)."""
    return {full for full in _primary_names(public_objects()).values()
            if inspect.ismodule(_resolve(full))} | set(PACKAGES)


def internal_modules():
    """qpcsim's modules without a page: referring to one renders its name, unlinked."""
    import qpcsim
    names = {info.name for info in pkgutil.walk_packages(qpcsim.__path__, "qpcsim.")
             if not info.name.endswith("__main__")}     # __main__ runs the CLI on import
    return sorted(names - documented_modules())


def _resolve(full_name):
    package_name, name = full_name.rsplit(".", 1)
    return getattr(importlib.import_module(package_name), name)


def _page(package_name, name, obj, primary, documented_ids):
    full_name = f"{package_name}.{name}"
    title = f"``{full_name}``"
    role, directive = _role(obj)
    if primary[id(obj)] != full_name:
        body = f"``{full_name}`` is :py:{role}:`{primary[id(obj)]}`.\n"
    else:
        # A module page shows its docstring and the members that have no page of their own.
        own = [member for member, value in vars(obj).items() if id(value) in documented_ids] \
            if inspect.ismodule(obj) else []
        exclude = f"   :exclude-members: {', '.join(sorted(own))}\n" if own else ""
        body = directive.format(full_name, exclude)
    return f"{title}\n{'=' * len(title)}\n\n.. currentmodule:: {package_name}\n\n{body}"


def _write_if_changed(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_pages(api_dir):
    """Write ``api_dir/index.rst`` and one ``api_dir/<package>.<name>.rst`` per public name."""
    api_dir = Path(api_dir)
    api_dir.mkdir(exist_ok=True)
    objects = public_objects()
    primary = _primary_names(objects)
    documented_ids = {id(obj) for _, _, obj in objects if not inspect.ismodule(obj)}
    index = ["API reference\n=============\n\nEvery public name of ``qpcsim`` (its ``__all__``) and of "
             "the public subpackages, from its docstring. Lengths are in nm, energies in meV, "
             "fields in T, temperatures in K, gate voltages in V unless a page says otherwise.\n\n"]
    for package_name in PACKAGES:
        heading = f"``{package_name}``"
        names = public_names(package_name)
        entries = "\n".join(f"   {package_name}.{name}" for name in names)
        if package_name != "qpcsim" and package_name not in primary.values():
            # A public subpackage that qpcsim.__all__ does not list still gets its own page.
            module = importlib.import_module(package_name)
            primary[id(module)] = package_name
            _write_if_changed(api_dir / f"{package_name}.rst", _page(*package_name.rsplit(".", 1),
                                                                    module, primary, documented_ids))
            entries = f"   {package_name}\n" + entries
        index.append(f"{heading}\n{'-' * len(heading)}\n\n.. toctree::\n   :maxdepth: 1\n\n{entries}\n\n")
    for package_name, name, obj in objects:
        _write_if_changed(api_dir / f"{package_name}.{name}.rst",
                          _page(package_name, name, obj, primary, documented_ids))
    _write_if_changed(api_dir / "index.rst", "".join(index))


def internal_names():
    """``[(module, role, dotted name)]``: each internal module (role ``mod``) and the names it
    defines that no page documents (``data``, ``func``, ``class``, ``meth``, ``attr``)."""
    documented_ids = {id(obj) for _, _, obj in public_objects()}
    names = []
    for module_name in internal_modules():
        names.append((module_name, "mod", module_name))
        module = importlib.import_module(module_name)
        for attr, value in vars(module).items():
            if attr.startswith("_") or id(value) in documented_ids or inspect.ismodule(value):
                continue
            if getattr(value, "__module__", module_name) != module_name and not attr.isupper():
                continue                                   # imported from elsewhere
            for role in ("data", "func", "class", "obj"):
                names.append((module_name, role, f"{module_name}.{attr}"))
    return names
