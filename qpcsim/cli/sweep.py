"""``qpcsim sweep``, ``qpcsim show`` and ``qpcsim plot``: thin wrappers over
:func:`qpcsim.sweep`, :func:`qpcsim.plotting.plot_device` and
:func:`qpcsim.plotting.plot_result`. Flags take the user's units."""
from __future__ import annotations

from ..analysis import find_plateaus, plateau_table
from ..engine import load_result, sweep
from ..geometry import load_geometry
from ..plotting import plot_device, plot_result
from .args import check_writable, parse_set, parse_sweep


def _sweep(args) -> int:

    out = check_writable(args.out, "--out")
    if args.plot:
        check_writable(args.plot, "--plot")
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
    check_writable(args.out, "--out")
    device = load_geometry(args.geometry, **parse_set(args.set))
    print(device)
    print(f"wrote {plot_device(device, args.out)}")
    return 0


def _plot(args) -> int:
    check_writable(args.out, "--out")
    print(f"wrote {plot_result(load_result(args.result), args.out)}")
    return 0


def register(sub) -> None:
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
