"""``qpcsim sweep``, ``qpcsim show`` and ``qpcsim plot``: thin wrappers over
:func:`qpcsim.sweep`, :func:`qpcsim.plotting.plot_device` and
:func:`qpcsim.plotting.plot_result`. Flags take the user's units."""
from __future__ import annotations

import sys
from pathlib import Path

from ..analysis import find_plateaus, plateau_table
from ..engine import SweepSpec, load_result, sweep
from ..engine.result import atomic_write
from ..geometry import load_geometry
from ..plotting import plot_device, plot_result
from .args import (
    check_distinct,
    check_figure,
    check_output,
    check_writable,
    parse_set,
    parse_sweep,
)


def _report(line: str) -> None:
    print(f"qpcsim sweep: {line}", file=sys.stderr, flush=True)


def _sweep(args) -> int:
    # Every output is checked before any work: kinds, formats, collisions, what exists.
    out, old_hash = check_output(args.out, "--out", force=args.force)
    store = args.store or str(out) + ".points.sqlite"
    check_distinct(out=args.out, plot=args.plot, store=store)
    if args.store:
        check_writable(args.store, "--store")
    if args.plot:
        check_figure(args.plot, "--plot", force=args.force)
    device = load_geometry(args.geometry, **parse_set(args.set))
    over = dict(parse_sweep(s) for s in args.sweep)
    if len(over) != len(args.sweep):
        raise ValueError("--sweep names the same parameter twice")
    if args.max_points is not None and args.adaptive is None:
        raise ValueError(f"--max-points {args.max_points} is not allowed without --adaptive "
                         "(a grid sweep runs every point it is given)")
    max_points = 2000 if args.max_points is None else args.max_points
    options = {"energy": args.energy, "temperature": args.temperature,
               "adaptive": args.adaptive, "adaptive_batch": args.adaptive_batch,
               "max_points": max_points}
    if old_hash is not None:
        spec = SweepSpec.build(device, over, args.energy, args.temperature,
                               adaptive=args.adaptive, adaptive_batch=args.adaptive_batch,
                               max_points=max_points)
        if spec.header()["hash"] != old_hash:
            raise ValueError(f"--out {str(out)!r} holds the result of a different sweep; "
                             "refusing to overwrite it (choose another path, or pass --force "
                             "to replace it)")
    if args.scheduler:
        # A lost scheduler is reported in one line below; distributed's reconnect
        # tracebacks from its background thread would bury it.
        import logging

        import distributed  # noqa: F401 - configures its loggers on import
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.startswith("distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
    result = sweep(device, over, workers=args.workers, scheduler=args.scheduler, store=store,
                   progress=not args.quiet, report=_report, **options)
    result.save(out)
    data = result.data
    print(f"wrote {out} ({int(data['conductance'].size)} points, solver {data.attrs['solver']}, "
          f"executor {data.attrs['executor']}, sampling {data.attrs['sampling']})")
    if args.plot:
        plot = Path(args.plot)
        atomic_write(plot, lambda tmp: plot_result(result, tmp), "plot")
        print(f"wrote {plot}")
    if len(result.swept) == 1:
        name = result.swept[0]
        x = data[name].values
        plateaus = find_plateaus(x, data["conductance"].values) if x.size >= 5 else []
        print(plateau_table(plateaus, data[name].attrs.get("units", "")))
    return 0


def _show(args) -> int:
    check_figure(args.out, "--out")
    device = load_geometry(args.geometry, **parse_set(args.set))
    print(device)
    print(f"wrote {plot_device(device, args.out)}")
    return 0


def _plot(args) -> int:
    check_distinct(result=args.result, out=args.out)
    check_figure(args.out, "--out")
    print(f"wrote {plot_result(load_result(args.result), args.out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="conductance vs gate (1-D) or a 2-D map; resumable",
                       description="Sweep a geometry's parameters and compute the conductance. "
                       "Interrupted runs resume from OUT.points.sqlite (a locked, checksummed store).")
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
    p.add_argument("--max-points", type=int, default=None, metavar="N",
                   help="upper bound on adaptive points (default 2000); a run stopped by it "
                        "says so in its output and metadata")
    p.add_argument("--store", help="resume store (default OUT.points.sqlite)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out/--plot file that is not this sweep's result")
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
