"""Shot and thermal noise (Blanter & Büttiker 2000) from spectral data, and the Fano factor."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
from conftest import clean_wire

import qpcsim
from qpcsim.physics.noise import noise
from qpcsim.spectral import Spectrum, build_grid, fermi_window
from qpcsim.units import E_CHARGE, H_PLANCK, K_BOLTZMANN_MEV, thermal_energy_meV

SADDLE = {"V0": 6.1, "hw_x": 1.0, "hw_y": 2.0}
MEV = 1e-3 * E_CHARGE


def buttiker(e):
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    return np.array([saddle.buttiker_transmissions(x, **SADDLE) for x in np.atleast_1d(e)])


def test_shot_noise_fano_factor_equals_analytic_buttiker():
    """T = 0, small bias: S / 2eI -> sum T_n (1 - T_n) / sum T_n of Büttiker's T_n at E_F (1e-6)."""
    mu = 9.0
    spec = Spectrum.from_function(build_grid(mu, [0.0], bias=0.02), buttiker)
    t_n = buttiker(mu)[0]
    fano = np.sum(t_n * (1 - t_n)) / np.sum(t_n)
    result = noise(spec, 0.0, bias=1e-4)
    assert 0.1 < fano < 0.5
    assert result.fano == pytest.approx(fano, abs=1e-6)
    assert result.thermal == 0.0
    # the current is G V with G = sum T_n (G0) at this tiny bias
    assert result.current == pytest.approx(2 * E_CHARGE**2 / H_PLANCK * np.sum(t_n) * 1e-7, rel=1e-6)


def test_johnson_nyquist_at_zero_bias():
    """V = 0: S = 4 k_B T G, G from an independent quadrature of the analytic T(E) (1e-6)."""
    mu, temperature = 9.0, 1.0
    kT = thermal_energy_meV(temperature)
    spec = Spectrum.from_function(build_grid(mu, [temperature]), buttiker)
    g = scipy.integrate.quad(lambda e: buttiker(e)[0].sum() * fermi_window(e, mu, kT),
                             mu - 40 * kT, mu + 40 * kT, epsabs=1e-13, limit=400)[0]
    jn = 4 * K_BOLTZMANN_MEV * temperature * MEV * 2 * E_CHARGE**2 / H_PLANCK * g
    result = noise(spec, temperature)
    assert result.noise == pytest.approx(jn, rel=1e-6)
    assert result.johnson_nyquist == pytest.approx(jn, rel=1e-6)
    assert result.shot == 0.0


@pytest.mark.parametrize("bias", [0.01, 0.1, 0.3, 1.0])
def test_shot_to_thermal_crossover_is_coth(bias):
    """Energy-independent T_n: S = (4e^2/h) [2kT sum T^2 + sum T(1-T) eV coth(eV/2kT)]."""
    t_n = np.array([1.0, 0.7, 0.2])
    temperature, mu = 1.0, 10.0
    kT = thermal_energy_meV(temperature)
    spec = Spectrum.from_function(build_grid(mu, [temperature], bias=2.0),
                                  lambda e: np.tile(t_n, (len(e), 1)))
    expected = 4 * E_CHARGE**2 / H_PLANCK * MEV * (
        2 * kT * np.sum(t_n**2) + np.sum(t_n * (1 - t_n)) * bias / np.tanh(bias / (2 * kT)))
    assert noise(spec, temperature, bias).noise == pytest.approx(expected, rel=1e-6)


