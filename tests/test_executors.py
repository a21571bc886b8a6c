"""Executors: a pool's workers start solving at once, with the in-process bits."""
import math
import os

import numpy as np
import pytest

import qpcsim
from qpcsim.backends import mumps_available
from qpcsim.engine import executors
from qpcsim.engine.executors import DeviceRecipe, make_executor
from qpcsim.engine.task import SweepTask

GATES = np.linspace(-6.0, 8.0, 6)


def fresh_saddle():
    """A new, unbuilt device (no Kwant system yet), as a sweep from a script gets it."""
    return qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=1.5, hw_y=3.0)


def device_state(device, item):
    """Worker function: was the device already built when the task arrived, and where."""
    return device._fsyst is not None, os.getpid()


#: Calls of Kwant's Builder (``Device.build`` building), of the fast path's assembly and of
#: mumps-sigma's mirror search, counted per process: a forked worker starts with the
#: parent's counts.
CALLS = {"build": 0, "assembly": 0, "mirrors": 0}


@pytest.fixture
def counted(monkeypatch):
    """Count every Kwant system built, fast-path assembly made and mirror search run."""
    from qpcsim.backends import assembly, sigma_schur

    build, init = qpcsim.Device.build, assembly.SystemAssembly.__init__
    mirrors = sigma_schur.SigmaSchurBackend._mirrors

    def counted_build(device):
        CALLS["build"] += device._fsyst is None
        return build(device)

    def counted_init(self, device):
        CALLS["assembly"] += 1
        init(self, device)

    def counted_mirrors(self):
        CALLS["mirrors"] += 1
        return mirrors(self)

    monkeypatch.setattr(qpcsim.Device, "build", counted_build)
    monkeypatch.setattr(assembly.SystemAssembly, "__init__", counted_init)
    monkeypatch.setattr(sigma_schur.SigmaSchurBackend, "_mirrors", counted_mirrors)
    for name in CALLS:
        monkeypatch.setitem(CALLS, name, 0)
    return CALLS


def solved_counts(device, task):
    """Worker function: solve the point, then say what this process has built so far."""
    qpcsim.solve(device, task.energy, method=task.method, **task.params)
    return dict(CALLS), os.getpid()


#: (method, (Kwant systems, assemblies, mirror searches) made in all, once, in the
#: parent; None: whatever the auto rule's back end makes).
PREPARED = [("auto", (0, 1, None)), ("kwant", (1, 0, 0)),
            pytest.param("mumps-sigma", (0, 1, 1), marks=pytest.mark.skipif(
                not mumps_available(), reason="python-mumps not installed"))]


@pytest.mark.parametrize(("method", "expected"), PREPARED)
def test_workers_inherit_the_prepared_backend(counted, method, expected):
    """The parent prepares the points' back end once before the pool forks: the fast path
    of the plain Device without Kwant's Builder (its arrays and leads, mumps-sigma's
    lattice mirrors), ``method="kwant"`` with the Kwant system; no worker builds,
    assembles or searches again before or at its solves (Kwant's Builder costs 1-2 s per
    worker at 10^4-10^5 sites, ~10 s at 5 x 10^5; the mirror search 0.5 s at 45k)."""
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    tasks = [SweepTask(5.0, 0.0, method, {"B": 0.0}, {}) for _ in range(6)]
    with make_executor(workers=2) as executor:
        states = [state for _, state in
                  executor.imap_unordered(solved_counts, DeviceRecipe(device), tasks)]
    parent = dict(counted)
    assert [counts for counts, _ in states] == [parent] * 6   # none made in a worker
    made = tuple(parent.values())
    assert made == tuple(m if e is None else e for m, e in zip(made, expected))
    assert {pid for _, pid in states} - {os.getpid()}   # they ran in the workers


def test_workers_get_a_built_system_for_a_task_without_method():
    """A kind's task that names no back end: the parent builds the Kwant system before the
    fork, as before, and no worker runs the Builder."""
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    assert device._fsyst is None
    with make_executor(workers=2) as executor:
        states = [state for _, state in
                  executor.imap_unordered(device_state, DeviceRecipe(device), range(6))]
    assert all(built for built, _ in states)
    assert {pid for _, pid in states} - {os.getpid()}   # they ran in the workers


