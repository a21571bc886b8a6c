"""The CLI daily loop (issue 26): reversed ranges, ``qpcsim summary`` and the summary at
the end of a sweep, in-process through :func:`qpcsim.cli.main`."""
import numpy as np
import pytest

import qpcsim
from qpcsim.analysis import find_steps, pinch_off
from qpcsim.cli import main
from qpcsim.cli.args import parse_sweep

SMALL = ["--set", "a=4", "--set", "W=200", "--set", "L=320"]


@pytest.mark.parametrize("spec, values", [
    ("V0=6:2:5", [6, 5, 4, 3, 2]), ("B=log:1:0.01:3", [1, 0.1, 0.01])])
def test_reversed_range_is_swept_in_the_given_order(spec, values):
    name, got = parse_sweep(spec)
    np.testing.assert_allclose(got, values, rtol=1e-14)


@pytest.fixture(scope="module")
def gate_sweeps(tmp_path_factory):
    """One forward and one reversed V0 sweep of the small saddle (E = 9 meV)."""
    tmp = tmp_path_factory.mktemp("loop")
    paths = {}
    for key, spec in (("up", "V0=3:11:33"), ("down", "V0=11:3:33")):
        paths[key] = tmp / f"{key}.nc"
        assert main(["sweep", "qpc_saddle", *SMALL, "--sweep", spec, "--energy", "9",
                     "--workers", "1", "--out", str(paths[key]), "--quiet"]) == 0
    return paths


def test_reversed_sweep_equals_the_forward_one_bit_for_bit(gate_sweeps):
    up, down = (qpcsim.load_result(gate_sweeps[k]) for k in ("up", "down"))
    np.testing.assert_array_equal(down["V0"].values, up["V0"].values[::-1])
    np.testing.assert_array_equal(down.conductance.values, up.conductance.values[::-1])


def test_summary_prints_pinch_off_and_risers_in_the_axis_unit(gate_sweeps, capsys):
    capsys.readouterr()
    assert main(["summary", str(gate_sweeps["down"])]) == 0
    text = capsys.readouterr().out
    res = qpcsim.load_result(gate_sweeps["up"])
    x, g = res["V0"].values, res.conductance.values
    # the saddle's V0 raises the barrier: G falls with V0; pinch-off where G = 1/2
    assert f"pinch-off (G = 0.5 G0): {pinch_off(x, g):.4g} meV" in text
    assert "riser spacings: " in text and "n      G/G0" in text
    assert len(find_steps(x, g)) >= 2
    assert "use >= " not in text