def test_fano_factor_of_solves_and_sweeps(small_saddle, saddle_module):
    """``result.fano_factor`` (fixed name): 0 for a clean wire (T_n = 1), the formula on the
    saddle's eigenvalues, near Büttiker's analytic value, and a sweep variable."""
    wire = clean_wire()
    energy = float(wire.transverse_mode_energies(3)[2] + 0.3)
    assert abs(qpcsim.solve(wire, energy).fano_factor) < 1e-6
    res = qpcsim.solve(small_saddle, 9.0, V0=7.2)
    t = res.transmission_eigenvalues
    assert res.fano_factor == pytest.approx(np.sum(t * (1 - t)) / np.sum(t), abs=1e-12)
    t_b = saddle_module.buttiker_transmissions(9.0, 7.2, 1.5, 3.0)
    assert res.fano_factor == pytest.approx(np.sum(t_b * (1 - t_b)) / np.sum(t_b), abs=0.03)
    assert "fano_factor" in res.observables()
    ds = qpcsim.sweep(small_saddle, over={"V0": [7.2, 7.6]}, energy=9.0, workers=1,
                      progress=False).data
    assert ds["fano_factor"].sel(V0=7.2).item() == pytest.approx(res.fano_factor, abs=1e-12)
    assert ds["fano_factor"].attrs["units"] == ""


@pytest.mark.parametrize("temperature", [0.5, 1.5])
def test_johnson_nyquist_off_the_grid_temperature(temperature):
    """A temperature a bias grid was not built for (1 K): 4 k_B T G from its interpolant,
    against an independent quadrature (2e-4: the off-grid path's documented accuracy)."""
    mu = 9.0
    kT = thermal_energy_meV(temperature)
    spec = Spectrum.from_function(build_grid(mu, [1.0], bias=0.4), buttiker)
    g = scipy.integrate.quad(lambda e: buttiker(e)[0].sum() * fermi_window(e, mu, kT),
                             mu - 40 * kT, mu + 40 * kT, epsabs=1e-13, limit=400)[0]
    jn = 4 * K_BOLTZMANN_MEV * temperature * MEV * 2 * E_CHARGE**2 / H_PLANCK * g
    assert noise(spec, temperature).noise == pytest.approx(jn, rel=2e-4)


def _side_stub(x, y):
    return (y < -10) | ((np.abs(x) < 10) & (y < -2)) | ((np.abs(x) < 30) & (y >= -2))


def test_noise_refuses_what_the_spectrum_cannot_give():
    """Off its own thermal sums, a spectrum must resolve T(E) at the asked temperature and hold
    both Fermi windows. Each refused case was a number without an error before: a 4 K thermal
    Gauss grid gave 2 K 2.4e-2 off (a saddle), a 1 K ladder 0.5 K 7.6e-3 off (hbar w_x =
    0.3 meV), a clean wire's 1 K spectrum 10 K 4.7 % low; a refined spectrum (solve at T > 0
    on a stub) raised KeyError. The default spectrum at its own temperature with a small bias
    stays exact (clean wire: the sum over both leads' Fermi functions, 1e-6)."""
    saddle = Spectrum.from_function(build_grid(6.5, [4.0]), buttiker)
    with pytest.raises(ValueError, match=r"its panels \(up to .* meV\) do not resolve T"):
        noise(saddle, 2.0)
    ladder = Spectrum.from_function(build_grid(9.0, [1.0], rule="trapezoid"), buttiker)
    with pytest.raises(ValueError, match=r"its nodes \(0.108 meV apart\) do not resolve T\(E\) "
                                         r"for this temperature"):
        noise(ladder, 0.5)
    wire = clean_wire()
    mu = float(wire.transverse_mode_energies(3)[1] + 2.0)
    spec = qpcsim.spectrum(wire, mu, temperature=1.0)
    for temperature in (2.0, 10.0):
        with pytest.raises(ValueError, match=f"temperature={temperature:g} K, bias=0 mV are not "
                           "allowed with this spectrum: the leads' Fermi windows"):
            noise(spec, temperature)
    kT, bias = thermal_energy_meV(1.0), 0.1
    modes = wire.transverse_mode_energies(8)

    def occupied(m):
        return np.sum(1.0 / (1.0 + np.exp((modes - m) / kT)))
    exact = 2 * 2 * E_CHARGE**2 / H_PLANCK * MEV * kT * (occupied(mu + bias / 2)
                                                           + occupied(mu - bias / 2))
    assert noise(spec, 1.0, bias).noise == pytest.approx(exact, rel=1e-6)
    stub = qpcsim.Device(width=100.0, length=100.0, a=4.0, shape=_side_stub, lead_width=40.0,
                         lead_center=-30.0)
    refined = qpcsim.solve(stub, 8.01, temperature=1.0).spectrum
    assert refined.grid.rule == "refined"
    assert noise(refined, 1.0, 0.05).noise > noise(refined, 1.0).noise > 0
    with pytest.raises(ValueError, match="do not resolve T"):
        noise(refined, 0.9)


