"""The direct (MUMPS) path of issue 24: ``mumps-sigma`` against the other back ends,
Kwant, and the least-work flop floor.

Sections (``--sections``, default all):

* ``race``: saddles W x L (benchmarks/run.py, a = 2 nm, B = 0): ms per point of
  rgf-parity, mumps, mumps-sigma and ``auto``, interleaved in rotating order, best of
  ``--repeats`` per point, median over ``--points`` gate points; max |dS| against mumps.
* ``kwant``: per point against best-practice Kwant (run.py's ``run_best_practice``),
  interleaved the same way; conductances must agree to 1e-10.
* ``floor``: the least-work floor of each ``--widths`` W x 2W (the headline: 100): MUMPS's own operation count
  (RINFOG(3)) of the factorization of the complex Kwant matrix (H - E, no Schur option,
  so MUMPS honours the ordering: PORD, its built-in nested dissection; METIS is not in
  Debian's sequential MUMPS) divided by the zgemm rate measured in the same run
  (2 n^3 MUMPS operations per n x n complex product, one thread); also the real LDL^T
  floor (dgemm rate). Ratio = floor / auto's measured ms (and / rgf-parity's, the previous
  auto, interleaved with it).
* ``large``: one 500 x 1000 device, s per point (auto; with ``--compare`` also mumps,
  the previous pick, interleaved per point) and the process's peak memory (run it
  without ``--compare`` for auto's own peak).

Usage: ``python benchmarks/bench_direct.py [--sections race,kwant,floor,large]
[--widths 60 100 200] [--points 3] [--repeats 2]``. Prints the load average: the
machine is shared, only interleaved ratios mean something.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qpcsim  # noqa: E402
from qpcsim.backends import FastSolver  # noqa: E402

from run import ENERGY, best_practice_system, run_best_practice, saddle  # noqa: E402

BACKENDS = ("rgf-parity", "rgf-sigma", "mumps", "mumps-sigma", "auto")
GATES = np.linspace(3.0, 7.0, 8)


def interleaved(calls: dict, args_list, repeats: int) -> tuple[dict, list]:
    """Median over ``args_list`` of the best of ``repeats`` calls of each of ``calls``,
    in rotating order (ms), and every call's last output per argument."""
    names = tuple(calls)
    best = {n: [] for n in names}
    outputs = []
    for k, arg in enumerate(args_list):
        t, out = {n: np.inf for n in names}, {}
        for r in range(repeats):
            shift = (k + r) % len(names)
            for n in names[shift:] + names[:shift]:
                t0 = time.perf_counter()
                out[n] = calls[n](arg)
                t[n] = min(t[n], time.perf_counter() - t0)
        for n in names:
            best[n].append(t[n])
        outputs.append(out)
    return {n: 1e3 * float(np.median(x)) for n, x in best.items()}, outputs


def race(width, length, points, repeats):
    device = saddle(width, length)
    energy = ENERGY / device.t
    solvers = {b: FastSolver(device, backend=b) for b in BACKENDS}
    calls = {b: (lambda p, s=s: s.smatrix(energy, p)) for b, s in solvers.items()}
    params = [device.resolve_params({"V0": v}) for v in GATES[:points]]
    for call in calls.values():
        call(params[0])   # warm-up: lead modes, analysis
    ms, outputs = interleaved(calls, params, repeats)
    ds = max(np.abs(o[b].data - o["mumps"].data).max() for o in outputs for b in BACKENDS)
    assert ds < 1e-10, f"{width} x {length}: S differs from mumps by {ds:.1e}"
    ran = outputs[-1]["auto"].backend
    print(f"{width:>4} x {length:<5} " + " ".join(f"{ms[b]:>10.1f}" for b in BACKENDS)
          + f"  {ms['rgf-parity'] / ms['mumps-sigma']:>6.2f}  {ran:<12} {ds:.1e}", flush=True)


