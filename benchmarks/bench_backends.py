"""Fast-path back ends raced: MUMPS Schur complement against recursive Green's
functions (RGF), and which one ``backend="auto"`` picks.

Cases: the saddle QPC of benchmarks/run.py (a = 2 nm) at W in {25, 50, 100, 200}
sites with L = 2W, a short wide one (100 x 30 sites), Zeeman-resolved saddles
(two orbitals per site, W in {25, 50, 100}), and long narrow disordered wires
(W = 100 nm, a = 5 nm, L from 500 to 4000 nm). Per point: the same energy, the gate (V0, or the disorder
strength of the wire) changed every point, so nothing is cached beyond what a
sweep caches (lead modes, MUMPS analysis). Times are ``FastSolver.smatrix`` on
one core, median over the points after one warm-up call. Both back ends must
give the same complex S-matrix (they share the lead modes) and transmission
eigenvalues, to 1e-10.

Usage: ``python benchmarks/bench_backends.py [--quick]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qpcsim  # noqa: E402
from qpcsim.backends import FastSolver, choose_backend  # noqa: E402

from run import A, ENERGY, HW_X, HW_Y, saddle  # noqa: E402 - the reference saddle of run.py

TOL = 1e-10


def transmission_eigenvalues(smat, nprop):
    t = smat[nprop[0]:, :nprop[0]]
    return np.sort(np.linalg.svd(t, compute_uv=False) ** 2)


def race(device, energy_meV, gate, values, label):
    """Median seconds per point of each back end, and the largest deviation."""
    energy = energy_meV / device.t
    params = [device.resolve_params({gate: v}) for v in values]
    out, times = {}, {}
    for backend in ("mumps", "rgf"):
        solver = FastSolver(device, backend=backend)
        solver.smatrix(energy, device.resolve_params({gate: values[0] - 0.05}))  # warm-up
        res, dt = [], []
        for p in params:
            t0 = time.perf_counter()
            smat = solver.smatrix(energy, p)
            res.append((smat.data, smat.nprop))
            dt.append(time.perf_counter() - t0)
        out[backend], times[backend] = res, float(np.median(dt))
    dev = 0.0
    for (sm, nm), (sr, nr) in zip(out["mumps"], out["rgf"]):
        assert nm == nr
        dev = max(dev, np.abs(sm - sr).max(),    # same lead modes: the complex S-matrix
                  np.abs(transmission_eigenvalues(sm, nm) - transmission_eigenvalues(sr, nr)).max())
    assert dev < TOL, f"{label}: back ends differ by {dev:.2e}"
    auto = choose_backend(device.nx, device.ny, device.norbs)
    best = min(times, key=times.get)
    ok = times[auto] <= 1.1 * times[best]
    print(f"{label:<28} {device.nx:>5} {device.ny:>4} {1e3 * times['mumps']:>10.2f} "
          f"{1e3 * times['rgf']:>9.2f} {times['mumps'] / times['rgf']:>7.2f}  {auto:<6}"
          f"{'' if ok else ' (slower by %.0f %%)' % (100 * (times[auto] / times[best] - 1))}"
          f"  {dev:.1e}", flush=True)
    return times, auto, ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and sizes")
    args = ap.parse_args(argv)
    from qpcsim.backends.blas import blas_report, format_blas_report
    print("\n".join(format_blas_report(blas_report())[:-1]))
    print(f"{'case':<28} {'nx':>5} {'ny':>4} {'MUMPS ms':>10} {'RGF ms':>9} "
          f"{'M/R':>7}  auto   max|dev|")
    all_ok = True
    widths = (25, 50, 100) if args.quick else (25, 50, 70, 100, 200)
    for w in widths:
        n = 3 if w >= 200 else (5 if w >= 100 else 9)
        dev = saddle(w, 2 * w)
        _, _, ok = race(dev, ENERGY, "V0", np.linspace(3.0, 7.0, n), f"saddle W={w} L={2 * w}")
        all_ok &= ok
    short = qpcsim.load_geometry("qpc_saddle", a=A, W=A * 101, L=A * 29, hw_x=HW_X, hw_y=HW_Y)
    _, _, ok = race(short, ENERGY, "V0", np.linspace(3.0, 7.0, 5), "short wide W=100 L=30")
    all_ok &= ok
    for w in ((25, 50) if args.quick else (25, 50, 100)):
        dev = qpcsim.load_geometry("qpc_saddle", a=A, W=A * (w + 1), L=A * (2 * w - 1),
                                   hw_x=HW_X, hw_y=HW_Y, zeeman=True)
        _, _, ok = race(dev, ENERGY, "V0", np.linspace(3.0, 7.0, 5 if w >= 100 else 9),
                        f"Zeeman saddle W={w} L={2 * w}")
        all_ok &= ok
    lengths = (500, 2000) if args.quick else (500, 1000, 2000, 4000)
    for length in lengths:
        dev = qpcsim.load_geometry("disordered_wire", W=100.0, a=5.0, L=float(length), seed=3)
        th = dev.transverse_mode_energies()
        energy = 0.5 * (th[5] + th[6])
        _, _, ok = race(dev, energy, "disorder", np.linspace(10.0, 12.0, 9),
                        f"wire W=100nm L={length}nm")
        all_ok &= ok
    print("auto within 10 % of the faster back end on every case:", all_ok)


if __name__ == "__main__":
    main()
