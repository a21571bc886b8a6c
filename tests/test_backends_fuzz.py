"""Seeded randomized search for silently wrong S-matrices in the fast back ends.

Each case is a small device (a bundled geometry at random parameters, or a mirror-symmetric
custom potential with a tiny asymmetry ``eps``), an energy (generic, or within 1e-6..1e-3 meV
of a lead threshold) and B = 0 or not; every back end by name and ``auto`` is compared with
plain ``kwant.smatrix`` on ``device.build()`` (the ``kwant`` back end). A back end must agree
to :data:`TOLERANCE` per lead block, or refuse with a one-line ValueError. The default set is
a few seeds of each family; the ``slow`` set runs many more.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import backend_info, create_backend, mirror_check, registered
from qpcsim.backends.rgf_mirror import MIRROR_RTOL
from qpcsim import scattering
from qpcsim.scattering import UNITARITY_TOLERANCE, scattering_matrix
from qpcsim.spectral.bands import lead_thresholds

#: Largest allowed max|S - S_kwant| (per lead block) and error of the gauge invariants.
TOLERANCE = 1e-10
#: Every fast back end by name, and the automatic choice.
METHODS = tuple(n for n in registered() if backend_info(n).fast_path) + ("auto",)
#: Relative sizes of the asymmetry added to a mirror-symmetric potential.
ASYMMETRIES = (0.0, 1e-15, 1e-13, 1e-11, 1e-9, 1e-7)


def reference(device, energy_meV, params):
    """Plain ``kwant.smatrix`` on ``device.build()`` (one BLAS thread), as an SMatrix."""
    return create_backend(device, "kwant").smatrix(energy_meV / device.t, params)


def block_errors(smat, ref):
    """Per lead block (out, in): max|S - S_ref| elementwise, max||S| - |S_ref||, and the
    largest change of a singular value (invariant under any choice of mode basis)."""
    errors = {}
    for i in range(ref.num_leads):
        for j in range(ref.num_leads):
            a, b = smat.submatrix(i, j), ref.submatrix(i, j)
            if b.size == 0:
                continue
            sv = np.abs(np.linalg.svd(a, compute_uv=False) - np.linalg.svd(b, compute_uv=False))
            errors[i, j] = (float(np.abs(a - b).max()), float(np.abs(np.abs(a) - np.abs(b)).max()),
                            float(sv.max()))
    return errors


def compare(device, energy_meV, params, method, ref):
    """One back end at one point against ``ref``: a record (dict) of what ran and its errors;
    ``refused`` holds a one-line ValueError's message (a refusal, not a finding)."""
    record = dict(method=method, energy=energy_meV, ran=None, refused=None, error=None)
    try:
        smat = scattering_matrix(device, energy_meV, params, method)
    except ValueError as err:
        record["refused"] = str(err)
        return record
    record["ran"] = smat.backend
    record["nprop_ok"] = smat.nprop == ref.nprop
    if not record["nprop_ok"]:
        record["error"] = np.inf
        return record
    errors = block_errors(smat, ref)
    record["blocks"] = errors
    record["elementwise"] = max((e[0] for e in errors.values()), default=0.0)
    record["modulus"] = max((e[1] for e in errors.values()), default=0.0)
    record["invariant"] = max((e[2] for e in errors.values()), default=0.0)
    record["unitarity"] = smat.unitarity_error
    record["unitarity_ref"] = ref.unitarity_error
    return record


def energies_near(thresholds, rng, count, offsets=(1e-6, 1e-3)):
    """``count`` energies (meV) within ``offsets`` (meV, log-uniform) above or below a
    randomly picked positive lead threshold."""
    thresholds = np.asarray([t for t in thresholds if t > 0.05])
    picks = rng.choice(thresholds, size=count)
    delta = 10 ** rng.uniform(np.log10(offsets[0]), np.log10(offsets[1]), size=count)
    return list(picks + rng.choice([-1.0, 1.0], size=count) * delta)


