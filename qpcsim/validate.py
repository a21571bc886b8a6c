"""Argument checks shared by the public API and by geometry files: each names the parameter, its value
and what is allowed, so a user mistake never surfaces deep inside Kwant or NumPy."""
from __future__ import annotations

import math
import os
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

class ThermalResolutionError(RuntimeError):
    """A thermal (or bias-window) average could not be resolved to its tolerance within its
    budget: never a number outside its tolerance (the message names the energy window).
    Defined here, under every layer that raises it (spectral refinement, the solver, a
    device's own thermal average)."""


#: Relative tolerance of "an integer multiple of the lattice constant" (rounding of nm inputs).
GRID_TOL = 1e-6
#: Names under which the Fermi energy (meV) can be swept.
ENERGY_NAMES = ("energy", "E")
#: Names under which the temperature (K) can be swept.
TEMPERATURE_NAMES = ("temperature", "T")
#: Names that ``solve`` and ``sweep`` take for themselves: the energy and the temperature under
#: every name they are swept by, and ``solve``'s keywords. A device parameter so named would be
#: silently taken over (a sweep over a potential's ``E`` swept the Fermi energy instead).
RESERVED_PARAMETERS = ENERGY_NAMES + TEMPERATURE_NAMES + (
    "method", "thermal", "thermal_tolerance", "refinement_budget")


def real_number(name: str, value, unit: str = "") -> float:
    """Return ``value`` as a finite float or raise ValueError naming ``name``."""
    unit_txt = f" {unit}" if unit else ""
    if isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not allowed: it must be a real number{unit_txt}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}={value!r} is not allowed: it must be a real number{unit_txt}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}={value!r}{unit_txt} is not allowed: it must be finite")
    return number


def positive(name: str, value, unit: str = "") -> float:
    """A finite number > 0."""
    number = real_number(name, value, unit)
    if number <= 0:
        unit_txt = f" {unit}" if unit else ""
        raise ValueError(f"{name}={number!r}{unit_txt} is not allowed: it must be > 0")
    return number


def non_negative(name: str, value, unit: str = "") -> float:
    """A finite number >= 0."""
    number = real_number(name, value, unit)
    if number < 0:
        unit_txt = f" {unit}" if unit else ""
        raise ValueError(f"{name}={number!r}{unit_txt} is not allowed: it must be >= 0")
    return number


def positive_int(name: str, value) -> int:
    """An integer >= 1 (a float with an integer value is accepted)."""
    number = real_number(name, value)
    if number != int(number) or number < 1:
        raise ValueError(f"{name}={value!r} is not allowed: it must be a whole number >= 1")
    return int(number)


def finite_sequence(name: str, given, unit: str) -> np.ndarray:
    """``given`` as a non-empty 1-D float array of finite numbers, else a one-line
    ValueError naming ``name`` and the ``unit``."""
    try:
        values = np.asarray(given, dtype=float)
    except (TypeError, ValueError):
        values = np.array(np.nan)
    if values.ndim != 1 or values.size < 1 or not np.all(np.isfinite(values)):
        raise ValueError(f"{name}={given!r} is not allowed: give a non-empty 1-D sequence of "
                         f"finite numbers ({unit})")
    return values


def in_range(name: str, value, low: float, high: float, unit: str = "") -> float:
    """A finite number in the closed interval [low, high]."""
    number = real_number(name, value, unit)
    if not low <= number <= high:
        unit_txt = f" {unit}" if unit else ""
        raise ValueError(
            f"{name}={number!r}{unit_txt} is not allowed: it must lie in [{low}, {high}]")
    return number


def file_path(name: str, value) -> Path:
    """``value`` as a Path (a str or os.PathLike), else a one-line ValueError naming ``name``."""
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"{name}={value!r} is not allowed: give a file path (str or Path)")
    return Path(value)


def device(name: str, value):
    """``value`` if it is a device (``qpcsim.Device``, a model device: it resolves
    parameters and builds), else a one-line ValueError naming ``name``."""
    if not (hasattr(value, "resolve_params") and hasattr(value, "build")):
        raise ValueError(f"{name}={value!r} is not allowed: give a device, e.g. "
                         "qpcsim.load_geometry('qpc_saddle') or qpcsim.Device(...)")
    return value


