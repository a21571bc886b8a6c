"""Headline ratios against best-practice Kwant, measured interleaved in one run.

For the reference saddle (benchmarks/run.py: W x 2W sites, a = 2 nm) at W = 100
(headline) and W = 200: per gate point, best-practice Kwant (``run.py``'s
``run_best_practice``: potential once per point, ``in_leads=[0], out_leads=[1]``)
and ``qpcsim.solve`` with ``auto`` and with the previous automatic choice
(``rgf-mirror``), each point in rotating order, best of ``--repeats`` per point,
median over the points. Ratios are Kwant / qpcsim; conductances must agree to
1e-10. The load average is printed: the machine is shared.

Usage: ``python benchmarks/bench_headline.py [--widths 100 200] [--points 4] [--repeats 2]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qpcsim  # noqa: E402

from run import ENERGY, best_practice_system, run_best_practice, saddle  # noqa: E402


def _runners(device):
    fsyst_xy = best_practice_system(device)

    def kwant_point(v0):
        return run_best_practice(device, fsyst_xy, [v0])[0][0]

    def fast(method):
        return lambda v0: qpcsim.solve(device, ENERGY, V0=v0, method=method).conductance

    runners = {"kwant": kwant_point, "auto": fast("auto"), "rgf-mirror": fast("rgf-mirror")}
    for run in runners.values():
        run(3.0)   # warm-up: build, lead modes, analysis
    return runners


def race(width, points, repeats):
    device = saddle(width, 2 * width)
    runners = _runners(device)
    names = tuple(runners)
    best = {n: [] for n in names}
    dev = 0.0
    for k, v0 in enumerate(np.linspace(3.0, 7.0, points)):
        t = {n: np.inf for n in names}
        out = {}
        for r in range(repeats):
            shift = (k + r) % len(names)
            for n in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                out[n] = runners[n](v0)
                t[n] = min(t[n], time.perf_counter() - t0)
        for n in names:
            best[n].append(t[n])
        dev = max(dev, abs(out["auto"] - out["kwant"]), abs(out["rgf-mirror"] - out["kwant"]))
    assert dev < 1e-10, f"W={width}: conductances differ by {dev:.1e}"
    ms = {n: 1e3 * float(np.median(x)) for n, x in best.items()}
    ran = qpcsim.solve(device, ENERGY, V0=5.0).solver
    print(f"{width:>4} x {2 * width:<5} {ms['kwant']:>9.1f} {ms['rgf-mirror']:>9.2f} "
          f"{ms['auto']:>9.2f} {ms['kwant'] / ms['rgf-mirror']:>8.2f} "
          f"{ms['kwant'] / ms['auto']:>8.2f}  {ran:<17} {dev:.1e}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="*", default=[100, 200])
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    print(f"load average at start {os.getloadavg()[0]:.1f}; ms per point, one BLAS thread")
    print(f"{'W x L':<12} {'Kwant bp':>9} {'mirror':>9} {'auto':>9} {'K/mirror':>8} "
          f"{'K/auto':>8}  auto ran           max|dG|")
    with threadpool_limits(1):
        for width in args.widths:
            race(width, args.points, args.repeats)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
