"""Non-interacting quantum dots (tight binding) and the QPC-vs-dot contrast.

* :func:`resonance_scan`: G vs plunger gate, resonant-tunnelling peaks.
* :func:`closed_dot_levels`: the closed dot's spectrum, eigenvalues of the Kwant
  Hamiltonian restricted to the sites between the barrier maxima (hard walls
  there): a resonance sits where a level meets the Fermi energy.
* :func:`fit_breit_wigner`: level width Gamma and height of an isolated peak.
  A peak reaches G0 only for symmetric barriers: G_max = 4 Gamma_L Gamma_R /
  (Gamma_L + Gamma_R)^2 per channel.
* :func:`double_barrier_chain_width`: exact Fabry-Pérot width of a 1-D chain with
  two on-site barriers, the analytic check of the fit.
* ``qpcsim contrast``: a QPC's plateaus next to a dot's peaks (tight binding),
  with the Coulomb-blockade peaks of the same dot (master equation, E_C added).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from . import validate as _validate

__all__ = ["resonance_scan", "closed_dot_levels", "BreitWigner", "fit_breit_wigner",
           "double_barrier_chain_width", "register_cli"]


def resonance_scan(device, plunger_V, energy_meV: float, workers: int | None = 1, **params):
    """(Vp, G/G0) of a dot device over plunger voltages (V) at ``energy_meV`` (meV)."""
    from .sweep import sweep
    result = sweep(device, {"Vp": np.asarray(plunger_V, dtype=float)}, energy=energy_meV,
                   workers=workers, progress=False, **params)
    return result["Vp"].values, result.conductance.values


def closed_dot_levels(device, count: int = 8, **params) -> np.ndarray:
    """Lowest ``count`` levels (meV) of the closed dot: the scattering region's
    Hamiltonian (with its potential) restricted to |x| < D/2, hard walls outside."""
    fsyst = device.build()
    resolved = device.resolve_params(params)
    ham = fsyst.hamiltonian_submatrix(params=resolved, sparse=True).tocsr()
    x, _ = device.site_positions_nm()
    D = device.metadata["make_device"]["D"]
    inside = np.flatnonzero(np.abs(x) < D / 2)
    sub = ham[inside][:, inside].toarray()
    return np.linalg.eigvalsh(sub)[:count] * device.t


@dataclass
class BreitWigner:
    """Lorentzian fit G = height (Gamma/2)^2 / ((x - x0)^2 + (Gamma/2)^2)."""

    position: float
    width: float            # FWHM, in the units of x
    height: float
    residual: float


def fit_breit_wigner(x, g) -> BreitWigner:
    """Fit an isolated resonance (x in energy or gate units)."""
    x = np.asarray(x, dtype=float)
    g = np.asarray(g, dtype=float)
    if x.size < 5:
        raise ValueError("fit_breit_wigner needs at least 5 points around the peak")
    i = int(np.argmax(g))
    half = x[g > g[i] / 2]
    guess = [x[i], max(half.max() - half.min(), np.min(np.diff(np.sort(x)))), g[i]]

    def lorentz(xx, x0, width, height):
        return height * (width / 2) ** 2 / ((xx - x0) ** 2 + (width / 2) ** 2)

    popt, _ = scipy.optimize.curve_fit(lorentz, x, g, p0=guess)
    residual = float(np.abs(lorentz(x, *popt) - g).max())
    return BreitWigner(float(popt[0]), abs(float(popt[1])), float(popt[2]), residual)


def _chain_transmission(energy_meV, U_meV, sites_between, t_meV):
    """Exact T(E) of a 1-D chain (onsite 2t + band) with two on-site barriers U
    ``sites_between`` sites apart: E = 2t + 2t (1 - cos k)."""
    cos_k = 1.0 - (np.asarray(energy_meV) - 2 * t_meV) / (2 * t_meV)
    sin_k = np.sqrt(1 - cos_k**2)
    k = np.arccos(cos_k)
    tau = 1.0 / (1.0 + 1j * U_meV / (2 * t_meV * sin_k))     # single barrier
    rho = tau - 1.0
    return np.abs(tau**2 / (1 - rho**2 * np.exp(2j * k * sites_between))) ** 2


def double_barrier_chain_width(U_meV: float, sites_between: int, t_meV: float,
                               near_meV: float) -> tuple[float, float]:
    """Resonance of the exact double-barrier chain nearest ``near_meV``:
    (position, FWHM) in meV, from the closed-form Fabry-Pérot transmission."""
    e = np.linspace(near_meV - 0.3 * t_meV, near_meV + 0.3 * t_meV, 20001)
    e = e[(e > 2 * t_meV) & (e < 6 * t_meV)]
    trans = _chain_transmission(e, U_meV, sites_between, t_meV)
    from scipy.signal import find_peaks
    peaks, _ = find_peaks(trans)
    peak = peaks[np.argmin(np.abs(e[peaks] - near_meV))]
    fine = np.linspace(e[peak] - 0.02 * t_meV, e[peak] + 0.02 * t_meV, 40001)
    tf = _chain_transmission(fine, U_meV, sites_between, t_meV)
    top = fine[np.argmax(tf)]
    above = fine[tf >= tf.max() / 2]
    return float(top), float(above.max() - above.min())


# ---------------------------------------------------------------- contrast
def _contrast(args) -> int:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .analysis import find_plateaus
    from .coulomb import DotModel, conductance_vs_gate
    from .geometry import load_geometry
    from .plotting import _save
    from .sweep import sweep

    qpc = load_geometry("qpc_split_gate")
    gates = np.linspace(-1.5, -0.5, args.points)
    qpc_result = sweep(qpc, {"Vg": gates}, energy=8.0, progress=False)
    g_qpc = qpc_result.conductance.values
    plateaus = find_plateaus(gates, g_qpc)

    dot = load_geometry("quantum_dot")
    energy = 8.0
    plunger = np.linspace(-0.06, 0.06, args.points * 3)
    _, g_dot = resonance_scan(dot, plunger, energy, workers=None)
    from scipy.signal import find_peaks
    peaks, _ = find_peaks(g_dot, prominence=0.05)

    levels = closed_dot_levels(dot)
    alpha = dot.defaults["alpha"]
    gamma = 1e-3   # meV per lead, sequential regime, for the Coulomb panel
    model = DotModel(levels[:6] - levels[0], gamma, gamma, charging_energy=args.charging_energy,
                     alpha=alpha)
    cb_gates = np.linspace(0.0, 4 * (args.charging_energy + 1.0) / (1e3 * alpha), 600)
    cb = conductance_vs_gate(model, cb_gates, args.temperature)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    axes[0].plot(gates, g_qpc)
    for n in range(0, int(np.ceil(g_qpc.max())) + 1):
        axes[0].axhline(n, color="0.8", lw=0.7, zorder=0)
    axes[0].set(xlabel="Vg (V)", ylabel=r"$G$ ($2e^2/h$)", title="QPC: plateaus at n G0")
    axes[1].plot(plunger, g_dot, color="C1")
    axes[1].set(xlabel="Vp (V)", ylabel=r"$G$ ($2e^2/h$)",
                title="dot, non-interacting: resonances")
    axes[2].plot(cb_gates, cb.conductance, color="C2")
    axes[2].set(xlabel="Vg (V)", ylabel=r"$G$ ($2e^2/h$)",
                title=f"dot, E_C = {args.charging_energy:g} meV, T = {args.temperature:g} K")
    print("QPC plateaus (G/G0): " + ", ".join(f"{p.value:.4f}" for p in plateaus))
    print("dot resonance peaks (G/G0): " + ", ".join(f"{g_dot[i]:.3f}" for i in peaks)
          + " at Vp = " + ", ".join(f"{plunger[i]:.4f}" for i in peaks) + " V")
    print(f"Coulomb-blockade peaks (G/G0): max {cb.conductance.max():.2e}: set by Gamma/kT, "
          "not quantized")
    print(f"wrote {_save(fig, args.out)}")
    return 0


def register_cli(sub) -> None:
    p = sub.add_parser("contrast", help="QPC plateaus vs quantum-dot peaks, one figure")
    p.add_argument("--points", type=int, default=61, help="QPC gate points (dot: 3x)")
    p.add_argument("--charging-energy", type=float, default=2.0, help="E_C of the dot (meV)")
    p.add_argument("--temperature", type=float, default=0.5, help="temperature (K)")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.set_defaults(func=_contrast)
