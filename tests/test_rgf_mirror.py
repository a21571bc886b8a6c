"""The mirror-reduced RGF back end (``rgf-mirror``) gives the plain RGF's complex
S-matrix on every bundled geometry, for even and odd column counts, uses the
reduction exactly where the assembled system is x-mirror symmetric, and falls back
(bit for bit the plain sweep, or under ``auto`` the size rule's back end) elsewhere."""
import logging
import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, choose_backend, registered
from qpcsim.backends.rgf_mirror import MIRROR_RTOL, RGFMirrorBackend
from conftest import MULTI_TERMINAL, fewmode_energy

from conftest import DEVICE_GEOMETRIES  # noqa: E402

GEOMETRIES = [g for g in DEVICE_GEOMETRIES if g not in MULTI_TERMINAL]
#: Small lattices, and the length parameter whose step by ``a`` flips the column count's parity.
SMALL = {"qpc_saddle": (dict(a=5.0, W=150.0, L=250.0), "L"),
         "qpc_hardwall": (dict(a=5.0, L_taper=100.0), "L_c"),
         "qpc_split_gate": (dict(a=8.0), "L"),
         "qpc_split_gate_sc": (dict(a=8.0, resolution=8.0), "L"),
         "disordered_wire": (dict(a=5.0, W=60.0, L=150.0, seed=3), "L"),
         "quantum_dot": (dict(a=4.0), "D")}
#: Geometries without an x-mirror at B = 0 (a disorder realization).
ASYMMETRIC = {"disordered_wire"}
TOL = 1e-12


def _device(name, parity_step=0, **extra):
    sizes, length_name = SMALL[name]
    module = qpcsim.load_geometry_module(name)
    kwargs = {**sizes, **extra}
    base = kwargs.get(length_name, module.DEFAULTS[length_name])
    kwargs[length_name] = base + parity_step * kwargs.get("a", module.DEFAULTS["a"])
    return qpcsim.load_geometry(name, **kwargs)


def _pair(device, extra=None, energy=None):
    """(S_mirror, S_rgf, nprop, mirror back end, the back end that ran the mirror's
    point) at one point."""
    params = device.resolve_params(extra or {})
    energy = fewmode_energy(device) / device.t if energy is None else energy
    mirror = FastSolver(device, "rgf-mirror")
    result = mirror.smatrix(energy, params)
    s_m, n_m, ran = result.data, result.nprop, result.backend
    result = FastSolver(device, "rgf").smatrix(energy, params)
    s_r, n_r = result.data, result.nprop
    assert n_m == n_r and sum(n_r) > 0
    return s_m, s_r, n_r, mirror, ran


@pytest.mark.parametrize("name", GEOMETRIES)
def test_mirror_equals_plain_rgf_for_even_and_odd_column_counts(name):
    parities = set()
    for step in (0, 1):
        device = _device(name, step)
        parities.add(device.nx % 2)
        s_m, s_r, _, mirror, ran = _pair(device)
        impl = mirror._impl
        if name in ASYMMETRIC:
            assert impl.counts == {"mirror": 0, "fallback": 1} and ran == "rgf"
            assert np.array_equal(s_m, s_r)            # the plain sweep itself
        else:
            assert impl.counts == {"mirror": 1, "fallback": 0}
            assert ran == "rgf-mirror"
            assert np.abs(s_m - s_r).max() < TOL, (name, device.nx)
            unitarity = np.abs(s_m.conj().T @ s_m - np.eye(s_m.shape[1])).max()
            assert unitarity < 1e-10
    # qpc_hardwall's length is always an even number of lattice constants (a column at
    # x = 0): its column count cannot flip; the other geometries cover both parities.
    if name != "qpc_hardwall":
        assert parities == {0, 1}


def test_zeeman_resolved_mirror():
    device = _device("qpc_saddle", 1, zeeman=True)
    s_m, s_r, _, mirror, ran = _pair(device, {"E_Z": 0.4})
    assert device.norbs == 2 and ran == "rgf-mirror"
    assert np.abs(s_m - s_r).max() < TOL


def test_rounding_level_asymmetry_is_the_symmetry():
    # The split gate's x grid is not exactly antisymmetric: its potential matches its
    # mirror image only to ~1e-16 relative, within MIRROR_RTOL.
    device = _device("qpc_split_gate")
    backend = RGFMirrorBackend(device)
    energy = fewmode_energy(device) / device.t
    params = device.resolve_params({})
    dev = backend._mirror.deviation(backend.assembly.system_values(energy, params),
                                    backend.assembly.leads(energy, params))
    assert 0.0 < dev <= MIRROR_RTOL
    exact = _device("qpc_saddle")
    backend = RGFMirrorBackend(exact)
    params = exact.resolve_params({})
    assert backend._mirror.deviation(backend.assembly.system_values(0.1, params),
                                     backend.assembly.leads(0.1, params)) == 0.0


@pytest.mark.parametrize("case", ["B=0.5T", "asymmetric gate", "approximate"])
def test_falls_back_where_the_mirror_does_not_hold(case, caplog):
    if case == "B=0.5T":    # Peierls phases of the two directions are conjugates
        device, extra = _device("qpc_saddle"), {"B": 0.5}
    elif case == "asymmetric gate":
        device, extra = _device("quantum_dot"), {"asymmetry": 2.0}
    else:                   # a 1e-9 relative tilt: symmetric to the eye, not to 1e-14
        device = qpcsim.Device(width=60.0, length=100.0, a=5.0,
                               potential=lambda x, y, Vg=0.3: Vg * np.exp(-x**2 / 400.0)
                               * (1 + 1e-8 * x))
        extra = {}
    with caplog.at_level(logging.DEBUG, logger="qpcsim.backends.rgf_mirror"):
        s_m, s_r, _, mirror, ran = _pair(device, extra)
    assert mirror._impl.counts == {"mirror": 0, "fallback": 1} and ran == "rgf"
    assert np.array_equal(s_m, s_r)
    approximate = [r for r in caplog.records if "only approximately" in r.getMessage()]
    assert len(approximate) == (1 if case == "approximate" else 0)
    if case == "approximate":
        assert approximate[0].levelno == logging.DEBUG


