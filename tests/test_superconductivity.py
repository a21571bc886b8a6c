"""BdGDevice (qpcsim/superconductivity.py) and the nqpc_s geometry: Andreev conductance
against Beenakker's formula, particle-hole symmetry and unitarity of S, the normal state."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.spectral.refine import ThermalResolutionError
from qpcsim.superconductivity import TAU_Y, BdGDevice, beenakker_conductance


@pytest.fixture(scope="module")
def nqpc_s():
    return qpcsim.load_geometry("nqpc_s")


def _barrier(x, y, V0=3.0):
    return V0 * np.exp(-(x / 30.0) ** 2) + 0.0 * y


@pytest.fixture(scope="module")
def small_ns():
    """A short N-S wire with a Gaussian barrier and an abrupt interface (fast)."""
    return BdGDevice(width=60.0, length=100.0, a=5.0, mu=10.0, Delta=0.5, potential=_barrier)


@pytest.mark.parametrize("V0", [pytest.param(2.0, marks=pytest.mark.slow), 5.5, 8.0])
def test_andreev_conductance_equals_beenakker_from_the_normal_state(nqpc_s, V0):
    """G_NS (E = 0) vs (4e^2/h) sum T_n^2/(2 - T_n)^2 with T_n of the same device at Delta = 0:
    within 1e-6 G0 (the Andreev approximation at Delta/mu = 1e-4; measured <= 2.5e-7)."""
    energy = nqpc_s.metadata["energy_meV"]
    g_ns = qpcsim.solve(nqpc_s, energy, V0=V0)
    normal = qpcsim.solve(nqpc_s, energy, V0=V0, Delta=0.0)
    # |S^dagger S - 1| ~ 1e-9 here: the S lead's modes decay over xi = 150 um (|lambda| ~ 1 - 3e-5)
    assert 0.05 < normal.conductance and g_ns.unitarity_error < qpcsim.solver.UNITARITY_TOLERANCE
    assert abs(g_ns.conductance - beenakker_conductance(normal.transmission_eigenvalues)) < 1e-6
    assert abs(normal.conductance - normal.transmission_eigenvalues.sum()) < 1e-12


def test_first_plateau_is_4e2_over_h_and_tunnelling_is_suppressed(nqpc_s):
    energy = nqpc_s.metadata["energy_meV"]
    plateau = qpcsim.solve(nqpc_s, energy)                      # default V0: plateau 1
    assert abs(qpcsim.solve(nqpc_s, energy, Delta=0.0).conductance - 1.0) < 1e-3
    assert abs(plateau.conductance - 2.0) < 3e-3                # 4e^2/h (Beenakker: 2T^2/(2-T)^2)
    g_ns = qpcsim.solve(nqpc_s, energy, V0=9.0).conductance
    g_n = qpcsim.solve(nqpc_s, energy, V0=9.0, Delta=0.0).conductance
    assert 1e-3 < g_n < 0.5 and g_ns < 0.3 * g_n                # G_NS ~ G_N^2/2 << G_N


def _phs_in_mode_basis(lead, energy, params):
    """Matrices C_in, C_out with P psi_i^* = sum_k C[k, i] psi_k (P = tau_y per site)."""
    prop, _ = lead.modes(energy, params=params)
    psi = prop.wave_functions
    n_sites = psi.shape[0] // 2
    p_psi = np.kron(np.eye(n_sites), TAU_Y) @ psi.conj()
    n = psi.shape[1] // 2
    blocks = []
    for cols in (slice(0, n), slice(n, 2 * n)):
        c, *_ = np.linalg.lstsq(psi[:, cols], p_psi[:, cols], rcond=None)
        assert np.abs(psi[:, cols] @ c - p_psi[:, cols]).max() < 1e-10
        blocks.append(c)
    return blocks


@pytest.mark.parametrize("phi", [0.0, 1.1])
def test_smatrix_is_unitary_and_particle_hole_symmetric(small_ns, phi):
    """At E = 0 inside the gap S is lead 0's (2 N_e square): S C_in = C_out S^* to 1e-10."""
    import kwant
    params = small_ns.resolve_params({"phi": phi})
    result = qpcsim.solve(small_ns, 0.0, phi=phi)
    S = result.smatrix
    assert result.open_modes[1] == 0 and S.shape == (4, 4)
    assert np.abs(S.conj().T @ S - np.eye(4)).max() < 1e-10
    c_in, c_out = _phs_in_mode_basis(small_ns.build().leads[0], 0.0, params)
    assert np.abs(S @ c_in - c_out @ S.conj()).max() < 1e-10
    # the conductance is Kwant's per-block formula N_e - R_ee + R_he
    sm = kwant.smatrix(small_ns.build(), 0.0, params=params)
    n_e = sm.submatrix((0, 0), (0, 0)).shape[0]
    expected = n_e - sm.transmission((0, 0), (0, 0)) + sm.transmission((0, 1), (0, 0))
    assert abs(result.conductance - expected) < 1e-12


