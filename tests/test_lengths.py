"""Length-scale hierarchy, thermal smearing, adiabaticity and the CLI."""
from __future__ import annotations

import math

import numpy as np
import pytest

import qpcsim
from conftest import assert_figure
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
    base = ls.length_scales(wire, e, 0.0, disorder=1.0)
    assert base.condition("L << l_e").ok and base.l_e_born > 10 * wire.length
    # U = 5 meV: l_tr = 18 L, still <T> = N/(1 + L/l) = 2.90: 0.1 off the plateau
    weak = ls.length_scales(wire, e, 0.0, disorder=5.0)
    assert not weak.condition("L << l_e").ok
    assert weak.condition("L << l_e").predicted == pytest.approx(0.143, abs=0.005)
    dirty = ls.length_scales(wire, e, 0.0, disorder=30.0)
    assert dirty.l_e_born < wire.length and not dirty.condition("L << l_e").ok
    assert not dirty.plateaus_visible
    dephased = ls.length_scales(wire, e, 0.0, L_phi=0.5 * wire.length)
    assert dephased.condition("L << L_phi").ratio == pytest.approx(2.0)
    # pure dephasing does not backscatter: plateaus stay, interference goes
    assert not dephased.condition("L << L_phi").ok and dephased.plateaus_visible
    assert not dephased.interference_visible
    probes = ls.length_scales(wire, e, 0.0, L_phi=0.5 * wire.length, dephasing="probes")
    assert not probes.condition("L << l_probe").ok and not probes.plateaus_visible
    assert ls.length_scales(wire, e, 0.0, L_phi=2 * wire.length).plateaus_visible
    # L_T = hbar v_F / kT drops below L = 200 nm above ~ 20 K at 12 meV
    hot = ls.length_scales(wire, e, 40.0)
    assert hot.L_T < wire.length and not hot.condition("L << L_T").ok
    assert hot.condition("L << L_T").kind == "interference"
    assert hot.L_T == pytest.approx(qpcsim.units.thermal_length_nm(e, 40.0))
    T_edge = 0.05 * dE / qpcsim.units.K_BOLTZMANN_MEV     # kT = dE/20
    assert ls.length_scales(wire, e, T_edge, L=10.0).condition("k_BT << dE").ok
    warm = ls.length_scales(wire, e, 10 * T_edge, L=10.0)   # kT = dE/2
    assert not warm.condition("k_BT << dE").ok and warm.condition("L << L_T").ok
    # adiabaticity: a taper shorter than lambda_F flips the rule of thumb (solve=False); the
    # verdict of the solve stays with the device, whose real taper is not that one
    lam = qpcsim.units.fermi_wavelength_nm(e)
    abrupt = ls.length_scales(wire, e, 0.0, taper=0.5 * lam, solve=False)
    assert abrupt.condition("lambda_F << taper").ratio == pytest.approx(2.0)
    assert not abrupt.condition("lambda_F << taper").ok and not abrupt.plateaus_visible
    assert ls.length_scales(wire, e, 0.0, taper=0.5 * lam).plateaus_visible
    assert ls.length_scales(wire, e, 0.0, taper=5 * lam, solve=False).plateaus_visible


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


def test_plateau_quality_degrades_with_L_over_le(tmp_path):
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
    # the comparison is data too: saved and read back by plain xarray
    import xarray as xr
    with xr.open_dataset(r.save(tmp_path / "c.nc"), engine="h5netcdf") as data:
        np.testing.assert_array_equal(data["clean"].values, r.clean)
        np.testing.assert_array_equal(data["conductance"].sel(disorder=15.0).values,
                                      r.ensembles[15.0].conductance)
        assert data["Vg"].attrs["units"] == "V"
        assert data["quality_deviation"].sel(quality_disorder=15.0) == q[2]["deviation"]


def test_cli_lengths(capsys):
    assert main(["lengths", "qpc_saddle", "--set", "a=4", "--temperature", "0.1",
                 "--energy", "9", "--disorder", "20", "--no-measure"]) == 0
    out = capsys.readouterr().out
    assert "L << l_e" in out and "verdict" in out and "lambda_F" in out
    # U = 20 meV over L = 600 nm backscatters; the verdict names exactly the failed condition
    assert "verdict: plateaus should NOT be (fully) visible: failed L << l_e\n" in out
    # E = 8 meV is the saddle's second threshold (V0 + 3/2 hbar w_y): no plateau there
    assert main(["lengths", "qpc_saddle", "--set", "a=4", "--temperature", "0.1",
                 "--energy", "8", "--no-measure"]) == 2
    assert "energy=8 meV is not on a plateau" in capsys.readouterr().err
    assert main(["lengths", "qpc_saddle", "--temperature", "-1", "--energy", "8"]) == 2
    assert "temperature" in capsys.readouterr().err