def symmetric_device(rng, eps, axis="x", nx=None, ny=None, kind=None, height=None):
    """A custom device whose potential is x- and y-mirror symmetric (a double barrier with a
    dot, or a saddle, random heights) plus ``eps * V_max * x / (L/2)`` (or ``y / (W/2)``):
    an asymmetry of relative size ``eps``. Returns (device, params)."""
    a = float(rng.choice([3.0, 4.0, 5.0]))
    ny = ny or int(rng.integers(5, 30))
    nx = nx or int(rng.integers(10, 80))
    width, length = a * (ny + 1), a * (nx - 1)
    kind = kind or str(rng.choice(["dot", "saddle", "wall"]))
    height = height or float(rng.uniform(5.0, 40.0))
    wall = float(rng.choice([0.0, 300.0, 3000.0])) if kind == "wall" else 0.0
    half_l, half_w = length / 2, width / 2
    sigma = max(a, 0.08 * length)

    def potential(x, y, U=height, eps=eps):
        if kind == "dot":
            v = U * (np.exp(-0.5 * ((x - 0.3 * half_l) / sigma) ** 2)
                     + np.exp(-0.5 * ((x + 0.3 * half_l) / sigma) ** 2))
        elif kind == "saddle":
            v = U * np.exp(-(x / (0.4 * half_l)) ** 2) * (1 - 0.5 * (y / half_w) ** 2)
        else:
            v = wall * (np.abs(y) > 0.35 * half_w * (1 + 0.5 * (x / half_l) ** 2)) \
                + U * np.exp(-(x / (0.3 * half_l)) ** 2)
        vmax = max(U, wall)
        tilt = x / half_l if axis == "x" else y / half_w
        return v + eps * vmax * tilt + 0.0 * y

    device = qpcsim.Device(width=width, length=length, a=a, potential=potential,
                           name=f"sym-{kind}")
    return device, device.resolve_params({})


def _sites(rng, a, low, high):
    """A length (nm) of a random whole number of lattice constants in [low, high)."""
    return a * int(rng.integers(low, high))


def _pick(rng, values):
    return values[int(rng.integers(len(values)))]


#: make_device keywords at random, small: each geometry at most ~60 x 120 sites.
SAMPLERS = {
    "qpc_saddle": lambda r, a=5.0: dict(
        a=a, W=_sites(r, a, 10, 45), L=_sites(r, a, 15, 100), V0=r.uniform(0, 8),
        hw_x=r.uniform(.5, 3), hw_y=r.uniform(1, 5), zeeman=bool(r.random() < .3)),
    "qpc_hardwall": lambda r, a=5.0: dict(
        a=a, W=(W := _sites(r, a, 14, 40)), w_c=r.uniform(.3, .9) * W, L_c=r.uniform(10, 60),
        L_taper=_pick(r, [0.0, r.uniform(10, 60)]), L_gate_ramp=r.uniform(20, 60),
        U_gate=r.uniform(-3, 8), V_wall=_pick(r, [100.0, 250.0, 2000.0]),
        zeeman=bool(r.random() < .3)),
    "qpc_split_gate": lambda r, a=8.0: dict(
        a=a, W=_sites(r, a, 16, 45), L=_sites(r, a, 20, 70), Vg=r.uniform(-1.2, 0),
        gap=r.uniform(80, 200), zeeman=bool(r.random() < .3)),
    "disordered_wire": lambda r, a=5.0: dict(
        a=a, W=_sites(r, a, 6, 40), L=_sites(r, a, 5, 90), disorder=r.uniform(0, 20),
        seed=int(r.integers(0, 1000)), correlation_length=_pick(r, [0.0, 10.0]),
        zeeman=bool(r.random() < .3)),
    "quantum_dot": lambda r, a=4.0: dict(
        a=a, V_barrier=r.uniform(5, 20), asymmetry=_pick(r, [0.0, 1e-13, 1e-9, r.uniform(0, 2)]),
        D=r.uniform(60, 140), Vp=r.uniform(-.05, .05), W=_sites(r, a, 10, 18),
        L_lead=_sites(r, a, 2, 12)),
    "hall_bar_qpc": lambda r, a=10.0: dict(
        a=a, W=(W := _sites(r, 20, 5, 10)), gap=r.uniform(30, W - 20), L=_sites(r, 20, 30, 45),
        probe_x=_sites(r, 20, 8, 12), probe_width=_sites(r, 20, 3, 5),
        arm_length=_sites(r, 10, 5, 10), Vg=r.uniform(-1, 0), zeeman=bool(r.random() < .3)),
    "magnetic_focusing": lambda r, a=10.0: dict(
        a=a, L=_sites(r, 20, 10, 20), qpc_width=_sites(r, 20, 2, 3), margin=_sites(r, 20, 3, 5),
        height=_sites(r, 10, 10, 25), zeeman=bool(r.random() < .3)),
    "rashba_wire": lambda r, a=10.0: dict(
        a=a, W=_sites(r, a, 5, 12), L=_sites(r, a, 8, 30), alpha=r.uniform(0, 150),
        B=r.uniform(0, 1)),
    "graphene_ribbon": lambda r: dict(
        edge=_pick(r, ["zigzag", "armchair"]), W=r.uniform(10, 25), L=r.uniform(15, 40),
        V_gate=r.uniform(-50, 50)),
    "nqpc_s": lambda r: dict(a=10.0, V0=r.uniform(5, 8), Delta=_pick(r, [0.0, 1e-3, 0.1]),
                             phi=r.uniform(0, 6)),
}


