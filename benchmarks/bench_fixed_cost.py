"""Seconds before (and after) the first solve: the fixed cost of the README's CLI sweep.

Measured, each in a fresh process, for this checkout and (``--baseline DIR``) another
one, e.g. ``git archive 32164b6 | tar -x -C /tmp/base`` (the code before issue 24),
run by the same Python with ``PYTHONPATH=DIR``; the two are interleaved, round by
round, so that a change of the machine's load hits both alike:

* ``import qpcsim`` (wall and CPU seconds of the whole process, Python's own start-up
  included; ``python -c pass`` is printed for reference);
* ``qpcsim --version`` and ``qpcsim params qpc_hardwall``;
* the README's sweep with 2 points, ``qpcsim sweep geometries/qpc_split_gate.py --set
  d=60 --sweep Vg=-1.6:-0.2:2 --energy 8 --out F.nc`` on the default executor (all
  cores; a run this small solves in the CLI's own process, no pool): its wall time, the
  solve time (per process the sum of its points'
  ``worker(device, task)`` calls, the largest of these), and the fixed cost = wall -
  solve: imports, the device's build, worker start-up, store, NetCDF save, summary;
  and the fixed CPU seconds, CPU of all its processes minus the points' solve CPU
  (what a loaded machine's wall times hide).

* worker start-up: a fresh split-gate device on the 2-process pool through the executor
  API (no input check that would prepare it first): each worker's first solve (the
  largest; what the parent prepared before the fork, a worker does not repeat), and the
  executor's wall time for the first two points (the parent's preparation included).

Each tree's ``qpcsim`` is byte-compiled first (``compileall``), as ``pip install`` does: a
session with ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile its ~60 imported modules
from source in every run (0.1 s CPU, a cost no installed copy pays).

Prints min and median over ``--repeats`` rounds and a RESULTS.md row.
Usage: ``python benchmarks/bench_fixed_cost.py [--baseline DIR] [--repeats 5]``.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The sweep's measures: wall, CPU (all its processes), solve (wall, the busiest worker),
#: fixed = wall - solve, and fixed CPU = CPU - every point's solve CPU (robust to load).
MEASURES = {"wall": "wall", "cpu": "CPU", "solve": "solve", "fixed": "fixed (wall - solve)",
            "fixed_cpu": "fixed CPU (CPU - solves' CPU)"}
SWEEP = ["--set", "d=60", "--sweep", "Vg=-1.6:-0.2:2", "--energy", "8"]

#: Child of the sweep case: the CLI in this process, each point's solve timed where it
#: runs (forked workers inherit the wrapper; it keeps the name pickle looks up).
_CHILD = """
import os, sys, time
import qpcsim.engine.executors as ex
log, inner = os.environ["QPCSIM_BENCH_LOG"], ex._call
def _call(func, recipe, item):
    def timed(device, task):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return func(device, task)
        finally:
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()} {time.perf_counter() - start} "
                         f"{time.process_time() - cpu}\\n")
    return inner(timed, recipe, item)
_call.__module__, _call.__qualname__ = ex.__name__, "_call"
ex._call = _call
from qpcsim.cli import main
sys.exit(main())
"""


#: Child of the worker start-up case: each worker's first solve (what it inherits from the
#: parent's preparation before the fork, it does not repeat), and the pool's wall time.
_WORKERS = """
import json, time
import qpcsim
from qpcsim.engine.executors import DeviceRecipe, make_executor
from qpcsim.engine.points import solve_point
from qpcsim.engine.task import SweepTask
def first_solve(device, item):
    start = time.perf_counter()
    solve_point(device, item)
    return time.perf_counter() - start
device = qpcsim.load_geometry("qpc_split_gate", d=60)
tasks = [SweepTask(8.0, 0.0, "auto", {"Vg": v}, {}) for v in (-1.6, -0.2)]
start = time.perf_counter()
with make_executor(workers=2) as executor:
    firsts = [s for _, s in executor.imap_unordered(first_solve, DeviceRecipe(device), tasks)]