def test_short_field_sweep_prints_values_and_no_plateau_table(tmp_path, capsys):
    out = tmp_path / "b.nc"
    assert main(["sweep", "qpc_saddle", *SMALL, "--set", "V0=5", "--sweep", "B=0,0.5,1",
                 "--energy", "9", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    g = qpcsim.load_result(out).conductance.values
    assert "(B is not a gate axis: no plateau table)" in text
    assert "n      G/G0" not in text and "pinch-off" not in text
    for b, gi in zip((0, 0.5, 1), g):       # every value, 12 decimals
        assert f"{b:>14.6g} {gi:>16.12f}" in text


# ------------------------------------------------------------- a GDS layout to a sweep
GDS = "geometries/layouts/split_gate.gds"
LAYOUT = ["--layer", "1=left", "--layer", "2=right", "--depth", "50", "--density", "2.239e11"]


def test_gds_sweep_equals_the_split_gate_it_describes(tmp_path, capsys):
    # The bundled layout is qpc_split_gate_sc's gates; the default window (W = opening +
    # 2 x 1.2 d, L = gates + 2 (L_switch + 1.8 d)) is that geometry's 320 x 480 nm, and the
    # energy defaults to E_F in both (no --energy). Resolution 8 nm keeps it short.
    sweep = ["--set", "resolution=8", "--set", "V_right=-0.5", "--sweep", "V_left=-0.3,-0.6",
             "--workers", "1", "--quiet"]
    assert main(["sweep", GDS, *LAYOUT, *sweep, "--out", str(tmp_path / "gds.nc")]) == 0
    assert main(["sweep", "qpc_split_gate_sc", "--set", "split=true", *sweep,
                 "--out", str(tmp_path / "sc.nc")]) == 0
    # a rerun finds its own result and store (the fingerprint does not depend on what
    # the Thomas-Fermi cache held when it was taken)
    assert main(["sweep", GDS, *LAYOUT, *sweep, "--out", str(tmp_path / "gds.nc")]) == 0
    gds, sc = (qpcsim.load_result(tmp_path / f"{k}.nc") for k in ("gds", "sc"))
    np.testing.assert_allclose(gds.conductance.values, sc.conductance.values, atol=1e-10,
                               rtol=0)
    assert gds.attrs["energy_meV"] == sc.attrs["energy_meV"]     # E_F, not a guess
    assert gds.conductance.values[0] > gds.conductance.values[1] + 0.05   # the gate acts


@pytest.mark.parametrize("args, message", [
    ([GDS, "--layer", "1=left", "--depth", "50"], "a .gds geometry needs --density"),
    ([GDS, "--layer", "one=left", "--depth", "50", "--density", "2e11"],
     "--layer 'one=left' is malformed: use N=NAME"),
    ([GDS, "--layer", "7=left", "--depth", "50", "--density", "2e11"],
     "layer 7 (gate 'left') has no polygons"),
    ([GDS, *LAYOUT, "--set", "Vg=-1"], "--set Vg is not a parameter of the layout"),
    (["qpc_split_gate_sc", "--depth", "50"], "--depth is only allowed with a .gds geometry"),
])
def test_gds_bad_input_is_one_line(tmp_path, capsys, args, message):
    assert main(["sweep", *args, "--sweep", "V_left=-0.3,-0.6", "--out",
                 str(tmp_path / "r.nc"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ------------------------------------------------------- compare at several temperatures
def test_compare_temperatures_match_the_single_temperature_solves(tmp_path, capsys):
    geometry = dict(a=5.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)
    sets = [a for k, v in geometry.items() for a in ("--set", f"{k}={v:g}")]
    data = tmp_path / "cmp.nc"
    assert main(["compare", "qpc_saddle", *sets, "--disorder", "2", "--seeds", "2",
                 "--sweep", "V0=4:10:19", "--energy", "9", "--temperature", "0.5,2",
                 "--workers", "1", "--out", str(tmp_path / "cmp.png"), "--data",
                 str(data)]) == 0
    text = capsys.readouterr().out
    assert "T (K)" in text and (tmp_path / "cmp.png").stat().st_size > 10_000
    import xarray as xr
    from qpcsim.physics.compare import _clean_windows, _plateau_quality
    with xr.open_dataset(data) as ds:
        ds.load()
    np.testing.assert_array_equal(ds["temperature"].values, [0.5, 2.0])
    dev = qpcsim.load_geometry("qpc_saddle", **geometry)
    x = ds["V0"].values
    # The clean traces are the single-T solves, point by point.
    clean = {T: np.array([qpcsim.solve(dev, 9.0, temperature=T, V0=v).conductance for v in x])
             for T in (0.5, 2.0)}
    for k, T in enumerate((0.5, 2.0)):
        np.testing.assert_allclose(ds["clean"].values[k], clean[T], rtol=0, atol=1e-12)
    # A disordered seed's trace at 2 K is its single-T solve too (two points checked).
    dis = qpcsim.with_disorder(dev, 2.0)
    for i in (3, 12):
        g = qpcsim.solve(dis, 9.0, temperature=2.0, V0=x[i], seed=1).conductance
        assert abs(ds["conductance"].values[1, 0, 1, i] - g) < 1e-12
    # The metric on the lowest temperature's windows, recomputed from those solves.
    windows = _clean_windows(x, clean[0.5])
    for k, T in enumerate((0.5, 2.0)):
        q = _plateau_quality(x, clean[T], windows)
        assert abs(ds["quality_flatness"].values[k, 0] - q["flatness"]) < 1e-12
        assert abs(ds["quality_deviation"].values[k, 0] - q["deviation"]) < 1e-12
    # Thermal smearing: kT from 0.043 to 0.17 meV against risers ~0.5 meV wide roughly
    # doubles the clean plateaus' flatness (measured 0.028 -> 0.055 G0).
    assert 1.5 < ds["quality_flatness"].values[1, 0] / ds["quality_flatness"].values[0, 0] < 3


def test_energy_defaults_to_the_fermi_energy_where_the_device_knows_it():
    from qpcsim.cli.lengths import _default_energy
    sc = qpcsim.load_geometry("qpc_split_gate_sc", resolution=8.0, density=2.5e11)
    assert _default_energy(sc) == sc.metadata["fermi_energy_meV"]      # compare, lengths
    assert abs(sc.metadata["fermi_energy_meV"] - 8.93) < 0.01            # n_s / rho, GaAs


@pytest.mark.slow
def test_show_current_of_a_self_consistent_device_needs_no_energy(tmp_path):
    assert main(["show", "qpc_split_gate_sc", "--set", "resolution=8", "--set", "density=2.5e11",
                 "--current", "--out", str(tmp_path / "j.png")]) == 0   # no --energy needed


@pytest.mark.parametrize("name, unit, gate", [
    ("Vg", "V", True), ("V0", "meV", True), ("energy", "meV", True), ("B", "T", False),
    ("T", "K", False), ("x_tip", "nm", False), ("W", "nm", False), ("E_Z", "meV", False)])
def test_plateaus_only_for_gate_like_axes(name, unit, gate):
    from qpcsim.cli.summary import is_gate_like
    assert is_gate_like(name, unit) is gate


def test_temperature_series_summary_has_a_pinch_off_per_temperature(tmp_path, capsys):
    out = tmp_path / "ts.nc"
    assert main(["sweep", "qpc_saddle", *SMALL, "--sweep", "V0=6:11:7", "--sweep", "T=0.5,4",
                 "--energy", "9", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    data = qpcsim.load_result(out).data
    x = data["V0"].values
    for t in (0.5, 4.0):
        g = data["conductance"].sel(temperature=t).values
        assert f"T = {t:g} K: pinch-off {pinch_off(x, g):.4g} meV" in text


@pytest.mark.parametrize("path, layers, message", [
    (GDS, {"a": "left"}, r"layers key 'a' is not allowed"),
    (GDS, {(1,): "left"}, r"layers key \(1,\) is not allowed"),
    (GDS, {1.5: "left"}, r"layers key 1.5 is not allowed"),
    (None, {1: "left"}, r"path=None is not allowed"),
])
def test_gds_layout_bad_python_input_is_one_line(path, layers, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.electrostatics.device_from_gds(path, layers, depth_nm=50.0, density_cm2=2e11)