def random_case(name, rng):
    """(device, resolved params, energies in meV) of geometry ``name`` at random parameters,
    with B = 0 or not and Zeeman where the geometry has them: one generic energy and two
    within 1e-6..1e-3 meV of a lead threshold."""
    module = qpcsim.load_geometry_module(name)
    drawn = SAMPLERS[name](rng)
    structural = getattr(module, "STRUCTURAL", tuple(drawn))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a PhysicsWarning about the walls is not the point
        device = qpcsim.load_geometry(name, **{k: v for k, v in drawn.items()
                                               if k in structural or k not in module.DEFAULTS})
    params = device.resolve_params({k: v for k, v in drawn.items()
                                    if k not in structural and k in module.DEFAULTS})
    if "B" in device.defaults and name != "rashba_wire" and rng.random() < .5:
        params["B"] = float(rng.uniform(.05, 3.0))
    if "E_Z" in device.defaults and rng.random() < .7:
        params["E_Z"] = float(rng.uniform(-1, 1))
    thresholds = np.asarray(lead_thresholds(device, params), dtype=float)
    positive = thresholds[thresholds > 0.05]
    energies = [float(rng.uniform(positive[0] * .5, positive[min(4, len(positive) - 1)] + 1))]
    return device, params, energies + energies_near(positive[:6], rng, 2)


def assert_agrees(record, ref, tolerance=TOLERANCE):
    """A back end's record agrees with Kwant to ``tolerance`` (the larger of it and ten
    times the reference's own unitarity error: near a field-dependent band edge Kwant
    itself is accurate only to that), or it refused in one line, or its own unitarity
    error exceeds UNITARITY_TOLERANCE (every solve then raises UnitarityError: not silent)."""
    if record["refused"] is not None:
        assert "\n" not in record["refused"] and "is not allowed" in record["refused"] \
            or "does not apply" in record["refused"], record["refused"]
        return
    bound = max(tolerance, 10 * ref.unitarity_error)
    assert record["nprop_ok"], record
    if record["unitarity"] > UNITARITY_TOLERANCE:
        return
    if record["ran"] == "scipy":
        # SuperLU inverts (A^-1)_XX: near a band edge in a field it is accurate only to about
        # its own unitarity error (measured up to 5.7e-9 at 5.8e-9): the bound it reports
        bound = max(bound, 3 * record["unitarity"])
    assert record["invariant"] < bound and record["modulus"] < bound, record


#: One small case per geometry (< ~1 s each): B != 0 in hardwall, disordered_wire, the dot;
#: Zeeman in saddle and disordered_wire; explicit leads; a model device.
DEFAULT_SEEDS = {"qpc_saddle": 11, "qpc_hardwall": 8, "quantum_dot": 3, "disordered_wire": 11,
                 "qpc_split_gate": 6, "magnetic_focusing": 3, "rashba_wire": 7, "hall_bar_qpc": 9}


@pytest.mark.parametrize("name, seed", sorted(DEFAULT_SEEDS.items()))
def test_every_fast_backend_equals_kwant_on_a_random_geometry(name, seed):
    rng = np.random.default_rng(seed)
    device, params, energies = random_case(name, rng)
    for energy in energies:
        ref = reference(device, energy, params)
        for method in METHODS:
            assert_agrees(compare(device, energy, params, method, ref), ref)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_fast_backend_equals_kwant_on_random_geometries_slow(name, seed):
    rng = np.random.default_rng(1000 + seed)
    try:
        device, params, energies = random_case(name, rng)
    except ValueError as err:      # a drawn combination the geometry refuses (in one line)
        assert "\n" not in str(err)
        pytest.skip(str(err))
    for energy in energies:
        ref = reference(device, energy, params)
        for method in METHODS:
            assert_agrees(compare(device, energy, params, method, ref), ref)