def test_noise_at_the_first_lead_mode_is_not_refused():
    """A clean wire whose Fermi window reaches below the first subband: the ladder stops at its
    first node above it (no current flows below), so the window is not cut there; each
    accepted point is the exact sum over the leads' Fermi functions (1e-9)."""
    wire = clean_wire()
    kT = thermal_energy_meV(1.0)
    modes = wire.transverse_mode_energies(8)
    for depth in (8.9, 9.2, 9.6, 10.3):
        mu = float(modes[0] + depth * kT)
        spec = qpcsim.spectrum(wire, mu, temperature=1.0)
        for bias in (0.01, 0.1):
            def occupied(m):
                return np.sum(1.0 / (1.0 + np.exp((modes - m) / kT)))
            exact = 2 * 2 * E_CHARGE**2 / H_PLANCK * MEV * kT * (occupied(mu + bias / 2)
                                                                   + occupied(mu - bias / 2))
            assert noise(spec, 1.0, bias).noise == pytest.approx(exact, rel=1e-9), (depth, bias)


def test_noise_bad_input():
    spec = Spectrum.from_function(build_grid(10.0, [1.0]), lambda e: np.ones((len(e), 1)))
    with pytest.raises(ValueError, match="bias=50 mV is not allowed: the bias window leaves"):
        noise(spec, 1.0, bias=50.0)
    with pytest.raises(ValueError, match="temperature=-1.0 K is not allowed"):
        noise(spec, -1.0)
    with pytest.raises(ValueError, match="the noise vanishes identically"):
        noise(Spectrum.from_function(build_grid(10.0, [0.0], bias=1.0),
                                     lambda e: np.ones((len(e), 1))), 0.0, 0.0)


def _rashba_saddle(x, y, V0=1.0):
    return V0 - 0.004 * x**2 + 0.01 * y**2


def test_shot_noise_of_a_spinful_rashba_qpc_equals_its_t_n_from_kwant():
    """A multi-orbital device (2 orbitals per site, spin-orbit and Zeeman): T = 0, small bias,
    S / 2eI -> sum T_n (1 - T_n) / sum T_n and I = (e^2/h) sum T_n V (spins resolved) with
    the T_n of a plain kwant.smatrix of the same system (1e-6)."""
    import kwant

    from qpcsim.spectral import compute_spectrum
    h = ("hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)"
         " + g*mu_B*B*sigma_x/2")
    device = qpcsim.ContinuumDevice(
        h, width=100.0, length=100.0, a=5.0, material=qpcsim.Material("InSb", 0.014, -50.0, 16.8),
        params={"alpha": 20.0, "B": 0.3}, units={"alpha": "meV nm", "B": "T"},
        potential=_rashba_saddle)
    mu = 3.3
    params = device.resolve_params({})
    spec = compute_spectrum(device, build_grid(mu, [0.0], bias=0.02), params)
    smat = kwant.smatrix(device.build(), mu / device.t, params=params)
    t = smat.submatrix(1, 0)
    t_n = np.linalg.svd(t, compute_uv=False) ** 2
    fano = np.sum(t_n * (1 - t_n)) / np.sum(t_n)
    result = noise(spec, 0.0, bias=1e-4)
    assert 0.05 < fano < 0.95 and not spec.spin_degenerate
    assert result.fano == pytest.approx(fano, abs=1e-6)
    assert result.current == pytest.approx(E_CHARGE**2 / H_PLANCK * np.sum(t_n) * 1e-7, rel=1e-6)
