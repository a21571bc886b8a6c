"""The sweep engine: gate voltage (or energy, field ...) -> conductance.

Two replaceable parts, as in ``adaptive``: *what to compute next* (a uniform
grid, or an ``adaptive`` Learner1D/Learner2D that puts points on the steps) and
*where it runs* (:mod:`qpcsim.executors`: serial, processes, Dask).

Resumable: with ``store=PATH`` every finished point is appended to a JSON-lines
file and flushed to disk (``fsync``) as it completes. Rerunning the same sweep
reads the store, recomputes nothing that is there, and (for adaptive sampling)
replays the learner's batches so the final point set is the one an
uninterrupted run produces. A store written for another device, parameter set
or code version is refused (content hash in its first line).

The life of one point: ``sweep`` -> task ``(energy, params)`` -> executor ->
``_solve_point(device, task)`` in a worker (device rebuilt once per process from
its recipe) -> ``qpcsim.solve`` (fast path) -> a small dict of numbers -> store ->
``SweepResult`` (an xarray Dataset).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from . import validate as _validate
from .executors import DeviceRecipe, make_executor

__all__ = ["sweep", "SweepResult", "load_result", "ENERGY_NAMES"]

#: Names under which the Fermi energy (meV) can be swept.
ENERGY_NAMES = ("energy", "E")
_STORE_FORMAT = 1


# ---------------------------------------------------------------- one point
def _solve_point(device, task):
    """Worker side: one solve, returned as plain numbers (picklable, JSON-able)."""
    from .solver import solve
    energy, temperature, method, params = task
    result = solve(device, energy, temperature=temperature, method=method, **params)
    return {
        "conductance": result.conductance,
        "transmission": result.transmission,
        "transmission_reverse": result.transmission_reverse,
        "eigenvalues": [float(v) for v in result.transmission_eigenvalues],
        "open_modes": [int(n) for n in result.open_modes],
        "unitarity_error": result.unitarity_error,
        "solver": result.solver,
    }


# ---------------------------------------------------------------- store
class _Store:
    """Append-only JSON-lines record of finished points (and adaptive batches)."""

    def __init__(self, path, header: dict):
        self.path = Path(path)
        self.header = header
        self.records: list[dict] = []
        if self.path.exists() and self.path.stat().st_size > 0:
            self._load()
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "w") as fh:
                    fh.write(json.dumps({"header": header}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise ValueError(f"store={str(self.path)!r} cannot be written: {exc.strerror}") from None
        self._fh = open(self.path, "a")

    def _load(self):
        with open(self.path) as fh:
            lines = fh.read().split("\n")
        try:
            first = json.loads(lines[0])["header"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"store={str(self.path)!r} is not a qpcsim sweep store; "
                             "delete it or choose another path") from None
        if first.get("hash") != self.header["hash"]:
            diff = [k for k in ("device", "sweep", "code") if first.get(k) != self.header.get(k)]
            raise ValueError(
                f"store={str(self.path)!r} was written for a different "
                f"{' and '.join(diff) or 'sweep'} (content hash {first.get('hash', '?')[:12]} != "
                f"{self.header['hash'][:12]}); refusing to mix results. Delete the store or use "
                "another --out path")
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                self.records.append(json.loads(line))
            except ValueError:
                break   # a line cut by an interrupted write: everything after is lost work

    def append(self, record: dict):
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self):
        self._fh.close()


class _NoStore:
    records: list = []

    def append(self, record):
        pass

    def close(self):
        pass


# ---------------------------------------------------------------- result
class SweepResult:
    """Labelled sweep data: ``.data`` is an :class:`xarray.Dataset`.

    Variables: ``conductance`` (G0), ``transmission_eigenvalues`` (per channel,
    NaN-padded), ``open_modes`` (per lead), ``unitarity_error``; the swept
    parameters are coordinates; metadata (geometry and its parameters, versions,
    solver, temperature, units, seed) are attributes.
    """

    def __init__(self, data):
        self.data = data

    def __getitem__(self, key):
        return self.data[key]

    @property
    def conductance(self):
        return self.data["conductance"]

    @property
    def swept(self) -> list[str]:
        return json.loads(self.data.attrs["swept"])

    @property
    def attrs(self) -> dict:
        return self.data.attrs

    def save(self, path) -> Path:
        """Write NetCDF-4 (HDF5) that plain ``xarray.open_dataset`` reads."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            self.data.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, path)
        except OSError as exc:
            raise ValueError(f"out={str(path)!r} cannot be written: {exc.strerror or exc}") from None
        return path

    def __repr__(self):
        return f"SweepResult\n{self.data!r}"


