"""Luttinger-liquid wire (bosonized model) and its K = 1 tight-binding reference."""
import math

import numpy as np
import pytest
import scipy.signal

from conftest import assert_figure
from qpcsim import cli
from qpcsim import luttinger as ll

V_F = 2.0e5      # m/s (leads); E_F/h = 1.84e3 GHz for GaAs
LENGTH = 1000.0  # nm


# ---------------------------------------------------------------- bosonized: ac conductance
@pytest.mark.parametrize("K_c", [0.3, 0.5, 0.8, 1.5])
@pytest.mark.parametrize("crossover", [0.0, 200.0])
def test_dc_two_terminal_conductance_is_G0(K_c, crossover):
    # Maslov-Stone / Safi-Schulz: the leads set the dc conductance, G(0) = G0.
    # f > 0 values go through the transfer matrices (f = 0 is the exact shortcut).
    profile = ll.wire_profile(K_c, LENGTH, v_F=V_F, crossover_nm=crossover)
    g = ll.ac_conductance(profile, [0.0, 1e-7, 1e-6])       # GHz: omega -> 0
    np.testing.assert_allclose(g.conductance, 1.0, atol=1e-6)
    np.testing.assert_allclose(np.abs(g.reflection), 0.0, atol=1e-6)
    assert ll.intrinsic_conductance(K_c) == K_c           # the wire alone: K_c G0


@pytest.mark.parametrize("crossover", [0.0, 150.0])
@pytest.mark.parametrize("u_ratio", [1.0, 1.7])
def test_reflectionless_without_interactions(crossover, u_ratio):
    # K_c = 1: the plasmon admittance omega/K does not change, so no reflection at any
    # omega, even where the velocity changes (u_c = 1.7 v_F).
    profile = ll.wire_profile(1.0, LENGTH, v_F=V_F, u_c=u_ratio * V_F, crossover_nm=crossover)
    g = ll.ac_conductance(profile, np.linspace(0, 1800, 91))
    np.testing.assert_allclose(np.abs(g.reflection), 0.0, atol=1e-12)
    np.testing.assert_allclose(g.magnitude, 1.0, atol=1e-12)


@pytest.mark.parametrize("K_c", [0.3, 0.5, 0.8])
def test_fabry_perot_period_and_depth(K_c):
    # Tested quantity: the FREQUENCY period. |t| = 1 whenever omega L / u_c = n pi, so
    # Delta omega = pi u_c / L, i.e. Delta f = u_c / 2L = 1 / (round-trip time 2L/u_c).
    length = 2000.0
    u_c = V_F / K_c
    profile = ll.wire_profile(K_c, length, v_F=V_F)
    period = ll.fabry_perot_period(length, u_c)
    assert period == pytest.approx(1 / (2 * length * 1e-9 / u_c) / 1e9, rel=1e-12)
    f = np.linspace(0.0, 6.2 * period, 12001)
    g = ll.ac_conductance(profile, f)
    peaks, _ = scipy.signal.find_peaks(g.magnitude)
    assert len(peaks) == 6
    measured = np.mean(np.diff(f[peaks]))
    assert measured == pytest.approx(period, rel=0.01)     # measured: 6e-5
    # quarter-wave minimum of a line of admittance ratio K_c: |t| = 2K/(1+K^2); this is
    # the numerical check of the intrinsic (characteristic) conductance K_c G0.
    assert g.magnitude.min() == pytest.approx(2 * K_c / (1 + K_c**2), rel=1e-4)
    np.testing.assert_allclose(np.abs(g.reflection) ** 2 + g.magnitude**2, 1.0, atol=1e-10)


def test_smooth_crossover_reflects_less_at_high_frequency():
    # A smooth K(x) crossover long compared with the plasmon wavelength is adiabatic:
    # the Fabry-Perot dip shrinks (staircase of 400 cells).
    f = np.linspace(1000.0, 1800.0, 81)
    sharp = ll.ac_conductance(ll.wire_profile(0.5, LENGTH, v_F=V_F), f)
    smooth = ll.ac_conductance(ll.wire_profile(0.5, LENGTH, v_F=V_F, crossover_nm=2000.0), f)
    assert sharp.magnitude.min() == pytest.approx(0.8, rel=1e-3)
    assert smooth.magnitude.min() > 0.99


# ---------------------------------------------------------------- bosonized: Kane-Fisher
@pytest.mark.parametrize("K", [0.3, 0.5, 0.7])
def test_weak_impurity_correction_exponent(K):
    # 1 - G/G0 ~ T^(2K-2) while the impurity is weak (Kane & Fisher 1992).
    temps = np.logspace(1.0, 2.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=1 - 1e-6)
    exponent = ll.fit_power_law(temps, 1 - flow.conductance)
    assert exponent == pytest.approx(2 * K - 2, rel=0.02)      # measured: < 1e-5


