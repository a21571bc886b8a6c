"""Thermoelectric linear response from the exact Onsager integrals.

With L_k = int T(E) (E - mu)^k (-df/dE) dE (meV^k) over the spectral data of
one gate point (Sivan & Imry, PRB 33, 551 (1986); Butcher, J. Phys.:
Condens. Matter 2, 4869 (1990)), g_s = 2 or 1 (spins resolved), e > 0:

* G = g_s (e^2/h) L_0;
* thermopower S = -L_1 / (e T L_0) (negative for electron-like transport,
  T(E) increasing);
* electronic thermal conductance at zero current
  kappa = g_s (1/(h T)) (L_2 - L_1^2 / L_0), quantized on a plateau of N
  spin-degenerate channels at 2 N kappa_0, kappa_0 = pi^2 k_B^2 T / (3h);
* Lorenz ratio L/L_0 = kappa / (G T) / (pi^2 k_B^2 / 3 e^2) -> 1 on plateaus;
* Peltier coefficient Pi = S T.

The Mott formula S_Mott = -(pi^2 k_B^2 T / 3e) d ln T(E)/dE at mu is given
alongside (it holds when T(E) varies slowly on the scale k_B T); between
plateaus of sharp steps Streda's peak (k_B/e) ln 2 / (n + 1/2) is reached
instead (Streda, J. Phys.: Condens. Matter 1, 1025 (1989)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..spectral.data import Spectrum
from ..units import E_CHARGE, H_PLANCK

__all__ = [
    "KAPPA0_PER_KELVIN",
    "LORENZ_NUMBER",
    "ThermoelectricResult",
    "streda_peak",
    "thermoelectric",
]

_KB = 1.380649e-23              # J/K (exact)
_MEV_J = 1e-3 * E_CHARGE
#: kappa_0 / T = pi^2 k_B^2 / (3h) (W/K^2), per spin channel.
KAPPA0_PER_KELVIN = math.pi**2 * _KB**2 / (3 * H_PLANCK)
#: Sommerfeld value L_0 = pi^2 k_B^2 / (3 e^2) (W Ohm / K^2).
LORENZ_NUMBER = math.pi**2 * _KB**2 / (3 * E_CHARGE**2)


def streda_peak(n: int) -> float:
    """Streda's thermopower peak (k_B/e) ln 2 / (n + 1/2) between plateaus n and n + 1 (µV/K)."""
    return _KB / E_CHARGE * math.log(2) / (n + 0.5) * 1e6


@dataclass(frozen=True)
class ThermoelectricResult:
    """Linear thermoelectric response at one temperature.

    Attributes
    ----------
    temperature : float
        K.
    conductance : float
        G (G0 = 2e^2/h).
    thermopower : float
        S (µV/K), exact Onsager integrals.
    thermopower_mott : float
        Mott's S (µV/K) from d ln T/dE at mu (T = 0 transmission).
    thermal_conductance : float
        kappa (W/K).
    thermal_conductance_quanta : float
        kappa / kappa_0 (kappa_0 = pi^2 k_B^2 T / 3h, one spin channel): 2N on a plateau of N modes.
    lorenz_ratio : float
        (kappa / G T) / L_0.
    peltier : float
        Pi = S T (mV).
    onsager : tuple
        (L_0, L_1 (meV), L_2 (meV^2)).
    """

    temperature: float
    conductance: float
    thermopower: float
    thermopower_mott: float
    thermal_conductance: float
    thermal_conductance_quanta: float
    lorenz_ratio: float
    peltier: float
    onsager: tuple


def thermoelectric(spectrum, temperature: float) -> ThermoelectricResult:
    """G, S, S_Mott, kappa, L/L0 and Pi from spectral data at ``temperature`` (K), which the
    spectrum's grid must resolve (it was built for it)."""
    Spectrum.checked(spectrum).check_temperature(temperature)
    g_s = 2.0 if spectrum.spin_degenerate else 1.0
    l0, l1, l2 = (spectrum.thermal("transmission", temperature, k) for k in range(3))
    T = float(temperature)
    if l0 <= 0:
        raise ValueError(f"no transmission within the Fermi window at T={T:g} K (pinched off): "
                         "the thermopower is undefined")
    S = -(l1 / l0) * _MEV_J / (E_CHARGE * T)                      # V/K
    kappa = g_s * (l2 - l1 * l1 / l0) * _MEV_J**2 / (H_PLANCK * T)  # W/K
    G_siemens = g_s * E_CHARGE**2 / H_PLANCK * l0
    mu = spectrum.grid.mu
    t_mu = float(spectrum.interpolate("transmission", [mu])[0])
    slope = spectrum.derivative("transmission", mu) / _MEV_J     # 1/J
    s_mott = (-(math.pi**2 / 3) * _KB**2 * T / E_CHARGE * slope / t_mu) if t_mu > 0 else math.nan
    return ThermoelectricResult(
        temperature=T, conductance=spectrum.spin_factor * l0, thermopower=S * 1e6,
        thermopower_mott=s_mott * 1e6, thermal_conductance=kappa,
        thermal_conductance_quanta=kappa / (KAPPA0_PER_KELVIN * T),
        lorenz_ratio=kappa / (G_siemens * T) / LORENZ_NUMBER, peltier=S * T * 1e3,
        onsager=(l0, l1, l2))
