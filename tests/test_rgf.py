"""The RGF back end of the fast path reproduces Kwant (and the MUMPS path) on every
bundled geometry, is unitary and deterministic, handles shaped devices, and
``backend="auto"`` follows its fixed rule."""
import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, choose_backend
from conftest import fewmode_energy, geometry_case

from conftest import DEVICE_GEOMETRIES as GEOMETRIES  # noqa: E402
#: Small lattices (a larger lattice constant) where a geometry allows it.
SMALL = {"qpc_saddle": dict(a=5.0, W=150.0, L=250.0), "qpc_hardwall": dict(a=5.0, L_taper=100.0),
         "qpc_split_gate": dict(a=8.0), "disordered_wire": dict(a=5.0, W=60.0, L=150.0),
         "quantum_dot": dict(a=4.0)}


def _teig(smat, nprop):
    t = smat[nprop[0]:, :nprop[0]]
    return np.sort(np.linalg.svd(t, compute_uv=False) ** 2)


@pytest.mark.parametrize("name", GEOMETRIES)
@pytest.mark.parametrize("variant", ["B=0", "B=0.7T", "zeeman"])
def test_rgf_equals_kwant_and_mumps(name, variant):
    import kwant
    device, extra = geometry_case(name, variant, SMALL)
    params = device.resolve_params(extra)
    energy = fewmode_energy(device) / device.t
    rgf = FastSolver(device, backend="rgf")
    assert rgf.name == "fast-rgf"
    result = rgf.smatrix(energy, params)
    s_rgf, n_rgf = result.data, result.nprop
    result = FastSolver(device, backend="mumps").smatrix(energy, params)
    s_mumps, n_mumps = result.data, result.nprop
    ref = kwant.smatrix(device.build(), energy, params=params)
    n_ref = tuple(int(ref.num_propagating(i)) for i in range(2))
    s_ref = np.asarray(ref.data)
    assert n_rgf == n_mumps == n_ref and sum(n_ref) > 0
    # Kwant's own mode phases are a convention; the MUMPS back end shares RGF's lead
    # modes, so against it the complex S-matrix must agree, phases and signs included.
    assert np.abs(s_rgf - s_mumps).max() < 1e-10
    assert np.abs(np.abs(s_rgf) - np.abs(s_ref)).max() < 1e-10
    np.testing.assert_allclose(_teig(s_rgf, n_rgf), _teig(s_ref, n_ref), atol=1e-10)
    unitarity = np.abs(s_rgf.conj().T @ s_rgf - np.eye(s_rgf.shape[1])).max()
    assert unitarity < 1e-10
    # Bit-identical on a repeated call (and after another point in between).
    rgf.smatrix(energy * 1.01, params)
    again = rgf.smatrix(energy, params).data
    assert np.array_equal(again, s_rgf)


def test_rgf_handles_a_shaped_device():
    """Columns with missing sites (a hard-wall mask) are padded with decoupled dummies."""
    import kwant

    def shape(x, y):
        return np.abs(y) < 20.0 + 0.9 * np.abs(x)

    device = qpcsim.Device(width=100.0, length=80.0, a=5.0, shape=shape,
                           potential=lambda x, y, Vg=1.0: Vg + 0 * x, params={"Vg": 1.0})
    assert len(device.site_positions()) < device.nx * device.ny
    params = device.resolve_params({"B": 0.5})
    energy = fewmode_energy(device) / device.t
    result = FastSolver(device, backend="rgf").smatrix(energy, params)
    s_rgf, nprop = result.data, result.nprop
    ref = kwant.smatrix(device.build(), energy, params=params)
    assert np.abs(np.abs(s_rgf) - np.abs(np.asarray(ref.data))).max() < 1e-10
    np.testing.assert_allclose(_teig(s_rgf, nprop), _teig(np.asarray(ref.data), nprop),
                               atol=1e-10)


@pytest.mark.parametrize("length", [5.0, 10.0, 15.0, 100.0, 105.0])
def test_rgf_complex_smatrix_for_even_and_odd_column_counts(length):
    # Regression: the recursion once dropped the minus sign of each Dyson step, which
    # flips t and t' for an even number of columns: |S|, T and unitarity unchanged.
    device = qpcsim.Device(width=60.0, length=length, a=5.0,
                           potential=lambda x, y, Vg=0.3: Vg * np.exp(-x**2 / 400.0))
    params = device.resolve_params({"B": 0.5})
    result = FastSolver(device, "rgf").smatrix(0.15, params)
    s_rgf, nprop = result.data, result.nprop
    s_scipy = FastSolver(device, "scipy").smatrix(0.15, params).data
    assert sum(nprop) > 0
    assert np.abs(s_rgf - s_scipy).max() < 1e-12


