"""Every kind on the one engine (engine/kind.py, engine/sweep.execute): resumable after
kill -9 with bit-identical results, a store of another kind or spec refused in one line,
a lost Dask scheduler reported in one line that says where the finished points are kept.

One parametrized test per property over :data:`KINDS` (the kills of three kinds in the
default suite, of all in the slow one): a grid sweep, an adaptive sweep, a
disorder ensemble, a temperature series and a bias map in both bias models, each on a
coarse device (a few points, ~1 s)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import qpcsim
from qpcsim.engine.executors import Executor, SchedulerLostError

sweep_module = sys.modules["qpcsim.engine.sweep"]
ROOT = Path(__file__).resolve().parent.parent


def _tiny():
    return qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


def _arrays(data) -> dict:
    return {k: np.asarray(data[k].values) for k in data.data_vars}


def grid(**run):
    return _arrays(qpcsim.sweep(_tiny(), {"V0": [2.0, 3.0, 4.0, 5.0, 6.0]}, energy=8.0,
                                progress=False, **run).data)


def adaptive(**run):
    data = qpcsim.sweep(_tiny(), {"V0": [0.0, 8.0]}, energy=8.0, adaptive=0.3, max_points=14,
                        progress=False, **run).data
    return {"V0": data["V0"].values, **_arrays(data)}


def ensemble(**run):
    device = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=100.0)
    return qpcsim.ensemble(device, 5, energy=20.0, disorder=40.0, **run).samples


def series(**run):
    return _arrays(qpcsim.temperature_series(_tiny(), {"V0": [3.0, 4.0, 5.0, 6.0]}, 8.0,
                                             [1.0, 2.0], progress=False, **run))


def bias(**run):
    return _arrays(qpcsim.bias_map(_tiny(), {"V0": [3.0, 4.0, 5.0, 6.0]}, [-0.5, 0.0, 0.5],
                                   energy=8.0, max_panel=0.8, **run))


def bias_drop(**run):
    return _arrays(qpcsim.bias_map(_tiny(), {"V0": [3.0, 4.0]}, [-0.5, 0.0, 0.5], energy=8.0,
                                   max_panel=0.8, drop_fraction=0.5, **run))


def bias_ensemble(**run):
    device = qpcsim.with_disorder(_tiny(), 2.0)
    return _arrays(qpcsim.bias_ensemble(device, 2, {"V0": [3.0, 5.0]}, [0.0, 0.5], energy=8.0,
                                        max_panel=0.8, **run))


#: kind name (the store header's) -> its runner (store=, workers=, scheduler= as keywords)
KINDS = {"grid": grid, "adaptive": adaptive, "ensemble": ensemble,
         "temperature_series": series, "bias_map": bias, "bias_map/drop": bias_drop,
         "bias_ensemble": bias_ensemble}
#: A different request of the same kind, for the refusal of a store of another spec.
OTHER_SPEC = {
    "grid": lambda store: qpcsim.sweep(_tiny(), {"V0": [2.0, 3.0]}, energy=8.0, store=store,
                                       workers=1, progress=False),
    "adaptive": lambda store: qpcsim.sweep(_tiny(), {"V0": [0.0, 8.0]}, energy=8.0,
                                           adaptive=0.2, max_points=14, store=store, workers=1,
                                           progress=False),
    "ensemble": lambda store: qpcsim.ensemble(
        qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=100.0), 5, energy=20.0,
        disorder=30.0, store=store, workers=1),
    "temperature_series": lambda store: qpcsim.temperature_series(
        _tiny(), {"V0": [3.0, 4.0, 5.0, 6.0]}, 8.0, [1.0, 3.0], store=store, workers=1,
        progress=False),
    "bias_map": lambda store: bias(store=store, workers=1, temperature=0.5),
    "bias_map/drop": lambda store: qpcsim.bias_map(
        _tiny(), {"V0": [3.0, 4.0]}, [-0.5, 0.0, 0.5], energy=8.0, max_panel=0.8,
        drop_fraction=0.25, store=store, workers=1),
    "bias_ensemble": lambda store: bias_ensemble(store=store, workers=1, temperature=0.5),
}


def _records(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


#: A child that runs one kind into a store, 0.4 s per committed point (so a kill lands mid-run).
_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from qpcsim.engine import store as store_module
put = store_module.Store.put
store_module.Store.put = lambda self, key, value: (put(self, key, value), time.sleep(0.4))
from tests.test_kinds import KINDS
KINDS[{name!r}](store={store!r}, workers=1)
"""


