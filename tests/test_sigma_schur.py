"""``mumps-sigma``: the Schur complement of H - E onto the lead interfaces with the leads as
self-energies, against plain ``kwant.smatrix`` (1e-10), per arithmetic (real LDL^T at
B = 0, complex LU at B != 0), on a multi-terminal device, and its contract."""

import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, choose_backend, create_backend, mumps_available
from qpcsim.backends.sigma_schur import SigmaSchurBackend

pytestmark = [pytest.mark.skipif(not mumps_available(), reason="python-mumps not installed"),
              # small saddles whose walls cut the parabola: irrelevant to a solver comparison
              pytest.mark.filterwarnings("ignore::qpcsim.PhysicsWarning")]
TOL = 1e-10


@pytest.fixture(scope="module", params=[(12, 24), (13, 9)], ids=["12x24", "13x9-odd"])
def saddle(request):
    """Saddle QPCs with W x L sites (an odd width puts a site row on the mirror line)."""
    width, length = request.param
    a = 5.0
    return qpcsim.load_geometry("qpc_saddle", a=a, W=a * (width + 1), L=a * (length - 1),
                                hw_x=2.0, hw_y=8.0)


@pytest.mark.parametrize("B, arithmetic", [(0.0, "real LDL^T"), (0.7, "complex LU")])
@pytest.mark.parametrize("energy", [6.0, 11.0])
def test_equals_kwant_smatrix(saddle, B, arithmetic, energy):
    backend = create_backend(saddle, "mumps-sigma")
    params = saddle.resolve_params({"V0": 4.0, "B": B})
    result = backend.smatrix(energy / saddle.t, params)
    ref = create_backend(saddle, "kwant").smatrix(energy / saddle.t, params)  # kwant.smatrix
    assert result.nprop == ref.nprop and sum(ref.nprop) > 0
    assert backend.factorization == arithmetic and backend.ordering is not None
    assert backend.flops > 0
    # Mode phases are a convention at B != 0: compare |S| and the transmission.
    assert np.abs(np.abs(result.data) - np.abs(ref.data)).max() < TOL
    assert abs(result.transmission(1, 0) - ref.transmission(1, 0)) < TOL
    assert result.unitarity_error < TOL


def test_same_point_is_bit_identical_in_fresh_solvers(saddle):
    params = saddle.resolve_params({"V0": 3.0})
    first, second = (create_backend(saddle, "mumps-sigma").smatrix(0.2, params)
                     for _ in range(2))
    assert np.array_equal(first.data, second.data)


