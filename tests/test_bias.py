"""Finite bias from spectral data: half plateaus, diamond spacings, equality with direct solves,
bias maps, the CLI."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.cli import main
from qpcsim.physics.bias import current, diamond_spacings, differential_conductance
from qpcsim.spectral import compute_spectrum, device_grid

HW_Y = 3.0
V0 = 4.0


@pytest.fixture(scope="module")
def adiabatic_saddle():
    """A clean adiabatic saddle (hbar w_y = 3 meV >> hbar w_x = 1 meV), coarse lattice."""
    return qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.0, hw_y=HW_Y)


@pytest.fixture(scope="module")
def wide_spectrum(adiabatic_saddle):
    """One spectrum over 3..13 meV: the Fermi energy then plays the gate (lever arm 1)."""
    params = adiabatic_saddle.resolve_params({"V0": V0})
    grid = device_grid(adiabatic_saddle, 8.0, [0.0], bias=10.0, params=params)
    return compute_spectrum(adiabatic_saddle, grid, params)


def test_half_plateaus_and_diamond_spacings(wide_spectrum):
    """Symmetric drop: dI/dV = (n + 1/2) G0 within 0.02 at eV = hbar w_y mid-way between
    subband edges, and the diamonds' vertices at eV = hbar w_y within 5 %."""
    for n in (0, 1):
        edge = V0 + HW_Y * (n + 0.5)          # subband n opens at E_F = V0 + hbar w_y (n + 1/2)
        g = differential_conductance(wide_spectrum, [HW_Y], mu=edge)[0]
        assert g == pytest.approx(n + 0.5, abs=0.02)
        assert differential_conductance(wide_spectrum, [0.0], mu=edge + HW_Y / 2)[0] == \
            pytest.approx(n + 1, abs=0.02)
    mus = np.linspace(5.0, 11.0, 121)
    biases = np.linspace(0.0, 4.0, 41)
    didv = np.array([differential_conductance(wide_spectrum, biases, mu=m) for m in mus])
    spacings = diamond_spacings(mus, biases, didv)
    assert len(spacings) == 2
    np.testing.assert_allclose(spacings, HW_Y, rtol=0.05)


def test_cached_bias_integrals_equal_direct_solves(wide_spectrum, adiabatic_saddle):
    """dI/dV at T = 0 is (T(mu + eV/2) + T(mu - eV/2))/2: the cached interpolant equals solving
    at those energies within 1e-5 G0; I(V) -> G V for small V; dI/dV = dI/dV numerically at T > 0."""
    mu = 7.3
    for v in (0.37, 1.9, 3.3):
        direct = 0.5 * sum(qpcsim.solve(adiabatic_saddle, mu + s * v / 2, V0=V0).transmission
                           for s in (1, -1))
        assert differential_conductance(wide_spectrum, [v], mu=mu)[0] == pytest.approx(direct,
                                                                                       abs=1e-5)
    g = qpcsim.solve(adiabatic_saddle, mu, V0=V0).conductance
    small = 1e-4
    assert current(wide_spectrum, small, mu=mu) == pytest.approx(
        g * qpcsim.G0_SIEMENS * small * 1e-3, rel=1e-5)
    # finite temperature: analytic dI/dV vs a centred difference of I(V)
    h = 1e-3
    num = (current(wide_spectrum, 2.0 + h, 1.0, mu) - current(wide_spectrum, 2.0 - h, 1.0, mu)) \
        / (2 * h * 1e-3) / qpcsim.G0_SIEMENS
    assert differential_conductance(wide_spectrum, [2.0], 1.0, mu)[0] == pytest.approx(num, abs=1e-6)


def test_bias_map_dataset(adiabatic_saddle):
    data = qpcsim.bias_map(adiabatic_saddle, {"V0": [3.0, 4.0, 5.0]}, np.linspace(-1, 1, 5),
                           energy=8.0, workers=1, max_panel=0.5)
    assert data["differential_conductance"].dims == ("V0", "bias")
    assert data["bias"].attrs["units"] == "mV"
    assert data["current"].attrs["units"] == "nA"
    g0 = [qpcsim.solve(adiabatic_saddle, 8.0, V0=v).conductance for v in (3.0, 4.0, 5.0)]
    np.testing.assert_allclose(data["differential_conductance"].sel(bias=0.0).values, g0, atol=1e-5)
    # antisymmetric current, symmetric dI/dV under V -> -V
    cur = data["current"].values
    np.testing.assert_allclose(cur, -cur[:, ::-1], atol=1e-9)


