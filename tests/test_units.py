import math

import numpy as np
import pytest

from qpcsim import units


def test_conductance_quantum_is_2e2_over_h():
    # CODATA exact e and h: G0 = 7.748091729...e-5 S, 1/G0 = 12906.40372... ohm
    assert units.G0_SIEMENS == pytest.approx(7.748091729863649e-05, rel=1e-14)
    assert units.RESISTANCE_QUANTUM_OHM == pytest.approx(12906.403729652257, rel=1e-12)


@pytest.mark.parametrize("a_nm, expected_meV", [(5.0, 22.74616), (2.0, 142.16351), (10.0, 5.686540)])
def test_hopping_gaas(a_nm, expected_meV):
    # t = hbar^2 / (2 * 0.067 m_e a^2); hbar^2/(2 m_e) = 38.0998 meV nm^2
    assert units.hopping_meV(a_nm) == pytest.approx(expected_meV, rel=1e-5)


def test_fermi_wavelength_and_velocity_consistent():
    energy = 10.0
    k = units.wavevector_per_nm(energy)
    # E = hbar^2 k^2 / 2m*  <=>  E = t (k a)^2 for any a
    assert units.hopping_meV(3.0) * (k * 3.0) ** 2 == pytest.approx(energy, rel=1e-12)
    assert units.fermi_wavelength_nm(energy) == pytest.approx(2 * math.pi / k, rel=1e-14)
    # v_F = hbar k / m*, and E = m* v^2 / 2
    v = units.fermi_velocity_m_per_s(energy)
    m = 0.067 * units.M_ELECTRON
    assert 0.5 * m * v**2 / units.E_CHARGE * 1e3 == pytest.approx(energy, rel=1e-12)


def test_thermal_length():
    # L_T = hbar v_F / k_B T ; infinite at T = 0
    assert units.thermal_length_nm(10.0, 0.0) == math.inf
    expected = units.HBAR * units.fermi_velocity_m_per_s(10.0) / (units.K_BOLTZMANN_MEV * 1e-3
                                                                  * units.E_CHARGE) * 1e9
    assert units.thermal_length_nm(10.0, 1.0) == pytest.approx(expected, rel=1e-12)
    assert units.thermal_energy_meV(1.0) == pytest.approx(0.0861733, rel=1e-6)


def test_flux_and_zeeman():
    # one flux quantum h/e through a 10 nm plaquette needs B = h/(e a^2) = 41.36 T
    assert units.flux_per_plaquette(41.3566770, 10.0) == pytest.approx(1.0, rel=1e-7)
    assert units.zeeman_energy_meV(1.0) == pytest.approx(0.44 * 0.0578838, rel=1e-5)
    assert units.cyclotron_energy_meV(1.0) == pytest.approx(1.72787, rel=1e-4)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_bad_lattice_constant_named(bad):
    with pytest.raises(ValueError, match=r"^a="):
        units.hopping_meV(bad)


def test_bad_material():
    with pytest.raises(ValueError, match="effective_mass"):
        units.Material(effective_mass=-0.1)
    with pytest.raises(ValueError, match="temperature"):
        units.thermal_energy_meV(-1.0)
