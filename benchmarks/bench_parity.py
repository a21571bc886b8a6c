"""rgf-parity against rgf-mirror and MUMPS, per point, and what ``auto`` runs.

Cases: the bundled geometries at their default lattices (B = 0, gate changed
every point) and saddles of 20 .. 200 sites across (benchmarks/run.py's saddle
at a = 2 nm, L = 2 W). Times are ``FastSolver.smatrix`` on one core: per point
the best of ``--repeats`` calls, then the median over the points, after one
warm-up call; the back ends run interleaved in rotating order, so a drift of the
load hits them alike. rgf-parity must equal MUMPS to 1e-10 (printed: max|dS|).
The ``auto`` column is the back end the size rule (backends/registry.py) ran.

Usage: ``python benchmarks/bench_parity.py [--quick] [--points N] [--repeats R]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qpcsim  # noqa: E402
from qpcsim.backends import FastSolver  # noqa: E402

from bench_mirror import GATES, QUICK, energy_of  # noqa: E402
from run import ENERGY, saddle  # noqa: E402

BACKENDS = ("rgf-mirror", "rgf-parity", "mumps")


def race(device, energy_meV, gate, values, label, repeats):
    energy = energy_meV / device.t
    solvers = {b: FastSolver(device, backend=b) for b in BACKENDS}
    auto = FastSolver(device)
    warm = device.resolve_params({gate: values[0]})
    for s in list(solvers.values()) + [auto]:
        s.smatrix(energy, warm)
    times = {b: [] for b in BACKENDS}
    dev = 0.0
    for k, v in enumerate(values):
        params = device.resolve_params({gate: v})
        out, best = {}, {b: np.inf for b in BACKENDS}
        for r in range(repeats):
            shift = (k + r) % len(BACKENDS)
            for b in BACKENDS[shift:] + BACKENDS[:shift]:
                t0 = time.perf_counter()
                out[b] = solvers[b].smatrix(energy, params)
                best[b] = min(best[b], time.perf_counter() - t0)
        for b in BACKENDS:
            times[b].append(best[b])
        used = out["rgf-parity"].backend            # the path that ran the point
        dev = max(dev, np.abs(out["rgf-parity"].data - out["mumps"].data).max())
        auto_used = auto.smatrix(energy, params).backend
    assert dev < 1e-10, f"{label}: rgf-parity differs from MUMPS by {dev:.1e}"
    ms = {b: 1e3 * float(np.median(t)) for b, t in times.items()}
    print(f"{label:<28} {device.nx:>4} {device.ny:>4} {ms['rgf-mirror']:>8.2f} "
          f"{ms['rgf-parity']:>8.2f} {ms['mumps']:>8.2f} "
          f"{ms['rgf-mirror'] / ms['rgf-parity']:>6.2f} {ms['mumps'] / ms['rgf-parity']:>6.2f}  "
          f"{used:<11}{auto_used:<11}{dev:.1e}", flush=True)
    return ms


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small lattices (seconds)")
    ap.add_argument("--points", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--widths", type=int, nargs="*", default=None,
                    help="saddle widths in sites (length 2 W; default 20 .. 200)")
    ap.add_argument("--geometries-only", action="store_true", help="no saddles")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; ms per point (median of best of "
          f"{args.repeats}); ratios > 1: rgf-parity faster")
    print(f"{'case':<28} {'nx':>4} {'ny':>4} {'mirror':>8} {'parity':>8} {'MUMPS':>8} "
          f"{'Mi/P':>6} {'MU/P':>6}  parity ran auto ran   max|dS|")
    if args.widths is None or args.geometries_only:
        for name, (gate, (lo, hi)) in GATES.items():
            kwargs = QUICK[name] if args.quick else {}
            if name == "disordered_wire":
                kwargs = {**kwargs, "seed": 3}
            device = qpcsim.load_geometry(name, **kwargs)
            race(device, energy_of(device), gate, np.linspace(lo, hi, args.points), name,
                 args.repeats)
    widths = args.widths or ((20, 50) if args.quick else (20, 40, 60, 100, 150, 200))
    if args.geometries_only:
        widths = ()
    for w in widths:
        race(saddle(w, 2 * w), ENERGY, "V0", np.linspace(3.0, 7.0, args.points),
             f"saddle {w}x{2 * w}", args.repeats)


if __name__ == "__main__":
    main()
