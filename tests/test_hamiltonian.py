"""ContinuumDevice (qpcsim/hamiltonian.py) and the rashba_wire geometry: multi-orbital
Hamiltonians in physical units, against mode counts, a hand-written Kwant system and
the analytic helical gap."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.units import MU_BOHR_MEV


@pytest.fixture(scope="module")
def wire():
    return qpcsim.load_geometry("rashba_wire")


@pytest.fixture(scope="module")
def wire_module():
    return qpcsim.load_geometry_module("rashba_wire")


@pytest.mark.parametrize("alpha, B", [(0.0, 0.0), (100.0, 0.0), (0.0, 0.5), (100.0, 0.5)])
@pytest.mark.parametrize("energy", [8.0, 15.0, 31.0])
def test_clean_wire_conducts_open_spinful_channels_times_e2_over_h(wire, alpha, B, energy):
    result = qpcsim.solve(wire, energy, alpha=alpha, B=B)
    modes = result.open_modes[0]
    assert modes > 0 and result.open_modes[0] == result.open_modes[1]
    assert result.solver == "fast-mumps-sigma"     # the model fast path (backends/model_assembly.py)
    assert abs(result.conductance - 0.5 * modes) < 1e-9     # one spinful channel = e^2/h
    assert result.unitarity_error < 1e-10


def _hand_written(device, alpha, B, gate):
    """The Rashba wire with a gate, written with explicit Kwant hoppings (meV / t)."""
    import kwant
    s0, sx, sy = np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]])
    t, a = device.t, device.a
    ez = 0.5 * device.material.g_factor * MU_BOHR_MEV * B / t
    so = alpha / (2 * a * t)
    # sites at x = -length/2 + i a, y = -width/2 + j a, j = 1 .. ny
    lat = kwant.lattice.Monatomic([[a, 0], [0, a]], offset=(-device.length / 2, -device.width / 2),
                                  norbs=2)
    ny = int(round(device.width / a)) - 1
    nx = int(round(device.length / a)) + 1

    def fill(builder, columns, with_gate):
        for i in columns:
            for j in range(1, ny + 1):
                V = gate(*lat(i, j).pos) / t if with_gate else 0.0
                builder[lat(i, j)] = (4 + V) * s0 + ez * sx
        builder[kwant.builder.HoppingKind((1, 0), lat)] = -s0 + 1j * so * sy
        builder[kwant.builder.HoppingKind((0, 1), lat)] = -s0 - 1j * so * sx

    syst = kwant.Builder()
    fill(syst, range(nx), True)
    for direction in (-1, 1):
        lead = kwant.Builder(kwant.TranslationalSymmetry((direction * a, 0)))
        fill(lead, [0], False)
        syst.attach_lead(lead)
    return syst.finalized()


def _sorted_hamiltonian(fsyst, params=None):
    h = fsyst.hamiltonian_submatrix(params=params or {})
    pos = np.array([s.pos for s in fsyst.sites])
    order = np.lexsort((pos[:, 1], pos[:, 0]))
    index = np.concatenate([[2 * k, 2 * k + 1] for k in order])
    return h[np.ix_(index, index)], pos[order]


@pytest.mark.parametrize("alpha, B", [(0.0, 0.0), (100.0, 0.5), (37.0, -1.3)])
def test_equals_a_hand_written_kwant_system_to_1e_10(alpha, B):
    import kwant

    def gate(x, y, Vg=3.0):
        return Vg * np.exp(-(x / 20.0) ** 2)

    device = qpcsim.ContinuumDevice(
        qpcsim.load_geometry_module("rashba_wire").HAMILTONIAN, width=40.0, length=60.0, a=5.0,
        material=qpcsim.Material("InSb", 0.014, -50.0, 16.8), potential=gate,
        params={"alpha": alpha, "B": B}, units={"alpha": "meV nm", "B": "T"})
    params = device.resolve_params({})
    ours, pos_ours = _sorted_hamiltonian(device.build(), params)
    ref_syst = _hand_written(device, alpha, B, gate)
    ref, pos_ref = _sorted_hamiltonian(ref_syst)
    np.testing.assert_allclose(pos_ours, pos_ref, atol=1e-12)
    assert np.abs(ours - ref).max() < 1e-10
    for energy in (8.0, 25.0):
        result = qpcsim.solve(device, energy)
        smat = kwant.smatrix(ref_syst, energy / device.t)
        assert abs(result.transmission - smat.transmission(1, 0)) < 1e-10
        eig = np.sort(np.linalg.svd(smat.submatrix(1, 0), compute_uv=False) ** 2)[::-1]
        np.testing.assert_allclose(result.transmission_eigenvalues, eig, atol=1e-10)


def test_helical_gap_dips_the_first_plateau_to_e2_over_h(wire, wire_module):
    """Inside E_c +- E_Z/2 one spinful channel (G = e^2/h = 0.5 G0); just outside, two
    (2e^2/h = 1 G0) on both sides: the re-entrant dip. E_c is the lattice's exact gap centre."""
    E_c, B = wire.metadata["energy_meV"], wire.metadata["field_T"]
    half_gap = 0.5 * abs(wire.material.g_factor) * MU_BOHR_MEV * B
    margin = 0.03   # meV; subband mixing moves the edges by less (k = 0 states are exact)
    inside = [E_c, E_c - half_gap + margin, E_c + half_gap - margin]
    outside = [E_c - half_gap - margin, E_c + half_gap + margin]
    for energy in inside:
        assert abs(qpcsim.solve(wire, energy, B=B).conductance - 0.5) < 1e-9
    for energy in outside:
        assert abs(qpcsim.solve(wire, energy, B=B).conductance - 1.0) < 1e-9
    assert abs(qpcsim.solve(wire, E_c, B=0.0).conductance - 1.0) < 1e-9


