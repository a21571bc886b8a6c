"""The temperature series (physics/series.py): its provenance, its hash, its refusals."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.physics.series import series_hash


@pytest.fixture(scope="module")
def tiny():
    return qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


def test_series_dataset_is_a_loadable_result_with_provenance(tiny, tmp_path):
    over = {"V0": [3.0, 4.5]}
    ds = qpcsim.temperature_series(tiny, over, 8.0, [1.0, 2.0], workers=1, progress=False,
                                   B=0.2)
    assert ds.attrs["store_hash"] == series_hash(tiny, over, 8.0, [1.0, 2.0], B=0.2)
    assert ds.attrs["store_hash"] != series_hash(tiny, over, 8.0, [1.0, 3.0], B=0.2)
    assert ds.attrs["geometry"] == "qpc_saddle" and '"B": 0.2' in ds.attrs["device_parameters"]
    assert "temperature_K" not in ds.attrs and ds.attrs["temperatures_K"] == "[1.0, 2.0]"
    path = qpcsim.engine.SweepResult(ds).save(tmp_path / "s.nc")
    back = qpcsim.load_result(path)
    assert back.swept == ["V0"]
    np.testing.assert_array_equal(back.conductance.values, ds["conductance"].values)
    caption = back.caption()
    assert "B = 0.2 T" in caption and "E = 8 meV" in caption and "T = " not in caption
    # the field acts: the series at B = 0.2 T is not the one at B = 0
    zero = qpcsim.temperature_series(tiny, over, 8.0, [1.0, 2.0], workers=1, progress=False)
    assert np.abs(zero["conductance"].values - ds["conductance"].values).max() > 1e-6


def test_series_refusals_leave_no_store(tiny, tmp_path):
    store = tmp_path / "s.sqlite"
    with pytest.raises(ValueError, match=r"structural parameters \['W'\] are not allowed in a "
                                         "temperature series"):
        qpcsim.temperature_series(tiny, {"W": [140.0, 150.0]}, 8.0, [1.0], workers=1,
                                  progress=False, store=store)
    with pytest.raises(ValueError, match=r"structural parameters \['W'\] are not allowed"):
        qpcsim.temperature_series(tiny, {"V0": [3.0, 4.0]}, 8.0, [1.0], workers=1,
                                  progress=False, store=store, W=140.0)
    with pytest.raises(ValueError, match="workers=0 is not allowed: it must be a positive integer"):
        qpcsim.temperature_series(tiny, {"V0": [3.0, 4.0]}, 8.0, [1.0], workers=0,
                                  progress=False, store=store)
    assert not store.exists()


def test_python_sweep_with_swept_temperature_is_the_temperature_series():
    """qpcsim.sweep(over={"temperature": ..., "B": ...}) takes the same route as
    ``qpcsim sweep --sweep T=... --sweep B=...``: one temperature series (the engine's
    temperature_route), with the same numbers as qpcsim.temperature_series."""
    from qpcsim.engine.sweep import temperature_route
    wire = qpcsim.Device(width=60.0, length=20.0, a=5.0)
    over = {"temperature": [1.0, 2.0], "B": [0.0, 0.5]}
    assert temperature_route(wire, over) == ("temperature", None)
    result = qpcsim.sweep(wire, over=over, energy=6.0, workers=1, progress=False)
    series = qpcsim.temperature_series(wire, over={"B": [0.0, 0.5]}, energy=6.0,
                                       temperatures=[1.0, 2.0], workers=1, progress=False)
    assert "temperature" in result.data["conductance"].dims
    np.testing.assert_array_equal(result.data["conductance"].values,
                                  series["conductance"].values)


def test_saved_weights_are_named_by_their_rule():
    def potential(x, y, V0=0.0):
        return V0 + 0.0 * x
    wire = qpcsim.Device(width=60.0, length=20.0, a=5.0, potential=potential)
    series = qpcsim.temperature_series(wire, over={"V0": [0.0]}, energy=6.0, temperatures=[1.0],
                                       workers=1, progress=False)
    assert series["quadrature_weight"].attrs["long_name"].startswith("trapezoid weight")


def _flat(x, y, V0=0.0):
    return V0 + 0 * x


def test_series_grid_knows_the_zeeman_splitting_of_a_fixed_field():
    """zeeman_from_B with a fixed B: the shared grid uses E_Z(B), as each point's solve does.
    Between the spin-split and the unsplit first threshold (0.5 K) the series equals the
    finite-T solve (the grid at E_Z = 0 refused this energy as below the first mode)."""
    from qpcsim.spectral.bands import lead_thresholds
    wire = qpcsim.Device(width=60.0, length=20.0, a=5.0, zeeman=True, potential=_flat)
    e_z = qpcsim.units.zeeman_energy_meV(3.0, wire.material)
    split, unsplit = (lead_thresholds(wire, wire.resolve_params({"B": 3.0, "E_Z": ez}))[0]
                      for ez in (e_z, 0.0))
    energy = 0.5 * (split + unsplit)
    series = qpcsim.temperature_series(wire, over={"V0": [0.0]}, energy=energy,
                                       temperatures=[0.5], workers=1, progress=False,
                                       zeeman_from_B=True, B=3.0)
    solved = qpcsim.solve(wire, energy, temperature=0.5, B=3.0, E_Z=e_z, V0=0.0)
    assert 0.1 < solved.conductance < 0.9
    np.testing.assert_allclose(series["conductance"].values.ravel(), [solved.conductance],
                               atol=1e-9)


def test_zeeman_from_b_is_a_yes_no_option():
    wire = qpcsim.Device(width=60.0, length=20.0, a=5.0, zeeman=True, potential=_flat)
    with pytest.raises(ValueError, match=r"zeeman_from_B='no' is not allowed: it is a yes/no"):
        qpcsim.sweep(wire, {"V0": [0.0]}, energy=5.0, zeeman_from_B="no", progress=False)


def test_temperatures_that_are_not_numbers_are_named():
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    with pytest.raises(ValueError, match="temperatures='x' is not allowed"):
        qpcsim.temperature_series(device, {"B": [0.0]}, 5.0, "x")
