"""Thermoelectrics from the exact Onsager integrals: kappa quantization, Wiedemann-Franz,
Streda's thermopower peak, Mott where it holds and where it fails."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import clean_wire

import qpcsim
from qpcsim.physics.thermoelectric import KAPPA0_PER_KELVIN, streda_peak, thermoelectric
from qpcsim.spectral import Spectrum, build_grid


def staircase(steps):
    steps = np.asarray(steps, dtype=float)
    return lambda e: (np.asarray(e)[:, None] > steps[None, :]).astype(float)


@pytest.mark.parametrize("n_open", [1, 3])
def test_kappa_quantized_and_lorenz_on_plateaus(n_open):
    """A sharp staircase, mu mid-plateau: kappa = 2N kappa_0 (1e-3), L/L0 = 1 (1e-3)."""
    steps = [2.0 + 3.0 * k for k in range(6)]
    mu = steps[n_open - 1] + 1.5
    spec = Spectrum.from_function(build_grid(mu, [1.0], thresholds=steps), staircase(steps))
    te = thermoelectric(spec, 1.0)
    assert te.conductance == pytest.approx(n_open, abs=1e-6)
    assert te.thermal_conductance_quanta == pytest.approx(2 * n_open, rel=1e-3)
    assert te.thermal_conductance == pytest.approx(2 * n_open * KAPPA0_PER_KELVIN * 1.0, rel=1e-3)
    assert te.lorenz_ratio == pytest.approx(1.0, abs=1e-3)
    assert abs(te.thermopower) < 1e-3


def test_clean_wire_kappa_from_solves():
    """The same on real solves: a clean wire between two lead thresholds."""
    wire = clean_wire()
    e = wire.transverse_mode_energies(4)
    mu = 0.5 * (e[2] + e[3])
    temperature = 0.3 * (e[3] - e[2]) / 20 / qpcsim.units.K_BOLTZMANN_MEV
    res = qpcsim.solve(wire, mu, temperature=temperature)
    te = thermoelectric(res.spectrum, temperature)
    assert te.thermal_conductance_quanta == pytest.approx(6.0, rel=1e-3)
    assert te.lorenz_ratio == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_streda_thermopower_peak(n):
    """Sharp steps: the thermopower peak between plateaus n and n + 1 is (k_B/e) ln2/(n + 1/2)
    within 5 % (Streda 1989), negative for electrons. (Below the first step, n = 0, S grows into
    the pinch-off without a peak.)"""
    steps = [2.0 + 4.0 * k for k in range(5)]
    step = steps[n]
    peaks = []
    for mu in step + np.linspace(-0.25, 0.25, 41):
        spec = Spectrum.from_function(build_grid(mu, [0.5], thresholds=steps), staircase(steps))
        te = thermoelectric(spec, 0.5)
        peaks.append(te.thermopower)
    peak = min(peaks)
    assert peak < 0
    assert abs(peak) == pytest.approx(streda_peak(n), rel=0.05)


def test_mott_holds_for_slow_transmission_and_fails_for_fast():
    """T(E) logistic of width w: Mott within 1 % for k_B T << w, off by > 20 % for k_B T ~ w."""
    def logistic(width):
        return lambda e: (1.0 / (1.0 + np.exp(-(np.asarray(e) - 10.0) / width)))[:, None]
    mu = 10.3
    slow = thermoelectric(Spectrum.from_function(build_grid(mu, [0.5]), logistic(2.0)), 0.5)
    assert slow.thermopower == pytest.approx(slow.thermopower_mott, rel=0.01)
    fast = thermoelectric(Spectrum.from_function(build_grid(mu, [4.0], max_panel=0.1),
                                                 logistic(0.1)), 4.0)
    assert abs(fast.thermopower - fast.thermopower_mott) > 0.2 * abs(fast.thermopower)
    assert slow.peltier == pytest.approx(slow.thermopower * 0.5 * 1e-3, rel=1e-12)


def test_pinched_off_is_a_clear_error():
    spec = Spectrum.from_function(build_grid(10.0, [1.0]), lambda e: np.zeros((len(e), 1)))
    with pytest.raises(ValueError, match="pinched off"):
        thermoelectric(spec, 1.0)
