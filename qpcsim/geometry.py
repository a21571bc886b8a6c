"""Loading device definitions from ``geometries/``-style Python files.

A geometry file is a plain module exposing ``make_device(**params) -> Device``
and a ``DEFAULTS`` dict documenting every parameter; users copy one and edit it.
"""
from __future__ import annotations

import ast
import hashlib
import re
import sys
import types
from collections.abc import Mapping
from pathlib import Path

from . import validate as _validate
from .validate import user_code_location

__all__ = ["load_geometry", "load_geometry_module", "check_geometry_params", "geometry_path",
           "bundled_geometries", "geometry_parameter_docs", "geometry_source", "build_geometry"]

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def bundled_geometries() -> Path:
    """The folder of the bundled geometry files: ``qpcsim/geometries`` in an
    installed wheel (package data), ``geometries/`` beside the package in a
    source checkout or editable install."""
    for folder in (Path(__file__).resolve().parent / "geometries", _PACKAGE_ROOT / "geometries"):
        if (folder / "qpc_saddle.py").is_file():
            return folder
    raise ValueError("the bundled geometries are missing from this installation "
                     f"(looked in {Path(__file__).resolve().parent / 'geometries'} and "
                     f"{_PACKAGE_ROOT / 'geometries'}); reinstall qpcsim")


