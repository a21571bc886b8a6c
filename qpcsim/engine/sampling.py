"""What to compute next: adaptive sampling of 1-D traces and 2-D maps.

``adaptive``'s Learner1D/Learner2D with interpolation-error losses, asked in
deterministic batches (so an adaptive sweep is bit-identical on any executor and
replayable from the store), and the stopping rule in G0.
"""
from __future__ import annotations

import numpy as np

from .executors import FunctionExecutor
from .kind import Kind, Run
from .points import point_key, solve_point
from .progress import Progress
from .result import assemble_data, assemble_result
from .run import drive
from .spec import DEFAULT_BATCH
from .store import NoStore

__all__ = ["AdaptiveKind", "run_adaptive", "adaptive_samples", "with_neighbours", "DEFAULT_BATCH"]


# Stop when the estimated error is below this fraction of the tolerance.
# 1-D: the estimate is local, and without the factor 2 the true max error was
# measured at 0.014-0.016 G0 for a tolerance of 0.01. (A cheaper estimate that
# caps it at the interval's rise was tried and rejected: it misses the
# resonances next to the steps of a lattice saddle, measured error 0.02-0.05 G0
# at 0.01.) 2-D: the Clough-Tocher estimate runs 2-5x below the true error on
# a saddle map (V0 x E): with 0.25 the true error reached 0.75-1.02 x the
# tolerance (0.02-0.2 G0), with 0.2 it was 0.35-0.52 x.
_STOP_FACTOR = 0.5
_STOP_FACTOR_2D = 0.2


class AdaptiveKind(Kind):
    """Adaptive sampling of one or two swept names: ``adaptive``'s Learner1D/Learner2D
    asked in deterministic batches (so the points are bit-identical on any executor and
    replayable from the store, ``replay``), stopped at the tolerance (G0) or ``max_points``.

    Parameters
    ----------
    names, axes : list, dict
        The swept names and their values (only the first and last count: the bounds).
    task_of : callable
        ``task_of(point) -> task`` (:meth:`SweepSpec.task`).
    tolerance, max_points, batch
        The stopping tolerance (G0), the most points, the points asked per round.
    spec : SweepSpec, optional
        The sweep (for :meth:`header`, :meth:`check` and :meth:`result`).
    """

    name = "adaptive"
    label = "adaptive"
    replay = True
    total = None

    def __init__(self, names, axes, task_of, tolerance, max_points, batch, spec=None):
        import adaptive

        self.spec, self.task_of = spec, task_of
        self.tolerance, self.max_points, self.batch = tolerance, max_points, batch
        self.recipe_device = spec.device if spec is not None else None
        self.one_d = len(names) == 1
        bounds = [(float(axes[n][0]), float(axes[n][-1])) for n in names]
        if self.one_d:
            self.learner = adaptive.Learner1D(
                None, bounds=bounds[0], loss_per_interval=with_neighbours(_interpolation_error_loss))
        else:
            self.learner = adaptive.Learner2D(None, bounds=bounds,
                                              loss_per_triangle=_interpolation_error_loss_2d)
        self.min_points = 10 if self.one_d else 36     # never trust fewer (aliasing)
        self.stop = _STOP_FACTOR if self.one_d else _STOP_FACTOR_2D
        self.converged, self.estimate = False, float("nan")
        self.results: dict = {}
        self.sampled: list = []

    @property
    def worker(self):
        return solve_point

    def header(self) -> dict:
        return self.spec.header(self.name)

    def check(self, report=None) -> None:
        self.report = report            # a stop by max_points is said there
        self.spec.check_budget(report)
        self.spec.warn_extremes()

    def _done(self) -> bool:
        if len(self.sampled) >= self.min_points:
            self.estimate = float(_error_estimate(self.learner))
            if self.estimate <= self.stop * self.tolerance:
                self.converged = True
                return True
        return len(self.sampled) >= self.max_points

    def ask(self, replaying: bool = False):
        if not replaying and self._done():
            return None
        first = max(self.batch, 3 if self.one_d else 4)
        n_ask = self.batch if self.sampled else first
        pts, _ = self.learner.ask(min(n_ask, self.max_points - len(self.sampled)) or 1)
        self.points = [(p,) for p in pts] if self.one_d else [tuple(p) for p in pts]
        return [self.task_of(p) for p in self.points]

    def tell(self, tasks, records) -> None:
        for p, value in zip(self.points, records):
            self.results[point_key(p)] = value
            self.sampled.append(p)
            self.learner.tell(p[0] if self.one_d else tuple(p), value["conductance"])

    def outcome(self, report=None):
        """``(grid, records, info)``: the sampled points (sorted), their records, and
        ``converged`` (the estimate reached the tolerance before ``max_points``),
        ``error_estimate`` (G0), ``points``, ``max_points``; a stop by ``max_points`` is
        said through ``report``."""
        if len(self.sampled) >= self.min_points:
            self.estimate = float(_error_estimate(self.learner))
        grid = sorted(set(map(tuple, self.sampled)))
        info = {"converged": self.converged, "error_estimate": self.estimate / self.stop,
                "points": len(grid), "max_points": int(self.max_points)}   # NaN stays NaN
        if not self.converged and report is not None:
            report(f"adaptive sampling stopped at max_points={self.max_points} before reaching "
                   f"the tolerance {self.tolerance:g} G0 (estimated error "
                   f"{info['error_estimate']:.3g} G0); raise --max-points (max_points=) or the "
                   "tolerance")
        return grid, [self.results[point_key(p)] for p in grid], info

    def result(self, run: Run):
        grid, records, info = self.outcome(getattr(self, "report", None))
        return assemble_result(self.spec, grid, records, run.executor, info)

    def result_data(self, run: Run):
        grid, records, info = self.outcome(getattr(self, "report", None))
        return assemble_data(self.spec, grid, records, run.executor, info)


