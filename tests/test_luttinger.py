"""Luttinger-liquid wire (bosonized) and its K = 1 tight-binding reference."""
import numpy as np
import pytest
import scipy.signal

from qpcsim import luttinger as ll

V_F = 2.0e5      # m/s
LENGTH = 1000.0  # nm


@pytest.mark.parametrize("K_c", [0.3, 0.5, 0.8, 1.5])
@pytest.mark.parametrize("crossover", [0.0, 200.0])
def test_dc_two_terminal_conductance_is_G0(K_c, crossover):
    # Maslov-Stone / Safi-Schulz: the leads set the dc conductance, G(0) = G0.
    profile = ll.wire_profile(K_c, LENGTH, v_F=V_F, crossover_nm=crossover)
    g = ll.ac_conductance(profile, [0.0, 1e-6, 1e-5])       # GHz: omega -> 0
    np.testing.assert_allclose(g.conductance, 1.0, atol=1e-6)
    assert ll.intrinsic_conductance(K_c) == K_c           # the wire alone: K_c G0


def test_reflectionless_without_interactions():
    profile = ll.wire_profile(1.0, LENGTH, v_F=V_F, crossover_nm=150.0)
    g = ll.ac_conductance(profile, np.linspace(0, 500, 51))
    np.testing.assert_allclose(np.abs(g.reflection), 0.0, atol=1e-12)
    np.testing.assert_allclose(g.magnitude, 1.0, atol=1e-12)


@pytest.mark.parametrize("K_c", [0.3, 0.5, 0.8])
def test_fabry_perot_period_and_depth(K_c):
    # |t| = 1 whenever omega L / u_c = n pi: Delta f = u_c / 2L (round trip 2L/u_c).
    u_c = V_F / K_c
    profile = ll.wire_profile(K_c, LENGTH, v_F=V_F)
    period = ll.fabry_perot_period(LENGTH, u_c)
    f = np.linspace(0.0, 6.2 * period, 12001)
    g = ll.ac_conductance(profile, f)
    peaks, _ = scipy.signal.find_peaks(g.magnitude)
    measured = np.mean(np.diff(f[peaks]))
    assert measured == pytest.approx(period, rel=0.01)
    # quarter-wave minimum of a transmission line: |t| = 2K/(1+K^2)
    assert g.magnitude.min() == pytest.approx(2 * K_c / (1 + K_c**2), rel=1e-4)
    np.testing.assert_allclose(np.abs(g.reflection) ** 2 + g.magnitude**2, 1.0, atol=1e-10)


@pytest.mark.parametrize("K", [0.3, 0.5, 0.7])
def test_weak_impurity_correction_exponent(K):
    # 1 - G/G0 ~ T^(2K-2) while the impurity is weak (Kane & Fisher 1992).
    temps = np.logspace(1.0, 2.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=1 - 1e-6)
    exponent = ll.fit_power_law(temps, 1 - flow.conductance)
    assert exponent == pytest.approx(2 * K - 2, rel=0.02)


@pytest.mark.parametrize("K", [0.3, 0.5, 0.7])
def test_weak_link_exponent(K):
    # G/G0 ~ T^(2/K - 2) at low T: the impurity has cut the wire.
    temps = np.logspace(-6.0, -4.0, 30)
    flow = ll.kane_fisher_flow(K, temps, g_at_cutoff=0.5)
    assert flow.conductance.max() < 1e-3
    exponent = ll.fit_power_law(temps, flow.conductance)
    assert exponent == pytest.approx(2 / K - 2, rel=0.02)


def test_interpolating_flow_against_exact_half_filling_solution():
    # K = 1/2 is exactly solvable; the interpolating flow shares its limits.
    temps = np.logspace(-3, 2, 60)
    exact = ll.kane_fisher_half_exact(temps, crossover_K=1.0)
    assert ll.fit_power_law(temps[-10:], 1 - exact[-10:]) == pytest.approx(-1.0, rel=0.02)
    assert ll.fit_power_law(temps[:10], exact[:10]) == pytest.approx(2.0, rel=0.02)


def test_noninteracting_impurity_does_not_flow():
    flow = ll.kane_fisher_flow(1.0, np.logspace(-3, 2, 20), g_at_cutoff=0.37)
    np.testing.assert_allclose(flow.conductance, 0.37, atol=1e-12)
    # tight binding (K = 1): transmission = the chain's analytic result, T-independent
    values, analytic = ll.tight_binding_impurity(100.0, 320.0, temperatures_K=(0.0, 1.0, 4.0))
    assert values[0] == pytest.approx(analytic, abs=1e-9)
    assert np.abs(values - values[0]).max() < 1e-3


@pytest.mark.parametrize("call, message", [
    (lambda: ll.wire_profile(0.0, LENGTH), r"K_c=0.0 is not allowed: it must be > 0"),
    (lambda: ll.wire_profile(0.5, -1.0), r"length=-1.0 nm is not allowed"),
    (lambda: ll.wire_profile(0.5, LENGTH, v_F=-1), r"v_F=-1.0 m/s is not allowed"),
    (lambda: ll.ac_conductance(ll.wire_profile(0.5, LENGTH), [1e6]), r"below the band scale"),
    (lambda: ll.kane_fisher_flow(0.5, [200.0], cutoff_K=100.0), r"above it the model does not apply"),
    (lambda: ll.kane_fisher_flow(-0.5, [1.0]), r"K=-0.5 is not allowed"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
