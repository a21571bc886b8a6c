"""Solver layer: conductance against analytic results, unitarity, thermal average."""
import dataclasses

import numpy as np
import pytest

import qpcsim
from conftest import clean_wire, lead_mode_count
from qpcsim import solver


# ----------------------------------------------------------------- clean wire
@pytest.mark.parametrize("width, a", [(50.0, 5.0), (100.0, 5.0), (160.0, 4.0)])
@pytest.mark.parametrize("energy", [2.3, 7.7, 15.1])
@pytest.mark.parametrize("method", ["fast", "kwant"])
def test_clean_wire_conductance_is_mode_count(width, a, energy, method):
    dev = clean_wire(width=width, a=a)
    result = qpcsim.solve(dev, energy, method=method)
    n_modes = lead_mode_count(dev, energy)
    assert n_modes >= 1
    assert result.open_modes == (n_modes, n_modes)
    assert result.conductance == pytest.approx(n_modes, abs=1e-9)
    np.testing.assert_allclose(result.transmission_eigenvalues, 1.0, atol=1e-9)
    assert result.unitarity_error < 1e-10


def test_conductance_in_siemens():
    result = qpcsim.solve(clean_wire(), 7.7)
    assert result.conductance_siemens == pytest.approx(result.conductance * 7.748091729863649e-5)


# ----------------------------------------------------------------- fast path = Kwant
@pytest.mark.parametrize("params", [dict(V0=6.0), dict(V0=4.0, B=0.8), dict(V0=3.0, B=-0.5)])
def test_fast_path_equals_kwant(small_saddle, params):
    fast = qpcsim.solve(small_saddle, 9.0, method="fast", **params)
    ref = qpcsim.solve(small_saddle, 9.0, method="kwant", **params)
    assert fast.solver.startswith("fast-") and ref.solver == "kwant"
    # |S_mn|: mode phases are a convention (at B != 0 Kwant's depend on BLAS threads)
    assert np.abs(np.abs(fast.smatrix) - np.abs(ref.smatrix)).max() < 1e-10
    np.testing.assert_allclose(fast.transmission_eigenvalues, ref.transmission_eigenvalues,
                               atol=1e-10)
    assert fast.conductance == pytest.approx(ref.conductance, abs=1e-10)


def test_unitarity_violation_raises(small_saddle, monkeypatch):
    real = solver.scattering_matrix

    def broken(*args, **kwargs):
        smat = real(*args, **kwargs)
        return dataclasses.replace(smat, data=smat.data * (1 + 1e-6))
    monkeypatch.setattr(solver, "scattering_matrix", broken)
    with pytest.raises(qpcsim.UnitarityError, match=r"max\|S\^dagger S - 1\| = 2e-06"):
        qpcsim.solve(small_saddle, 9.0)


# ----------------------------------------------------------------- symmetries
def test_reciprocity_and_onsager(small_saddle):
    # Asymmetric landscape so that the symmetries are not accidental.
    at_zero = qpcsim.solve(small_saddle, 9.0, V0=5.0)
    assert at_zero.transmission == pytest.approx(at_zero.transmission_reverse, abs=1e-10)
    plus = qpcsim.solve(small_saddle, 9.0, V0=5.0, B=1.5)
    minus = qpcsim.solve(small_saddle, 9.0, V0=5.0, B=-1.5)
    assert plus.conductance == pytest.approx(minus.conductance, abs=1e-9)   # Onsager
    assert abs(plus.conductance - at_zero.conductance) > 1e-3              # the field acts


# ----------------------------------------------------------------- Büttiker saddle point
def _buttiker_energy(V0, hw_x, hw_y, mode, offset):
    """Energy at which mode ``mode`` has (E - E_n)/hbar w_x = offset."""
    return V0 + hw_y * (mode + 0.5) + offset * hw_x


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
@pytest.mark.parametrize("offset", [-0.15, 0.0, 0.15])
def test_saddle_point_matches_buttiker(saddle_device, saddle_module, mode, offset):
    # Büttiker, PRB 41, 7906 (1990): T_n = 1/(1 + exp(-2 pi (E - E_n)/hbar w_x)).
    # Fix E = 10 meV and move V0 so that mode n sits at the given offset.
    hw_x, hw_y, energy = 1.0, 2.0, 10.0
    V0 = energy - hw_y * (mode + 0.5) - offset * hw_x
    result = qpcsim.solve(saddle_device, energy, V0=V0, hw_x=hw_x, hw_y=hw_y)
    expected = saddle_module.buttiker_transmissions(energy, V0, hw_x, hw_y, n_modes=6)
    got = np.zeros(6)
    got[:min(6, len(result.transmission_eigenvalues))] = result.transmission_eigenvalues[:6]
    assert np.abs(got - expected).max() < 0.02


