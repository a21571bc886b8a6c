"""``qpcsim electrostatics LAYOUT_OR_GEOMETRY``: a Thomas–Fermi solve of a gate layout
(GDSII file) or of a self-consistent geometry (e.g. ``qpc_split_gate_sc``), with the
density map, the depletion contour, the potential along the channel, the gate outlines,
and the numbers: density at the constriction centre, channel width at E_F and the
effective lever arm dU_saddle/dV_g. A thin layer over :mod:`qpcsim.electrostatics`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..electrostatics import Heterostructure, Layout, ThomasFermiProblem
from ..electrostatics.channel import channel_summary
from ..electrostatics.provider import SelfConsistentPotential
from ..electrostatics.thomas_fermi import aligned_window
from ..geometry import load_geometry, load_geometry_module
from ..sanity import density_warnings, depth_warnings, layout_scale_warnings, warn_notes
from ..plotting.electrostatics import plot_electrostatics
from .args import check_writable, parse_set, parse_sweep

__all__ = ["register", "register_cli", "run_electrostatics", "run_pinchoff"]


def _pair(text: str, flag: str, count: int):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        raise ValueError(f"{flag} {text!r} is malformed: give {count} comma-separated numbers (nm)")
    return values


def _layers(items):
    if not items:
        return {1: "left", 2: "right"}
    out = {}
    for item in items:
        key, sep, name = item.partition("=")
        try:
            layer = int(key)
        except ValueError:
            layer = None
        if not sep or layer is None or not name.strip():
            raise ValueError(f"--layer {item!r} is malformed: use LAYER=NAME, e.g. --layer 1=left")
        out[layer] = name.strip()
    return out


def run_electrostatics(args) -> int:

    out = check_writable(args.out, "--out")
    params = parse_set(args.set)
    centre = _pair(args.centre, "--centre", 2)
    device = None
    target = str(args.target)
    if target.lower().endswith(".gds"):
        layout = Layout.from_gds(target, layers=_layers(args.layer), cell=args.cell,
                                 unit_nm=args.unit_nm)
        het = Heterostructure(depth_nm=args.depth, density_cm2=args.density,
                              surface=args.surface)
        x0, x1, y0, y1 = layout.bounds_nm()
        warn_notes(layout_scale_warnings(max(x1 - x0, y1 - y0), args.unit_nm))
        common = params.pop("Vg", None)
        volts = {n: common if common is not None else 0.0 for n in layout.names}
        given = layout.check_voltages(params)            # unknown gate names refused here
        for key in params:
            name = key[2:] if key.startswith("V_") and key[2:] in volts else key
            volts[name] = given[name]
        if args.window:
            window = _pair(args.window, "--window", 4)
        else:
            # the frozen surface's influence reaches further (no image between the gates)
            m = (12 if het.surface == "frozen" else 8) * het.depth_nm
            x0, x1, y0, y1 = layout.bounds_nm()
            window = aligned_window(layout, het, (x0 - m, x1 + m, y0 - m, y1 + m),
                                    args.resolution)
        problem = ThomasFermiProblem(layout, het, window, args.resolution)
    else:
        module = load_geometry_module(target)
        defaults = getattr(module, "DEFAULTS", {})
        structural = {k: v for k, v in params.items() if k in defaults and
                      k not in _voltage_names(defaults)}
        device = load_geometry(target, **structural)
        pot = device.potential
        if not isinstance(pot, SelfConsistentPotential):
            raise ValueError(f"geometry {target!r} has no electrostatic model (its potential is "
                             "not a qpcsim.electrostatics.SelfConsistentPotential); use a "
                             "self-consistent geometry such as qpc_split_gate_sc, or a .gds layout")
        runtime = {k: v for k, v in params.items() if k not in structural}
        volts = pot.voltages_of(**runtime)
        problem = pot.problem()
        layout, het = pot.layout, pot.heterostructure
    warn_notes(density_warnings(het.density_cm2) + depth_warnings(het.depth_nm))
    result = problem.solve(volts)
    summary = channel_summary(result, centre, problem=problem)
    print(result.summary())
    print(f"heterostructure: d = {het.depth_nm:g} nm, n_s = {het.density_cm2:.4g} cm^-2, "
          f"surface {het.surface}; gates: " + ", ".join(f"{k} {v:g} V" for k, v in volts.items()))
    print(summary.report())
    print(f"wrote {plot_electrostatics(result, out, summary=summary, device=device, title=Path(target).name)}")
    return 0


def run_pinchoff(args) -> int:
    """``qpcsim pinchoff``: the channel-state diagram over two gate voltages."""
    import dataclasses

    from ..electrostatics.pinchoff import pinchoff_diagram
    from ..plotting.electrostatics import plot_pinchoff
    out = check_writable(args.out, "--out")
    if len(args.sweep or []) != 2:
        raise ValueError("pinchoff needs exactly two --sweep GATE=START:STOP:NUM flags (V), e.g. "
                         "--sweep left=-2.5:0:41 --sweep right=-2.5:0:41")
    (g1, v1), (g2, v2) = (parse_sweep(item) for item in args.sweep)
    g1, g2 = (g[2:] if g.startswith("V_") else g for g in (g1, g2))
    target = str(args.target)
    if target.lower().endswith(".gds"):
        layout = Layout.from_gds(target, layers=_layers(args.layer), cell=args.cell,
                                 unit_nm=args.unit_nm)
        het = Heterostructure(depth_nm=args.depth, density_cm2=args.density)
    else:
        pot = load_geometry(target).potential
        if not isinstance(pot, SelfConsistentPotential):
            raise ValueError(f"geometry {target!r} has no electrostatic model; use a "
                             "self-consistent geometry such as qpc_split_gate_sc, or a .gds layout")
        layout, het = pot.layout, pot.heterostructure
    het = dataclasses.replace(het, surface=args.surface)
    fixed = {k[2:] if k.startswith("V_") else k: v for k, v in parse_set(args.set).items()}
    diagram = pinchoff_diagram(layout, het, (g1, g2), v1, v2,
                               channel_nm=_pair(args.channel, "--channel", 2), fixed=fixed,
                               resolution_nm=args.resolution, workers=args.workers)
    line = diagram.pinchoff_line()
    print(f"{diagram.solves} Thomas-Fermi solves in {diagram.seconds:.1f} s ({het.surface} "
          f"surface, {args.resolution:g} nm cells, {args.workers} worker(s))")
    for k, g in enumerate((g1, g2)):
        print(f"2DEG under {g} depleted at {diagram.depletion_voltage(k):.3f} V")
    i = int(np.nanargmin(np.abs(line - diagram.v1))) if np.any(np.isfinite(line)) else None
    if i is not None:
        print(f"pinch-off line: V_{g2} = {line[i]:.3f} V at V_{g1} = {diagram.v1[i]:.3f} V "
              "(nearest the diagonal)")
    plot_pinchoff(diagram, out)
    print(f"wrote {out}")
    return 0


def _voltage_names(defaults) -> set:
    return {k for k in defaults if k == "Vg" or k.startswith("V_")}


def register(sub) -> None:
    """Add the ``electrostatics`` subcommand to an argparse ``subparsers`` object."""
    p = sub.add_parser(
        "electrostatics", help="Thomas-Fermi density and potential of a gate layout (GDS) or a "
        "self-consistent geometry",
        description="Self-consistent Thomas-Fermi electrostatics of a gated 2DEG (pinned or frozen "
        "surface): density map, depletion contour, potential along the channel, density at the "
        "constriction centre, channel width at E_F and the effective lever arm dU_saddle/dV_g.")
    p.add_argument("target", metavar="LAYOUT_OR_GEOMETRY",
                   help="a .gds layout, or a self-consistent geometry (e.g. qpc_split_gate_sc)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="gate voltage (V): Vg (all gates), V_<gate> or <gate>; for a geometry also "
                   "its parameters (nm, cm^-2)")
    p.add_argument("--layer", action="append", metavar="LAYER=NAME",
                   help="GDS layer -> gate name (default 1=left, 2=right)")
    p.add_argument("--cell", help="GDS cell (default: the only top-level cell)")
    p.add_argument("--unit-nm", type=float, default=None,
                   help="nm per GDS user unit (default: the file's unit)")
    p.add_argument("--depth", type=float, default=50.0, help="2DEG depth for a .gds layout (nm)")
    p.add_argument("--density", type=float, default=2e11,
                   help="ungated sheet density for a .gds layout (cm^-2)")
    p.add_argument("--window", metavar="X0,X1,Y0,Y1",
                   help="Thomas-Fermi window for a .gds layout (nm; default gates + 8 depths, "
                   "12 with a frozen surface)")
    p.add_argument("--resolution", type=float, default=4.0,
                   help="Thomas-Fermi cell size for a .gds layout (nm)")
    p.add_argument("--centre", default="0,0", metavar="X,Y",
                   help="constriction centre (nm), default 0,0")
    p.add_argument("--surface", choices=("pinned", "frozen"), default="pinned",
                   help="surface model for a .gds layout (default pinned)")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.set_defaults(func=run_electrostatics)

    q = sub.add_parser(
        "pinchoff", help="channel state (open / gates depleted / pinched) over two gate "
        "voltages, electrostatics only",
        description="Pinch-off diagram: Thomas-Fermi solves on a grid of two gate voltages; "
        "prints each gate's depletion voltage and the pinch-off line, draws the map.")
    q.add_argument("target", metavar="LAYOUT_OR_GEOMETRY",
                   help="a .gds layout, or a self-consistent geometry (e.g. qpc_split_gate_sc)")
    q.add_argument("--sweep", action="append", metavar="GATE=START:STOP:NUM",
                   help="two of them: the swept gates and their voltages (V)")
    q.add_argument("--set", action="append", metavar="GATE=VALUE",
                   help="voltage of another gate (V)")
    q.add_argument("--surface", choices=("pinned", "frozen"), default="frozen",
                   help="surface model (default frozen)")
    q.add_argument("--channel", default="-160,160", metavar="Y0,Y1",
                   help="channel strip in which source and drain must connect (nm)")
    q.add_argument("--resolution", type=float, default=8.0, help="cell size (nm)")
    q.add_argument("--workers", type=int, default=1, help="processes (rows split)")
    q.add_argument("--layer", action="append", metavar="LAYER=NAME",
                   help="GDS layer -> gate name (default 1=left, 2=right)")
    q.add_argument("--cell", help="GDS cell (default: the only top-level cell)")
    q.add_argument("--unit-nm", type=float, default=None, help="nm per GDS user unit")
    q.add_argument("--depth", type=float, default=50.0, help="2DEG depth for a .gds layout (nm)")
    q.add_argument("--density", type=float, default=2e11,
                   help="ungated sheet density for a .gds layout (cm^-2)")
    q.add_argument("--out", required=True, help="figure file (PNG)")
    q.set_defaults(func=run_pinchoff)


#: The name qpcsim.cli's module registry calls.
register_cli = register
