"""The ``mumps`` back end on python-mumps against Kwant's private binding it replaced.

Both drive the same MUMPS library with the same controls (structural analysis,
ICNTL(6) = 0, automatic ordering, Schur complement onto the lead variables,
factors discarded); only the Python binding differs. Per case the two are timed
interleaved (rotating order), per point the best of ``--repeats`` calls, then
the median over the points; S must agree to 1e-12. Kwant's private binding
(``kwant.linalg._mumps``) is driven by a copy of the old code kept here, for
this comparison only.

Usage: ``python benchmarks/bench_mumps_binding.py [--quick] [--repeats R]``.
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
from qpcsim.backends.schur import SchurBackend  # noqa: E402

from run import ENERGY, saddle  # noqa: E402 - the reference saddle of run.py


class KwantPrivateSchur:
    """The former ``MumpsSchur``: Kwant's private ``kwant.linalg._mumps``."""

    def __init__(self, n, row, col, schur_indices):
        from kwant.linalg import _mumps

        def fortran(a):
            return np.asfortranarray(np.asarray(a).astype(_mumps.int_dtype) + 1)

        self.n, self.row, self.col = int(n), fortran(row), fortran(col)
        self.inst = _mumps.zmumps(False)
        self._data = np.ones(len(self.row), dtype=np.complex128, order="F")
        self.inst.set_assembled_matrix(self.n, self.row, self.col, self._data)
        self.inst.icntl[6], self.inst.icntl[7] = 0, 7
        self.inst.icntl[19], self.inst.icntl[31] = 1, 1
        size = len(schur_indices)
        self.schur = np.empty((size, size), order="C", dtype=np.complex128)
        self.indices = fortran(schur_indices)   # kept: MUMPS holds a pointer to it
        self.inst.set_schur(self.schur, self.indices)
        self.inst.job = 1
        self.inst.call()

    def schur_complement(self, values):
        self._data = np.asfortranarray(np.asarray(values, dtype=np.complex128))
        self.inst.set_assembled_matrix(self.n, self.row, self.col, self._data)
        self.inst.job = 2
        self.inst.call()
        assert self.inst.infog[1] >= 0, self.inst.infog[1]
        return self.schur.copy()


def race(device, energy_meV, gate, values, label, repeats):
    energy = energy_meV / device.t
    new = FastSolver(device, backend="mumps")
    old = FastSolver(device, backend="mumps")
    old._impl._kind = KwantPrivateSchur
    solvers = {"python-mumps": new, "kwant._mumps": old}
    names = tuple(solvers)
    best = {b: [] for b in names}
    dev = 0.0
    for k, v in enumerate(values):
        params = device.resolve_params({gate: v})
        out, t = {}, {b: np.inf for b in names}
        for r in range(repeats + 1):   # the first round warms up (analysis)
            for b in (names if (k + r) % 2 == 0 else names[::-1]):
                t0 = time.perf_counter()
                out[b] = solvers[b].smatrix(energy, params).data
                if r:
                    t[b] = min(t[b], time.perf_counter() - t0)
        for b in names:
            best[b].append(t[b])
        dev = max(dev, np.abs(out["python-mumps"] - out["kwant._mumps"]).max())
    assert dev <= 1e-12, f"{label}: python-mumps differs from kwant._mumps by {dev:.1e}"
    ms = {b: 1e3 * float(np.median(x)) for b, x in best.items()}
    ratio = ms["python-mumps"] / ms["kwant._mumps"]
    order = new._impl._fact.ordering
    print(f"{label:<26} {ms['kwant._mumps']:>9.2f} {ms['python-mumps']:>9.2f} {ratio:>7.3f}  "
          f"{dev:.1e}  {order}", flush=True)
    return ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; ms per point (median over points of best "
          f"of {args.repeats})")
    print(f"{'case':<26} {'kwant._mumps':>9} {'python-mumps':>9} {'ratio':>7}  max|dS|  ordering")
    points = 3 if args.quick else 6
    cases = [("saddle 50x100", saddle(50, 100)), ("saddle 100x200 (headline)", saddle(100, 200))]
    if not args.quick:
        cases.append(("saddle 200x400 (W=200)", saddle(200, 400)))
    ratios = [race(d, ENERGY, "V0", np.linspace(3.0, 7.0, points), label, args.repeats)
              for label, d in cases]
    print(f"ratio python-mumps / kwant._mumps: min {min(ratios):.3f}, "
          f"median {np.median(ratios):.3f}")


if __name__ == "__main__":
    main()
