"""ResultData (engine/result_data.py): the one description of a result, from which the
xarray Dataset and the NetCDF file are both built. The direct writer writes xarray's own
bytes for every kind the CLI saves, and a CLI sweep imports neither xarray nor pandas nor
Dask."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import qpcsim
from qpcsim.engine.kind import Run
from qpcsim.engine.result import data_checksum, save_dataset
from qpcsim.engine.result_data import ResultData
from qpcsim.engine.sweep import plan_sweep, run_kind

ROOT = Path(__file__).resolve().parent.parent


def _tiny():
    return qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


#: Every kind of result the CLI writes (``qpcsim sweep``: grid, adaptive, structural,
#: temperature series; ``qpcsim bias --data``; ``qpcsim compare --data``), on a coarse device.
RESULTS = {
    "grid_1d": lambda: qpcsim.sweep(_tiny(), {"V0": [2.0, 4.0]}, energy=8.0, workers=1,
                                    progress=False).data,
    "grid_2d": lambda: qpcsim.sweep(_tiny(), {"V0": [2.0, 4.0], "B": [0.0, 0.5]}, energy=8.0,
                                    workers=1, progress=False).data,
    "adaptive_1d": lambda: qpcsim.sweep(_tiny(), {"V0": [0.0, 8.0]}, energy=8.0, adaptive=0.5,
                                        max_points=6, workers=1, progress=False).data,
    "adaptive_2d": lambda: qpcsim.sweep(_tiny(), {"V0": [0.0, 8.0], "B": [0.0, 1.0]},
                                        energy=8.0, adaptive=0.5, max_points=8, workers=1,
                                        progress=False).data,
    "structural": lambda: qpcsim.sweep(_tiny(), {"hw_y": [2.5, 3.0]}, energy=8.0, workers=1,
                                       progress=False).data,
    "temperature_series": lambda: qpcsim.temperature_series(
        _tiny(), {"V0": [3.0, 5.0]}, 8.0, [1.0, 2.0], workers=1, progress=False),
    "bias_map": lambda: qpcsim.bias_map(_tiny(), {"V0": [3.0, 5.0]}, [0.0, 0.5], energy=8.0,
                                        max_panel=0.8, workers=1),
    "compare": lambda: qpcsim.compare_disorder(
        _tiny(), [2.0], 2, {"V0": np.linspace(3.0, 9.0, 13)}, 9.0, workers=1).to_dataset(),
}


@pytest.fixture(scope="module", params=sorted(RESULTS))
def result(request):
    return request.param, RESULTS[request.param]()


def _read(path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()


def test_direct_file_is_xarrays_file(result, tmp_path):
    """save_dataset writes through h5netcdf directly (no fallback to xarray's writer for
    any kind qpcsim saves), byte for byte what ``to_netcdf`` writes, and it reads back
    identical, encodings included."""
    name, data = result
    assert ResultData.from_dataset(data) is not None, f"{name}: not written directly"
    ours = save_dataset(data.copy(), tmp_path / "ours.nc")
    theirs = tmp_path / "xarray.nc"
    data.attrs["data_checksum"] = data_checksum(data)
    data.to_netcdf(theirs, engine="h5netcdf")
    assert ours.read_bytes() == theirs.read_bytes(), name
    a, b = _read(ours), _read(theirs)
    xr.testing.assert_identical(a, b)
    for var in a.variables:
        enc_a, enc_b = dict(a[var].encoding), dict(b[var].encoding)
        assert enc_a.pop("source") != enc_b.pop("source")
        assert repr(enc_a) == repr(enc_b), (name, var)


def test_result_data_round_trip(result):
    """ResultData.from_dataset(d).to_dataset() is d (the two faces of one description)."""
    _, data = result
    xr.testing.assert_identical(ResultData.from_dataset(data).to_dataset(), data)


@pytest.mark.parametrize("over", [{"V0": [2.0, 4.0]}, {"V0": [0.0, 8.0], "B": [0.0, 1.0]},
                                  {"V0": [3.0, 5.0], "T": [1.0, 2.0]}],
                         ids=["grid", "adaptive_2d", "temperature_series"])
def test_kind_result_data_is_its_dataset(over, tmp_path):
    """A kind's ResultData (what the CLI saves without xarray) is its Python result: the
    same Dataset and the same file bytes, and the same checksum without xarray."""
    adaptive = 0.5 if "B" in over else None
    kind = plan_sweep(_tiny(), over, 8.0, adaptive=adaptive, max_points=8)
    data = run_kind(kind, workers=1, progress=False, as_data=True)
    assert isinstance(data, ResultData)
    run = Run("serial", 1, 0)
    expected = kind.result(run)
    expected = getattr(expected, "data", expected)
    xr.testing.assert_identical(data.to_dataset(), expected)
    assert data_checksum(data) == data_checksum(expected)
    save_dataset(data, tmp_path / "direct.nc")
    save_dataset(expected, tmp_path / "xarray.nc")
    assert (tmp_path / "direct.nc").read_bytes() == (tmp_path / "xarray.nc").read_bytes()


def test_unsupported_dataset_keeps_xarrays_writer(tmp_path):
    """What the direct writer does not cover (booleans, a list attribute, a coordinate on no
    variable, float32) goes to xarray's writer, and reads back as xarray writes it."""
    cases = [xr.Dataset({"ok": (("x",), np.array([True, False]))}),
             xr.Dataset({"g": (("x",), np.zeros(2))}, coords={"p": (("y",), np.ones(3))}),
             xr.Dataset({"g": (("x",), np.zeros(2))}, attrs={"levels": [1, 2]}),
             xr.Dataset({"g": (("x",), np.zeros(2, dtype=np.float32))})]
    for k, data in enumerate(cases):
        assert ResultData.from_dataset(data) is None
        xr.testing.assert_identical(_read(save_dataset(data, tmp_path / f"{k}.nc")).drop_attrs(),
                                    data.drop_attrs())


