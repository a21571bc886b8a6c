"""Content fingerprints of Python callables (a Device's potential and shape).

A device defined in Python (not loaded from a geometry file, whose SHA-256
already names it) must not reuse a store after its potential changed. Two
complementary traces go into :meth:`Device.fingerprint`:

* :func:`callable_digest`: the function's code (bytecode, constants, names,
  recursively through nested code objects), its defaults and keyword defaults,
  the values of its closure cells and of the module globals it names,
  recursively through nested functions, ``functools.partial``, bound methods and
  plain objects' public attributes (arrays by their bytes). Memory addresses
  never enter it, so it is the same in every process and run.
* the potential sampled on the device's lattice at its default parameters
  (in :mod:`qpcsim.device`): catches what code inspection cannot see (a
  C-extension callable, state hidden in a private attribute).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import types

import numpy as np

__all__ = ["callable_digest"]

_MAX_DEPTH = 6


def callable_digest(func) -> str:
    """SHA-256 (hex) of what determines ``func``'s values (see the module docstring);
    equal for equal code and captured values, whatever the process."""
    digest = hashlib.sha256()
    _feed(digest, func, 0, set())
    return digest.hexdigest()


def _feed(digest, obj, depth: int, seen: set) -> None:
    update = digest.update
    if depth > _MAX_DEPTH:
        update(b"<deep>")
        return
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        update(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if isinstance(obj, np.ndarray):
        update(f"nd:{obj.dtype.str}:{obj.shape};".encode())
        if obj.dtype.kind in "biufc":
            update(np.ascontiguousarray(obj).tobytes())
        else:
            update(repr(obj.tolist()).encode())
        return
    if isinstance(obj, np.generic):
        update(f"np:{obj.dtype.str}:{obj!r};".encode())
        return
    if isinstance(obj, types.ModuleType):
        update(f"module:{obj.__name__};".encode())   # library code: versioned elsewhere
        return
    if id(obj) in seen:
        update(b"<cycle>")
        return
    seen = seen | {id(obj)}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        update(f"{type(obj).__name__}[{len(obj)}](".encode())
        for item in items:
            _feed(digest, item, depth + 1, seen)
        update(b")")
        return
    if isinstance(obj, dict):
        update(f"dict[{len(obj)}](".encode())
        for key in sorted(obj, key=repr):
            update(f"{key!r}=".encode())
            _feed(digest, obj[key], depth + 1, seen)
        update(b")")
        return
    if isinstance(obj, functools.partial):
        update(b"partial(")
        for part in (obj.func, obj.args, obj.keywords):
            _feed(digest, part, depth + 1, seen)
        update(b")")
        return
    if isinstance(obj, types.MethodType):
        update(b"method(")
        _feed(digest, obj.__func__, depth + 1, seen)
        _feed(digest, obj.__self__, depth + 1, seen)
        update(b")")
        return
    if isinstance(obj, types.FunctionType):
        _feed_function(digest, obj, depth, seen)
        return
    if isinstance(obj, type) or isinstance(obj, types.BuiltinFunctionType):
        update(f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')};".encode())
        return
    if isinstance(obj, types.CodeType):
        _feed_code(digest, obj)
        return
    # A plain object: its class (and its methods' code) and public attributes.
    cls = type(obj)
    update(f"obj:{cls.__module__}.{cls.__qualname__}(".encode())
    call = getattr(cls, "__call__", None)
    if isinstance(call, types.FunctionType):
        _feed_function(digest, call, depth + 1, seen)
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        _feed(digest, {k: v for k, v in state.items() if not str(k).startswith("_")},
              depth + 1, seen)
    update(b")")


def _feed_code(digest, code: types.CodeType) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    digest.update(repr(code.co_varnames).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(digest, const)
        elif isinstance(const, frozenset):   # its repr's order follows the string hash seed
            digest.update(repr(sorted(map(repr, const))).encode())
        else:
            digest.update(f"{type(const).__name__}:{const!r};".encode())


def _feed_function(digest, func: types.FunctionType, depth: int, seen: set) -> None:
    digest.update(f"function:{func.__qualname__}(".encode())
    _feed_code(digest, func.__code__)
    _feed(digest, func.__defaults__, depth + 1, seen)
    _feed(digest, func.__kwdefaults__, depth + 1, seen)
    for cell in func.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:   # an empty cell
            value = "<empty cell>"
        _feed(digest, value, depth + 1, seen)
    # Module globals the code names (constants and helper functions it calls).
    names = set()
    stack = [func.__code__]
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    module_globals = func.__globals__
    for name in sorted(names):
        if name in module_globals and not inspect.ismodule(module_globals[name]):
            digest.update(f"global {name}=".encode())
            _feed(digest, module_globals[name], depth + 1, seen)
    digest.update(b")")
