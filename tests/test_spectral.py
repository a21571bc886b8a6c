"""Spectral data on the shared energy grid: the grid, finite-T conductance against exact and
adaptive results, equality with brute-force re-solving, temperature series and their store."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
from conftest import clean_wire

import qpcsim
from qpcsim.spectral import Spectrum, build_grid, fermi_window
from qpcsim.units import thermal_energy_meV


@pytest.fixture(scope="module")
def tiny_saddle():
    """A coarse saddle QPC (a = 5 nm, 41 x 29 sites): seconds for a few hundred solves."""
    return qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


# ----------------------------------------------------------------- the grid
def test_grid_integrates_every_temperature_of_a_series():
    temps = [0.5, 1.0, 2.0, 4.0]
    grid = build_grid(10.0, temps, thresholds=[9.3, 10.4, 12.0])
    flat = Spectrum.from_function(grid, lambda e: np.ones((len(e), 1)))
    for t in temps:
        kT = thermal_energy_meV(t)
        # the raw nodal sums resolve the kernel to the design tolerance ...
        assert abs(np.sum(grid.weights * fermi_window(grid.nodes, 10.0, kT)) - 1) < 1e-4
        m2 = np.sum(grid.weights * (grid.nodes - 10) ** 2 * fermi_window(grid.nodes, 10.0, kT))
        assert m2 == pytest.approx(np.pi**2 * kT**2 / 3, rel=3e-4)
        # ... and the control variate makes the moments of a constant exact up to the window's
        # truncation at 20 kT_max (weight 2 exp(-20) = 4e-9)
        assert flat.thermal("transmission", t) == pytest.approx(1.0, abs=1e-8)
        assert flat.thermal("transmission", t, moment=2) == pytest.approx(np.pi**2 * kT**2 / 3,
                                                                          rel=1e-6)
    for c in (9.3, 10.4, 12.0):          # thresholds are panel edges, never straddled
        assert np.min(np.abs(grid.edges - c)) < 1e-12
    assert np.all(np.diff(grid.nodes) > 0)
    single = build_grid(10.0, [1.0])
    assert single.size < grid.size


@pytest.mark.parametrize("kwargs, message", [
    ({"mu": 10.0, "temperatures": [-1.0]}, r"temperature=-1.0 K is not allowed: it must be >= 0"),
    ({"mu": 10.0, "temperatures": []}, r"temperatures=\[\] is not allowed"),
    ({"mu": 10.0, "temperatures": [0.0]}, r"temperature=0 K with bias=0 needs no energy grid"),
    ({"mu": 10.0, "temperatures": [1.0], "order": 0}, r"order=0 is not allowed"),
])
def test_grid_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_grid(**kwargs)


def test_window_missing_the_band_is_refused(tiny_saddle):
    with pytest.raises(ValueError, match="bias=20 mV is not allowed at energy=8 meV"):
        qpcsim.spectral.device_grid(tiny_saddle, 8.0, [0.0], bias=20.0)
    with pytest.raises(ValueError, match="the energy window reaches .* Fermi wavelength"):
        qpcsim.spectral.device_grid(tiny_saddle, 60.0, [40.0])


@pytest.mark.parametrize("energy, bias, message", [
    (8.0, 1e9, r"the energy window reaches 5e\+08 meV, where the Fermi wavelength"),
    (8.0, 20.0, r"bias=20 mV is not allowed at energy=8 meV"),
])
def test_a_huge_window_is_refused_before_its_panels(tiny_saddle, monkeypatch, energy, bias,
                                                    message):
    """The window's edges are checked before any panel is placed: a bias of 1e9 mV is a
    one-line error at once (it took minutes filling 1e9 meV with panels)."""
    import qpcsim.spectral.grid as grid_module
    def no_panels(*args, **kwargs):
        raise AssertionError("panels placed before the window was checked")
    monkeypatch.setattr(grid_module, "_fill", no_panels)
    with pytest.raises(ValueError, match=message):
        qpcsim.spectral.device_grid(tiny_saddle, energy, [1.0], bias=bias)


# ----------------------------------------------------------------- finite T conductance
@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_clean_wire_finite_t_is_the_exact_fermi_staircase(temperature):
    """T(E) of a clean wire = number of open lead modes: G(T) = sum_n f(E_n) exactly."""
    dev = clean_wire()
    thresholds = dev.transverse_mode_energies(8)
    mu = 0.5 * (thresholds[2] + thresholds[3]) + 0.4
    kT = thermal_energy_meV(temperature)
    exact = float(np.sum(1.0 / (1.0 + np.exp((thresholds - mu) / kT))))
    result = qpcsim.solve(dev, mu, temperature=temperature)
    assert result.conductance == pytest.approx(exact, abs=1e-5)
    assert result.thermal_error < 1e-4
    # the trapezoidal grid runs through E_F, whose solve the finite-T result already made
    assert result.spectrum is not None and result.spectrum.solves == result.spectrum.grid.size - 1


def test_grid_agrees_with_adaptive_quadrature(tiny_saddle):
    """Issue 16: <= 1e-5 G0 against the adaptive Gauss-Kronrod average, error reported."""
    for V0 in (4.3,):
        grid = qpcsim.solve(tiny_saddle, 8.0, V0=V0, temperature=1.0)
        adaptive = qpcsim.solve(tiny_saddle, 8.0, V0=V0, temperature=1.0, thermal="adaptive")
        assert abs(grid.conductance - adaptive.conductance) < 1e-5
        assert grid.thermal_error < 1e-4
        cold = qpcsim.solve(tiny_saddle, 8.0, V0=V0)
        assert abs(grid.conductance - cold.conductance) > 1e-3        # temperature visibly acts


def test_thermal_method_is_checked(tiny_saddle):
    with pytest.raises(ValueError, match="thermal='gauss' is not allowed: use 'grid' or 'adaptive'"):
        qpcsim.solve(tiny_saddle, 8.0, temperature=1.0, thermal="gauss")


def test_cached_integrals_equal_brute_force_resolving(tiny_saddle):
    """The temperature series' cached spectrum (lead modes shared across gate points) equals
    re-solving every node from scratch on a fresh device; and the interpolant between nodes
    equals direct solves at off-node energies within 1e-5 G0."""
    temps = [0.5, 2.0]
    ds = qpcsim.temperature_series(tiny_saddle, over={"V0": [4.3, 5.0]}, energy=8.0,
                                   temperatures=temps, workers=1, progress=False)
    fresh = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)
    nodes, weights = ds["energy_node"].values, ds["quadrature_weight"].values
    t_nodes = np.array([qpcsim.solve(fresh, e, V0=5.0).transmission for e in nodes])
    np.testing.assert_allclose(ds["spectrum_transmission"].sel(V0=5.0).values, t_nodes, atol=1e-12)
    grid = qpcsim.spectral.device_grid(fresh, 8.0, temps, params=fresh.resolve_params({}))
    np.testing.assert_array_equal(grid.nodes, nodes)
    np.testing.assert_array_equal(grid.weights, weights)
    brute = Spectrum(grid, t_nodes, t_nodes, t_nodes[:, None])
    for t in temps:
        assert ds["conductance"].sel(V0=5.0, temperature=t).item() == pytest.approx(
            brute.conductance(t), abs=1e-12)
    spec = qpcsim.spectrum(tiny_saddle, 8.0, [0.5, 2.0], V0=5.0)
    off_node = np.array([7.55, 7.9, 8.13, 8.61])
    direct = np.array([qpcsim.solve(fresh, e, V0=5.0).transmission for e in off_node])
    np.testing.assert_allclose(spec.interpolate("transmission", off_node), direct, atol=1e-5)


# ----------------------------------------------------------------- temperature series
def test_temperature_series_matches_single_solves_and_resumes(tiny_saddle, tmp_path, monkeypatch):
    store = tmp_path / "series.jsonl"
    over = {"V0": [4.0, 5.5]}
    ds = qpcsim.temperature_series(tiny_saddle, over=over, energy=8.0, temperatures=[1.0, 3.0],
                                   workers=1, progress=False, store=store)
    assert ds["conductance"].dims == ("V0", "temperature")
    assert ds["spectrum_eigenvalues"].dims == ("V0", "energy_node", "channel")
    assert ds["conductance"].attrs["units"] == "G0" and ds["thermopower"].attrs["units"] == "uV/K"
    single = qpcsim.solve(tiny_saddle, 8.0, V0=5.5, temperature=3.0, thermal="adaptive")
    assert ds["conductance"].sel(V0=5.5, temperature=3.0).item() == pytest.approx(
        single.conductance, abs=1e-5)
    # resuming recomputes nothing
    from qpcsim.physics import series

    def boom(*args, **kwargs):
        raise AssertionError("a stored point was recomputed")
    monkeypatch.setattr(series, "compute_spectrum", boom)
    again = qpcsim.temperature_series(tiny_saddle, over=over, energy=8.0, temperatures=[1.0, 3.0],
                                      workers=1, progress=False, store=store)
    np.testing.assert_array_equal(again["conductance"].values, ds["conductance"].values)
    with pytest.raises(ValueError, match="different"):
        qpcsim.temperature_series(tiny_saddle, over=over, energy=8.0, temperatures=[1.0, 2.0],
                                  workers=1, progress=False, store=store)


def test_temperature_series_bad_input(tiny_saddle):
    with pytest.raises(ValueError, match=r"temperature=-1.0 K is not allowed"):
        qpcsim.temperature_series(tiny_saddle, over={"V0": [4.0, 5.0]}, energy=8.0,
                                  temperatures=[1.0, -1.0], progress=False)
    with pytest.raises(ValueError, match="repeat a value"):
        qpcsim.temperature_series(tiny_saddle, over={"V0": [4.0, 5.0]}, energy=8.0,
                                  temperatures=[1.0, 1.0], progress=False)


def test_spectrum_refuses_unresolved_temperature():
    grid = build_grid(10.0, [1.0, 2.0])
    spec = Spectrum.from_function(grid, lambda e: np.ones((len(e), 1)))
    assert spec.conductance(1.5) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="temperature=4 K is not resolved by this energy grid"):
        spec.conductance(4.0)


def test_analytic_saddle_thermal_average_against_quad():
    """Büttiker T_n(E) on the grid vs scipy.quad of the same integrand: within 1e-6 where the
    panels resolve T(E); where they do not (4 K panels over hbar w_x / 2 pi = 0.16 meV steps) the
    reported error bounds the true one, and a finer ``max_panel`` restores 1e-6."""
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    mu, V0, temps = 9.0, 6.1, (0.5, 1.0, 2.0, 4.0)

    def eigenvalues(e):
        return np.array([saddle.buttiker_transmissions(x, V0, 1.0, 2.0) for x in e])
    coarse = Spectrum.from_function(build_grid(mu, temps), eigenvalues)
    fine = Spectrum.from_function(build_grid(mu, temps, max_panel=0.6), eigenvalues)
    for t in temps:
        kT = thermal_energy_meV(t)
        def integrand(e, kT=kT):
            return saddle.buttiker_transmissions(e, V0, 1.0, 2.0).sum() * fermi_window(e, mu, kT)
        exact = scipy.integrate.quad(integrand, mu - 40 * kT, mu + 40 * kT, epsabs=1e-13,
                                     limit=400)[0]
        error = abs(coarse.conductance(t) - exact)
        assert error <= coarse.thermal_error("transmission", t)
        if t < 4:
            assert error < 1e-6
        assert fine.conductance(t) == pytest.approx(exact, abs=1e-6)


# ----------------------------------------------------------------- the trapezoidal rule
def test_trapezoid_grid_is_nested_ladders_through_the_fermi_energy():
    """Issue 16: one temperature takes 17 energies (h = 1.25 kT, reach 10 kT at 1 K), E_F is a
    node of every ladder, the ladders of a series share their nodes, and a series of 0.5-4 K
    takes at most 1.5x the energies of its top temperature alone."""
    single = build_grid(10.0, [1.0], rule="trapezoid")
    assert single.size == 17 and single.rule == "trapezoid"
    assert 10.0 in single.nodes
    np.testing.assert_allclose(np.diff(single.nodes), 1.25 * thermal_energy_meV(1.0), rtol=1e-12)
    temps = [0.5, 1.0, 2.0, 4.0]
    series = build_grid(10.0, temps, rule="trapezoid")
    top = build_grid(10.0, [4.0], rule="trapezoid")
    assert series.size <= 1.5 * top.size
    for t in temps:
        index, step, j = series.ladders[t]
        np.testing.assert_allclose(series.nodes[index], 10.0 + j * step, atol=1e-12)
        assert step <= 1.25 * thermal_energy_meV(t) * (1 + 1e-12) and step <= 0.15 + 1e-12
        assert np.all(np.diff(j) == 1) and j[0] == -j[-1]
    # the band bottom cuts the ladders: no node at or below it
    cut = build_grid(1.0, [1.0], rule="trapezoid", lower=0.5)
    assert cut.nodes.min() > 0.5 and 1.0 in cut.nodes


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 4.0])
def test_trapezoid_rule_against_quad_on_the_analytic_saddle(temperature):
    """Büttiker T_n(E) (hbar w_x = 1 meV: steps of 0.16 meV) on a single-temperature trapezoidal
    grid and on a 0.5-4 K series grid vs scipy.quad: within 1e-5 G0 (measured <= 4e-6), the
    reported error within 5x of the true one (or both below 1e-6: T(E) changing beyond the
    ladder's reach is not seen by the estimate); thermopower and kappa moments within 1e-3."""
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    mu, kT = 9.0, thermal_energy_meV(temperature)

    def eigenvalues(e):
        return np.array([saddle.buttiker_transmissions(x, V0, 1.0, 2.0) for x in e])
    for V0 in (5.6, 6.1, 6.9):
        exact = [scipy.integrate.quad(
            lambda e, k=k: saddle.buttiker_transmissions(e, V0, 1.0, 2.0).sum()
            * (e - mu) ** k * fermi_window(e, mu, kT), mu - 40 * kT, mu + 40 * kT,
            epsabs=1e-13, limit=400)[0] for k in range(3)]
        for temps in ([temperature], [0.5, 1.0, 2.0, 4.0]):
            spec = Spectrum.from_function(build_grid(mu, temps, rule="trapezoid"), eigenvalues)
            error = abs(spec.conductance(temperature) - exact[0])
            assert error < 1e-5
            assert spec.thermal_error("transmission", temperature) + 1e-6 > error / 5
            for k in (1, 2):
                assert spec.thermal("transmission", temperature, k) == pytest.approx(
                    exact[k], abs=1e-3 * kT**k)


def test_trapezoid_spectrum_interpolates_between_nodes(tiny_saddle):
    """The piecewise quintic spline (broken at the lead thresholds) between the nodes of the
    default grid equals direct solves within 1e-4 (0.11 meV spacing at 1 K), and within 3e-3
    in the node interval next to a lead threshold, where T(E) has a square-root cusp."""
    spec = qpcsim.spectrum(tiny_saddle, 8.0, 1.0, V0=5.0)
    assert spec.grid.rule == "trapezoid" and spec.grid.breakpoints.size == 1
    off_node = spec.grid.nodes[:-1] + 0.37 * np.diff(spec.grid.nodes)
    direct = np.array([qpcsim.solve(tiny_saddle, e, V0=5.0).transmission for e in off_node])
    error = np.abs(spec.interpolate("transmission", off_node) - direct)
    near = np.abs(off_node - spec.grid.breakpoints[0]) < np.diff(spec.grid.nodes)[0]
    assert np.all(error[~near] < 1e-4) and np.all(error[near] < 3e-3)


def test_trapezoid_bad_input():
    with pytest.raises(ValueError, match="rule='simpson' is not allowed"):
        build_grid(10.0, [1.0], rule="simpson")
    with pytest.raises(ValueError, match="bias=1 mV is not allowed with rule='trapezoid'"):
        build_grid(10.0, [1.0], rule="trapezoid", bias=1.0)
    with pytest.raises(ValueError, match="temperature=0.0 K is not allowed"):
        build_grid(10.0, [0.0], rule="trapezoid")
    with pytest.raises(ValueError, match="resolution=-0.1 meV is not allowed"):
        build_grid(10.0, [1.0], rule="trapezoid", resolution=-0.1)


def _staircase_grid(mu, temps, steps, lower=-np.inf):
    grid = build_grid(mu, temps, rule="trapezoid", thresholds=steps, lower=lower)
    return Spectrum.from_function(
        grid, lambda e: np.array([[float(np.sum(np.asarray(steps) < x)) for x in e]]).T)


@pytest.mark.parametrize("case", ["two in one cell", "on a node", "below mu", "beyond the reach",
                                  "band bottom on a node", "series"])
def test_trapezoid_steps_of_clean_leads_are_exact(case):
    """A clean-lead staircase T(E) = #(E_n < E) (steps where modes open): G and the thermal
    moments equal the exact Fermi-smeared staircase to 1e-9 kT^k (1e-6 kT^k for k > 0 in the
    series, where steps 20 kT beyond a ladder add x^k exp(-x)) (review of issue 16: two thresholds
    in one node interval, a threshold exactly on a lattice point, steps below mu, a threshold
    just beyond a ladder's reach, the band bottom on a lattice point, nested ladders)."""
    mu, temps = 9.0, [1.0]
    h = 1.25 * thermal_energy_meV(1.0)
    lower = -np.inf
    steps = {"two in one cell": [9.33, 9.36], "on a node": [mu + 3 * h, mu - 2 * h],
             "below mu": [8.61, 8.87], "beyond the reach": [mu + 10.2 * thermal_energy_meV(1.0)],
             "band bottom on a node": [mu - 5 * h, mu + 0.3], "series": [8.52, 9.33, 9.36, 9.95]}[case]
    if case == "band bottom on a node":
        lower = steps[0]
    if case == "series":
        temps = [0.5, 1.0, 2.0, 4.0]
    spec = _staircase_grid(mu, temps, steps, lower)
    for t in temps:
        kT = thermal_energy_meV(t)
        for k in range(3):
            exact = sum(scipy.integrate.quad(
                lambda e: (e - mu) ** k * fermi_window(e, mu, kT), s, mu + 80 * kT,
                points=[mu], epsabs=1e-14, limit=200)[0] for s in steps)
            tol = 1e-6 if (case == "series" and k) else 1e-9
            assert spec.thermal("transmission", t, k) == pytest.approx(exact, abs=tol * kT**k)


def test_trapezoid_zeeman_resolved_thermoelectrics_and_odd_temperatures():
    """Spin-split thresholds leave stretches of 5 nodes (a quartic spline SciPy cannot build):
    the thermopower of a Zeeman-resolved QPC is finite; a temperature that is not a ladder's
    is integrated by the spline, with an error estimate, and agrees with its own grid."""
    devz = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0,
                                zeeman=True)
    energy = float(devz.transverse_mode_energies(6)[5]) + 0.03
    result = qpcsim.solve(devz, energy, temperature=1.0, V0=5.0, E_Z=0.5)
    te = qpcsim.thermoelectric(result.spectrum, 1.0)
    assert np.isfinite(te.thermopower) and np.isfinite(te.thermal_conductance)
    mu, temps = 9.0, [0.5, 2.0]
    saddle = qpcsim.load_geometry_module("qpc_saddle")

    def eigenvalues(e):
        return np.array([saddle.buttiker_transmissions(x, 6.1, 1.0, 2.0) for x in e])
    wide = Spectrum.from_function(build_grid(mu, temps, rule="trapezoid"), eigenvalues)
    own = Spectrum.from_function(build_grid(mu, [1.0], rule="trapezoid"), eigenvalues)
    assert wide.conductance(1.0) == pytest.approx(own.conductance(1.0), abs=1e-5)
    assert 0 < wide.thermal_error("transmission", 1.0) < 1e-3


