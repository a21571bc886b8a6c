"""Multi-orbital devices (issue 27): ms per point of ``qpcsim.solve`` against plain
``kwant.smatrix`` on the same finalized system, in the same run, one BLAS thread.

Cases: the spinful Rashba wire (``rashba_wire``, 2 orbitals per site, B = field_T), the
BdG N-QPC-S device (``nqpc_s``, electron-hole resolved lead) and a scaled-graphene
ribbon (``graphene_ribbon``). These devices run on the ``kwant`` back end (the fast back
ends model the one-band square-lattice ``Device``), so qpcsim's cost is Kwant's plus the
bookkeeping (energy check from the lead modes, unitarity, observables).

Usage: ``python benchmarks/bench_multiorbital.py [--repeat 15]``.
"""
from __future__ import annotations

import argparse
import time

import kwant

import qpcsim
from qpcsim.backends.assembly import single_threaded_blas

CASES = (("rashba_wire", {"B": 0.5}), ("nqpc_s", {}), ("graphene_ribbon", {}))


def per_point_ms(device, energy, repeat, **params):
    """(qpcsim.solve, kwant.smatrix) ms per point at the device's showcase energy."""
    qpcsim.solve(device, energy, **params)
    start = time.perf_counter()
    for _ in range(repeat):
        qpcsim.solve(device, energy, **params)
    ours = (time.perf_counter() - start) / repeat * 1e3
    fsyst, resolved = device.build(), device.resolve_params(params)
    with single_threaded_blas():
        kwant.smatrix(fsyst, energy / device.t, params=resolved)
        start = time.perf_counter()
        for _ in range(repeat):
            kwant.smatrix(fsyst, energy / device.t, params=resolved)
    return ours, (time.perf_counter() - start) / repeat * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{'geometry':<16} {'orbitals':>8} {'qpcsim ms':>10} {'kwant ms':>9}")
    for name, params in CASES:
        device = qpcsim.load_geometry(name)
        ours, ref = per_point_ms(device, device.metadata["energy_meV"], args.repeat, **params)
        orbitals = len(device.build().sites) * device.norbs
        print(f"{name:<16} {orbitals:>8} {ours:>10.1f} {ref:>9.1f}")


if __name__ == "__main__":
    main()