def known_names(given: Iterable[str], known: Iterable[str], what: str = "parameter",
                hint: str = "", owner: str = "", renamed: Mapping[str, str] | None = None) -> None:
    """Raise ValueError listing the known names if any given name is unknown;
    ``renamed`` maps a retired name to the one-line message naming its replacement."""
    known = list(known)
    unknown = [name for name in given if name not in known]
    for name in unknown:
        if renamed and name in renamed:
            raise ValueError(renamed[name])
    if unknown:
        listing = ", ".join(sorted(known)) or "(none)"
        plural = "s" if len(unknown) > 1 else ""
        of = f" of {owner}" if owner else ""
        msg = (f"unknown {what}{plural}{of} {', '.join(repr(u) for u in unknown)}; "
               f"known {what}s are: {listing}")
        if hint:
            msg += f". {hint}"
        raise ValueError(msg)


def mapping_of_numbers(name: str, values: Mapping, units: Mapping[str, str] | None = None) -> dict:
    """Check every value of a parameter mapping is a finite real number."""
    units = units or {}
    return {key: real_number(f"{name}[{key!r}]" if name else key, val, units.get(key, ""))
            for key, val in values.items()}


def callback(name: str, value):
    """A callable or None (a user's ``report(line)`` hook), else a one-line ValueError."""
    if value is not None and not callable(value):
        raise ValueError(f"{name}={value!r} is not allowed: give a callable {name}(line) or "
                         "leave it out")
    return value


def result_of(name: str, value, attributes: Iterable[str], what: str):
    """``value`` if it has every one of ``attributes`` (the result type a function takes,
    checked by what it uses), else a one-line ValueError: give ``what``."""
    if not all(hasattr(value, attribute) for attribute in attributes):
        raise ValueError(f"{name}={value!r:.60} is not allowed: give {what}")
    return value


def flag(name: str, value) -> bool:
    """A yes/no option: ``True``/``False`` or the numbers 1/0 (what ``--set x=1`` gives);
    anything else (0.5, "maybe") is refused rather than read as true."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name}={value!r} is not allowed: it is a yes/no option, use true/false "
                     "(or 1/0)")


def user_code_location(exc: BaseException, filename: str | None = None) -> str:
    """``file:line`` of the innermost traceback frame in user code (``filename`` if
    given, else the innermost frame outside qpcsim and the libraries), or ""."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    package = str(Path(__file__).resolve().parent)
    for frame in reversed(frames):
        if filename is not None:
            if frame.filename == filename:
                return f"{frame.filename}:{frame.lineno}"
        elif not (frame.filename.startswith(package) or "site-packages" in frame.filename
                  or frame.filename.startswith("<")):
            return f"{frame.filename}:{frame.lineno}"
    return ""


def lattice_count(name: str, length_nm: float, a_nm: float) -> int:
    """``length_nm / a_nm`` as an integer, or a one-line ValueError naming ``name`` when the
    length (nm) is not an integer multiple of the lattice constant ``a_nm`` (nm)."""
    ratio = length_nm / a_nm
    count = int(round(ratio))
    if abs(ratio - count) > GRID_TOL * max(1.0, ratio):
        raise ValueError(
            f"{name}={length_nm!r} nm is not allowed with a={a_nm!r} nm: it must be an integer "
            f"multiple of the lattice constant (it is {ratio:.6g} a); "
            f"try {name}={count * a_nm:g} nm or change a")
    return count


def potential_error(exc: Exception, params: dict) -> ValueError:
    """One line for an exception raised inside a potential function: what, where
    (the user's file and line) and, for array truth values, the vectorization hint."""
    frames = traceback.extract_tb(exc.__traceback__)
    package = str(__file__).rsplit("/", 1)[0]
    if isinstance(exc, ValueError) and frames and frames[-1].filename.startswith(package):
        return exc   # one of qpcsim's own one-line refusals (e.g. a provider's)
    where = user_code_location(exc)
    message = str(exc).splitlines()[0] if str(exc) else ""
    hint = ("; the potential must be vectorized: x and y are NumPy arrays (use np.where, "
            "not if/else)" if "truth value of an array" in message or
            "only length-1 arrays" in message or "only size-1 arrays" in message else "")
    return ValueError(f"the potential raised {type(exc).__name__}"
                      + (f" at {where}" if where else "") + (f": {message}" if message else "")
                      + f" (parameters {params}){hint}")