def _threshold_eps(device, params, energy, height, factor):
    """The ``eps`` of :func:`symmetric_device` whose x-mirror deviation is ``factor`` times
    MIRROR_RTOL: V(x) - V(-x) = 2 eps V_max x/(L/2), largest at the end columns, relative to
    max|A| (lattice units)."""
    diagonal = np.abs(device.onsite_diagonal(params) - energy / device.t).max()
    return factor * MIRROR_RTOL * max(diagonal, 1.0) * device.t / (2 * height)


#: The back ends that exploit a mirror (and ``auto``, which picks them per point).
SYMMETRIC = ("rgf-mirror", "rgf-parity", "rgf-sigma", "mumps-sigma", "auto")


@pytest.mark.parametrize("axis", ["x", "y"])
@pytest.mark.parametrize("eps", ASYMMETRIES)
def test_symmetric_backends_fall_back_or_agree_at_a_tiny_asymmetry(eps, axis):
    """A mirror-symmetric dot plus an asymmetry of relative size eps: every back end that
    uses a mirror agrees with Kwant to 1e-10, and one of 1e-11 or more is seen (the point
    runs a fallback, whose name the SMatrix carries)."""
    rng = np.random.default_rng(11)
    device, params = symmetric_device(rng, eps, axis, nx=41, ny=17, kind="dot", height=15.0)
    thresholds = lead_thresholds(device, params)
    for energy in (float(thresholds[1] + 0.37), float(thresholds[2] - 3e-6)):
        ref = reference(device, energy, params)
        for method in SYMMETRIC:
            record = compare(device, energy, params, method, ref)
            assert_agrees(record, ref)
            if eps >= 1e-11:   # the broken mirror is not used (the other one may be)
                broken = ("rgf-mirror",) if axis == "x" else ("rgf-sigma",)
                assert record["ran"] not in broken, record
            if eps == 0.0 and method in ("rgf-mirror", "rgf-parity", "rgf-sigma"):
                assert record["ran"] == method, record


@pytest.mark.parametrize("factor", [0.5, 0.999, 1.001, 2.0])
def test_symmetric_backends_at_the_mirror_tolerance(factor):
    """An x-asymmetry of 0.5, 0.999, 1.001 and 2 times MIRROR_RTOL (relative to max|A|):
    on either side of the decision the result agrees with Kwant to 1e-10; above it the
    mirror is not used."""
    rng = np.random.default_rng(12)
    probe, params = symmetric_device(rng, 0.0, "x", nx=40, ny=16, kind="dot", height=20.0)
    energy = float(lead_thresholds(probe, params)[1] + 1e-4)
    eps = _threshold_eps(probe, params, energy, 20.0, factor)
    device, params = symmetric_device(np.random.default_rng(12), eps, "x", nx=40, ny=16,
                                      kind="dot", height=20.0)
    ref = reference(device, energy, params)
    for method in ("rgf-mirror", "auto"):
        record = compare(device, energy, params, method, ref)
        assert_agrees(record, ref)
        if factor > 1.01:
            assert record["ran"] != "rgf-mirror", record


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(30))
def test_symmetric_backends_at_random_asymmetries_slow(seed):
    rng = np.random.default_rng(2000 + seed)
    eps, axis = ASYMMETRIES[seed % len(ASYMMETRIES)], ("x", "y")[seed % 2]
    device, params = symmetric_device(rng, eps, axis)
    thresholds = np.asarray(lead_thresholds(device, params))
    positive = thresholds[thresholds > 0.05]
    for energy in [float(rng.uniform(positive[0], positive[min(3, len(positive) - 1)] + 2))] \
            + energies_near(positive[:5], rng, 2):
        ref = reference(device, energy, params)
        for method in METHODS:
            assert_agrees(compare(device, energy, params, method, ref), ref)


