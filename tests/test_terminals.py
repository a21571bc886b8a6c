"""Multi-terminal devices: leads on any edge, the magnetic gauge, the conductance
matrix and Büttiker's four-terminal resistances, checked against the quantum Hall
effect, Onsager reciprocity, current conservation, a second gauge and a
hand-written plain Kwant system."""
from __future__ import annotations

import re

import numpy as np
import pytest

import qpcsim
from qpcsim import Lead

TOL = 1e-10


def hall_bar(a=5.0, W=100.0, length=300.0, probe_x=70.0, probe_width=40.0, arm=30.0,
             potential=None, zeeman=False):
    """A six-terminal Hall bar (terminal order of geometries/hall_bar_qpc.py)."""
    def shape(x, y):
        return (abs(y) < W / 2) | (abs(abs(x) - probe_x) < probe_width / 2)

    leads = [Lead("source", "left", 0.0, W), Lead("top_left", "top", -probe_x, probe_width),
             Lead("top_right", "top", probe_x, probe_width), Lead("drain", "right", 0.0, W),
             Lead("bottom_right", "bottom", probe_x, probe_width),
             Lead("bottom_left", "bottom", -probe_x, probe_width)]
    return qpcsim.Device(width=W + 2 * arm, length=length, a=a, shape=shape, leads=leads,
                         potential=potential, zeeman=zeeman, name="hall bar")


def bump(x, y, V=4.0):
    """An asymmetric bump (meV): breaks every spatial symmetry of the bar."""
    return V * np.exp(-((x - 17.0) ** 2 + (y - 11.0) ** 2) / 30.0 ** 2)


@pytest.fixture(scope="module")
def clean_bar():
    return hall_bar()


@pytest.fixture(scope="module")
def bumpy_bar():
    return hall_bar(potential=bump)