def test_cli_compare_small(tmp_path, capsys):
    out = tmp_path / "cmp.png"
    assert main(["compare", "qpc_split_gate", "--set", "a=8", "--disorder", "0,20",
                 "--seeds", "2", "--sweep", "Vg=-1.2:-0.4:41", "--energy", "8",
                 "--workers", "1", "--out", str(out)]) == 0
    assert_figure(out)
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


# ----------------------------------------------------------------- verdicts vs solves
def test_verdicts_follow_the_measured_conductance():
    """Each verdict against the solve it predicts (|G - N| < VISIBLE_TOL = 0.05 iff visible).

    * clean 3 um wire at 1 K (a = 10 nm): L/L_T = 2.16 (2.08 at a = 5 nm) but T(E) is flat: visible, G = 3.00000;
    * saddle (hbar w_y = 4 meV, hbar w_x = 1 meV) at 3.5 K: k_BT = 0.30 meV against the
      constriction's 4 meV (not the lead's ~0.5 meV): visible, G = 0.999;
    * Büttiker probes at c = 0.03 (6 modes, L = 200 nm): they relax momentum, G = 3.1;
    * disordered wire with l_e < L (U = 30 meV): G = 0.9 of 3 modes.
    """
    wire = qpcsim.Device(width=100.0, length=3000.0, a=10.0)
    e, _ = energy_mid(wire)
    s = ls.length_scales(wire, e, 1.0)
    assert s.L / s.L_T == pytest.approx(2.16, abs=0.02) and not s.condition("L << L_T").ok
    assert s.plateaus_visible and not s.has_constriction
    assert "no constriction" in s.report()
    g = qpcsim.solve(wire, e, temperature=1.0).conductance
    assert g == pytest.approx(3.0, abs=1e-5)

    saddle = qpcsim.load_geometry("qpc_saddle", hw_y=4.0, W=100.0, L=250.0, a=5.0)
    s = ls.length_scales(saddle, 9.0, 3.5)
    assert s.has_constriction and s.mode_spacing == pytest.approx(4.0, abs=0.05)
    assert s.step_width == pytest.approx(1.0 / (2 * math.pi), rel=0.05)   # hbar w_x / 2 pi
    assert s.plateaus_visible and s.open_modes == 1
    g = qpcsim.solve(saddle, 9.0, temperature=3.5).conductance
    assert abs(g - 1) < ls.VISIBLE_TOL and abs(g - 1) < 2e-3

    short = qpcsim.Device(width=100.0, length=200.0, a=5.0)
    e6, _ = energy_mid(short, 6)
    coupling = 0.03
    L_phi = qpcsim.dephasing_length(short, e6, coupling).L_phi
    s = ls.length_scales(short, e6, 0.0, L_phi=L_phi, dephasing="probes")
    assert not s.plateaus_visible and s.failed() == ["L << l_probe"]
    g = qpcsim.probe_conductance(short, e6, coupling).conductance
    assert abs(g - 6) > ls.VISIBLE_TOL and g == pytest.approx(3.1, abs=0.1)
    assert s.condition("L << l_probe").predicted == pytest.approx(6 - g, abs=0.7)
    assert ls.length_scales(short, e6, 0.0, L_phi=L_phi, dephasing="pure").plateaus_visible

    dirty = qpcsim.load_geometry("disordered_wire", W=100.0, L=200.0, a=5.0, disorder=30.0)
    e3, _ = energy_mid(dirty)
    s = ls.length_scales(dirty, e3, 1.0)
    assert s.l_tr_born < s.L and s.L_T_regime == "diffusive"
    v_F = qpcsim.units.fermi_velocity_m_per_s(e3)
    D = v_F * s.l_tr_born * 1e-9 / 2
    kT_J = qpcsim.units.thermal_energy_meV(1.0) * 1e-3 * qpcsim.units.E_CHARGE
    assert s.L_T == pytest.approx(math.sqrt(qpcsim.units.HBAR * D / kT_J) * 1e9, rel=1e-12)
    assert s.failed() == ["L << l_e"]
    r = qpcsim.ensemble(dirty, 6, energy=e3, workers=1)
    assert abs(r.transmission.mean() - 3) > 10 * ls.VISIBLE_TOL


