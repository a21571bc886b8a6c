"""Physical constants and unit conversions: the one place where units change.

Users speak meV, nm, K, T and volts; the tight-binding core works in lattice
units (lengths in lattice constants ``a``, energies in the hopping ``t``).
Every conversion between the two goes through this module.

Constants are the exact SI values (2019 redefinition) for ``e``, ``h`` and
``k_B``, and CODATA values for ``m_e`` and ``mu_B`` as shipped by SciPy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import constants as _c

__all__ = [
    "E_CHARGE", "H_PLANCK", "HBAR", "M_ELECTRON", "K_BOLTZMANN_MEV", "MU_BOHR_MEV",
    "G0_SIEMENS", "RESISTANCE_QUANTUM_OHM", "Material", "GAAS",
    "hopping_meV", "wavevector_per_nm", "fermi_wavelength_nm", "fermi_velocity_m_per_s",
    "thermal_energy_meV", "thermal_length_nm", "flux_per_plaquette", "zeeman_energy_meV",
    "magnetic_length_nm", "cyclotron_energy_meV", "H_PLANCK_MEV_S", "HBAR_MEV_S",
    "kinetic_constant_meV_nm2", "lattice_velocity_m_per_s", "lifetime_ps", "MEV_IN_J", "NM_IN_M",
    "diffusive_thermal_length_nm",
]

E_CHARGE = _c.e                  # C (exact)
H_PLANCK = _c.h                  # J s (exact)
HBAR = _c.hbar                   # J s
M_ELECTRON = _c.m_e              # kg
K_BOLTZMANN_MEV = _c.k / _c.e * 1e3          # meV / K (exact)
MU_BOHR_MEV = _c.physical_constants["Bohr magneton in eV/T"][0] * 1e3  # meV / T

#: Conductance quantum G0 = 2e^2/h in siemens (spin-degenerate channel).
G0_SIEMENS = 2 * E_CHARGE**2 / H_PLANCK
#: 1/G0 = h/2e^2 in ohms.
RESISTANCE_QUANTUM_OHM = 1 / G0_SIEMENS

_MEV = 1e-3 * E_CHARGE           # J per meV
_NM = 1e-9                       # m per nm
#: Joules per meV and metres per nm (for the few formulas that need SI in between).
MEV_IN_J = _MEV
NM_IN_M = _NM
#: h and hbar in meV s.
H_PLANCK_MEV_S = H_PLANCK / _MEV
HBAR_MEV_S = HBAR / _MEV


@dataclass(frozen=True)
class Material:
    """Band parameters of a 2DEG host.

    Parameters
    ----------
    name : str
        Label used in metadata.
    effective_mass : float
        Conduction-band effective mass m*/m_e (dimensionless).
    g_factor : float
        Effective Landé g-factor (dimensionless); only its magnitude enters the
        Zeeman energy.
    dielectric_constant : float
        Relative permittivity (dimensionless), used by electrostatic models.
    """

    name: str = "GaAs"
    effective_mass: float = 0.067
    g_factor: float = -0.44
    dielectric_constant: float = 12.9

    def __post_init__(self):
        if not (math.isfinite(self.effective_mass) and self.effective_mass > 0):
            raise ValueError(
                f"effective_mass={self.effective_mass!r} is not allowed: it must be a "
                "positive, finite number (in units of the free electron mass m_e)")
        if not (math.isfinite(self.dielectric_constant) and self.dielectric_constant > 0):
            raise ValueError(
                f"dielectric_constant={self.dielectric_constant!r} is not allowed: "
                "it must be positive and finite")


#: GaAs/AlGaAs 2DEG: m* = 0.067 m_e, g = -0.44, eps_r = 12.9.
GAAS = Material()


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r} is not allowed: it must be positive and finite")
    return value


def hopping_meV(a_nm: float, material: Material = GAAS) -> float:
    """Tight-binding hopping t = hbar^2 / (2 m* a^2).

    Parameters
    ----------
    a_nm : float
        Lattice constant (nm).
    material : Material
        Host material (effective mass).

    Returns
    -------
    float
        Hopping energy t (meV). For GaAs and a = 5 nm, t = 22.75 meV.
    """
    a = _positive("a", a_nm) * _NM
    return HBAR**2 / (2 * material.effective_mass * M_ELECTRON * a**2) / _MEV


def wavevector_per_nm(energy_meV: float, material: Material = GAAS) -> float:
    """Continuum wavevector k = sqrt(2 m* E)/hbar (1/nm) of kinetic energy ``energy_meV`` (meV)."""
    energy = _positive("energy", energy_meV) * _MEV
    return math.sqrt(2 * material.effective_mass * M_ELECTRON * energy) / HBAR * _NM


def fermi_wavelength_nm(energy_meV: float, material: Material = GAAS) -> float:
    """Fermi wavelength lambda_F = 2 pi / k_F (nm) at Fermi energy ``energy_meV`` (meV)."""
    return 2 * math.pi / wavevector_per_nm(energy_meV, material)


def fermi_velocity_m_per_s(energy_meV: float, material: Material = GAAS) -> float:
    """Fermi velocity v_F = hbar k_F / m* (m/s) at Fermi energy ``energy_meV`` (meV)."""
    k = wavevector_per_nm(energy_meV, material) / _NM
    return HBAR * k / (material.effective_mass * M_ELECTRON)


def thermal_energy_meV(temperature_K: float) -> float:
    """k_B T (meV) at temperature ``temperature_K`` (K); zero temperature allowed."""
    temperature_K = float(temperature_K)
    if not (math.isfinite(temperature_K) and temperature_K >= 0):
        raise ValueError(
            f"temperature={temperature_K!r} K is not allowed: it must be finite and >= 0")
    return K_BOLTZMANN_MEV * temperature_K


def thermal_length_nm(energy_meV: float, temperature_K: float,
                      material: Material = GAAS) -> float:
    """Thermal length L_T = hbar v_F / (k_B T) (nm); ``inf`` at T = 0.

    Parameters
    ----------
    energy_meV : float
        Fermi energy measured from the band bottom (meV).
    temperature_K : float
        Temperature (K).
    """
    kT = thermal_energy_meV(temperature_K)
    if kT == 0:
        return math.inf
    return HBAR * fermi_velocity_m_per_s(energy_meV, material) / (kT * _MEV) / _NM


def flux_per_plaquette(B_T: float, a_nm: float) -> float:
    """Magnetic flux through one lattice plaquette, B a^2 / (h/e), dimensionless.

    Parameters
    ----------
    B_T : float
        Perpendicular magnetic field (T).
    a_nm : float
        Lattice constant (nm).
    """
    return float(B_T) * (_positive("a", a_nm) * _NM) ** 2 * E_CHARGE / H_PLANCK


def zeeman_energy_meV(B_T: float, material: Material = GAAS) -> float:
    """Zeeman splitting E_Z = |g| mu_B B (meV) at field ``B_T`` (T)."""
    return abs(material.g_factor) * MU_BOHR_MEV * abs(float(B_T))


def magnetic_length_nm(B_T: float) -> float:
    """Magnetic length l_B = sqrt(hbar / (e B)) (nm) at field ``B_T`` (T)."""
    return math.sqrt(HBAR / (E_CHARGE * _positive("B", abs(B_T)))) / _NM


def cyclotron_energy_meV(B_T: float, material: Material = GAAS) -> float:
    """Cyclotron energy hbar omega_c = hbar e B / m* (meV) at field ``B_T`` (T)."""
    return HBAR * E_CHARGE * abs(float(B_T)) / (material.effective_mass * M_ELECTRON) / _MEV


def kinetic_constant_meV_nm2(material: Material = GAAS) -> float:
    """hbar^2 / (2 m*) in meV nm^2 (569 meV nm^2 for GaAs)."""
    # Written as before the move into units.py (* 1e18, not / 1e-18): the last bit
    # of every saddle-point curvature depends on it.
    return HBAR**2 / (2 * material.effective_mass * M_ELECTRON) / _MEV * 1e18


def lattice_velocity_m_per_s(velocity_lattice: float, hopping: float, a_nm: float) -> float:
    """A tight-binding velocity in units of t a / hbar, converted to m/s.

    Parameters
    ----------
    velocity_lattice : float
        Velocity (t a / hbar).
    hopping : float
        Hopping t (meV).
    a_nm : float
        Lattice constant (nm).
    """
    return velocity_lattice * hopping * _MEV * a_nm * _NM / HBAR


def lifetime_ps(rate_meV: float) -> float:
    """Lifetime tau = hbar / Gamma (ps) of a rate written as an energy Gamma = hbar/tau (meV)."""
    return HBAR_MEV_S / rate_meV * 1e12


# ---------------------------------------------------------------- electrostatics (issue 11)
#: Vacuum permittivity (F/m).
EPSILON_0 = _c.epsilon_0


def coulomb_constant_meV_nm(material: Material = GAAS) -> float:
    """e^2 / (4 pi eps_0 eps_r) in meV nm (111.6 meV nm for GaAs, eps_r = 12.9)."""
    return E_CHARGE**2 / (4 * math.pi * EPSILON_0 * material.dielectric_constant) / _MEV / _NM


__all__ += ["EPSILON_0", "coulomb_constant_meV_nm"]


def diffusive_thermal_length_nm(energy_meV: float, l_tr_nm: float, temperature_K: float,
                                material: Material = GAAS) -> float:
    """Diffusive thermal length L_T = sqrt(hbar D / k_B T) (nm), with the 2-D diffusion
    constant D = v_F l_tr / 2; ``inf`` at T = 0.

    Parameters
    ----------
    energy_meV : float
        Fermi energy from the band bottom (meV).
    l_tr_nm : float
        Transport mean free path (nm).
    temperature_K : float
        Temperature (K).
    """
    kT = thermal_energy_meV(temperature_K)
    if kT == 0:
        return math.inf
    D = fermi_velocity_m_per_s(energy_meV, material) * l_tr_nm * _NM / 2     # m^2/s
    return math.sqrt(HBAR * D / (kT * _MEV)) / _NM


# ---------------------------------------------------------------- continuum Hamiltonians (issue 27)
#: Units a parameter of a continuum Hamiltonian (``qpcsim.ContinuumDevice``) may carry: with
#: k in 1/nm, x and y in nm and the constants of :func:`continuum_constants`, each term is in meV.
HAMILTONIAN_UNITS = ("meV", "meV nm", "meV nm^2", "T", "m_e", "nm", "rad", "dimensionless")


def continuum_constants(material: Material = GAAS) -> dict:
    """The constants a continuum Hamiltonian's text may use, in its units (meV, nm, T):

    ``hbar`` with hbar^2 / m_e in meV nm^2 (so ``hbar**2/(2*m)`` with ``m`` in m_e is
    hbar^2/(2 m) in meV nm^2: 38.1 meV nm^2 / m), ``mu_B`` (meV/T), ``m`` the
    material's effective mass (m_e) and ``g`` its g-factor.
    """
    hbar2_over_me = HBAR**2 / M_ELECTRON / _MEV / _NM**2        # meV nm^2
    return {"hbar": math.sqrt(hbar2_over_me), "mu_B": MU_BOHR_MEV,
            "m": material.effective_mass, "g": material.g_factor}


__all__ += ["HAMILTONIAN_UNITS", "continuum_constants"]


# ---------------------------------------------------------------- current maps (issue 26)
def current_density_nA_per_nm(bond_current, a_nm: float):
    """A scattering-state current per bond (units of the transmission: the bonds crossing a
    cut sum to T, one spin) as a sheet current density in nA/nm per meV of bias.

    Parameters
    ----------
    bond_current : float or numpy.ndarray
        Current per bond (dimensionless: transmission units, one spin channel).
    a_nm : float
        Lattice constant (nm): each bond carries the current of a strip of width a.

    Returns
    -------
    float or numpy.ndarray
        Current density (nA/nm) per meV of source-drain bias, one spin: e^2/h x 1 mV
        = 38.74 nA per unit transmission, divided by a.
    """
    nA_per_transmission = E_CHARGE**2 / H_PLANCK * 1e-3 * 1e9     # e^2/h x 1 mV, in nA
    return bond_current * (nA_per_transmission / _positive("a_nm", a_nm))


__all__ += ["current_density_nA_per_nm"]
