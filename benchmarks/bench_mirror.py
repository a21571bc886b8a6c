"""Mirror-reduced RGF against the plain RGF sweep and MUMPS, per point.

Cases: the five bundled geometries at their default lattices (B = 0, their gate
changed every point) and the headline 100 x 200 saddle of benchmarks/run.py.
Times are ``FastSolver.smatrix`` on one core (single-threaded BLAS): per
point the best of ``--repeats`` calls (default 3), then the median over the
points, after one warm-up call; the three back ends are measured interleaved,
point by point in rotating order, so a drift of the machine hits them alike.
``rgf-mirror`` must give the plain RGF's complex S-matrix to 1e-12 and MUMPS
to 1e-10 (they share the lead modes). The disordered wire has no
mirror: there ``rgf-mirror`` runs the plain sweep after its symmetry check
(its overhead). ``auto`` is the path ``backend="auto"`` ran.

Usage: ``python benchmarks/bench_mirror.py [--quick] [--points N] [--repeats R]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qpcsim  # noqa: E402
from qpcsim.backends import FastSolver  # noqa: E402

from run import ENERGY, saddle  # noqa: E402 - the reference saddle of run.py

BACKENDS = ("rgf", "rgf-mirror", "mumps")
#: Geometry -> (gate parameter, gate values' range).
GATES = {"qpc_saddle": ("V0", (3.0, 7.0)), "qpc_hardwall": ("U_gate", (-2.0, 2.0)),
         "qpc_split_gate": ("Vg", (-0.6, -0.4)), "quantum_dot": ("Vp", (-1.0, 1.0)),
         "disordered_wire": ("disorder", (10.0, 12.0))}
QUICK = {"qpc_saddle": dict(a=4.0), "qpc_hardwall": dict(a=5.0), "qpc_split_gate": dict(a=8.0),
         "quantum_dot": dict(a=4.0), "disordered_wire": dict(a=5.0)}


def energy_of(device) -> float:
    """A few-mode Fermi energy (meV): between the 4th and 5th lead threshold."""
    th = device.transverse_mode_energies(5)
    return float(min(0.5 * (th[3] + th[4]), 0.5 * device.t))


def race(device, energy_meV, gate, values, label, repeats=3):
    energy = energy_meV / device.t
    solvers = {b: FastSolver(device, backend=b) for b in BACKENDS}
    auto = FastSolver(device)
    warm = device.resolve_params({gate: values[0]})
    for s in list(solvers.values()) + [auto]:
        s.smatrix(energy, warm)
    times = {b: [] for b in BACKENDS}
    dev_mirror = dev_mumps = 0.0
    for k, v in enumerate(values):
        params = device.resolve_params({gate: v})
        out, best = {}, {b: np.inf for b in BACKENDS}
        for r in range(repeats):
            order = BACKENDS[(k + r) % 3:] + BACKENDS[:(k + r) % 3]    # rotate the order
            for b in order:
                t0 = time.perf_counter()
                out[b] = solvers[b].smatrix(energy, params)
                best[b] = min(best[b], time.perf_counter() - t0)
        for b in BACKENDS:
            times[b].append(best[b])
        used = out["rgf-mirror"].backend            # the path that ran the point
        out = {b: smat.data for b, smat in out.items()}
        dev_mirror = max(dev_mirror, np.abs(out["rgf-mirror"] - out["rgf"]).max())
        dev_mumps = max(dev_mumps, np.abs(out["mumps"] - out["rgf"]).max())
        auto_used = auto.smatrix(energy, params).backend
    assert dev_mirror < 1e-12, f"{label}: rgf-mirror differs from rgf by {dev_mirror:.1e}"
    assert dev_mumps < 1e-10, f"{label}: mumps differs from rgf by {dev_mumps:.1e}"
    ms = {b: 1e3 * float(np.median(t)) for b, t in times.items()}
    print(f"{label:<30} {device.nx:>4} {device.ny:>4} {ms['rgf']:>9.2f} {ms['rgf-mirror']:>9.2f} "
          f"{ms['mumps']:>9.2f} {ms['rgf'] / ms['rgf-mirror']:>7.2f} "
          f"{ms['mumps'] / ms['rgf-mirror']:>7.2f}  {used:<11}{auto_used:<11}"
          f"{dev_mirror:.1e}", flush=True)
    return ms


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="coarser lattices (a few seconds)")
    ap.add_argument("--points", type=int, default=7, help="gate points per case (default 7)")
    ap.add_argument("--repeats", type=int, default=3, help="calls per point and back end")
    args = ap.parse_args(argv)
    import numpy
    from threadpoolctl import threadpool_info
    blas = sorted({i.get("internal_api", "?") for i in threadpool_info()})
    print(f"numpy {numpy.__version__}, BLAS seen by threadpoolctl: {', '.join(blas) or 'unknown'}")
    print(f"{'case':<30} {'nx':>4} {'ny':>4} {'RGF ms':>9} {'mirr ms':>9} {'MUMPS ms':>9} "
          f"{'R/mirr':>7} {'M/mirr':>7}  mirror ran auto ran   max|dS|")
    for name, (gate, (lo, hi)) in GATES.items():
        kwargs = QUICK[name] if args.quick else {}
        if name == "disordered_wire":
            kwargs = {**kwargs, "seed": 3}
        device = qpcsim.load_geometry(name, **kwargs)
        race(device, energy_of(device), gate, np.linspace(lo, hi, args.points),
             f"{name}{' (quick)' if args.quick else ''}", args.repeats)
    w, length = (50, 100) if args.quick else (100, 200)
    race(saddle(w, length), ENERGY, "V0", np.linspace(3.0, 7.0, args.points),
         f"headline saddle {w}x{length}", args.repeats)


if __name__ == "__main__":
    main()
