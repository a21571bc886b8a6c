"""How close adaptive sampling of a QPC trace can come to the optimum.

For each trace (Büttiker staircases with ħωy/ħωx = 2 and 6, seven plateaus, and
the simulated split gate of ``make demo``), at a target max interpolation error
of 0.01 G0, prints the points used by

* a uniform grid (the smallest n whose grids n .. n + 4 all reach the error),
* qpcsim's adaptive sampling: the sweep engine's own adaptive loop
  (``qpcsim.sweep.adaptive_samples``, learner, loss, batches and stopping
  rule of ``qpcsim.sweep(adaptive=...)``) on the function,
* an *oracle* Learner1D that knows the exact error of every interval (its
  loss is the true max deviation of the chord, stopping at 1.0 x the error):
  the best any loss function can do with Learner1D's refinement,
* the optimum: the fewest samples of any placement
  (``qpcsim.analysis.optimal_sample_count``).

All counts are compared at the error each sampler actually reached, so a
sampler that overshoots the tolerance is not penalized. The oracle asks one
point per round (its best case); qpcsim asks 4, as a sweep does. The traces are
functions (a cubic spline of a dense simulation for the split gate), so the
samplers are compared on identical data without Kwant in the loop.

Then 2-D maps: a saddle QPC's G(V0, E), adaptive (Learner2D through
``qpcsim.sweep``) at several tolerances, each against the square uniform grid
that reaches the same max error on a dense reference map (the uniform grids'
values come from a bicubic spline of the dense map, not from new solves).

Usage: ``python benchmarks/bench_sampling.py [--quick]``.
"""
from __future__ import annotations

import argparse

import numpy as np
import scipy.interpolate
import scipy.special

import qpcsim
from qpcsim.engine.sampling import adaptive_samples, with_neighbours

TOLERANCE = 0.01   # G0


def buttiker_staircase(ratio, channels=9):
    """G(V0) of Büttiker's saddle (ħωx = 1, energy unit ħωx), plateaus ħωy = ``ratio`` wide."""
    def g(v):
        v = np.asarray(v, dtype=float)
        return sum(scipy.special.expit(2 * np.pi * (ratio * (n + 0.5) - v))
                   for n in range(channels))
    return g, -0.7 * ratio, 6.2 * ratio


def split_gate_trace(quick):
    device = qpcsim.load_geometry("qpc_split_gate", **({"a": 8.0} if quick else {}))
    x = np.linspace(-1.6, -0.2, 401 if quick else 1401)
    g = qpcsim.sweep(device, {"Vg": x}, energy=8.0, progress=False).conductance.values
    return scipy.interpolate.CubicSpline(x, g), x[0], x[-1]


def oracle_samples(function, lo, hi, range_g):
    """Learner1D whose interval loss is the exact max chord deviation, one point per
    round, stopping when that exact error reaches the tolerance."""
    import adaptive

    def loss(xs, ys):
        x_scale = learner._scale[0]        # the loss sees x / x_scale
        a, b = xs[1] * x_scale, xs[2] * x_scale
        t = np.linspace(a, b, 41)
        ft = function(t)
        chord = ft[0] + (ft[-1] - ft[0]) * (t - a) / (b - a)
        return float(np.abs(ft - chord).max()) / range_g

    learner = adaptive.Learner1D(None, bounds=(lo, hi), loss_per_interval=with_neighbours(loss))
    while len(learner.data) < 10 or learner.loss() * range_g > TOLERANCE:
        (point,), _ = learner.ask(1)
        learner.tell(point, float(function(point)))
    return np.array(sorted(learner.data))


def uniform_points(function, lo, hi, dense_x, dense_g, error):
    def ok(n):
        nodes = np.linspace(lo, hi, n)
        return np.abs(np.interp(dense_x, nodes, function(nodes)) - dense_g).max() <= error
    return next(n for n in range(11, 20 * len(dense_x)) if all(ok(k) for k in range(n, n + 5)))