def geometry_path(path_or_name: str | Path) -> Path:
    """Resolve a geometry file: a path, or the name of a bundled geometry (``qpc_saddle``).

    A bare name (no folder, no ``.py``) is a bundled geometry, whatever the
    working directory holds; anything else is a path.
    """
    path = _validate.file_path("geometry", path_or_name)
    bare = path.suffix != ".py" and len(path.parts) == 1
    if bare:
        candidates = [bundled_geometries() / f"{path.name}.py"]
    else:
        candidates = [path]
        if len(path.parts) == 1:   # "qpc_saddle.py": the working directory, then bundled
            candidates.append(bundled_geometries() / path.name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise ValueError(f"geometry={str(path_or_name)!r} is not allowed: no such file (looked for "
                     + ", ".join(str(c) for c in candidates) + ")")


#: Source text of every geometry file loaded in this process, by SHA-256: what a
#: result records and what workers build from (never the path again, which may
#: have been edited since).
_SOURCES: dict[str, bytes] = {}


def geometry_source(sha256: str) -> bytes | None:
    """The source text of a geometry file loaded in this process, by its SHA-256."""
    return _SOURCES.get(sha256)


def _user_error(exc: BaseException, what: str, filename: str | None = None) -> ValueError:
    """A one-line ValueError for an exception raised by user code, naming where."""
    where = user_code_location(exc, filename)
    if isinstance(exc, SystemExit):
        return ValueError(f"{what} called sys.exit({exc.code!r})"
                          + (f" at {where}" if where else "") + "; raise an exception instead")
    if isinstance(exc, SyntaxError):
        return ValueError(f"{what} has a syntax error at {where}: {exc.msg}")
    message = str(exc).splitlines()[0] if str(exc) else ""
    return ValueError(f"{what} failed" + (f" at {where}" if where else "")
                      + f": {type(exc).__name__}" + (f": {message}" if message else ""))


def load_geometry_module(path_or_name: str | Path, source: bytes | None = None):
    """Import a geometry file as a module (cached per file content).

    ``source``: the file's text as hashed when it was first loaded (workers of a
    sweep get it with the recipe); default: read the file once, and execute
    exactly the bytes that were hashed.
    """
    path = geometry_path(path_or_name) if source is None else Path(path_or_name)
    if source is None:
        source = path.read_bytes()
    full_digest = hashlib.sha256(source).hexdigest()
    module_name = f"qpcsim_geometry_{path.stem}_{full_digest[:16]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    try:
        code = compile(source, str(path), "exec")
        exec(code, module.__dict__)   # noqa: S102 - the user's own device definition
    except (Exception, SystemExit) as exc:
        del sys.modules[module_name]
        raise _user_error(exc, f"geometry file {str(path)!r}", str(path)) from None
    if not callable(getattr(module, "make_device", None)):
        del sys.modules[module_name]
        raise ValueError(f"geometry file {str(path)!r} does not define make_device(**params)")
    module.__qpcsim_path__ = str(path)
    module.__qpcsim_source_sha256__ = full_digest
    _SOURCES[full_digest] = source
    return module


def load_geometry(path_or_name: str | Path, **params):
    """Build a :class:`~qpcsim.Device` from a geometry file.

    Parameters
    ----------
    path_or_name : str or Path
        Path of a geometry file, or the name of one in ``geometries/``.
    **params
        Arguments of its ``make_device`` (units in the file's ``DEFAULTS``).

    Examples
    --------
    >>> dev = qpcsim.load_geometry("geometries/qpc_saddle.py", hw_x=0.8)  # doctest: +SKIP
    """
    return build_geometry(load_geometry_module(path_or_name), params)


def build_geometry(module, params: Mapping):
    """``module.make_device(**params)`` with the geometry's metadata; user-code
    failures (an exception, ``sys.exit``, a value that is not a Device) become a
    one-line ValueError naming the file and line."""
    from .device import Device
    from .hamiltonian import ModelDevice
    params = dict(params)
    path = module.__qpcsim_path__
    try:
        device = module.make_device(**params)
    except ValueError:
        raise
    except (Exception, SystemExit) as exc:
        raise _user_error(exc, f"make_device of {path!r}", path) from None
    if not isinstance(device, (Device, ModelDevice)):
        raise ValueError(f"make_device of {path!r} returned {type(device).__name__} "
                         f"{device!r:.60}; it must return a qpcsim.Device (or another device "
                         "class: ContinuumDevice, BdGDevice, GrapheneRibbon)")
    device.metadata.setdefault("geometry", Path(path).stem)
    device.metadata["geometry_file"] = path
    device.metadata["geometry_sha256"] = module.__qpcsim_source_sha256__
    device.metadata["geometry_params"] = dict(params)
    docs = geometry_parameter_docs(module)
    if docs:
        device.metadata.setdefault("parameter_units", {k: u for k, (u, _) in docs.items()})
        device.metadata.setdefault("parameter_docs", {k: d for k, (_, d) in docs.items()})
    return device


_UNIT_RE = re.compile(r"\(([^()\s]{1,12}|dimensionless)\)")


def geometry_parameter_docs(module) -> dict:
    """``name -> (unit, description)`` of a geometry's ``DEFAULTS`` entries, read
    from the comments of its ``DEFAULTS = dict(...)`` (``W=300.0,  # lead width
    (nm)``): the unit is the first parenthesized unit-like word ("" for
    dimensionless and for flags). Empty if the file has no such block."""
    path = getattr(module, "__qpcsim_path__", None)
    defaults = getattr(module, "DEFAULTS", None)
    if path is None or not isinstance(defaults, dict):
        return {}
    raw = _SOURCES.get(getattr(module, "__qpcsim_source_sha256__", ""))
    source = raw.decode("utf-8", errors="replace") if raw is not None else Path(path).read_text()
    lines = source.splitlines()
    docs = {}
    try:
        tree = ast.parse(source)
    except SyntaxError:   # pragma: no cover - the module imported, so it parses
        return {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DEFAULTS"
                                                 for t in node.targets)
                and isinstance(node.value, ast.Call)):
            for kw in node.value.keywords:
                line = lines[kw.value.end_lineno - 1]
                comment = line.split("#", 1)[1].strip() if "#" in line else ""
                match = _UNIT_RE.search(comment)
                unit = match.group(1) if match else ""
                if unit == "dimensionless" or isinstance(defaults.get(kw.arg), bool):
                    unit = ""
                docs[kw.arg] = (unit, comment)
    return docs


def check_geometry_params(params: Mapping, defaults: Mapping, geometry: str = "geometry",
                          renamed: Mapping[str, str] | None = None) -> None:
    """Reject parameter names a geometry does not know, listing the known ones
    (``renamed``: retired name -> message naming its replacement)."""
    prefix = "qpcsim_geometry_"
    if geometry.startswith(prefix):   # module name of a loaded file: name_<hash>
        geometry = geometry[len(prefix):].rsplit("_", 1)[0]
    _validate.known_names(params, defaults, "parameter", owner=geometry, renamed=renamed)
