"""The stacked-sector RGF with the leads as self-energies (``rgf-sigma``) equals MUMPS and
``rgf-parity`` on every bundled geometry (odd and even row and column counts), runs exactly
the points with both mirrors, hands every other point to ``rgf-parity`` bit for bit, and is
what ``auto`` runs at the headline size."""
import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, choose_backend, rgf_sigma
from conftest import fewmode_energy
from test_rgf_mirror import ASYMMETRIC, GEOMETRIES, _device
from test_rgf_parity import _lopsided_in_both, _lopsided_in_x, _lopsided_in_y, _run

#: Bar of every back end against kwant.smatrix / MUMPS; measured: <= 3e-13 here.
TOL = 1e-10
#: Against rgf-parity (another elimination order of the same recursion); measured <= 7e-14.
PARITY_TOL = 1e-12


@pytest.mark.parametrize("step", [0, 1])
@pytest.mark.parametrize("name", GEOMETRIES)
def test_sigma_equals_mumps_and_parity_on_every_geometry(name, step):
    device = _device(name, step)
    s_s, n_s, ran = _run(device, "rgf-sigma")
    s_p, n_p, _ = _run(device, "rgf-parity")
    s_m, n_m, _ = _run(device, "mumps")
    assert n_s == n_p == n_m
    if name in ASYMMETRIC:
        assert ran == "rgf" and np.array_equal(s_s, s_p)
    else:
        assert ran == "rgf-sigma"
        assert np.abs(s_s - s_m).max() < TOL and np.abs(s_s - s_p).max() < PARITY_TOL
        assert np.abs(s_s.conj().T @ s_s - np.eye(len(s_s))).max() < 1e-10


def _bump(x, y, Vg=0.6):
    return Vg * np.exp(-(x**2 + y**2) / 300.0)


@pytest.mark.parametrize("length", [5.0, 10.0, 100.0, 105.0])   # 2, 3, 21, 22 columns
@pytest.mark.parametrize("width", [80.0, 85.0])      # 15 and 16 rows: padded and not
def test_even_and_odd_row_and_column_counts(width, length):
    device = qpcsim.Device(width=width, length=length, a=5.0, potential=_bump)
    s_s, _, ran = _run(device, "rgf-sigma")
    assert ran == "rgf-sigma" and device.ny == width / 5.0 - 1
    reference = "mumps" if device.nx > 2 else "rgf"   # MUMPS refuses a Schur set of every site
    assert np.abs(s_s - _run(device, reference)[0]).max() < TOL


@pytest.mark.parametrize("potential, extra, path", [
    (_lopsided_in_x, {}, "rgf-parity"), (_lopsided_in_y, {}, "rgf-mirror"),
    (_lopsided_in_both, {}, "rgf"), (None, {"B": 0.5}, "rgf")])
def test_other_points_run_rgf_parity_bit_for_bit(potential, extra, path):
    """One mirror, none, or a field: exactly what rgf-parity runs."""
    device = qpcsim.Device(width=80.0, length=100.0, a=5.0, potential=potential)
    s_s, _, ran = _run(device, "rgf-sigma", extra)
    s_p, _, ran_p = _run(device, "rgf-parity", extra)
    assert ran == ran_p == path and np.array_equal(s_s, s_p)


def test_lead_self_energy_not_parity_symmetric_enough_is_handed_on(monkeypatch):
    monkeypatch.setattr(rgf_sigma, "PARITY_LEAD_RTOL", -1.0)
    device = _device("qpc_split_gate")
    s_s, _, ran = _run(device, "rgf-sigma")
    assert ran == "rgf-parity" and np.array_equal(s_s, _run(device, "rgf-parity")[0])


def test_zeeman_resolved():
    device = _device("qpc_saddle", 1, zeeman=True)
    s_s, _, ran = _run(device, "rgf-sigma", {"E_Z": 0.4})
    assert device.norbs == 2 and ran == "rgf-sigma"
    assert np.abs(s_s - _run(device, "mumps", {"E_Z": 0.4})[0]).max() < TOL


