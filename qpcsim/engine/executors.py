"""Where sweep points run: serially, in local processes, or on Dask distributed.

One code path for all: a task is ``(recipe, point)`` and the worker function
rebuilds (once per worker process, cached by the device fingerprint) the device
from its *recipe*, then solves. Devices built from a geometry file travel as
(file, parameters); any other device travels pickled by value with cloudpickle.
Each point is computed independently and the fast solver's only state is
caches whose contents do not depend on the order of points, so results are
bit-identical whatever the executor or worker count (tested).

No orphans: local workers exit when the process that started them dies, by any
signal including SIGKILL (Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` set in
each worker as it starts, plus a check that the parent is still the one that
forked it; elsewhere a watcher thread polls the parent). Dask faults: a lost
scheduler raises :class:`SchedulerLostError` (one line; the sweep adds where its
finished points are kept), a scheduler without workers times out with a message.
"""
from __future__ import annotations

import math
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait

from ..geometry import build_geometry, geometry_source, load_geometry_module
from .task import SweepTask

__all__ = ["DeviceRecipe", "Executor", "make_executor", "default_workers", "SchedulerLostError",
           "die_with_parent"]

_PR_SET_PDEATHSIG = 1


class SchedulerLostError(ValueError):
    """The Dask scheduler went away mid-sweep."""


def die_with_parent(parent_pid: int | None = None) -> str:
    """Make this process exit when its parent dies (any signal, SIGKILL included).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; if the parent already died
    before that call (the PID we were forked by is no longer our parent), exit
    at once. Elsewhere: a daemon thread that polls the parent every 0.5 s.
    Returns the mechanism used (``"prctl"`` or ``"watcher"``).
    """
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    mechanism = "watcher"
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
            mechanism = "prctl"
    except (OSError, AttributeError):   # pragma: no cover - not Linux
        pass
    if os.getppid() != parent_pid:
        os._exit(1)
    if mechanism == "watcher":   # pragma: no cover - not Linux
        def watch():
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)
        threading.Thread(target=watch, daemon=True, name="qpcsim-parent-watch").start()
    return mechanism


def _worker_init(parent_pid: int):
    die_with_parent(parent_pid)
    # Ctrl-C reaches the whole process group: the parent handles it (stops the pool,
    # keeps the store); workers would only print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)   # not the CLI's handler: terminate() kills
    from ..sanity import PhysicsWarning
    warnings.simplefilter("ignore", PhysicsWarning)   # the parent warned before the sweep

_DEVICE_CACHE: dict = {}
#: Built devices kept per worker (a structural sweep holds one per value in flight).
_DEVICE_CACHE_SIZE = 8


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class DeviceRecipe:
    """A small, picklable description from which a worker rebuilds a device.

    For a sweep over structural parameters (geometry ``make_device`` arguments
    such as ``W``), :meth:`device` rebuilds the geometry with them, once per
    distinct value per worker (kept in a small LRU cache with its solver caches).
    """

    def __init__(self, device):
        self.fingerprint = device.fingerprint()
        meta = device.metadata
        source = geometry_source(str(meta.get("geometry_sha256", "")))
        if "geometry_file" in meta and source is not None:
            # The text the parent hashed travels with the recipe: a worker (a fork, a
            # restarted Dask worker) never re-reads a file that may have been edited.
            self.kind = "geometry"
            self.payload = (meta["geometry_file"], dict(meta.get("geometry_params", {})), source)
        else:
            import cloudpickle
            self.kind = "pickle"
            self.payload = cloudpickle.dumps(device)
        _remember((self.fingerprint, ()), device)   # the parent already has it

    def device(self, structural: dict | None = None, cache: bool = True):
        """The device, rebuilt with the structural parameters ``structural``
        (geometry units) if given; cached per worker unless ``cache=False``."""
        key = (self.fingerprint, tuple(sorted((structural or {}).items())))
        device = _DEVICE_CACHE.get(key)
        if device is not None:
            _DEVICE_CACHE[key] = _DEVICE_CACHE.pop(key)   # most recently used
            return device
        if structural:
            if self.kind != "geometry":
                raise ValueError(f"structural parameters {sorted(structural)} can only be "
                                 "changed on a device loaded from a geometry file")
            path, params, source = self.payload
            device = build_geometry(load_geometry_module(path, source), {**params, **structural})
        elif self.kind == "geometry":
            path, params, source = self.payload
            device = build_geometry(load_geometry_module(path, source), params)
        else:
            import cloudpickle
            device = cloudpickle.loads(self.payload)
        if cache:
            _remember(key, device)
        return device


def _remember(key, device):
    _DEVICE_CACHE[key] = device
    while len(_DEVICE_CACHE) > _DEVICE_CACHE_SIZE:
        _DEVICE_CACHE.pop(next(iter(_DEVICE_CACHE)))   # least recently used


def _call(func, recipe, item):
    return func(recipe.device(_structural(item)), item)


