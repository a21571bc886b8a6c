"""Disorder models, ensembles, mean free path, localization and UCF."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import qpcsim
from qpcsim.physics import born, fits
from qpcsim.physics import disorder as dis

A = 5.0   # lattice constant of the test wires (nm); t = 22.75 meV


def wire(**kw):
    return qpcsim.load_geometry("disordered_wire", a=A, **kw)


def mid_energy(device, above=21.0):
    th = device.transverse_mode_energies()
    k = int(np.searchsorted(th, above))
    return 0.5 * (th[k - 1] + th[k]), k


# ---------------------------------------------------------------- landscapes
def test_anderson_landscape_statistics_and_reproducibility():
    land = dis.anderson_landscape((200, 200), 12.0, seed=7)
    assert np.array_equal(land, dis.anderson_landscape((200, 200), 12.0, seed=7))
    assert not np.array_equal(land, dis.anderson_landscape((200, 200), 12.0, seed=8))
    assert land.min() >= -6.0 and land.max() <= 6.0
    # <V^2> = U^2/12 = 12 meV^2, to 2 % with 40 000 samples (SE 0.6 %)
    assert np.mean(land**2) == pytest.approx(12.0, rel=0.02)


def test_correlated_landscape_variance_and_correlation():
    lc = 4.0   # lattice constants
    lands = [dis.correlated_landscape((160, 160), 2.0, seed=s, correlation_sites=lc)
             for s in range(6)]
    var = np.mean([np.mean(l**2) for l in lands])
    assert var == pytest.approx(4.0, rel=0.1)        # rms amplitude 2 meV
    shift = int(lc)                                  # C(lc)/C(0) = exp(-1/2)
    corr = np.mean([np.mean(l[:-shift] * l[shift:]) for l in lands]) / var
    assert corr == pytest.approx(math.exp(-0.5), abs=0.06)
    assert np.array_equal(lands[0], dis.correlated_landscape((160, 160), 2.0, 0, lc))


def test_same_seed_same_conductance_on_every_executor():
    dev = wire(W=60.0, L=100.0)
    serial = qpcsim.ensemble(dev, 6, energy=20.0, workers=1, disorder=40.0)
    pool = qpcsim.ensemble(dev, 6, energy=20.0, workers=2, disorder=40.0)
    assert serial.executor == "serial" and pool.executor == "processes"
    assert np.array_equal(serial.conductance, pool.conductance)       # bit-identical
    again = wire(W=60.0, L=100.0)                                      # rebuilt device
    one = qpcsim.solve(again, 20.0, disorder=40.0, seed=3).conductance
    assert one == serial.conductance[3]
    assert np.std(serial.conductance) > 0.01                            # seeds differ


@pytest.mark.slow
def test_dask_executor_bit_identical():
    dev = wire(W=60.0, L=100.0)
    serial = qpcsim.ensemble(dev, 4, energy=20.0, workers=1, disorder=40.0)
    dask = qpcsim.ensemble(dev, 4, energy=20.0, workers=2, scheduler="local", disorder=40.0)
    assert np.array_equal(serial.conductance, dask.conductance)


def test_with_disorder_on_any_geometry():
    base = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    dev = dis.with_disorder(base, 1.5)
    assert set(dev.parameters) == set(base.parameters) | {"disorder", "seed",
                                                           "correlation_length"}
    clean = qpcsim.solve(base, 8.0, Vg=-0.8).conductance
    assert qpcsim.solve(dev, 8.0, Vg=-0.8, disorder=0.0).conductance == pytest.approx(
        clean, abs=1e-12)
    g = [qpcsim.solve(dev, 8.0, Vg=-0.8, disorder=20.0, seed=s).conductance for s in (0, 1)]
    assert abs(g[0] - g[1]) > 1e-4 and abs(g[0] - clean) > 1e-4
    with pytest.raises(ValueError, match="already has"):
        dis.with_disorder(dev, 1.0)


def test_ensemble_statistics_fields():
    dev = wire(W=60.0, L=100.0)
    r = qpcsim.ensemble(dev, 12, energy=20.0, workers=1, over={"disorder": [20.0, 40.0]})
    assert r.conductance.shape == (12, 2)
    assert np.allclose(r.mean, r.conductance.mean(axis=0), rtol=0, atol=1e-14)
    assert np.allclose(r.sem, r.conductance.std(axis=0, ddof=1) / math.sqrt(12))
    assert np.all(r.mean[1] < r.mean[0])                 # stronger disorder, lower G
    assert np.all(np.isfinite(r.ln_mean)) and np.all(r.var_sem > 0)
    dens, edges = r.histogram(5)
    assert np.sum(dens * np.diff(edges)) == pytest.approx(1.0)


def test_correlation_length_is_a_runtime_parameter():
    """One built device switches between Anderson and correlated landscapes; the
    result equals a device built with that default, bit for bit."""
    dev = wire(W=60.0, L=100.0)
    built = dev.build()
    g_and = qpcsim.solve(dev, 20.0, disorder=3.0, seed=5).conductance
    g_cor = qpcsim.solve(dev, 20.0, disorder=3.0, seed=5, correlation_length=15.0).conductance
    assert dev.build() is built                                   # not rebuilt
    assert abs(g_and - g_cor) > 1e-4
    fresh = wire(W=60.0, L=100.0, correlation_length=15.0, disorder=3.0, seed=5)
    assert qpcsim.solve(fresh, 20.0).conductance == g_cor
    x, y, v = dev.potential_landscape(disorder=3.0, seed=5, correlation_length=15.0)
    # rms 3 meV over a 20 x 11 grid with lc = 3 sites: loose bound (few correlation areas)
    assert 1.5 < np.std(v) < 4.5


# ---------------------------------------------------------------- Born vs measured
def test_lattice_dos_and_velocity_limits():
    assert born.lattice_dos_per_site(1e-6) == pytest.approx(1 / (4 * math.pi), rel=1e-5)
    assert born.fermi_surface_velocity(0.01) == pytest.approx(0.2, rel=2e-3)   # 2 sqrt(E/t)


def test_born_correlated_limits():
    """Correlated Born: lc -> 0 is white noise of variance U_rms^2 (= Anderson with
    U = sqrt(12) U_rms); near the band bottom l_tr/l_e = I0(x)/(I0(x) - I1(x)),
    x = (k_F lc)^2, the 2-D continuum result for a Gaussian correlator (1 %)."""
    import scipy.special as sp
    anderson = qpcsim.born_mean_free_path(21.8, 30.0, A)
    white = qpcsim.born_mean_free_path(21.8, 30.0 / math.sqrt(12), A, correlation_length=0.01)
    assert white.l_e == pytest.approx(anderson.l_e, rel=1e-9)
    assert white.l_tr == pytest.approx(white.l_e, rel=1e-9)
    for energy, lc in ((1.0, 20.0), (2.0, 20.0), (5.0, 10.0)):
        b = qpcsim.born_mean_free_path(energy, 0.3, A, correlation_length=lc)
        x = (qpcsim.units.wavevector_per_nm(energy) * lc) ** 2
        assert b.l_tr / b.l_e == pytest.approx(sp.i0e(x) / (sp.i0e(x) - sp.i1e(x)), rel=0.01)
        # hbar/tau_e = pi U^2 (lc/a)^2 e^-x I0(x) / t (continuum golden rule)
        rate = math.pi * 0.3**2 * (lc / A) ** 2 * sp.i0e(x) / qpcsim.units.hopping_meV(A)
        assert b.hbar_over_tau == pytest.approx(rate, rel=0.03)


def test_born_vs_measured_correlated_disorder():
    """Smooth disorder with lc = a (k_F lc = 1): l_tr = 1.8 l_e; the fitted l_tr
    agrees with Born to 25 % (measured 0.87; it drops to 0.76 at k_F lc = 2,
    see docs)."""
    lengths = [50.0, 100.0, 200.0, 400.0, 800.0]
    energy, N = mid_energy(wire(W=100.0, L=50.0))
    U, lc = 7.0, 5.0
    means, sems = [], []
    for L in lengths:
        r = qpcsim.ensemble(wire(W=100.0, L=L), 40, energy=energy, workers=2, disorder=U,
                         correlation_length=lc)
        means.append(r.transmission.mean())
        sems.append(r.transmission.std(ddof=1) / math.sqrt(r.n))
    fit = qpcsim.fit_mean_free_path(lengths, means, N, sems)
    born = qpcsim.born_mean_free_path(energy, U, A, correlation_length=lc)
    assert born.valid and born.l_tr / born.l_e == pytest.approx(1.81, abs=0.02)
    assert fit.l_tr == pytest.approx(born.l_tr, rel=0.25)


def test_born_vs_measured_transport_mean_free_path():
    """<T>(L) = N/(1 + L/l), l = (pi/2) l_tr: Born l_tr within 25 % (measured: 3 %)."""
    U, lengths = 30.0, [50.0, 100.0, 200.0, 400.0, 800.0]
    energy, N = mid_energy(wire(W=100.0, L=50.0))
    means, sems = [], []
    for L in lengths:
        r = qpcsim.ensemble(wire(W=100.0, L=L), 40, energy=energy, workers=2, disorder=U)
        means.append(r.transmission.mean())
        sems.append(r.transmission.std(ddof=1) / math.sqrt(r.n))
    fit = qpcsim.fit_mean_free_path(lengths, means, N, sems)
    born = qpcsim.born_mean_free_path(energy, U, A)
    assert born.valid and N == 6
    assert fit.l_tr == pytest.approx(born.l_tr, rel=0.25)
    assert fit.l == pytest.approx(0.5 * math.pi * fit.l_tr)
    assert np.max(np.abs(fit.model(lengths) - means)) < 0.15     # the law fits (N = 6)


def test_localization_length_order_of_magnitude():
    """xi from <ln T> = c - 2L/xi vs (beta N + 2 - beta) l, l the fitted quasi-1-D
    mean free path (= (pi/2) l_tr, Beenakker): within a factor 1.5 (measured 1.09
    for beta = 1, N = 3; with l_tr in place of l it would be 1.7)."""
    U, energy, W, n = 30.0, 20.0, 60.0, 120
    short = [qpcsim.ensemble(wire(W=W, L=L), n, energy=energy, workers=2, disorder=U)
             for L in (60.0, 120.0, 240.0)]
    N = int(np.sum(wire(W=W, L=60.0).transverse_mode_energies() < energy))
    fit = qpcsim.fit_mean_free_path([60, 120, 240], [r.transmission.mean() for r in short], N)
    lengths = (1400.0, 2400.0, 3500.0)
    longs = [qpcsim.ensemble(wire(W=W, L=L), n, energy=energy, workers=2, disorder=U)
             for L in lengths]
    loc = qpcsim.fit_localization_length(lengths, [r.ln_mean for r in longs],
                                      [r.ln_sem for r in longs])
    predicted = qpcsim.predicted_localization_length(N, fit.l, beta=1)
    assert N == 3 and lengths[0] > 2 * N * fit.l_tr                  # L >> N l_tr
    assert 1 / 1.5 < loc.xi / predicted < 1.5


def test_ucf_variance_beta1_and_finite_field():
    """Quasi-1-D diffusive wire (W = 200 nm << L = 1 um, N = 12, L/l = 4.2,
    L/xi ~ 0.3, g ~ 2): var(T) = 2/15 (beta = 1) within 20 % with 300 seeds
    (SE 8 %; measured 0.131 +- 0.011). At B = 0.3 T (~15 flux quanta through
    the wire) it drops toward 1/15 (beta = 2): measured 0.080 +- 0.006, ratio 0.61."""
    U, L = 25.0, 1000.0
    dev = wire(W=200.0, L=L)
    energy, N = mid_energy(dev)
    born = qpcsim.born_mean_free_path(energy, U, A)
    assert N == 12 and 3 < L / born.l_wire < 0.5 * (N + 1)   # l << L << xi = (N + 1) l
    r0 = qpcsim.ensemble(dev, 300, energy=energy, workers=2, disorder=U)
    r0.require("variance", 0.2)
    var0 = r0.transmission.var(ddof=1)
    assert var0 == pytest.approx(fits.UCF_VARIANCE[1], rel=0.2)
    rB = qpcsim.ensemble(dev, 300, energy=energy, workers=2, disorder=U, B=0.3)
    varB = rB.transmission.var(ddof=1)
    assert 0.35 < varB / var0 < 0.8                                   # theory 0.5
    assert varB == pytest.approx(fits.UCF_VARIANCE[2], rel=0.35)


# ---------------------------------------------------------------- bad input
def test_bad_input_messages():
    with pytest.raises(ValueError, match=">= 0"):
        wire(disorder=-1.0)
    with pytest.raises(ValueError, match="correlation_length=-3.0 nm is not allowed"):
        wire(correlation_length=-3.0)
    with pytest.raises(ValueError, match="correlation_length=-1.0 nm is not allowed"):
        qpcsim.solve(wire(), 20.0, correlation_length=-1.0)
    with pytest.raises(ValueError, match="correlation_length"):
        qpcsim.born_mean_free_path(20.0, 1.0, A, correlation_length=-2.0)
    # far beyond the device, the noise grid padded by 4 lc took minutes (2500 nm on 11 x 9
    # sites) or asked for TiB; the Born kernel asked for 30 GiB at 1e9 nm
    with pytest.raises(ValueError, match="device=None is not allowed: give a device"):
        qpcsim.with_disorder(None, 1.0)
    small = qpcsim.with_disorder(qpcsim.Device(width=50, length=50, a=5), 2.0)
    with pytest.raises(ValueError, match=r"correlation_length=2500 nm is not allowed on this "
                                         r"device: at most its largest side, 55 nm"):
        qpcsim.solve(small, 5.0, correlation_length=2500.0)
    assert 0 < qpcsim.solve(small, 5.0, correlation_length=55.0).conductance
    wide = qpcsim.with_disorder(qpcsim.Device(width=300, length=100, a=10), 2.0)
    assert 0 < qpcsim.solve(wide, 10.0, correlation_length=300.0).conductance   # lc = W
    with pytest.raises(ValueError, match=r"correlation_length=1e\+09 nm is not allowed: at most "
                                         r"1000 lattice constants"):
        qpcsim.born_mean_free_path(20.0, 1.0, A, correlation_length=1e9)
    with pytest.raises(ValueError, match=">= 0"):
        qpcsim.solve(wire(), 20.0, disorder=-2.0)
    with pytest.raises(ValueError, match="non-negative integer"):
        dis.anderson_landscape((3, 3), 1.0, seed=1.5)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        qpcsim.ensemble(wire(), [4], energy=20.0, workers=1)
    with pytest.raises(ValueError, match="no 'seed' parameter"):
        qpcsim.ensemble(qpcsim.Device(width=50, length=50, a=5), 4, energy=20.0)
    r = qpcsim.ensemble(wire(W=40.0, L=50.0), 10, energy=20.0, workers=1)
    with pytest.raises(ValueError, match="at least 51 are needed"):
        r.require("variance", 0.2)
    with pytest.warns(RuntimeWarning, match="too strong for the Born approximation"):
        b = qpcsim.born_mean_free_path(20.0, 200.0, A)
    assert not b.valid
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert qpcsim.born_mean_free_path(20.0, 20.0, A).valid


# ---------------------------------------------------------------- model devices
def test_disordered_rashba_wire_conducts_less_and_is_reproducible():
    """A ContinuumDevice (2 orbitals): the landscape is V(x, y) x identity in spin space.
    Clean: 2 spin channels = 1 G0 to 1e-9; Anderson U = 80 meV lowers G for every seed
    (measured 0.81, 0.97, 0.50 G0 for seeds 0, 1, 2), bit for bit the same on a rebuilt copy."""
    clean = qpcsim.load_geometry("rashba_wire", W=40.0, L=60.0)
    dirty = qpcsim.with_disorder(clean, 80.0)
    assert isinstance(dirty, qpcsim.ContinuumDevice) and dirty.norbs == 2
    assert set(dirty.parameters) == {"alpha", "B", "disorder", "seed", "correlation_length"}
    g_clean = qpcsim.solve(clean, 20.0, B=0.5).conductance
    assert g_clean == pytest.approx(1.0, abs=1e-9)
    assert qpcsim.solve(dirty, 20.0, B=0.5, disorder=0.0).conductance == g_clean
    g = [qpcsim.solve(dirty, 20.0, B=0.5, seed=s).conductance for s in range(3)]
    assert max(g) < g_clean - 0.02 and np.mean(g) < g_clean - 0.15
    assert len(set(g)) == 3                                          # seeds differ
    again = qpcsim.with_disorder(qpcsim.load_geometry("rashba_wire", W=40.0, L=60.0), 80.0,
                                 seed=1)
    assert qpcsim.solve(again, 20.0, B=0.5).conductance == g[1]      # bit-identical
    # the same grid as Device: every orbital of a site sees the same value
    x, y = dirty.site_positions_nm()
    v = dirty.potential_at(x, y, {"seed": 1})
    grid = dis.DisorderField(dirty)(x, y, 80.0, 1)
    assert np.array_equal(v, grid) and np.abs(v).max() <= 40.0


def test_disordered_graphene_ribbon_site_landscape():
    """A honeycomb lattice: one uniform number per atom in position order, <V^2> = U^2/12
    (to 10 % with ~1900 atoms, SE 2 %); the zigzag plateau 3 G0 drops under U = 0.3 eV and the
    same seed gives the same bits; correlated disorder has unit variance at every atom (mean over
    seeds to 10 %)."""
    ribbon = qpcsim.load_geometry("graphene_ribbon")
    energy = ribbon.metadata["energy_meV"]
    dirty = qpcsim.with_disorder(ribbon, 300.0, seed=4)
    assert isinstance(dirty, qpcsim.GrapheneRibbon)
    x, y = dirty.site_positions_nm()
    v = dirty.potential_at(x, y, {"disorder": 12.0})
    assert np.abs(v).max() <= 6.0 and np.mean(v**2) == pytest.approx(12.0, rel=0.1)
    perm = np.random.default_rng(0).permutation(x.size)          # a function of position only
    assert np.array_equal(dirty.potential_at(x[perm], y[perm], {"disorder": 12.0}), v[perm])
    assert dirty.potential_at(np.array([500.0]), np.array([0.0]), {}).tolist() == [0.0]
    g = qpcsim.solve(dirty, energy).conductance
    assert g < 3.0 - 0.05
    assert qpcsim.solve(qpcsim.with_disorder(ribbon, 300.0, seed=4), energy).conductance == g
    field = dis.SiteDisorderField(ribbon)
    var = np.mean([np.mean(field.unit_landscape(s, 2.0) ** 2) for s in range(20)])
    assert var == pytest.approx(1.0, rel=0.1)
    with pytest.raises(ValueError, match="correlation_length=100000 nm is not allowed on this "
                                         "device: at most its largest side"):
        field.unit_landscape(0, 1e5)              # was a 4.81 TiB MemoryError
