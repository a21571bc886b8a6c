"""Executors: a pool's workers start solving at once, with the in-process bits."""
import math
import os

import numpy as np
import pytest

import qpcsim
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


def test_workers_inherit_the_finalized_system():
    """The parent builds the Kwant system once before the pool forks: no worker runs
    Kwant's Builder before its first solve (1-2 s each at 10^4-10^5 sites)."""
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
