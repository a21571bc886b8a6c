"""Electrostatics speed (issues 23 and 24), measured in one run on one core (one BLAS/FFT
thread): one self-consistent solve of the demo split gate, cold (operator build + solve) and
warm (10 mV step), pinned and frozen surface; the self-consistent demo sweep
(``qpc_split_gate_sc``) against the bare one (``qpc_split_gate``), interleaved, for each
warm-start anchor spacing in ``--spacings`` (V; the provider's default first); optionally a
41 x 41 frozen-surface pinch-off diagram of the two gates on ``--workers`` processes.

Times are CPU seconds of this process (the machine is shared: wall time measures the others'
load); each figure is the minimum over ``--repeats`` (median also printed).

    python benchmarks/bench_pinchoff.py [--repeats 3] [--points 31] [--spacings 0.2 0.5]
        [--diagram 41 --workers 2]
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "geometries"))
import qpc_split_gate_sc as demo  # noqa: E402

import qpcsim  # noqa: E402
from qpcsim.electrostatics import Heterostructure, ThomasFermiProblem  # noqa: E402
from qpcsim.electrostatics.pinchoff import pinchoff_diagram  # noqa: E402
from qpcsim.electrostatics.provider import ANCHOR_SPACING_V, SelfConsistentPotential  # noqa: E402
from qpcsim.electrostatics.thomas_fermi import aligned_window  # noqa: E402

WINDOW = (-640, 640, -800, 800)          # the demo device's window (margin 400 nm)


def frozen_solve_times(surface):
    """(build, cold solve, warm solve) CPU seconds and the cold result, at -0.5 V."""
    het = Heterostructure(50.0, 2.239e11, surface=surface)
    # frozen: half a cell wider in x, so the gates' edges lie on cell boundaries (as the
    # default windows do); pinned: the window as given
    window = aligned_window(demo.layout(), het, WINDOW, 4.0)
    c0 = time.process_time()
    prob = ThomasFermiProblem(demo.layout(), het, window, 4.0)
    c1 = time.process_time()
    res = prob.solve({"left": -0.5, "right": -0.5})
    c2 = time.process_time()
    warm = prob.solve({"left": -0.51, "right": -0.51}, initial=res)
    c3 = time.process_time()
    return (c1 - c0, c2 - c1, c3 - c2), res, warm


def with_anchor_spacing(sc, spacing):
    """The demo device ``sc`` on a new potential whose warm-start anchors are ``spacing`` V
    apart (a built potential's spacing cannot change: its solutions would go stale)."""
    p = sc.potential
    if spacing == p.anchor_spacing_V:
        return sc
    pot = SelfConsistentPotential(p.layout, p.heterostructure, p.window_nm, p.resolution_nm,
                                  voltages=p.defaults, common=p.common,
                                  switch_off=p.switch_off, tolerance_meV=p.tolerance_meV,
                                  influence_tolerance=p.influence_tolerance,
                                  anchor_spacing_V=spacing)
    return qpcsim.Device(width=sc.width, length=sc.length, a=sc.a, potential=pot,
                         units=pot.units, material=sc.material, name=sc.name,
                         metadata={"fermi_energy_meV": pot.fermi_energy_meV})


def sweep_pair(bare, sc, n, spacing):
    """CPU seconds of the bare and of the self-consistent demo sweep, n points, serial, with
    warm-start anchors ``spacing`` V apart; the self-consistent one starts with no cached
    solution (as a fresh worker does)."""
    sc = with_anchor_spacing(sc, spacing)
    energy = sc.metadata["fermi_energy_meV"]
    c0 = time.process_time()
    qpcsim.sweep(bare, over={"Vg": np.linspace(-1.6, -0.2, n)}, energy=energy, workers=1,
                 progress=False)
    c1 = time.process_time()
    sc.potential.clear_cache()
    qpcsim.sweep(sc, over={"Vg": np.linspace(-2.2, -0.8, n)}, energy=energy, workers=1,
                 progress=False)
    return c1 - c0, time.process_time() - c1


def stats(values):
    return f"min {min(values):.3f} s, median {np.median(values):.3f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--points", type=int, default=31, help="gate points of the demo sweeps")
    ap.add_argument("--spacings", type=float, nargs="+", default=[ANCHOR_SPACING_V],
                    help="warm-start anchor spacings (V) to compare")
    ap.add_argument("--diagram", type=int, default=0, help="points per side of the diagram")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--resolution", type=float, default=8.0, help="diagram cells (nm)")
    args = ap.parse_args()
    print(f"uptime load before: {os.getloadavg()}")
    with threadpool_limits(1):
        for surface in ("pinned", "frozen"):
            runs = [frozen_solve_times(surface) for _ in range(args.repeats)]
            build, cold, warm = zip(*(r[0] for r in runs))
            res, wres = runs[0][1], runs[0][2]
            total = [b + c for b, c in zip(build, cold)]
            print(f"{surface}: demo split gate, 4 nm cells ({res.x_nm.size}x{res.y_nm.size}), -0.5 V, CPU s over "
                  f"{args.repeats} repeats:\n  build {stats(build)}; cold solve {stats(cold)} "
                  f"({res.iterations} it); cold total {stats(total)}\n  warm (10 mV) "
                  f"{stats(warm)} ({wres.iterations} it); n(0,0) = {res.density_cm2(0, 0):.6g} "
                  f"cm^-2, residual {res.residual:.1e} meV")
        sc = qpcsim.load_geometry("qpc_split_gate_sc")
        bare = qpcsim.load_geometry("qpc_split_gate")
        energy = sc.metadata["fermi_energy_meV"]
        qpcsim.solve(bare, energy=energy, Vg=-1.0)      # lead modes, builds, the TF operator
        qpcsim.solve(sc, energy=energy, Vg=-0.5)
        sweep_pair(bare, sc, 3, args.spacings[0])     # untimed: the sweep machinery's first use
        pairs = {h: [] for h in args.spacings}
        for _ in range(args.repeats):                  # interleaved: repeat-major
            for h in args.spacings:
                pairs[h].append(sweep_pair(bare, sc, args.points, h))
        for h, runs in pairs.items():
            ratios = [s / b for b, s in runs]
            print(f"demo sweeps, {args.points} points, serial, anchors {h:g} V apart, "
                  f"interleaved x{args.repeats}: bare {stats([p[0] for p in runs])}, "
                  f"self-consistent {stats([p[1] for p in runs])};\n  ratio self-consistent "
                  f"/ bare: min {min(ratios):.2f}, median {np.median(ratios):.2f} (each ratio "
                  "from one interleaved pair)")
    if args.diagram:
        v = np.linspace(-2.0, 0.0, args.diagram)
        het = Heterostructure(50.0, 2.239e11, surface="frozen")
        d = pinchoff_diagram(demo.layout(), het, ("left", "right"), v, v,
                             resolution_nm=args.resolution, workers=args.workers)
        line = d.pinchoff_line()
        i = int(np.nanargmin(np.abs(line - v)))
        print(f"frozen: {args.diagram}x{args.diagram} diagram, {args.resolution:g} nm cells, "
              f"{args.workers} workers: {d.seconds:.1f} s wall; pinch-off V_right = "
              f"{line[i]:.3f} V at V_left = {v[i]:.3f} V; gates deplete at "
              f"{d.depletion_voltage(0):.3f} V")
    print(f"uptime load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
