"""Frozen-surface speed (issue 23): one self-consistent solve of the demo split gate, cold
and warm, on one core (one BLAS thread); a 41 x 41 pinch-off diagram of its two gates.

    python benchmarks/bench_pinchoff.py [--workers 2] [--points 41]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "geometries"))
import qpc_split_gate_sc as demo  # noqa: E402

from qpcsim.backends.assembly import single_threaded_blas  # noqa: E402
from qpcsim.electrostatics import Heterostructure, ThomasFermiProblem  # noqa: E402
from qpcsim.electrostatics.pinchoff import pinchoff_diagram  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--points", type=int, default=41)
    ap.add_argument("--resolution", type=float, default=8.0)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    lay = demo.layout()
    window = (-640, 640, -800, 800)              # the demo device's window (margin 400 nm)
    for surface in ("pinned", "frozen"):
        het = Heterostructure(50.0, 2.239e11, surface=surface)
        with single_threaded_blas():
            c0, t0 = time.process_time(), time.perf_counter()
            prob = ThomasFermiProblem(lay, het, window, 4.0)
            c1, t1 = time.process_time(), time.perf_counter()
            res = prob.solve({"left": -0.5, "right": -0.5})
            c2, t2 = time.process_time(), time.perf_counter()
            warm = prob.solve({"left": -0.51, "right": -0.51}, initial=res)
            c3, t3 = time.process_time(), time.perf_counter()
        print(f"{surface}: demo split gate, 4 nm cells ({prob.nx}x{prob.ny}), -0.5 V: "
              f"build {c1 - c0:.2f} s CPU ({t1 - t0:.2f} wall), cold solve {c2 - c1:.2f} s CPU "
              f"({t2 - t1:.2f} wall, {res.iterations} it), warm (10 mV) {c3 - c2:.2f} s CPU "
              f"({t3 - t2:.2f} wall, {warm.iterations} it); n(0,0) = "
              f"{res.density_cm2(0, 0):.4g} cm^-2")
    v = np.linspace(-2.0, 0.0, args.points)
    for surface in ("frozen",):
        het = Heterostructure(50.0, 2.239e11, surface=surface)
        d = pinchoff_diagram(lay, het, ("left", "right"), v, v, resolution_nm=args.resolution,
                             workers=args.workers)
        line = d.pinchoff_line()
        i = int(np.nanargmin(np.abs(line - v)))
        print(f"{surface}: {args.points}x{args.points} diagram, {args.resolution:g} nm cells, "
              f"{args.workers} workers: {d.seconds:.1f} s; pinch-off V_right = {line[i]:.3f} V at "
              f"V_left = {v[i]:.3f} V; gates deplete at {d.depletion_voltage(0):.3f} V")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
