"""A 2-worker sweep's start: seconds to its first finished point, its CPU, the parent's
work before the pool forks.

Each case runs ``qpcsim.sweep(device, {gate: 8 values}, workers=2)`` on a fresh, unbuilt
device in a fresh process, for this checkout and (``--baseline DIR``) another one (e.g.
``git archive main | tar -x -C /tmp/base``) run by the same Python with ``PYTHONPATH=DIR``,
interleaved round by round so that a change of the machine's load hits both alike:

* ``first``: wall seconds from the ``sweep(...)`` call to the first point the pool hands back;
* ``wall``: the whole sweep; ``cpu``: CPU seconds of the process and its workers in it;
* ``before_fork``: wall seconds of the parent's preparation before the pool forks
  (``executors._prepare_before_fork``; in older trees ``_build_before_fork``,
  Kwant's Builder).

Cases: the README's split gate (``d=60``, Vg -1.6..-0.2 V, 8 meV; 121 x 79 sites) and the
default ``qpc_saddle`` (V0 1..9 meV, 10 meV; 301 x 149 = 45k sites). ``--large`` also times
the parent's preparation alone, once per tree, at 500 x 1000 sites (``run.saddle(500, 1000)``
of bench_direct.py; slow: Kwant's Builder takes ~10 s there).

Prints min and median over ``--repeats`` rounds, of the ratio after / before per round too,
and the load average.
Usage: ``python benchmarks/bench_pool_start.py [--baseline DIR] [--repeats 3] [--large]``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: name -> (geometry, its parameters, swept gate, its 8 values, Fermi energy meV).
CASES = {"split gate": ("qpc_split_gate", {"d": 60}, "Vg", (-1.6, -0.2), 8.0),
         "saddle 45k": ("qpc_saddle", {}, "V0", (1.0, 9.0), 10.0)}
MEASURES = ("first", "wall", "cpu", "before_fork")

#: Child: one sweep on 2 workers, timed from inside (the executor's yields, the preparation).
_SWEEP = """
import json, resource, sys, time
import numpy as np
import qpcsim
import qpcsim.engine.executors as ex
name, params, gate, (lo, hi), energy = json.loads(sys.argv[1])
device = qpcsim.load_geometry(name, **params)
marks, prep = [], []
inner = ex._ProcessExecutor.imap_unordered
def imap(self, func, recipe, items):
    for pair in inner(self, func, recipe, items):
        marks.append(time.perf_counter())
        yield pair
ex._ProcessExecutor.imap_unordered = imap
hook = "_prepare_before_fork" if hasattr(ex, "_prepare_before_fork") else "_build_before_fork"
before = getattr(ex, hook)
def timed(*args):
    start = time.perf_counter()
    before(*args)
    prep.append(time.perf_counter() - start)
setattr(ex, hook, timed)
def cpu():
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))
cpu0, start = cpu(), time.perf_counter()
qpcsim.sweep(device, {gate: np.linspace(lo, hi, 8)}, energy=energy, workers=2, progress=False)
end = time.perf_counter()
print(json.dumps({"first": marks[0] - start, "wall": end - start, "cpu": cpu() - cpu0,
                  "before_fork": sum(prep)}))
"""

#: Child of ``--large``: the parent's preparation alone at 500 x 1000 sites.
_LARGE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from run import ENERGY, saddle
import qpcsim.engine.executors as ex
from qpcsim.engine.task import SweepTask
device = saddle(500, 1000)
hook = getattr(ex, "_prepare_before_fork", None) or ex._build_before_fork
start = time.perf_counter()
hook(ex.DeviceRecipe(device), SweepTask(ENERGY, 0.0, "auto", {"V0": 5.0}, {}))
print(json.dumps({"before_fork": time.perf_counter() - start}))
"""


def run_child(code_dir: Path, code: str, arg: str) -> dict:
    """The JSON line printed by ``python -c code arg`` with ``code_dir`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(code_dir))
    proc = subprocess.run([sys.executable, "-c", code, arg], env=env, capture_output=True,
                          text=True, cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise SystemExit(f"the child failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stats(values: list) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def sweep_table(trees: dict, repeats: int) -> None:
    """Every case ``repeats`` times per tree, interleaved; print min / median per measure."""
    rows = {(case, tree): [] for case in CASES for tree in trees}
    loads = []
    for k in range(repeats):
        for case, spec in CASES.items():
            for tree, path in trees.items():
                rows[case, tree].append(run_child(path, _SWEEP, json.dumps(spec)))
        loads.append(os.getloadavg()[0])
        print(f"round {k + 1}/{repeats}: load {loads[-1]:.1f}", file=sys.stderr)
    print(f"{repeats} rounds, load average {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores; seconds, min / median")
    ratio = len(trees) == 2   # after / before, round by round
    print("| case | measure | " + " | ".join(trees) + (" | ratio |" if ratio else " |"))
    print("|---|---|" + "---|" * (len(trees) + ratio))
    for case in CASES:
        for measure in MEASURES:
            cells = [stats([r[measure] for r in rows[case, tree]]) for tree in trees]
            if ratio:
                before, after = (rows[case, tree] for tree in trees)
                cells.append(stats([a[measure] / max(b[measure], 1e-9)
                                    for a, b in zip(after, before)]))
            print(f"| {case} | {measure} | " + " | ".join(cells) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout (the code before)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (default 3; 0: none)")
    parser.add_argument("--large", action="store_true", help="also time 500 x 1000 sites")
    args = parser.parse_args(argv)
    trees = {"after": ROOT}
    if args.baseline is not None:
        trees = {"before": args.baseline.resolve(), **trees}
    if args.repeats > 0:
        sweep_table(trees, args.repeats)
    if args.large:
        cells = [f"{run_child(path, _LARGE, str(ROOT / 'benchmarks'))['before_fork']:.2f}"
                 for path in trees.values()]
        print(f"| saddle 500 x 1000 | before_fork (one run, load {os.getloadavg()[0]:.1f}) | "
              + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