@pytest.mark.parametrize("K", [0.3, 0.5, 0.7])
def test_weak_link_exponent(K):
    # G/G0 ~ T^(2/K - 2) at low T: the impurity has cut the wire.
    temps = np.logspace(-6.0, -4.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=0.5)
    assert flow.conductance.max() < 1e-3
    exponent = ll.fit_power_law(temps, flow.conductance)
    assert exponent == pytest.approx(2 / K - 2, rel=0.02)      # measured: < 1e-5


def test_flow_is_monotonic_crossover():
    # K < 1: G decreases monotonically from the cutoff down; K > 1: it heals towards G0.
    temps = np.logspace(-3, 2, 50)
    low = ll.kane_fisher_flow(0.5, temps, g_at_cutoff=0.5).conductance
    high = ll.kane_fisher_flow(1.5, temps, g_at_cutoff=0.5).conductance
    assert np.all(np.diff(low) > 0) and low[-1] == pytest.approx(0.5, abs=1e-12)
    assert np.all(np.diff(high) < 0) and high[0] > 0.999


def test_interpolating_flow_against_exact_half_filling_solution():
    # K = 1/2 is exactly solvable (refermionization); its limits carry the same exponents.
    temps = np.logspace(-3, 2, 60)
    exact = ll.kane_fisher_half_exact(temps, crossover_K=1.0)
    assert ll.fit_power_law(temps[-10:], 1 - exact[-10:]) == pytest.approx(-1.0, rel=0.02)
    assert ll.fit_power_law(temps[:10], exact[:10]) == pytest.approx(2.0, rel=0.02)
    # high-T limit 1 - pi T_B / 4T
    assert 1 - exact[-1] == pytest.approx(math.pi / (4 * temps[-1]), rel=1e-2)


def test_spinful_exponents():
    a, b = ll.spinful_exponents(0.5)          # K_sigma = 1
    assert a == pytest.approx(-0.5, abs=1e-12) and b == pytest.approx(1.0, abs=1e-12)
    assert ll.spinful_exponents(1.0) == (0.0, 0.0)


# ---------------------------------------------------------------- tight binding: K = 1
def test_noninteracting_impurity_does_not_flow():
    flow = ll.kane_fisher_flow(1.0, np.logspace(-3, 2, 20), g_at_cutoff=0.37)
    np.testing.assert_allclose(flow.conductance, 0.37, atol=1e-12)


@pytest.mark.parametrize("U, energy", [(100.0, 320.0), (-60.0, 340.0)])
def test_tight_binding_impurity_matches_chain_and_is_flat_in_T(U, energy):
    # qpcsim solver on a one-site-wide chain: T = 1/(1 + (U/2t sin k)^2), E = 2t + 2t(1-cos k).
    values, analytic = ll.tight_binding_impurity(U, energy, temperatures_K=(0.0, 1.0, 4.0))
    assert values[0] == pytest.approx(analytic, abs=1e-9)
    # thermal average over the Fermi window: flat to < 1e-4 (measured 4.4e-5 at 4 K)
    assert np.abs(values - values[0]).max() < 1e-4