def test_shaped_devices():
    def symmetric(x, y):
        return np.abs(y) < 20.0 + 0.9 * np.abs(x)

    def lopsided(x, y):
        return np.abs(y) < 20.0 + 0.9 * np.abs(x + 10.0)

    for length in (80.0, 85.0):
        device = qpcsim.Device(width=100.0, length=length, a=5.0, shape=symmetric,
                               potential=lambda x, y, Vg=1.0: Vg + 0 * x, params={"Vg": 1.0})
        assert len(device.site_positions()) < device.nx * device.ny
        s_m, s_r, _, mirror, ran = _pair(device)
        assert ran == "rgf-mirror" and np.abs(s_m - s_r).max() < TOL
    device = qpcsim.Device(width=100.0, length=80.0, a=5.0, shape=lopsided)
    with pytest.raises(ValueError, match="backend='rgf-mirror' does not apply to this device: "
                                         "the site set is not mirror symmetric in x"):
        FastSolver(device, "rgf-mirror")
    assert FastSolver(device).backend == choose_backend(device.nx, device.ny)


def test_auto_uses_the_mirror_exactly_at_symmetric_points():
    device = _device("qpc_saddle")
    assert "rgf-mirror" in registered()
    plain = choose_backend(device.nx, device.ny, device.norbs)
    assert choose_backend(device.nx, device.ny, holds=("x-mirror",)) == "rgf-mirror"
    solver = FastSolver(device)
    assert solver.backend == plain                  # the size rule's: the mirror's fallback
    energy = fewmode_energy(device) / device.t
    reference = FastSolver(device, plain)
    for extra, path in (({}, "rgf-mirror"), ({"B": 0.5}, plain), ({"V0": 3.0}, "rgf-mirror")):
        params = device.resolve_params(extra)
        result = solver.smatrix(energy, params)
        s_auto = result.data
        assert result.backend == path, extra
        s_ref = reference.smatrix(energy, params).data
        if path == plain:
            assert np.array_equal(s_auto, s_ref)
        else:
            assert np.abs(s_auto - s_ref).max() < 1e-10
    result = qpcsim.solve(device, 9.0)
    assert result.solver == "fast-rgf-mirror"
    assert qpcsim.solve(device, 9.0, B=0.5).solver == f"fast-{plain}"


def test_mirror_across_energies_with_different_mode_counts():
    device = _device("qpc_saddle", 1)
    mirror, rgf = FastSolver(device, "rgf-mirror"), FastSolver(device, "rgf")
    params = device.resolve_params({"V0": 4.0})
    counts, first = set(), None
    for energy in list(np.linspace(6.0, 12.0, 5) / device.t) + [6.0 / device.t]:
        result = mirror.smatrix(energy, params)
        s_m, n_m = result.data, result.nprop
        result = rgf.smatrix(energy, params)
        s_r, n_r = result.data, result.nprop
        assert n_m == n_r and np.abs(s_m - s_r).max() < TOL
        counts.add(n_m)
        if first is None:
            first = s_m
    assert len(counts) > 1 and np.array_equal(s_m, first)    # revisited energy: same bits
    assert mirror._impl.counts["mirror"] == 6


def test_choose_backend_without_holds_is_the_size_rule():
    for args in ((801, 19), (200, 100), (400, 200), (100, 50, 2), (2, 5)):
        assert choose_backend(*args) in ("rgf", "mumps")
    assert choose_backend(200, 100, holds=("x-mirror",)) == "rgf-mirror"
    assert choose_backend(2, 5, holds=("x-mirror",)) == "rgf"   # tie: nothing to halve


def test_mirror_is_bit_identical_across_processes():
    code = ("import qpcsim; from qpcsim.backends import FastSolver;"
            "d = qpcsim.load_geometry('qpc_split_gate', a=8.0);"
            "s = FastSolver(d, 'rgf-mirror').smatrix(0.1, d.resolve_params({})).data;"
            "print(s.tobytes().hex())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    device = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    solver = FastSolver(device, "rgf-mirror")
    s = solver.smatrix(0.1, device.resolve_params({})).data
    assert solver.backend == "rgf-mirror"
    assert run.stdout == s.tobytes().hex() + "\n"


@pytest.mark.parametrize("length", [5.0, 10.0, 15.0, 100.0, 105.0])
def test_mirror_against_the_sparse_back_end_for_short_and_long_devices(length):
    # 2, 3, 4, 21 and 22 columns: the join right after column 0 (with the lead's
    # block), an odd middle column next to both leads, and longer even/odd ones;
    # against SuperLU, which shares the lead modes but none of the recursion.
    device = qpcsim.Device(width=60.0, length=length, a=5.0,
                           potential=lambda x, y, Vg=0.3: Vg * np.exp(-x**2 / 400.0)
                           * (1 + y**2 / 100.0))
    params = device.resolve_params({})
    mirror = FastSolver(device, "rgf-mirror")
    result = mirror.smatrix(0.15, params)
    s_m, nprop = result.data, result.nprop
    result = FastSolver(device, "scipy").smatrix(0.15, params)
    s_ref, n_ref = result.data, result.nprop
    assert mirror.smatrix(0.15, params).backend == "rgf-mirror"
    assert nprop == n_ref and sum(nprop) > 0
    assert np.abs(s_m - s_ref).max() < TOL
