"""``qpcsim lengths`` (length-scale hierarchy) and ``qpcsim compare`` (clean vs disordered)."""
from __future__ import annotations

import math
import re
import sys
import warnings
from pathlib import Path

from ..geometry import load_geometry
from ..physics.compare import BiasComparison, ThermalComparison, compare_disorder
from ..physics.lengths import constriction_of, length_scales
from ..plotting import plot_compare, plot_compare_biases, plot_compare_temperatures, save_figure
from .args import (
    add_fresh_argument,
    check_distinct,
    check_workers,
    check_writable,
    parse_set,
    parse_sweep,
    single_sweep,
)


def _default_energy(device) -> float:
    """The device's Fermi energy where it knows it (a self-consistent potential holds
    there only), else the geometry's documented working point (its ``ENERGY``, meV), else
    midway between the constriction's subbands 3 and 4."""
    energy = device.metadata.fermi_energy_meV
    if energy is None:
        energy = device.metadata.working_energy_meV
    if energy is not None:
        return float(energy)
    th = constriction_of(device).thresholds
    k = min(3, len(th) - 1)
    return float(0.5 * (th[k - 1] + th[k])) if k >= 1 else float(2 * th[0])


def _lengths(args) -> int:
    device = load_geometry(args.geometry, **parse_set(args.set))
    energy = args.energy if args.energy is not None else _default_energy(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scales = length_scales(device, energy, args.temperature, disorder=args.disorder,
                               correlation_length=args.correlation_length,
                               L_phi=args.L_phi if args.L_phi is not None else math.inf,
                               dephasing=args.dephasing,
                               L=args.length, measure=not args.no_measure, seeds=args.seeds)
    for w in caught:
        print(f"warning: {w.message}")
    print(device.name + ("" if args.energy is not None else
                         f" (energy {energy:g} meV: the geometry's documented working point "
                         "or midway between constriction subbands 3 and 4)"))
    print(scales.report())
    return 0


def _compare(args) -> int:
    import time
    check_workers(args.workers, args.scheduler)
    out = check_writable(args.out, "--out")
    store = args.store
    check_distinct(out=args.out, data=args.data, store=store)
    if args.data:
        check_writable(args.data, "--data")
    if args.fresh and store is None:
        raise ValueError("--fresh is not allowed without --store DIR: compare keeps no store "
                         "unless given one")
    if store is not None and Path(store).exists() and not Path(store).is_dir():
        raise ValueError(f"--store {store!r} is not a directory: compare keeps one store per "
                         "run in a directory; give a directory path")
    device = load_geometry(args.geometry, **parse_set(args.set))
    try:
        strengths = [float(s) for s in args.disorder.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--disorder {args.disorder!r} is malformed: give comma-separated "
                         "strengths in meV, e.g. --disorder 0.5,1.5") from None
    name, values = parse_sweep(single_sweep(args.sweep, "compare"))
    energy = args.energy if args.energy is not None else _default_energy(device)
    temperature = _temperature_list(args.temperature)
    bias = _bias_list(args.bias)
    t0 = time.perf_counter()
    result = compare_disorder(device, strengths, args.seeds, {name: values}, energy,
                              correlation_length=args.correlation_length, workers=args.workers,
                              scheduler=args.scheduler, temperature=temperature, bias=bias,
                              progress=not args.quiet, store=store, fresh=args.fresh,
                              report=_report)
    unit = device.units.get(name, "")
    if isinstance(result, BiasComparison):
        figure = plot_compare_biases(result, unit)
    elif isinstance(result, ThermalComparison):
        figure = plot_compare_temperatures(result, unit)
    else:
        figure = plot_compare(result, unit)
    save_figure(figure, out)
    if args.data:
        print(f"wrote {result.save(args.data)} (clean and per-seed traces, plateau quality)")
    _quality_table(getattr(result, "results", [result]), bias is not None)
    print(f"wrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def _report(line: str) -> None:
    print(f"qpcsim compare: {line}", file=sys.stderr, flush=True)


def _quality_table(results, with_bias: bool) -> None:
    """Print the plateau quality per (temperature[, bias], disorder strength); with a bias,
    the largest interpolation bound of the dI/dV traces too."""
    bias_head = f"{'V_sd (mV)':>9} " if with_bias else ""
    print(f"{'T (K)':>6} {bias_head}{'U (meV)':>8} {'L/l_e':>10} {'|plateau-n|':>12} "
          f"{'flatness':>10} {'plateaus':>9}")
    for res in results:
        for U in sorted(res.quality):
            q = res.quality[U]
            bias_cell = f"{res.bias:9.3g} " if with_bias else ""
            print(f"{res.temperature:6.3g} {bias_cell}{U:8.3g} {q['L_over_le']:10.3g} "
                  f"{q['deviation']:12.3g} {q['flatness']:10.3g} {q['plateaus']:9.2f}")
    bounds = [r.error_bound for r in results if r.error_bound is not None]
    if with_bias and bounds:
        print(f"dI/dV at V_sd != 0 within its interpolation bound <= {max(bounds):.2g} G0 "
              "(symmetric drop, mu = E_F +- eV/2; V_sd = 0 is the linear G)")


def _number_list(flag: str, text: str, unit: str, example: str) -> list[float]:
    """Comma-separated numbers of ``flag`` (``unit``), or a one-line error quoting them."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{flag} {text!r} is malformed: give comma-separated values in "
                         f"{unit}, e.g. {flag} {example}") from None
    if not values:
        raise ValueError(f"{flag} {text!r} is malformed: give at least one value ({unit})")
    return values


def _bias_list(text: str | None):
    """``--bias`` of ``compare``: None -> no bias; "0,0.5,1" -> [0, 0.5, 1] (mV)."""
    return None if text is None else _number_list("--bias", text, "mV", "0,0.5,1")


def _temperature_list(text: str | None):
    """``--temperature`` of ``compare``: None -> 0 K; "0.5" -> 0.5; "0.5,2" -> [0.5, 2]."""
    if text is None:
        return 0.0
    temps = _number_list("--temperature", text, "K", "0.5,2")
    return temps[0] if "," not in text else temps


def register(sub) -> None:
    p = sub.add_parser("lengths", help="length-scale hierarchy and whether plateaus should show")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (nm, meV, V, T)")
    p.add_argument("--temperature", type=float, required=True, help="temperature (K)")
    p.add_argument("--energy", type=float,
                   help="Fermi energy (meV); default: the geometry's working point (its ENERGY)")
    p.add_argument("--disorder", type=float,
                   help="disorder strength (meV): Anderson U, or U_rms with --correlation-length "
                        "(default: the geometry's own disorder parameter, else 0)")
    p.add_argument("--correlation-length", dest="correlation_length", type=float,
                   help="Gaussian correlation length (nm); 0 = Anderson")
    p.add_argument("--L-phi", dest="L_phi", type=float, help="phase-coherence length (nm)")
    p.add_argument("--dephasing", choices=("pure", "probes"), default="pure",
                   help="what sets --L-phi: pure dephasing (phase only) or Büttiker probes "
                        "(which also relax momentum, i.e. backscatter)")
    p.add_argument("--length", type=float,
                   help="length that must be short (nm), e.g. the constriction; default: the "
                        "device's scattering-region length")
    p.add_argument("--seeds", type=int, default=16, help="seeds per length for measured l_e")
    p.add_argument("--no-measure", action="store_true", help="Born l_e only (no ensembles)")
    p.set_defaults(func=_lengths)

    p = sub.add_parser("compare", help="clean vs disordered gate sweeps (ensemble bands)")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--disorder", required=True, metavar="U1,U2,...",
                   help="disorder strengths (meV): Anderson U, or rms with --correlation-length")
    p.add_argument("--seeds", type=int, default=6, help="disorder realizations per strength")
    p.add_argument("--sweep", required=True, action="append", metavar="NAME=START:STOP:NUM",
                   help="swept parameter in its own unit (e.g. Vg in V); give it once")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (nm, meV, V, T)")
    p.add_argument("--energy", type=float, help="Fermi energy (meV)")
    p.add_argument("--temperature", metavar="T1,T2,...",
                   help="temperature(s) (K; default 0): several, e.g. 0.5,2, give one panel "
                        "each and the plateau quality vs L/l_e per temperature, measured on "
                        "the lowest temperature's clean plateaus")
    p.add_argument("--bias", metavar="V1,V2,...",
                   help="source-drain bias(es) V_sd (mV), e.g. 0,0.5,1: the traces become "
                        "dI/dV per realization (symmetric drop, mu = E_F +- eV/2), one panel "
                        "and one plateau-quality curve per bias")
    p.add_argument("--correlation-length", type=float, default=0.0,
                   help="Gaussian correlation length (nm); 0 = Anderson disorder")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress (a bar in a terminal, else a line every 30 s and a "
                        "summary per run)")
    p.add_argument("--scheduler", help="Dask scheduler tcp://host:port, or 'local'")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.add_argument("--data", metavar="COMPARE.nc",
                   help="also write the traces and the quality table (NetCDF)")
    p.add_argument("--store", metavar="DIR",
                   help="keep every finished point in resumable stores, one per run, in this "
                        "directory: a rerun of the same comparison computes only the missing "
                        "ones (default: none)")
    add_fresh_argument(p)
    p.set_defaults(func=_compare)
    # "--bias -0.5,0.5" starts with "-": read a comma list of numbers as a value
    p._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-[\d.]+,")

