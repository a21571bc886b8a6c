"""``qpcsim sweep``, ``qpcsim show`` and ``qpcsim plot``: thin wrappers over
:func:`qpcsim.sweep`, :func:`qpcsim.plotting.plot_device` and
:func:`qpcsim.plotting.plot_result`. Flags take the user's units (``qpcsim
params GEOMETRY`` lists every parameter with its unit).

A sweep whose temperature (``T`` or ``temperature``, K) is swept together with
a gate, field or energy axis on a grid runs as a temperature series
(:func:`qpcsim.temperature_series`): one spectral sweep T_n(E) serves every
temperature, stored in the resumable store, and the result holds G per
(point, temperature). The generic engine (each point a finite-T solve) keeps
the other cases: ``--adaptive`` (the learner samples the (gate, T) plane), a
swept structural parameter (each value its own system and energy grid), and a
temperature swept alone. T <= 0 is refused in every case (T = 0 is the plain
sweep: leave T out). ``qpcsim show --current`` draws the current map of
:func:`qpcsim.current_density` (shared with ``qpcsim current``)."""
from __future__ import annotations

import json
import shlex
import sys

import numpy as np

from .. import validate as _validate
from ..engine import SweepResult, load_result
from ..engine.spec import ENERGY_NAMES
from ..engine.store import output_lock
from ..engine.sweep import plan_sweep, run_kind
from ..physics.series import SeriesKind
from ..plotting import plot_device, plot_result, save_figure
from .args import (
    add_fresh_argument,
    check_distinct,
    check_figure,
    check_log_axes,
    check_logx,
    check_output,
    check_sweep_flags,
    check_workers,
    check_writable,
    parse_sweep,
)
from .bias import current_map
from .layout import add_arguments as _layout_arguments
from .layout import load_device
from .params import load_with_set
from .summary import summary_text, trace_by_temperature
from .terminals import add_arguments as _resistance_arguments
from .terminals import add_resistance, apply_tip, check_request

_SWEEP_FORMS = ("NAME=START:STOP:NUM (linear), NAME=log:START:STOP:NUM (log spacing, START and "
                "STOP of one sign) or NAME=V1,V2,... (explicit list)")


def _report(line: str) -> None:
    print(f"qpcsim sweep: {line}", file=sys.stderr, flush=True)


def _sweep(args) -> int:
    # Contradictory flags are refused before anything is opened or computed.
    check_sweep_flags(args.sweep, args.set, args.adaptive)
    check_workers(args.workers, args.scheduler)
    if args.logx and args.plot:
        check_logx(parse_sweep(args.sweep[0])[1], args.sweep[0].partition("=")[0])
    if args.logy and args.plot and len(args.sweep) > 1:     # a map's second axis
        check_logx(parse_sweep(args.sweep[1])[1], args.sweep[1].partition("=")[0], "--logy")
    # One writer per --out: locked from the check below to the atomic rename.
    check_writable(args.out, "--out")
    with output_lock(args.out, "--out"):
        return _locked_sweep(args)


def _locked_sweep(args) -> int:
    # Every output is checked before any work: kinds, formats, collisions, what exists.
    out, old_hash, store = _checked_outputs(args)
    device, fixed, over, max_points = _sweep_request(args)
    kind = _planned_kind(args, device, over, fixed, max_points)
    _refuse_other_result(kind, out, old_hash)
    if args.scheduler:
        _quiet_distributed()
    # Without a plot or a resistance to add, the result is saved from its ResultData:
    # neither xarray nor pandas nor Dask is imported (0.4 s of a short sweep).
    result = run_kind(kind, workers=args.workers, scheduler=args.scheduler, store=store,
                      progress=not args.quiet, report=_report, fresh=args.fresh,
                      as_data=args.plot is None and args.observable is None)
    result = result if isinstance(result, SweepResult) else SweepResult(result)
    result.data.attrs["command"] = "qpcsim " + shlex.join(getattr(args, "argv", []))
    if kind.name == SeriesKind.name:
        return _series_summary(result, args, out)
    return _save_and_summarize(result, device, args, out)