def test_reentrance_needs_a_field_below_4_E_so(wire, wire_module):
    """The window of fields with a re-entrant dip, B < 4 E_so/(|g| mu_B), is set by alpha
    and g: above it the lower band has a single minimum at k = 0, so just below the gap G = 0."""
    B_max = wire.metadata["reentrant_field_T"]
    E_so = wire_module.spin_orbit_energy_meV(100.0, 0.014)
    assert B_max == pytest.approx(4 * E_so / (50.0 * MU_BOHR_MEV), rel=1e-12)
    E_c = wire.metadata["energy_meV"]
    for B, below in ((0.5 * B_max, 1.0), (1.6 * B_max, 0.0)):
        half_gap = 0.5 * 50.0 * MU_BOHR_MEV * B
        assert abs(qpcsim.solve(wire, E_c - half_gap - 0.03, B=B).conductance - below) < 1e-9


def test_sweep_over_field_runs_the_model_fast_path(wire):
    E_c = wire.metadata["energy_meV"]
    result = qpcsim.sweep(wire, {"B": [0.0, 0.5]}, energy=E_c, workers=1, progress=False)
    np.testing.assert_allclose(result.conductance.values, [1.0, 0.5], atol=1e-9)
    assert qpcsim.backends.fast_path_applies(wire)
    assert result.attrs["solver"] == "fast-mumps-sigma"


def test_device_pickles_and_rebuilds(wire):
    import pickle
    clone = pickle.loads(pickle.dumps(wire))
    assert clone.fingerprint() == wire.fingerprint()
    E_c = wire.metadata["energy_meV"]
    assert qpcsim.solve(clone, E_c, B=0.5).conductance == qpcsim.solve(wire, E_c, B=0.5).conductance


_H = "hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + alpha*k_x*sigma_y"


@pytest.mark.parametrize("hamiltonian, kwargs, match", [
    ("hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + I*alpha*sigma_z", {}, "not Hermitian"),
    (_H + " + beta*k_y*sigma_x", {}, "unknown symbol.*beta"),
    (_H + " + V(x, y)*sigma_0", {}, "unknown function.*V"),
    (_H, {"units": {}}, "parameter 'alpha' has unit None"),
    (_H, {"units": {"alpha": "eV"}}, "parameter 'alpha' has unit 'eV'"),
    ("k_x**2 +", {}, "does not parse"),
    # a runtime symbol of H that is also a potential argument would be missing in the leads
    (_H, {"potential": lambda x, y, alpha=10.0: 0 * x}, r"potential parameter names \['alpha'\]"),
    # names that solve and sweep take for themselves (a potential's E was swept as the energy)
    (_H, {"potential": lambda x, y, E=1.0: E + 0 * x}, r"potential parameter names \['E'\] are "
     "reserved by qpcsim"),
    (_H + " + T*sigma_z", {"params": {"alpha": 10.0, "T": 1.0},
                           "units": {"alpha": "meV nm", "T": "meV"}},
     r"Hamiltonian symbols \['T'\] are reserved by qpcsim"),
    # V(x, y) * M must be Hermitian for every real V
    (_H, {"potential": lambda x, y, Vg=1.0: Vg + 0 * x, "potential_matrix": [[1, 1], [0, 1]]},
     r"potential_matrix=\[\[.*\]\] is not allowed: it is not Hermitian"),
])
def test_bad_hamiltonians_are_one_line_errors(hamiltonian, kwargs, match):
    options = dict(width=20.0, length=10.0, a=5.0, params={"alpha": 10.0},
                   units={"alpha": "meV nm"})
    options.update(kwargs)
    with pytest.raises(ValueError, match=match) as info:
        qpcsim.ContinuumDevice(hamiltonian, **options).build()
    assert "\n" not in str(info.value)


def test_superconducting_lead_with_an_electron_hole_conservation_law_is_refused():
    tau_z, tau_y = np.diag([1.0, -1.0]), np.array([[0, -1j], [1j, 0]])
    normal = "(hbar**2/(2*m)*(k_x**2 + k_y**2) - mu)*sigma_z"
    device = qpcsim.ContinuumDevice(
        normal, width=30.0, length=20.0, a=5.0, params={"mu": 10.0, "Delta": 0.1},
        units={"mu": "meV", "Delta": "meV"}, lead_hamiltonians=(normal, normal + " + Delta*sigma_x"),
        conservation_law=-tau_z, particle_hole=tau_y, spin_resolved=False)
    with pytest.raises(ValueError, match=r"conservation_law of lead 1 is not allowed: the lead's "
                                         r"Hamiltonian mixes its blocks"):
        device.build()