def test_bit_identical_across_processes():
    """The split gate at B = 0 (both mirrors: four sectors) in a fresh process."""
    code = ("import qpcsim; from qpcsim.backends import create_backend;"
            "d = qpcsim.load_geometry('qpc_split_gate', a=8.0);"
            "s = create_backend(d, 'mumps-sigma').smatrix(0.1, d.resolve_params({})).data;"
            "print(s.tobytes().hex())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    device = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    backend = create_backend(device, "mumps-sigma")
    result = backend.smatrix(0.1, device.resolve_params({}))
    assert backend.sectors == 4 and result.backend == "mumps-sigma"
    assert run.stdout == result.data.tobytes().hex() + "\n"


def test_multi_terminal_hall_bar_equals_kwant():
    """Six leads on three edges at B = 6 T with an asymmetric bump: complex LU."""
    def shape(x, y):
        return (abs(y) < 25.0) | (abs(abs(x) - 35.0) < 10.0)

    leads = [qpcsim.Lead("source", "left", 0.0, 50.0),
             qpcsim.Lead("top_left", "top", -35.0, 20.0),
             qpcsim.Lead("top_right", "top", 35.0, 20.0),
             qpcsim.Lead("drain", "right", 0.0, 50.0),
             qpcsim.Lead("bottom_right", "bottom", 35.0, 20.0),
             qpcsim.Lead("bottom_left", "bottom", -35.0, 20.0)]
    bar = qpcsim.Device(width=80.0, length=120.0, a=5.0, shape=shape, leads=leads,
                        potential=lambda x, y: 4.0 * np.exp(-((x - 7) ** 2 + (y - 4) ** 2) / 400))
    result = qpcsim.solve(bar, 19.0, method="mumps-sigma", B=6.0)
    ref = qpcsim.solve(bar, 19.0, method="kwant", B=6.0)
    assert result.solver == "fast-mumps-sigma" and result.open_modes == ref.open_modes
    np.testing.assert_allclose(result.conductance_matrix, ref.conductance_matrix, atol=TOL)


def test_two_columns_do_not_apply():
    device = qpcsim.Device(width=30.0, length=5.0, a=5.0)
    with pytest.raises(ValueError, match="backend='mumps-sigma' does not apply to this device: "
                                         "its lead interfaces overlap or cover every site"):
        qpcsim.solve(device, 10.0, method="mumps-sigma")


@pytest.mark.parametrize("B, ran", [(0.0, "mumps-sigma"), (0.7, "mumps")])
def test_under_auto_runs_real_mirror_points_only(saddle, B, ran):
    """With a fallback (``auto``), complex points (B != 0) go to it, bit for bit."""
    fallback = create_backend(saddle, "mumps")
    backend = SigmaSchurBackend(saddle, fallback.assembly, fallback=fallback)
    params = saddle.resolve_params({"V0": 4.0, "B": B})
    evaluations = []
    values = fallback.assembly.system_values
    fallback.assembly.system_values = lambda *args: evaluations.append(1) or values(*args)
    result = backend.smatrix(0.3, params)
    assert result.backend == ran
    assert len(evaluations) == 1    # a field point is handed on before its values are built
    if ran == "mumps":
        assert np.array_equal(result.data, fallback.smatrix(0.3, params).data)
    else:
        assert backend.sectors == 4 and backend.factorization == "real LDL^T"
        assert np.abs(result.data - fallback.smatrix(0.3, params).data).max() < TOL


@pytest.fixture(scope="module")
def rough():
    """Saddles with on-site disorder (no mirror at any point), W x L sites: 60 x 100 and
    8 x 300, where the size rule picks mumps, and 50 x 100 and 20 x 40, where it picks rgf."""
    from qpcsim.physics.disorder import with_disorder
    a = 5.0
    return {(w, n): with_disorder(qpcsim.load_geometry(
        "qpc_saddle", a=a, W=a * (w + 1), L=a * (n - 1), hw_x=2.0, hw_y=2.0), 2.0)
        for w, n in ((60, 100), (50, 100), (20, 40), (8, 300))}


@pytest.mark.parametrize("size, B, rule, ran", [
    ((60, 100), 0.0, "mumps", "mumps-sigma"), ((60, 100), 0.7, "mumps", "mumps-sigma"),
    ((50, 100), 0.0, "rgf", "mumps-sigma"), ((50, 100), 0.7, "rgf", "rgf"),
    ((20, 40), 0.0, "rgf", "rgf"), ((8, 300), 0.0, "mumps", "mumps-sigma"),
    ((8, 300), 0.7, "mumps", "mumps")])
def test_auto_runs_points_without_a_mirror_where_mumps_sigma_is_cheaper(rough, size, B, rule,
                                                                        ran):
    """Points without a mirror (benchmarks/RESULTS.md, disordered saddles): where the size
    rule picks mumps, mumps-sigma runs every point (0.46-0.71x mumps's time real, ~0.8x
    complex) from 12 orbitals across, the real points only on narrower devices (8 x 300:
    its complex LU was 4-5 % slower); where it picks rgf, mumps-sigma runs the real points
    from about 20-30 sites across (0.71x rgf's time at 50 x 100; 20 x 40 keeps rgf). Each
    point as the named back end computes it, bit for bit, and within 1e-10 of
    kwant.smatrix (the full S)."""
    device = rough[size]
    assert choose_backend(device.nx, device.ny) == rule
    params = device.resolve_params({"V0": 4.0, "seed": 5, "B": B})
    energy = 6.0 / device.t
    result = FastSolver(device).smatrix(energy, params)
    assert result.backend == ran
    named = create_backend(device, ran)
    assert np.array_equal(result.data, named.smatrix(energy, params).data)
    if ran == "mumps-sigma":
        assert named.sectors == 1
        assert named.factorization == ("real LDL^T" if B == 0 else "complex LU")
    ref = create_backend(device, "kwant").smatrix(energy, params)
    assert np.abs(result.data - ref.data).max() < TOL


def test_lead_reductions_kept_are_bounded_by_the_assemblys_lead_parts(saddle, monkeypatch):
    """A reduction whose lead part the assembly dropped is never asked for again (a new part
    is a new key): at most as many are kept as the assembly keeps parts (was: up to 256 MiB
    of self-energies alone, each entry pinning its part: ~4x the memory of auto's mumps)."""
    from qpcsim.backends import sigma_schur
    monkeypatch.setattr(sigma_schur, "_CACHE_SIZE", 3)
    backend = create_backend(saddle, "mumps-sigma")
    params = saddle.resolve_params({"V0": 4.0})
    for k in range(7):
        backend.smatrix(0.3 + 0.01 * k, params)
        assert len(backend._reductions) <= 3
    assert len(backend._reductions) == 3


def test_the_schur_back_end_behind_a_mirror_front_end_looks_for_no_mirror():
    """Behind rgf-sigma (a point without its x, y or both mirrors), mumps-sigma does not
    check the mirrors again (0.5-0.6 ms per point, 3.6-5.5 %); named, it does."""
    device = qpcsim.load_geometry("qpc_split_gate")
    solver = FastSolver(device)
    chain, impl = [], solver._impl
    while impl is not None:
        chain.append(impl)
        impl = getattr(impl, "fallback", None)
    names = [b.name for b in chain]
    assert names[0] == "rgf-sigma" and "mumps-sigma" in names
    assert chain[names.index("mumps-sigma")].split is False
    assert create_backend(device, "mumps-sigma").split is True


@pytest.mark.parametrize("nx, ny, pick", [(200, 100, "rgf-sigma"), (300, 150, "mumps-sigma"),
                                          (400, 200, "mumps-sigma"), (1000, 500, "mumps-sigma")])
def test_auto_rule_under_a_mirror(nx, ny, pick):
    """Measured (benchmarks/RESULTS.md): rgf-sigma wins at W = 100, mumps-sigma from
    W = 150; without a mirror the size rule picks rgf or mumps (where it picks mumps,
    FastSolver runs mumps-sigma: the test above)."""
    assert choose_backend(nx, ny, holds=("mirror",)) == pick
    assert choose_backend(nx, ny) in ("rgf", "mumps")
    assert choose_backend(nx, ny, mumps=False, holds=("mirror",)).startswith("rgf")


def test_sectors_leave_the_schur_complement_unchanged(saddle):
    """Four parity sectors (both mirrors) against the unsplit factorization: 1e-12."""
    split = create_backend(saddle, "mumps-sigma")
    whole = SigmaSchurBackend(saddle, split.assembly, split=False)
    params = saddle.resolve_params({"V0": 4.0})
    a, b = split.smatrix(0.3, params), whole.smatrix(0.3, params)
    assert (split.sectors, whole.sectors) == (4, 1)
    assert split.flops < 0.5 * whole.flops
    assert np.abs(a.data - b.data).max() < 1e-12


@pytest.mark.parametrize("shift, arithmetic", [(0.0, "real LDL^T"),
                                               (0.05j, "complex-symmetric LDL^T")])
def test_schur_complement_equals_the_dense_one(saddle, shift, arithmetic):
    """The sectors' Schur complement onto the interface against dense linear algebra, for a
    real and a complex-symmetric (absorbing onsite) matrix."""
    backend = create_backend(saddle, "mumps-sigma")
    assembly = backend.assembly
    values = assembly.system_values(0.3, saddle.resolve_params({"V0": 4.0}))
    values = values + shift * (assembly.sys_row == assembly.sys_col)
    interface = np.concatenate([np.arange(saddle.ny), assembly.n_sys - saddle.ny
                                + np.arange(saddle.ny)])
    schur = backend.schur_complement(values, interface)
    assert backend.factorization == arithmetic and backend.sectors == 4
    n = assembly.n_sys
    a = np.zeros((n, n), dtype=complex)
    np.add.at(a, (assembly.sys_row, assembly.sys_col), values)
    rest = np.setdiff1d(np.arange(n), interface)
    dense = a[np.ix_(interface, interface)] - a[np.ix_(interface, rest)] @ np.linalg.solve(
        a[np.ix_(rest, rest)], a[np.ix_(rest, interface)])
    np.testing.assert_allclose(schur, dense, atol=1e-11)


@pytest.mark.parametrize("name, sizes, B", [
    ("hall_bar_qpc", dict(a=10.0, L=600.0, probe_x=150.0), 0.0),
    ("hall_bar_qpc", dict(a=10.0, L=600.0, probe_x=150.0), 3.0),
    ("magnetic_focusing", dict(a=10.0, L=200.0, qpc_width=40.0, height=150.0), 0.2)])
def test_bundled_multi_terminal_geometries_equal_kwant(name, sizes, B):
    """The bundled explicit-lead devices (at B = 0 both mirrors of the Hall bar split it)."""
    device = qpcsim.load_geometry(name, **sizes)
    energy = qpcsim.load_geometry_module(name).ENERGY
    result = qpcsim.solve(device, energy, method="mumps-sigma", B=B)
    ref = qpcsim.solve(device, energy, method="kwant", B=B)
    assert result.open_modes == ref.open_modes and sum(ref.open_modes) > 0
    np.testing.assert_allclose(result.conductance_matrix, ref.conductance_matrix, atol=TOL)
    if B == 0:
        backend = create_backend(device, "mumps-sigma")
        backend.smatrix(energy / device.t, device.resolve_params({}))
        assert backend.sectors == 4


def _honeycomb(n):
    """Honeycomb sites (non-integer positions) of an n x n patch, one corner removed."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    cells = np.c_[i.ravel() + 0.5 * j.ravel(), np.sqrt(3) / 2 * j.ravel()]
    return np.concatenate([cells, cells + [0.5, np.sqrt(3) / 6]])[1:]


@pytest.mark.parametrize("positions", [
    np.argwhere(np.ones((7, 5))).astype(float),                 # a square lattice
    _honeycomb(6),                                               # no mirror under x: -1s
    np.array([[0.0, -1e-9], [1.0, 2.0], [-1.0, -2.0], [0.0, 0.0]]),   # -0.0 after rounding
], ids=["square", "honeycomb", "signed-zero"])
@pytest.mark.parametrize("axis", [0, 1])
def test_site_lookup_of_mirror_images_is_the_dicts(positions, axis):
    """The mirror search's vectorized lookup equals a dict of the rounded positions."""
    from qpcsim.backends.sigma_schur import _sites_at
    image = positions.copy()
    image[:, axis] = positions[:, axis].min() + positions[:, axis].max() - positions[:, axis]
    keys = {tuple(p): i for i, p in enumerate(np.round(positions, 6))}
    expected = np.array([keys.get(tuple(p), -1) for p in np.round(image, 6)])
    np.testing.assert_array_equal(_sites_at(positions, image), expected)
