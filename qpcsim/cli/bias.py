"""``qpcsim bias`` (finite-bias diamonds) and ``qpcsim current`` (current-density maps):
thin wrappers over :func:`qpcsim.bias_map`, :func:`qpcsim.diamond_spacings` and
:func:`qpcsim.current_density`. Flags take the user's units."""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

from ..engine.progress import duration
from ..engine.result import save_dataset
from .args import (
    add_fresh_argument,
    check_distinct,
    check_figure,
    check_sweep_flags,
    check_workers,
    check_writable,
    parse_set,
    parse_sweep,
)
from .params import load_with_set


def _parse_bias(text: str) -> np.ndarray:
    parts = text.split(":")
    try:
        start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
    except (ValueError, IndexError):
        raise ValueError(f"--bias {text!r} is malformed: use START:STOP:NUM in mV, "
                         "e.g. --bias -4:4:81") from None
    if len(parts) != 3 or num < 2 or not stop > start or not np.isfinite([start, stop]).all():
        raise ValueError(f"--bias {text!r} is not allowed: START < STOP (mV), NUM >= 2")
    return np.linspace(start, stop, num)


def default_store(data, figure) -> str:
    """The store of a map named after its data output: ``MAP.nc.points.sqlite`` with
    ``--data MAP.nc``, else the figure's name without its format (``map.points.sqlite``
    for ``--out map.png``), never ``map.png.points.sqlite``."""
    if data:
        return str(data) + ".points.sqlite"
    return str(Path(figure).with_suffix("")) + ".points.sqlite"


def _report(line: str, command: str = "bias") -> None:
    """Notes for the user (a --fresh start's deleted store, a long map's ETA, what a current
    map solves), on stderr beside the progress lines, as ``qpcsim sweep`` writes them."""
    print(f"qpcsim {command}: {line}", file=sys.stderr, flush=True)


def _bias(args) -> int:
    from ..physics.bias import bias_map, diamond_spacings
    from ..plotting.spectral import plot_bias_map
    # Every output is checked before any work (as `qpcsim sweep` does).
    store = args.store or default_store(args.data, args.out)
    check_distinct(out=args.out, data=args.data, store=store)
    out = check_figure(args.out, "--out", force=args.force)
    check_writable(store, "--store")
    if args.data:
        check_writable(args.data, "--data")
        if Path(args.data).exists() and not args.force:
            raise ValueError(f"--data {args.data!r} exists; refusing to overwrite it (choose "
                             "another path, or pass --force to replace it)")
    if len(args.sweep) != 1:
        raise ValueError(f"--sweep is given {len(args.sweep)} times: a bias map sweeps one gate "
                         "parameter (hold the others with --set)")
    check_sweep_flags(args.sweep, args.set)
    check_workers(args.workers)
    name, values = parse_sweep(args.sweep[0])
    biases = _parse_bias(args.bias)
    device, fixed = load_with_set(args.geometry, args.set)
    data = bias_map(device, {name: values}, biases, args.energy, args.temperature,
                    workers=args.workers, max_panel=args.resolution, progress=not args.quiet,
                    fresh=args.fresh,
                    drop_fraction=args.drop_fraction, drop_length=args.drop_length,
                    store=store, thermal_tolerance=args.thermal_tolerance,
                    refinement_budget=args.refinement_budget, report=_report, **fixed)
    print(f"bias model: {data.attrs['bias_model']}")
    print(f"bias map: {values.size} x {biases.size} points, {data.attrs['solves_per_point']} "
          f"solves per gate point")
    if "didv_error_bound" in data:
        print(f"interpolation bound: dI/dV <= {float(data['didv_error_bound'].max()):.2g} G0, "
              f"I <= {float(data['current_error_bound'].max()):.2g} nA (thermal_tolerance "
              f"{data['didv_error_bound'].attrs['tolerance']:g} G0)")
    reused = data.attrs["points_from_store"]
    print(f"store {store}: " + (f"{reused} finished point(s) reused" if reused else
                                "every point computed and kept"))
    if args.data:
        save_dataset(data, args.data, "--data")
        print(f"wrote {args.data}")
    print(f"wrote {plot_bias_map(data, out)}")
    spacings = diamond_spacings(values, biases, data["differential_conductance"].values)
    if spacings:
        print("subband spacings from the diamond vertices:")
        for n, s in enumerate(spacings, start=1):
            print(f"  plateau {n}: vertex at |V_sd| = {s:.3f} mV -> E_{n + 1} - E_{n} = {s:.3f} meV")
    else:
        print("no closed diamond inside the bias range (widen --bias or the gate sweep)")
    return 0


