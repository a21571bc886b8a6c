"""Spectral data benchmark (issues 12 and 16): what a shared energy grid buys.

Prints, measured in one run:

1. a temperature series (default 0.5, 1, 2, 4 K) of an N-point gate sweep, from one spectral
   sweep, against one finite-temperature sweep at 1 K and at the series' highest temperature on
   the same grid machinery, and against today's adaptive quadrature at 1 K (on a subset);
2. a finite-temperature point at 1 K against a zero-temperature point (lead modes cached in
   both, as inside a sweep), with the error against the adaptive quadrature;
3. a bias map (gate x bias, symmetric drop) from one spectrum per gate point, against the cost
   of re-solving per bias point (two solves per dI/dV value at T = 0, timed).

Usage: ``python benchmarks/bench_spectral.py [--device qpc_split_gate] [--points 200]
[--bias-map 61x81]``; defaults are the issue's sizes on the demo split gate, which take tens of
minutes on 2 cores; ``--quick`` runs a small saddle in about a minute.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import qpcsim


def _timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="qpc_split_gate")
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--temperatures", default="0.5,1,2,4")
    parser.add_argument("--bias-map", default="61x81", metavar="GATESxBIASES")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="small saddle, 24 points, 12x21 bias map")
    args = parser.parse_args(argv)
    temps = [float(t) for t in args.temperatures.split(",")]
    if args.quick:
        def fresh():
            return qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.0,
                                        hw_y=3.0)
        gate, gate_values, energy = "V0", np.linspace(1.0, 6.5, 24), 8.0
        n_gate, n_bias, bias_max = 12, 21, 4.0
    else:
        def fresh():
            return qpcsim.load_geometry(args.device)
    device = fresh()
    if not args.quick:
        if "Vg" in device.defaults:
            gate, gate_values, energy = "Vg", np.linspace(-1.2, -0.2, args.points), 10.0
        else:
            gate, gate_values, energy = "V0", np.linspace(1.0, 9.0, args.points), 10.0
        n_gate, n_bias = (int(x) for x in args.bias_map.split("x"))
        bias_max = 4.0
    print(f"device {device}")
    print(f"energy {energy} meV, gate {gate}: {gate_values.size} points, workers {args.workers}")
    over = {gate: gate_values}
    common = {"energy": energy, "workers": args.workers, "progress": False}

    # 1. temperature series vs single temperatures ------------------------------------------
    # Each sweep on a fresh device: its own lead modes and system build, as a user's run (the
    # grids nest, so a sweep after the series would find every lead mode cached). One
    # throwaway point first, so that no timing pays the process's first imports and builds.
    qpcsim.temperature_series(fresh(), {gate: gate_values[:1]}, temperatures=temps, **common)
    series, t_series = _timed(qpcsim.temperature_series, fresh(), over, temperatures=temps,
                              **common)
    single, t_single = _timed(qpcsim.temperature_series, fresh(), over, temperatures=[1.0],
                              **common)
    _, t_top = _timed(qpcsim.temperature_series, fresh(), over, temperatures=[max(temps)],
                      **common)
    n_sub = max(2, gate_values.size // 12)
    sub = {gate: gate_values[:: max(1, gate_values.size // n_sub)][:n_sub]}
    t0 = time.perf_counter()
    adaptive = [qpcsim.solve(device, energy, temperature=1.0, thermal="adaptive", **{gate: v})
                for v in sub[gate]]
    t_adapt = (time.perf_counter() - t0) / len(adaptive) * gate_values.size
    err = max(abs(a.conductance - series["conductance"].sel({gate: v, "temperature": 1.0}).item())
              for a, v in zip(adaptive, sub[gate]))
    print(f"\n[1] {len(temps)}-temperature series {temps} K: {t_series:.1f} s, "
          f"{series.attrs['solves_per_point']} solves/point")
    print(f"    single 1 K sweep: {t_single:.1f} s ({single.attrs['solves_per_point']} solves/point)"
          f"  -> series / single(1 K) = {t_series / t_single:.2f}x")
    print(f"    single {max(temps):g} K sweep: {t_top:.1f} s  -> series / single({max(temps):g} K) = "
          f"{t_series / t_top:.2f}x")
    print(f"    adaptive 1 K sweep (extrapolated from {len(adaptive)} points): {t_adapt:.1f} s  -> "
          f"series / adaptive single = {t_series / t_adapt:.2f}x; {len(temps)} adaptive sweeps = "
          f"{len(temps) * t_adapt / t_series:.1f}x the series")
    print(f"    max |G_series - G_adaptive| at 1 K: {err:.2e} G0; largest reported thermal error "
          f"{float(np.nanmax(series['thermal_error'].values)):.2e}")

    # 2. finite-T point vs zero-T point -----------------------------------------------------
    values = gate_values[:: max(1, gate_values.size // 6)][:6]
    for v in values:        # warm both caches (lead modes at E_F and on the 1 K grid)
        qpcsim.solve(device, energy, temperature=1.0, **{gate: v})
    t0 = time.perf_counter()
    for v in values:
        qpcsim.solve(device, energy, **{gate: v + 1e-6})
    t_zero = (time.perf_counter() - t0) / len(values)
    t0 = time.perf_counter()
    for v in values:
        r = qpcsim.solve(device, energy, temperature=1.0, **{gate: v + 1e-6})
    t_warm = (time.perf_counter() - t0) / len(values)
    print(f"\n[2] point at 1 K: {1e3 * t_warm:.1f} ms vs zero-T point {1e3 * t_zero:.1f} ms -> "
          f"{t_warm / t_zero:.1f}x ({r.spectrum.grid.size} energies ({r.spectrum.grid.rule} "
          f"rule), {r.spectrum.solves} solves + the one at E_F)")

    # 3. bias map --------------------------------------------------------------------------
    gates = np.linspace(gate_values[0], gate_values[-1], n_gate)
    biases = np.linspace(-bias_max, bias_max, n_bias)
    data, t_map = _timed(qpcsim.bias_map, device, {gate: gates}, biases, energy,
                         workers=args.workers)
    t0 = time.perf_counter()
    for b in biases[:5]:
        qpcsim.solve(device, energy + 0.5 * b + 1e-7, **{gate: gates[1]})
    t_solve = (time.perf_counter() - t0) / 5
    t_resolve = 2 * t_solve * n_gate * n_bias
    spacings = qpcsim.diamond_spacings(gates, biases, data["differential_conductance"].values)
    print(f"\n[3] bias map {n_gate} x {n_bias}: {t_map:.1f} s ({data.attrs['solves_per_point']} "
          f"solves/gate point); re-solving per bias point (2 solves per dI/dV at T = 0, "
          f"{1e3 * t_solve:.1f} ms each): {t_resolve:.1f} s -> {t_resolve / t_map:.2f}x")
    n_1k = r.spectrum.grid.size
    print(f"    at T = 1 K re-solving per bias point needs a thermal integral at mu +- eV/2 "
          f"(2 x {n_1k} solves): {2 * n_1k * t_solve * n_gate * n_bias:.1f} s -> "
          f"{2 * n_1k * t_solve * n_gate * n_bias / t_map:.0f}x the spectral map")
    print(f"    spacings off the diamonds: {[round(s, 3) for s in spacings]} meV")


if __name__ == "__main__":
    main()
