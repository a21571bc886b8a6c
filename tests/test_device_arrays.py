"""The plain Device's Kwant structure known from its arrays (device.py: ``plain_model``,
``site_positions``, ``lead_systems``): the fast path solves without running Kwant's
Builder on the scattering region, bit for bit what it computes on the built system
(positions, lead interfaces, lead matrices, assembled system, S-matrix), on every bundled
geometry that is a plain Device, and ``device.build()`` still gives the Kwant system."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.backends.assembly import SystemAssembly
from qpcsim.backends.context import solver_context
from qpcsim.backends.registry import backend_info, registered
from qpcsim.scattering import scattering_matrix

#: The bundled geometries that load to a plain Device (coarse where the file allows it),
#: with an energy (meV) and a gate point, plus a Zeeman (two-orbital) one and a device with
#: narrower leads off centre and a shaped region.
CASES = {
    "qpc_split_gate": (dict(d=60), 8.0, {"Vg": -0.5}),
    "qpc_split_gate/zeeman": (dict(d=60, zeeman=True, a=8.0), 8.0, {"Vg": -0.5, "E_Z": 0.3}),
    "qpc_saddle": (dict(a=10.0, W=150.0, L=200.0, hw_y=3.0), 8.0, {"V0": 4.0, "B": 0.5}),
    "qpc_hardwall": (dict(a=10.0), 8.0, {}),
    "quantum_dot": ({}, 8.0, {}),
    "disordered_wire": ({}, 20.0, {"B": 0.2}),
    "qpc_split_gate_sc": ({}, None, {}),
}


def _device(case):
    make, _, _ = CASES[case]
    return qpcsim.load_geometry(case.split("/")[0], **make)


def _narrow_leads():
    return qpcsim.Device(width=60.0, length=40.0, a=5.0, lead_width=30.0, lead_center=10.0,
                         shape=lambda x, y: (np.abs(x) > 10) | (np.abs(y) < 20),
                         potential=lambda x, y, V=1.0: V * np.exp(-(x / 10) ** 2))


def _pair(case):
    """(a fresh device that is never built, the same device built by Kwant's Builder)."""
    fresh = _narrow_leads() if case == "narrow" else _device(case)
    built = _narrow_leads() if case == "narrow" else _device(case)
    built.build()
    return fresh, built


def _point(case, device):
    if case == "narrow":
        return 12.0, device.resolve_params({"V": 2.0, "B": 0.3})
    _, energy, params = CASES[case]
    energy = energy if energy is not None else device.metadata.fermi_energy_meV
    return energy, device.resolve_params(params)


@pytest.mark.parametrize("case", [*CASES, "narrow"])
def test_array_structure_is_kwants(case):
    """Positions, lead interfaces and lead matrices from the arrays equal those of the
    finalized Kwant system, bit for bit; the S-matrix and the assembled system too, and
    the fresh device's scattering region never went through the Builder."""
    fresh, built = _pair(case)
    assert fresh.plain_model and fresh._fsyst is None
    energy, params = _point(case, fresh)
    np.testing.assert_array_equal(fresh.site_positions(), built.site_positions())
    leads, interfaces = fresh.lead_systems()
    fsyst = built.build()
    for mine, kwants in zip(interfaces, fsyst.lead_interfaces):
        np.testing.assert_array_equal(mine, kwants)
        assert mine.dtype == kwants.dtype
    lead_params = {k: params[k] for k in fresh.lead_parameters}
    for mine, kwants in zip(leads, fsyst.leads):
        for name in ("cell_hamiltonian", "inter_cell_hopping"):
            np.testing.assert_array_equal(getattr(mine, name)(params=lead_params),
                                          getattr(kwants, name)(params=lead_params))
    ours, theirs = SystemAssembly(fresh), SystemAssembly(built)
    e = energy / fresh.t
    for name in ("sys_row", "sys_col"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    np.testing.assert_array_equal(ours.system_values(e, params), theirs.system_values(e, params))
    a, b = ours.leads(e, params), theirs.leads(e, params)
    for name in ("row", "col", "values", "schur", "rhs_x", "kept"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    s_fresh = scattering_matrix(fresh, energy, params, "auto")
    s_built = scattering_matrix(built, energy, params, "auto")
    assert s_fresh.backend == s_built.backend
    np.testing.assert_array_equal(s_fresh.data, s_built.data)
    assert fresh._fsyst is None          # solved without Kwant's Builder
    assert solver_context(fresh).fast_path


def test_kwant_system_still_built_for_users():
    """``build()`` after an array-only solve gives Kwant's system, whose own
    ``kwant.smatrix`` agrees with the fast path (Kwant-native stays true)."""
    import kwant
    device = _device("qpc_split_gate")
    energy, params = _point("qpc_split_gate", device)
    fast = scattering_matrix(device, energy, params, "auto")
    fsyst = device.build()
    assert isinstance(fsyst, kwant.system.FiniteSystem)
    reference = kwant.smatrix(fsyst, energy / device.t, params=params)
    np.testing.assert_allclose(fast.data, reference.data, atol=1e-10)   # the back ends' 1e-10


def test_devices_not_plain_build_as_before():
    """A device with explicit leads (hall bar) is not the plain model: its positions and
    leads come from the built system, as before."""
    device = qpcsim.load_geometry("hall_bar_qpc")
    assert not device.plain_model
    leads, interfaces = device.lead_systems()
    assert device._fsyst is not None and len(leads) == len(device.terminals) > 2


@pytest.mark.parametrize("method", [name for name in registered()
                                    if backend_info(name).fast_path])
def test_every_fast_back_end_solves_without_the_builder(method):
    """Each fast back end on a never-built device: the S-matrix of the built one, bit for
    bit, and no Builder run (a mirror-symmetric point and a field that breaks it)."""
    fresh, built = _pair("qpc_saddle")
    for extra in ({}, {"B": 0.5}):
        params = fresh.resolve_params({"V0": 4.0, **extra})
        s_fresh = scattering_matrix(fresh, 8.0, params, method)
        s_built = scattering_matrix(built, 8.0, params, method)
        assert s_fresh.backend == s_built.backend
        np.testing.assert_array_equal(s_fresh.data, s_built.data)
    assert fresh._fsyst is None


@pytest.mark.parametrize("solved_first", [False, True])
def test_builder_of_a_never_built_device_gives_kwants_system(solved_first):
    """``Device.builder()`` ("start here to add probes or leads") works on a device the fast
    path never built, fresh or after a solve: Kwant's S-matrix of its finalized Builder
    equals the built device's to 1e-12."""
    import kwant

    fresh, built = _pair("narrow")
    energy, params = _point("narrow", fresh)
    if solved_first:
        scattering_matrix(fresh, energy, params, "mumps")
        assert fresh._fsyst is None
    mine = kwant.smatrix(fresh.builder().finalized(), energy / fresh.t, params=params)
    theirs = kwant.smatrix(built.build(), energy / built.t, params=params)
    assert mine.transmission(1, 0) > 0.1
    np.testing.assert_allclose(mine.data, theirs.data, rtol=0, atol=1e-12)