def test_cli_sweep_imports_no_xarray_pandas_dask(tmp_path):
    """The README's CLI sweep, in a fresh interpreter, saves its result without importing
    xarray, pandas or Dask (0.4 s of its fixed cost), and the file is a qpcsim result."""
    out = tmp_path / "F.nc"
    code = ("import sys\nfrom qpcsim.cli import main\n"
            f"code = main(['sweep', {str(ROOT / 'geometries' / 'qpc_split_gate.py')!r}, "
            f"'--set', 'd=60', '--sweep', 'Vg=-1.6:-0.2:2', '--energy', '8', '--out', "
            f"{str(out)!r}, '--quiet'])\n"
            "print(sorted(m for m in ('xarray', 'pandas', 'dask') if m in sys.modules))\n"
            "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
    loaded = qpcsim.load_result(out)   # checksum and physical bounds checked
    device = qpcsim.load_geometry("qpc_split_gate", d=60)
    api = qpcsim.sweep(device, {"Vg": [-1.6, -0.2]}, energy=8.0, workers=1, progress=False)
    np.testing.assert_array_equal(loaded.conductance.values, api.conductance.values)
    assert loaded.conductance.values[-1] > 7.5   # the trace's last plateau (8 open modes)


def test_result_data_outside_the_direct_writer_gets_xarrays_refusal(tmp_path):
    """A ResultData the direct writer does not cover (a "/" in a name, which h5netcdf would
    turn into a group that the reader then calls damaged) is saved by xarray's writer,
    which refuses it in one line; a dims/values mismatch is refused when it is made."""
    data = ResultData({"G/2": (("x",), np.zeros(2))}, coords={"x": np.arange(2.0)})
    with pytest.raises(ValueError, match="Forward slashes"):
        save_dataset(data, tmp_path / "slash.nc")
    assert not (tmp_path / "slash.nc").exists()
    with pytest.raises(ValueError, match=r"'g': dims \('x',\) do not match its 2-D values"):
        ResultData({"g": (("x",), np.zeros((2, 3)))})
    with pytest.raises(ValueError, match=r"'g': dims \('g',\) do not match its 0-D values"):
        ResultData({"g": 5.0})
    with pytest.raises(ValueError, match=r"^data_vars=5 is not allowed: give a mapping"):
        ResultData(5)


def test_an_ensemble_has_no_grid_result_data():
    """EnsembleKind is a GridKind underneath, but its result is the ensemble's: run_kind
    with as_data gives the EnsembleResult, not a per-seed grid."""
    from qpcsim.physics.ensemble import EnsembleKind
    from qpcsim.physics.disorder import SEED_PARAM
    device = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=60.0)
    spec = qpcsim.SweepSpec.build(device, {SEED_PARAM: [1.0, 2.0]}, 20.0, 0.0,
                                  fixed={"disorder": 40.0})
    result = run_kind(EnsembleKind(spec, np.array([1, 2]), None), as_data=True, workers=1)
    assert type(result).__name__ == "EnsembleResult"
    assert result.samples["conductance"].shape == (2,)


def test_series_trace_names_a_missing_axis():
    from qpcsim.cli.summary import trace_by_temperature
    from qpcsim.engine.result_data import Column
    g = Column(("V0", "temperature"), np.zeros((3, 2)), {})
    assert trace_by_temperature(g, "V0").shape == (3, 2)
    with pytest.raises(ValueError, match=r"name='Vg' is not allowed: the variable's dims"):
        trace_by_temperature(g, "Vg")
