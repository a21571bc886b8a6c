"""Hot-path leftovers of issue 24: one run of each case, seconds on stdout (JSON).

* ``thermal``: a thermal gate sweep of the bundled ``qpc_split_gate`` (6 Vg in
  [-0.6, -0.4] V, E = 5 meV, T = 0.1 K, one worker, auto back end: rgf-parity). The
  sweep runs twice on one device, on other gate values the second time: ``cold``
  includes the build, ``warm`` is a sweep on a device that is already solving. The
  region's mirror check runs once per gate point (``--checks cached``) or at every
  energy (``--checks full``: ``mirror_check.MIRROR_CHECKS_KEPT = 0``, the check of
  before the cache, bit for bit the same results).
* ``model``: ``nqpc_s`` (BdG, 7498 orbitals) loaded, built and swept over 4 gate
  values V0 with ``mumps`` at the showcase energy: the build's Hermiticity check and the
  assembly share one evaluation of the region's Hamiltonian.

Interleave runs in separate processes (the driver below, or a shell loop that alternates
an older checkout on ``PYTHONPATH``) and compare min/median: the machine is shared.

Usage: ``python benchmarks/bench_hotpath.py thermal [--checks full]`` or
``python benchmarks/bench_hotpath.py model``; ``--repeat N`` runs the cases N times
interleaved, each in its own process, and prints min/median.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

import qpcsim
from qpcsim.backends import mirror_check


def _clock() -> tuple:
    """(wall, CPU) seconds: on a loaded machine the CPU time of this one-worker process
    is the steadier number."""
    return time.perf_counter(), time.process_time()


def _since(start: tuple, label: str) -> dict:
    wall, cpu = _clock()
    return {label: wall - start[0], f"{label}_cpu": cpu - start[1]}


def thermal(checks: str) -> dict:
    """Seconds (wall, CPU) of a cold and a warm 6-point thermal sweep (T = 0.1 K)."""
    if checks == "full":
        mirror_check.MIRROR_CHECKS_KEPT = 0
    device = qpcsim.load_geometry("qpc_split_gate")
    out = {}
    for label, gates in (("cold", np.linspace(-0.6, -0.4, 6)),
                         ("warm", np.linspace(-0.59, -0.41, 6))):
        start = _clock()
        qpcsim.sweep(device, over={"Vg": gates}, energy=5.0, temperature=0.1, workers=1,
                     progress=False)
        out.update(_since(start, label))
    return out


def model() -> dict:
    """Seconds (wall, CPU) to load and build ``nqpc_s`` and sweep 4 gate values on ``mumps``."""
    start = _clock()
    device = qpcsim.load_geometry("nqpc_s")
    device.build()
    out = _since(start, "build")
    built = _clock()
    energy = device.metadata["energy_meV"]
    for v0 in np.linspace(0.0, 1.5, 4):
        qpcsim.solve(device, energy, method="mumps", V0=v0)
    return {**out, **_since(built, "sweep"), **_since(start, "total")}


def _driver(cases: list, repeat: int) -> None:
    """Each case ``repeat`` times, interleaved, in fresh processes; min/median per number."""
    runs = {case: [] for case in cases}
    for _ in range(repeat):
        for case in cases:
            line = subprocess.run([sys.executable, __file__, *case.split()], check=True,
                                  capture_output=True, text=True).stdout.strip().splitlines()[-1]
            runs[case].append(json.loads(line))
    for case, results in runs.items():
        summary = {k: (min(r[k] for r in results), statistics.median(r[k] for r in results))
                   for k in results[0]}
        print(case, " ".join(f"{k} {lo:.3f}/{med:.3f} s" for k, (lo, med) in summary.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("thermal", "model"))
    parser.add_argument("--checks", choices=("cached", "full"), default="cached")
    parser.add_argument("--repeat", type=int, default=0)
    args = parser.parse_args()
    if args.repeat:
        cases = (["thermal --checks cached", "thermal --checks full"] if args.case == "thermal"
                 else ["model"])
        _driver(cases, args.repeat)
        return
    print(json.dumps(thermal(args.checks) if args.case == "thermal" else model()))


if __name__ == "__main__":
    main()
