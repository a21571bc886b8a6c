"""The parity-split RGF back end (``rgf-parity``) equals the plain RGF and MUMPS on every
bundled geometry (even and odd column counts), splits exactly the points with a y-mirror
(with or without the x-mirror), runs the x-mirror alone where only it holds, and falls
back (bit for bit) where neither holds; ``auto`` picks it where its cost model wins."""
import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, choose_backend
from qpcsim.backends import rgf_parity
from conftest import fewmode_energy
from test_rgf_mirror import ASYMMETRIC, GEOMETRIES, _device

#: Bar of every back end against kwant.smatrix / MUMPS; measured: <= 3e-13 here.
TOL = 1e-10


def _run(device, backend, extra=None, energy=None):
    """(S, nprop, the back end that ran) of ``backend`` at one point."""
    params = device.resolve_params(extra or {})
    energy = fewmode_energy(device) / device.t if energy is None else energy
    result = FastSolver(device, backend).smatrix(energy, params)
    assert sum(result.nprop) > 0
    return result.data, result.nprop, result.backend


def _lopsided_in_x(x, y, Vg=0.8):
    return Vg * np.exp(-((x - 15.0)**2 + y**2) / 300.0)


def _lopsided_in_y(x, y, Vg=0.8):
    return Vg * np.exp(-(x**2 + (y - 12.0)**2) / 300.0)


@pytest.mark.parametrize("step", [0, 1])
@pytest.mark.parametrize("name", GEOMETRIES)
def test_parity_equals_rgf_and_mumps_on_every_geometry(name, step):
    device = _device(name, step)
    s_p, n_p, ran = _run(device, "rgf-parity")
    s_r, n_r, _ = _run(device, "rgf")
    s_m, n_m, _ = _run(device, "mumps")
    assert n_p == n_r == n_m
    if name in ASYMMETRIC:
        assert ran == "rgf" and np.array_equal(s_p, s_r)
    else:
        assert ran == "rgf-parity"
        assert np.abs(s_p - s_r).max() < TOL and np.abs(s_p - s_m).max() < TOL
        assert np.abs(s_p.conj().T @ s_p - np.eye(len(s_p))).max() < 1e-10


@pytest.mark.parametrize("potential, path", [(_lopsided_in_x, "rgf-parity"),
                                             (_lopsided_in_y, "rgf-mirror")])
@pytest.mark.parametrize("length", [5.0, 10.0, 100.0, 105.0])
def test_each_mirror_alone(potential, path, length):
    """y-mirror only: the full sweep in sectors; x-mirror only: the mirror-reduced sweep
    (the rgf-mirror back end's arithmetic, bit for bit); 2 to 22 columns."""
    device = qpcsim.Device(width=80.0, length=length, a=5.0, potential=potential)
    s_p, _, ran = _run(device, "rgf-parity")
    assert ran == path and np.abs(s_p - _run(device, "rgf")[0]).max() < TOL
    if device.nx > 2:   # MUMPS refuses a Schur complement onto every site
        assert np.abs(s_p - _run(device, "mumps")[0]).max() < TOL
    if path == "rgf-mirror":
        assert np.array_equal(s_p, _run(device, "rgf-mirror")[0])


def _lopsided_in_both(x, y, Vg=0.8):
    return Vg * np.exp(-((x - 15.0)**2 + (y - 12.0)**2) / 300.0)


@pytest.mark.parametrize("case", ["B=0.5T", "lopsided in x and y"])
def test_falls_back_bit_for_bit_without_a_mirror(case):
    if case == "B=0.5T":    # the Landau-gauge Peierls phases break both mirrors
        device, extra = _device("qpc_saddle"), {"B": 0.5}
    else:
        device, extra = qpcsim.Device(width=80.0, length=100.0, a=5.0,
                                      potential=_lopsided_in_both), {}
    s_p, _, ran = _run(device, "rgf-parity", extra)
    assert ran == "rgf" and np.array_equal(s_p, _run(device, "rgf", extra)[0])


def test_quantum_dot_asymmetric_in_x_keeps_its_y_mirror():
    device = _device("quantum_dot")
    s_p, _, ran = _run(device, "rgf-parity", {"asymmetry": 2.0})
    assert ran == "rgf-parity"
    assert np.abs(s_p - _run(device, "mumps", {"asymmetry": 2.0})[0]).max() < TOL


def test_zeeman_resolved_parity():
    device = _device("qpc_saddle", 1, zeeman=True)
    s_p, _, ran = _run(device, "rgf-parity", {"E_Z": 0.4})
    assert device.norbs == 2 and ran == "rgf-parity"
    assert np.abs(s_p - _run(device, "mumps", {"E_Z": 0.4})[0]).max() < TOL


def test_lead_modes_not_parity_symmetric_enough_are_not_split(monkeypatch):
    """Lead 0's numerical modes decide: above PARITY_LEAD_RTOL the point runs the x-mirror."""
    monkeypatch.setattr(rgf_parity, "PARITY_LEAD_RTOL", -1.0)
    device = _device("qpc_split_gate")
    s_p, _, ran = _run(device, "rgf-parity")
    assert ran == "rgf-mirror"
    assert np.array_equal(s_p, _run(device, "rgf-mirror")[0])


def test_structure_without_any_mirror_does_not_apply():
    device = qpcsim.Device(width=100.0, length=80.0, a=5.0,
                           shape=lambda x, y: y < 20.0 + 0.9 * np.abs(x + 10.0))
    with pytest.raises(ValueError, match="backend='rgf-parity' does not apply to this device: "
                                         "the device's structure has neither an x- nor a y-mirror"):
        FastSolver(device, "rgf-parity")


def test_auto_picks_parity_where_it_wins():
    # rgf-sigma (rgf-parity with the leads as self-energies) now runs its both-mirror
    # points, and hands it the others (tests/test_rgf_sigma.py)
    assert choose_backend(200, 100, holds=("mirror",)) == "rgf-sigma"
    both = ("mirror", "x-mirror")
    assert choose_backend(40, 20, holds=both) == "rgf-mirror"    # overhead per column
    assert choose_backend(200, 100, holds=both) == "rgf-sigma"
    assert choose_backend(200, 100) in ("rgf", "mumps")                 # no holds: size rule
    device = qpcsim.load_geometry("qpc_saddle", a=5.0, W=305.0, L=250.0)   # 60 sites across
    solver = FastSolver(device)
    energy = fewmode_energy(device) / device.t
    result = solver.smatrix(energy, device.resolve_params({}))
    s_auto = result.data
    assert result.backend == "rgf-sigma"
    assert np.abs(s_auto - _run(device, "mumps")[0]).max() < TOL
    ran = solver.smatrix(energy, device.resolve_params({"B": 0.5})).backend
    # the size rule picks mumps here: auto runs mumps-sigma (complex LU) at such points
    assert choose_backend(device.nx, device.ny) == "mumps"
    assert ran == solver.backend == "mumps-sigma"


def test_parity_is_bit_identical_across_processes():
    code = ("import qpcsim; from qpcsim.backends import FastSolver;"
            "d = qpcsim.load_geometry('qpc_split_gate', a=8.0);"
            "s = FastSolver(d, 'rgf-parity').smatrix(0.1, d.resolve_params({})).data;"
            "print(s.tobytes().hex())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    device = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    solver = FastSolver(device, "rgf-parity")
    result = solver.smatrix(0.1, device.resolve_params({}))
    s = result.data
    assert result.backend == "rgf-parity"
    assert run.stdout == s.tobytes().hex() + "\n"
