"""Length-scale hierarchy, thermal smearing, adiabaticity and the CLI."""
from __future__ import annotations

import math

import numpy as np
import pytest

import qpcsim
from qpcsim import lengths as ls
from qpcsim.cli import main


@pytest.fixture(scope="module")
def wire():
    return qpcsim.Device(width=100.0, length=200.0, a=5.0, name="clean wire")


def energy_mid(device, n=3):
    th = device.transverse_mode_energies()
    return 0.5 * (th[n - 1] + th[n]), th[n] - th[n - 1]


def test_clean_cold_coherent_device_shows_plateaus(wire):
    e, _ = energy_mid(wire)
    s = ls.length_scales(wire, e, 0.0)
    assert s.plateaus_visible and s.open_modes == 3
    assert s.lambda_F == pytest.approx(qpcsim.units.fermi_wavelength_nm(e))
    assert math.isinf(s.L_T) and math.isinf(s.l_e_born)
    assert "should be visible" in s.report()


def test_each_verdict_flips_when_its_length_drops_below_L(wire):
    e, dE = energy_mid(wire)
    base = ls.length_scales(wire, e, 0.0, disorder=5.0)
    assert base.condition("L << l_e").ok and base.l_e_born > 10 * wire.length
    dirty = ls.length_scales(wire, e, 0.0, disorder=30.0)
    assert dirty.l_e_born < wire.length and not dirty.condition("L << l_e").ok
    assert not dirty.plateaus_visible
    dephased = ls.length_scales(wire, e, 0.0, L_phi=0.5 * wire.length)
    assert dephased.condition("L << L_phi").ratio == pytest.approx(2.0)
    assert not dephased.condition("L << L_phi").ok and not dephased.plateaus_visible
    assert ls.length_scales(wire, e, 0.0, L_phi=2 * wire.length).plateaus_visible
    # L_T = hbar v_F / kT drops below L = 200 nm above ~ 20 K at 12 meV
    hot = ls.length_scales(wire, e, 40.0)
    assert hot.L_T < wire.length and not hot.condition("L << L_T").ok
    assert hot.L_T == pytest.approx(qpcsim.units.thermal_length_nm(e, 40.0))
    T_edge = 0.05 * dE / qpcsim.units.K_BOLTZMANN_MEV     # kT = dE/20
    assert ls.length_scales(wire, e, T_edge, L=10.0).condition("k_BT << dE").ok
    warm = ls.length_scales(wire, e, 10 * T_edge, L=10.0)   # kT = dE/2
    assert not warm.condition("k_BT << dE").ok and warm.condition("L << L_T").ok
    # adiabaticity: a taper shorter than lambda_F flips the verdict
    lam = qpcsim.units.fermi_wavelength_nm(e)
    abrupt = ls.length_scales(wire, e, 0.0, taper=0.5 * lam)
    assert abrupt.condition("lambda_F << taper").ratio == pytest.approx(2.0)
    assert not abrupt.condition("lambda_F << taper").ok and not abrupt.plateaus_visible
    assert ls.length_scales(wire, e, 0.0, taper=5 * lam).plateaus_visible


def test_hierarchy_reads_the_devices_own_disorder():
    """A disordered wire reports its own disorder: Anderson U = 30 meV gives
    l_e = l_tr (Born); smooth disorder (lc = 20 nm, k_F lc = 2.2) gives
    l_tr >> l_e, and the verdict uses l_tr."""
    dev = qpcsim.load_geometry("disordered_wire", W=100.0, L=200.0, a=5.0, disorder=30.0)
    e, _ = energy_mid(dev)
    s = ls.length_scales(dev, e, 0.0)
    assert s.disorder == 30.0 and s.l_e_born == pytest.approx(s.l_tr_born)
    assert s.l_e_born == pytest.approx(
        qpcsim.born_mean_free_path(e, 30.0, 5.0).l_e, rel=1e-12)
    assert not s.condition("L << l_e").ok                   # 200 nm > l_e ~ 100 nm
    smooth = ls.length_scales(dev, e, 0.0, disorder=2.0, correlation_length=20.0)
    assert smooth.l_tr_born > 5 * smooth.l_e_born
    assert smooth.condition("L << l_e").ratio == pytest.approx(200.0 / smooth.l_tr_born)
    assert "U_rms = 2 meV, lc = 20 nm" in smooth.report()


