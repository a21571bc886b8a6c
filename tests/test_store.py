"""The sweep store as a database: lock, full-task keys, checksums, repair, kills.

Real subprocesses for the lock and for the fault injection (a writer killed by
SIGKILL at random delays)."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import qpcsim
from qpcsim.engine.executors import FunctionExecutor
from qpcsim.engine.points import GridKind
from qpcsim.engine.progress import Progress
from qpcsim.engine.run import drive
from qpcsim.engine.store import Store, StoreBusyError, StoreWarning, task_key

STORE_PY = Path(__file__).resolve().parent.parent / "qpcsim" / "engine" / "store.py"
HEADER = {"format": 3, "device": "d", "sweep": {"n": 1}, "code": {"c": 1}, "hash": "h" * 64}
GRID = [(float(x),) for x in np.linspace(0.0, 3.0, 120)]


def trace(x):
    """A staircase with exact-float content (tests bit equality through JSON)."""
    return float(np.tanh(4 * np.sin(3 * x)) + x / 7 + 1e-17 * x)


class Counting(FunctionExecutor):
    def __init__(self):
        super().__init__(trace)
        self.computed = []

    def imap_unordered(self, func, recipe, items):
        items = list(items)
        self.computed += [task_key(p) for p in items]
        yield from super().imap_unordered(func, recipe, items)


class PointsKind(GridKind):
    """The engine's grid kind on points given directly (each task is its point)."""

    def __init__(self, grid):
        self.grid, self.tasks = list(grid), list(grid)


def grid_run(path, grid=GRID):
    """The engine (``drive``) on a store at ``path``: (conductances, keys computed)."""
    executor = Counting()
    store = Store(path, HEADER)
    kind = PointsKind(grid)
    try:
        drive(kind, executor, None, store, Progress(len(kind.tasks), "sweep", False))
    finally:
        store.close()
    records = kind.records
    return [r["conductance"] for r in records], executor.computed


def test_full_task_key_separates_every_input():
    base = (8.0, 0.0, "auto", {"V0": 1.0, "W": 300.0})
    variants = [(6.0, 0.0, "auto", {"V0": 1.0, "W": 300.0}),      # fixed energy
                (8.0, 0.1, "auto", {"V0": 1.0, "W": 300.0}),      # temperature
                (8.0, 0.0, "kwant", {"V0": 1.0, "W": 300.0}),     # method
                (8.0, 0.0, "auto", {"V0": 1.0, "W": 200.0}),      # a fixed parameter
                (8.0, 0.0, "auto", {"V0": 1.0 + 2**-50, "W": 300.0})]  # last bit of a swept one
    keys = {task_key(t) for t in [base] + variants}
    assert len(keys) == 6
    # order of the params never matters; the key is exact JSON of the floats
    assert task_key((8.0, 0.0, "auto", {"W": 300.0, "V0": 1.0})) == task_key(base)
    assert json.loads(task_key(base))["params"] == {"V0": 1.0, "W": 300.0}


def test_edited_record_detected_and_recomputed_once(tmp_path):
    path = tmp_path / "s.sqlite"
    clean, computed = grid_run(path)
    assert len(computed) == len(GRID)
    db = sqlite3.connect(path)
    key = db.execute("SELECT key FROM records LIMIT 1 OFFSET 7").fetchone()[0]
    db.execute("UPDATE records SET result = ? WHERE key = ?",
               (json.dumps({"conductance": 42.0}), key))
    db.execute("UPDATE records SET result = 'not json{' WHERE rowid = 30")
    db.commit()
    db.close()
    with pytest.warns(StoreWarning, match="2 damaged or edited record"):
        again, computed = grid_run(path)
    assert len(computed) == 2 and key in computed            # detected, recomputed
    assert again == clean                                     # 42.0 never reaches the result
    with warnings.catch_warnings():
        warnings.simplefilter("error", StoreWarning)          # repaired: no warning
        third, computed = grid_run(path)
    assert computed == [] and third == clean                  # once, not forever


def test_damaged_database_is_a_one_line_error(tmp_path):
    path = tmp_path / "s.sqlite"
    grid_run(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)                         # smash the schema page
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"is damaged .*delete it") as info:
        Store(path, HEADER)
    assert "\n" not in str(info.value)
    Store(tmp_path / "other.sqlite", HEADER).close()          # and the lock was released


@pytest.mark.parametrize("content, message", [
    (b"my notes\n", "is not a qpcsim sweep store"),
    (b'{"header": {"hash": "x"}}\n{"key": "[1.0]"}\n', "JSON-lines store of an older qpcsim"),
])
def test_foreign_files_are_refused_and_kept(tmp_path, content, message):
    path = tmp_path / "s.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        Store(path, HEADER)
    assert path.read_bytes() == content


def test_other_sqlite_database_and_directory_refused(tmp_path):
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ValueError, match="SQLite database but not a qpcsim sweep store"):
        Store(path, HEADER)
    with pytest.raises(ValueError, match="not a regular file"):
        Store(tmp_path, HEADER)


def test_other_sweep_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    Store(path, HEADER).close()
    with pytest.raises(ValueError, match="different sweep .*refusing to mix"):
        Store(path, {**HEADER, "sweep": {"n": 2}, "hash": "g" * 64})


def test_lock_in_process(tmp_path):
    path = tmp_path / "s.sqlite"
    first = Store(path, HEADER)
    with pytest.raises(StoreBusyError, match=f"PID {os.getpid()}"):
        Store(path, HEADER)
    first.close()
    Store(path, HEADER).close()                               # released on close