def compare(label, function, lo, hi):
    dense_x = np.linspace(lo, hi, 4001)
    dense_g = function(dense_x)
    ours = adaptive_samples(function, [(lo, hi)], TOLERANCE)[:, 0]
    oracle = oracle_samples(function, lo, hi, np.ptp(dense_g))
    rows = []
    for name, xs in (("qpcsim adaptive", ours), ("oracle Learner1D", oracle)):
        error = float(np.abs(np.interp(dense_x, xs, function(xs)) - dense_g).max())
        uniform = uniform_points(function, lo, hi, dense_x, dense_g, error)
        optimum = qpcsim.analysis.optimal_sample_count(dense_x, dense_g, error)
        rows.append((name, len(xs), error, uniform, optimum))
        print(f"{label:<26} {name:<17} {len(xs):>5} {error:>8.4f} {uniform:>8} {optimum:>8}"
              f" {len(xs) / uniform:>9.0%} {optimum / uniform:>9.0%} {len(xs) / optimum:>8.2f}",
              flush=True)
    return rows


def maps(quick):
    """2-D: adaptive maps vs uniform grids at the same error (real solves)."""
    import scipy.interpolate
    device = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=1.5, hw_y=3.0)
    v0 = np.linspace(0.0, 8.5, 61 if quick else 121)
    energy = np.linspace(6.0, 12.0, 49 if quick else 97)
    dense = qpcsim.sweep(device, {"V0": v0, "energy": energy}, progress=False)
    reference = dense.conductance.values
    spline = scipy.interpolate.RectBivariateSpline(v0, energy, reference, s=0)
    grid = np.meshgrid(v0, energy, indexing="ij")

    def uniform_error(n):
        nodes = (np.linspace(v0[0], v0[-1], n), np.linspace(energy[0], energy[-1], n))
        interpolant = scipy.interpolate.RegularGridInterpolator(nodes, spline(*nodes))
        return np.abs(interpolant(np.stack(grid, axis=-1)) - reference).max()

    print(f"\n2-D map, saddle QPC G(V0, E), dense reference {reference.shape[0]} x "
          f"{reference.shape[1]}")
    print(f"{'tolerance':>9} {'points':>7} {'error':>8} {'uniform n x n':>14} {'/uniform':>9}")
    for tolerance in (0.2, 0.1, 0.05):
        result = qpcsim.sweep(device, {"V0": [v0[0], v0[-1]], "energy": [energy[0], energy[-1]]},
                              adaptive=tolerance, progress=False, max_points=6000)
        points = np.column_stack([result["V0"].values, result["energy"].values])
        interpolant = scipy.interpolate.LinearNDInterpolator(points, result.conductance.values)
        error = float(np.abs(interpolant(*grid) - reference).max())
        n = next(n for n in range(5, 400) if all(uniform_error(k) <= error
                                                 for k in range(n, n + 3)))
        print(f"{tolerance:>9} {len(points):>7} {error:>8.4f} {n:>6} = {n * n:>5} "
              f"{len(points) / n ** 2:>9.0%}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarser split-gate lattice")
    args = parser.parse_args(argv)
    print(f"target max interpolation error {TOLERANCE} G0; counts at the error each sampler "
          "reached")
    print(f"{'trace':<26} {'sampler':<17} {'points':>5} {'error':>8} {'uniform':>8} "
          f"{'optimum':>8} {'/uniform':>9} {'opt/unif':>9} {'/optimum':>8}")
    traces = [("Büttiker, hw_y/hw_x = 2", *buttiker_staircase(2.0)),
              ("Büttiker, hw_y/hw_x = 6", *buttiker_staircase(6.0)),
              ("split gate (make demo)", *split_gate_trace(args.quick))]
    for label, function, lo, hi in traces:
        compare(label, function, lo, hi)
    maps(args.quick)


if __name__ == "__main__":
    main()
