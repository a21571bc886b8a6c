"""Parsing and checking of the command line's shared flags (``--set``, ``--sweep``, outputs)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["parse_set", "parse_sweep", "check_writable"]


def parse_set(items) -> dict:
    """``["KEY=VALUE", ...]`` -> dict; numbers as float, true/false as bool."""
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"--set {item!r} is malformed: use KEY=VALUE, e.g. --set W=300")
        if value.lower() in ("true", "false"):
            params[key] = value.lower() == "true"
            continue
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"--set {item!r} is malformed: VALUE must be a number "
                             "(or true/false)") from None
    return params


def parse_sweep(item: str) -> tuple[str, np.ndarray]:
    """``NAME=START:STOP:NUM`` -> (name, numpy.linspace(START, STOP, NUM))."""
    name, sep, spec = item.partition("=")
    parts = spec.split(":")
    if not sep or not name.strip() or len(parts) != 3:
        raise ValueError(f"--sweep {item!r} is malformed: use NAME=START:STOP:NUM, "
                         "e.g. --sweep Vg=-1.2:-0.2:101")
    try:
        start, stop = float(parts[0]), float(parts[1])
        num = int(parts[2])
    except ValueError:
        raise ValueError(f"--sweep {item!r} is malformed: START and STOP must be numbers and "
                         "NUM an integer") from None
    if not (np.isfinite(start) and np.isfinite(stop)):
        raise ValueError(f"--sweep {item!r}: START and STOP must be finite")
    if num < 2:
        raise ValueError(f"--sweep {item!r}: NUM={num} is not allowed, it must be >= 2")
    if start == stop:
        raise ValueError(f"--sweep {item!r}: empty range (START == STOP)")
    if start > stop:
        raise ValueError(f"--sweep {item!r}: reversed range (START > STOP); write it as "
                         f"{name}={stop:g}:{start:g}:{num}")
    return name.strip(), np.linspace(start, stop, num)


def check_writable(path: str, flag: str) -> Path:
    """``path`` as a Path if a regular file can be written there, else a ValueError naming ``flag``."""
    path = Path(path)
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if path.is_dir() or not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {str(path)!r} cannot be written (not a writable file path)")
    return path