print(json.dumps([max(firsts), time.perf_counter() - start]))
"""


def run(code_dir: Path | None, argv: list[str], env_extra: dict | None = None) -> tuple:
    """(wall s, CPU s of the child and its children, returncode, stdout) of ``python argv``."""
    env = dict(os.environ, **(env_extra or {}))
    if code_dir is not None:
        env["PYTHONPATH"] = str(code_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *argv], env=env, capture_output=True, text=True,
                          cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout + proc.stderr


def sweep_case(code_dir: Path | None, tree: Path) -> dict:
    """Wall, solve and fixed seconds of the 2-point CLI sweep from a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "solves.txt"
        out = Path(tmp) / "F.nc"
        wall, cpu, code, text = run(code_dir, [
            "-c", _CHILD, "sweep", str(tree / "geometries" / "qpc_split_gate.py"), *SWEEP,
            "--out", str(out)], {"QPCSIM_BENCH_LOG": str(log)})
        if code != 0 or not out.exists():
            raise SystemExit(f"the sweep failed ({code}):\n{text}")
        per_worker: dict = {}
        solve_cpu = 0.0
        for line in log.read_text().split("\n"):
            if line:
                pid, seconds, cpu_seconds = line.split()
                per_worker[pid] = per_worker.get(pid, 0.0) + float(seconds)
                solve_cpu += float(cpu_seconds)
    solve = max(per_worker.values())
    return {"wall": wall, "cpu": cpu, "solve": solve, "fixed": wall - solve,
            "fixed_cpu": cpu - solve_cpu}


def one_round(trees: dict) -> dict:
    """Every case once for every tree (name -> (code_dir or None, tree root))."""
    out = {}
    for name, (code_dir, tree) in trees.items():
        row = {"python": run(code_dir, ["-c", "pass"])[:2],
               "import": run(code_dir, ["-c", "import qpcsim"])[:2]}
        wall, cpu, code, _ = run(code_dir, ["-m", "qpcsim.cli", "--version"])
        row["version"] = (wall, cpu) if code == 0 else None   # absent before issue 24
        wall, cpu, code, text = run(code_dir, ["-m", "qpcsim.cli", "params", "qpc_hardwall"])
        if code != 0:
            raise SystemExit(f"qpcsim params failed ({code}):\n{text}")
        row["params"] = (wall, cpu)
        row["sweep"] = sweep_case(code_dir, tree)
        wall, cpu, code, text = run(code_dir, ["-c", _WORKERS])
        if code != 0:
            raise SystemExit(f"the worker start-up case failed ({code}):\n{text}")
        row["worker_first"], row["pool_wall"] = json.loads(text.strip().splitlines()[-1])
        out[name] = row
    return out


def summarize(rounds: list, name: str) -> dict:
    """min and median of each measure of tree ``name`` over the rounds."""
    def stats(values):
        return (min(values), statistics.median(values)) if values else None
    rows = [r[name] for r in rounds]
    result = {}
    for case in ("python", "import", "version", "params"):
        if rows[0][case] is None:
            result[case] = None
            continue
        result[case] = {"wall": stats([r[case][0] for r in rows]),
                        "cpu": stats([r[case][1] for r in rows])}
    for measure in MEASURES:
        result[f"sweep_{measure}"] = stats([r["sweep"][measure] for r in rows])
    for measure in ("worker_first", "pool_wall"):
        result[measure] = stats([r[measure] for r in rows])
    return result


def fmt(pair) -> str:
    return "n/a" if pair is None else f"{pair[0]:.2f} / {pair[1]:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout (the code before)")
    parser.add_argument("--repeats", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--json", type=Path, help="also write the raw rounds here")
    args = parser.parse_args(argv)
    trees = {}
    if args.baseline is not None:
        trees["before"] = (args.baseline.resolve(), args.baseline.resolve())
    trees["after"] = (ROOT, ROOT)
    for _, tree in trees.values():
        compileall.compile_dir(str(tree / "qpcsim"), quiet=1)
    rounds = []
    for k in range(args.repeats):
        rounds.append(one_round(trees))
        print(f"round {k + 1}/{args.repeats}: load {os.getloadavg()[0]:.1f}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rounds, indent=1))
    print(f"{args.repeats} rounds, load average now {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; seconds, min / median")
    print("| case | " + " | ".join(trees) + " |")
    print("|---|" + "---|" * len(trees))
    sums = {name: summarize(rounds, name) for name in trees}
    for case, label in (("python", "`python -c pass`"), ("import", "`import qpcsim`"),
                        ("version", "`qpcsim --version`"), ("params", "`qpcsim params`")):
        for kind in ("wall", "cpu"):
            cells = [fmt(sums[n][case][kind]) if sums[n][case] else "n/a" for n in trees]
            print(f"| {label}, {kind} | " + " | ".join(cells) + " |")
    for measure in MEASURES:
        cells = [fmt(sums[n][f"sweep_{measure}"]) for n in trees]
        print(f"| 2-point CLI sweep, {MEASURES[measure]} | " + " | ".join(cells) + " |")
    for measure, label in (("worker_first", "worker start-up: a worker's first solve"),
                           ("pool_wall", "worker start-up: pool wall, first 2 points")):
        print(f"| {label} | " + " | ".join(fmt(sums[n][measure]) for n in trees) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