def test_taper_is_the_constrictions_not_the_envelopes():
    """The split gate's taper is the 10-90 % rise of its lowest subband bottom (156 nm),
    not L_switch (100 nm); its subband spacing is the saddle's (1.27 meV between the
    first two), not the lead's (0.164 meV); the hard wall reports its L_taper."""
    sg = qpcsim.load_geometry("qpc_split_gate")
    con = ls.constriction_of(sg)
    assert con.present and con.taper == pytest.approx(156.0, abs=8.0)
    assert con.thresholds[1] - con.thresholds[0] == pytest.approx(1.27, abs=0.02)
    lead = sg.transverse_mode_energies(3)
    assert lead[1] - lead[0] == pytest.approx(0.164, abs=0.002)
    s = ls.length_scales(sg, 0.5 * (con.thresholds[0] + con.thresholds[1]), 0.1)
    assert s.taper == con.taper and s.open_modes == 1 and s.has_constriction
    hw = ls.length_scales(qpcsim.load_geometry("qpc_hardwall", a=5.0), 4.0, 0.1)
    assert hw.taper == 300.0


def test_lengths_bad_input():
    saddle = qpcsim.load_geometry("qpc_saddle", hw_y=4.0, W=100.0, L=250.0, a=5.0)
    th = ls.constriction_of(saddle).thresholds
    with pytest.raises(ValueError, match=r"energy=7 meV is not on a plateau: it lies .* from "
                                         r"the constriction threshold 6.99"):
        ls.length_scales(saddle, 7.0, 0.0)
    broad = qpcsim.load_geometry("qpc_saddle", hw_x=4.0, hw_y=1.0, W=100.0, L=250.0, a=5.0)
    with pytest.raises(ValueError, match=r"no energy is on a plateau of this device"):
        ls.length_scales(broad, 0.5 * (th[0] + th[1]), 0.0)
    with pytest.raises(ValueError, match=r"dephasing='both' is not allowed"):
        ls.length_scales(saddle, 9.0, 0.0, dephasing="both")
    for bad in (-5.0, 0.0, float("nan")):         # -5 gave "L << l_e: -8 ... NO"
        with pytest.raises(ValueError, match="l_e_measured=.* is not allowed"):
            ls.length_scales(saddle, 9.0, 0.0, l_e_measured=bad)
    with pytest.raises(ValueError, match="seeds=1 is not allowed: the fit weights each length "
                                         "by its ensemble's standard error"):
        ls.measure_mean_free_path(40.0, 5.0, 20.0, 10.0, seeds=1)


def test_verdict_follows_the_solve_where_the_rule_of_thumb_disagrees():
    """A saddle (hbar w_y = 4 meV) on plateau 1 at T = 3.5 K, told its taper is 10 nm: the
    rule of thumb lambda_F << taper fails (ratio 4.7), but the thermal solve gives
    |G - 1| = 3e-4 < VISIBLE_TOL: the verdict is the solve's, the ratio stays an explanation."""
    from qpcsim.physics.lengths import VISIBLE_TOL, length_scales
    device = qpcsim.load_geometry("qpc_saddle", hw_y=4.0, a=4.0)
    scales = length_scales(device, 10.0, 3.5, params={"V0": 6.0}, taper=10.0)
    assert "lambda_F << taper" in scales.failed()
    assert scales.solved_deviation < VISIBLE_TOL
    assert scales.plateaus_visible
    assert "verdict (from the solve)" in scales.report()
    assert not length_scales(device, 10.0, 3.5, params={"V0": 6.0}, taper=10.0,
                             solve=False).plateaus_visible


@pytest.mark.parametrize("kwargs, match", [
    (dict(plateaus=(0,)), "plateau=0 is not allowed: it must be a whole number >= 1"),
    (dict(tolerance=-1.0), "tolerance=-1.0 G0 is not allowed: it must be > 0")])
def test_adiabaticity_scan_refuses_a_plateau_or_tolerance_it_cannot_use(kwargs, match):
    with pytest.raises(ValueError, match=match):
        qpcsim.adiabaticity_scan((0.0, 10.0), **kwargs)
