"""The SMatrix result (backends/base.py) against Kwant's own SMatrix, and the label of
the back end that ran each point (rgf-mirror's fallback included, from any thread)."""
import threading

import kwant
import numpy as np
import pytest

import qpcsim
from conftest import fewmode_energy
from qpcsim.backends import FastSolver, SMatrix, create_backend

#: |S_mn| and transmissions of two solvers of the same system agree to rounding: 1e-13
#: typical on the cases below, 1.02e-12 seen once (rgf on the Zeeman saddle, whose 2x2
#: blocks carry more rounding); 1e-11 is ten times that, still far below the 1e-10 every
#: back end promises against kwant.smatrix. Lead-block bookkeeping on the same data is exact.
TOL = 1e-11


def _hall_bar():
    """Six terminals, one- to many-mode leads (a small Hall bar with its QPC)."""
    return qpcsim.load_geometry("hall_bar_qpc", a=10.0, W=100.0, L=400.0, gap=60.0,
                                probe_x=100.0, probe_width=40.0, arm_length=40.0,
                                gate_length=40.0), {"B": 0.3, "Vg": -0.1}, 8.0


def _rashba_wire():
    """Two orbitals per site (spin), spin-orbit hoppings, a Zeeman field."""
    return qpcsim.load_geometry("rashba_wire", W=40.0, L=60.0), {"B": 0.5}, 20.0


def _zeeman_saddle():
    """Two orbitals per site on the fast path."""
    return (qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, zeeman=True),
            {"B": 0.7, "E_Z": 0.4}, None)


@pytest.mark.parametrize("case, method", [(_hall_bar, "mumps"), (_rashba_wire, "kwant"),
                                          (_zeeman_saddle, "rgf")])
def test_smatrix_blocks_equal_kwants(case, method):
    device, extra, energy_meV = case()
    energy_meV = energy_meV or fewmode_energy(device)
    params = device.resolve_params(extra)
    ours = create_backend(device, method).smatrix(energy_meV / device.t, params)
    ref = kwant.smatrix(device.build(), energy_meV / device.t, params=params)
    leads = len(device.build().leads)
    assert isinstance(ours, SMatrix) and ours.num_leads == leads and ours.backend == method
    assert ours.nprop == tuple(ref.num_propagating(i) for i in range(leads))
    assert sum(ours.nprop) > leads and ours.unitarity_error < 1e-10
    for i in range(leads):
        for j in range(leads):
            assert ours.transmission(i, j) == pytest.approx(ref.transmission(i, j), abs=TOL)
            # mode phases are a convention (at B != 0 even Kwant's own): compare |S_mn|
            block, ref_block = ours.submatrix(i, j), ref.submatrix(i, j)
            assert block.shape == ref_block.shape
            assert np.abs(np.abs(block) - np.abs(ref_block)).max(initial=0) < TOL
    np.testing.assert_allclose(ours.conductance_matrix(), ref.conductance_matrix(), atol=TOL)
    # the bookkeeping itself, on Kwant's own data: identical blocks, not just close
    same = SMatrix(np.asarray(ref.data), ours.nprop, "kwant")
    assert all(np.array_equal(same.submatrix(i, j), ref.submatrix(i, j))
               for i in range(leads) for j in range(leads))


def test_smatrix_refuses_a_lead_it_does_not_have():
    smat = SMatrix(np.eye(3, dtype=complex), (1, 2), "test")
    assert smat.num_propagating(1) == 2 and smat.transmission(1, 1) == 2.0
    with pytest.raises(ValueError, match=r"lead=2 is not allowed: use an integer in 0\.\.1"):
        smat.submatrix(2, 0)
    with pytest.raises(ValueError, match="lead=-1 is not allowed"):
        smat.num_propagating(-1)


def test_each_smatrix_names_the_back_end_that_ran_it():
    """rgf-mirror runs the reduction at a symmetric point and hands an asymmetric one (a
    field) to its fallback: the result says which, and the solve's label follows it."""
    device = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=250.0)
    energy = fewmode_energy(device) / device.t
    explicit, auto = FastSolver(device, "rgf-mirror"), FastSolver(device)
    symmetric, field = device.resolve_params({}), device.resolve_params({"B": 0.5})
    assert explicit.smatrix(energy, symmetric).backend == "rgf-mirror"
    assert explicit.smatrix(energy, field).backend == "rgf"
    assert auto.smatrix(energy, symmetric).backend == "rgf-mirror"
    assert auto.smatrix(energy, field).backend == auto.backend != "rgf-mirror"
    e_meV = energy * device.t
    assert qpcsim.solve(device, e_meV).solver == "fast-rgf-mirror"
    assert qpcsim.solve(device, e_meV, B=0.5).solver == f"fast-{auto.backend}"
    assert qpcsim.solve(device, e_meV, method="kwant").solver == "kwant"


def test_the_label_is_per_point_not_per_thread():
    """Two threads alternating symmetric and asymmetric points on one back end: each
    result names its own path (no thread-local or shared 'latest point' state)."""
    device = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=250.0)
    energy = fewmode_energy(device) / device.t
    solver = FastSolver(device, "rgf-mirror")
    cases = [({}, "rgf-mirror"), ({"B": 0.5}, "rgf")] * 4
    errors = []

    def run(offset):
        for extra, path in cases[offset:] + cases[:offset]:
            ran = solver.smatrix(energy, device.resolve_params(extra)).backend
            if ran != path:
                errors.append((extra, ran))

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


@pytest.mark.parametrize("data, nprop, match", [
    (np.eye(2), (1, 2), r"data of shape \(2, 2\) is not allowed with nprop=\(1, 2\): the "
                        r"S-matrix must be \(3, 3\)"),
    (np.ones(3), (1, 2), r"data of shape \(3,\) is not allowed"),
    (np.eye(3), (1.5, 1.5), r"nprop=\(1.5, 1.5\) is not allowed: give the propagating modes"),
    (np.eye(1), (2, -1), r"nprop=\(2, -1\) is not allowed"),
    (np.eye(2), 2, r"nprop=2 is not allowed: give the propagating modes of each lead as a "
                   r"sequence"),
])
def test_smatrix_refuses_lead_information_that_does_not_fit_its_data(data, nprop, match):
    with pytest.raises(ValueError, match=match) as info:
        SMatrix(np.asarray(data, dtype=complex), nprop, "test")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("spin_factor", ["x", -1.0, 0.0, float("nan")])
def test_conductance_matrix_refuses_a_spin_factor_that_is_not_positive(spin_factor):
    smat = SMatrix(np.eye(2, dtype=complex), (1, 1), "test")
    with pytest.raises(ValueError, match="spin_factor=.* is not allowed"):
        smat.conductance_matrix(spin_factor)


def test_conductance_matrix_refuses_an_smatrix_that_does_not_fit_nprop():
    """qpcsim.terminals.conductance_matrix (public) used to return a wrong G silently."""
    from qpcsim.terminals import conductance_matrix
    with pytest.raises(ValueError, match=r"smat of shape \(3, 3\) is not allowed with "
                                         r"nprop=\(2, 2\): the S-matrix must be \(4, 4\)"):
        conductance_matrix(np.eye(3), (2, 2))
    with pytest.raises(ValueError, match="spin_factor=-1.0 is not allowed"):
        conductance_matrix(np.eye(4), (2, 2), spin_factor=-1)


def test_smatrix_keeps_its_data_as_an_array():
    assert SMatrix([[1.0]], (1,), "test").unitarity_error == 0.0