def test_mission_example_three_open_and_one_tunnelling(saddle_device, saddle_module):
    # Three open modes and a fourth tunnelling with T_3 = 0.041: G/G0 = 3.041.
    hw_x, hw_y, energy = 1.0, 2.0, 10.0
    offset = np.log(1 / 0.041 - 1) / (-2 * np.pi)          # (E - E_3)/hbar w_x
    V0 = energy - 3.5 * hw_y - offset * hw_x
    expected = saddle_module.buttiker_transmissions(energy, V0, hw_x, hw_y).sum()
    assert expected == pytest.approx(3.041, abs=5e-4)
    result = qpcsim.solve(saddle_device, energy, V0=V0)
    assert result.conductance == pytest.approx(3.041, abs=0.02)
    assert result.transmission_eigenvalues[3] == pytest.approx(0.041, abs=0.02)


@pytest.mark.parametrize("V0", [2.0, 4.0, 6.0, 8.0])
def test_saddle_switch_off_causes_no_backscattering(saddle_device, saddle_module, V0):
    # On a plateau (next mode one hbar w_x below threshold) any deviation from
    # Büttiker's G is backscattering by the switch-off toward the leads.
    # Measured max deviation: 5e-4 (a naive tanh cut-off: ~0.05).
    result = qpcsim.solve(saddle_device, 10.0, V0=V0)
    expected = saddle_module.buttiker_transmissions(10.0, V0, 1.0, 2.0).sum()
    assert result.conductance == pytest.approx(expected, abs=2e-3)


# ----------------------------------------------------------------- Zeeman
def test_zeeman_gives_half_integer_plateaus(saddle_module):
    dev = qpcsim.load_geometry("qpc_saddle", zeeman=True, a=2.5, W=240.0, L=480.0,
                               hw_x=0.8, hw_y=3.0)
    energy, E_Z, hw_x, hw_y = 10.0, 1.5, 0.8, 3.0
    values = []
    for n in range(3):
        # midway between the spin-up and spin-down thresholds of mode n
        V0 = energy - hw_y * (n + 0.5)
        result = qpcsim.solve(dev, energy, V0=V0, E_Z=E_Z)
        up = saddle_module.buttiker_transmissions(energy + E_Z / 2, V0, hw_x, hw_y)
        down = saddle_module.buttiker_transmissions(energy - E_Z / 2, V0, hw_x, hw_y)
        assert result.conductance == pytest.approx(0.5 * (up.sum() + down.sum()), abs=0.02)
        values.append(result.conductance)
    np.testing.assert_allclose(values, [0.5, 1.5, 2.5], atol=0.02)   # e^2/h steps
    assert not result.spin_degenerate


# ----------------------------------------------------------------- temperature
@pytest.mark.parametrize("temperature", [2.0, 4.0])
def test_thermal_average_of_clean_wire_is_fermi_smeared_steps(temperature):
    # T(E) = N(E) is a staircase with steps at E_n, so G(T, mu) = sum_n f(E_n - mu)
    # exactly. The quadrature error must stay below 1e-4 G0.
    dev = clean_wire(width=200.0, a=5.0, length=10.0)
    kT = qpcsim.units.thermal_energy_meV(temperature)
    thresholds = dev.transverse_mode_energies()
    mu = 0.5 * (thresholds[2] + thresholds[3]) + 0.3 * kT
    result = qpcsim.solve(dev, mu, temperature=temperature)
    expected = np.sum(0.5 * (1.0 - np.tanh((thresholds - mu) / (2 * kT))))
    assert abs(result.conductance - expected) < 1e-4
    assert abs(result.conductance - round(result.conductance)) > 0.03   # visibly smeared