class Executor:
    """Runs ``func(device, item)`` for many items; yields ``(index, result)`` as
    they finish (any order). ``close()`` releases processes or Dask clients."""

    name = "serial"
    workers = 1

    def imap_unordered(self, func: Callable, recipe: DeviceRecipe,
                       items: Iterable) -> Iterator[tuple[int, object]]:
        for index, item in enumerate(items):
            yield index, _call(func, recipe, item)

    def ran(self) -> tuple[str, int]:
        """``(name, workers)`` of where the points ran (provenance of the results)."""
        return self.name, self.workers

    def close(self):
        pass

    def terminate(self):
        """Stop at once (an interrupt or error): running points are abandoned."""
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            with _sigint_ignored():   # a second Ctrl-C must not interrupt the stop itself
                self.terminate()


class FunctionExecutor(Executor):
    """Evaluates a known function G(*point) instead of solving a device: drives the
    sweep engine's adaptive sampling on analytic traces (tests, benchmarks). The
    tasks are the points themselves."""

    name = "function"

    def __init__(self, function: Callable):
        self.function = function

    def imap_unordered(self, func, recipe, items):
        for index, point in enumerate(items):
            yield index, {"conductance": float(self.function(*point))}


class _ProcessExecutor(Executor):
    name = "processes"

    def __init__(self, workers: int, in_process_first: bool = False):
        self.workers = workers
        self._pool = None   # started by the first point sent to a worker
        self._in_process_first = in_process_first
        self._point_s = None   # wall seconds of the first point, run in this process

    def ran(self) -> tuple[str, int]:
        return (self.name, self.workers) if self._pool is not None else ("serial", 1)

    def _start(self, recipe: DeviceRecipe, item):
        """Build ``item``'s device, then make the pool (imported here: a run that never
        forks does without it)."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _build_before_fork(recipe, item)
        # fork: workers inherit the parent's imported modules and device cache.
        self._pool = ProcessPoolExecutor(self.workers,
                                         mp_context=multiprocessing.get_context("fork"),
                                         initializer=_worker_init, initargs=(os.getpid(),))

    def imap_unordered(self, func, recipe, items):
        items = list(items)
        first = 0
        if self._in_process_first and self._pool is None and self._small(recipe, items):
            first = yield from self._run_here(func, recipe, items)
        if first == len(items):
            return
        if self._pool is None:
            self._start(recipe, items[first])
        pending = {}
        queue = iter(list(enumerate(items))[first:])
        # Keep a bounded number of tasks in flight so an interrupt loses little work.
        for index, item in _take(queue, 2 * self.workers):
            pending[self._pool.submit(_call, func, recipe, item)] = index
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                yield index, future.result()
                for nxt, item in _take(queue, 1):
                    pending[self._pool.submit(_call, func, recipe, item)] = nxt

    def _small(self, recipe, items) -> bool:
        """Try this process first? Once a point is timed, :meth:`_run_here` decides; before,
        the auto back end's cost model (:func:`_modelled_point_s`) must say that the pool
        would not pay. A device it does not model, or a large run, goes to the pool at once."""
        if not items or self._point_s is not None:
            return True
        point_s = _modelled_point_s(recipe.device(_structural(items[0])))
        return point_s is not None and not _pool_pays(len(items), point_s, self.workers)

    def _run_here(self, func, recipe, items):
        """Yield ``(index, result)`` of the first items, run in this process while the points
        left would take less than the pool costs to start (:func:`_pool_pays`); return how
        many ran. The first point always runs here: its wall time is the estimate."""
        for index, item in enumerate(items):
            if self._point_s is not None and _pool_pays(len(items) - index, self._point_s,
                                                        self.workers):
                return index
            start = time.perf_counter()
            result = _call(func, recipe, item)
            if self._point_s is None:
                self._point_s = time.perf_counter() - start
            yield index, result
        return len(items)

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self):
        """Kill the workers (SIGTERM, then SIGKILL after 2 s) instead of waiting for
        their running points: a waiting shutdown interrupted by a second Ctrl-C left
        the pool's manager thread for the interpreter's exit to join forever."""
        if self._pool is None:
            return
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(2.0)
            if process.is_alive():
                process.kill()
                process.join(2.0)
        self._pool.shutdown(wait=True, cancel_futures=True)


#: Wall seconds a process pool costs before it saves any (fork, the workers' start-up and
#: first copy-on-write faults; 0.1-0.2 s measured for the split gate, `bench_fixed_cost.py`).
_POOL_START_S = 0.2


def _pool_pays(points: int, point_s: float, workers: int) -> bool:
    """Would ``points`` points of ``point_s`` wall seconds each finish sooner on a pool of
    ``workers`` (its start-up, then ``ceil(points / workers)`` rounds) than here?"""
    return (points - math.ceil(points / workers)) * point_s > _POOL_START_S


def _modelled_point_s(device) -> float | None:
    """Seconds per point of ``device`` by the cost model of the back end that ``auto`` picks
    by size (:func:`~qpcsim.backends.registry.choose_backend`, one core), or None where the
    device has no lattice size (a model device)."""
    try:
        nx, ny, norbs = int(device.nx), int(device.ny), int(device.norbs)
    except (AttributeError, TypeError):
        return None
    # Imported here: the executors load with `qpcsim --version`, the back ends with Kwant.
    from ..backends.registry import backend_info, choose_backend

    cost = backend_info(choose_backend(nx, ny, norbs)).cost
    return None if cost is None else cost(nx, ny, norbs) / 1000.0


def _structural(item) -> dict | None:
    return item.structural if isinstance(item, SweepTask) else None


def _build_before_fork(recipe: DeviceRecipe, item) -> None:
    """Build the first task's device here, before the pool forks its workers: each worker
    then inherits the finalized Kwant system (copy-on-write) instead of running Kwant's
    Builder itself before its first solve (1-2 s per worker at 10^4-10^5 sites)."""
    device = recipe.device(_structural(item))
    build = getattr(device, "build", None)
    if callable(build):
        build()


class _DaskExecutor(Executor):
    name = "dask"

    def __init__(self, scheduler: str, workers: int, timeout: float):
        from distributed import Client, LocalCluster
        self.scheduler = scheduler
        self._cluster = None
        if scheduler == "local":
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"scheduler={scheduler!r} is not reachable within {timeout:g} s ({exc}); "
                    "start one with `dask scheduler` or use scheduler='local'") from None
            try:
                self._client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError):
                self._client.close()
                raise ValueError(
                    f"scheduler={scheduler!r} has no workers after {timeout:g} s; start some with "
                    f"`dask worker {scheduler}` (or raise the timeout)") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or workers)

    def imap_unordered(self, func, recipe, items):
        from distributed import as_completed
        items = list(items)
        futures = {self._client.submit(_call, func, recipe, item, pure=False): index
                   for index, item in enumerate(items)}
        finished = 0
        try:
            for future in as_completed(futures):
                value = future.result()
                finished += 1
                yield futures[future], value
        except Exception as exc:   # classify: a lost scheduler, else re-raise
            if not self._lost(exc):
                raise
            raise SchedulerLostError(
                f"lost the Dask scheduler {self.scheduler} after {finished} of {len(items)} "
                f"points ({type(exc).__name__})") from None

    def _lost(self, exc) -> bool:
        from distributed.comm.core import CommClosedError
        if isinstance(exc, (CommClosedError, OSError, TimeoutError)):
            return True
        text = str(exc).lower()   # FutureCancelledError: "... scheduler-connection-lost"
        return self._client.status not in ("running", "connecting") or \
            "scheduler" in text and ("lost" in text or "disconnect" in text)

    def close(self):
        try:
            self._client.close(timeout=2)
        except Exception:   # noqa: BLE001, S110 - a lost scheduler cannot be said goodbye to
            pass
        if self._cluster is not None:
            self._cluster.close()


class _sigint_ignored:   # noqa: N801 - a context manager
    """Ignore SIGINT inside the block (main thread only; elsewhere a no-op)."""

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _take(iterator, count):
    out = []
    for _ in range(count):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def check_executor_args(workers: int | None, scheduler: str | None) -> int | None:
    """``workers`` as an int (or None), after checking it and ``scheduler``; called before
    anything is opened or written, so a bad value leaves no trace (e.g. an empty store)."""
    if workers is not None:
        try:
            whole = int(workers) == workers
        except (TypeError, ValueError):
            whole = False
        if isinstance(workers, bool) or not whole or workers < 1:
            raise ValueError(f"workers={workers!r} is not allowed: it must be a positive integer")
        workers = int(workers)
    if scheduler is not None:
        if not isinstance(scheduler, str) or not (scheduler == "local" or "://" in scheduler):
            raise ValueError(f"scheduler={scheduler!r} is not allowed: use 'tcp://host:port' "
                             "or 'local'")
    return workers


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  timeout: float = 10.0) -> Executor:
    """Choose the executor.

    Parameters
    ----------
    workers : int, optional
        Local worker processes; ``1`` runs serially in this process. Default: all
        cores, but a run that the back ends' cost model calls small starts in this
        process, and the pool forks only once the points left, timed by the first,
        would take longer here than on the pool with its start-up (a 2-point sweep of
        a small device never forks); the results are the same bits.
    scheduler : str, optional
        ``"tcp://host:port"`` of a Dask distributed scheduler, or ``"local"``
        for a Dask ``LocalCluster`` with ``workers`` processes.
    timeout : float
        Seconds to wait for a remote scheduler (s).
    """
    workers = check_executor_args(workers, scheduler)
    if scheduler is not None:
        return _DaskExecutor(scheduler, workers or default_workers(), timeout)
    if workers is None and default_workers() > 1:
        return _ProcessExecutor(default_workers(), in_process_first=True)
    workers = workers or default_workers()
    if workers == 1:
        return Executor()
    return _ProcessExecutor(workers)
