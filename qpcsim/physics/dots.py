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
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.optimize

from .. import validate as _validate
from ..engine import sweep
from .coulomb import DotModel

__all__ = ["resonance_scan", "closed_dot_levels", "plunger_lever_arm", "BreitWigner",
           "fit_breit_wigner", "Resonance", "ResonanceScan", "find_resonances", "coulomb_model",
           "double_barrier_chain_width"]


def resonance_scan(device, plunger_V, energy_meV: float, workers: int | None = 1, **params):
    """(Vp, G/G0) of a dot device over plunger voltages (V) at ``energy_meV`` (meV)."""
    result = sweep(device, {"Vp": np.asarray(plunger_V, dtype=float)}, energy=energy_meV,
                   workers=workers, progress=False, **params)
    return result["Vp"].values, result.conductance.values


def closed_dot_levels(device, count: int = 8, **params) -> np.ndarray:
    """Lowest ``count`` levels (meV) of the closed dot.

    The scattering region's Kwant Hamiltonian (with its potential at ``params``;
    leads not included) restricted to the sites with |x| < D/2, i.e. hard walls
    at the two barrier maxima: the dot is closed however low the barriers are,
    and a resonance of the open dot sits where one of these levels meets E_F
    (shifted by a fraction of its width by the coupling). Sparse shift-invert
    Lanczos (``scipy.sparse.linalg.eigsh``) just below the spectrum.
    """
    import scipy.sparse.linalg
    count = int(_validate.in_range("count", count, 1, 500))
    fsyst = device.build()
    resolved = device.resolve_params(params)
    ham = fsyst.hamiltonian_submatrix(params=resolved, sparse=True).tocsr()
    x, _ = device.site_positions_nm()
    D = device.metadata.make_device["D"]
    inside = np.flatnonzero(np.abs(x) < D / 2)
    sub = ham[inside][:, inside].tocsc()
    if not np.any(sub.data.imag):          # B = 0: real symmetric, ~10x faster in ARPACK
        sub = sub.real.tocsc()
    if count >= sub.shape[0] - 1:
        return np.linalg.eigvalsh(sub.toarray())[:count] * device.t
    sigma = float(sub.diagonal().real.min()) - 4.0 - 1e-3      # below the whole spectrum
    vals = scipy.sparse.linalg.eigsh(sub, k=count, sigma=sigma, which="LM",
                                     return_eigenvectors=False)
    return np.sort(vals.real) * device.t


@dataclass
class BreitWigner:
    """Lorentzian fit G = height (Gamma/2)^2 / ((x - x0)^2 + (Gamma/2)^2).

    ``position`` and ``width`` (FWHM) are in the units of x (V for a plunger scan,
    meV for an energy scan); ``height`` in the units of G (G0 or transmission);
    ``residual`` is the largest absolute deviation of the data from the fit.
    """

    position: float
    width: float
    height: float
    residual: float


def fit_breit_wigner(x, g) -> BreitWigner:
    """Least-squares Breit-Wigner (Lorentzian) fit of an isolated resonance.

    Parameters
    ----------
    x : array_like
        Energy (meV) or gate voltage (V); the window should cover a few FWHM.
    g : array_like
        Conductance (G0) or transmission at ``x``.
    """
    x = np.asarray(x, dtype=float)
    g = np.asarray(g, dtype=float)
    if x.size < 5 or x.shape != g.shape:
        raise ValueError("fit_breit_wigner needs x and g of equal length, at least 5 points")
    i = int(np.argmax(g))
    half = x[g > g[i] / 2]
    guess = [x[i], max(half.max() - half.min(), np.min(np.diff(np.sort(x)))), g[i]]

    def lorentz(xx, x0, width, height):
        return height * (width / 2) ** 2 / ((xx - x0) ** 2 + (width / 2) ** 2)

    popt, _ = scipy.optimize.curve_fit(lorentz, x, g, p0=guess)
    residual = float(np.abs(lorentz(x, *popt) - g).max())
    return BreitWigner(float(popt[0]), abs(float(popt[1])), float(popt[2]), residual)