def _kill_mid_run(name: str, store: Path) -> int:
    """Run kind ``name`` in a child, SIGKILL it once a point is committed; the points kept."""
    code = _CHILD.format(root=str(ROOT), name=name, store=str(store))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and _records(store) < 1 and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return _records(store)


def _assert_same(first: dict, second: dict):
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)   # bit-identical


#: The default suite kills three kinds (one per runner loop shape); `make test-slow` all.
_SLOW_KILLS = {"adaptive", "ensemble", "bias_map/drop", "bias_ensemble"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW_KILLS
                                  else n for n in KINDS])
def test_every_kind_resumes_after_kill_9_bit_identical(name, tmp_path):
    store = tmp_path / "run.sqlite"
    kept = _kill_mid_run(name, store)
    assert kept >= 1, "the kill landed before any point was committed"
    resumed = KINDS[name](store=store, workers=1)
    for suffix in (".lock", "-wal", "-shm"):             # cleaned on exit
        assert not Path(str(store) + suffix).exists(), suffix
    assert _records(store) > kept                       # the rest computed, the kept reused
    _assert_same(resumed, KINDS[name](workers=1))       # = an uninterrupted run, bit for bit


class _Dying(Executor):
    """A Dask executor whose scheduler goes away after two points."""

    name = "dask"

    def imap_unordered(self, func, recipe, items):
        items = list(items)
        for index in range(2):
            yield index, func(recipe.device(getattr(items[index], "structural", None)),
                              items[index])
        raise SchedulerLostError(f"lost the Dask scheduler tcp://x:1 after 2 of {len(items)} "
                                 "points (CommClosedError)")


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_reports_a_lost_scheduler_and_refuses_other_stores(name, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(sweep_module, "make_executor",
                        lambda workers, scheduler, first=None: _Dying())
    store = tmp_path / "run.sqlite"
    with pytest.raises(SchedulerLostError) as lost:
        KINDS[name](store=store, scheduler="tcp://x:1")
    message = str(lost.value)
    assert "\n" not in message
    assert message.startswith("lost the Dask scheduler tcp://x:1 after 2 of")
    assert f"the 2 finished points are kept in store={str(store)!r}" in message
    assert "rerun the same command" in message
    assert _records(store) == 2
    monkeypatch.undo()
    # the store of this kind is refused by another kind and by another request of this one
    other_kind = list(KINDS)[(list(KINDS).index(name) + 2) % len(KINDS)]
    with pytest.raises(ValueError, match=r"was written for a different kind.*refusing to mix"):
        KINDS[other_kind](store=store, workers=1)
    with pytest.raises(ValueError, match=r"was written for a different (sweep|device).*"
                                         r"refusing to mix") as refused:
        OTHER_SPEC[name](store)
    assert "\n" not in str(refused.value)
    assert _records(store) == 2                          # refused before any work


def test_sigterm_closes_the_store_and_removes_its_lock_wal_and_shm(tmp_path):
    """A batch system's stop (SIGTERM) unwinds like Ctrl-C: the finished points are kept, the
    lock, WAL and shared-memory files removed, and the process still dies by SIGTERM."""
    out = tmp_path / "g.nc"
    store = Path(str(out) + ".points.sqlite")
    command = [sys.executable, "-m", "qpcsim.cli", "sweep", "qpc_saddle", "--set", "a=10",
               "--set", "W=150", "--set", "L=200", "--sweep", "V0=2:6:400", "--energy", "8",
               "--workers", "1", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and _records(store) < 3 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == -signal.SIGTERM
    assert "terminated (finished points kept)" in err and "Traceback" not in err
    for suffix in (".lock", "-wal", "-shm"):
        assert not Path(str(store) + suffix).exists(), suffix
    assert not Path(str(out) + ".lock").exists()
    assert _records(store) >= 3
