"""Dask LocalCluster against the process pool on one machine (issue 24): wall and CPU
time of the same sweep, each run in a fresh Python process, interleaved.

Sweep: the README's split-gate sweep (``qpc_split_gate``, d = 60 nm, Vg from -1.6 to
-0.2 V, E = 8 meV) with ``--points`` gate values on ``--workers`` workers: the process
pool (``workers=N``) and a Dask LocalCluster (``scheduler="local"``: N worker processes
of one thread). Each trial is a fresh process (``--trial pool|dask``) that imports
qpcsim, loads the device and calls ``qpcsim.sweep``. Measured per trial: the wall time
of the sweep call (executor start, every point, executor close), the wall time of the
whole process, and its CPU time (user + sys of the process and of every child it
reaped: workers, and the LocalCluster's scheduler and nannies, which run in the
process itself), from ``os.wait4``. A trial that leaves a child process unreaped fails
(its CPU would be missing). Rounds alternate the order of the executors; the ratio of
each round is Dask / pool in that round, reported as min and median over rounds.
The conductances of every trial must be bit-identical to the first pool trial's.

``--baseline DIR`` adds trials of Dask from another qpcsim source tree (first on
``PYTHONPATH``), e.g. the code before issue 24:
``git archive 32164b6 qpcsim | tar -x -C /tmp/before``.

Usage: ``python benchmarks/bench_dask.py [--points 61] [--rounds 5] [--workers 2]``.

Measured (2 shared cores at load 8-13, 2026-12-06, medians of per-round ratios): Dask / pool
1.10x wall and 1.18x CPU at 61 points (before the fix: 2.95x and 2.50x), 1.00x and 1.18x at
141 points; details in ``benchmarks/RESULTS.md``, "Dask LocalCluster vs the process pool".
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GEOMETRY, FIXED, ENERGY_MEV, GATE_V = "qpc_split_gate", {"d": 60.0}, 8.0, (-1.6, -0.2)


def trial(mode: str, points: int, workers: int) -> dict:
    """One sweep in this process (a fresh one): timings and the conductances' hash."""
    start = time.perf_counter()
    import psutil

    import qpcsim
    device = qpcsim.load_geometry(GEOMETRY, **FIXED)
    executor = {"workers": workers} if mode == "pool" else {"workers": workers,
                                                            "scheduler": "local"}
    if mode == "dask":
        import distributed  # noqa: F401 - its import is part of Dask's cost, timed here
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    result = qpcsim.sweep(device, {"Vg": np.linspace(*GATE_V, points)}, energy=ENERGY_MEV,
                          progress=False, **executor)
    sweep_s = time.perf_counter() - t0
    # multiprocessing's resource tracker (spawned workers start one) lives until this
    # process exits: its CPU (milliseconds) is not counted. Any other child would be.
    left = [p.cmdline() for p in psutil.Process().children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]
    if left:
        raise SystemExit(f"{mode}: child process(es) left unreaped: {left}")
    conductance = np.ascontiguousarray(result.conductance.values)
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return {"sweep_s": sweep_s, "setup_s": t0 - start, "executor": result.attrs["executor"],
            "parent_cpu_s": own.ru_utime + own.ru_stime, "before_sweep_cpu_s": cpu_before,
            "workers_cpu_s": children.ru_utime + children.ru_stime,
            "G_sha256": hashlib.sha256(conductance.tobytes()).hexdigest()}


def run_trial(mode: str, points: int, workers: int, pythonpath: str | None = None) -> dict:
    """``trial`` in a fresh process: its record plus process wall and CPU (s)."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    command = [sys.executable, __file__, "--trial", "pool" if mode == "pool" else "dask",
               "--points", str(points), "--workers", str(workers)]
    with tempfile.TemporaryFile("w+") as errors:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors,
                                text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)   # its CPU and its reaped children's
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"trial {mode} failed ({proc.returncode}):\n{errors.read()[-3000:]}")
    record = json.loads(out.strip().splitlines()[-1])
    record.update(mode=mode, process_s=wall, cpu_s=usage.ru_utime + usage.ru_stime)
    return record


def _summary(records: list[dict], modes: list[str]) -> str:
    lines = [f"{'mode':<12}{'sweep wall s':>22}{'process wall s':>22}{'CPU s':>22}",
             f"{'':<12}{'min / median':>22}{'min / median':>22}{'min / median':>22}"]
    for mode in modes:
        rows = [r for r in records if r["mode"] == mode]
        cells = [f"{min(v):.2f} / {np.median(v):.2f}"
                 for v in ([r[k] for r in rows] for k in ("sweep_s", "process_s", "cpu_s"))]
        lines.append(f"{mode:<12}" + "".join(f"{c:>22}" for c in cells))
    for mode in modes[1:]:
        for key in ("sweep_s", "process_s", "cpu_s"):
            ratios = [d[key] / p[key] for p, d in zip(
                [r for r in records if r["mode"] == "pool"],
                [r for r in records if r["mode"] == mode])]
            lines.append(f"{mode} / pool, {key[:-2]:<8} per round: min {min(ratios):.3f}, "
                         f"median {np.median(ratios):.3f} ({len(ratios)} rounds)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=61, help="gate values of the sweep")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", help="another qpcsim source tree: its Dask trials too")
    parser.add_argument("--trial", choices=["pool", "dask"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trial:
        print(json.dumps(trial(args.trial, args.points, args.workers)))
        return 0
    modes = ["pool", "dask"] + (["dask-before"] if args.baseline else [])
    print(f"{GEOMETRY} {FIXED}, {args.points} points, {args.workers} workers, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    records = []
    for number in range(args.rounds):
        order = modes[number % len(modes):] + modes[:number % len(modes)]
        for mode in order:
            path = str(Path(args.baseline).resolve()) if mode == "dask-before" else None
            record = run_trial(mode, args.points, args.workers, path)
            records.append(record)
            print(f"round {number} {mode:<12} sweep {record['sweep_s']:6.2f} s  process "
                  f"{record['process_s']:6.2f} s  CPU {record['cpu_s']:6.2f} s (parent "
                  f"{record['before_sweep_cpu_s']:.2f} before the sweep + "
                  f"{record['parent_cpu_s'] - record['before_sweep_cpu_s']:.2f} in it, "
                  f"workers {record['workers_cpu_s']:.2f})", flush=True)
    reference = records[0]["G_sha256"] if records[0]["mode"] == "pool" else \
        next(r["G_sha256"] for r in records if r["mode"] == "pool")
    assert all(r["G_sha256"] == reference for r in records), "conductances differ"
    print(_summary(records, modes))
    print(f"conductances bit-identical across all {len(records)} trials; load average "
          f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