def test_thermal_smearing_of_saddle_step_matches_buttiker(small_saddle, saddle_module):
    # G(T) = int G_Büttiker(E) (-df/dE) dE, evaluated independently with scipy.quad;
    # same 0.02 lattice tolerance as at T = 0.
    from scipy.integrate import quad
    energy, temperature, V0, hw_x, hw_y = 9.0, 2.0, 7.2, 1.5, 3.0
    kT = qpcsim.units.thermal_energy_meV(temperature)
    cold = qpcsim.solve(small_saddle, energy, V0=V0)
    warm = qpcsim.solve(small_saddle, energy, V0=V0, temperature=temperature)

    def weighted(e):
        return (saddle_module.buttiker_transmissions(e, V0, hw_x, hw_y).sum()
                / (4 * kT * np.cosh((e - energy) / (2 * kT)) ** 2))
    expected = quad(weighted, energy - 30 * kT, energy + 30 * kT, epsabs=1e-10, limit=200)[0]
    assert warm.conductance == pytest.approx(expected, abs=0.02)
    assert abs(warm.conductance - cold.conductance) > 0.01    # temperature visibly acts
    assert warm.unitarity_error < 1e-8


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("method", ["auto", "mumps", "rgf", "kwant"])
def test_energy_below_first_mode_gives_zero(small_saddle, method):
    # Below the first lead subband no channel is open: G = 0, no refusal (as kwant.smatrix).
    first = float(small_saddle.transverse_mode_energies(1)[0])
    for energy in (0.5 * first, 0.0, -1.0):
        res = qpcsim.solve(small_saddle, energy, method=method)
        assert res.conductance == 0.0
        assert tuple(res.open_modes) == (0, 0)
        assert res.transmission_eigenvalues.size == 0
    # just above it, one channel opens in a clean wire
    wire = clean_wire(width=100.0, a=5.0)
    e1, e2 = wire.transverse_mode_energies(2)
    assert qpcsim.solve(wire, 0.5 * (e1 + e2), method=method).conductance == pytest.approx(1, abs=1e-9)


def test_energy_sweep_from_band_bottom(small_saddle):
    # Kwant's tutorial wire: an energy sweep starting at 0 gives G = 0 below E_1, no refusal.
    wire = clean_wire(width=100.0, a=5.0)
    e1 = float(wire.transverse_mode_energies(1)[0])
    res = qpcsim.sweep(wire, {"energy": np.linspace(0, 3 * e1, 7)}, workers=1, progress=False)
    g = res.data["conductance"].values
    below = res.data["energy"].values <= e1
    assert below.sum() == 3 and np.all(g[below] == 0)
    assert np.all(res.data["open_modes"].values[below] == 0)
    assert np.all(g[~below] >= 1 - 1e-9)


def test_lattice_too_coarse_says_by_how_much():
    dev = clean_wire(width=100.0, a=5.0)
    with pytest.raises(ValueError, match=r"lambda_F = 16.8 nm needs a <= lambda_F/4 = 4.19 nm \(a is 1.19x too coarse\)"):
        qpcsim.solve(dev, 80.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(energy=np.nan), r"energy=nan meV is not allowed: it must be finite"),
    (dict(energy="ten"), r"energy='ten' is not allowed: it must be a real number meV"),
    (dict(energy=5.0, temperature=-1), r"temperature=-1.0 K is not allowed: it must be >= 0"),
    (dict(energy=5.0, method="magic"), r"method='magic' is not allowed"),
    (dict(energy=5.0, V1=3.0), r"unknown parameter 'V1'; known parameters are: B, V0, hw_x, hw_y"),
    (dict(energy=5.0, V0=np.inf), r"V0=inf meV is not allowed: it must be finite"),
])
def test_bad_solve_input(small_saddle, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.solve(small_saddle, **kwargs)


def test_unknown_parameter_mentions_structural_ones(small_saddle):
    with pytest.raises(ValueError, match=r"Geometry parameters \(zeeman, W, L, a, L_switch\)"):
        qpcsim.solve(small_saddle, 5.0, W=100.0)


@pytest.mark.parametrize("call, match", [
    (lambda d: qpcsim.scattering_matrix(d, 9.0, None, "auto"),
     r"params=None is not allowed \(not a mapping\): give the device's resolved parameters"),
    (lambda d: qpcsim.scattering_matrix(d, 9.0, {"V0": 1.0}, "auto"),
     r"params=\{'V0': 1.0\} is not allowed \(missing 'B', 'hw_x', 'hw_y'\)"),
    (lambda d: qpcsim.scattering_matrix(d, float("nan"), d.resolve_params({}), "auto"),
     "energy_meV=nan meV is not allowed: it must be finite"),
    (lambda d: qpcsim.scattering_matrix(d, "9", d.resolve_params({}), "auto") and
     qpcsim.scattering_matrix(d, "x", d.resolve_params({}), "auto"),
     "energy_meV='x' is not allowed: it must be a real number meV"),
    (lambda d: qpcsim.solve(None, 9.0), "device=None is not allowed: give a device"),
    (lambda d: qpcsim.scattering_matrix(None, 9.0, {}, "auto"),
     "device=None is not allowed: give a device"),
    (lambda d: qpcsim.scattering_matrix(d, 9.0, {**d.resolve_params({}), "B": float("nan")},
                                        "auto"), r"params\['B'\]=nan T is not allowed"),
    (lambda d: qpcsim.terminals.spin_factor_of(5), "device=5 is not allowed: give a device"),
])
def test_public_solves_refuse_bad_input_in_one_line(small_saddle, call, match):
    with pytest.raises(ValueError, match=match) as info:
        call(small_saddle)
    assert "\n" not in str(info.value)
