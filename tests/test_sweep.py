"""Sweep engine: executors, resumable store, adaptive sampling, result files."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import qpcsim
from qpcsim.engine.points import GridKind
from qpcsim.engine.spec import SweepSpec
from qpcsim.engine.sweep import execute

GATES = np.linspace(-6.0, 8.0, 15)


@pytest.fixture(scope="module")
def serial_result(small_saddle):
    return qpcsim.sweep(small_saddle, {"V0": GATES}, energy=9.0, workers=1, progress=False)


def test_result_is_labelled(serial_result, small_saddle):
    data = serial_result.data
    assert data["conductance"].dims == ("V0",)
    np.testing.assert_array_equal(data["V0"].values, GATES)
    assert data["V0"].attrs["units"] == "meV"
    assert data.attrs["geometry"] == "qpc_saddle"
    assert json.loads(data.attrs["geometry_params"])["a"] == 4.0
    assert data.attrs["kwant_version"] == "1.5.0" and data.attrs["solver"].startswith("fast-")
    assert np.all(data["unitarity_error"].values < 1e-8)
    # each point equals a direct solve
    direct = qpcsim.solve(small_saddle, 9.0, V0=GATES[7]).conductance
    assert data["conductance"].values[7] == direct


@pytest.mark.parametrize("executor", [dict(workers=2), dict(workers=2, scheduler="local")],
                         ids=["processes", "dask-localcluster"])
def test_executors_are_bit_identical(small_saddle, serial_result, executor):
    other = qpcsim.sweep(small_saddle, {"V0": GATES}, energy=9.0, progress=False, **executor)
    np.testing.assert_array_equal(other.conductance.values, serial_result.conductance.values)
    np.testing.assert_array_equal(other["transmission_eigenvalues"].values,
                                  serial_result["transmission_eigenvalues"].values)


def test_two_dimensional_map(small_saddle):
    result = qpcsim.sweep(small_saddle, {"V0": [4.0, 6.0, 8.0], "energy": [8.0, 9.0]},
                          workers=1, progress=False)
    assert result.conductance.shape == (3, 2)
    assert result.conductance.sel(V0=6.0, energy=9.0) == pytest.approx(
        qpcsim.solve(small_saddle, 9.0, V0=6.0).conductance, abs=1e-12)


def test_save_and_load_round_trip(serial_result, tmp_path):
    path = serial_result.save(tmp_path / "r.nc")
    plain = xr.open_dataset(path, engine="h5netcdf")       # plain xarray opens it
    np.testing.assert_array_equal(plain["conductance"].values, serial_result.conductance.values)
    plain.close()
    again = qpcsim.load_result(path)
    assert again.attrs["store_hash"] == serial_result.attrs["store_hash"]


def test_store_resumes_without_recomputing(small_saddle, tmp_path, monkeypatch):
    store = tmp_path / "s.sqlite"
    qpcsim.sweep(small_saddle, {"V0": GATES[:6]}, energy=9.0, workers=1, store=store,
                 progress=False)
    calls = []
    points_module = sys.modules["qpcsim.engine.points"]
    real = points_module.solve_point
    monkeypatch.setattr(points_module, "solve_point", lambda d, t: calls.append(t) or real(d, t))
    # same sweep: nothing recomputed
    with pytest.raises(ValueError, match="different sweep"):
        qpcsim.sweep(small_saddle, {"V0": GATES}, energy=9.0, workers=1, store=store,
                     progress=False)
    again = qpcsim.sweep(small_saddle, {"V0": GATES[:6]}, energy=9.0, workers=1, store=store,
                         progress=False)
    assert calls == []
    assert again.conductance.values[2] == qpcsim.solve(small_saddle, 9.0, V0=GATES[2]).conductance


def test_store_for_other_device_refused(small_saddle, tmp_path):
    store = tmp_path / "s.sqlite"
    qpcsim.sweep(small_saddle, {"V0": GATES[:3]}, energy=9.0, workers=1, store=store,
                 progress=False)
    other = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=1.4, hw_y=3.0)
    with pytest.raises(ValueError, match=r"was written for a different device .* refusing to mix"):
        qpcsim.sweep(other, {"V0": GATES[:3]}, energy=9.0, workers=1, store=store, progress=False)


def _stored_keys(store):
    """Task keys in an SQLite sweep store (None while it has no tables yet)."""
    import sqlite3
    if not store.exists():
        return None
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
    try:
        return [k for (k,) in db.execute("SELECT key FROM records")]
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def test_kill_9_then_resume_equals_clean_run(tmp_path):
    """A real `qpcsim sweep` killed with SIGKILL mid-sweep, then rerun."""
    args = [sys.executable, "-m", "qpcsim.cli", "sweep", "qpc_saddle", "--set", "a=4",
            "--set", "W=200", "--set", "L=320", "--sweep", "V0=-4:8:40", "--energy", "9",
            "--workers", "1", "--quiet"]
    killed_out = tmp_path / "killed.nc"
    store = tmp_path / "killed.nc.points.sqlite"
    proc = subprocess.Popen(args + ["--out", str(killed_out)], stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if _stored_keys(store) is not None and len(_stored_keys(store)) >= 8:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(_stored_keys(store))
    assert 8 <= finished < 40 and not killed_out.exists()

    subprocess.run(args + ["--out", str(killed_out)], check=True, stdout=subprocess.DEVNULL)
    keys = _stored_keys(store)
    assert len(keys) == 40 == len(set(keys))           # no finished point computed twice

    clean_out = tmp_path / "clean.nc"
    subprocess.run(args + ["--out", str(clean_out)], check=True, stdout=subprocess.DEVNULL)
    resumed, clean = qpcsim.load_result(killed_out), qpcsim.load_result(clean_out)
    np.testing.assert_array_equal(resumed.conductance.values, clean.conductance.values)


def test_adaptive_needs_fewer_points_than_uniform():
    # Dense reference, then: adaptive (tolerance 0.01 G0) vs the coarsest uniform
    # grid reaching the same max interpolation error. Flat plateaus (hw_y = 5 hw_x);
    # measured 0.43 here, the benchmark reports the QPC case.
    device = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=0.6, hw_y=3.0)
    lo, hi = 0.0, 8.5
    dense_x = np.linspace(lo, hi, 1201)
    dense = qpcsim.sweep(device, {"V0": dense_x}, energy=9.0, workers=2, progress=False)
    dense_g = dense.conductance.values
    adaptive = qpcsim.sweep(device, {"V0": [lo, hi]}, energy=9.0, workers=2,
                            adaptive=0.01, progress=False)
    ax, ag = adaptive["V0"].values, adaptive.conductance.values
    adaptive_error = np.abs(np.interp(dense_x, ax, ag) - dense_g).max()
    uniform_points = None
    for n in (13, 25, 41, 49, 61, 81, 101, 121, 151, 201, 241, 301, 401, 601):
        step = (len(dense_x) - 1) // (n - 1)
        ux, ug = dense_x[::step], dense_g[::step]
        if np.abs(np.interp(dense_x, ux, ug) - dense_g).max() <= max(adaptive_error, 0.01):
            uniform_points = n
            break
    assert adaptive_error <= 0.02
    assert uniform_points is not None
    assert len(ax) <= 0.6 * uniform_points, (len(ax), uniform_points)


@pytest.mark.parametrize("ratio, max_overhead", [(2.0, 1.9), (6.0, 2.0)])
def test_adaptive_sampler_against_the_optimum(ratio, max_overhead):
    # Büttiker's staircase (hw_x = 1, plateaus hw_y = ratio wide), driven through the
    # sweep engine's own adaptive loop. The true max error must stay within the
    # tolerance, and the points within a stated factor of the fewest any sampler
    # needs for that error (measured 1.69 and 1.78; Learner1D with the exact error
    # of every interval: 1.46 and 1.88, benchmarks/bench_sampling.py).
    import scipy.special
    from qpcsim.engine.sampling import adaptive_samples

    def staircase(v):
        return sum(scipy.special.expit(2 * np.pi * (ratio * (n + 0.5) - np.asarray(v)))
                   for n in range(9))

    lo, hi = -0.7 * ratio, 6.2 * ratio
    xs = adaptive_samples(staircase, [(lo, hi)], 0.01)[:, 0]
    dense_x = np.linspace(lo, hi, 4001)
    error = np.abs(np.interp(dense_x, xs, staircase(xs)) - staircase(dense_x)).max()
    optimum = qpcsim.analysis.optimal_sample_count(dense_x, staircase(dense_x), error)
    assert error <= 0.01
    assert len(xs) <= max_overhead * optimum, (len(xs), optimum)


def test_adaptive_map_stop_is_in_g0_whatever_the_range():
    # 2-D on an analytic saddle map G = c sum_n expit(2 pi (3 (n + 1/2) - (V0 - E))),
    # c = 1, 4, 1/4, tolerance 0.1 c: the true max error of the linear interpolant
    # must stay within the tolerance (measured 0.35 x it), and the sampled points
    # must not depend on c (592 each; with the estimate wrongly multiplied by the
    # range, as once, c = 4 oversampled and c = 1/4 overshot the tolerance).
    import scipy.interpolate
    import scipy.special
    from qpcsim.engine.sampling import adaptive_samples

    def saddle_map(v0, energy, scale):
        return scale * sum(scipy.special.expit(2 * np.pi * (3.0 * (n + 0.5) - (v0 - energy)))
                           for n in range(2))

    bounds = [(0.0, 6.0), (0.0, 3.0)]
    v0, energy = np.meshgrid(np.linspace(0, 6, 241), np.linspace(0, 3, 121), indexing="ij")
    samples = []
    for scale in (1.0, 4.0, 0.25):
        tolerance = 0.1 * scale
        points = adaptive_samples(lambda a, b: saddle_map(a, b, scale), bounds, tolerance)
        values = saddle_map(points[:, 0], points[:, 1], scale)
        interpolant = scipy.interpolate.LinearNDInterpolator(points, values)
        error = np.abs(interpolant(v0, energy) - saddle_map(v0, energy, scale)).max()
        assert error <= tolerance, (scale, error)
        samples.append(points)
    for other in samples[1:]:
        np.testing.assert_allclose(other, samples[0], rtol=0, atol=1e-9)


def test_adaptive_map_reaches_its_tolerance(small_saddle):
    # 2-D: Learner2D with the Clough-Tocher interpolation-error loss. The linear
    # interpolant of the samples must be within the tolerance on a dense grid,
    # without oversampling: adaptive's own deviation loss (used before) stopped at
    # 0.01 G0 with ~3500 points for a tolerance of 0.1 on this map; measured now
    # 608 points, error 0.104 G0 at tolerance 0.2 (bench_sampling.py).
    import scipy.interpolate
    bounds = {"V0": [0.0, 8.5], "energy": [6.0, 12.0]}
    result = qpcsim.sweep(small_saddle, bounds, adaptive=0.2, progress=False)
    assert "batch=16" in result.data.attrs["sampling"]
    points = np.column_stack([result["V0"].values, result["energy"].values])
    interpolant = scipy.interpolate.LinearNDInterpolator(points, result.conductance.values)
    v0, energy = np.linspace(0.0, 8.5, 41), np.linspace(6.0, 12.0, 33)
    dense = qpcsim.sweep(small_saddle, {"V0": v0, "energy": energy}, progress=False)
    grid_v0, grid_energy = np.meshgrid(v0, energy, indexing="ij")
    error = np.abs(interpolant(grid_v0, grid_energy) - dense.conductance.values).max()
    assert error <= 0.2
    assert len(points) <= 1000


def test_adaptive_points_do_not_depend_on_workers(small_saddle):
    # The learner proposes adaptive_batch points per round whatever the worker
    # count, so the sampled gate values and conductances are bit-identical.
    runs = [qpcsim.sweep(small_saddle, {"V0": [2.0, 6.0]}, energy=9.0, adaptive=0.05,
                         workers=w, progress=False) for w in (1, 2)]
    np.testing.assert_array_equal(runs[0]["V0"].values, runs[1]["V0"].values)
    np.testing.assert_array_equal(runs[0].conductance.values, runs[1].conductance.values)
    assert "batch=4" in runs[0].data.attrs["sampling"]
    other = qpcsim.sweep(small_saddle, {"V0": [2.0, 6.0]}, energy=9.0, adaptive=0.05,
                         adaptive_batch=2, workers=1, progress=False)
    # ...but the batch size is part of the sampling rule: it changes the points.
    assert set(other["V0"].values.tolist()) != set(runs[0]["V0"].values.tolist())


@pytest.mark.parametrize("kwargs, message", [
    (dict(over={"Vg": [1, 2]}, energy=9.0), r"unknown swept parameter 'Vg'; known swept parameters are: B, E, L, L_switch, T, V0, W, a, "
         "energy, hw_x, hw_y, temperature"),
    (dict(over={}, energy=9.0), r"give one or two swept parameters"),
    (dict(over={"V0": [1, 2]}), r"energy is required \(meV\)"),
    (dict(over={"V0": [1, np.nan]}, energy=9.0), r"contains non-finite values"),
    (dict(over={"V0": [3, 1]}, energy=9.0, adaptive=0.01), r"increasing bounds"),
    (dict(over={"V0": [1, 3]}, energy=9.0, adaptive=0.01, adaptive_batch=0),
     r"adaptive_batch=0 is not allowed: it must be a whole number >= 1"),
    (dict(over={"V0": [1, 3]}, energy=9.0, adaptive=0.01, max_points=2.5),
     r"max_points=2.5 is not allowed"),
    (dict(over={"V0": [1, 3]}, energy=9.0, adaptive_batch=8),
     r"adaptive_batch=8 is not allowed without adaptive \(a tolerance in G0\)"),
    (dict(over={"V0": [1, 2]}, energy=9.0, workers=0), r"workers=0 is not allowed"),
    (dict(over={"V0": [1, 2]}, energy=9.0, scheduler="nowhere"), r"scheduler='nowhere' is not allowed"),
])
def test_bad_sweep_input(small_saddle, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.sweep(small_saddle, progress=False, **kwargs)


def test_unreachable_scheduler_times_out_with_message(small_saddle):
    with pytest.raises(ValueError, match=r"not reachable within 1 s"):
        from qpcsim.engine.executors import make_executor
        make_executor(scheduler="tcp://127.0.0.1:9", timeout=1.0)


# ------------------------------------------------- every parameter fixed or swept (issue 14)
def _wire(**kw):
    return qpcsim.load_geometry("disordered_wire", L=40.0, **kw)


def _open_modes(device, energy):
    return int(np.sum(device.transverse_mode_energies() < energy))


def test_structural_sweep_rebuilds_per_value_and_matches_direct_builds():
    # G of a clean wire is its open mode count: W = 60 nm has 2 (3) below 10 (20) meV,
    # W = 100 nm 4 (6); each width is a rebuilt system, counted and recorded.
    dev = _wire()
    res = qpcsim.sweep(dev, {"W": [60.0, 100.0], "energy": [10.0, 20.0]}, workers=1,
                       progress=False, disorder=0.0)
    g = res.conductance.values
    for i, W in enumerate((60.0, 100.0)):
        direct = _wire(W=W)
        for k, E in enumerate((10.0, 20.0)):
            assert g[i, k] == pytest.approx(_open_modes(direct, E), abs=1e-9)
            assert g[i, k] == qpcsim.solve(direct, E, disorder=0.0).conductance
    np.testing.assert_allclose(g, [[2, 3], [4, 6]], atol=1e-9)
    assert res.attrs["structural_rebuilds"] == 2
    assert json.loads(res.attrs["structural_swept"]) == ["W"]
    assert res["W"].attrs["units"] == "nm"


def test_structural_parameter_held_fixed_rebuilds_once():
    res = qpcsim.sweep(_wire(), {"energy": [10.0]}, workers=1, progress=False, disorder=0.0,
                       W=60.0)
    assert res.conductance.values[0] == pytest.approx(2, abs=1e-9)
    assert json.loads(res.attrs["make_device_parameters"])["W"] == 60.0


def test_structural_sweep_of_thousands_is_refused_with_count_and_time():
    with pytest.raises(ValueError, match=r"sweeping W rebuilds 3000 systems \(~.* s each for 171 "
                                         r"sites, ~.* in all before any solve\); at most 200"):
        qpcsim.sweep(_wire(), {"W": 50.0 + 5.0 * np.arange(3000)}, energy=10.0, progress=False)


def test_field_and_zeeman_held_fixed_or_derived(small_saddle):
    fixed = qpcsim.sweep(small_saddle, {"V0": [2.0, 4.0]}, energy=9.0, workers=1,
                         progress=False, B=0.5)
    direct = [qpcsim.solve(small_saddle, 9.0, V0=v, B=0.5).conductance for v in (2.0, 4.0)]
    np.testing.assert_array_equal(fixed.conductance.values, direct)
    assert json.loads(fixed.attrs["device_parameters"])["B"] == 0.5
    assert "B = 0.5 T" in fixed.attrs["title"]
    spin = qpcsim.load_geometry("disordered_wire", L=40.0, zeeman=True)
    res = qpcsim.sweep(spin, {"B": [1.0, 2.0]}, energy=10.0, workers=1, progress=False,
                       disorder=0.0, zeeman_from_B=True)
    ez = [qpcsim.units.zeeman_energy_meV(b) for b in (1.0, 2.0)]
    direct = [qpcsim.solve(spin, 10.0, B=b, E_Z=e, disorder=0.0).conductance
              for b, e in zip((1.0, 2.0), ez)]
    np.testing.assert_array_equal(res.conductance.values, direct)
    with pytest.raises(ValueError, match=r"zeeman_from_B=True needs a device with zeeman=True"):
        qpcsim.sweep(small_saddle, {"B": [1.0]}, energy=9.0, zeeman_from_B=True, progress=False)


def test_temperature_sweep_equals_finite_temperature_solves():
    dev = _wire()
    e1, e2 = dev.transverse_mode_energies(2)
    mu = float(e2) + 1e-3   # at a threshold (not on it): temperature smears the step
    res = qpcsim.sweep(dev, {"T": [0.5, 2.0]}, energy=mu, workers=1, progress=False,
                       disorder=0.0)
    assert res.data["temperature"].attrs["units"] == "K"
    direct = [qpcsim.solve(dev, mu, temperature=T, disorder=0.0).conductance for T in (0.5, 2.0)]
    np.testing.assert_allclose(res.conductance.values, direct, rtol=0, atol=1e-12)
    # the Fermi-smeared step of a clean wire: G = 1 + f(E_2 - mu) = 1.5 at mu = E_2
    np.testing.assert_allclose(res.conductance.values, 1.5, atol=0.02)
    assert "T = " not in res.caption()


@pytest.mark.parametrize("over, kwargs, message", [
    ({"T": [0.0, 1.0]}, {}, r"over\['T'\] contains T=0 K: a temperature sweep needs T > 0 K"),
    ({"temperature": [-1.0, 1.0]}, {}, r"contains T=-1 K"),
    ({"T": [1.0, 2.0]}, {"temperature": 1.0}, r"the temperature is swept .* do not also pass"),
    ({"V0": [1.0, 2.0, 1.0]}, {}, r"over\['V0'\] is not allowed: it lists V0=1 more than once"),
    ({"W": [200.0]}, {"adaptive": 0.1}, r"cannot be sampled adaptively"),
    ({"zeeman": [0.0, 1.0]}, {}, r"unknown swept parameter 'zeeman'"),
])
def test_bad_sweeps_of_any_parameter(small_saddle, over, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.sweep(small_saddle, over, energy=9.0, progress=False, **kwargs)


def test_provenance_is_enough_to_rerun(tmp_path, small_saddle):
    import hashlib

    import kwant
    res = qpcsim.sweep(small_saddle, {"V0": [2.0, 5.0]}, energy=9.0, workers=1, progress=False,
                       B=0.2)
    path = res.save(tmp_path / "r.nc")
    attrs = qpcsim.load_result(path).attrs
    source = Path(attrs["geometry_file"]).read_bytes()
    assert attrs["geometry_sha256"] == hashlib.sha256(source).hexdigest()
    assert attrs["geometry_source"] == source.decode()
    assert attrs["kwant_version"] == kwant.__version__ and attrs["numpy_version"] == np.__version__
    assert attrs["command"]
    # rerun from the file alone
    device = qpcsim.load_geometry(attrs["geometry_file"],
                                  **json.loads(attrs["make_device_parameters"]))
    spec = json.loads(attrs["sweep_spec"])
    again = qpcsim.sweep(device, spec["axes"], energy=spec["energy"],
                         temperature=spec["temperature"], workers=1, progress=False,
                         **spec["fixed"])
    np.testing.assert_array_equal(again.conductance.values, res.conductance.values)


def test_bad_executor_arguments_leave_no_store(small_saddle, tmp_path):
    """workers/scheduler are checked before the store is opened: a refused run leaves no
    empty store that would block the next (different) sweep on the same path."""
    store = tmp_path / "s.sqlite"
    for kwargs in (dict(workers=0), dict(workers=1.5), dict(scheduler="nowhere")):
        with pytest.raises(ValueError, match="is not allowed"):
            qpcsim.sweep(small_saddle, {"V0": GATES[:3]}, energy=9.0, store=store,
                         progress=False, **kwargs)
        assert not store.exists()


@pytest.mark.parametrize("run", ["sweep", "bias_map"])
@pytest.mark.parametrize("fresh, match", [
    (True, "fresh=True is not allowed without store=: it deletes an earlier run's store"),
    ("yes", "fresh='yes' is not allowed: it is a yes/no option")])
def test_fresh_needs_a_store_and_a_yes_or_no(small_saddle, run, fresh, match):
    call = (qpcsim.sweep if run == "sweep" else
            lambda *a, **k: qpcsim.bias_map(*a, biases=[0.0, 0.1], **k))
    with pytest.raises(ValueError, match=match) as info:
        call(small_saddle, over={"V0": [1.0, 2.0]}, energy=9.0, workers=1, progress=False,
             fresh=fresh)
    assert "\n" not in str(info.value)


def test_a_report_that_is_not_callable_is_refused_before_fresh_deletes(tmp_path):
    """report=3 with fresh=True used to delete the store, then fail in a traceback."""
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    store = tmp_path / "s.sqlite"
    first = qpcsim.sweep(device, {"B": [0.0, 0.5]}, energy=5.0, workers=1, store=store,
                         progress=False)
    with pytest.raises(ValueError, match=r"report=3 is not allowed: give a callable"):
        execute(GridKind(SweepSpec.build(device, {"B": [0.0, 0.5]}, 5.0, 0.0)), workers=1,
                store=store, fresh=True, report=3)
    again = qpcsim.sweep(device, {"B": [0.0, 0.5]}, energy=5.0, workers=1, store=store,
                         progress=False)
    np.testing.assert_array_equal(again.conductance.values, first.conductance.values)


def test_progress_is_a_yes_no_option():
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    with pytest.raises(ValueError, match="progress='maybe' is not allowed"):
        qpcsim.sweep(device, {"B": [0.0]}, energy=5.0, workers=1, progress="maybe")


def test_finite_temperature_lead_thresholds_are_found_before_the_pool_forks():
    """A field at T > 0: the leads' band edges are searched in the parent (the kind's
    check), once, so forked workers inherit them instead of each searching again."""
    from qpcsim.backends.context import solver_context
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    kind = GridKind(SweepSpec.build(device, {"B": [0.5, 0.5000001]}, 5.0, 1.0))
    assert not solver_context(device).band_edges
    kind.check()
    assert len(solver_context(device).band_edges) == 2     # one per field value


def test_disordered_copies_share_the_clean_leads_band_edges():
    from qpcsim.backends.context import solver_context
    from qpcsim.spectral.bands import lead_band_edges
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    copy = qpcsim.with_disorder(device, 1.0)
    params = copy.resolve_params({"B": 0.5})
    edges = lead_band_edges(copy, params)
    assert solver_context(device).band_edges is solver_context(copy).band_edges
    assert lead_band_edges(device, device.resolve_params({"B": 0.5})) is edges
