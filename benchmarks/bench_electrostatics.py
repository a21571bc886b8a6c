"""Thomas–Fermi electrostatics: solve time per gate voltage (issue 11 targets: a 1 um x 1 um
window at 4 nm in <= 1 s cold and <= 0.3 s warm-started, one core), and the cost of a
self-consistent gate sweep relative to the bare-potential one.

Cases
-----
1. Split gate (gap 200 nm, gates 100 x 300 nm, d = 50 nm, n_s = 2e11 cm^-2) in a 1 um x
   1 um window at 4 nm (250 x 250 cells): cold solves at several voltages (median), then a
   sweep in 10 mV steps each warm-started from the previous one (median).
2. The demo geometries: ``qpc_split_gate_sc`` (self-consistent, Thomas-Fermi window
   1280 x 1600 nm at 4 nm) against ``qpc_split_gate`` (bare potential x lever arm) on the
   same lattice, the same number of gate points, serial (workers=1): the ratio of the
   sweep times.

BLAS and FFTs run on one thread. Usage: ``python benchmarks/bench_electrostatics.py [--quick]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import qpcsim
from qpcsim.electrostatics import Gate, Heterostructure, Layout, ThomasFermiProblem


def split_layout():
    return Layout([Gate("left", [(-50, 100), (50, 100), (50, 400), (-50, 400)]),
                   Gate("right", [(-50, -400), (50, -400), (50, -100), (-50, -100)])])


def tf_window_timing(quick: bool):
    het = Heterostructure(50.0, 2e11)
    t0 = time.perf_counter()
    prob = ThomasFermiProblem(split_layout(), het, (-500, 500, -500, 500), 4.0)
    setup = time.perf_counter() - t0
    volts = [-0.3, -0.6, -0.9] if quick else [-0.3, -0.5, -0.7, -0.9, -1.1]
    cold = []
    for v in volts:
        res = prob.solve({"left": v, "right": v}, influence_tolerance=1.0)
        cold.append((res.seconds, res.iterations, res.residual))
    warm = []
    prev = res
    for v in np.arange(-0.60, -0.60 - (0.1 if quick else 0.3), -0.01):
        res = prob.solve({"left": v, "right": v}, initial=prev, influence_tolerance=1.0)
        warm.append((res.seconds, res.iterations, res.residual))
        prev = res
    cold_t = np.median([c[0] for c in cold])
    warm_t = np.median([w[0] for w in warm])
    print(f"1 um x 1 um window at 4 nm ({prob.nx} x {prob.ny} cells; set-up {setup:.3f} s: "
          "kernel FFT, gate potentials)")
    print(f"  cold  : median {cold_t:.3f} s  (target <= 1 s),   iterations "
          f"{[c[1] for c in cold]}, max residual {max(c[2] for c in cold):.1e} meV")
    print(f"  warm  : median {warm_t:.3f} s  (target <= 0.3 s), iterations "
          f"{sorted({w[1] for w in warm})}, 10 mV steps, {len(warm)} solves")
    return cold_t, warm_t


def sweep_ratio(quick: bool):
    n = 11 if quick else 31
    sc = qpcsim.load_geometry("qpc_split_gate_sc")
    bare = qpcsim.load_geometry("qpc_split_gate")
    energy = sc.metadata["fermi_energy_meV"]
    v_sc = np.linspace(-2.2, -0.8, n)
    v_bare = np.linspace(-1.6, -0.2, n)
    qpcsim.solve(bare, energy=energy, Vg=-1.0)          # warm both: lead modes, builds
    qpcsim.solve(sc, energy=energy, Vg=-0.5)
    t0 = time.perf_counter()
    qpcsim.sweep(bare, over={"Vg": v_bare}, energy=energy, workers=1, progress=False)
    t_bare = time.perf_counter() - t0
    t0 = time.perf_counter()
    qpcsim.sweep(sc, over={"Vg": v_sc}, energy=energy, workers=1, progress=False)
    t_sc = time.perf_counter() - t0
    pot = sc.potential
    print(f"demo split gate, {n} gate points, serial: bare {t_bare:.2f} s "
          f"({1e3 * t_bare / n:.0f} ms/point), self-consistent {t_sc:.2f} s "
          f"({1e3 * t_sc / n:.0f} ms/point; {pot.solves} TF solves on "
          f"{pot.problem().nx} x {pot.problem().ny} cells)")
    print(f"  ratio self-consistent / bare sweep time: {t_sc / t_bare:.2f}")
    return t_sc / t_bare


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points")
    args = parser.parse_args()
    with threadpool_limits(1):
        tf_window_timing(args.quick)
        sweep_ratio(args.quick)


if __name__ == "__main__":
    main()