def test_sweep_is_bit_identical_with_one_and_two_workers(monkeypatch):
    """Through the engine, ``auto`` decides the mirror per point (asymmetries below, at and
    above MIRROR_RTOL, energies at and near a threshold): one worker and a pool of two give
    the same bits."""
    from qpcsim.engine import executors
    monkeypatch.setattr(executors, "_POOL_START_S", 0.0)   # a pool of two even for 8 points
    device = qpcsim.load_geometry("quantum_dot", a=4.0, W=40.0, L_lead=20.0)
    params = device.resolve_params({})
    energy = float(lead_thresholds(device, params)[0] + 2e-6)
    unit = MIRROR_RTOL * np.abs(device.onsite_diagonal(params) - energy / device.t).max() * device.t
    over = {"asymmetry": [0.0, 0.5 * unit, 0.999 * unit, 1.001 * unit, 2 * unit, 1e-9, 1e-7, 0.3]}
    serial = qpcsim.sweep(device, over, energy=energy, workers=1, progress=False)
    pooled = qpcsim.sweep(device, over, energy=energy, workers=2, progress=False)
    assert pooled.attrs["executor"] == "processes(2)"
    # the mirror where the point is symmetric to MIRROR_RTOL, the size rule's choice elsewhere
    assert set(serial.attrs["solver"].split(",")) == {"fast-rgf-mirror", "fast-mumps-sigma"}
    np.testing.assert_array_equal(serial.conductance.values, pooled.conductance.values)
    np.testing.assert_array_equal(serial["transmission_eigenvalues"].values,
                                  pooled["transmission_eigenvalues"].values)
    for value, g in zip(over["asymmetry"], serial.conductance.values):
        ref = reference(device, energy, device.resolve_params({"asymmetry": value}))
        assert abs(g - ref.transmission(1, 0)) < TOLERANCE


def _closed_interior_eigenvalue(device, params, above_meV):
    """The lowest eigenvalue (meV) above ``above_meV`` of the scattering region without its
    lead-interface columns (closed: hard walls there), from Kwant's Hamiltonian."""
    fsyst = device.build()
    hamiltonian = fsyst.hamiltonian_submatrix(params=params)
    x = np.array([site.pos[0] for site in fsyst.sites])
    inside = (x > x.min() + 1e-9) & (x < x.max() - 1e-9)
    eigenvalues = np.linalg.eigvalsh(hamiltonian[np.ix_(inside, inside)]) * device.t
    return float(eigenvalues[eigenvalues > above_meV][0])


def _tilted_wire(walls_meV, offset_meV):
    """A 30 x 9 wire with a weak tilt (no mirror), ``walls_meV`` walls at |y| > 17 nm, and an
    energy ``offset_meV`` above an eigenvalue of its closed interior: ``(device, params,
    energy_meV)``."""
    device = qpcsim.Device(width=50.0, length=145.0, a=5.0,
                           potential=lambda x, y, F=0.5: F * x / 100.0
                           + walls_meV * (np.abs(y) > 17.0))
    params = device.resolve_params({})
    return device, params, _closed_interior_eigenvalue(device, params, 3.0) + offset_meV


#: Found by this search: the Schur back ends eliminate the region without its lead
#: interfaces, a closed box; within ~1e-7 meV of one of its eigenvalues they lost accuracy
#: without a sign in their unitarity. Such a point now goes to schur.exact_backend (RGF
#: here). Its growth is measured against the hopping scale, not max|A|: behind 30 eV walls
#: (max|A| ~ 1300) a point 7e-9 meV from the eigenvalue read 906 against max|A| and ran
#: MUMPS, S 5e-10 off (the review of the fix).
@pytest.mark.parametrize("walls_meV, offset_meV", [(0.0, 0.0), (30000.0, 7e-9)])
@pytest.mark.parametrize("method", ["rgf", "rgf-parity", "auto", "mumps", "mumps-sigma", "scipy"])
def test_schur_backends_at_an_eigenvalue_of_the_closed_interior(method, walls_meV, offset_meV):
    """A 30 x 9 wire with a weak tilt (no mirror: ``auto`` runs MUMPS) at an energy that is
    (or is 7e-9 meV above) an eigenvalue of its scattering region without the interface
    columns. Before the fix, without walls: G = 0.970552727903 (auto, mumps) and
    0.970572040663 (mumps-sigma) against Kwant's and RGF's 0.970557775154, with unitarity
    errors 1.5e-16 and 6e-16."""
    device, params, energy = _tilted_wire(walls_meV, offset_meV)
    ref = reference(device, energy, params)
    record = compare(device, energy, params, method, ref)
    assert_agrees(record, ref)
    assert record["ran"] == ("rgf-parity" if method == "rgf-parity" else "rgf")


