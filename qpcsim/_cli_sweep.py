"""``qpcsim sweep``, ``qpcsim show`` and ``qpcsim plot``: thin wrappers over
:func:`qpcsim.sweep`, :func:`qpcsim.plotting.plot_device` and
:func:`qpcsim.plotting.plot_result`. Flags take the user's units."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


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


def _check_writable(path: str, flag: str) -> Path:
    path = Path(path)
    parent = path.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if path.is_dir() or not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{flag} {str(path)!r} cannot be written (not a writable file path)")
    return path


def _sweep(args) -> int:
    from .analysis import find_plateaus, plateau_table
    from .geometry import load_geometry
    from .plotting import plot_result
    from .sweep import sweep

    out = _check_writable(args.out, "--out")
    if args.plot:
        _check_writable(args.plot, "--plot")
    device = load_geometry(args.geometry, **parse_set(args.set))
    over = dict(parse_sweep(s) for s in args.sweep)
    if len(over) != len(args.sweep):
        raise ValueError("--sweep names the same parameter twice")
    store = args.store or str(out) + ".points.jsonl"
    result = sweep(device, over, energy=args.energy, temperature=args.temperature,
                   workers=args.workers, scheduler=args.scheduler, store=store,
                   adaptive=args.adaptive, adaptive_batch=args.adaptive_batch,
                   progress=not args.quiet)
    result.save(out)
    data = result.data
    print(f"wrote {out} ({int(data['conductance'].size)} points, solver {data.attrs['solver']}, "
          f"executor {data.attrs['executor']}, sampling {data.attrs['sampling']})")
    if args.plot:
        print(f"wrote {plot_result(result, args.plot)}")
    if len(result.swept) == 1:
        name = result.swept[0]
        x = data[name].values
        plateaus = find_plateaus(x, data["conductance"].values) if x.size >= 5 else []
        print(plateau_table(plateaus, data[name].attrs.get("units", "")))
    return 0


def _show(args) -> int:
    from .geometry import load_geometry
    from .plotting import plot_device
    _check_writable(args.out, "--out")
    device = load_geometry(args.geometry, **parse_set(args.set))
    print(device)
    print(f"wrote {plot_device(device, args.out)}")
    return 0


def _plot(args) -> int:
    from .plotting import plot_result
    from .sweep import load_result
    _check_writable(args.out, "--out")
    print(f"wrote {plot_result(load_result(args.result), args.out)}")
    return 0


def register_cli(sub) -> None:
    p = sub.add_parser("sweep", help="conductance vs gate (1-D) or a 2-D map; resumable",
                       description="Sweep a geometry's parameters and compute the conductance. "
                       "Interrupted runs resume from OUT.points.jsonl.")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter, in the units of its DEFAULTS (nm, meV, V, T)")
    p.add_argument("--sweep", action="append", required=True, metavar="NAME=START:STOP:NUM",
                   help="swept parameter in its own unit (Vg in V, V0 in meV, B in T) or "
                   "E/energy in meV; give one or two")
    p.add_argument("--energy", type=float, help="Fermi energy (meV), unless swept")
    p.add_argument("--temperature", type=float, default=0.0, help="temperature (K)")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler tcp://host:port, or 'local'")
    p.add_argument("--adaptive", type=float, metavar="TOL",
                   help="adaptive sampling to max interpolation error TOL (G0)")
    p.add_argument("--adaptive-batch", type=int, default=None, metavar="N",
                   help="adaptive points per round (default 4 for 1-D, 16 for 2-D); the "
                        "points depend on N, not on --workers")
    p.add_argument("--out", required=True, help="result file (NetCDF/HDF5)")
    p.add_argument("--store", help="resume store (default OUT.points.jsonl)")
    p.add_argument("--plot", metavar="FIG.png", help="also write a figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_sweep)

    p = sub.add_parser("show", help="plot a geometry: lattice, leads and potential landscape")
    p.add_argument("geometry")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (nm, meV, V, T)")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.set_defaults(func=_show)

    p = sub.add_parser("plot", help="plot a saved sweep result")
    p.add_argument("result", help="result file written by `qpcsim sweep`")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.set_defaults(func=_plot)