def test_thermal_smearing_of_plateaus(wire):
    """At the plateau centre G = 3 to 1e-4 for kT = dE/20; kT = dE/2 smears it by > 0.02."""
    e, dE = energy_mid(wire)
    k = qpcsim.units.K_BOLTZMANN_MEV
    cold = qpcsim.solve(wire, e, temperature=0.05 * dE / k).conductance
    warm = qpcsim.solve(wire, e, temperature=0.5 * dE / k).conductance
    assert abs(cold - 3) < 1e-4
    assert abs(warm - 3) > 0.02


def test_measured_and_born_mean_free_path_in_report():
    dev = qpcsim.Device(width=100.0, length=200.0, a=5.0)
    s = ls.length_scales(dev, 21.8, 0.0, disorder=30.0, measure=True, seeds=24)
    assert s.l_e_measured == pytest.approx(s.l_e_born, rel=0.25)
    assert "l_e (measured)" in s.report()


def test_adiabaticity_plateau_deviation_falls_with_taper():
    res = qpcsim.adiabaticity_scan(tapers=(0.0, 100.0, 300.0), plateaus=(1, 2, 3))
    assert res.deviation[0] > 0.02                   # abrupt: mode mixing
    assert res.deviation[-1] < 3e-3                  # adiabatic
    assert res.deviation[-1] < 0.1 * res.deviation[0]
    assert res.ratio[-1] == pytest.approx(300.0 / res.lambda_F)
    assert res.threshold == pytest.approx(res.ratio[1])   # flat to 2e-3 from ~2 lambda_F


def test_plateau_quality_degrades_with_L_over_le():
    """Split gate (a = 8 nm, L = 480 nm), 4 seeds: on the clean plateaus |G - n| is
    < 0.01 clean and grows with L/l_tr (measured 0.003, 0.17, 0.75 for L/l_tr = 0,
    0.5, 4.7); the quantized plateaus found per trace drop from 1 to 0."""
    dev = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    r = qpcsim.compare_disorder(dev, [5.0, 15.0], 4, {"Vg": np.linspace(-1.3, -0.5, 25)}, 8.0,
                            workers=1)
    q = [r.quality[u] for u in (0.0, 5.0, 15.0)]
    assert q[0]["deviation"] < 0.01 and q[0]["plateaus"] >= 1
    assert q[0]["L_over_le"] < q[1]["L_over_le"] < 1 < q[2]["L_over_le"]
    assert q[0]["deviation"] < 0.5 * q[1]["deviation"] < 0.5 * q[2]["deviation"]
    assert q[2]["plateaus"] < q[0]["plateaus"]
    assert r.ensembles[15.0].conductance.shape == (4, 25)


def test_cli_lengths(capsys):
    assert main(["lengths", "qpc_saddle", "--set", "a=4", "--temperature", "0.1",
                 "--energy", "8", "--disorder", "2", "--no-measure"]) == 0
    out = capsys.readouterr().out
    assert "L << l_e" in out and "verdict" in out and "lambda_F" in out
    assert main(["lengths", "qpc_saddle", "--temperature", "-1", "--energy", "8"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_cli_compare_small(tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["compare", "qpc_split_gate", "--set", "a=8", "--disorder", "0,20",
                 "--seeds", "2", "--sweep", "Vg=-1.2:-0.4:41", "--energy", "8",
                 "--workers", "1", "--out", str(out)]) == 0
    assert out.stat().st_size > 1000
    text = capsys.readouterr().out
    assert "L/l_e" in text and "nan" not in text
    # too few points: no NaN table, but why (issue 14)
    assert main(["compare", "qpc_split_gate", "--set", "a=8", "--disorder", "0,20",
                 "--seeds", "2", "--sweep", "Vg=-1.2:-0.4:9", "--energy", "8",
                 "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "1 point(s) per plateau (fewest between two risers), need >= 8" in err
    assert main(["compare", "qpc_split_gate", "--disorder", "-1", "--seeds", "2",
                 "--sweep", "Vg=-1:-0.5:5", "--out", str(out)]) == 2
    assert main(["compare", "qpc_split_gate", "--disorder", "1", "--seeds", "1",
                 "--sweep", "Vg=-1:-0.5:5", "--out", str(out)]) == 2
    assert "at least 2" in capsys.readouterr().err
