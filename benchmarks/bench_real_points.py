"""``auto`` at points without a mirror, where ``mumps-sigma`` now runs (issue 24 follow-up):
before (the size rule's back end, ``rgf`` or ``mumps``, which ``auto`` ran there) against
after (``auto``), interleaved point by point in one process on one BLAS thread, CPU ms.

1. The race: disordered saddles (no mirror at any point) of W x L sites, real (B = 0) and
   complex (B = 0.7 T) points: ``rgf``, ``mumps``, ``mumps-sigma`` and the cost models.
2. Workloads: the disordered split gate of ``qpcsim compare`` at T = 0 and at T = 2 K (a
   finite-T point solves ~200 energies), the bundled disordered wire, and multi-terminal and
   model devices (``auto`` ran ``mumps`` on them, now ``mumps-sigma``).
Every S-matrix of "after" is checked against "before" (1e-10).

    python benchmarks/bench_real_points.py [--repeats 3] [--quick]
"""
from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import qpcsim
from qpcsim.backends import FastSolver, choose_backend, create_backend
from qpcsim.backends.rgf import rgf_cost
from qpcsim.backends.schur import _mumps_cost
from qpcsim.backends.sigma_schur import _sigma_real_cost
from qpcsim.physics.disorder import with_disorder
from qpcsim.scattering import scattering_matrix

TOL = 1e-10


def best(fn, repeats):
    """Minimum CPU seconds of ``fn()`` over ``repeats`` calls, and its last value."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        value = fn()
        times.append(time.process_time() - t0)
    return min(times), value


def race(sizes, repeats):
    print("1. disordered saddles (a = 5 nm, 2 meV disorder), CPU ms per point, best of "
          f"{repeats}, median over 3 seeds; model = the cost models (ms)")
    print(f"{'W x L':>9} {'B':>4} {'rgf':>8} {'mumps':>8} {'sigma':>8} {'model r/m/s':>20} "
          f"{'auto ran':>12} {'auto/best':>9}")
    for w, n in sizes:
        a = 5.0
        dev = with_disorder(qpcsim.load_geometry("qpc_saddle", a=a, W=a * (w + 1),
                                                 L=a * (n - 1), hw_x=2.0, hw_y=2.0), 2.0)
        energy = 6.0 / dev.t
        for B in (0.0, 0.7):
            seeds = [dev.resolve_params({"V0": 4.0, "seed": s, "B": B}) for s in range(3)]
            times, data = {}, {}
            solvers = {m: FastSolver(dev, m) for m in ("rgf", "mumps", "mumps-sigma", "auto")}
            for m, solver in solvers.items():
                solver.smatrix(energy, seeds[0])                 # analysis, lead modes
            per = {m: [] for m in solvers}
            for p in seeds:                                      # interleaved per point
                for m, solver in solvers.items():
                    t, s = best(lambda: solver.smatrix(energy, p), repeats)
                    per[m].append(t)
                    data[m] = s
            times = {m: 1e3 * float(np.median(v)) for m, v in per.items()}
            dev_s = max(np.abs(data[m].data - data["mumps"].data).max() for m in data)
            assert dev_s < TOL, f"{w}x{n} B={B}: back ends differ by {dev_s:.1e}"
            model = (rgf_cost(dev.nx, dev.ny, 1), _mumps_cost(dev.nx, dev.ny, 1),
                     _sigma_real_cost(dev.nx, dev.ny, 1))
            fastest = min(times["rgf"], times["mumps"], times["mumps-sigma"])
            print(f"{w:>4}x{n:<4} {B:>4.1f} {times['rgf']:>8.2f} {times['mumps']:>8.2f} "
                  f"{times['mumps-sigma']:>8.2f} {'%.1f/%.1f/%.1f' % model:>20} "
                  f"{data['auto'].backend:>12} {times['auto'] / fastest:>9.2f}", flush=True)


def workloads(repeats, quick):
    print("2. workloads: before (the size rule's back end, which auto ran at these points) "
          "against after (auto), CPU s per point, best of "
          f"{repeats}, interleaved; max |S_after - S_before|")
    split = with_disorder(qpcsim.load_geometry("qpc_split_gate"), 15.0)
    wire = qpcsim.load_geometry("disordered_wire")
    cases = [("split gate, disorder 15 meV, T = 0", split, 8.0, {"Vg": -0.8, "seed": 2,
                                                                "disorder": 15.0}, 0.0)]
    if not quick:
        cases.append(("split gate, disorder 15 meV, T = 2 K", split, 8.0,
                      {"Vg": -0.8, "seed": 2, "disorder": 15.0}, 2.0))
    cases.append(("disordered_wire (default)", wire, wire.metadata.get("working_energy_meV")
                  or 10.0, {}, 0.0))
    for name, run in (("hall_bar_qpc", {"B": 0.0, "Vg": -0.4}),
                      ("hall_bar_qpc", {"B": 1.0, "Vg": -0.4}),
                      ("magnetic_focusing", {}), ("graphene_qpc", {}), ("nqpc_s", {})):
        dev = qpcsim.load_geometry(name)
        energy = (dev.metadata.get("fermi_energy_meV") or dev.metadata.get("energy_meV")
                  or dev.metadata.get("working_energy_meV") or 10.0)
        cases.append((f"{name} {run}", dev, energy, run, 0.0))
    for label, dev, energy, run, temperature in cases:
        params = dev.resolve_params(run)
        explicit = getattr(dev, "leads", None) is not None or dev.fast_path_model
        rule = "mumps" if explicit else choose_backend(dev.nx, dev.ny, dev.norbs)
        before = lambda: qpcsim.solve(dev, energy, temperature=temperature, method=rule, **run)
        after = lambda: qpcsim.solve(dev, energy, temperature=temperature, **run)
        before(), after()                                      # warm: analyses, lead modes
        tb, rb = best(before, repeats)
        ta, ra = best(after, repeats)
        sb = scattering_matrix(dev, energy, params, rule)
        sa = scattering_matrix(dev, energy, params, "auto")
        diff = np.abs(sa.data - sb.data).max(initial=0.0)
        print(f"  {label:<48} before ({rule}) {tb:8.3f}  after ({sa.backend}) {ta:8.3f}  "
              f"ratio {tb / ta:5.2f}  |dS| {diff:.1e}  dG {abs(ra.conductance - rb.conductance):.1e}",
              flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="fewer sizes, no finite-T point")
    args = ap.parse_args()
    warnings.simplefilter("ignore", qpcsim.PhysicsWarning)    # walls cut small saddles
    print(f"uptime load before: {os.getloadavg()}")
    sizes = [(20, 40), (50, 100), (100, 200)] if args.quick else \
        [(20, 40), (30, 60), (50, 100), (70, 140), (100, 200), (150, 300), (20, 200),
         (30, 300), (40, 240), (60, 360)]
    with threadpool_limits(1):
        race(sizes, args.repeats)
        workloads(args.repeats, args.quick)
    print(f"uptime load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