def plunger_lever_arm(device, dV: float = 0.01, near_meV: float | None = None, **params) -> float:
    """Shift of the closed dot's levels per volt on the plunger, -dE_k/dVp (meV/V).

    Measured on the closed-dot spectrum (:func:`closed_dot_levels`) by a finite
    difference of ``dV`` (V), for the level nearest ``near_meV`` (meV; default
    the lowest). It is 1000 alpha when the level lives entirely under the plunger
    and a little less otherwise (the wave function leaks into the barriers).
    """
    p0 = {**params, "Vp": params.get("Vp", device.defaults.get("Vp", 0.0))}
    e0 = closed_dot_levels(device, **p0)
    e1 = closed_dot_levels(device, **{**p0, "Vp": p0["Vp"] + dV})
    k = 0 if near_meV is None else int(np.argmin(np.abs(e0 - near_meV)))
    return float(-(e1[k] - e0[k]) / dV)


@dataclass
class Resonance:
    """One resonant-tunnelling peak of the non-interacting dot.

    Attributes
    ----------
    plunger_V : float
        Peak position (V).
    level_meV : float
        Energy of the level relative to the Fermi energy at the device's default
        plunger voltage, ``lever * (plunger_V - Vp_default)`` (meV).
    width_meV : float
        Level width Gamma = Gamma_L + Gamma_R, the Breit-Wigner FWHM in energy (meV).
    height : float
        Peak conductance (G0): 4 Gamma_L Gamma_R / Gamma^2, 1 only for symmetric barriers.
    gamma_left_meV, gamma_right_meV : float
        Partial widths (meV) from the height; the larger one is put on the side of
        the lower barrier (left unless the geometry's ``asymmetry`` < 0).
    fit : BreitWigner
        The fit in plunger units (V).
    """

    plunger_V: float
    level_meV: float
    width_meV: float
    height: float
    gamma_left_meV: float
    gamma_right_meV: float
    fit: BreitWigner


@dataclass
class ResonanceScan:
    """G(Vp) of the non-interacting dot with its fitted resonances.

    ``plunger_V``/``conductance`` hold the coarse grid merged with the fine scans
    around each peak (sorted); ``lever_meV_per_V`` converts plunger widths into
    energies; ``warnings`` says when the dot is too open for a peak analysis.
    """

    plunger_V: np.ndarray
    conductance: np.ndarray
    energy_meV: float
    lever_meV_per_V: float
    resonances: list
    warnings: list


def _zoom_on_peak(device, centre, half, energy_meV, workers, points, params):
    """Scan +-``half`` (V) around ``centre``, recentre on the maximum and zoom in until
    the peak is resolved (>= 7 of ``points`` above half maximum, window ~ +-3 FWHM)."""
    xs, gs = [], []
    for _ in range(10):
        vf, gf = resonance_scan(device, centre + np.linspace(-half, half, points), energy_meV,
                                workers=workers, **params)
        xs.append(vf)
        gs.append(gf)
        i = int(np.argmax(gf))
        above = int(np.count_nonzero(gf >= 0.5 * gf[i]))
        if 7 <= above <= points // 2 and 0 < i < points - 1:
            return vf, gf
        centre = vf[i]
        step = vf[1] - vf[0]
        if above > points // 2:
            half *= 3.0
        elif 0 < i < points - 1:
            half = max(2.0 * step, half * 0.02) if above < 3 else half * 0.4
    return xs[-1], gs[-1]