def current_map(device, energy: float, lead: int, mode: int | None, params: dict, out) -> object:
    """Compute :func:`qpcsim.current_density`, print the injected modes, their transmission
    and the current through x = 0 (equal to it: a check of current conservation), and draw
    the map to ``out`` (:func:`qpcsim.plotting.spectral.plot_current`). Shared by
    ``qpcsim current`` and ``qpcsim show --current``.

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    energy : float
        Fermi energy (meV).
    lead : int
        Injecting lead, 0 (left) or 1 (right).
    mode : int or None
        One incoming mode, or None for all.
    params : dict
        Runtime device parameters (units in ``device.units``).
    out : path
        Figure file, already checked (:func:`check_figure`).

    Returns
    -------
    qpcsim.CurrentMap
    """
    from ..physics.current import current_density
    from ..plotting.spectral import plot_current
    cmap = current_density(device, energy, lead=lead, mode=mode, **params)
    print(f"{len(cmap.modes)} mode(s) from lead {cmap.lead}; transmission "
          f"{cmap.transmission.sum():.12f}; current through x = 0: {cmap.through(1e-9):.12f}")
    print(f"wrote {plot_current(device, cmap, out, params)}")
    return cmap


def _current(args) -> int:
    out = check_figure(args.out, "--out")
    extra = parse_set(args.param)
    both = sorted(set(extra) & set(parse_set(args.set)))
    if both:
        raise ValueError(f"{both} given with both --set and --param; give each parameter once "
                         "(--set takes runtime parameters too)")
    device, params = load_with_set(args.geometry, args.set)
    params.update(extra)
    # One scattering solve (no points to count): say what runs, then what it took.
    start = time.perf_counter()
    _report(f"current map: one scattering solve on {device.nx} x {device.ny} sites at "
            f"E = {args.energy:g} meV", "current")
    current_map(device, args.energy, args.lead, args.mode, params, out)
    _report(f"current map: done in {duration(time.perf_counter() - start)}", "current")
    return 0


def register(sub) -> None:
    p = sub.add_parser("bias", help="finite-bias dI/dV map (diamonds) and subband spacings",
                       description="dI/dV(gate, V_sd) with mu_L,R = mu +- eV/2: the symmetric "
                       "drop (one spectral solve per gate point) or, with --drop-fraction ETA, a "
                       "linear ramp of ETA*eV inside the device (re-solved per bias point); "
                       "prints the subband spacings read off the diamonds. Interrupted maps "
                       "resume from DATA.points.sqlite (--data DATA), else from "
                       "OUT-without-suffix.points.sqlite (a locked, checksummed store).")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter, in the units of its DEFAULTS (nm, meV, V, T)")
    p.add_argument("--sweep", required=True, action="append", metavar="NAME=START:STOP:NUM",
                   help="the one gate parameter swept, in its own unit (Vg in V, V0 in meV)")
    p.add_argument("--bias", required=True, metavar="START:STOP:NUM",
                   help="source-drain bias V_sd (mV)")
    p.add_argument("--energy", type=float, required=True, help="Fermi energy (meV)")
    p.add_argument("--temperature", type=float, default=0.0, help="temperature (K)")
    p.add_argument("--resolution", type=float, default=None, metavar="MEV",
                   help="largest energy panel of T(E) (meV; default 0.4)")
    p.add_argument("--drop-fraction", dest="drop_fraction", type=float, default=0.0,
                   metavar="ETA", help="fraction of eV that drops inside the device as a linear "
                   "ramp, +ETA*eV/2 on the source (left) side (0 <= ETA <= 1; default 0: the "
                   "symmetric drop)")
    p.add_argument("--drop-length", dest="drop_length", type=float, default=None, metavar="NM",
                   help="length of the ramp about the device centre (nm; default the device "
                   "length)")
    p.add_argument("--thermal-tolerance", dest="thermal_tolerance", type=float, default=1e-4,
                   metavar="G0", help="largest allowed interpolation error bound of dI/dV (G0) "
                   "and of I/V (G0) at every point; the energy grid is refined until it holds "
                   "(default 1e-4)")
    p.add_argument("--refinement-budget", dest="refinement_budget", type=int, default=None,
                   metavar="SOLVES", help="most solves per gate point for that refinement "
                   "(default: max(400, 4 x the initial grid)); beyond it the map stops with an "
                   "error naming the unresolved energy window")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.add_argument("--data", metavar="MAP.nc", help="also write the map (NetCDF)")
    p.add_argument("--store", help="resume store (default DATA.points.sqlite, else "
                                   "OUT-without-suffix.points.sqlite)")
    add_fresh_argument(p)
    p.add_argument("--force", action="store_true",
                   help="replace an existing --data file or a non-figure --out")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (a bar in a terminal, else a line every 30 s and a summary)")
    p.set_defaults(func=_bias)
    # "--bias -4:4:81" starts with "-": let the parser read START:STOP:NUM ranges as values
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+:")

    p = sub.add_parser("current", help="current-density map of the scattering states (nm)",
                       description="Bond currents of the states injected from one lead "
                       "(Kwant operators), drawn over the potential landscape in nm.")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (make_device; nm, meV, V)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="runtime device parameter (same as --set), e.g. --param V0=4 (meV)")
    p.add_argument("--energy", type=float, required=True, help="Fermi energy (meV)")
    p.add_argument("--lead", type=int, default=0, help="injecting lead: 0 (left) or 1 (right)")
    p.add_argument("--mode", type=int, default=None,
                   help="one incoming mode, 0 .. open modes - 1 (default: all)")
    p.add_argument("--out", required=True, help="figure file (PNG, PDF, SVG)")
    p.set_defaults(func=_current)