@pytest.mark.parametrize("walls_meV, offset_meV", [(0.0, 2.5e-5), (30000.0, 1.7e-5)])
@pytest.mark.parametrize("method", ["mumps", "mumps-sigma"])
def test_schur_backends_just_under_the_growth_limit_stay_accurate(method, walls_meV,
                                                                  offset_meV):
    """The limit's other side: the same tilted wire 2.5e-5 meV (growth 671) or, behind 30 eV
    walls, 1.7e-5 meV (growth 493) above the closed interior's eigenvalue still runs the
    Schur back end, and its S is within 1e-11 of Kwant (measured 3.8e-13, 1.2e-13; at
    growth 987, 5.6e-13)."""
    device, params, energy = _tilted_wire(walls_meV, offset_meV)
    ref = reference(device, energy, params)
    record = compare(device, energy, params, method, ref)
    assert record["ran"] == method
    assert_agrees(record, ref, tolerance=1e-11)


def test_ordinary_points_keep_their_schur_backend():
    """The growth check hands on only near-singular points: at random energies of a small
    split-gate QPC every point runs MUMPS itself (growth measured 2.7-16, the limit 1e3)."""
    from qpcsim.backends.schur import SCHUR_GROWTH_LIMIT
    assert SCHUR_GROWTH_LIMIT == 1e3
    device = qpcsim.load_geometry("qpc_split_gate", a=10.0)
    params = device.resolve_params({})
    for energy in np.random.default_rng(3).uniform(1.0, 12.0, 12):
        for method in ("mumps", "mumps-sigma"):
            assert scattering_matrix(device, float(energy), params, method).backend == method


@pytest.mark.parametrize("name, expected", [("qpc_saddle", "rgf"), ("magnetic_focusing", "kwant"),
                                            ("rashba_wire", "kwant")])
def test_exact_backend_is_rgf_where_it_applies_else_kwant(name, expected):
    from qpcsim.backends.schur import exact_backend
    device = qpcsim.load_geometry(name, **{"qpc_saddle": dict(a=10.0, W=200.0, L=100.0),
                                           "magnetic_focusing": dict(),
                                           "rashba_wire": dict(a=10.0)}[name])
    backend = exact_backend(device)
    assert getattr(backend, "backend", backend.name) == expected
    # once per device, and the very back end `method=expected` solves with (no second copy)
    assert exact_backend(device) is backend
    assert scattering._backend(device, expected) is backend


#: Found by this search: ~1e-6 meV from a lead band edge in a field with Zeeman, Kwant's mode
#: solver raised RuntimeError ('Numbers of left- and right-propagating modes differ') from deep
#: in kwant/physics/leads.py, through every back end. Whether it fails at this point depends on
#: the BLAS kernel (Cooperlake, SkylakeX: it does; Haswell, as on AMD CPUs: auto's S then fails
#: its unitarity check, rgf's passes it).
BAND_EDGE = dict(energy=2.4115025820230995, B=3.4951720986961234, E_Z=-0.9629655646595785)


def _band_edge_device():
    return qpcsim.Device(width=312.0, length=40.0, a=8.0, zeeman=True)


@pytest.mark.parametrize("method", ["auto", "rgf", "mumps", "kwant"])
def test_kwants_unpaired_lead_modes_are_a_one_line_value_error(method, monkeypatch):
    """Kwant's RuntimeError from its mode solver becomes a one-line ValueError naming the
    energy and the parameters, on every back end (the failure forced: it is kernel-dependent)."""
    import kwant.physics

    def unpaired(*args, **kwargs):
        raise RuntimeError("Numbers of left- and right-propagating modes differ, possibly due "
                           "to a numerical instability.")

    monkeypatch.setattr(kwant.physics, "modes", unpaired)
    with pytest.raises(ValueError, match=r"^energy_meV=2.4115025820230995 is not allowed "
                                         r"with params .*lead band edge") as err:
        qpcsim.solve(_band_edge_device(), **BAND_EDGE, method=method)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("method", ["auto", "rgf", "mumps", "kwant"])
def test_energy_at_a_magnetic_band_edge_is_a_result_or_a_one_line_error(method):
    """At the real band-edge point: a unitary result, or one line from qpcsim (the ValueError
    above, or UnitarityError), whatever the BLAS kernel; never Kwant's traceback."""
    try:
        result = qpcsim.solve(_band_edge_device(), **BAND_EDGE, method=method)
    except ValueError as err:
        assert "lead band edge" in str(err) and "\n" not in str(err)
    except qpcsim.UnitarityError as err:
        assert "\n" not in str(err)
    else:
        assert result.unitarity_error <= UNITARITY_TOLERANCE


