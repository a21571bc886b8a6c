"""``qpcsim electrostatics LAYOUT_OR_GEOMETRY``: a Thomas–Fermi solve of a gate layout
(GDSII file) or of a self-consistent geometry (e.g. ``qpc_split_gate_sc``), with the
density map, the depletion contour, the potential along the channel, the gate outlines,
and the numbers: density at the constriction centre, channel width at E_F and the
effective lever arm dU_saddle/dV_g. A thin layer over :mod:`qpcsim.electrostatics`.
"""
from __future__ import annotations

from pathlib import Path

from ..electrostatics import Heterostructure, Layout, ThomasFermiProblem
from ..electrostatics.channel import channel_summary
from ..electrostatics.provider import SelfConsistentPotential
from ..geometry import load_geometry, load_geometry_module
from ..sanity import density_warnings, depth_warnings, layout_scale_warnings, warn_notes
from ..plotting.electrostatics import plot_electrostatics
from .args import check_writable, parse_set

__all__ = ["register", "register_cli", "run_electrostatics"]


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
        het = Heterostructure(depth_nm=args.depth, density_cm2=args.density)
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
            m = 8 * het.depth_nm
            x0, x1, y0, y1 = layout.bounds_nm()
            window = (x0 - m, x1 + m, y0 - m, y1 + m)
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


def _voltage_names(defaults) -> set:
    return {k for k in defaults if k == "Vg" or k.startswith("V_")}


def register(sub) -> None:
    """Add the ``electrostatics`` subcommand to an argparse ``subparsers`` object."""
    p = sub.add_parser(
        "electrostatics", help="Thomas-Fermi density and potential of a gate layout (GDS) or a "
        "self-consistent geometry",
        description="Self-consistent Thomas-Fermi electrostatics of a gated 2DEG (pinned "
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
                   help="Thomas-Fermi window for a .gds layout (nm; default gates + 8 depths)")
    p.add_argument("--resolution", type=float, default=4.0,
                   help="Thomas-Fermi cell size for a .gds layout (nm)")
    p.add_argument("--centre", default="0,0", metavar="X,Y",
                   help="constriction centre (nm), default 0,0")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.set_defaults(func=run_electrostatics)


#: The name qpcsim.cli's module registry calls.
register_cli = register
