"""The scanning-gate tip (physics/sgm.py): a derived device with runtime tip
parameters, exact without the tip, on two-terminal and multi-terminal devices."""
import numpy as np
import pytest

import qpcsim
from qpcsim import Lead


@pytest.fixture(scope="module")
def qpc():
    return qpcsim.load_geometry("qpc_split_gate", a=8.0)


@pytest.mark.parametrize("profile", ["lorentzian", "gaussian"])
def test_tip_off_is_bit_identical_and_tip_on_backscatters(qpc, profile):
    tipped = qpcsim.with_tip(qpc, width=20.0, height=5.0, profile=profile)
    assert set(qpcsim.physics.sgm.TIP_PARAMS) <= set(tipped.parameters)
    assert tipped.units["x_tip"] == "nm" and tipped.units["tip_height"] == "meV"
    bare = qpcsim.solve(qpc, 8.0, Vg=-0.9)
    off = qpcsim.solve(tipped, 8.0, Vg=-0.9, tip_height=0.0)
    assert off.conductance == bare.conductance                      # bit-identical
    on = qpcsim.solve(tipped, 8.0, Vg=-0.9, x_tip=0.0, y_tip=0.0)
    assert on.conductance < 0.2 * bare.conductance                  # the tip closes the QPC
    far = qpcsim.solve(tipped, 8.0, Vg=-0.9, x_tip=0.0, y_tip=1e7)   # tail < 1e-10 meV
    assert far.conductance == pytest.approx(bare.conductance, abs=1e-8)


def test_tip_profile_values(qpc):
    tipped = qpcsim.with_tip(qpc, width=20.0, height=2.0, profile="gaussian", x_tip=30.0)
    base = qpc.potential_at(np.array([30.0, 50.0]), np.zeros(2))
    values = tipped.potential_at(np.array([30.0, 50.0]), np.zeros(2))
    np.testing.assert_allclose(values - base, [2.0, 2.0 * np.exp(-0.5)], rtol=1e-12)
    lorentz = qpcsim.with_tip(qpc, width=20.0, height=2.0, x_tip=30.0)
    np.testing.assert_allclose(lorentz.potential_at(np.array([50.0]), np.zeros(1)) - base[1],
                               [1.0], rtol=1e-12)


def test_sgm_map_is_a_sweep_and_tip_keeps_terminals(qpc):
    tipped = qpcsim.with_tip(qpc, width=20.0, height=5.0)
    result = qpcsim.sweep(tipped, {"x_tip": [60.0, 120.0], "y_tip": [-40.0, 0.0, 40.0]},
                          energy=8.0, Vg=-0.9, workers=1, progress=False)
    g = result.data["conductance"].values
    assert g.shape == (2, 3) and np.allclose(g[:, 0], g[:, 2], atol=1e-8)   # mirror y -> -y
    bar = qpcsim.Device(width=100.0, length=100.0, a=5.0,
                        leads=[Lead("a", "left"), Lead("b", "top", 0.0, 40.0)])
    tipped_bar = qpcsim.with_tip(bar, width=10.0)
    assert tipped_bar.terminals == ("a", "b") and tipped_bar.gauge == "edges"


def test_bad_tip_input(qpc):
    with pytest.raises(ValueError, match="profile='cone' is not allowed"):
        qpcsim.with_tip(qpc, width=20.0, profile="cone")
    with pytest.raises(ValueError, match="width"):
        qpcsim.with_tip(qpc, width=0.0)
    with pytest.raises(ValueError, match="carries a tip already"):
        qpcsim.with_tip(qpcsim.with_tip(qpc, width=20.0), width=20.0)
    with pytest.raises(ValueError, match="device=None is not allowed: give a device"):
        qpcsim.with_tip(None, width=20.0)


def test_cli_sweep_with_tip_is_an_sgm_map(tmp_path, capsys):
    from qpcsim.cli import main
    out = tmp_path / "sgm.nc"
    assert main(["sweep", "qpc_split_gate", "--set", "a=8", "--set", "Vg=-0.9", "--tip", "15:3",
                 "--sweep", "x_tip=60,120", "--sweep", "y_tip=-40,0,40", "--energy", "8",
                 "--workers", "1", "--out", str(out), "--quiet"]) == 0
    g = qpcsim.load_result(out).data["conductance"].values
    assert g.shape == (2, 3) and np.allclose(g[:, 0], g[:, 2], atol=1e-8)
    assert g[0, 1] < g[1, 1]                       # the tip nearer the QPC backscatters more
    assert main(["sweep", "qpc_split_gate", "--tip", "15", "--sweep", "x_tip=60,120",
                 "--energy", "8", "--out", str(tmp_path / "x.nc")]) != 0
    assert "--tip '15' is not allowed: give WIDTH:HEIGHT" in capsys.readouterr().err


def _lobes(dG):
    """Lobes of a transverse SGM cut: maxima of -dG / max(-dG) above 0.5, each separated
    from its neighbours by a dip of at least 0.2 (scipy's prominence)."""
    from scipy.signal import find_peaks
    s = -dG / np.max(-dG)
    peaks, _ = find_peaks(np.concatenate(([0.0], s, [0.0])), height=0.5, prominence=0.2)
    return peaks - 1, s


@pytest.mark.parametrize("x_tip", [90.0, 120.0])
def test_sgm_cut_has_n_lobes_on_plateau_n(x_tip):
    """Topinka et al. 2000: beyond the QPC exit the tip-induced dG(y_tip) mirrors
    |psi_n|^2 of the highest open transverse mode: n lobes on the n-th plateau."""
    dev = qpcsim.with_tip(qpcsim.load_geometry("qpc_split_gate", a=8.0), width=15.0, height=3.0)
    ys = np.arange(-120.0, 121.0, 8.0)
    for n, vg in {1: -0.95, 2: -0.78, 3: -0.6}.items():
        bare = qpcsim.solve(dev, 8.0, Vg=vg, tip_height=0.0).conductance
        assert bare == pytest.approx(n, abs=0.05)                       # on plateau n
        cut = qpcsim.sweep(dev, {"y_tip": ys}, energy=8.0, Vg=vg, x_tip=x_tip, workers=1,
                           progress=False)
        dG = cut.data["conductance"].values - bare
        peaks, s = _lobes(dG)
        assert len(peaks) == n, (n, x_tip, np.round(s, 2))
        np.testing.assert_allclose(ys[peaks], -ys[peaks][::-1], atol=1e-9)   # mirror in y
        assert np.all(np.abs(ys[peaks]) < 100.0)          # in the beam, not at the walls
        if n == 2:
            assert s[len(ys) // 2] < 0.6                  # the node of psi_2 on the axis