def test_bias_bad_input(adiabatic_saddle, wide_spectrum):
    with pytest.raises(ValueError, match="bias=30 mV is not allowed at energy=8 meV"):
        device_grid(adiabatic_saddle, 8.0, [0.0], bias=30.0)
    with pytest.raises(ValueError, match="leaves the spectrum's energy window"):
        differential_conductance(wide_spectrum, [12.0], mu=8.0)
    with pytest.raises(ValueError, match="sweeps exactly one gate parameter"):
        qpcsim.bias_map(adiabatic_saddle, {"V0": [1.0], "hw_x": [1.0]}, [0.5], energy=8.0)


def _cli_bias(tmp_path, sweep, bias, resolution):
    out = tmp_path / "map.png"
    code = main(["bias", "qpc_saddle", "--set", "a=5", "--set", "W=150", "--set", "L=200",
                 "--set", "hw_x=1.0", "--set", "hw_y=3", "--sweep", sweep, "--bias", bias,
                 "--energy", "8", "--workers", "1", "--resolution", resolution,
                 "--out", str(out), "--data", str(tmp_path / "map.nc")])
    return code, out


def test_cli_bias_runs(tmp_path, capsys):
    code, out = _cli_bias(tmp_path, "V0=3:5:5", "-2:2:5", "0.8")
    text = capsys.readouterr().out
    assert code == 0 and out.exists() and (tmp_path / "map.nc").exists()
    assert "solves per gate point" in text
    assert main(["bias", "qpc_saddle", "--sweep", "V0=1:2:3", "--bias", "4:-4:3",
                 "--energy", "8", "--out", str(out)]) == 2
    assert "--bias '4:-4:3' is not allowed" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_bias_prints_spacings(tmp_path, capsys):
    code, _ = _cli_bias(tmp_path, "V0=0.5:6:23", "-4:4:41", "0.5")
    text = capsys.readouterr().out
    values = [float(line.split("=")[-1].split()[0]) for line in text.splitlines()
              if "vertex at" in line]
    assert code == 0 and values and np.allclose(values, HW_Y, rtol=0.05)


@pytest.mark.parametrize("extra, message", [
    (["--sweep", "B=0:1:2"], "--sweep is given 2 times: a bias map sweeps one gate parameter"),
    (["--data", "{out}"], "--out and --data name the same file"),
    (["--out", "{dir}/map.txt"], "the figure format '.txt' is not supported"),
])
def test_cli_bias_refuses_before_any_solve(tmp_path, capsys, monkeypatch, extra, message):
    import qpcsim.physics.bias as bias_module
    monkeypatch.setattr(bias_module, "bias_map", lambda *a, **k: pytest.fail("solved"))
    out = tmp_path / "map.png"
    extra = [e.format(out=out, dir=tmp_path) for e in extra]
    args = ["bias", "qpc_saddle", "--set", "a=10", "--sweep", "V0=1:2:3", "--bias", "-1:1:3",
            "--energy", "8", "--out", str(out)] + extra
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_cli_bias_and_current_hold_runtime_parameters_with_set(tmp_path, capsys):
    """--set B=... holds the field as in every command; --set and --param may not both
    name one parameter."""
    out = tmp_path / "m.png"
    geometry = ["qpc_saddle", "--set", "a=10", "--set", "W=150", "--set", "L=250"]
    assert main(["bias", *geometry, "--set", "B=0.5", "--sweep", "V0=1:2:3", "--bias",
                 "-1:1:3", "--energy", "8", "--workers", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["current", *geometry, "--set", "V0=4", "--param", "V0=5", "--energy", "8",
                 "--out", str(tmp_path / "c.png")]) == 2
    assert "['V0'] given with both --set and --param" in capsys.readouterr().err