def load_result(path) -> SweepResult:
    """Read a result written by :meth:`SweepResult.save`."""
    import xarray as xr
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"result={str(path)!r} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return SweepResult(ds.load())


# ---------------------------------------------------------------- sweep
def _axis_values(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"over[{name!r}]={values!r} is not allowed: it must be a sequence of "
                         "numbers") from None
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"over[{name!r}] is not allowed: it must be a non-empty 1-D sequence")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"over[{name!r}] is not allowed: it contains non-finite values")
    return arr


def _canonical(value):
    return float(value) if isinstance(value, (int, float, np.floating, np.integer)) else value


def sweep(device, over: Mapping[str, Sequence[float]], energy: float | None = None,
          temperature: float = 0.0, *, workers: int | None = None, scheduler: str | None = None,
          store=None, adaptive: float | None = None, max_points: int = 2000,
          adaptive_batch: int | None = None, progress: bool = True, method: str = "auto",
          **fixed) -> SweepResult:
    """Conductance over a grid (or adaptively) of device parameters and/or energy.

    Parameters
    ----------
    device : qpcsim.Device
        The device (e.g. from :func:`qpcsim.load_geometry`).
    over : mapping
        One or two swept names -> values. Names are device parameters (units
        in ``device.units``, e.g. ``Vg`` in V, ``V0`` in meV, ``B`` in T) or
        ``energy``/``E`` (meV). With ``adaptive``, only the first and last value
        of each axis count (the bounds).
    energy : float, optional
        Fermi energy (meV), unless swept.
    temperature : float
        Temperature (K).
    workers : int, optional
        Local processes (default: all cores; 1 = serial in this process).
    scheduler : str, optional
        Dask scheduler address ``tcp://host:port`` or ``"local"`` (LocalCluster).
    store : path, optional
        JSON-lines file recording finished points: makes the sweep resumable.
    adaptive : float, optional
        Target max interpolation error (G0): sample with ``adaptive``'s
        Learner1D (1-D) or Learner2D (2-D) until reached.
    max_points : int
        Upper bound on adaptive points.
    adaptive_batch : int, optional
        Points the learner proposes per round (they run in parallel). The
        sampled points depend on it, never on the executor or the worker
        count, so an adaptive sweep is bit-identical on 1 or 64 workers.
        Default 4 for 1-D (keeps 2 workers busy; measured on a Büttiker
        staircase, 8 costs 5-20 % more points than 2) and 16 for 2-D maps,
        where Learner2D re-triangulates every round (16 cut its overhead 3x
        at the same point count). Raise it for a cluster.
    progress : bool
        Show a tqdm progress bar.
    method : {"auto", "fast", "kwant"}
        Solver back end (see :func:`qpcsim.solve`).
    **fixed
        Device parameters held fixed (physical units).

    Returns
    -------
    SweepResult
    """
    from .solver import check_energy, solve  # noqa: F401  (solve: validation below)

    if not isinstance(over, Mapping) or not 1 <= len(over) <= 2:
        raise ValueError(f"over={over!r} is not allowed: give one or two swept parameters, "
                         "e.g. over={'Vg': numpy.linspace(-1, 0, 101)}")
    names = list(over)
    known = list(device.defaults) + list(ENERGY_NAMES)
    _validate.known_names(names, known, "swept parameter",
                          hint="energy is swept as 'energy' (or 'E'), in meV")
    _validate.known_names(fixed, device.defaults, "parameter")
    if sum(n in ENERGY_NAMES for n in names) > 1:
        raise ValueError("over names the energy twice ('energy' and 'E'); keep one")
    axes = {name: _axis_values(name, over[name]) for name in names}
    if len(set(names) & set(fixed)):
        raise ValueError(f"parameters {sorted(set(names) & set(fixed))} are both swept and fixed")
    energy_swept = any(n in ENERGY_NAMES for n in names)
    if energy_swept and energy is not None:
        raise ValueError("energy is swept; do not also pass energy=")
    if not energy_swept:
        if energy is None:
            raise ValueError("energy is required (meV) unless it is swept")
        energy = _validate.real_number("energy", energy, "meV")
    temperature = _validate.non_negative("temperature", temperature, "K")
    base = device.resolve_params(fixed)
    if adaptive is None and adaptive_batch is not None:
        raise ValueError(f"adaptive_batch={adaptive_batch!r} is not allowed without adaptive "
                         "(a tolerance in G0): a grid sweep runs every point it is given")
    if adaptive is not None:
        adaptive = _validate.positive("adaptive", adaptive, "G0")
        if adaptive_batch is None:
            adaptive_batch = _DEFAULT_BATCH[len(axes)]
        adaptive_batch = _validate.positive_int("adaptive_batch", adaptive_batch)
        max_points = _validate.positive_int("max_points", max_points)
        for name, values in axes.items():
            if values.size < 2 or not values[-1] > values[0]:
                raise ValueError(f"over[{name!r}] is not allowed for adaptive sampling: give "
                                 "increasing bounds (start < stop)")
    # Validate every point's inputs up front, in this process: fail before any work.
    for name, values in axes.items():
        for v in (values.min(), values.max()):
            if name in ENERGY_NAMES:
                check_energy(device, v, base)
            else:
                device.resolve_params({**fixed, name: v})
    if not energy_swept:
        check_energy(device, energy, base)

    def task_of(point: tuple) -> tuple:
        params = dict(fixed)
        e = energy
        for name, value in zip(names, point):
            if name in ENERGY_NAMES:
                e = float(value)
            else:
                params[name] = float(value)
        return (e, temperature, method, params)

    header = _store_header(device, names, axes, energy, temperature, method, fixed, adaptive,
                           max_points, adaptive_batch)
    stored = _Store(store, header) if store is not None else _NoStore()
    recipe = DeviceRecipe(device)
    try:
        with make_executor(workers, scheduler) as executor:
            if adaptive is None:
                grid = list(itertools.product(*[axes[n] for n in names]))
                results = _run_grid(executor, recipe, grid, task_of, stored, progress)
            else:
                grid, results = _run_adaptive(executor, recipe, names, axes, task_of, stored,
                                              adaptive, max_points, adaptive_batch,
                                              progress)
    finally:
        stored.close()
    return _to_result(device, names, axes, grid, results, energy, temperature, fixed, header,
                      adaptive, executor)