def test_energy_the_lattice_cannot_resolve_is_refused(wire):
    with pytest.raises(ValueError, match=r"energy=400 meV is not allowed with a=5 nm"):
        qpcsim.solve(wire, 400.0)


def test_bundled_gaas_device_is_untouched(small_saddle):
    """The one-band Device keeps the fast path (results bit-identical: test_refactor_identity)."""
    assert qpcsim.backends.fast_path_applies(small_saddle)
    assert qpcsim.solve(small_saddle, 10.0).solver.startswith("fast")


def test_plot_device_draws_a_model_device(wire):
    from qpcsim.plotting import plot_device
    fig = plot_device(wire, alpha=50.0)
    (points,) = fig.axes[0].collections
    assert len(points.get_offsets()) == len(wire.site_positions())


@pytest.mark.parametrize("temperature", [0.3, 1.0])
def test_finite_temperature_smears_the_gap_edge_as_the_fermi_function(wire, temperature):
    """A clean wire's G(E) is a step at the gap edge E_g (from 1/2 to 1): G(T, mu) =
    1/2 + 1/2 f(E_g - mu) exactly; the spectral grid has its steps at the lead's band
    extrema (ModelDevice.lead_thresholds), so it agrees to 1e-9."""
    from qpcsim.units import K_BOLTZMANN_MEV
    E_c, B = wire.metadata["energy_meV"], wire.metadata["field_T"]
    thresholds = wire.lead_thresholds(wire.resolve_params({"B": B}))
    edge = min(e for e in thresholds if e > E_c)
    assert edge - E_c == pytest.approx(0.5 * 50.0 * MU_BOHR_MEV * B, rel=2e-3)
    kT = K_BOLTZMANN_MEV * temperature
    mu = edge + 0.5 * kT
    result = qpcsim.solve(wire, mu, temperature=temperature, B=B)
    assert abs(result.conductance - (0.5 + 0.5 / (1 + np.exp((edge - mu) / kT)))) < 1e-9


def test_sweep_is_bit_identical_serial_and_in_processes(wire):
    """Kwant's SciPy sparse solver (ModelDevice.kwant_solver): the same bits in any process."""
    E_c = wire.metadata["energy_meV"]
    over = {"B": [0.0, 0.3, 0.6], "alpha": [60.0, 100.0]}
    serial = qpcsim.sweep(wire, over, energy=E_c, workers=1, progress=False)
    parallel = qpcsim.sweep(wire, over, energy=E_c, workers=2, progress=False)
    assert np.array_equal(serial.conductance.values, parallel.conductance.values)
    assert np.array_equal(serial["transmission"].values,
                          parallel["transmission"].values)


def test_python_defined_model_device_fingerprints_its_potential():
    """A changed potential never reuses a store (issue 25) for model devices too."""
    def make(depth):
        def pot(x, y, Vg=1.0):
            return depth * Vg + 0 * x
        return qpcsim.ContinuumDevice(
            "hbar**2*(k_x**2+k_y**2)/(2*m)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)",
            width=40, length=60, a=5, params={"alpha": 0.0}, units={"alpha": "meV nm"},
            potential=pot)
    first = make(1.0)
    assert make(1.0).fingerprint() == first.fingerprint()
    assert make(2.0).fingerprint() != first.fingerprint()


def test_a_failing_potential_is_one_line_naming_its_line():
    """A potential that is not vectorized fails inside the user's code: one ValueError naming
    the file and line, not Kwant's UserCodeError traceback (at build and in a solve)."""
    import math

    def pot(x, y, Vg=1.0):
        return Vg * math.exp(-x)
    device = qpcsim.ContinuumDevice("hbar**2*(k_x**2+k_y**2)/(2*m)*sigma_0", width=40,
                                    length=60, a=5, potential=pot)
    with pytest.raises(ValueError, match=r"the potential raised TypeError at .*test_hamiltonian"
                                         r"\.py:\d+.*must be vectorized"):
        qpcsim.solve(device, 20.0)


def test_lead_thresholds_evaluate_the_lead_hamiltonian_once(monkeypatch):
    """h and V do not depend on k: one evaluation per parameter set, not one per Brent
    step (3.0 -> 1.05 s CPU for nqpc_s's 167 thresholds, the same bits)."""
    from qpcsim import hamiltonian
    evaluations = []
    real = hamiltonian._cell_matrices
    monkeypatch.setattr(hamiltonian, "_cell_matrices",
                        lambda *args: evaluations.append(1) or real(*args))
    device = qpcsim.load_geometry("rashba_wire", W=40.0, L=60.0)
    thresholds = device.lead_thresholds(device.resolve_params({"B": 0.5}))
    assert thresholds.size > 4 and len(evaluations) == 1
