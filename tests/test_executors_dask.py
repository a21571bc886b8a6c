"""The Dask executor (issue 24): points batched per task, a failing point in a batch,
and the LocalCluster's forked workers set up like the process pool's.
(Bit-identical results against the serial run and the pool: tests/test_sweep.py.)"""
import os
import signal
import time

import pytest
from distributed import utils

import qpcsim
from qpcsim.backends import mumps_available
from qpcsim.engine.executors import DeviceRecipe, _batch_size, _call_batch, make_executor
from qpcsim.engine.task import SweepTask
from test_executors import counted, solved_counts  # noqa: F401 (a fixture)


class _NoDevice:
    """A recipe whose device is None: the tests' functions need none."""

    def device(self, structural=None):
        return None


def _square(device, item):
    time.sleep(0.002)
    if item == 7:
        raise ValueError("point 7 fails")
    return item * item


@pytest.mark.parametrize("remaining, threads, seconds_per_point, size", [
    (61, 2, None, 1),        # cost unknown: one point per task
    (61, 2, 0.025, 8),       # 0.2 s of work
    (10, 2, 0.025, 2),       # the tail: a quarter of each worker's share
    (61, 2, 1.0, 1),         # slow points: one per task
    (1000, 2, 1e-6, 125),    # cheap points: bounded by the share, not the time
])
def test_batch_size(remaining, threads, seconds_per_point, size):
    assert _batch_size(remaining, threads, seconds_per_point) == size


def test_a_failing_point_keeps_the_batch_before_it():
    results, seconds, failed = _call_batch(_square, _NoDevice(), [5, 6, 7, 8])
    assert (results, failed) == ([25, 36], True) and seconds >= 0
    assert _call_batch(_square, _NoDevice(), [2, 3])[::2] == ([4, 9], False)
    with pytest.raises(ValueError, match="point 7 fails"):   # alone: raises as itself
        _call_batch(_square, _NoDevice(), [7])


def test_local_cluster_batches_forks_and_reports_the_failing_point():
    with make_executor(2, "local") as executor:
        client = executor._client
        # forked: the workers hold the parent's objects (no import), at the same addresses
        assert set(client.run(lambda: id(make_executor)).values()) == {id(make_executor)}
        # the process pool's worker set-up ran in each
        assert all(client.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
                   .values())
        sizes, submit = [], client.submit
        client.submit = lambda *args, **kw: sizes.append(len(args[3])) or submit(*args, **kw)
        seen = {}
        with pytest.raises(ValueError, match="point 7 fails"):
            for index, value in executor.imap_unordered(_square, _NoDevice(), range(40)):
                seen[index] = value
        assert sizes[:4] == [1, 1, 1, 1] and max(sizes) > 1   # batches once timed
        assert seen and 7 not in seen
        assert all(value == index * index for index, value in seen.items())


def test_forked_workers_receive_large_messages():
    """A forked worker inherits distributed's offload pool; once the parent has used it
    (its scheduler does for every graph: a second sweep in one session) the copy never
    starts a thread, and a message over 10 MiB (offloaded) would wait forever."""
    utils._offload_executor.submit(int).result()   # the parent's pool has been used
    payload = b"x" * (11 * 2**20)
    with make_executor(2, "local") as executor:
        client = executor._client
        sent = client.scatter(payload, hash=False, timeout=30)
        assert client.submit(len, sent, pure=False).result(timeout=30) == len(payload)
        inherited = id(utils._offload_executor)
        assert inherited not in client.run(lambda: id(utils._offload_executor)).values()


@pytest.mark.skipif(not mumps_available(), reason="python-mumps not installed")
def test_local_cluster_workers_inherit_the_prepared_backend(counted):
    """Given the run's first task, the local cluster prepares its device and back end
    before it forks (as the process pool does): no worker builds, assembles or searches
    mirrors again (the parent's counts in every worker after its solve)."""
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    recipe = DeviceRecipe(device)
    tasks = [SweepTask(5.0, 0.0, "mumps-sigma", {"B": 0.0}, {}) for _ in range(4)]
    with make_executor(2, "local", first=(recipe, tasks[0])) as executor:
        states = [state for _, state in executor.imap_unordered(solved_counts, recipe, tasks)]
    parent = dict(counted)
    assert parent == {"build": 0, "assembly": 1, "mirrors": 1}
    assert [counts for counts, _ in states] == [parent] * 4
    assert {pid for _, pid in states} - {os.getpid()}   # they ran in the workers