def test_lock_names_the_holders_pid(tmp_path):
    """A second process on a held store is refused with the holder's PID; the lock
    goes with the holder, even when it is killed by SIGKILL."""
    path = tmp_path / "s.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import importlib.util, sys, time
        spec = importlib.util.spec_from_file_location("store", {str(STORE_PY)!r})
        store = importlib.util.module_from_spec(spec); spec.loader.exec_module(store)
        s = store.Store({str(path)!r}, {HEADER!r})
        print("locked", flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreBusyError, match=rf"in use by another qpcsim process \(PID "
                                                 rf"{holder.pid} on "):
            Store(path, HEADER)
    finally:
        holder.kill()
        holder.wait()
    Store(path, HEADER).close()


# ------------------------------------------------------------------ fault injection
_WRITER = """
import importlib.util, math, sys
spec = importlib.util.spec_from_file_location("store", {store_py!r})
store = importlib.util.module_from_spec(spec); spec.loader.exec_module(store)
import numpy as np
print("go", flush=True)
s = store.Store({path!r}, {header!r})
done = s.results()
for x in np.linspace(0.0, 3.0, {n}):
    key = store.task_key((float(x),))
    if key not in done:
        s.put(key, {{"conductance": float(np.tanh(4 * np.sin(3 * x)) + x / 7 + 1e-17 * x)}})
s.close()
print("end", flush=True)
"""


def _writer(path):
    code = _WRITER.format(store_py=str(STORE_PY), path=str(path), header=HEADER, n=len(GRID))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _fault_injection(tmp_path, trials, seed):
    clean, _ = grid_run(tmp_path / "clean.sqlite")
    # How long the writer's writes take, uninterrupted (the window the kills fall in).
    windows = []
    for k in range(3):
        proc = _writer(tmp_path / f"timing{k}.sqlite")
        assert proc.stdout.readline().strip() == "go"
        t0 = time.perf_counter()
        assert proc.stdout.readline().strip() == "end"
        windows.append(time.perf_counter() - t0)
        proc.wait()
    window = sorted(windows)[1]
    rng = random.Random(seed)
    partial = 0
    for trial in range(trials):
        path = tmp_path / f"t{trial}.sqlite"
        proc = _writer(path)
        assert proc.stdout.readline().strip() == "go"
        time.sleep(rng.uniform(0.0, 1.1 * window))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if path.exists():
            with warnings.catch_warnings():
                warnings.simplefilter("error", StoreWarning)  # a kill never damages a record
                store = Store(path, HEADER)
            before = set(store.results())
            store.close()
        else:
            before = set()
        partial += 0 < len(before) < len(GRID)
        resumed, computed = grid_run(path)
        assert resumed == clean                               # bit for bit
        assert len(computed) == len(set(computed))            # each missing point once
        assert not set(computed) & before                     # no stored point recomputed
        assert len(before) + len(computed) == len(GRID)
        again, computed = grid_run(path)
        assert computed == [] and again == clean              # nothing after the first resume
    return partial


def test_store_survives_sigkill_at_random_delays(tmp_path):
    partial = _fault_injection(tmp_path, trials=5, seed=13)
    assert partial >= 1            # the kills did land inside the writes


@pytest.mark.slow
def test_store_survives_sigkill_at_random_delays_many(tmp_path):
    partial = _fault_injection(tmp_path, trials=50, seed=1313)
    assert partial >= 10           # (machine load varies the write time)


def test_store_that_is_not_a_path_is_a_one_line_error():
    wire = qpcsim.Device(width=60.0, length=20.0, a=5.0,
                         potential=lambda x, y, Vg=0.0: Vg + 0 * x)
    with pytest.raises(ValueError, match=r"store=5 is not allowed: give a file path"):
        qpcsim.sweep(wire, {"Vg": [0.0, 0.1]}, energy=5.0, store=5, progress=False)


# ------------------------------------------------------------ --fresh says what it cleared
_TINY_SADDLE = ["qpc_saddle", "--set", "a=10", "--set", "W=150", "--set", "L=200",
                "--set", "hw_x=1.5", "--set", "hw_y=3", "--workers", "1", "--quiet"]


@pytest.mark.parametrize("command, store", [
    (["sweep", "--sweep", "V0=3:6:3", "--energy", "8", "--out", "{tmp}/g.nc"],
     "g.nc.points.sqlite"),
    pytest.param(["bias", "--sweep", "V0=3:6:2", "--bias", "-0.5:0.5:3", "--energy", "8",
                  "--resolution", "0.8", "--out", "{tmp}/map.png"], "map.points.sqlite",
                 marks=pytest.mark.slow)])         # ~9 s: two maps and their figures
def test_fresh_prints_that_it_cleared_the_store(command, store, tmp_path, capsys):
    """``sweep --fresh`` and ``bias --fresh`` (issue 26) both say which store they deleted
    and how many finished points it held; then every point is computed again."""
    from qpcsim.cli import main
    argv = [command[0], *_TINY_SADDLE, *[a.replace("{tmp}", str(tmp_path))
                                           for a in command[1:]]]
    assert main(argv) == 0
    points = 3 if command[0] == "sweep" else 2
    capsys.readouterr()
    assert main(argv + ["--fresh", "--force"]) == 0
    err = capsys.readouterr().err
    expected = (f"qpcsim {command[0]}: fresh start: deleted store="
                f"{str(tmp_path / store)!r} ({points} finished point(s))")
    assert expected in err
    assert (tmp_path / store).exists()          # the fresh run's own points are kept
