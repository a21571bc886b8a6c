"""Büttiker voltage probes: current conservation, coherent limit, dephasing physics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import qpcsim
from qpcsim import dephasing as dp


def wire(**kw):
    return qpcsim.load_geometry("disordered_wire", a=5.0, **kw)


def test_zero_coupling_reproduces_coherent_result():
    dev = wire(W=40.0, L=300.0)
    for seed in (0, 3):
        coherent = qpcsim.solve(dev, 20.0, disorder=30.0, seed=seed).transmission
        r = dp.probe_conductance(dev, 20.0, 0.0, disorder=30.0, seed=seed)
        assert r.conductance == pytest.approx(coherent, abs=1e-10)
        assert r.coherent_transmission == pytest.approx(coherent, abs=1e-10)


@pytest.mark.parametrize("coupling", [0.02, 0.3])
def test_probes_conserve_current(coupling):
    dev = wire(W=40.0, L=200.0)
    r = dp.probe_conductance(dev, 20.0, coupling, disorder=30.0, seed=1, B=0.5)
    assert r.current_sum < 1e-10              # sum of all terminal currents
    assert r.sum_rule_error < 1e-10           # sum_q T_pq = sum_q T_qp (unitarity)
    assert r.probe_current_error < 1e-10      # every probe draws zero net current
    assert r.currents[1] == pytest.approx(-r.conductance, abs=1e-10)
    assert np.all((r.probe_potentials > -1e-9) & (r.probe_potentials < 1 + 1e-9))


def test_dephasing_suppresses_localization_and_restores_ohmic_scaling():
    """Coherent: R grows exponentially with L (localized, xi ~ 0.6 um). With probes
    (L_phi ~ 60 nm) the resistance grows linearly (Ohm): equal increments within 15 %."""
    lengths = [300.0, 600.0, 900.0]
    seeds = range(3)
    R_coh, R_deph = [], []
    for L in lengths:
        dev = wire(W=40.0, L=L)
        g_c = [qpcsim.solve(dev, 20.0, disorder=40.0, seed=s).conductance for s in range(40)]
        g_d = [dp.probe_conductance(dev, 20.0, 0.1, disorder=40.0, seed=s).conductance
               for s in seeds]
        R_coh.append(np.exp(-np.mean(np.log(g_c))))     # typical resistance
        R_deph.append(np.mean(1 / np.array(g_d)))
    inc_c, inc_d = np.diff(R_coh), np.diff(R_deph)
    assert inc_c[1] > 2.5 * inc_c[0]                        # coherent: super-linear
    assert inc_d[1] == pytest.approx(inc_d[0], rel=0.15)    # dephased: Ohmic
    assert R_deph[-1] < 0.3 * R_coh[-1]                     # localization suppressed


def test_dephasing_suppresses_resonances():
    """Fluctuations of G(E) (Fabry-Perot/mesoscopic resonances) of a short
    disordered wire shrink by more than 2x with probes."""
    dev = wire(W=40.0, L=300.0)
    energies = np.linspace(15.0, 25.0, 15)
    g_c = [qpcsim.solve(dev, e, disorder=30.0, seed=2).conductance for e in energies]
    g_d = [dp.probe_conductance(dev, e, 0.1, disorder=30.0, seed=2).conductance
           for e in energies]
    assert np.std(g_d) < 0.5 * np.std(g_c)


def test_coupling_to_phase_coherence_length():
    dev = wire(W=40.0, L=100.0)
    d = dp.dephasing_length(dev, 20.0, 0.1)
    # tau_phi = hbar/(2 c t): t = 22.75 meV, c = 0.1 -> 0.1447 ps
    assert d.tau_phi_ps == pytest.approx(0.6582119569 / (2 * 0.1 * dev.t), rel=1e-6)
    v = qpcsim.units.fermi_velocity_m_per_s(20.0)
    assert d.L_phi == pytest.approx(v * d.tau_phi_ps * 1e-3, rel=1e-9) and d.regime == "ballistic"
    dd = dp.dephasing_length(dev, 20.0, 0.1, l_tr=10.0)
    assert dd.regime == "diffusive" and dd.L_phi == pytest.approx(math.sqrt(5.0 * d.L_phi))
    assert dp.coupling_for_length(dev, 20.0, d.L_phi) == pytest.approx(0.1, rel=1e-9)
    assert dp.coupling_for_length(dev, 20.0, dd.L_phi, l_tr=10.0) == pytest.approx(0.1)
    assert math.isinf(dp.dephasing_length(dev, 20.0, 0.0).L_phi)


@pytest.mark.parametrize("coupling", [0.005, 0.01, 0.03])
def test_coupling_sets_measured_coherence_length(coupling):
    """Clean 6-mode wire, probes on every column: the direct (never absorbed)
    transmission is sum_n exp(-L_p/l_n), l_n = v_n tau_phi = a sin(k_n a)/c and
    L_p = nx a the probed length, to 0.5 % (measured: 0.02-0.15 %)."""
    dev = qpcsim.Device(width=100.0, length=400.0, a=5.0)
    r = dp.probe_conductance(dev, 20.0, coupling)
    l_n = dp.mode_coherence_lengths(dev, 20.0, coupling)
    assert l_n.size == 6
    expected = np.sum(np.exp(-dev.nx * dev.a / l_n))
    assert r.coherent_transmission == pytest.approx(expected, rel=5e-3)
    # the mode-averaged l_n is of the order of the 2-D v_F tau_phi (within 2x)
    d = dp.dephasing_length(dev, 20.0, coupling)
    assert 0.5 < np.mean(l_n) / d.L_phi < 1.0


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_coupling_outside_unit_interval_rejected(bad):
    dev = wire(W=40.0, L=100.0)
    with pytest.raises(ValueError, match="coupling"):
        dp.probe_conductance(dev, 20.0, bad)


def test_pickled_device_drops_the_probe_systems():
    """probe_conductance caches its probe systems in the device's solver context, never on
    the Device: a pickle (every Dask task) must not carry them (measured: 2.9 kB -> 99 kB
    when they were on it)."""
    import pickle
    device = qpcsim.Device(width=20.0, length=30.0, a=2.0)
    before = len(pickle.dumps(device))
    dp.probe_conductance(device, 5.0, 0.2)
    assert qpcsim.backends.solver_context(device).derived_systems
    assert len(pickle.dumps(device)) <= before + 100


@pytest.mark.parametrize("l_tr", [-1.0, 0.0, "x"])
def test_dephasing_length_refuses_a_mean_free_path_that_is_not_positive(l_tr):
    device = qpcsim.Device(width=60.0, length=60.0, a=5.0)
    with pytest.raises(ValueError, match=r"l_tr=.* is not allowed"):
        qpcsim.dephasing_length(device, 5.0, 0.1, l_tr=l_tr)