def _key(point) -> str:
    return json.dumps([float(v) for v in point])


def _progress(total, progress, desc, done=0):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=done, disable=not progress, desc=desc, unit="pt",
                dynamic_ncols=True, leave=False)


def _run_grid(executor, recipe, grid, task_of, stored, progress):
    done = {rec["key"]: rec["result"] for rec in stored.records if "key" in rec}
    results = {}
    todo = []
    for point in grid:
        key = _key(point)
        if key in done:
            results[key] = done[key]
        else:
            todo.append(point)
    bar = _progress(len(grid), progress, "sweep", done=len(grid) - len(todo))
    try:
        for index, value in executor.imap_unordered(_solve_point, recipe,
                                                    [task_of(p) for p in todo]):
            key = _key(todo[index])
            stored.append({"key": key, "result": value})
            results[key] = value
            bar.update(1)
    finally:
        bar.close()
    return [results[_key(p)] for p in grid]


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
_DEFAULT_BATCH = {1: 4, 2: 16}


def _run_adaptive(executor, recipe, names, axes, task_of, stored, tolerance, max_points,
                  batch, progress):
    """Drive an adaptive learner in deterministic batches (replayable from the store)."""
    import adaptive

    bounds = [(float(axes[n][0]), float(axes[n][-1])) for n in names]
    if len(names) == 1:
        learner = adaptive.Learner1D(None, bounds=bounds[0],
                                     loss_per_interval=_with_neighbours(_interpolation_error_loss))
        learner_points = lambda pts: [(p,) for p in pts]   # noqa: E731
        to_learner = lambda p: p[0]                          # noqa: E731
    else:
        learner = adaptive.Learner2D(None, bounds=bounds,
                                     loss_per_triangle=_interpolation_error_loss_2d)
        learner_points = lambda pts: [tuple(p) for p in pts]  # noqa: E731
        to_learner = tuple
    min_points = 10 if len(names) == 1 else 36
    stop = _STOP_FACTOR if len(names) == 1 else _STOP_FACTOR_2D
    done = {rec["key"]: rec["result"] for rec in stored.records if "key" in rec}
    logged_batches = [rec["batch"] for rec in stored.records if "batch" in rec]
    results: dict = {}
    order: list = []
    bar = _progress(None, progress, "adaptive")

    try:
        batch_no = 0
        while True:
            if batch_no >= len(logged_batches):
                # Never trust an error estimate from too few points (aliasing).
                if len(order) >= min_points and _error_estimate(learner) <= stop * tolerance:
                    break
                if len(order) >= max_points:
                    break
            n_ask = batch if len(order) else max(batch, 3 if len(names) == 1 else 4)
            pts, _ = learner.ask(min(n_ask, max_points - len(order)) or 1)
            points = learner_points(pts)
            if batch_no < len(logged_batches):
                if [_key(p) for p in points] != logged_batches[batch_no]:
                    raise ValueError("the store's adaptive history does not replay with this "
                                     "version of adaptive; delete the store to start over")
            else:
                stored.append({"batch": [_key(p) for p in points]})
            todo = [p for p in points if _key(p) not in done]
            for index, value in executor.imap_unordered(_solve_point, recipe,
                                                        [task_of(p) for p in todo]):
                key = _key(todo[index])
                stored.append({"key": key, "result": value})
                done[key] = value
            for p in points:
                value = done[_key(p)]
                results[_key(p)] = value
                order.append(p)
                learner.tell(to_learner(p), value["conductance"])
            bar.update(len(points))
            batch_no += 1
    finally:
        bar.close()
    grid = sorted(set(map(tuple, order)))
    return grid, [results[_key(p)] for p in grid]


