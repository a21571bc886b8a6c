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
    """One ``--sweep`` flag -> ``(name, values)``. Three forms:

    * ``NAME=START:STOP:NUM``: NUM values evenly spaced (``numpy.linspace``);
    * ``NAME=log:START:STOP:NUM``: NUM values evenly spaced in log
      (``numpy.geomspace``; START and STOP of one sign, neither zero);
    * ``NAME=V1,V2,...``: an explicit list (each value once, any order).
    """
    name, sep, spec = item.partition("=")
    name = name.strip()
    if not sep or not name or not spec.strip():
        raise ValueError(f"--sweep {item!r} is malformed: use NAME=START:STOP:NUM, "
                         "NAME=log:START:STOP:NUM or NAME=V1,V2,..., e.g. --sweep Vg=-1.2:-0.2:101")
    if "," in spec:
        try:
            values = np.array([float(v) for v in spec.split(",")])
        except ValueError:
            raise ValueError(f"--sweep {item!r} is malformed: a list NAME=V1,V2,... must hold "
                             "numbers only") from None
        if not np.all(np.isfinite(values)):
            raise ValueError(f"--sweep {item!r}: the values must be finite")
        uniq, counts = np.unique(values, return_counts=True)
        if uniq.size != values.size:
            raise ValueError(f"--sweep {item!r}: {', '.join(f'{v:g}' for v in uniq[counts > 1])} "
                             "is listed more than once; give each value once")
        return name, values
    parts = spec.split(":")
    log = parts[0].strip().lower() == "log"
    if log:
        parts = parts[1:]
    if len(parts) != 3:
        raise ValueError(f"--sweep {item!r} is malformed: use NAME=START:STOP:NUM, "
                         "NAME=log:START:STOP:NUM or NAME=V1,V2,... (a single value is "
                         "--set NAME=VALUE)")
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
        prefix = "log:" if log else ""
        raise ValueError(f"--sweep {item!r}: reversed range (START > STOP); write it as "
                         f"{name}={prefix}{stop:g}:{start:g}:{num}")
    if log:
        if start * stop <= 0:
            raise ValueError(f"--sweep {item!r}: log spacing cannot reach or cross zero "
                             f"(START={start:g}, STOP={stop:g}); give START and STOP of one "
                             "sign, e.g. B=log:0.01:1:21")
        return name, np.geomspace(start, stop, num)
    return name, np.linspace(start, stop, num)


def check_writable(path: str, flag: str) -> Path:
    """``path`` as a Path if a regular file can be written there, else a ValueError naming ``flag``."""
    path = Path(path)
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if path.is_dir() or not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {str(path)!r} cannot be written (not a writable file path)")
    return path