def run_adaptive(executor, recipe, names, axes, task_of, stored, tolerance, max_points,
                 batch, progress, report=None):
    """Drive an adaptive learner in deterministic batches (replayable from the store).

    Returns
    -------
    grid, results, info
        See :meth:`AdaptiveKind.outcome`.
    """
    kind = AdaptiveKind(names, axes, task_of, tolerance, max_points, batch)
    bar = Progress(None, "adaptive", progress)
    try:
        drive(kind, executor, recipe, stored, bar)
    finally:
        bar.close()
    return kind.outcome(report)


def adaptive_samples(function, bounds, tolerance, batch=None, max_points=2000):
    """The points the adaptive sweep engine samples on a known function
    ``G(*point)`` (G0) over ``bounds`` [(lo, hi), ...], with the same learner,
    loss, batches and stopping rule as :func:`sweep`: for checking the sampler
    against exact answers (tests, benchmarks/bench_sampling.py)."""
    names = [f"x{k}" for k in range(len(bounds))]
    axes = {n: np.array(b, dtype=float) for n, b in zip(names, bounds)}
    grid, _, _ = run_adaptive(FunctionExecutor(function), None, names, axes, lambda p: p,
                              NoStore(), tolerance, max_points,
                              batch or DEFAULT_BATCH[len(bounds)], False)
    return np.array(grid)


def _error_estimate(learner) -> float:
    """The learner's estimate of its max interpolation error (G0). Learner1D hands
    its loss y values scaled by their range, so that loss is converted back to G0;
    Learner2D scales only the coordinates, so its loss is in G0 already."""
    import adaptive
    if not isinstance(learner, adaptive.Learner1D):
        return learner.loss()
    ys = np.fromiter(learner.data.values(), dtype=float)
    scale = np.ptp(ys) if ys.size else 0.0
    return learner.loss() * (scale if scale > 0 else 1.0)   # flat data: Learner1D uses 1


def _interpolation_error_loss(xs, ys):
    """Learner1D loss of an interval: the estimated error of linear interpolation
    inside it, max |p(x) - chord(x)| where p is the polynomial through the
    interval's end points and their neighbours (cubic inside, quadratic at the
    ends), in the learner's scaled units. The learner's largest loss times the
    conductance range is then an error in G0, compared with the tolerance.

    A guard of 1 % of the interval's rise and 0.2 % of its length keeps the
    estimate from being fooled when the first points alias with the staircase
    (points one step apart look like a straight line) and starves no stretch.
    """
    x0, x1 = xs[1], xs[2]
    y0, y1 = ys[1], ys[2]
    dx = x1 - x0
    guard = 0.01 * abs(y1 - y0) + 0.002 * dx
    known = [(x, y) for x, y in zip(xs, ys) if x is not None and y is not None]
    if len(known) < 3:
        return abs(y1 - y0) + dx
    px = np.array([p[0] for p in known])
    py = np.array([p[1] for p in known])
    t = x0 + dx * np.linspace(0.1, 0.9, 9)
    poly = np.zeros_like(t)
    for i in range(len(px)):
        basis = np.ones_like(t)
        for j in range(len(px)):
            if j != i:
                basis *= (t - px[j]) / (px[i] - px[j])
        poly += py[i] * basis
    chord = y0 + (y1 - y0) * (t - x0) / dx
    return max(float(np.abs(poly - chord).max()), guard)


def _interpolation_error_loss_2d(ip):
    """Learner2D loss per triangle: the estimated error of linear interpolation
    inside it, max |CT(q) - linear(q)| over its edge midpoints and centroid q,
    where CT is the C1 cubic Clough-Tocher interpolant of all samples (in the
    conductance units, G0: Learner2D scales only the coordinates, to the unit
    square). A floor of 0.2 % of the map's conductance range times the
    triangle's size keeps featureless regions from starving.

    adaptive's own ``deviations`` (used before) sums three one-sided gradient
    extrapolations over the whole triangle, about 12x the interpolation error of
    a quadratic: a 2-D sweep asked for 0.1 G0 stopped at a true error of 0.01 G0
    with 3500 points (measured on a saddle map).
    """
    from adaptive.learner.learner2D import areas
    from scipy.interpolate import CloughTocher2DInterpolator

    # Work in units of the map's range (Clough-Tocher's gradient iteration has an
    # absolute tolerance), then return G0: a map scaled by c with a tolerance
    # scaled by c then samples the same points.
    tri, values = ip.tri, ip.values[:, 0]
    scale = np.ptp(values) or 1.0
    values = values / scale
    cubic = CloughTocher2DInterpolator(tri, values, tol=1e-6)
    corners = tri.points[tri.simplices]                     # (triangles, 3, 2)
    corner_values = values[tri.simplices]                   # (triangles, 3)
    pairs = ((0, 1), (1, 2), (2, 0))
    probes = np.stack([(corners[:, i] + corners[:, j]) / 2 for i, j in pairs]
                      + [corners.mean(axis=1)], axis=1)     # (triangles, 4, 2)
    linear = np.stack([(corner_values[:, i] + corner_values[:, j]) / 2 for i, j in pairs]
                      + [corner_values.mean(axis=1)], axis=1)
    smooth = cubic(probes.reshape(-1, 2)).reshape(linear.shape)
    # A probe on the hull's edge may fall outside it by rounding (NaN): skip it.
    error = np.nan_to_num(np.abs(smooth - linear), nan=0.0).max(axis=1)
    return scale * np.maximum(error, 0.002 * np.sqrt(areas(ip)))


def with_neighbours(loss):
    from adaptive.learner.base_learner import uses_nth_neighbors
    return uses_nth_neighbors(1)(loss)
