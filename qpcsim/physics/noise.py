"""Zero-frequency current noise of a two-terminal conductor (thermal + shot).

Blanter & Büttiker, Phys. Rep. 336, 1 (2000), eq. (61):

    S = g_s (2 e^2 / h) int dE { sum_n T_n [f_L (1 - f_L) + f_R (1 - f_R)]
                                 + sum_n T_n (1 - T_n) (f_L - f_R)^2 },

with mu_L,R = mu +- eV/2 and g_s = 2 (spin-degenerate channels) or 1 (spins
resolved). At V = 0 it is the Johnson-Nyquist noise 4 k_B T G; at T = 0 the
shot noise 2 e I F with the Fano factor F = sum T_n (1 - T_n) / sum T_n; for
energy-independent T_n the crossover is
S = g_s (2e^2/h) [2 k_B T sum T_n^2 + sum T_n (1 - T_n) eV coth(eV / 2 k_B T)].
All integrals run over a :class:`~qpcsim.spectral.Spectrum`: no new solves.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..spectral.data import Spectrum
from ..spectral.grid import DEFAULT_BIAS_PANEL, DEFAULT_RESOLUTION, TRAPEZOID_STEP, fermi
from ..units import E_CHARGE, H_PLANCK, K_BOLTZMANN_MEV, thermal_energy_meV

__all__ = ["NoiseResult", "fano_factor", "noise"]

_MEV_J = 1e-3 * E_CHARGE
#: Half-width (in kT) of each lead's Fermi window that a spectrum must cover off its own
#: thermal sums (a bias, or a temperature it was not built for): there the integrals use the
#: interpolant of T(E), held constant beyond the window. Nodal grids (trapezoid ladders, which
#: reach 10 kT, and refined ones) 9 kT; Gauss bias grids 12 kT. Measured on a Büttiker saddle
#: (300 cases within these reaches, mu 6.5-9.5 meV, grids at 0.5-4 K, bias 0-0.2 mV): at
#: most 1.3e-4 relative.
_FERMI_REACH_KT = {"trapezoid": 9.0, "refined": 9.0, "gauss": 12.0}


def _node_spacing_error(grid, kT: float, low: float, high: float) -> str | None:
    """Why ``grid``'s interpolant does not resolve T(E) for a kernel of width kT over
    [low, high] (meV), or None. Nodal grids need the node spacing a spectrum built for this
    temperature would have (<= 1.25 kT and <= 0.15 meV): a 1 K ladder gave 0.5 K 7.6e-3 off
    on a saddle with hbar w_x = 0.3 meV. Gauss grids need panels <= DEFAULT_BIAS_PANEL (a
    bias grid's): the 2.3 meV panels of a 4 K thermal grid gave 2 K 7e-3 off, 2.4e-2 at most."""
    if grid.rule == "gauss":
        widest = float(np.max(np.diff(grid.edges)))
        if widest > DEFAULT_BIAS_PANEL * (1 + 1e-9):
            return f"its panels (up to {widest:.3g} meV) do not resolve T(E) between nodes"
        return None
    nodes = grid.nodes[(grid.nodes >= low) & (grid.nodes <= high)]
    need = min(DEFAULT_RESOLUTION, TRAPEZOID_STEP * kT) if kT > 0 else DEFAULT_RESOLUTION
    spacing = float(np.max(np.diff(nodes))) if nodes.size > 1 else np.inf
    if spacing > need * (1 + 1e-9):
        return (f"its nodes ({spacing:.3g} meV apart) do not resolve T(E) for this temperature "
                f"(<= {need:.3g} meV)")
    return None


def fano_factor(eigenvalues) -> float:
    """F = sum T_n (1 - T_n) / sum T_n of transmission eigenvalues (dimensionless); NaN when
    nothing is transmitted."""
    t = np.asarray(eigenvalues, dtype=float)
    t = t[np.isfinite(t)]
    total = float(np.sum(t))
    if total <= 0:
        return float("nan")
    return float(np.sum(t * (1.0 - t)) / total)


@dataclass(frozen=True)
class NoiseResult:
    """Noise at one (temperature, bias).

    Attributes
    ----------
    temperature : float
        K.
    bias : float
        Source-drain bias V_sd (mV).
    noise : float
        Total zero-frequency noise S (A^2/Hz), Blanter-Büttiker convention (S = 2eI at F = 1).
    thermal : float
        The f(1 - f) terms (A^2/Hz): 4 k_B T G at V = 0.
    shot : float
        The sum T_n (1 - T_n) (f_L - f_R)^2 term (A^2/Hz).
    current : float
        Current I (A).
    fano : float
        Effective Fano factor S_shot / (2 e |I|) (dimensionless; NaN at V = 0).
    johnson_nyquist : float
        4 k_B T G with the linear conductance at this temperature (A^2/Hz).
    """

    temperature: float
    bias: float
    noise: float
    thermal: float
    shot: float
    current: float
    fano: float
    johnson_nyquist: float


def noise(spectrum, temperature: float, bias: float = 0.0) -> NoiseResult:
    """Zero-frequency noise from spectral data at ``temperature`` (K) and ``bias`` (mV).

    Symmetric bias: mu_L,R = mu +- eV/2 around the spectrum's Fermi energy.
    At V = 0 and a temperature the grid was built for, the Gauss-Legendre node
    sums are used; otherwise the spectrum's interpolant on a sub-quadrature
    cut at mu_L, mu_R.
    """
    spectrum = Spectrum.checked(spectrum)
    temperature = _validate.non_negative("temperature", temperature, "K")
    bias = _validate.real_number("bias", bias, "mV")
    kT = thermal_energy_meV(temperature)
    mu = spectrum.grid.mu
    lo, hi = spectrum.grid.window
    if mu - abs(bias) / 2 < lo - 1e-9 or mu + abs(bias) / 2 > hi + 1e-9:
        raise ValueError(f"bias={bias:g} mV is not allowed: the bias window leaves the spectrum's "
                         f"energy window [{lo:.4g}, {hi:.4g}] meV; build it with bias >= {abs(bias):g}")
    if kT == 0 and bias == 0:
        raise ValueError("temperature=0 K and bias=0 mV: the noise vanishes identically; give a "
                         "temperature or a bias")
    g_s = 2.0 if spectrum.spin_degenerate else 1.0
    prefactor = g_s * 2 * E_CHARGE**2 / H_PLANCK * _MEV_J      # A^2/Hz per (meV of integral)
    mu_l, mu_r = mu + bias / 2, mu - bias / 2
    on_grid = bias == 0 and any(t > 0 for t in spectrum.grid.temperatures)
    if on_grid:
        try:
            spectrum.check_temperature(temperature)
        except ValueError:
            on_grid = False
    if not on_grid:
        _check_off_grid(spectrum, temperature, bias, kT)
    if on_grid:
        # f(1-f) = kT (-df/dE): thermal = 2 kT int T (-df/dE)
        thermal_int = 2 * kT * spectrum.thermal("transmission", temperature)
        shot_int, current_int = 0.0, 0.0
    else:
        def occupation(e):
            fl, fr = fermi(e, mu_l, kT), fermi(e, mu_r, kT)
            return fl * (1 - fl) + fr * (1 - fr)

        def window(e):
            return (fermi(e, mu_l, kT) - fermi(e, mu_r, kT)) ** 2

        def difference(e):
            return fermi(e, mu_l, kT) - fermi(e, mu_r, kT)
        scale = kT if kT > 0 else None
        cuts = (mu_l, mu_r)
        thermal_int = spectrum.integrate("transmission", occupation, cuts, scale) if kT else 0.0
        shot_int = spectrum.integrate("noise_sum", window, cuts, scale)
        current_int = spectrum.integrate("transmission", difference, cuts, scale)
    current = g_s * E_CHARGE / H_PLANCK * current_int * _MEV_J       # A
    thermal_s, shot_s = prefactor * thermal_int, prefactor * shot_int
    fano = shot_s / (2 * E_CHARGE * abs(current)) if current != 0 else float("nan")
    if kT > 0:
        try:
            g_lin = spectrum.thermal("transmission", temperature)
        except ValueError:
            g_lin = spectrum.integrate(
                "transmission", lambda e: 1.0 / (4 * kT * np.cosh((e - mu) / (2 * kT)) ** 2),
                (mu,), kT)
        jn = 4 * K_BOLTZMANN_MEV * temperature * _MEV_J * g_s * E_CHARGE**2 / H_PLANCK * g_lin
    else:
        jn = 0.0
    return NoiseResult(temperature, bias, thermal_s + shot_s, thermal_s, shot_s, current, fano, jn)


def _check_off_grid(spectrum, temperature: float, bias: float, kT: float) -> None:
    """Refuse a point off the spectrum's own thermal sums that its interpolant cannot give to
    ~1e-4: a grid that does not resolve T(E) for this temperature, or leads' Fermi windows
    that leave its energy window (except below the first lead mode, where no current flows
    and the grid's own window stops). A 1 K spectrum gave the noise at 10 K 4.7 % low."""
    grid = spectrum.grid
    build = (f"build the spectrum for temperature={temperature:g} K and bias={abs(bias):g} mV "
             "(qpcsim.spectrum(device, energy, temperature, bias=...))")
    reach = _FERMI_REACH_KT.get(grid.rule, 12.0)
    lo, hi = grid.window
    low = grid.mu - abs(bias) / 2 - reach * kT
    high = grid.mu + abs(bias) / 2 + reach * kT
    # the window stops at the first lead mode (a ladder: at its first node above it)
    step = float(grid.nodes[1] - grid.nodes[0]) if grid.rule != "gauss" else 0.0
    cut = grid.lower > lo - step - 1e-9
    if (low < lo - 1e-9 and not cut) or high > hi + 1e-9:
        raise ValueError(
            f"temperature={temperature:g} K, bias={bias:g} mV are not allowed with this "
            f"spectrum: the leads' Fermi windows (+-{reach:g} kT) span [{low:.4g}, {high:.4g}] "
            f"meV, beyond its energy window [{lo:.4g}, {hi:.4g}] meV; {build}")
    why = _node_spacing_error(grid, kT, max(low, lo), min(high, hi))
    if why is not None:
        raise ValueError(f"temperature={temperature:g} K, bias={bias:g} mV are not allowed with "
                         f"this spectrum (built for {list(grid.temperatures)} K): {why}; {build}")