# ---------------------------------------------------------------- quantum Hall
@pytest.mark.parametrize("energy, nu", [(8.0, 2), (10.0, 2), (12.0, 2), (19.0, 4), (22.0, 4)])
def test_clean_hall_bar_quantized_hall_resistance(clean_bar, energy, nu):
    """B = 6 T (hbar omega_c = 10.4 meV, l_B = 10.5 nm): between the Landau levels
    R_xy = h/(nu e^2) and R_xx = 0 to 1e-6, nu counting spins (two per level)."""
    r = qpcsim.solve(clean_bar, energy, B=6.0)
    assert r.solver == "fast-mumps-sigma" and r.terminals == clean_bar.terminals
    assert r.resistance(("source", "drain"), ("top_left", "bottom_left")) == pytest.approx(
        1 / nu, abs=1e-6)
    assert r.resistance((0, 3), (5, 1)) == pytest.approx(-1 / nu, abs=1e-6)
    assert abs(r.resistance(("source", "drain"), ("top_left", "top_right"))) < 1e-6
    assert abs(r.resistance(("source", "drain"), ("bottom_left", "bottom_right"))) < 1e-6
    assert r.open_modes == (nu // 2,) * 6


def test_conductance_matrix_conserves_current_and_is_onsager_symmetric(bumpy_bar):
    plus = qpcsim.solve(bumpy_bar, 12.0, B=1.5)
    minus = qpcsim.solve(bumpy_bar, 12.0, B=-1.5)
    for G in (plus.conductance_matrix, minus.conductance_matrix):
        assert G.shape == (6, 6)
        assert np.abs(G.sum(axis=0)).max() < TOL and np.abs(G.sum(axis=1)).max() < TOL
        assert np.all(np.diag(G) >= 0) and np.all(G - np.diag(np.diag(G)) <= TOL)
    assert np.abs(plus.conductance_matrix - minus.conductance_matrix.T).max() < TOL
    # not trivially symmetric: the field breaks G_ij = G_ji
    assert np.abs(plus.conductance_matrix - plus.conductance_matrix.T).max() > 0.1
    # two-terminal attributes keep their meaning: lead 0 -> lead 1
    assert plus.transmission == pytest.approx(-plus.conductance_matrix[1, 0], abs=TOL)


@pytest.mark.parametrize("current, voltage", [((0, 3), (1, 5)), ((0, 3), (1, 2)),
                                              ((0, 2), (4, 1)), ((5, 1), (3, 0))])
def test_reciprocity_of_four_terminal_resistances(bumpy_bar, current, voltage):
    """R_ij,kl(B) = R_kl,ij(-B) (Büttiker, IBM J. Res. Dev. 32, 317 (1988))."""
    plus = qpcsim.solve(bumpy_bar, 12.0, B=1.5)
    minus = qpcsim.solve(bumpy_bar, 12.0, B=-1.5)
    forward = plus.resistance(current, voltage)
    assert abs(forward) > 1e-3
    assert forward == pytest.approx(minus.resistance(voltage, current), abs=TOL)


# ---------------------------------------------------------------- gauges
def test_magnetic_gauge_equals_landau_gauge_on_leads_along_x():
    """Four leads on the left and right edges: every observable is the same in the
    Landau gauge of the two-terminal devices and in Kwant's magnetic gauge."""
    leads = [Lead("L_low", "left", -25.0, 50.0), Lead("L_up", "left", 25.0, 50.0),
             Lead("R_low", "right", -25.0, 50.0), Lead("R_up", "right", 25.0, 50.0)]
    common = dict(width=100.0, length=150.0, a=5.0, potential=bump, leads=leads)
    landau = qpcsim.Device(**common, gauge="landau")
    assert qpcsim.Device(**common).gauge == "landau"
    for gauge in ("magnetic", "edges"):
        other = qpcsim.Device(**common, gauge=gauge)
        for B in (0.8, -2.5):
            r_l, r_m = qpcsim.solve(landau, 12.0, B=B), qpcsim.solve(other, 12.0, B=B)
            assert r_l.open_modes == r_m.open_modes
            assert np.abs(r_l.conductance_matrix - r_m.conductance_matrix).max() < TOL
            assert np.abs(np.abs(r_l.smatrix) - np.abs(r_m.smatrix)).max() < TOL
            assert r_l.resistance((0, 3), (1, 2)) == pytest.approx(
                r_m.resistance((0, 3), (1, 2)), abs=TOL)


@pytest.mark.parametrize("B", [1.5, -3.0])
def test_edges_gauge_equals_kwant_magnetic_gauge_with_leads_on_all_edges(bumpy_bar, B):
    """Six leads on all four edges: the per-lead Landau gauges joined by a lattice gauge
    transformation ("edges", the default) and Kwant's magnetic_gauge agree to 1e-10."""
    assert bumpy_bar.gauge == "edges"
    kwant_gauge = hall_bar(potential=bump)
    kwant_gauge.gauge = "magnetic"
    r_e, r_k = qpcsim.solve(bumpy_bar, 12.0, B=B), qpcsim.solve(kwant_gauge, 12.0, B=B)
    assert r_e.open_modes == r_k.open_modes
    assert np.abs(r_e.conductance_matrix - r_k.conductance_matrix).max() < TOL


@pytest.mark.parametrize("failure", [ValueError("cannot fix the gauge"),
                                     AttributeError("'csr_matrix' object has no attribute 'A'")])
def test_a_gauge_kwant_cannot_fix_is_a_one_line_error(monkeypatch, failure):
    """Kwant refuses some lead arrangements with ValueError; with SciPy >= 1.14 (Python
    3.13) its message code fails with AttributeError. Both reach the user as one line."""
    import kwant.physics

    def unfixable(syst):
        raise failure
    monkeypatch.setattr(kwant.physics, "magnetic_gauge", unfixable)
    device = hall_bar(potential=bump)
    device.gauge = "magnetic"
    with pytest.raises(ValueError, match=r"gauge='magnetic' is not allowed for this device.*"
                                         r"use gauge='edges'"):
        qpcsim.solve(device, 12.0, B=1.0)


def test_two_explicit_leads_equal_the_default_device():
    """Leads given explicitly (Kwant's magnetic gauge, Schur path) reproduce the default
    two-terminal device (Landau gauge, RGF path) at B != 0."""
    default = qpcsim.Device(width=100.0, length=150.0, a=5.0, potential=bump)
    explicit = qpcsim.Device(width=100.0, length=150.0, a=5.0, potential=bump,
                             leads=[Lead("left", "left"), Lead("right", "right")],
                             gauge="magnetic")
    assert default.terminals == explicit.terminals == ("left", "right")
    r_d, r_e = qpcsim.solve(default, 12.0, B=1.2), qpcsim.solve(explicit, 12.0, B=1.2)
    assert r_d.solver.startswith("fast-rgf") and r_e.solver == "fast-mumps-sigma"
    assert r_d.conductance == pytest.approx(r_e.conductance, abs=TOL)
    assert np.abs(r_d.conductance_matrix - r_e.conductance_matrix).max() < TOL


def test_default_result_matrix_is_kwants_conductance_matrix():
    import kwant
    device = qpcsim.Device(width=100.0, length=150.0, a=5.0, potential=bump, zeeman=True)
    r = qpcsim.solve(device, 12.0, B=1.2, E_Z=0.5)
    ref = kwant.smatrix(device.build(), 12.0 / device.t, params=r.params)
    # spin-resolved: each spin channel counts e^2/h = G0/2
    assert np.abs(r.conductance_matrix - 0.5 * ref.conductance_matrix()).max() < TOL
    assert r.conductance == pytest.approx(-r.conductance_matrix[1, 0], abs=TOL)


# ---------------------------------------------------------------- fast path
@pytest.mark.parametrize("method", ["mumps", "scipy"])
@pytest.mark.parametrize("case", ["bar", "bar zeeman", "focusing", "landau"])
def test_schur_backends_equal_kwant_on_multi_terminal_devices(case, method):
    """The Schur-complement back ends take any set of lead interfaces: the full
    conductance matrix and |S| equal plain kwant.smatrix to 1e-10 (B = 0 and +-B)."""
    if case.startswith("bar"):
        device, energy = hall_bar(potential=bump, zeeman=case.endswith("zeeman")), 12.0
    elif case == "focusing":
        device, energy = qpcsim.load_geometry("magnetic_focusing", L=200.0, margin=50.0,
                                              height=150.0), 10.0
    else:
        device, energy = qpcsim.Device(
            width=100.0, length=150.0, a=5.0, potential=bump,
            leads=[Lead("a", "left", -25.0, 50.0), Lead("b", "left", 25.0, 50.0),
                   Lead("c", "right")]), 12.0
    extra = {"E_Z": 0.3} if device.zeeman else {}
    for B in (0.0, 1.5, -2.0):
        fast = qpcsim.solve(device, energy, B=B, method=method, **extra)
        ref = qpcsim.solve(device, energy, B=B, method="kwant", **extra)
        assert fast.solver == f"fast-{method}" and fast.open_modes == ref.open_modes
        assert np.abs(fast.conductance_matrix - ref.conductance_matrix).max() < TOL
        assert np.abs(np.abs(fast.smatrix) - np.abs(ref.smatrix)).max() < TOL
    assert qpcsim.solve(device, energy, B=1.0, **extra).solver == "fast-mumps-sigma"   # auto


# ---------------------------------------------------------------- plain Kwant
def _plain_kwant_hall_bar(device, B):
    """The same six-terminal bar written directly in Kwant (tutorial style)."""
    import kwant
    from qpcsim.units import flux_per_plaquette

    lat = kwant.lattice.square(1, norbs=1)
    syst = kwant.Builder()
    W, length, arm, a = 100.0, 300.0, 30.0, device.a
    nx, ny = int(length / a) + 1, int((W + 2 * arm) / a) - 1

    def xy(i, j):
        return -length / 2 + i * a, -(W + 2 * arm) / 2 + (j + 1) * a

    def onsite(site):
        x, y = xy(*site.tag)
        return 4.0 + bump(x, y) / device.t

    def hopping(to_site, from_site, peierls):
        return -peierls(to_site, from_site)

    for i in range(nx):
        for j in range(ny):
            x, y = xy(i, j)
            if abs(y) < W / 2 or abs(abs(x) - 70.0) < 20.0:
                syst[lat(i, j)] = onsite
    syst[lat.neighbors()] = hopping
    rows = [j for j in range(ny) if abs(xy(0, j)[1]) < W / 2]
    cols = {xc: [i for i in range(nx) if abs(xy(i, 0)[0] - xc) < 20.0] for xc in (-70.0, 70.0)}
    specs = [((-1, 0), [(0, j) for j in rows]), ((0, 1), [(i, ny - 1) for i in cols[-70.0]]),
             ((0, 1), [(i, ny - 1) for i in cols[70.0]]), ((1, 0), [(nx - 1, j) for j in rows]),
             ((0, -1), [(i, 0) for i in cols[70.0]]), ((0, -1), [(i, 0) for i in cols[-70.0]])]
    for k, (direction, tags) in enumerate(specs):
        lead = kwant.Builder(kwant.TranslationalSymmetry(direction))
        for tag in tags:
            lead[lat(*tag)] = 4.0
        lead[lat.neighbors()] = hopping
        syst.attach_lead(lead.substituted(peierls=f"peierls_{k}"))
    fsyst = syst.finalized()
    field = 2 * flux_per_plaquette(B, a)          # Kwant's unit: h/(2e) per unit area
    phases = kwant.physics.magnetic_gauge(fsyst)(*[field] * 7)
    params = dict(peierls=phases[0], **{f"peierls_{k}": p for k, p in enumerate(phases[1:])})
    return kwant.smatrix(fsyst, 12.0 / device.t, params=params)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Kwant 1.5's gauge on NumPy 2
@pytest.mark.parametrize("B", [0.0, 2.0])
def test_hall_bar_equals_hand_written_kwant_system(bumpy_bar, B):
    ref = _plain_kwant_hall_bar(bumpy_bar, B)
    r = qpcsim.solve(bumpy_bar, 12.0, B=B)
    assert r.open_modes == tuple(ref.num_propagating(k) for k in range(6))
    assert np.abs(r.conductance_matrix - ref.conductance_matrix()).max() < TOL


# ---------------------------------------------------------------- temperature, sweeps
def test_finite_temperature_averages_every_entry(clean_bar):
    """On a plateau the thermal average changes nothing: R_xy = 1/nu to 1e-6 at 0.3 K,
    and the averaged matrix still conserves current."""
    r = qpcsim.solve(clean_bar, 10.0, temperature=0.3, B=6.0)
    assert r.resistance(("source", "drain"), ("top_left", "bottom_left")) == pytest.approx(
        0.5, abs=1e-6)
    G = r.conductance_matrix
    assert np.abs(G.sum(axis=0)).max() < 1e-8 and np.abs(G.sum(axis=1)).max() < 1e-8
    assert r.thermal_error > 0


def _tee(x, y):
    """A T-junction: a 60 nm wire (left, right) with a 35 nm arm on top (terminal 2)."""
    return (np.abs(y) < 30) | ((np.abs(x) < 20) & (y > 0))


@pytest.fixture(scope="module")
def tee():
    leads = [Lead("left", "left", 0.0, 60.0), Lead("right", "right", 0.0, 60.0),
             Lead("top", "top", 0.0, 40.0)]
    return qpcsim.Device(width=120, length=100, a=5.0, shape=_tee, leads=leads, name="tee")


def _tee_thresholds(device):
    """Subband bottoms (meV) of every lead, from each lead's own width (rows across):
    2t(1 - cos(n pi/(rows + 1))). The arm's (7 rows) coincide with the wire's (23 rows)."""
    rows = {23, 7}
    assert {len(lead.sites) for lead in device.build().leads} == {22, 14}   # 1- and 2-column
    return np.unique(np.concatenate([2 * device.t * (1 - np.cos(np.arange(1, n + 1) * np.pi
                                                                  / (n + 1))) for n in rows]))


def _zero_t_matrix(device):
    """G_ij(E) (G0 per spin-degenerate channel) of ``device`` at zero temperature."""
    from qpcsim.solver import scattering_matrix
    params = device.resolve_params({})

    def matrix(energy):
        return scattering_matrix(device, energy, params, "auto").conductance_matrix(1.0)
    return matrix


@pytest.mark.parametrize("offset, temperature", [
    (0.05, 1.0),                                            # just above the 2nd wire mode
    pytest.param(-0.05, 2.0, marks=pytest.mark.slow),       # just below the arm's opening
])
def test_multi_terminal_thermal_matrix_matches_dense_quadrature(tee, dense_fermi_average,
                                                                offset, temperature):
    """The several-terminal thermal path (adaptive quadrature of the whole matrix) near a
    step: every G_ij within 1e-4 G0 of a dense zero-T quadrature (48 nodes per stretch;
    spectral convergence: 24 nodes are 3e-7 off, 32 5e-10, 48 2e-14 against 120), and the reported error >= the true error
    (measured: true 1.8e-9, reported 5.6e-8 at 1 K; true 1.1e-8, reported 1.2e-6 at 2 K)."""
    th = _tee_thresholds(tee)
    mu = th[1] + offset if offset > 0 else th[2] + offset
    result = qpcsim.solve(tee, mu, temperature=temperature)
    coarse = dense_fermi_average(_zero_t_matrix(tee), mu, temperature, th, 24)
    exact = dense_fermi_average(_zero_t_matrix(tee), mu, temperature, th, 48)
    assert np.abs(coarse - exact).max() < 1e-6
    error = np.abs(result.conductance_matrix - exact).max()
    assert error <= 1e-4
    assert result.thermal_error >= error
    assert result.thermal_error <= 1e-4
    assert abs(exact[0, 1]) > 0.1 * (1 + (offset < 0))      # a step, not a closed device


def test_sweep_stores_the_matrix_and_named_resistances(clean_bar):
    from qpcsim.observables import OBSERVABLES, register_resistance
    entry = register_resistance("R_hall_test", current=("source", "drain"),
                                voltage=("top_left", "bottom_left"))
    try:
        assert register_resistance("R_hall_test", ("source", "drain"),
                                   ("top_left", "bottom_left")) is entry
        result = qpcsim.sweep(clean_bar, over={"energy": [8.0, 10.0]}, B=6.0, progress=False)
        data = result.data
        assert data["conductance_matrix"].shape == (2, 6, 6)
        np.testing.assert_allclose(data["R_hall_test"].values, 0.5, atol=1e-6)
        # the same number from the stored matrices
        R = qpcsim.terminals.resistance(data["conductance_matrix"].values, (0, 3), (1, 5))
        np.testing.assert_allclose(R, data["R_hall_test"].values, atol=TOL)
        # a two-terminal device has no such terminals: NaN
        wire = qpcsim.Device(width=60.0, length=40.0, a=5.0)
        assert np.isnan(qpcsim.solve(wire, 10.0).R_hall_test)
    finally:
        OBSERVABLES.remove(entry)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("leads, message", [
    ([Lead("a", "left"), Lead("a", "right")], "names \\['a'\\] are repeated"),
    ([Lead("a", "left")], "at least two"),
    ([Lead("a", "left", 20.0, 60.0), Lead("b", "left", -10.0, 40.0)], "overlap"),
    ([Lead("a", "left"), Lead("b", "top")], "overlap"),
    ([Lead("a", "left"), Lead("b", "top", 60.0, 40.0)], "leaves the top edge"),
    ([Lead("a", "left"), Lead("b", "right", 0.0, 0.0)], "width=0"),
    ([Lead("a", "left"), Lead("b", "right", 0.0, 23.0)], "multiple of a"),
    ([Lead("a", "left"), Lead("b", "right", 2.0, 40.0)], "lattice lines"),
])
def test_bad_leads_are_refused_in_one_line(leads, message):
    with pytest.raises(ValueError, match=message) as err:
        qpcsim.Device(width=100.0, length=100.0, a=5.0, leads=leads)
    assert "\n" not in str(err.value)


def test_bad_lead_edge_shape_and_gauge():
    with pytest.raises(ValueError, match="edge='front' is not allowed"):
        Lead("a", "front")
    with pytest.raises(ValueError, match="the shape excludes"):
        qpcsim.Device(width=100.0, length=100.0, a=5.0, shape=lambda x, y: abs(y) < 20.0,
                      leads=[Lead("a", "left"), Lead("b", "right", 0.0, 40.0)]).build()
    with pytest.raises(ValueError, match="gauge='landau' is not allowed with leads \\['b'\\]"):
        qpcsim.Device(width=100.0, length=100.0, a=5.0, gauge="landau",
                      leads=[Lead("a", "left"), Lead("b", "top", 0.0, 40.0)])
    with pytest.raises(ValueError, match="gauge='magnetic' is not allowed without leads="):
        qpcsim.Device(width=100.0, length=100.0, a=5.0, gauge="magnetic")
    with pytest.raises(ValueError, match="backend='rgf' does not apply to this device: its leads"):
        qpcsim.solve(qpcsim.Device(width=100.0, length=100.0, a=5.0,
                                   leads=[Lead("a", "left"), Lead("b", "right")]), 10.0,
                     method="rgf")


@pytest.mark.parametrize("current, voltage, message", [
    (("source", "nowhere"), (1, 5), "terminal='nowhere' is not allowed: use one of"),
    ((0, 0), (1, 5), "source and the sink must be different"),
    ((0, 3), (1, 1), "two different terminals"),
    ((0, 9), (1, 5), "terminal=9 is not allowed"),
    ((0,), (1, 5), "give two terminals"),
])
def test_bad_resistance_requests(clean_bar, current, voltage, message):
    r = qpcsim.solve(clean_bar, 10.0, B=6.0)
    with pytest.raises(ValueError, match=message):
        r.resistance(current, voltage)


def test_resistance_of_small_matrices():
    """Three symmetric terminals: V_0 - V_1 = (2/3) / G0 for I = 1, i.e. h/(3e^2); two
    disconnected pairs: no current path from 0 to 2, R = NaN."""
    G = np.array([[2.0, -1.0, -1.0], [-1.0, 2.0, -1.0], [-1.0, -1.0, 2.0]])
    assert qpcsim.terminals.resistance(G, (0, 1), (0, 1)) == pytest.approx(1 / 3, abs=1e-14)
    assert qpcsim.terminals.resistance(G, "0:1", "2:1") == pytest.approx(1 / 6, abs=1e-14)
    split = np.kron(np.eye(2), [[1.0, -1.0], [-1.0, 1.0]])
    assert np.isnan(qpcsim.terminals.resistance(split, (0, 2), (0, 1)))


# ---------------------------------------------------------------- bundled geometries, CLI
SMALL_BAR = dict(L=500.0, probe_x=150.0, arm_length=40.0)


@pytest.fixture(scope="module")
def bar_qpc():
    return qpcsim.load_geometry("hall_bar_qpc", **SMALL_BAR)


@pytest.mark.parametrize("Vg, K", [(0.0, 4), (-0.4, 2)])
def test_hall_bar_qpc_van_wees_resistances(bar_qpc, Vg, K):
    """B = 3 T, E_F = 10 meV: N = 4 channels (spin counted); the QPC transmits K of
    them: R_xy = 1/N, R_L = 1/K - 1/N, R_D = 1/K, R_2t = 1/K (h/e^2) to 1e-6."""
    assert bar_qpc.metadata["energy_meV"] == 10.0
    assert bar_qpc.terminals == ("source", "top_left", "top_right", "drain", "bottom_right",
                                 "bottom_left")
    r = qpcsim.solve(bar_qpc, bar_qpc.metadata["energy_meV"], B=3.0, Vg=Vg)
    current = ("source", "drain")
    assert r.resistance(current, ("top_left", "bottom_left")) == pytest.approx(0.25, abs=1e-6)
    assert r.resistance(current, ("top_left", "top_right")) == pytest.approx(1 / K - 0.25,
                                                                             abs=1e-6)
    assert r.resistance(current, ("top_left", "bottom_right")) == pytest.approx(1 / K, abs=1e-6)
    assert r.resistance(current, current) == pytest.approx(1 / K, abs=1e-6)


def test_magnetic_focusing_first_peak_and_no_peak_at_negative_field():
    """L = 400 nm, E_F = 10 meV: B_1 = 2 hbar k_F/(e L) = 0.4364 T; the collector
    signal peaks within 3 % of B_1 (grid 0.025 B_1) and vanishes at -B_1."""
    device = qpcsim.load_geometry("magnetic_focusing")
    assert device.metadata["energy_meV"] == 10.0 and device.terminals[:2] == ("injector",
                                                                                "collector")
    b1 = 0.43643
    grid = np.arange(0.925, 1.05, 0.025) * b1
    signal = [qpcsim.solve(device, 10.0, B=b).transmission for b in grid]
    assert abs(grid[int(np.argmax(signal))] / b1 - 1) < 0.03 and max(signal) > 0.3
    assert qpcsim.solve(device, 10.0, B=-b1).transmission < 1e-6


def test_cli_sweep_resistance_and_show_terminals(tmp_path, capsys):
    from qpcsim.cli import main
    sizes = [f for k, v in SMALL_BAR.items() for f in ("--set", f"{k}={v:g}")]
    out = tmp_path / "r.nc"
    assert main(["sweep", "hall_bar_qpc", *sizes, "--sweep", "Vg=-0.4,0", "--set", "B=3",
                 "--energy", "10", "--observable", "R_diag", "--current", "source:drain",
                 "--voltage", "1:4", "--workers", "1", "--out", str(out), "--quiet"]) == 0
    data = qpcsim.load_result(out).data
    np.testing.assert_allclose(data["R_diag"].values, [0.5, 0.25], atol=1e-6)
    assert data["R_diag"].attrs["units"] == "h/e^2"
    assert main(["show", "hall_bar_qpc", *sizes, "--out", str(tmp_path / "d.png")]) == 0
    capsys.readouterr()
    assert main(["sweep", "hall_bar_qpc", "--sweep", "Vg=-0.4,0", "--energy", "10",
                 "--observable", "R", "--current", "0:0", "--voltage", "1:4",
                 "--out", str(tmp_path / "x.nc")]) != 0
    assert "current='0:0' is not allowed: the source and the sink must be different" in \
        capsys.readouterr().err
    assert main(["sweep", "hall_bar_qpc", "--sweep", "Vg=-0.4,0", "--energy", "10",
                 "--current", "0:3", "--out", str(tmp_path / "y.nc")]) != 0
    assert "need --observable, --current and --voltage" in capsys.readouterr().err
    assert main(["sweep", "hall_bar_qpc", "--sweep", "Vg=-0.4,0", "--energy", "10",
                 "--observable", "", "--current", "0:1", "--voltage", "2:4",
                 "--out", str(tmp_path / "z.nc")]) != 0
    assert "--observable '' is not allowed: give the name" in capsys.readouterr().err


def test_disorder_keeps_the_terminals(clean_bar):
    """A disordered Hall bar keeps its six terminals; weak disorder leaves R_xy
    quantized (edge channels do not backscatter) to 1e-6."""
    rough = qpcsim.with_disorder(clean_bar, strength=5.0, seed=3)
    assert rough.terminals == clean_bar.terminals and rough.gauge == "edges"
    r = qpcsim.solve(rough, 10.0, B=6.0)
    assert r.resistance((0, 3), (1, 5)) == pytest.approx(0.5, abs=1e-6)


def test_current_map_from_any_terminal(clean_bar):
    """The edge state injected by the drain (100 nm wide, l_B = 10.5 nm) leaves it
    without reflection at 6 T: the map's per-mode transmission (into all other leads)
    is 1 to 1e-8."""
    cmap = qpcsim.current_density(clean_bar, 10.0, lead=3, B=6.0)
    assert cmap.lead == 3 and len(cmap.modes) == 1
    np.testing.assert_allclose(cmap.transmission, 1.0, atol=1e-8)
    with pytest.raises(ValueError, match="lead=6 is not allowed: use 0 .. 5 \\(source, "):
        qpcsim.current_density(clean_bar, 10.0, lead=6, B=6.0)


def test_multi_terminal_sweep_bit_identical_across_executors():
    device = qpcsim.load_geometry("magnetic_focusing", L=200.0, margin=50.0, height=150.0)
    runs = [qpcsim.sweep(device, {"B": [0.5, 0.9]}, energy=10.0, workers=w, progress=False)
            for w in (1, 2)]
    assert runs[1].data.attrs["executor"] == "processes(2)"
    assert np.array_equal(runs[0].data["conductance_matrix"].values,
                          runs[1].data["conductance_matrix"].values)


# ---------------------------------------------------------------- leads inside the box
def _z_shape(x, y):
    """A Z: the bounding box (150 x 100 nm) less its top-right (x >= 5, y >= 20 nm) and
    bottom-left (x <= -5, y <= -20 nm) corners; two boundary segments lie inside the box."""
    return ((x < 2.0) | (y < 17.0)) & ((x > -2.0) | (y > -17.0))


def z_device(gauge=None):
    leads = [Lead("a", "left", 15.0, 70.0),                            # sites y = -15 .. 45
             Lead.on_segment("up", (5.0, 15.0), (65.0, 15.0), "top"),   # y = 15, x = 10 .. 60
             Lead("b", "right", -15.0, 70.0),                          # sites y = -45 .. 15
             Lead.on_segment("west", (0.0, -50.0), (0.0, -15.0), "left")]  # x = 0, y = -45 .. -20
    return qpcsim.Device(width=100.0, length=150.0, a=5.0, shape=_z_shape, potential=bump,
                         leads=leads, gauge=gauge, name="z")


def _plain_kwant_z(device, B, energy):
    """The Z device written directly in Kwant, leads on explicit site lists."""
    import kwant
    from qpcsim.units import flux_per_plaquette

    lat, a = kwant.lattice.square(1, norbs=1), 5.0
    syst = kwant.Builder()

    def xy(i, j):
        return -75.0 + i * a, -50.0 + (j + 1) * a

    def onsite(site):
        return 4.0 + bump(*xy(*site.tag)) / device.t

    def hopping(to_site, from_site, peierls):
        return -peierls(to_site, from_site)

    for i in range(31):
        for j in range(19):
            if _z_shape(*xy(i, j)):
                syst[lat(i, j)] = onsite
    syst[lat.neighbors()] = hopping
    specs = [((-1, 0), [(0, j) for j in range(6, 19)]),        # x = -75, y = -15 .. 45
             ((0, 1), [(i, 12) for i in range(17, 28)]),       # y = 15, x = 10 .. 60
             ((1, 0), [(30, j) for j in range(0, 13)]),        # x = 75, y = -45 .. 15
             ((-1, 0), [(15, j) for j in range(0, 6)])]        # x = 0, y = -45 .. -20
    for k, (direction, tags) in enumerate(specs):
        lead = kwant.Builder(kwant.TranslationalSymmetry(direction))
        for tag in tags:
            lead[lat(*tag)] = 4.0
        lead[lat.neighbors()] = hopping
        syst.attach_lead(lead.substituted(peierls=f"peierls_{k}"))
    fsyst = syst.finalized()
    phases = kwant.physics.magnetic_gauge(fsyst)(*[2 * flux_per_plaquette(B, a)] * 5)
    params = dict(peierls=phases[0], **{f"peierls_{k}": p for k, p in enumerate(phases[1:])})
    return kwant.smatrix(fsyst, energy / device.t, params=params)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Kwant 1.5's gauge on NumPy 2
@pytest.mark.parametrize("B", [0.0, 2.0])
def test_leads_on_boundary_segments_inside_the_box_equal_hand_written_kwant(B):
    device = z_device()
    assert device.gauge == "edges" and device.terminals == ("a", "up", "b", "west")
    assert device.leads[1] == Lead("up", "top", 35.0, 60.0, 15.0)
    ref = _plain_kwant_z(device, B, 12.0)
    for method in ("mumps", "kwant"):
        r = qpcsim.solve(device, 12.0, B=B, method=method)
        assert r.open_modes == tuple(ref.num_propagating(k) for k in range(4))
        assert min(r.open_modes) >= 1                     # every terminal is open
        assert np.abs(r.conductance_matrix - ref.conductance_matrix()).max() < TOL
    if B:
        magnetic = qpcsim.solve(z_device("magnetic"), 12.0, B=B)
        assert np.abs(magnetic.conductance_matrix - r.conductance_matrix).max() < TOL


@pytest.mark.parametrize("lead, message", [
    (Lead("up", "top", 35.0, 60.0, 2.5),
     "lead 'up': at=2.5 nm is not allowed with a=5 nm: the segment must lie on a lattice line"),
    (Lead.on_segment("up", (5.0, -5.0), (65.0, -5.0), "top"),
     "lead 'up' is not allowed where it is: it is not on the shape's boundary; the shape has "
     "a site beyond it toward top"),
    (Lead.on_segment("up", (5.0, 20.0), (65.0, 20.0), "top"),
     "lead 'up' is not allowed where it is: the shape excludes 11 of its interface sites"),
    (Lead("up", "top", 35.0, 60.0, 80.0),
     "lead 'up': at=80 nm is not allowed: it must lie within the lattice, -45 .. 45 nm"),
])
def test_bad_boundary_segment_leads_are_refused_in_one_line(lead, message):
    leads = [Lead("a", "left", 15.0, 70.0), lead, Lead("b", "right", -15.0, 70.0)]
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        qpcsim.Device(width=100.0, length=150.0, a=5.0, shape=_z_shape, leads=leads).build()
    assert "\n" not in str(info.value)


def test_bad_segments_are_refused_in_one_line():
    with pytest.raises(ValueError, match=r"the segment must be horizontal \(equal y\)"):
        Lead.on_segment("up", (5.0, 0.0), (65.0, 5.0), "top")
    with pytest.raises(ValueError, match=r"the segment must be vertical \(equal x\)"):
        Lead.on_segment("w", (5.0, 0.0), (65.0, 0.0), "left")
    with pytest.raises(ValueError, match="outward='up' is not allowed"):
        Lead.on_segment("w", (0.0, 0.0), (0.0, 20.0), "up")