def _walled_dot(asymmetry, barrier_meV=25.0):
    """A 61 x 13 double-barrier dot (``barrier_meV`` barriers at x = +-40 nm, the right one
    higher by ``asymmetry`` meV) inside 30 eV walls at |y| > 0.3 W: max|A| ~ 850 in lattice
    units."""
    width, length = 4.0 * 14, 4.0 * 60

    def potential(x, y, asymmetry=asymmetry):
        barriers = barrier_meV * np.exp(-0.5 * ((x + 40) / 8) ** 2) \
            + (barrier_meV + asymmetry) * np.exp(-0.5 * ((x - 40) / 8) ** 2)
        return barriers + 30000.0 * (np.abs(y) > 0.3 * width) + 0.0 * x

    device = qpcsim.Device(width=width, length=length, a=4.0, potential=potential)
    return device, device.resolve_params({})


@pytest.mark.parametrize("method", ["rgf-mirror", "rgf-parity", "mumps-sigma", "auto"])
def test_mirror_tolerance_is_each_entrys_not_the_largest_entrys(method):
    """Found by this search: with MIRROR_RTOL relative to max|A|, 30 eV walls let a real
    asymmetry of 0.99 MIRROR_RTOL max|A| (3.0e-10 meV) in the transport region pass as the
    mirror; at a resonance of FWHM 0.029 meV rgf-mirror, rgf-parity, mumps-sigma and auto
    were 1.4e-9 from Kwant (plain RGF 1.4e-13). Each entry is now checked against its own
    size (the hopping scale below): that point falls back and agrees; the symmetric dot in
    the same walls keeps its mirror (the walls' rounding does not break it)."""
    energy = 14.8839273
    probe, params = _walled_dot(0.0)
    ref = reference(probe, energy, params)
    record = compare(probe, energy, params, method, ref)
    if method == "rgf-mirror":
        assert record["ran"] == "rgf-mirror"
    assert_agrees(record, ref)
    scale = np.abs(probe.onsite_diagonal(params) - energy / probe.t).max()
    device, params = _walled_dot(0.99 * MIRROR_RTOL * scale * probe.t)
    ref = reference(device, energy, params)
    record = compare(device, energy, params, method, ref)
    if method == "rgf-mirror":
        assert record["ran"] == "rgf"     # the x-mirror no longer passes
    assert_agrees(record, ref)


#: The walled double barrier's resonance at 42 meV barriers (T = 1, half width ~1e-3 meV).
RESONANCE_MEV = 16.713852319492048


def _entry_bound_meV(device, barrier_meV, energy_meV):
    """The largest barrier asymmetry (meV) the per-entry mirror bound accepts: the bound
    (ENTRY_RTOL_FACTOR x MIRROR_RTOL) relative to the barrier peak's entry of H - E."""
    peak = 4 * device.t + barrier_meV - energy_meV
    return mirror_check.ENTRY_RTOL_FACTOR * MIRROR_RTOL * peak


@pytest.mark.parametrize("method", ["rgf-mirror", "auto"])
def test_mirror_path_at_a_resonance_of_1e_3_meV(method):
    """The review's case: the walled double barrier at 42 meV with its right barrier higher
    by 3.2e-12 meV (1.9e-14 relative) passed the per-entry bound of 2e-14 (factor 2), and at
    its resonance auto ran rgf-mirror 1.8e-10 from Kwant (the error is linear in the accepted
    asymmetry: 1e-10 per 1e-14 relative). With the bound at 2.5e-15 that point falls back
    and agrees; an asymmetry of 0.9 of the bound still runs the mirror and stays within
    1e-10 (measured 2.6e-11; plain RGF's own rounding there 0.2-1.3e-11)."""
    probe, _ = _walled_dot(0.0, barrier_meV=42.0)
    bound = _entry_bound_meV(probe, 42.0, RESONANCE_MEV)
    assert bound < 3.2e-12 / 4
    for asymmetry, mirror in ((3.2e-12, False), (0.9 * bound, True)):
        device, params = _walled_dot(asymmetry, barrier_meV=42.0)
        ref = reference(device, RESONANCE_MEV, params)
        record = compare(device, RESONANCE_MEV, params, method, ref)
        if method == "rgf-mirror":
            assert record["ran"] == ("rgf-mirror" if mirror else "rgf"), (asymmetry, record)
        assert_agrees(record, ref)
