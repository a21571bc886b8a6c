"""``qpcsim coulomb``: Coulomb-blockade peaks and diamonds (constant interaction)."""
from __future__ import annotations

import numpy as np

from ..physics.coulomb import (
    DotModel,
    capacitance_aF,
    conductance_vs_gate,
    coulomb_peaks,
    peak_resolving_gates,
    stability_diagram,
)
from ..plotting import save_figure


# ---------------------------------------------------------------- CLI
def _cli(args) -> int:
    from .. import validate as _validate
    from .args import check_figure
    check_figure(args.out, "--out")   # before any work
    _validate.non_negative("--gamma", args.gamma, "meV")
    _validate.non_negative("--spacing", args.spacing, "meV")
    _validate.positive_int("--levels", args.levels)
    from ..budget import check_memory
    check_memory(8.0 * (args.levels + 1) ** 2, f"--levels {args.levels} (an (N+1) x (N+1) "
                 "table of canonical occupations)", "use fewer levels (--levels)")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = np.arange(args.levels) * args.spacing
    model = DotModel(levels, args.gamma, args.gamma, args.charging_energy, alpha=args.alpha)
    background = np.linspace(-0.5 * args.charging_energy / (1e3 * args.alpha),
                             (3.5 * (args.charging_energy + args.spacing)) / (1e3 * args.alpha),
                             400)
    peaks = coulomb_peaks(model, args.temperature)
    inside = (peaks.gate_V >= background[0]) & (peaks.gate_V <= background[-1])
    peaks = type(peaks)(peaks.N[inside], peaks.gate_V[inside], peaks.height[inside])
    # every peak resolved: its exact maximum plus 41 points over +-4 kT (FWHM 3.5 kT)
    gates = peak_resolving_gates(peaks, background, args.temperature, args.alpha)
    trace = conductance_vs_gate(model, gates, args.temperature)
    biases = np.linspace(-1.5 * args.charging_energy, 1.5 * args.charging_energy, 121)
    diamonds = stability_diagram(model, background[::4], biases, args.temperature)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax1.plot(gates, trace.conductance)
    ax1.set_xlabel("V_g (V)")
    ax1.set_ylabel(r"$G$ ($2e^2/h$)")
    ax1.set_title(f"Coulomb-blockade peaks, T = {args.temperature:g} K")
    diamonds.plot(ax2)
    print(f"E_C = {args.charging_energy:g} meV (C = {capacitance_aF(args.charging_energy):.3g} aF), "
          f"peak height {peaks.height.max():.6f} G0 (not quantized)")
    print(f"{'N -> N+1':>9} {'V_g (V)':>10} {'G_peak (G0)':>12}")
    for n, v, h in zip(peaks.N, peaks.gate_V, peaks.height):
        print(f"{n:>4d} -> {n + 1:<2d} {v:10.5f} {h:12.6f}")
    for note in trace.warnings:
        print("warning:", note)
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("coulomb", help="Coulomb-blockade peaks and diamonds (master equation)")
    p.add_argument("--charging-energy", type=float, default=1.0, help="E_C = e^2/C (meV)")
    p.add_argument("--spacing", type=float, default=0.2, help="level spacing (meV)")
    p.add_argument("--levels", type=int, default=6, help="number of levels")
    p.add_argument("--gamma", type=float, default=1e-4, help="tunnel width per lead (meV)")
    p.add_argument("--alpha", type=float, default=0.1, help="gate lever arm C_g/C")
    p.add_argument("--temperature", type=float, default=0.1, help="temperature (K)")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.set_defaults(func=_cli)

