"""Per-device solver state (backends/context.py): in the device's one declared slot,
never pickled or shared by a copy, dropped with the device; and the typed metadata view
and the solver hooks every device declares."""
import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import solver_context
from qpcsim.device import DeviceMetadata, SolverHooks


def _wire():
    return qpcsim.Device(width=40.0, length=30.0, a=5.0, metadata={"energy_meV": 9.0})


def test_solver_state_lives_in_the_context_and_goes_with_the_device():
    device = _wire()
    before = qpcsim.solve(device, 9.0, temperature=1.0)
    context = solver_context(device)
    assert context.backends and context.grids and context.fast_path is True
    assert [key for key in vars(device) if "cache" in key or "solver" in key] == ["solver_state"]
    assert solver_context(device) is context
    # the pickle (every Dask task) carries none of it; the copy starts afresh, same numbers
    clone = pickle.loads(pickle.dumps(device))
    assert solver_context(clone) is not context and not solver_context(clone).backends
    again = qpcsim.solve(clone, 9.0, temperature=1.0)
    assert again.conductance == before.conductance
    # a copy (a derived device) never shares it
    assert solver_context(copy.copy(device)) is not context
    # and it goes with its device (no global registry keeps either alive)
    ref = weakref.ref(device)
    del device, context
    gc.collect()
    assert ref() is None


def test_metadata_is_a_dict_with_typed_fields():
    wire = qpcsim.load_geometry("rashba_wire")
    assert isinstance(wire.metadata, DeviceMetadata)
    assert wire.metadata["energy_meV"] > 0 and wire.metadata["field_T"] == 0.5
    saddle = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0)
    assert saddle.metadata.geometry_file.endswith("qpc_saddle.py")
    assert saddle.metadata.make_device["a"] == 5.0 and "W" in saddle.metadata.structural_parameters
    device = _wire()
    device.metadata = {"fermi_energy_meV": 8.0}          # a plain dict is wrapped
    assert device.metadata.fermi_energy_meV == 8.0 and device.metadata.geometry_file is None


@pytest.mark.parametrize("device", [_wire(), qpcsim.load_geometry("rashba_wire")],
                         ids=["Device", "ContinuumDevice"])
def test_every_device_declares_the_solver_hooks(device):
    assert isinstance(device, SolverHooks)
    params = device.resolve_params({})
    for hook in ("check_fermi_energy", "transport_observables", "lead_thresholds"):
        assert callable(getattr(device, hook))
    if isinstance(device, qpcsim.Device):   # the defaults: None, the solver's own rule
        assert not device.has_own_observables
        assert device.check_fermi_energy(9.0, params) is None
        assert device.lead_thresholds(params) is None
        assert device.transport_observables(np.eye(2), (1, 1), 9.0, params) is None
    else:
        assert len(device.lead_thresholds(params)) > 0
    assert qpcsim.load_geometry("nqpc_s").has_own_observables    # Andreev: G_NS, not T
