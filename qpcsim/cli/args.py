"""Parsing and checking of the command line's shared flags (``--set``, ``--sweep``, outputs)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["parse_set", "parse_sweep", "check_writable", "check_output", "check_figure",
           "check_distinct", "figure_formats", "check_workers", "check_sweep_flags", "single_sweep",
           "check_logx", "check_log_axes", "add_fresh_argument"]

#: Leading bytes of figure formats, to recognise a figure a rerun may replace.
_FIGURE_MAGIC = {"png": (b"\x89PNG",), "pdf": (b"%PDF",), "svg": (b"<?xml", b"<svg"),
                 "eps": (b"%!PS", b"\xc5\xd0\xd3\xc6"), "ps": (b"%!PS",),
                 "jpg": (b"\xff\xd8",), "jpeg": (b"\xff\xd8",), "tif": (b"II*", b"MM\x00*"),
                 "tiff": (b"II*", b"MM\x00*"), "webp": (b"RIFF",), "gif": (b"GIF8",)}


def parse_set(items) -> dict:
    """``["KEY=VALUE", ...]`` -> dict; numbers as float, true/false as bool, other words
    (a geometry's option such as ``edge=armchair``) as str."""
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ValueError(f"--set {item!r} is malformed: use KEY=VALUE, e.g. --set W=300")
        if key in params:      # (the last one won, silently)
            raise ValueError(f"--set {key} is given twice ({key}={params[key]!r} and {item!r}): "
                             "give it once")
        if value.lower() in ("true", "false"):
            params[key] = value.lower() == "true"
            continue
        if value.replace("_", "").isalpha() and value.lower() not in ("inf", "nan"):
            params[key] = value      # a word: a geometry's option, e.g. --set edge=armchair
            continue
        try:
            params[key] = float(value)
        except ValueError:
            raise ValueError(f"--set {item!r} is malformed: VALUE must be a number "
                             "(or true/false, or a word such as edge=armchair)") from None
    return params


def parse_sweep(item: str) -> tuple[str, np.ndarray]:
    """One ``--sweep`` flag -> ``(name, values)``. Three forms:

    * ``NAME=START:STOP:NUM``: NUM values evenly spaced (``numpy.linspace``);
    * ``NAME=log:START:STOP:NUM``: NUM values evenly spaced in log
      (``numpy.geomspace``; START and STOP of one sign, neither zero);
    * ``NAME=V1,V2,...``: an explicit list (each value once, any order).

    START > STOP is a reversed range, swept in the given order (from START down
    to STOP), as a gate is often swept from open to pinched off.
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
    if path.exists() and not path.is_file():
        raise ValueError(f"{flag} {str(path)!r} is not a regular file (a directory or a device); "
                         "give a file path")
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {str(path)!r} cannot be written (not a writable file path)")
    return path


def figure_formats() -> list[str]:
    """File suffixes Matplotlib can write (without importing pyplot)."""
    from matplotlib.backend_bases import FigureCanvasBase
    return sorted(FigureCanvasBase.get_supported_filetypes())


def _looks_like(path: Path, fmt: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return any(head.startswith(m) for m in _FIGURE_MAGIC.get(fmt, ()))


def check_figure(path: str, flag: str, force: bool = False) -> Path:
    """A figure path, checked before any work: writable regular file, a format
    Matplotlib writes (from the suffix), and, if it exists, a figure of that
    format (which a rerun replaces); any other existing file needs ``force``."""
    path = check_writable(path, flag)
    fmt = path.suffix.lower().lstrip(".")
    formats = figure_formats()
    if fmt not in formats:
        raise ValueError(f"{flag} {str(path)!r}: the figure format {('.' + fmt) if fmt else '(none)'!r} "
                         f"is not supported; use a suffix among {', '.join(formats)}")
    if path.exists() and path.stat().st_size > 0 and not force and not _looks_like(path, fmt):
        raise ValueError(f"{flag} {str(path)!r} exists and is not a {fmt.upper()} figure; "
                         "refusing to overwrite it (delete it, choose another path, or pass "
                         "--force to replace it)")
    return path


def check_output(path: str, flag: str, force: bool = False) -> tuple[Path, str | None]:
    """A result (NetCDF) path, checked before any work. An existing file must be
    a qpcsim result (its ``store_hash`` is returned, to be compared with the new
    sweep's) unless ``force``; anything else is refused, never overwritten."""
    from ..engine.result import result_hash
    path = check_writable(path, flag)
    if not path.exists() or force or path.stat().st_size == 0:
        return path, None
    digest = result_hash(path)
    if digest is None:
        raise ValueError(f"{flag} {str(path)!r} exists and is not a qpcsim result; refusing to "
                         "overwrite it (delete it, choose another path, or pass --force to "
                         "replace it)")
    return path, digest


def check_distinct(**paths) -> None:
    """Refuse two flags naming the same file (e.g. ``out=..., plot=...``)."""
    seen: dict = {}
    for flag, path in paths.items():
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise ValueError(f"--{seen[real]} and --{flag} name the same file {str(path)!r}; "
                             "give each its own path")
        seen[real] = flag


def check_workers(workers: int | None, scheduler: str | None = None) -> None:
    """Refuse ``--workers`` above the cores this process may use (local processes:
    more only slow the sweep down; 1000 forks took 43 s for 3 points on 2 cores)."""
    if workers is None or scheduler is not None:
        return
    from ..engine.executors import default_workers
    cores = default_workers()
    if workers > cores:
        raise ValueError(f"--workers {workers} is more than the {cores} core(s) this process may "
                         f"use; give at most {cores} (or a Dask --scheduler for more)")


def check_sweep_flags(sweeps, sets, adaptive=None) -> None:
    """Refuse contradictions between ``--sweep`` and ``--set`` before any work: a name
    both swept and fixed, and a list ``NAME=V1,V2,...`` with ``--adaptive`` (which
    samples between two bounds)."""
    fixed = {item.partition("=")[0].strip() for item in sets or []}
    for item in sweeps or []:
        name, _, spec = item.partition("=")
        name = name.strip()
        if name in fixed:
            raise ValueError(f"{name} is both swept (--sweep {item}) and fixed (--set "
                             f"{name}=...); drop one of them")
        if adaptive is not None and "," in spec:
            raise ValueError(f"--sweep {item!r} is a list, which --adaptive cannot sample (it "
                             f"refines between two bounds); give {name}=START:STOP:NUM, or drop "
                             "--adaptive to run exactly the listed values")


def single_sweep(items, command: str) -> str:
    """The one ``--sweep`` of a command that sweeps one parameter; refuse repeats."""
    if len(items) != 1:
        raise ValueError(f"--sweep is given {len(items)} times: {command} sweeps one "
                         "parameter (hold the others with --set)")
    return items[0]


def check_logx(values, name: str, flag: str = "--logx") -> None:
    """Refuse ``flag`` (a logarithmic axis) for an axis with values <= 0 (an empty figure
    otherwise)."""
    values = np.asarray(values, dtype=float)
    if values.size and np.nanmin(values) <= 0:
        raise ValueError(f"{flag} is not allowed: the axis {name} has values <= 0 (down to "
                         f"{np.nanmin(values):g}); a logarithmic axis needs positive values")


def check_log_axes(result, logx: bool, logy: bool, variable: str = "conductance") -> None:
    """Refuse ``--logx`` / ``--logy`` where the plot of ``result`` would lose its points:
    the swept axes' values <= 0; for a 1-D plot's ``--logy`` (the plotted ``variable``), a
    trace with no value > 0 (a blank figure; a map's B = -1 row was dropped without a word)."""
    if logx:
        check_logx(result.data[result.swept[0]].values, result.swept[0])
    if logy and len(result.swept) > 1:
        check_logx(result.data[result.swept[1]].values, result.swept[1], "--logy")
    elif logy:
        values = np.asarray(result.data[variable].values, dtype=float)
        if not np.any(values > 0):
            raise ValueError(f"--logy is not allowed: {variable} has no value > 0 in this result "
                             "(a logarithmic axis would draw nothing)")


def add_fresh_argument(parser) -> None:
    """``--fresh``: start over, deleting this run's own store first (the engine's ``fresh=``,
    once the request has passed every check)."""
    parser.add_argument("--fresh", action="store_true",
                        help="start over: delete this run's store (after checking that it is a "
                             "qpcsim store and not in use) instead of resuming from it")