def _adaptive_samples(function, bounds, tolerance, batch=None, max_points=2000):
    """The points the adaptive sweep engine samples on a known function
    ``G(*point)`` (G0) over ``bounds`` [(lo, hi), ...], with the same learner,
    loss, batches and stopping rule as :func:`sweep`: for checking the sampler
    against exact answers (tests, benchmarks/bench_sampling.py)."""
    from .executors import _FunctionExecutor
    names = [f"x{k}" for k in range(len(bounds))]
    axes = {n: np.array(b, dtype=float) for n, b in zip(names, bounds)}
    grid, _ = _run_adaptive(_FunctionExecutor(function), None, names, axes, lambda p: p,
                            _NoStore(), tolerance, max_points,
                            batch or _DEFAULT_BATCH[len(bounds)], False)
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


def _with_neighbours(loss):
    from adaptive.learner.base_learner import uses_nth_neighbors
    return uses_nth_neighbors(1)(loss)


def _store_header(device, names, axes, energy, temperature, method, fixed, adaptive, max_points,
                  adaptive_batch):
    from . import __version__
    spec = {
        "names": names,
        "axes": {n: [float(v) for v in axes[n]] for n in names} if adaptive is None
        else {n: [float(axes[n][0]), float(axes[n][-1])] for n in names},
        "energy": energy, "temperature": temperature, "method": method,
        "fixed": {k: _canonical(v) for k, v in sorted(fixed.items())},
        "adaptive": adaptive, "max_points": max_points if adaptive else None,
        "adaptive_batch": adaptive_batch if adaptive else None,
    }
    from ._fastpath import choose_backend
    from ._linalg import mumps_available
    # The size rule's back end changes with MUMPS's presence, and the back ends agree
    # only to ~1e-13, so a store from the other one is not resumed. (The rule's
    # choice, before a device-specific fallback such as RGF's pocket check, which is
    # deterministic; the back end that ran is in each point's result.)
    mumps = mumps_available()
    code = {"qpcsim": __version__, "source": _source_digest(), "mumps": mumps,
            "fast_backend_rule": choose_backend(device.nx, device.ny, device.norbs, mumps)}
    header = {"format": _STORE_FORMAT, "device": device.fingerprint(), "sweep": spec,
              "code": code}
    header["hash"] = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
    return header


