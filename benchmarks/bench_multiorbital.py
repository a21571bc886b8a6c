"""Multi-orbital devices (issue 27): ms per point of a gate sweep, qpcsim's fast path
(``mumps`` on :mod:`qpcsim.backends.model_assembly`) against best-practice Kwant on the
same finalized system (``kwant.smatrix`` with ``params=``, its default MUMPS solver, one
BLAS thread) and qpcsim's ``kwant`` back end, interleaved in the same run.

Cases: a spinful Rashba QPC (InSb-like ``ContinuumDevice`` with a saddle gate, 2 orbitals
per site, B along the wire), the BdG N-QPC-S device (``nqpc_s``, electron-hole resolved
normal lead, gate ``V0``), a scaled-graphene split-gate QPC (``graphene_qpc``, ``V_sg``) and
the biased bilayer-graphene QPC (``bilayer_graphene_qpc``, channel width ``w_qpc``).
Each repeat sweeps ``--points`` gate values at the showcase energy with every method in
turn; the table gives min and median over repeats (timings on a shared machine are noisy:
compare ratios within a row).

Usage: ``python benchmarks/bench_multiorbital.py [--repeat 5] [--points 8]``.
"""
from __future__ import annotations

import argparse
import time

import kwant
import numpy as np

import qpcsim
from qpcsim.backends.assembly import single_threaded_blas
from qpcsim.potentials import harmonic_curvature

RASHBA = ("hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)"
          " + g*mu_B*B*sigma_x/2")


def rashba_qpc() -> qpcsim.ContinuumDevice:
    """Spinful Rashba saddle QPC: InSb (m* = 0.014, g = -50), alpha = 20 meV nm, a = 5 nm,
    W = 200 nm, L = 300 nm (2 x 39 x 61 orbitals)."""
    cx, cy = harmonic_curvature(1.0), harmonic_curvature(2.0)

    def saddle(x, y, V0=1.0):
        return V0 - cx * x**2 + cy * y**2

    device = qpcsim.ContinuumDevice(
        RASHBA, width=200.0, length=300.0, a=5.0, material=qpcsim.Material("InSb", 0.014, -50.0, 16.8),
        params={"alpha": 20.0, "B": 0.2}, units={"alpha": "meV nm", "B": "T", "V0": "meV"},
        potential=saddle, name="rashba_qpc")
    device.metadata.update(energy_meV=3.0, gate="V0", gate_range=(0.0, 4.0))
    return device


def cases():
    nqpc_s = qpcsim.load_geometry("nqpc_s")
    nqpc_s.metadata.update(gate="V0", gate_range=(-2.0, 2.0))
    graphene = qpcsim.load_geometry("graphene_qpc")
    v_sg = graphene.metadata["V_sg_meV"]
    graphene.metadata.update(gate="V_sg", gate_range=(0.5 * v_sg, 1.5 * v_sg))
    bilayer = qpcsim.load_geometry("bilayer_graphene_qpc")
    bilayer.metadata.update(gate="w_qpc", gate_range=(10.0, 50.0))
    return [rashba_qpc(), nqpc_s, graphene, bilayer]


def sweep_ms(run, gates) -> float:
    start = time.perf_counter()
    for gate in gates:
        run(gate)
    return (time.perf_counter() - start) / len(gates) * 1e3


def methods(device, energy):
    """name -> run(gate) for one point of the gate sweep."""
    fsyst, gate = device.build(), device.metadata["gate"]

    def solve(method):
        return lambda v: qpcsim.solve(device, energy, method=method, **{gate: v})

    def plain_kwant(v):
        params = device.resolve_params({gate: v})
        with single_threaded_blas():
            kwant.smatrix(fsyst, energy / device.t, params=params)
    return {"qpcsim mumps": solve("mumps"), "kwant.smatrix": plain_kwant,
            "qpcsim kwant": solve("kwant")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--points", type=int, default=8)
    args = parser.parse_args()
    print(f"{'device':<14} {'orbitals':>8} {'method':<14} {'min ms':>8} {'median ms':>10} "
          f"{'kwant/this (median of ratios)':>30}")
    for device in cases():
        energy = device.metadata["energy_meV"]
        gates = np.linspace(*device.metadata["gate_range"], args.points)
        runs = methods(device, energy)
        for run in runs.values():
            run(gates[0])                       # build, warm caches of the first point only
        times = {name: [] for name in runs}
        for _ in range(args.repeat):
            gates = gates + 1e-3 * (gates[1] - gates[0])   # fresh points: no result reuse
            for name, run in runs.items():
                times[name].append(sweep_ms(run, gates))
        orbitals = len(device.build().sites) * device.norbs
        reference = np.array(times["kwant.smatrix"])
        for name, values in times.items():
            ratio = np.median(reference / np.array(values))
            print(f"{device.name:<14} {orbitals:>8} {name:<14} {min(values):>8.1f} "
                  f"{np.median(values):>10.1f} {ratio:>30.2f}")


if __name__ == "__main__":
    main()