@pytest.mark.parametrize("nx, ny, pick", [(40, 20, "rgf-mirror"), (120, 60, "rgf-sigma"),
                                          (200, 100, "rgf-sigma"), (300, 150, "mumps-sigma")])
def test_auto_rule_under_both_mirrors(nx, ny, pick):
    """Measured (benchmarks/RESULTS.md): rgf-mirror for narrow devices, rgf-sigma at the
    headline (W = 100), mumps-sigma from W = 150."""
    assert choose_backend(nx, ny, holds=("mirror", "x-mirror")) == pick


def test_auto_runs_it_and_hands_field_points_to_the_size_rule():
    device = qpcsim.load_geometry("qpc_saddle", a=5.0, W=305.0, L=250.0)   # 60 sites across
    solver = FastSolver(device)
    energy = 0.1
    result = solver.smatrix(energy, device.resolve_params({}))
    assert result.backend == "rgf-sigma"
    assert np.abs(result.data - _run(device, "mumps", energy=energy)[0]).max() < TOL
    ran = solver.smatrix(energy, device.resolve_params({"B": 0.5})).backend
    # the size rule picks mumps here: auto runs mumps-sigma (complex LU) at such points
    assert choose_backend(device.nx, device.ny) == "mumps"
    assert ran == solver.backend == "mumps-sigma"


def test_bit_identical_across_processes():
    code = ("import qpcsim; from qpcsim.backends import FastSolver;"
            "d = qpcsim.load_geometry('qpc_split_gate', a=8.0);"
            "s = FastSolver(d, 'rgf-sigma').smatrix(0.1, d.resolve_params({})).data;"
            "print(s.tobytes().hex())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    device = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    result = FastSolver(device, "rgf-sigma").smatrix(0.1, device.resolve_params({}))
    assert result.backend == "rgf-sigma"
    assert run.stdout == result.data.tobytes().hex() + "\n"


@pytest.mark.parametrize("width", [80.0, 85.0])
def test_unit_couplings_shortcut_changes_no_bit(monkeypatch, width):
    """At B = 0 every coupling is -t: skipping the products with it is exact, for an even
    and an odd row count (15 rows: the odd sector's padding orbital)."""
    device = qpcsim.Device(width=width, length=100.0, a=5.0, potential=_bump)
    seen = []
    unit = rgf_sigma.SigmaRGFSolver.unit_coupling
    monkeypatch.setattr(rgf_sigma.SigmaRGFSolver, "unit_coupling",
                        staticmethod(lambda cols, rows: seen.append(unit(cols, rows)) or seen[-1]))
    fast, ran = _run(device, "rgf-sigma")[::2]
    assert seen and seen[-1] == -1.0          # the shortcut ran
    monkeypatch.setattr(rgf_sigma.SigmaRGFSolver, "unit_coupling",
                        staticmethod(lambda cols, rows: None))
    general = _run(device, "rgf-sigma")[0]
    assert ran == "rgf-sigma" and np.array_equal(fast, general)


def test_finite_temperature_equals_rgf_parity(monkeypatch):
    """Finite T equals rgf-parity's, and a second gate point's thermal grid reuses each
    energy's cached lead projection (the gate enters the region only)."""
    device = _device("qpc_split_gate")
    energy = 4.0 * fewmode_energy(device)
    calls = []
    project = rgf_sigma.SigmaRGFSolver._project
    monkeypatch.setattr(rgf_sigma.SigmaRGFSolver, "_project",
                        lambda self, *a, **k: calls.append(1) or project(self, *a, **k))
    first = None
    for vg in (-0.5, -0.45):
        g_s, g_p = (qpcsim.solve(device, energy, temperature=1.0, method=m, Vg=vg).conductance
                    for m in ("rgf-sigma", "rgf-parity"))
        assert abs(g_s - g_p) < 1e-12 and g_s > 0.01
        first = len(calls) if first is None else first
    assert 0 < first and len(calls) < 1.5 * first
