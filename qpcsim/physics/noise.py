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
from ..spectral.grid import fermi
from ..units import E_CHARGE, H_PLANCK, K_BOLTZMANN_MEV, thermal_energy_meV

__all__ = ["NoiseResult", "fano_factor", "noise"]

_MEV_J = 1e-3 * E_CHARGE
#: Half-width (in kT) of each lead's Fermi window that the spectrum must cover off its own
#: thermal sums: the tail beyond carries exp(-12) = 6e-6 of the occupation (measured: the
#: Johnson-Nyquist noise of a saddle within 3e-6 at the limit; 5e-5 at 10 kT).
_FERMI_REACH_KT = 12.0


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
    # Off the grid's own thermal sums, the integrals use T(E) on the window only (its
    # interpolant held constant beyond): both leads' Fermi tails must fit in it, except below
    # the first lead mode, where no current flows and the grid's own window stops.
    low = mu - abs(bias) / 2 - _FERMI_REACH_KT * kT
    high = mu + abs(bias) / 2 + _FERMI_REACH_KT * kT
    if not on_grid and ((low < lo - 1e-9 and spectrum.grid.lower < low) or high > hi + 1e-9):
        raise ValueError(
            f"temperature={temperature:g} K is not allowed with this spectrum: at bias={bias:g} mV "
            f"the leads' Fermi windows (+-{_FERMI_REACH_KT:g} kT) span [{low:.4g}, {high:.4g}] meV, "
            f"beyond its energy window [{lo:.4g}, {hi:.4g}] meV (built for "
            f"{list(spectrum.grid.temperatures)} K); build the spectrum with this temperature")
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