def _checked_outputs(args) -> tuple:
    """``(out, hash of the result already at --out or None, store path)``, after the
    output paths are checked (kinds, formats, collisions)."""
    out, old_hash = check_output(args.out, "--out", force=args.force)
    store = args.store or str(out) + ".points.sqlite"
    check_distinct(out=args.out, plot=args.plot, store=store)
    if args.store:
        check_writable(args.store, "--store")
    if args.plot:
        check_figure(args.plot, "--plot", force=args.force)
    return out, old_hash, store


def _sweep_request(args) -> tuple:
    """``(device, fixed parameters, swept axes, max_points)`` from the flags, checked;
    ``args.energy`` defaults to a self-consistent device's Fermi energy."""
    device, fixed = load_device(args)   # a geometry file, or a .gds layout (cli/layout.py)
    device = apply_tip(args, device)
    over = dict(parse_sweep(s) for s in args.sweep)
    if len(over) != len(args.sweep):
        raise ValueError("--sweep names the same parameter twice")
    if args.max_points is not None and args.adaptive is None:
        raise ValueError(f"--max-points {args.max_points} is not allowed without --adaptive "
                         "(a grid sweep runs every point it is given)")
    max_points = 2000 if args.max_points is None else args.max_points
    fermi = device.metadata.fermi_energy_meV
    if args.energy is None and fermi is not None and not set(over) & set(ENERGY_NAMES):
        args.energy = float(fermi)   # a self-consistent potential holds at its E_F only
        if not args.quiet:
            _report(f"--energy not given: using the device's Fermi energy E_F = "
                    f"{args.energy:.6g} meV (its self-consistent potential holds there)")
    check_request(args, device)
    return device, fixed, over, max_points


def _planned_kind(args, device, over, fixed, max_points):
    """The engine's kind of run for the request (``plan_sweep``, as ``qpcsim.sweep``)."""
    kind = plan_sweep(device, over, args.energy, args.temperature, adaptive=args.adaptive,
                      adaptive_batch=args.adaptive_batch, max_points=max_points,
                      zeeman_from_B=args.zeeman_from_B, max_rebuilds=args.max_rebuilds,
                      report=None if args.quiet else _report, **fixed)
    if kind.name == SeriesKind.name and args.observable:
        raise ValueError("--observable is not allowed with a temperature series (a swept T on "
                         "a grid); sweep the gate at one temperature instead")
    return kind


def _refuse_other_result(kind, out, old_hash) -> None:
    """--out may hold only this sweep's own result (a rerun resumes onto it)."""
    if old_hash is not None and kind.header()["hash"] != old_hash:
        raise ValueError(f"--out {str(out)!r} holds the result of a different sweep; "
                         "refusing to overwrite it (choose another path, or pass --force "
                         "to replace it)")


def _save_and_summarize(result, device, args, out) -> int:
    """Save a sweep's result (with resistances where asked), print what was written,
    its caption and one-axis summary, and draw --plot."""
    add_resistance(result.data, device, args)
    result.save(out)
    data = result.data
    print(f"wrote {out} ({int(data['conductance'].size)} points, solver {data.attrs['solver']}, "
          f"executor {data.attrs['executor']}, sampling {data.attrs['sampling']})")
    structural = json.loads(result.attrs.get("structural_swept", "[]"))
    if structural:
        print(f"structural sweep over {', '.join(structural)}: "
              f"{result.attrs['structural_rebuilds']} systems built (one per value)")
    _caption_and_plot(result, args)
    if len(result.swept) == 1:
        print(summary_text(data))
    return 0


