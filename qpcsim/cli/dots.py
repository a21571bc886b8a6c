"""``qpcsim contrast``: QPC plateaus beside quantum-dot resonances and Coulomb peaks."""
from __future__ import annotations

import warnings

import numpy as np

from .. import validate as _validate
from ..analysis import find_plateaus
from ..engine import sweep
from ..geometry import load_geometry
from ..physics.coulomb import conductance_vs_gate
from ..physics.dots import coulomb_model, find_resonances
from ..plotting import save_figure


# ---------------------------------------------------------------- contrast
def _contrast(args) -> int:
    from .args import check_figure
    check_figure(args.out, "--out")   # before any work
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.signal import find_peaks


    points = _validate.in_range("points", args.points, 11, 2001)
    points = int(points)
    energy = 8.0                                  # meV, E_F of both devices
    qpc = load_geometry("qpc_split_gate")
    gates = np.linspace(-1.5, -0.5, points)
    g_qpc = sweep(qpc, {"Vg": gates}, energy=energy, progress=False).conductance.values
    plateaus = [p for p in find_plateaus(gates, g_qpc) if p.value > 0.5]

    # non-interacting dot: symmetric and asymmetric barriers
    dot = load_geometry("quantum_dot")
    plunger = np.linspace(-0.06, 0.06, 3 * points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sym = find_resonances(dot, plunger, energy)
        asym = find_resonances(dot, plunger, energy, asymmetry=3.0)
        # Coulomb blockade: the same dot with higher barriers (Gamma << k_B T), its
        # computed levels and widths, plus the charging energy
        closed = find_resonances(dot, np.linspace(-0.08, 0.1, 3 * points), energy, V_barrier=20.0)
        model = coulomb_model(closed, args.charging_energy)
        first = (model.levels[0] + 0.5 * model.charging_energy) / (1e3 * model.alpha)
        last = (model.levels[-1] + (model.levels.size - 0.5) * model.charging_energy) / (
            1e3 * model.alpha)
        margin = 0.5 * (last - first) / max(model.levels.size - 1, 1)
        cb_gates = np.linspace(first - margin, last + margin, 1200)
        cb = conductance_vs_gate(model, cb_gates, args.temperature)
    cb_peaks, _ = find_peaks(cb.conductance, height=1e-3 * cb.conductance.max())

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    axes[0].plot(gates, g_qpc)
    for n in range(0, int(np.ceil(g_qpc.max())) + 1):
        axes[0].axhline(n, color="0.8", lw=0.7, zorder=0)
    axes[0].set(xlabel="Vg (V)", ylabel=r"$G$ ($2e^2/h$)", title="QPC: plateaus at n G0")
    axes[1].plot(sym.plunger_V, sym.conductance, color="C1", label="symmetric barriers")
    axes[1].plot(asym.plunger_V, asym.conductance, color="C3", lw=0.9,
                 label="right barrier +3 meV")
    axes[1].axhline(1.0, color="0.8", lw=0.7, zorder=0)
    axes[1].legend(loc="upper left", fontsize=8)
    axes[1].set(xlabel="Vp (V)", ylabel=r"$G$ ($2e^2/h$)",
                title="dot, non-interacting: resonances (BW peaks)")
    axes[2].semilogy(cb_gates, cb.conductance, color="C2")
    axes[2].set_ylim(1e-3 * cb.conductance.max(), 2 * cb.conductance.max())
    axes[2].set(xlabel="Vp (V)", ylabel=r"$G$ ($2e^2/h$)",
                title=f"dot, V_b = 20 meV, E_C = {args.charging_energy:g} meV, "
                      f"T = {args.temperature:g} K")
    fig.tight_layout()

    def heights(scan):
        return ", ".join(f"{r.height:.3f}" for r in scan.resonances)

    print("QPC plateaus (G/G0): " + ", ".join(f"{p.value:.4f}" for p in plateaus)
          + "  (quantized: n G0)")
    print("dot resonance peaks (G/G0, Breit-Wigner): symmetric " + heights(sym)
          + "; asymmetric " + heights(asym) + "  (G0 only for symmetric barriers)")
    print("  at Vp = " + ", ".join(f"{r.plunger_V:.4f}" for r in sym.resonances)
          + " V, widths Gamma = " + ", ".join(f"{r.width_meV:.3g}" for r in sym.resonances)
          + " meV")
    spacing = np.diff(cb_gates[cb_peaks])
    predicted = (model.charging_energy + np.diff(model.levels)) / (1e3 * model.alpha)
    print("Coulomb-blockade peaks (G/G0): " + ", ".join(f"{cb.conductance[i]:.2e}" for i in cb_peaks)
          + "  (~ Gamma/k_BT: not quantized)")
    print("  spacing " + ", ".join(f"{s * 1e3:.2f}" for s in spacing) + " mV vs (E_C + Delta)/(e alpha) = "
          + ", ".join(f"{s * 1e3:.2f}" for s in predicted[:len(spacing)]) + " mV")
    for note in cb.warnings:
        print("warning:", note)
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("contrast", help="QPC plateaus vs quantum-dot peaks, one figure")
    p.add_argument("--points", type=int, default=61, help="QPC gate points (dot: 3x)")
    p.add_argument("--charging-energy", type=float, default=2.0, help="E_C of the dot (meV)")
    p.add_argument("--temperature", type=float, default=0.5, help="temperature (K)")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.set_defaults(func=_contrast)