def test_delta_zero_is_the_normal_device_to_1e_10(small_ns):
    """At Delta = 0 and E = 0 the electron block is the one-band Device at E_F = mu."""
    normal = qpcsim.Device(width=60.0, length=100.0, a=5.0, potential=_barrier)
    for V0 in (0.0, 3.0, 7.0):
        bdg = qpcsim.solve(small_ns, 0.0, V0=V0, Delta=0.0)
        ref = qpcsim.solve(normal, 10.0, V0=V0, method="kwant")
        assert abs(bdg.conductance - ref.conductance) < 1e-10
        np.testing.assert_allclose(bdg.transmission_eigenvalues, ref.transmission_eigenvalues,
                                   atol=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    (dict(Delta=-0.1), r"Delta=-0.1 meV is not allowed: it must be >= 0"),
    (dict(mu=400.0), r"mu=400 meV is not allowed with a=5 nm: lambda_F"),
    (dict(Delta=8.0), r"Delta=8 meV is not allowed with a=5 nm: the coherence length"),
    (dict(temperature=-1.0), r"temperature=-1.0 K is not allowed"),   # T > 0 is solved (+-E)
])
def test_bad_superconducting_input_is_a_one_line_error(small_ns, kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        qpcsim.solve(small_ns, 0.0, **kwargs)
    assert "\n" not in str(info.value)


def test_beenakker_formula_limits():
    assert beenakker_conductance([1.0, 1.0]) == 4.0
    assert beenakker_conductance([0.01]) == pytest.approx(2 * 1e-4 / 1.99**2, rel=1e-12)
    with pytest.raises(ValueError, match="must lie in"):
        beenakker_conductance([1.5])
    assert beenakker_conductance([]) == 0.0                 # no open channel
    for bad in ([float("nan")], None):                      # both gave NaN
        with pytest.raises(ValueError, match="are not allowed"):
            beenakker_conductance(bad)


def _tiny_barrier(x, y, V0=4.0):
    return V0 * np.exp(-(x / 15.0) ** 2) + 0.0 * y


@pytest.fixture(scope="module")
def tiny_ns():
    """A 5-site-wide N-S wire with a barrier: G_NS(E) curves on the scale of Delta = 1 meV."""
    return BdGDevice(width=30.0, length=50.0, a=5.0, mu=10.0, Delta=1.0, potential=_tiny_barrier)


def test_finite_temperature_andreev_conductance_equals_sommerfeld_over_plus_minus_e(tiny_ns):
    """G_NS(T) = int (-df/dE) G_NS(E) dE over E < 0 and E > 0 (E from mu) against the
    Sommerfeld series G(0) + pi^2/6 kT^2 G'' + 7 pi^4/360 kT^4 G'''' of zero-T solves
    (5-point stencils, h = 0.05 meV; next term ~ kT^6 G^(6) ~ 1e-8): within the
    quadrature's tolerance 1e-5 G0 (measured 7e-7; the kT^4 term alone is 4.6e-5)."""
    from qpcsim.superconductivity import ANDREEV_THERMAL_TOLERANCE
    from qpcsim.units import thermal_energy_meV
    kT, h = thermal_energy_meV(0.3), 0.05
    g = np.array([qpcsim.solve(tiny_ns, k * h).conductance for k in (-2, -1, 0, 1, 2)])
    d2 = (-g[0] + 16 * g[1] - 30 * g[2] + 16 * g[3] - g[4]) / (12 * h**2)
    d4 = (g[0] - 4 * g[1] + 6 * g[2] - 4 * g[3] + g[4]) / h**4
    sommerfeld = g[2] + np.pi**2 / 6 * kT**2 * d2 + 7 * np.pi**4 / 360 * kT**4 * d4
    result = qpcsim.solve(tiny_ns, 0.0, temperature=0.3)
    assert result.conductance - g[2] > 1e-3                 # a real thermal shift (2.8e-3)
    assert abs(result.conductance - sommerfeld) < ANDREEV_THERMAL_TOLERANCE
    assert 0 < result.thermal_error <= ANDREEV_THERMAL_TOLERANCE
    assert result.conductance_matrix[0, 0] == pytest.approx(result.conductance, abs=1e-15)


@pytest.mark.slow
def test_finite_temperature_andreev_conductance_equals_brute_force_quadrature(tiny_ns):
    """The same against composite Simpson over mu +- 25 kT of 121 zero-T solves (measured:
    the 61-point rule is off by 5e-5, the 121-point one by 7.5e-10): within 1e-5 G0."""
    import scipy.integrate

    from qpcsim.units import thermal_energy_meV
    kT = thermal_energy_meV(0.3)
    e = np.linspace(-25 * kT, 25 * kT, 121)
    weight = 1 / (4 * kT * np.cosh(e / (2 * kT)) ** 2)
    g = np.array([qpcsim.solve(tiny_ns, x).conductance for x in e])
    brute = scipy.integrate.simpson(weight * g, x=e)
    coarse = scipy.integrate.simpson(weight[::2] * g[::2], x=e[::2])
    assert abs(brute - coarse) < 1e-4                       # Simpson converged (1e-5 -> 1e-9)
    assert abs(qpcsim.solve(tiny_ns, 0.0, temperature=0.3).conductance - brute) < 1e-5


def test_finite_temperature_andreev_honours_the_thermal_options(tiny_ns):
    """A tighter thermal_tolerance is met (the default stops at 1e-5), and a budget too
    small for the quadrature is a ThermalResolutionError, never a number."""
    loose = qpcsim.solve(tiny_ns, 0.0, temperature=0.3)
    tight = qpcsim.solve(tiny_ns, 0.0, temperature=0.3, thermal_tolerance=1e-8)
    assert tight.thermal_error <= 1e-8 < loose.thermal_error
    assert abs(tight.conductance - loose.conductance) <= loose.thermal_error
    with pytest.raises(ThermalResolutionError, match="refinement_budget=20 solves"):
        qpcsim.solve(tiny_ns, 0.0, temperature=0.3, refinement_budget=20)


def test_bdg_spectral_data_is_refused(tiny_ns):
    from qpcsim.spectral import build_grid, compute_spectrum
    with pytest.raises(ValueError, match="not allowed here: spectral data"):
        compute_spectrum(tiny_ns, build_grid(0.0, [0.3]), tiny_ns.defaults)
