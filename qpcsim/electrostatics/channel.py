"""Numbers an experimentalist reads off a gated 2DEG: density at the constriction,
the saddle point of U, the channel width at E_F and the effective lever arm."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import find_steps
from .thomas_fermi import ElectrostaticsResult

__all__ = ["ChannelSummary", "channel_band_halfwidth", "saddle_point", "channel_width_nm",
           "channel_summary", "SweepFigures", "sweep_figures"]


@dataclass
class ChannelSummary:
    """Constriction figures of one Thomas–Fermi solution (units in the names)."""

    centre_nm: tuple
    density_centre_cm2: float
    potential_centre_meV: float
    saddle_nm: tuple
    saddle_meV: float
    width_at_fermi_nm: float
    fermi_energy_meV: float
    lever_meV_per_V: float | None = None
    bare_lever_meV_per_V: float | None = None

    @property
    def lever_arm(self) -> float | None:
        """dU_saddle/dV_g over the unscreened bare value: the factor qpc_split_gate guesses."""
        if self.lever_meV_per_V is None or not self.bare_lever_meV_per_V:
            return None
        return self.lever_meV_per_V / self.bare_lever_meV_per_V

    def report(self) -> str:
        xc, yc = self.centre_nm
        state = "open" if self.saddle_meV < self.fermi_energy_meV else "pinched off"
        lines = [
            f"E_F = n_s/rho = {self.fermi_energy_meV:.3f} meV (the transport energy)",
            (f"constriction centre ({xc:g}, {yc:g}) nm: n = {self.density_centre_cm2:.4g} "
             f"cm^-2, U = {self.potential_centre_meV:.3f} meV"),
            (f"saddle point ({self.saddle_nm[0]:.1f}, {self.saddle_nm[1]:.1f}) nm: "
             f"U = {self.saddle_meV:.3f} meV ({state} in Thomas-Fermi)"),
            f"channel width at E_F (across, through the saddle): {self.width_at_fermi_nm:.1f} nm",
        ]
        if self.lever_meV_per_V is not None:
            lines.append(
                f"effective lever arm: dU_saddle/dV_g = {self.lever_meV_per_V:.3f} meV/V; bare "
                f"(unscreened) {self.bare_lever_meV_per_V:.3f} meV/V; ratio "
                f"{self.lever_arm:.4f} (qpc_split_gate guesses lever_arm = 0.1)")
        return "\n".join(lines)


def channel_band_halfwidth(layout, centre_nm=(0.0, 0.0), window_nm=None) -> float:
    """Half-width (nm) of the band |y - yc| in which the saddle is sought: out to the
    farther of the nearest gate edges above and below the centre on the line x = xc."""
    xc, yc = centre_nm
    _, _, y0, y1 = window_nm if window_nm is not None else layout.bounds_nm()
    ys = np.linspace(y0, y1, 4001)
    under = np.zeros(ys.shape, dtype=bool)
    for gate in layout.gates:
        under |= gate.contains(np.full(ys.shape, xc), ys)
    above = ys[(ys > yc) & under]
    below = ys[(ys < yc) & under]
    dists = [d for d in ((above.min() - yc) if above.size else None,
                         (yc - below.max()) if below.size else None) if d is not None]
    return float(max(dists)) if dists else 0.25 * (y1 - y0)


def saddle_point(result: ElectrostaticsResult, centre_nm=(0.0, 0.0),
                 halfwidth_nm: float | None = None):
    """Saddle of U: the maximum along x of the minimum across the band |y - yc| <= halfwidth.

    Returns
    -------
    (x_nm, y_nm, U_meV)
    """
    yc = centre_nm[1]
    if halfwidth_nm is None:
        halfwidth_nm = channel_band_halfwidth(result.layout, centre_nm, result.window_nm)
    band = np.abs(result.y_nm - yc) <= halfwidth_nm
    if not band.any():
        band = np.abs(result.y_nm - yc) == np.abs(result.y_nm - yc).min()
    u = result.potential_grid_meV[:, band]
    jmin = np.argmin(u, axis=1)
    column_min = u[np.arange(u.shape[0]), jmin]
    i = int(np.argmax(column_min))
    return float(result.x_nm[i]), float(result.y_nm[band][jmin[i]]), float(column_min[i])


def channel_width_nm(result: ElectrostaticsResult, x_nm: float, y_nm: float) -> float:
    """Width (nm) along y, through (x, y), of the region where U < E_F (n > 0); 0 if depleted."""
    ef = result.fermi_energy_meV
    ys = np.linspace(result.window_nm[2], result.window_nm[3], 8001)
    u = result.potential_meV(np.full(ys.shape, x_nm), ys) - ef
    k = int(np.argmin(np.abs(ys - y_nm)))
    if u[k] >= 0:
        return 0.0
    hi = k
    while hi + 1 < ys.size and u[hi + 1] < 0:
        hi += 1
    lo = k
    while lo > 0 and u[lo - 1] < 0:
        lo -= 1

    def cross(i, j):   # linear zero between samples i (u < 0) and j (u >= 0)
        return ys[i] + (ys[j] - ys[i]) * u[i] / (u[i] - u[j])
    top = cross(hi, hi + 1) if hi + 1 < ys.size else ys[-1]
    bottom = cross(lo, lo - 1) if lo > 0 else ys[0]
    return float(top - bottom)


def channel_summary(result: ElectrostaticsResult, centre_nm=(0.0, 0.0), *, problem=None,
                    dV: float = 0.01, halfwidth_nm: float | None = None) -> ChannelSummary:
    """Constriction figures of ``result``; with ``problem`` (its ThomasFermiProblem) also the
    effective lever arm dU_saddle/dV_g, from a second solve with every gate shifted by ``dV`` (V).
    """
    xc, yc = (float(v) for v in centre_nm)
    xs, ys, us = saddle_point(result, (xc, yc), halfwidth_nm)
    out = ChannelSummary(
        centre_nm=(xc, yc), density_centre_cm2=float(result.density_cm2(xc, yc)),
        potential_centre_meV=float(result.potential_meV(xc, yc)), saddle_nm=(xs, ys),
        saddle_meV=us, width_at_fermi_nm=channel_width_nm(result, xs, ys),
        fermi_energy_meV=result.fermi_energy_meV)
    if problem is not None:
        shifted = {n: v + dV for n, v in result.voltages.items()}
        other = problem.solve(shifted, initial=result, tolerance_meV=result.tolerance_meV,
                              check_window=False)
        out.lever_meV_per_V = (saddle_point(other, (xc, yc), halfwidth_nm)[2] - us) / dV
        phi = sum(problem.gate_phi.values())
        i = int(np.argmin(np.abs(result.x_nm - xs)))
        j = int(np.argmin(np.abs(result.y_nm - ys)))
        out.bare_lever_meV_per_V = float(-1000.0 * phi[i, j])
    return out


@dataclass
class SweepFigures:
    """What an experimentalist compares first: where the QPC pinches off and how far apart
    (in gate volts) its plateaus are.

    Attributes
    ----------
    pinch_off_V : float
        Gate voltage where G first rises through 0.5 G0 (V); NaN if it never does.
    step_positions_V : list of float
        Where G crosses n - 1/2 for n = 1, 2, ... (V).
    plateau_spacing_V : float
        Mean distance between consecutive step positions (V); NaN with fewer than two steps.
    """

    pinch_off_V: float
    step_positions_V: list
    plateau_spacing_V: float

    def line(self, label: str) -> str:
        steps = ", ".join(f"{v:.3f}" for v in self.step_positions_V[:5])
        return (f"{label:<16s} pinch-off (G = 0.5 G0) at {self.pinch_off_V:.3f} V, plateau "
                f"spacing {self.plateau_spacing_V:.3f} V (steps at {steps} V)")


def sweep_figures(gate_V, conductance) -> SweepFigures:
    """Pinch-off voltage and plateau spacing of a trace G(V_g) (V, G0)."""
    steps = find_steps(gate_V, conductance)
    pos = [s.position for s in steps]
    spacing = float(np.mean(np.abs(np.diff(pos)))) if len(pos) >= 2 else float("nan")
    return SweepFigures(pinch_off_V=pos[0] if pos else float("nan"), step_positions_V=pos,
                        plateau_spacing_V=spacing)
