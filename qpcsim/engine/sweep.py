"""The engine: one path for every kind of run, and the sweep API on it.

Two replaceable parts, as in ``adaptive``: *what to compute next* (a *kind*,
:mod:`.kind`: a uniform grid :class:`~.points.GridKind`, adaptive sampling
:class:`~.sampling.AdaptiveKind`, an ensemble, a temperature series, a bias map)
and *where it runs* (:mod:`.executors`: serial, processes, Dask). :func:`execute`
drives any kind through the same store, executor, record keys, header and hash,
progress and ETA, memory check and lost-scheduler message; :func:`run_kind`
returns the kind's result. :func:`plan_sweep` picks the kind of a sweep request
(a swept T on a grid is one temperature series), for :func:`sweep` and ``qpcsim
sweep`` alike.

Resumable: with ``store=PATH`` every finished point is committed to an SQLite
database (:mod:`.store`: locked, checksummed, keyed by the point's full inputs) as it
completes. Rerunning the same run reads the store, recomputes nothing that is there,
and (for adaptive sampling) replays the learner's batches so the final point set is
the one an uninterrupted run produces. A store written for another kind, device,
parameter set or code version is refused (content hash in its header).

The life of one point: ``sweep`` -> :class:`~.spec.SweepSpec` -> kind -> task
``(energy, temperature, method, params, structural)`` -> executor ->
``solve_point(device, task)`` in a worker (device rebuilt once per process from its
recipe) -> ``qpcsim.solve`` -> one record of the observables table -> store ->
``SweepResult`` (an xarray Dataset, :mod:`.result`).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

from .. import validate as _validate
from ..sanity import PhysicsWarning
from .executors import (
    DeviceRecipe,
    SchedulerLostError,
    check_executor_args,
    make_executor,
)
from .kind import Kind, Run, kind_factory
from .points import Eta, GridKind
from .progress import Progress
from .result import SweepResult
from .run import drive
from .sampling import AdaptiveKind
from .spec import ENERGY_NAMES, MAX_REBUILDS, TEMPERATURE_NAMES, SweepSpec, structural_parameters
from .store import NoStore, Store, clear_store

__all__ = ["sweep", "run_spec", "run_kind", "execute", "plan_sweep", "spec_kind",
           "ENERGY_NAMES", "temperature_route"]


def temperature_route(device, over, adaptive=None) -> tuple[str | None, str | None]:
    """(the swept temperature's name, None) when a sweep runs as one temperature series (a
    swept T beside a grid over runtime parameters or the energy: one spectral sweep serves
    every temperature), else (None, why not, or None when T is not swept with another axis).
    The one decision behind :func:`plan_sweep`, so :func:`sweep` and ``qpcsim sweep``."""
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


def spec_kind(spec: SweepSpec) -> Kind:
    """The kind that runs ``spec``: a grid, or adaptive sampling."""
    if spec.adaptive is None:
        return GridKind(spec)
    return AdaptiveKind(spec.names, spec.axes, spec.task, spec.adaptive, spec.max_points,
                        spec.adaptive_batch, spec=spec)


def plan_sweep(device, over: Mapping[str, Sequence[float]], energy: float | None = None,
               temperature: float = 0.0, *, method: str = "auto", adaptive: float | None = None,
               max_points: int = 2000, adaptive_batch: int | None = None,
               zeeman_from_B: bool = False, max_rebuilds: int = MAX_REBUILDS,
               report: Callable[[str], None] | None = None, **fixed) -> Kind:
    """The kind that :func:`sweep` with these arguments runs, validated, nothing computed:
    a temperature series (a swept T on a grid, :func:`temperature_route`), an adaptive
    sweep or a grid. Its ``header()["hash"]`` is the result's ``store_hash`` (what
    ``qpcsim sweep`` compares with an existing ``--out``).

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    over : mapping
        Swept names -> values (units as the device's parameters: V, meV, T, K, nm).
    energy : float, optional
        Fermi energy (meV); ``None`` where energy is swept or the device knows its E_F.
    temperature : float
        Temperature (K) of every point unless swept.
    method : str
        Back end (``"auto"``, ``"fast"`` or a registered name).
    adaptive : float, optional
        Adaptive sampling to this loss (G0); ``None``: the grid.
    max_points : int
        Most points an adaptive sweep may take.
    adaptive_batch : int, optional
        Points asked per adaptive round (fixed: reproducible).
    zeeman_from_B : bool
        Derive E_Z (meV) from B (T) with the material's g-factor.
    max_rebuilds : int
        Most distinct structural values (systems rebuilt) a sweep may ask for.
    report : callable, optional
        ``report(line)`` for one-line notes (why a temperature axis is or is not a series).
    **fixed
        Fixed device parameters (physical units).

    Returns
    -------
    Kind
    """
    spec = SweepSpec.build(device, over, energy, temperature, method=method, adaptive=adaptive,
                           max_points=max_points, adaptive_batch=adaptive_batch, fixed=fixed,
                           zeeman_from_B=zeeman_from_B, max_rebuilds=max_rebuilds)
    tname, why = temperature_route(device, over, adaptive)
    if why is not None and report is not None:
        report(why)
    if tname is None:
        return spec_kind(spec)
    rest = {n: v for n, v in over.items() if n != tname}
    return kind_factory("temperature_series")(device, rest, energy, over[tname], method=method,
                                              zeeman_from_B=zeeman_from_B, fixed=fixed)


def _kept(stored) -> str:
    if stored.path is None:
        return "finished points were not kept (no store=); pass store= to make it resumable"
    return (f"the {len(stored)} finished points are kept in store={str(stored.path)!r}; "
            "rerun the same command (with a scheduler that has workers) to resume")


def _eta(kind, stored, executor, report):
    """The ETA of a run of known size (the points still missing from the store)."""
    if kind.total is None:
        return None
    done = stored.results()
    missing = sum(kind.key(task) not in done for task in kind.tasks)
    return Eta(missing, getattr(executor, "workers", 1), report)


def execute(kind: Kind, *, workers: int | None = None, scheduler: str | None = None,
            store=None, progress: bool = True, report=None, fresh: bool = False) -> Run:
    """Run every point of ``kind`` (:mod:`.kind`): the one path of every kind.

    The executor arguments are checked and the kind's own checks run (memory, inputs)
    before the store is opened; points already in the store (its header must be this
    kind's) are reused, the others computed on the executor and committed as they finish;
    progress and an ETA are shown; a lost Dask scheduler ends in a one-line error saying
    where the finished points are kept. ``fresh=True`` deletes ``store`` first (a qpcsim
    store not in use only, :func:`~.store.clear_store`): the run starts over. Other
    arguments as for :func:`sweep`.

    Returns
    -------
    Run
        The executor that ran and the points reused from the store.
    """
    check_executor_args(workers, scheduler)
    report = _validate.callback("report", report)     # before fresh deletes anything
    progress = _validate.flag("progress", progress)
    if _validate.flag("fresh", fresh) and store is None:
        raise ValueError("fresh=True is not allowed without store=: it deletes an earlier run's "
                         "store; give store=PATH or leave fresh out")
    kind.check(report)
    if fresh and store is not None:
        cleared = clear_store(store, "store")
        if cleared and report is not None:
            report(f"fresh start: deleted store={str(store)!r} ({cleared} finished point(s))")
    recipe = DeviceRecipe(kind.recipe_device)   # before the pool forks: workers inherit it
    stored = Store(store, kind.header()) if store is not None else NoStore()
    bar = Progress(kind.total, kind.label, progress)
    run = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PhysicsWarning)   # the kind's check said them
            tasks = getattr(kind, "tasks", None)
            first = (recipe, tasks[0]) if tasks else None
            with make_executor(workers, scheduler, first=first) as executor:
                drive(kind, executor, recipe, stored, bar, _eta(kind, stored, executor, report))
                run = Run(*executor.ran(), bar.reused)
    except SchedulerLostError as exc:
        raise SchedulerLostError(f"{exc}; {_kept(stored)}") from None
    finally:
        if run is None:
            bar.close()
        else:
            bar.finish(run.executor)
        stored.close()
    return run


def run_kind(kind: Kind, *, as_data: bool = False, **options):
    """:func:`execute` ``kind`` and return its result (``Kind.result``): the one
    engine entry point of every kind.

    Parameters
    ----------
    kind : Kind
        What to run (a grid or adaptive sweep, an ensemble, a temperature series, a bias map).
    as_data : bool
        Return the kind's :class:`~qpcsim.engine.result_data.ResultData` where it has one
        (``Kind.result_data``: saved without importing xarray, as the CLI does).
    **options
        As for :func:`execute`: ``workers``, ``scheduler``, ``store``, ``progress``,
        ``report``, ``fresh``.

    Returns
    -------
    The kind's result (e.g. :class:`~qpcsim.engine.result.SweepResult`), or its ResultData.
    """
    run = execute(kind, **options)
    data = kind.result_data(run) if as_data else None
    return kind.result(run) if data is None else data


def sweep(device, over: Mapping[str, Sequence[float]], energy: float | None = None,
          temperature: float = 0.0, *, workers: int | None = None, scheduler: str | None = None,
          store=None, adaptive: float | None = None, max_points: int = 2000,
          adaptive_batch: int | None = None, progress: bool = True, method: str = "auto",
          report: Callable[[str], None] | None = None, zeeman_from_B: bool = False,
          max_rebuilds: int = MAX_REBUILDS, fresh: bool = False, **fixed) -> SweepResult:
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
        Local processes (default: all cores, forking only when the pool pays; 1 = serial
        in this process).
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
    fresh : bool
        Start over: delete ``store`` first (``qpcsim sweep --fresh``); needs ``store``.
    **fixed
        Parameters held fixed (physical units): runtime ones (gates, ``B``,
        ``E_Z``) or structural ones (the device is rebuilt with them).

    Returns
    -------
    SweepResult
    """
    kind = plan_sweep(device, over, energy, temperature, method=method, adaptive=adaptive,
                      max_points=max_points, adaptive_batch=adaptive_batch,
                      zeeman_from_B=zeeman_from_B, max_rebuilds=max_rebuilds, report=report,
                      **fixed)
    result = run_kind(kind, workers=workers, scheduler=scheduler, store=store,
                      progress=progress, report=report, fresh=fresh)
    return result if isinstance(result, SweepResult) else SweepResult(result)


#: The memory check of a sweep (:meth:`SweepSpec.check_budget`).
_check_budget = SweepSpec.check_budget


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
    kind = spec_kind(spec)
    run = execute(kind, workers=workers, scheduler=scheduler, store=store, progress=progress,
                  report=report)
    if spec.adaptive is None:
        return kind.grid, kind.records, (run.name, run.workers)
    grid, records, adaptive_info = kind.outcome(report)
    if info is not None:
        info["adaptive"] = adaptive_info
    return grid, records, (run.name, run.workers)
