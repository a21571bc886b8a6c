"""The sweep engine: gate voltage (or energy, field ...) -> conductance.

Two replaceable parts, as in ``adaptive``: *what to compute next*
(:mod:`.sampling`: a uniform grid, or a Learner1D/Learner2D that puts points on
the steps) and *where it runs* (:mod:`.executors`: serial, processes, Dask).

Resumable: with ``store=PATH`` every finished point is committed to an SQLite
database (:mod:`.store`: locked, checksummed, keyed by the full task) as it completes. Rerunning
the same sweep reads the store, recomputes nothing that is there, and (for
adaptive sampling) replays the learner's batches so the final point set is the
one an uninterrupted run produces. A store written for another device,
parameter set or code version is refused (content hash in its first line).

The life of one point: ``sweep`` -> :class:`~.spec.SweepSpec` -> task
``(energy, temperature, method, params)`` -> executor -> ``solve_point(device,
task)`` in a worker (device rebuilt once per process from its recipe) ->
``qpcsim.solve`` -> one record of the observables table -> store ->
``SweepResult`` (an xarray Dataset, :mod:`.result`).
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence

from ..budget import BYTES_PER_POINT, check_memory, device_memory_bytes, format_bytes
from ..sanity import PhysicsWarning, warn_inputs
from .executors import (
    DeviceRecipe,
    SchedulerLostError,
    check_executor_args,
    make_executor,
)
from .points import run_grid
from .result import SweepResult, assemble_result
from .sampling import run_adaptive
from .spec import ENERGY_NAMES, MAX_REBUILDS, TEMPERATURE_NAMES, SweepSpec, structural_parameters
from .store import NoStore, Store

__all__ = ["sweep", "run_spec", "ENERGY_NAMES", "register_series_runner", "temperature_route"]

#: The runner of a temperature series, ``run(device, over, energy, temperatures, **options)
#: -> xarray.Dataset`` (:func:`qpcsim.physics.series.temperature_series`, registered when
#: that module is imported: the engine lies below the physics layer).
_SERIES_RUNNER: list = []


def register_series_runner(run: Callable) -> None:
    """Register the temperature-series runner that :func:`sweep` hands a swept T on a grid."""
    _SERIES_RUNNER[:] = [run]


def temperature_route(device, over, adaptive=None) -> tuple[str | None, str | None]:
    """(the swept temperature's name, None) when a sweep runs as one temperature series (a
    swept T beside a grid over runtime parameters or the energy: one spectral sweep serves
    every temperature), else (None, why not, or None when T is not swept with another axis).
    The one decision behind :func:`sweep` and ``qpcsim sweep``."""
    names = [n for n in over if n in TEMPERATURE_NAMES and n not in device.defaults]
    if len(names) != 1 or len(over) < 2:
        return None, None  # not swept (two names are refused by the spec), or swept alone
    structural = [n for n in over if n in structural_parameters(device)]
    if adaptive is not None:
        why = "--adaptive (adaptive=: the learner samples the (parameter, T) plane)"
    elif structural:
        why = f"{', '.join(structural)} (each value rebuilds the system)"
    else:
        return names[0], None
    return None, (f"temperature swept with {why}: each point is its own finite-T solve (a "
                  "temperature series from one spectral sweep needs a grid over runtime "
                  "parameters or the energy)")


def sweep(device, over: Mapping[str, Sequence[float]], energy: float | None = None,
          temperature: float = 0.0, *, workers: int | None = None, scheduler: str | None = None,
          store=None, adaptive: float | None = None, max_points: int = 2000,
          adaptive_batch: int | None = None, progress: bool = True, method: str = "auto",
          report: Callable[[str], None] | None = None, zeeman_from_B: bool = False,
          max_rebuilds: int = MAX_REBUILDS, **fixed) -> SweepResult:
    """Conductance over a grid (or adaptively) of device parameters and/or energy.

    Parameters
    ----------
    device : qpcsim.Device
        The device (e.g. from :func:`qpcsim.load_geometry`).
    over : mapping
        One or two swept names -> values. Names are device parameters (units
        in ``device.units``, e.g. ``Vg`` in V, ``V0`` in meV, ``B`` in T,
        ``E_Z`` in meV), ``energy``/``E`` (meV), ``temperature``/``T`` (K,
        each value > 0; beside a grid over runtime parameters or the energy it runs as one
        temperature series, :func:`qpcsim.temperature_series`, as ``qpcsim sweep`` does;
        otherwise each point is a finite-T solve), or structural
        parameters of the device's geometry file (``W``, ``gap`` ... in its
        units: one rebuild per value, cached per worker). With ``adaptive``,
        only the first and last value of each axis count (the bounds).
    energy : float, optional
        Fermi energy (meV), unless swept.
    temperature : float
        Temperature (K).
    workers : int, optional
        Local processes (default: all cores; 1 = serial in this process).
    scheduler : str, optional
        Dask scheduler address ``tcp://host:port`` or ``"local"`` (LocalCluster).
    store : path, optional
        SQLite file recording finished points (:mod:`qpcsim.engine.store`):
        makes the sweep resumable; locked while the sweep runs.
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
    report : callable, optional
        ``report(line)`` receives notes for the user: the size of a large sweep,
        its ETA once the first points are timed (when over a minute), and an
        adaptive run stopped by ``max_points`` (which the metadata records too).
    zeeman_from_B : bool
        Set E_Z = |g| mu_B B at every point (device with ``zeeman=True``).
    max_rebuilds : int
        Most systems a sweep over structural parameters may rebuild (refused
        beyond, with the count and an estimated time).
    **fixed
        Parameters held fixed (physical units): runtime ones (gates, ``B``,
        ``E_Z``) or structural ones (the device is rebuilt with them).

    Returns
    -------
    SweepResult
    """
    spec = SweepSpec.build(device, over, energy, temperature, method=method, adaptive=adaptive,
                           max_points=max_points, adaptive_batch=adaptive_batch, fixed=fixed,
                           zeeman_from_B=zeeman_from_B, max_rebuilds=max_rebuilds)
    tname, why = temperature_route(device, over, adaptive)
    if why is not None and report is not None:
        report(why)
    if tname is not None and _SERIES_RUNNER:
        rest = {n: v for n, v in over.items() if n != tname}
        data = _SERIES_RUNNER[0](device, rest, energy, over[tname], workers=workers,
                                 scheduler=scheduler, store=store, progress=progress,
                                 method=method, zeeman_from_B=zeeman_from_B, **fixed)
        return SweepResult(data)
    info: dict = {}
    grid, results, executor = run_spec(spec, workers=workers, scheduler=scheduler,
                                       store=store, progress=progress, report=report, info=info)
    return assemble_result(spec, grid, results, f"{executor[0]}({executor[1]})",
                           info.get("adaptive"))


def _check_budget(spec: SweepSpec, report) -> int:
    """Refuse a sweep whose points cannot be held in memory; report a large one."""
    device = spec.device
    if spec.gridded:
        points = math.prod(len(spec.axes[n]) for n in spec.names)
    else:
        points = int(spec.max_points)
    check_memory(points * BYTES_PER_POINT + device_memory_bytes(device.nx, device.ny, device.norbs),
                 f"the sweep ({points:,} points on a {device.nx} x {device.ny} lattice)",
                 "use fewer points (NUM in --sweep, or max_points) or split the sweep")
    if report is not None and points >= 10_000:
        report(f"{points:,} points on a {device.nx} x {device.ny} lattice "
               f"(~{format_bytes(device_memory_bytes(device.nx, device.ny, device.norbs))} per "
               "worker); an ETA follows once the first points are timed")
    return points


def _warn_extremes(spec: SweepSpec):
    """PhysicsWarnings for the sweep's extreme inputs, once, in the caller's process."""
    said = set()
    corners = itertools.product(*[(spec.axes[n].min(), spec.axes[n].max()) for n in spec.names])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PhysicsWarning)
        for corner in corners:
            energy, temperature, _, params = spec.task(corner)[:4]
            warn_inputs(spec.device, energy, temperature, spec.device.resolve_params(params))
    for w in caught:
        if str(w.message) not in said:
            said.add(str(w.message))
            warnings.warn(str(w.message), PhysicsWarning, stacklevel=4)


def run_spec(spec: SweepSpec, *, workers: int | None = None, scheduler: str | None = None,
             store=None, progress: bool = True, report=None, info: dict | None = None):
    """Run every point of ``spec`` (grid or adaptive) on an executor.

    Returns
    -------
    grid : list of tuple
        The points, in the order of ``results`` (C order of the axes for a grid,
        sorted for adaptive sampling).
    results : list of dict
        One record of the observables table per point.
    executor : tuple
        ``(name, workers)`` of the executor that ran.

    The memory the points need is checked first (refused above the machine's),
    the extreme inputs are checked for physical sense (PhysicsWarning), and a
    lost Dask scheduler ends in a one-line error saying where the finished
    points are kept. ``info`` (a dict), if given, receives ``"adaptive"``: the
    adaptive loop's convergence report.
    """
    check_executor_args(workers, scheduler)
    _check_budget(spec, report)
    _warn_extremes(spec)
    stored = Store(store, spec.header()) if store is not None else NoStore()
    recipe = DeviceRecipe(spec.device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PhysicsWarning)   # said once above
            with make_executor(workers, scheduler) as executor:
                if spec.adaptive is None:
                    grid = list(itertools.product(*[spec.axes[n] for n in spec.names]))
                    results = run_grid(executor, recipe, grid, spec.task, stored, progress,
                                       report)
                else:
                    grid, results, adaptive_info = run_adaptive(
                        executor, recipe, spec.names, spec.axes, spec.task, stored,
                        spec.adaptive, spec.max_points, spec.adaptive_batch, progress, report)
                    if info is not None:
                        info["adaptive"] = adaptive_info
                ran_on = (executor.name, getattr(executor, "workers", 1))
    except SchedulerLostError as exc:
        kept = (f"the {len(stored)} finished points are kept in store={str(stored.path)!r}; "
                "rerun the same command (with a scheduler that has workers) to resume"
                if stored.path is not None else
                "finished points were not kept (no store=); pass store= to make it resumable")
        raise SchedulerLostError(f"{exc}; {kept}") from None
    finally:
        stored.close()
    return grid, results, ran_on