# ---------------------------------------------------------------- input checks and CLI
@pytest.mark.parametrize("call, message", [
    (lambda: ll.wire_profile(0.0, LENGTH), r"K_c=0.0 is not allowed: it must be > 0"),
    (lambda: ll.wire_profile(-0.2, LENGTH), r"K_c=-0.2 is not allowed: it must be > 0"),
    (lambda: ll.wire_profile(0.5, -1.0), r"length=-1.0 nm is not allowed: it must be > 0"),
    (lambda: ll.wire_profile(0.5, LENGTH, v_F=-1), r"v_F=-1.0 m/s is not allowed"),
    (lambda: ll.wire_profile(0.5, LENGTH, u_c=0.0), r"u_c=0.0 m/s is not allowed"),
    (lambda: ll.wire_profile(0.5, LENGTH, crossover_nm=-5), r"crossover=-5.0 nm is not allowed"),
    (lambda: ll.ac_conductance(ll.wire_profile(0.5, LENGTH), [1e6]),
     r"frequency=1000000.0 GHz is not allowed: it must lie in \[0, 1842\.\d+\] GHz"),
    (lambda: ll.ac_conductance(ll.wire_profile(0.5, LENGTH), [1.0, -2.0]),
     r"frequency=-2.0 GHz is not allowed"),
    (lambda: ll.kane_fisher_flow(0.5, [200.0], cutoff_K=100.0),
     r"temperature=200.0 K is not allowed: it must lie in \(0, 100\] K"),
    (lambda: ll.kane_fisher_flow(0.5, [0.0]), r"temperature=0.0 K is not allowed"),
    (lambda: ll.kane_fisher_flow(-0.5, [1.0]), r"K=-0.5 is not allowed: it must be > 0"),
    (lambda: ll.kane_fisher_flow(0.5, [1.0], g_at_cutoff=1.2), r"g_at_cutoff=1.2 is not allowed"),
    (lambda: ll.intrinsic_conductance(0), r"K_c=0.0 is not allowed"),
    (lambda: ll.fabry_perot_period(LENGTH, -3.0), r"u_c=-3.0 m/s is not allowed"),
    (lambda: ll.tight_binding_impurity(10.0, 100.0), r"energy=100.0 meV is not allowed"),
    (lambda: ll.tight_binding_impurity(10.0, 320.0, temperatures_K=(-1.0,)),
     r"temperature=-1.0 K is not allowed"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_cli(tmp_path, capsys):
    out = tmp_path / "ll.png"
    assert cli.main(["luttinger", "--K", "0.5,1.5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert_figure(out)
    assert "1.000000" in text and "analytic 0.655327" in text
    assert cli.main(["luttinger", "--K", "0.5,-1", "--out", str(out)]) == 2
    assert "K='0.5,-1' is not allowed" in capsys.readouterr().err


# ---------------------------------------------------------------- issue 17: conventions
@pytest.mark.parametrize("K", [0.3, 0.5, 0.7])
def test_spinful_flow_exponents(K):
    """K = K_rho, K_sigma = 1: 1 - g ~ T^(K-1) (weak barrier), g ~ T^(1/K-1) (weak link),
    as spinful_exponents says; at K_rho = 1/2 a weak link conducts ~ T^1, not T^2."""
    weak_barrier, weak_link = ll.spinful_exponents(K)
    temps = np.logspace(1.0, 2.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=1 - 1e-6, spinful=True)
    assert ll.fit_power_law(temps, 1 - flow.conductance) == pytest.approx(weak_barrier, rel=0.02)
    temps = np.logspace(-9.0, -7.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=0.5, spinful=True)
    assert flow.conductance.max() < 1e-3
    assert ll.fit_power_law(temps, flow.conductance) == pytest.approx(weak_link, rel=0.02)


def test_exact_half_curve_uses_the_same_bare_impurity():
    """T_B chosen so that the exact K = 1/2 curve starts at the flows' cutoff value."""
    g_bare = 0.655327
    T_B = ll.kane_fisher_half_crossover(g_bare, 100.0)
    assert ll.kane_fisher_half_exact([100.0], T_B)[0] == pytest.approx(g_bare, abs=1e-10)
    # the interpolating flow's weak-link prefactor is approximate: 0.385 of exact at 1 mK
    rg = ll.kane_fisher_flow(0.5, [1e-3], g_at_cutoff=g_bare).conductance[0]
    assert rg / ll.kane_fisher_half_exact([1e-3], T_B)[0] == pytest.approx(0.385, abs=0.01)
    with pytest.raises(ValueError, match=r"g_at_cutoff=1.5 is not allowed"):
        ll.kane_fisher_half_crossover(1.5)


def test_ac_phase_convention():
    """e^{-i omega t}: a K = 1 wire of length L transmits t = exp(+i omega L / v_F)."""
    prof = ll.wire_profile(1.0, LENGTH, v_F=V_F)
    f = np.array([10.0, 100.0, 400.0])
    t = ll.ac_conductance(prof, f).conductance
    np.testing.assert_allclose(t, np.exp(1j * 2 * np.pi * f * 1e9 * LENGTH * 1e-9 / V_F),
                               atol=1e-12)


def test_cli_one_convention(tmp_path, capsys):
    assert cli.main(["luttinger", "--K", "0.5", "--out", str(tmp_path / "ll.png")]) == 0
    text = capsys.readouterr().out
    # spinful weak link at K_rho = 1/2: T^1; flows start at the tight-binding value
    assert "weak link: G ~ T^1;" in text and "T^2" not in text
    assert "start from G/G0 = 0.655327 at the cutoff 100 K" in text
    assert "vs exact 9.642e-10 at 1 mK (ratio 0.385)" in text


def test_kane_fisher_exact_refuses_a_temperature_that_is_not_positive():
    """T < 0 gave G/G0 = 2.54 (a conductance above the clean wire's) without an error."""
    with pytest.raises(ValueError, match=r"temperatures_K=\[-1.0\] is not allowed: each must be "
                                         "> 0 K"):
        ll.kane_fisher_half_exact([-1.0], 1.0)
    assert 0 < ll.kane_fisher_half_exact([1.0], 1.0)[0] < 1