def _quiet_distributed() -> None:
    """A lost scheduler is reported in one line; distributed's reconnect tracebacks
    from its background thread would bury it."""
    import logging

    import distributed  # noqa: F401 - configures its loggers on import
    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.startswith("distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _series_summary(result, args, out) -> int:
    """Save and summarize a temperature series (a swept T on a grid: the engine's
    :func:`~qpcsim.engine.sweep.plan_sweep` decided it, as for ``qpcsim.sweep``)."""
    result.save(out)
    data = result.data
    temps = data["temperature"].values
    points = int(data["conductance"].size) // len(temps)
    print(f"wrote {out} ({points} points x {len(temps)} temperatures, executor "
          f"{data.attrs['executor']}, sampling {data.attrs['sampling']})")
    print(f"temperature series: {len(temps)} temperatures from one spectral sweep, "
          f"{data.attrs['solves_per_point']} solves per point")
    _caption_and_plot(result, args)
    print(summary_text(data))
    print(series_table(data))
    return 0


def series_table(data) -> str:
    """The conductance of a temperature series, one column per temperature (G0, 12
    decimals: the saved values to 1e-12)."""
    g = data["conductance"]
    name = [d for d in g.dims if d != "temperature"][0]
    unit = data[name].attrs.get("units", "")
    temps = data["temperature"].values
    head = f"{name} ({unit})" if unit else name
    what = "G (G0)" if int(data.attrs.get("leads", 2)) <= 2 else "G0 T(lead 1 <- lead 0)"
    lines = [f"conductance {what} per temperature:",
             f"{head:>14}" + "".join(f"{f'T = {t:g} K':>18}" for t in temps)]
    values = trace_by_temperature(g, name)
    for x, row in zip(data[name].values, values):
        lines.append(f"{x:>14.6g}" + "".join(f"{v:>18.12f}" for v in row))
    return "\n".join(lines)


def _caption_and_plot(result, args) -> None:
    """Print the fixed parameters; draw --plot if given (sweeps and temperature series)."""
    print(f"fixed: {result.caption()}")
    if args.plot:
        variable = getattr(args, "observable", None) or "conductance"
        check_log_axes(result, args.logx, args.logy, variable)
        fig = plot_result(result, logx=args.logx, logy=args.logy, variable=variable)
        print(f"wrote {save_figure(fig, args.plot)}")


def _show(args) -> int:
    check_figure(args.out, "--out")
    if not args.current:
        for flag, value in (("--lead", args.lead), ("--mode", args.mode)):
            if value is not None:
                raise ValueError(f"{flag} {value} is not allowed without --current (it selects "
                                 "the injected states of the current map)")
    if args.energy is not None:   # (nan drew "E_F = U (nan meV)" and exited 0)
        args.energy = _validate.real_number("--energy", args.energy, "meV")
    device, runtime = load_with_set(args.geometry, args.set)
    if args.energy is None:   # where the device knows its E_F (a self-consistent potential)
        args.energy = device.metadata.fermi_energy_meV
    if args.current and args.energy is None:
        raise ValueError("--current needs --energy (the Fermi energy of the scattering states, "
                         "meV)")
    print(device)
    if args.current:
        current_map(device, args.energy, 0 if args.lead is None else args.lead, args.mode,
                    runtime, args.out)
        return 0
    fig = plot_device(device, energy=args.energy, **runtime)
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def _plot(args) -> int:
    check_distinct(result=args.result, out=args.out)
    check_figure(args.out, "--out")
    result = load_result(args.result)
    check_log_axes(result, args.logx, args.logy)
    fig = plot_result(result, logx=args.logx, logy=args.logy)
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def _log_flags(p) -> None:
    p.add_argument("--logx", action="store_true", help="logarithmic first axis (the swept one)")
    p.add_argument("--logy", action="store_true",
                   help="logarithmic second axis (G for a 1-D sweep, the second swept one for a map)")


def register(sub) -> None:
    p = sub.add_parser("sweep", help="conductance vs any parameter (1-D) or a 2-D map; resumable",
                       description="Sweep a geometry's parameters and compute the conductance. "
                       "Every parameter can be held fixed (--set) or swept (--sweep) the same way: "
                       "gate parameters, B and E_Z (no rebuild), energy/E (meV), temperature/T (K), "
                       "and structural parameters such as W or gap (one rebuild per value). "
                       "`qpcsim params GEOMETRY` lists them with their units. A temperature "
                       "swept with a gate/field/energy axis on a grid (T > 0 K each) is a "
                       "temperature series: one spectral sweep serves every temperature "
                       "(with --adaptive or a structural axis, each point is a finite-T solve). "
                       "Interrupted runs resume from OUT.points.sqlite (a locked, checksummed store).")
    p.add_argument("geometry", help="geometry file (or the name of a bundled one), or a GDSII "
                                    "layout (.gds, with --layer, --depth, --density)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="hold a parameter fixed, in its unit from `qpcsim params GEOMETRY` "
                        "(e.g. --set B=2 in T, --set gap=150 in nm)")
    _layout_arguments(p)
    p.add_argument("--sweep", action="append", required=True, metavar="NAME=...",
                   help=f"swept parameter in its own unit (`qpcsim params GEOMETRY`: e.g. Vg in V, "
                        f"qpc_hardwall's U_gate in meV), energy/E in meV or "
                        f"temperature/T in K; give one or two, each as {_SWEEP_FORMS}")
    p.add_argument("--energy", type=float, help="Fermi energy (meV), unless swept; default: "
                   "the device's E_F where it knows it (self-consistent devices, .gds layouts)")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="temperature (K), unless swept")
    p.add_argument("--zeeman-from-B", dest="zeeman_from_B", action="store_true",
                   help="E_Z = |g| mu_B B at every point (needs --set zeeman=true)")
    p.add_argument("--max-rebuilds", type=int, default=200, metavar="N",
                   help="most systems a structural sweep may build (default 200)")
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
    add_fresh_argument(p)
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out/--plot file that is not this sweep's result")
    p.add_argument("--plot", metavar="FIG.png", help="also write a figure")
    _log_flags(p)
    p.add_argument("--quiet", action="store_true",
                   help="no progress (a bar in a terminal, else a line every 30 s and a summary)")
    _resistance_arguments(p)
    p.set_defaults(func=_sweep)

    p = sub.add_parser("show", help="plot a geometry in nm: potential, 2DEG edge, leads, gates; "
                                    "with --current, the current-density map",
                       description="Draw the device in nm: the potential U (meV), the 2DEG "
                       "edge, the leads, the gates and (with --energy) the E_F = U contour. "
                       "With --current: the current density of the scattering states injected "
                       "from one lead at --energy (as `qpcsim current`), |j| and streamlines "
                       "under the gates' outline and the 2DEG edge V = E_F, with the "
                       "transmission and the current through x = 0.")
    p.add_argument("geometry", help="geometry file (or the name of a bundled one)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="parameter value (unit from `qpcsim params GEOMETRY`)")
    p.add_argument("--energy", type=float,
                   help="Fermi energy (meV): draw the E_F = U contour (depletion edge); "
                        "required with --current; default: the device's E_F where it knows it")
    p.add_argument("--current", action="store_true",
                   help="draw the current-density map (nm) of the states injected at --energy")
    p.add_argument("--lead", type=int, default=None,
                   help="with --current: injecting lead, 0 (left, default) or 1 (right)")
    p.add_argument("--mode", type=int, default=None,
                   help="with --current: one incoming mode, 0 .. open modes - 1 (default: all)")
    p.add_argument("--out", required=True, help="figure file (PNG, PDF, SVG)")
    p.set_defaults(func=_show)

    p = sub.add_parser("plot", help="plot a saved sweep result")
    p.add_argument("result", help="result file written by `qpcsim sweep`")
    p.add_argument("--out", required=True, help="figure file (PNG, PDF, SVG)")
    _log_flags(p)
    p.set_defaults(func=_plot)