def test_trapezoid_window_is_checked_before_its_nodes_are_made():
    """1e9 K: the ladder spans ~3e11 nodes; the window check must refuse it before any array
    is made (NumPy's MemoryError, or GiB of memory, came first)."""
    def refuse(low, high):
        raise ValueError(f"window [{low:.3g}, {high:.3g}] meV refused")

    with pytest.raises(ValueError, match=r"window \[.*\] meV refused"):
        build_grid(10.0, [1e9], rule="trapezoid", window_check=refuse)
    for temps, lower in (([1.0], 9.5), ([0.1, 1.0], 9.5), ([0.3, 4.0], 8.77), ([2.0], -np.inf)):
        seen = []
        grid = build_grid(10.0, temps, rule="trapezoid", lower=lower,
                          window_check=lambda low, high: seen.append((low, high)))
        assert seen == [(grid.nodes[0], grid.nodes[-1])]      # the nodes' own span


@pytest.mark.parametrize("call, match", [
    (lambda: qpcsim.noise("x", 0.5), "spectrum='x' is not allowed: give a qpcsim.Spectrum"),
    (lambda: qpcsim.thermoelectric(3, 0.5), "spectrum=3 is not allowed: give a qpcsim.Spectrum"),
    (lambda: qpcsim.spectrum(clean_wire(), 5.0, "hot"),
     "temperature='hot' is not allowed: give a temperature"),
    # a resolution meant in eV asked for 1.7e9 energies: 12.8 GiB, then MemoryError
    (lambda: qpcsim.spectrum(clean_wire(), 5.0, 1.0, resolution=1e-9),
     r"resolution=1e-09 meV is not allowed at temperature=1 K: its ladder would need 1723466655 "
     r"energies \(solves\), more than 20000; use resolution >= 8.8e-05 meV"),
    (lambda: build_grid(9.0, [1.0], order=5000),
     "order=5000, tol=0.001, max_panel=0.689387 meV are not allowed: the energy grid would need "
     "30000 energies"),
    (lambda: build_grid(5.0, [1.0], rule="gauss", max_panel=1e-7),
     r"tol=0.001, max_panel=1e-07 meV are not allowed: the energy grid would need more than "
     "20000 energies"),
])
def test_spectral_calls_refuse_bad_input_in_one_line(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
