"""The observables table drives the result, the store, the Dataset and ensembles:
a new observable is one entry."""
import json
import sqlite3

import numpy as np
import pytest

import qpcsim
from qpcsim import observables
from qpcsim.observables import Observable


@pytest.fixture
def extra_observable(monkeypatch):
    """A test entry: the sum of the transmission eigenvalues (must equal T)."""
    table = list(observables.OBSERVABLES)
    monkeypatch.setattr(observables, "OBSERVABLES", table)
    import qpcsim.engine.result as result_module
    import qpcsim.solver as solver_module
    monkeypatch.setattr(solver_module, "OBSERVABLES", table)
    monkeypatch.setattr(result_module, "OBSERVABLES", table)
    entry = Observable("eigenvalue_sum", "", "sum of transmission eigenvalues",
                       lambda r: float(np.sum(r.transmission_eigenvalues)))
    observables.register_observable(entry)
    return entry


def test_every_entry_is_an_attribute_of_the_result():
    device = qpcsim.Device(width=60.0, length=100.0, a=5.0)
    result = qpcsim.solve(device, 10.0)
    values = result.observables()
    assert set(values) == {o.name for o in observables.OBSERVABLES}
    for entry in observables.OBSERVABLES:
        np.testing.assert_array_equal(getattr(result, entry.name), values[entry.name])
    assert result.conductance == pytest.approx(result.transmission, abs=0)   # spin-degenerate
    with pytest.raises(AttributeError, match="no attribute 'not_an_observable'"):
        result.not_an_observable


def test_one_entry_reaches_result_store_dataset_and_ensemble(extra_observable, tmp_path):
    wire = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=100.0)
    point = qpcsim.solve(wire, 12.0, disorder=20.0, seed=3.0)
    assert point.eigenvalue_sum == pytest.approx(point.transmission, abs=1e-12)

    store = tmp_path / "s.sqlite"
    result = qpcsim.sweep(wire, {"energy": [10.0, 12.0, 14.0]}, workers=1, store=store,
                          progress=False, disorder=20.0, seed=3.0)
    data = result.data
    assert data["eigenvalue_sum"].attrs["long_name"] == "sum of transmission eigenvalues"
    np.testing.assert_allclose(data["eigenvalue_sum"].values, data["transmission"].values,
                               atol=1e-12)
    with sqlite3.connect(store) as db:
        records = [json.loads(text) for (text,) in db.execute("SELECT result FROM records")]
    assert len(records) == 3 and all("eigenvalue_sum" in rec for rec in records)

    ens = qpcsim.ensemble(wire, 3, energy=12.0, workers=1, disorder=20.0)
    np.testing.assert_allclose(ens.samples["eigenvalue_sum"], ens.transmission, atol=1e-12)


def test_table_refuses_duplicates_and_unknown_names():
    with pytest.raises(ValueError, match="already in the table"):
        observables.register_observable(observables.OBSERVABLES[0])
    with pytest.raises(ValueError, match="observable='G' is not allowed: use one of conductance"):
        observables.observable("G")