@pytest.fixture(scope="module")
def in_process():
    """Direct solves, one per gate value, on one device in this process."""
    device = fresh_saddle()
    return np.array([qpcsim.solve(device, 9.0, V0=v).conductance for v in GATES])


@pytest.mark.parametrize("workers", [1, 2])
def test_fresh_device_gives_the_in_process_bits(workers, in_process):
    result = qpcsim.sweep(fresh_saddle(), {"V0": GATES}, energy=9.0, workers=workers,
                          progress=False)
    np.testing.assert_array_equal(result.conductance.values, in_process)



needs_two_cores = pytest.mark.skipif(executors.default_workers() < 2,
                                     reason="the default executor is serial on one core")
#: (pool start-up s, the cost model's s per point or None for the real one): how many of 6
#: points run here and where the run says it ran.
DEFAULT_RUNS = {"all-here": (math.inf, None, 6, ("serial", 1)),
                "pool-after-first": (0.0, 0.0, 1, ("processes", 2)),
                "pool-at-once": (0.0, None, 0, ("processes", 2)),
                # a point at T > 0 is many solves: the one-solve model does not price it
                "finite-T-pool-at-once": (math.inf, None, 0, ("processes", 2))}


def sweep_points(case, count=6):
    """Zero-temperature sweep points, at 1 K for the finite-T case."""
    temperature = 1.0 if case.startswith("finite-T") else 0.0
    return [SweepTask(9.0, temperature, "auto", {"V0": v}, {}) for v in range(count)]


@needs_two_cores
@pytest.mark.parametrize("case", DEFAULT_RUNS)
def test_default_executor_forks_only_when_the_pool_pays(monkeypatch, case):
    """Default workers: a run the cost model calls small starts here, its first point
    times the rest, and the pool starts only when the points left would take longer
    here than on the pool; a large run goes to the pool at once."""
    pool_start_s, modelled_s, ran_here, label = DEFAULT_RUNS[case]
    monkeypatch.setattr(executors, "_POOL_START_S", pool_start_s)
    monkeypatch.setattr(executors, "default_workers", lambda: 2)
    if modelled_s is not None:
        monkeypatch.setattr(executors, "_modelled_point_s", lambda device: modelled_s)
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    with make_executor() as executor:
        states = [state for _, state in
                  executor.imap_unordered(device_state, DeviceRecipe(device),
                                          sweep_points(case))]
        assert executor.ran() == label
    assert sum(pid == os.getpid() for _, pid in states) == ran_here


@pytest.mark.parametrize("points, point_s, workers, pays", [
    (1, 100.0, 2, False),     # one point left: nothing to run beside it
    (2, 0.1, 2, False),       # 0.1 s saved < 0.2 s start-up
    (2, 1.0, 2, True),
    (9, 0.1, 2, True),        # 0.4 s saved
    (4, 0.05, 8, False)])     # 0.2 s here vs 0.2 s + 0.05 s on the pool
def test_pool_pays_when_it_saves_more_than_its_start_up(points, point_s, workers, pays):
    assert executors._pool_pays(points, point_s, workers) is pays


@needs_two_cores
@pytest.mark.parametrize("case", ["all-here", "pool-after-first"])
def test_default_executor_gives_the_in_process_bits(monkeypatch, case, in_process):
    pool_start_s, modelled_s, _, label = DEFAULT_RUNS[case]
    monkeypatch.setattr(executors, "_POOL_START_S", pool_start_s)
    if modelled_s is not None:
        monkeypatch.setattr(executors, "_modelled_point_s", lambda device: modelled_s)
    result = qpcsim.sweep(fresh_saddle(), {"V0": GATES}, energy=9.0, progress=False)
    np.testing.assert_array_equal(result.conductance.values, in_process)
    workers = 1 if label[0] == "serial" else executors.default_workers()
    assert result.data.attrs["executor"] == f"{label[0]}({workers})"
