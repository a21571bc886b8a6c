"""dI/dV of every disorder realization (physics/bias_ensemble.py): bit-identical on any
worker count, and at finite temperature equal to a dense quadrature of that realization's
T(E) within the stated interpolation bound."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.units import thermal_energy_meV

ENERGY, BIAS = 9.0, 0.5     # meV, mV


@pytest.fixture(scope="module")
def disordered():
    saddle = qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)
    return qpcsim.with_disorder(saddle, 2.0)


def test_bit_identical_on_one_or_two_workers(disordered):
    run = dict(over={"V0": [5.0, 7.5]}, biases=[0.0, BIAS], energy=ENERGY)
    serial = qpcsim.bias_ensemble(disordered, 2, workers=1, **run)
    pool = qpcsim.bias_ensemble(disordered, 2, workers=2, **run)
    for name in serial.data_vars:
        np.testing.assert_array_equal(serial[name].values, pool[name].values, err_msg=name)
    assert serial["differential_conductance"].dims == ("seed", "V0", "bias")


def _simpson(f, a, b, n):
    x = np.linspace(a, b, 2 * n + 1)
    y = f(x)
    return (b - a) / (6 * n) * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum())


@pytest.mark.slow
def test_finite_temperature_didv_is_the_dense_quadrature(disordered):
    """dI/dV = int G(E) (F_L + F_R)/2 dE, F = -df/dE at mu = E_F +- eV/2 and T = 0.5 K, by
    Simpson's rule on 401 solves of seed 1 over E_F +- (V/2 + 20 kT) (tails < 1e-8; the
    Simpson error estimated by halving): within the bound plus that estimate (~15 s)."""
    temperature, v0 = 0.5, 6.0
    data = qpcsim.bias_ensemble(disordered, [1, 2], {"V0": [v0]}, [BIAS], ENERGY, temperature,
                                workers=1)
    kT = thermal_energy_meV(temperature)
    lo, hi = ENERGY - BIAS / 2 - 20 * kT, ENERGY + BIAS / 2 + 20 * kT
    nodes = np.linspace(lo, hi, 401)
    g = {e: qpcsim.solve(disordered, e, V0=v0, seed=1).conductance for e in nodes}
    def kernel(e):
        f = [1 / (4 * kT * np.cosh((e - mu) / (2 * kT)) ** 2)
             for mu in (ENERGY + BIAS / 2, ENERGY - BIAS / 2)]
        return 0.5 * (f[0] + f[1]) * np.array([g[x] for x in e])
    fine, coarse = _simpson(kernel, lo, hi, 200), _simpson(kernel, lo, hi, 100)
    value = float(data["differential_conductance"].sel(seed=1).values[0, 0])
    bound = float(data["didv_error_bound"].sel(seed=1).values[0, 0])
    assert 0 < bound <= 1e-4
    assert abs(value - fine) <= bound + abs(fine - coarse), (value, fine, bound)


@pytest.mark.parametrize("over, message", [
    ([("V0", [5.0])], r"over=\[\('V0', \[5.0\]\)\] is not allowed: give a mapping"),
    ({"V0": 5.0}, r"over\['V0'\]=5.0 is not allowed: give a non-empty 1-D sequence"),
])
def test_malformed_over_is_refused_in_one_line(disordered, over, message):
    with pytest.raises(ValueError, match=message) as refused:
        qpcsim.bias_ensemble(disordered, 2, over, [BIAS], ENERGY)
    assert "\n" not in str(refused.value)


def test_seeds_given_as_text_are_refused_by_name():
    """seeds="abc" was read letter by letter ("seed='a' is not allowed")."""
    device = qpcsim.with_disorder(qpcsim.Device(width=50.0, length=20.0, a=5.0), 1.0)
    with pytest.raises(ValueError, match="seeds='abc' is not allowed"):
        qpcsim.ensemble(device, "abc", energy=5.0)
