"""Argument checks shared by the public API and by geometry files: each names the parameter, its value
and what is allowed, so a user mistake never surfaces deep inside Kwant or NumPy."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np


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


def in_range(name: str, value, low: float, high: float, unit: str = "") -> float:
    """A finite number in the closed interval [low, high]."""
    number = real_number(name, value, unit)
    if not low <= number <= high:
        unit_txt = f" {unit}" if unit else ""
        raise ValueError(
            f"{name}={number!r}{unit_txt} is not allowed: it must lie in [{low}, {high}]")
    return number


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


def flag(name: str, value) -> bool:
    """A yes/no option: ``True``/``False`` or the numbers 1/0 (what ``--set x=1`` gives);
    anything else (0.5, "maybe") is refused rather than read as true."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name}={value!r} is not allowed: it is a yes/no option, use true/false "
                     "(or 1/0)")