def test_rgf_refuses_a_pocket_open_only_to_the_right():
    # A box of sites that reaches the left lead only through later columns makes the
    # left-connected blocks singular at the box's eigenvalues: auto falls back to
    # the sparse back end, an explicit request gets a clear error.
    width, length, a = 100.0, 100.0, 5.0

    def shape(x, y):
        i = np.rint((np.asarray(x) + length / 2) / a).astype(int)
        j = np.rint((np.asarray(y) + width / 2) / a - 1).astype(int)
        wall = (((i == 5) & (j >= 6) & (j <= 12))
                | (((j == 6) | (j == 12)) & (i >= 5) & (i <= 11)))
        return ~wall

    device = qpcsim.Device(width=width, length=length, a=a, shape=shape)
    assert choose_backend(device.nx, device.ny) == "rgf"
    assert FastSolver(device).backend == "mumps-sigma"
    with pytest.raises(ValueError, match="backend='rgf' does not apply to this device: "
                                         "column 6 has sites that reach the left lead only"):
        FastSolver(device, backend="rgf")


def test_rgf_is_bit_identical_across_processes():
    code = ("import numpy as np, qpcsim; from qpcsim.backends import FastSolver;"
            "d = qpcsim.load_geometry('disordered_wire', a=5.0, W=60.0, L=150.0, seed=3);"
            "p = d.resolve_params({'B': 0.3}); s = FastSolver(d, 'rgf').smatrix(0.3, p).data;"
            "print(s.tobytes().hex())")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)]
    device = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=150.0, seed=3)
    s = FastSolver(device, "rgf").smatrix(0.3, device.resolve_params({"B": 0.3})).data
    assert runs[0] == runs[1] == s.tobytes().hex() + "\n"


def test_backend_choice_is_a_fixed_rule():
    # Measured (benchmarks/bench_backends.py): RGF faster for narrow spinless
    # devices, MUMPS for wide or Zeeman-resolved ones.
    # (MUMPS on OpenBLAS, issue 16: the crossover moved from ~110-150 to ~55 sites across.)
    assert choose_backend(801, 19) == "rgf"
    assert choose_backend(100, 50) == "rgf"
    assert choose_backend(200, 100) == "mumps"
    assert choose_backend(400, 200) == "mumps"
    assert choose_backend(8, 100) == "rgf"
    assert choose_backend(50, 25, norbs=2) == "rgf"
    assert choose_backend(100, 50, norbs=2) == "mumps"
    assert choose_backend(400, 200, mumps=False) == "rgf"
    # Two columns: every site is on a lead interface; MUMPS refuses that Schur
    # complement (error -49), so the rule and an explicit request both avoid it.
    short = qpcsim.Device(width=30.0, length=5.0, a=5.0)
    assert short.nx == 2 and choose_backend(short.nx, short.ny) == "rgf"
    assert qpcsim.solve(short, 10.0).solver == "fast-rgf"
    with pytest.raises(ValueError, match="backend='mumps' does not apply to this device: a "
                                         "device 2 sites long"):
        FastSolver(short, backend="mumps")
    device = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=150.0)
    solver = FastSolver(device)
    # where the size rule picks mumps, auto runs mumps-sigma at every point (registry)
    assert choose_backend(device.nx, device.ny, device.norbs) == "mumps"
    assert solver.backend == "mumps-sigma"
    assert qpcsim.solve(device, 5.0).solver == solver.name
    with pytest.raises(ValueError, match="not allowed"):
        FastSolver(device, backend="superlu")


def test_rgf_reused_across_energies_with_different_mode_counts():
    """One solver through energies where the propagating-mode count changes but
    the number of lead mode variables does not (regression: stale kept rows)."""
    device = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=250.0)
    rgf, mumps = FastSolver(device, "rgf"), FastSolver(device, "mumps")
    params = device.resolve_params({"V0": 4.0})
    counts = set()
    for energy in np.linspace(6.0, 12.0, 7) / device.t:
        result = rgf.smatrix(energy, params)
        s_rgf, n_rgf = result.data, result.nprop
        result = mumps.smatrix(energy, params)
        s_mumps, n_mumps = result.data, result.nprop
        counts.add(n_rgf)
        assert n_rgf == n_mumps
        assert np.abs(s_rgf - s_mumps).max() < 1e-10
    assert len(counts) > 1