def against_kwant(width, points, repeats):
    device = saddle(width, 2 * width)
    fsyst_xy = best_practice_system(device)
    calls = {"kwant": lambda v: run_best_practice(device, fsyst_xy, [v])[0][0],
             "rgf-parity": lambda v: qpcsim.solve(device, ENERGY, V0=v,
                                                  method="rgf-parity").conductance,
             "auto": lambda v: qpcsim.solve(device, ENERGY, V0=v).conductance}
    for call in calls.values():
        call(GATES[0])
    ms, outputs = interleaved(calls, GATES[:points], repeats)
    dg = max(abs(o[n] - o["kwant"]) for o in outputs for n in calls)
    assert dg < 1e-10, f"W={width}: conductances differ by {dg:.1e}"
    ran = qpcsim.solve(device, ENERGY, V0=5.0).solver
    print(f"{width:>4} x {2 * width:<5} {ms['kwant']:>9.1f} {ms['rgf-parity']:>9.1f} "
          f"{ms['auto']:>9.1f} {ms['kwant'] / ms['rgf-parity']:>7.2f} "
          f"{ms['kwant'] / ms['auto']:>7.2f}  {ran:<17} {dg:.1e}", flush=True)


def gemm_rate(dtype, n=600, repeats=5) -> float:
    """MUMPS operations per second of one n x n product on one thread (2 n^3 per product)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    if np.iscomplexobj(a):
        a, b = a + 1j * b, b - 1j * a
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def factorization_ops(device, real: bool) -> tuple[float, str]:
    """MUMPS's operation count (RINFOG(3)) of the factorization of H - E at V0 = 5 with
    PORD (no Schur option: MUMPS honours the ordering), and the ordering it reports."""
    import mumps

    assembly = FastSolver(device, backend="mumps").assembly
    params = device.resolve_params({"V0": 5.0})
    values = assembly.system_values(ENERGY / device.t, params)
    row, col = assembly.sys_row, assembly.sys_col
    if real:   # B = 0: real symmetric, LDL^T on the upper triangle
        keep = row <= col
        values, row, col = values[keep].real, row[keep], col[keep]
    n = assembly.n_sys
    context = mumps.Context()
    context.set_matrix(sp.coo_array((values, (row, col)), shape=(n, n)), symmetric=real)
    context.factor(ordering="pord")
    return float(context.mumps_instance.rinfog[3]), context.analysis_stats.ordering


def floor(width, points, repeats):
    device = saddle(width, 2 * width)
    auto, previous = FastSolver(device), FastSolver(device, "rgf-parity")
    energy = ENERGY / device.t
    params = [device.resolve_params({"V0": v}) for v in GATES[:points]]
    auto.smatrix(energy, params[0])
    previous.smatrix(energy, params[0])
    # rgf-parity (auto before rgf-sigma) interleaved with auto: the ratio of the two
    ms, outputs = interleaved({"auto": lambda p: auto.smatrix(energy, p),
                               "rgf-parity": lambda p: previous.smatrix(energy, p)},
                              params, repeats)
    for real, dtype in ((False, np.complex128), (True, np.float64)):
        ops, ordering = factorization_ops(device, real)
        rate = gemm_rate(dtype)
        floor_ms = 1e3 * ops / rate
        label = "real LDL^T" if real else "complex LU"
        print(f"{width:>4} x {2 * width:<5} {label:<11} {ordering:<6} {ops:>10.3g} "
              f"{rate / 1e9:>8.2f} {floor_ms:>9.2f} {ms['auto']:>9.2f} "
              f"{floor_ms / ms['auto']:>7.1%}  {outputs[-1]['auto'].backend:<10} "
              f"{ms['rgf-parity']:>9.2f} {floor_ms / ms['rgf-parity']:>7.1%}", flush=True)


def large(width, length, points, compare, with_kwant=False):
    t0 = time.perf_counter()
    device = saddle(width, length)
    energy = ENERGY / device.t
    names = ("auto", "mumps") if compare else ("auto",)
    solvers = {n: FastSolver(device, backend=n) for n in names}
    print(f"{width} x {length}: build {time.perf_counter() - t0:.1f} s", flush=True)
    gates = GATES[:points + 1]
    calls = {n: (lambda v, s=s: s.smatrix(energy, device.resolve_params({"V0": v})))
             for n, s in solvers.items()}
    if with_kwant:   # best-practice Kwant on the same device (its own Builder, timed apart)
        t0 = time.perf_counter()
        fsyst_xy = best_practice_system(device)
        print(f"  kwant: build {time.perf_counter() - t0:.1f} s", flush=True)
        calls["kwant"] = lambda v: run_best_practice(device, fsyst_xy, [v])
        names = names + ("kwant",)
    for n, call in calls.items():
        t0 = time.perf_counter()
        out = call(gates[0])
        about = (f"({out.backend}): first point {time.perf_counter() - t0:.2f} s (lead modes, "
                 f"analysis); unitarity {out.unitarity_error:.1e}" if n != "kwant" else
                 f": first point {time.perf_counter() - t0:.2f} s")
        print(f"  {n:<6} {about}", flush=True)
    times = {n: [] for n in names}
    for k, v in enumerate(gates[1:]):   # interleaved, rotating order
        for n in names[k % len(names):] + names[:k % len(names)]:
            t0 = time.perf_counter()
            calls[n](v)
            times[n].append(time.perf_counter() - t0)
    for n, t in times.items():
        print(f"  {n:<6} later points: min {min(t):.2f} s, median {np.median(t):.2f} s "
              f"({', '.join(f'{x:.2f}' for x in t)})", flush=True)
    for other in ("mumps", "kwant"):
        if other in times:
            ratio = np.array(times[other]) / np.array(times["auto"])
            print(f"  {other} / auto per point: min {ratio.min():.2f}, "
                  f"median {np.median(ratio):.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"  peak memory of this process {peak:.2f} GiB", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default="race,kwant,floor,large")
    ap.add_argument("--widths", type=int, nargs="*", default=[60, 100, 150, 200])
    ap.add_argument("--long", type=int, nargs="*", default=[],
                    help="extra race cases W x 8W (long devices)")
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--large", type=int, nargs=2, default=[500, 1000])
    ap.add_argument("--compare", action="store_true", help="large: also time mumps")
    ap.add_argument("--kwant", action="store_true",
                    help="large: also time best-practice Kwant (kwant.smatrix) per point")
    args = ap.parse_args(argv)
    sections = args.sections.split(",")
    print(f"load average at start {os.getloadavg()[0]:.1f}; one BLAS thread")
    with threadpool_limits(1):
        if "race" in sections:
            print(f"{'W x L':<12}" + " ".join(f"{b:>10}" for b in BACKENDS)
                  + "  par/sig  auto ran     max|dS|  (ms per point)")
            for w in args.widths:
                race(w, 2 * w, args.points, args.repeats)
            for w in args.long:
                race(w, 8 * w, args.points, args.repeats)
        if "kwant" in sections:
            print(f"{'W x L':<12} {'Kwant bp':>9} {'parity':>9} {'auto':>9} {'K/par':>7} "
                  f"{'K/auto':>7}  auto ran          max|dG|  (ms per point)")
            for w in (100, 200):
                against_kwant(w, args.points, args.repeats)
        if "floor" in sections:
            print(f"{'W x L':<12} {'floor of':<11} {'order':<6} {'MUMPS ops':>10} "
                  f"{'Gop/s':>8} {'floor ms':>9} {'auto ms':>9} {'ratio':>7}  {'auto ran':<10} "
                  f"{'parity ms':>9} {'ratio':>7}")
            for w in args.widths:   # the headline: --widths 100 (auto: rgf-sigma)
                floor(w, args.points, args.repeats)
        if "large" in sections:
            large(*args.large, max(args.points, 2), args.compare, args.kwant)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