#: Modules whose code decides a point's numbers: a store is refused after any changes.
_PHYSICS_MODULES = ("device.py", "solver.py", "_fastpath.py", "_linalg.py", "_rgf.py",
                    "units.py", "potentials.py", "sweep.py", "disorder.py")


def _source_digest() -> str:
    """Hash of the source that computes a point (not of plotting or CLI code)."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted(here / name for name in _PHYSICS_MODULES if (here / name).exists()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _to_result(device, names, axes, grid, results, energy, temperature, fixed, header,
               adaptive, executor) -> SweepResult:
    import kwant
    import xarray as xr

    from . import __version__
    n_channels = max([len(r["eigenvalues"]) for r in results] + [1])

    def pad(values):
        out = np.full(n_channels, np.nan)
        out[:len(values)] = values
        return out

    conductance = np.array([r["conductance"] for r in results])
    eigen = np.array([pad(r["eigenvalues"]) for r in results])
    modes = np.array([r["open_modes"] for r in results], dtype=np.int64)
    unitarity = np.array([r["unitarity_error"] for r in results])
    transmission_rev = np.array([r["transmission_reverse"] for r in results])
    solvers = sorted({r["solver"] for r in results})
    dim_names = [("energy" if n in ENERGY_NAMES else n) for n in names]
    gridded = adaptive is None
    if gridded:
        shape = tuple(len(axes[n]) for n in names)
        dims = tuple(dim_names)
        coords = {d: axes[n] for d, n in zip(dim_names, names)}
    else:
        shape = (len(grid),)
        dims = ("point",) if len(names) == 2 else (dim_names[0],)
        pts = np.array(grid, dtype=float)
        coords = ({dim_names[0]: pts[:, 0]} if len(names) == 1 else
                  {d: ("point", pts[:, k]) for k, d in enumerate(dim_names)})
    data = xr.Dataset(
        {
            "conductance": (dims, conductance.reshape(shape),
                            {"units": "G0 = 2e^2/h", "long_name": "two-terminal conductance"}),
            "transmission_reverse": (dims, transmission_rev.reshape(shape),
                                     {"long_name": "total transmission lead 1 -> lead 0"}),
            "transmission_eigenvalues": (dims + ("channel",), eigen.reshape(shape + (n_channels,)),
                                         {"long_name": "eigenvalues of t^dagger t, descending"}),
            "open_modes": (dims + ("lead",), modes.reshape(shape + (2,)),
                           {"long_name": "propagating modes per lead"}),
            "unitarity_error": (dims, unitarity.reshape(shape),
                                {"long_name": "max|S^dagger S - 1|"}),
        },
        coords=coords,
    )
    for d, n in zip(dim_names, names):
        unit = "meV" if n in ENERGY_NAMES else device.units.get(n, "")
        data[d].attrs["units"] = unit
    meta = device.metadata
    seed = {k: v for k, v in {**device.defaults, **fixed}.items() if "seed" in k.lower()}
    data.attrs.update({
        "title": f"qpcsim sweep of {device.name}",
        "swept": json.dumps(dim_names),
        "geometry": str(meta.get("geometry", device.name)),
        "geometry_file": str(meta.get("geometry_file", "")),
        "geometry_params": json.dumps(_jsonable(meta.get("geometry_params", {}))),
        "device_parameters": json.dumps(_jsonable({**device.defaults, **fixed})),
        "device_fingerprint": device.fingerprint(),
        "energy_meV": float("nan") if energy is None else float(energy),
        "temperature_K": float(temperature),
        "units": json.dumps({**{"energy": "meV", "conductance": "G0"}, **device.units}),
        "seed": json.dumps(seed),
        "solver": ",".join(solvers),
        "executor": f"{executor.name}({getattr(executor, 'workers', 1)})",
        "sampling": "uniform" if gridded else
        f"adaptive(tolerance={adaptive} G0, batch={header['sweep']['adaptive_batch']})",
        "qpcsim_version": __version__,
        "kwant_version": kwant.__version__,
        "store_hash": header["hash"],
        "lattice_constant_nm": device.a,
        "hopping_meV": device.t,
    })
    return SweepResult(data)


def _jsonable(obj):
    from .device import _jsonable as convert
    return convert(obj)