def find_resonances(device, plunger_V, energy_meV: float, workers: int | None = 1,
                    prominence: float = 0.01, fine_points: int = 41, **params) -> ResonanceScan:
    """Resonant-tunnelling peaks of a dot and their Breit-Wigner widths.

    Parameters
    ----------
    device : qpcsim.Device
        A ``quantum_dot`` device (or any device with a plunger parameter ``Vp``).
    plunger_V : array_like
        Coarse plunger grid (V); peaks narrower than its step are still found if
        they rise above ``prominence`` (G0) on it.
    energy_meV : float
        Fermi energy (meV).
    workers : int, optional
        Processes for the scans (default 1: a dot solves in ~4 ms, so the ~41-point
        fine scans are faster serially than with a process pool; None = all cores).
    fine_points : int
        Points of the fine scan (+- one coarse step) around each peak that is fitted.
    **params
        Other runtime parameters of the device (e.g. ``V_barrier``, ``asymmetry``).

    Returns
    -------
    ResonanceScan
        Gamma (meV) of each peak = FWHM (V) x the plunger lever arm (meV/V).
    """
    from scipy.signal import find_peaks
    notes = []
    merged = {**device.defaults, **params}
    vb = merged.get("V_barrier")
    if vb is not None and vb <= energy_meV:
        notes.append(f"V_barrier = {vb:g} meV <= E_F = {energy_meV:g} meV: the barriers do not "
                     "pinch off, the dot is open (no isolated resonances; the orthodox "
                     "Coulomb-blockade model does not apply)")
    vp, g = resonance_scan(device, plunger_V, energy_meV, workers=workers, **params)
    lever = plunger_lever_arm(device, near_meV=energy_meV, **params)
    vp0 = merged.get("Vp", 0.0)
    asym = merged.get("asymmetry", 0.0)
    # candidates: the closed dot's levels crossing E_F inside the plunger range (peaks may
    # be far narrower than the grid), plus any peak the coarse grid itself shows
    levels = closed_dot_levels(device, count=12, **params)
    predicted = vp0 + (levels - energy_meV) / lever
    spacing = np.diff(levels)
    candidates = []
    for k, v in enumerate(predicted):
        if vp.min() <= v <= vp.max():
            near = [s for s in (spacing[k - 1] if k > 0 else None,
                                spacing[k] if k < spacing.size else None) if s is not None]
            candidates.append((v, 0.15 * min(near) / lever))
    for i in find_peaks(g, prominence=prominence)[0]:
        if all(abs(vp[i] - c) > 2 * w for c, w in candidates):
            step = float(np.min(np.diff(vp)))
            candidates.append((vp[i], step))
    resonances, xs, gs = [], [vp], [g]
    for centre, half in sorted(candidates):
        vf, gf = _zoom_on_peak(device, centre, half, energy_meV, workers, fine_points, params)
        xs.append(vf)
        gs.append(gf)
        if gf.max() < prominence:
            continue
        try:
            fit = fit_breit_wigner(vf, gf)
        except RuntimeError:
            continue
        gamma = fit.width * lever
        h = min(fit.height, 1.0)
        big = 0.5 * gamma * (1 + math.sqrt(1 - h))
        small = 0.5 * gamma * (1 - math.sqrt(1 - h))
        left, right = (big, small) if asym >= 0 else (small, big)
        resonances.append(Resonance(fit.position, lever * (fit.position - vp0), gamma,
                                    fit.height, left, right, fit))
    widths = np.array([r.width_meV for r in resonances])
    if len(resonances) > 1:
        spacing = np.min(np.diff([r.level_meV for r in resonances]))
        if widths.max() > 0.3 * abs(spacing):
            notes.append(f"level width Gamma = {widths.max():.3g} meV is not << the level spacing "
                         f"{abs(spacing):.3g} meV: the dot is open (peaks overlap; the orthodox "
                         "model does not apply)")
    elif vb is None or vb > energy_meV:
        if g.size and g.min() > 0.3:
            notes.append("no isolated peaks and G never drops below 0.3 G0: the dot is open")
    for note in notes:
        warnings.warn(note, stacklevel=2)
    x = np.concatenate(xs)
    order = np.argsort(x, kind="stable")
    return ResonanceScan(x[order], np.concatenate(gs)[order], float(energy_meV), lever,
                         resonances, notes)


def coulomb_model(scan: ResonanceScan, charging_energy: float, beta_left: float | None = None):
    """The constant-interaction model of a dot whose levels and widths were computed.

    Parameters
    ----------
    scan : ResonanceScan
        From :func:`find_resonances`: levels E_p = ``level_meV`` (relative to E_F)
        and tunnel widths Gamma_p^{L,R} (meV) of each fitted peak.
    charging_energy : float
        E_C = e^2/C (meV).
    beta_left : float, optional
        C_L/C; default (1 - alpha)/2 (symmetric leads).

    Returns
    -------
    qpcsim.coulomb.DotModel
        With lever arm alpha = lever / (1000 meV/V), so its gate is the same
        plunger voltage (V) as the tight-binding scan.
    """
    if not scan.resonances:
        raise ValueError("the scan has no fitted resonances: widen the plunger range or "
                         "raise the barriers")
    alpha = scan.lever_meV_per_V / 1000.0
    beta = 0.5 * (1 - alpha) if beta_left is None else beta_left
    res = scan.resonances
    return DotModel([r.level_meV for r in res], [r.gamma_left_meV for r in res],
                    [r.gamma_right_meV for r in res], charging_energy=charging_energy,
                    alpha=alpha, beta_left=beta)


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
