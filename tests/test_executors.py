"""Executors: a pool's workers start solving at once, with the in-process bits."""
import math
import os

import numpy as np
import pytest

import qpcsim
from qpcsim.engine import executors
from qpcsim.engine.executors import DeviceRecipe, make_executor

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


@needs_two_cores
@pytest.mark.parametrize("pool_start_s, ran_here, label",
                         [(math.inf, 6, ("serial", 1)), (0.0, 1, ("processes", 2))],
                         ids=["all-here", "pool-after-first"])
def test_default_executor_forks_only_when_the_pool_pays(monkeypatch, pool_start_s, ran_here,
                                                         label):
    """Default workers: the first point runs in this process and times the rest; the pool
    starts only when the points left would take longer than its start-up."""
    monkeypatch.setattr(executors, "_POOL_START_S", pool_start_s)
    monkeypatch.setattr(executors, "default_workers", lambda: 2)
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    with make_executor() as executor:
        states = [state for _, state in
                  executor.imap_unordered(device_state, DeviceRecipe(device), range(6))]
        assert executor.ran() == label
    assert sum(pid == os.getpid() for _, pid in states) == ran_here


@needs_two_cores
@pytest.mark.parametrize("pool_start_s", [math.inf, 0.0], ids=["all-here", "pool-after-first"])
def test_default_executor_gives_the_in_process_bits(monkeypatch, pool_start_s, in_process):
    monkeypatch.setattr(executors, "_POOL_START_S", pool_start_s)
    result = qpcsim.sweep(fresh_saddle(), {"V0": GATES}, energy=9.0, progress=False)
    np.testing.assert_array_equal(result.conductance.values, in_process)
    assert result.data.attrs["executor"] == ("serial(1)" if pool_start_s else
                                             f"processes({executors.default_workers()})")
