"""Where sweep points run: serially, in local processes, or on Dask distributed.

One code path for all: a task is ``(recipe, point)`` (on Dask, a batch of points that
grows once their cost is measured) and the worker function
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
from collections import deque
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

        _prepare_before_fork(recipe, item)
        # fork: workers inherit the parent's imported modules, device cache and back ends.
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
        would not pay for a zero-temperature sweep. A device it does not model, a point of
        many solves or a large run goes to the pool at once."""
        if not items or self._point_s is not None:
            return True
        # The model prices one solve: a point at T > 0 or of another kind (bias map,
        # ensemble) is many, so such a run goes to the pool at once.
        if not (isinstance(items[0], SweepTask) and items[0].temperature == 0):
            return False
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


def _prepare_before_fork(recipe: DeviceRecipe, item) -> None:
    """Prepare the first task's device here, before the pool forks its workers: its back
    end for the task's ``method`` (:func:`~qpcsim.scattering.prepare_backend`), which
    each worker then inherits (copy-on-write) instead of repeating its structural
    analysis. The plain Device's fast path needs no Kwant system (its Builder costs
    ~10 s at 5 x 10^5 sites); the Kwant system is built here only where the back end
    needs it. A task that names no method (a kind's own tuple) gets the Kwant system
    built, as a worker's first solve may need it."""
    device = recipe.device(_structural(item))
    method = getattr(item, "method", None)
    if isinstance(method, str) and hasattr(device, "fast_path_supported"):
        # Imported here: the executors load with `qpcsim --version`, the back ends with Kwant.
        from ..scattering import prepare_backend

        prepare_backend(device, method)
        return
    build = getattr(device, "build", None)
    if callable(build):
        build()


class _DaskExecutor(Executor):
    name = "dask"

    def __init__(self, scheduler: str, workers: int, timeout: float, prepare=None):
        from distributed import Client
        self.scheduler = scheduler
        self._cluster = None
        self._seconds_per_point = None   # measured on the workers, kept for later batches
        self._threads = (-float("inf"), 1)   # (when counted, worker threads in the cluster)
        if scheduler == "local":
            if prepare is not None:
                prepare()   # before the cluster forks: its workers inherit the back end
            self._cluster = _local_cluster(workers)
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
        queue = deque(range(len(items)))   # indices of the points not yet sent
        alone: set = set()                 # points resent one per task (after a failure)
        in_flight: dict = {}               # Future -> the indices of its points
        finished = 0
        try:
            done = as_completed()
            while queue and len(in_flight) < self._slots():
                self._send(func, recipe, items, queue, alone, in_flight, done)
            for future in done:
                values, seconds, failed = future.result()   # raises: a task error, a lost scheduler
                batch = in_flight.pop(future)
                self._seconds_per_point = seconds / (len(values) + failed)
                for index, value in zip(batch, values):
                    finished += 1
                    yield index, value
                if failed:   # resend the rest one by one: the failing point raises in its own task
                    rest = batch[len(values):]
                    queue.extendleft(reversed(rest))
                    alone.update(rest)
                while queue and len(in_flight) < self._slots():
                    self._send(func, recipe, items, queue, alone, in_flight, done)
        except Exception as exc:   # classify: a lost scheduler, else re-raise
            if not self._lost(exc):
                raise
            raise SchedulerLostError(
                f"lost the Dask scheduler {self.scheduler} after {finished} of {len(items)} "
                f"points ({type(exc).__name__})") from None

    def _send(self, func, recipe, items, queue, alone, in_flight, done):
        """Submit the next batch of points (:func:`_batch_size`) as one Dask task."""
        size = 1 if queue[0] in alone else _batch_size(len(queue), self._slots() // 2,
                                                          self._seconds_per_point)
        batch = [queue.popleft() for _ in range(min(size, len(queue)))]
        future = self._client.submit(_call_batch, func, recipe, [items[i] for i in batch],
                                     pure=False)
        in_flight[future] = batch
        done.add(future)

    def _slots(self) -> int:
        """Tasks kept in flight: two per worker thread (one running, one queued), so that
        an interrupt loses little; counted at most once a second (a remote cluster may
        grow or shrink)."""
        when, threads = self._threads
        if time.monotonic() - when > 1.0:
            threads = max(1, sum(self._client.nthreads().values()))
            self._threads = (time.monotonic(), threads)
        return 2 * threads

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


#: Dask settings of the LocalCluster behind ``scheduler="local"`` (issue 24): workers
#: forked like the process pool's (no interpreter start, no imports, the parent's device
#: cache inherited; spawned workers cost ~1.5 s each before their first point), no
#: statistical profiler (a stack sample every 10 ms in each worker), and the event-loop
#: health tick (20 ms), system monitor (0.5 s) and memory monitor (0.1 s) of the
#: scheduler, nannies and workers slowed down: together 0.07 of a core on 2 workers, now
#: 0.01 (measured, idle cluster). The memory monitor (spill, pause, terminate at 95 %)
#: still looks every 0.5 s: a worker holds no data (each record goes back as it is
#: made), and the sweep checked the memory a point needs before it started.
_LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                         "distributed.admin.tick.interval": "1s",
                         "distributed.admin.system-monitor.interval": "2s",
                         "distributed.worker.memory.monitor-interval": "500ms"}


def _local_cluster(workers: int):
    """A Dask LocalCluster of ``workers`` one-thread worker processes, started as the
    process pool starts its own (fork where the platform has it); each runs
    :func:`dask_setup` as it starts."""
    import multiprocessing

    import dask
    from distributed import LocalCluster
    config = dict(_LOCAL_CLUSTER_CONFIG)
    if "fork" in multiprocessing.get_all_start_methods():
        config["distributed.worker.multiprocessing-method"] = "fork"
    with dask.config.set(config):
        # The scheduler's HTTP routes on a free local port: the default 8787 is taken
        # by the first cluster on a machine, and every later one warned about it.
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, preload=[__name__],
                            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


def dask_setup(worker) -> None:
    """Dask's preload hook, run in each LocalCluster worker as it starts (main thread):
    the process pool's worker set-up (exit with the parent; Ctrl-C and SIGTERM are the
    parent's to handle; physics warnings were said by the parent), and a fresh offload
    thread pool for distributed. A forked worker inherits the parent's pool without its
    thread, and once the parent's scheduler has used it (every graph it received) its
    idle count says a thread is waiting: a message over 10 MiB would wait forever."""
    from concurrent.futures import ThreadPoolExecutor

    from distributed import utils
    _worker_init(os.getppid())
    if isinstance(getattr(utils, "_offload_executor", None), ThreadPoolExecutor):
        utils._offload_executor = ThreadPoolExecutor(1, thread_name_prefix="Dask-Offload")


#: Compute time of one Dask task (s): points are batched up to it once their cost is
#: known. A task costs ~2.5 ms of CPU in the scheduler, client and worker (measured,
#: against ~0.15 ms in the process pool), i.e. ~1 % of 0.2 s.
_DASK_TASK_SECONDS = 0.2


def _batch_size(remaining: int, threads: int, seconds_per_point: float | None) -> int:
    """Points in the next Dask task: one until a task has measured their cost, then as
    many as fill :data:`_DASK_TASK_SECONDS`, and never more than a quarter of each worker
    thread's share of the points left, so that the last tasks are small and the workers
    finish together (guided self-scheduling)."""
    if seconds_per_point is None:
        return 1
    by_time = int(_DASK_TASK_SECONDS / max(seconds_per_point, 1e-9))
    return max(1, min(by_time, -(-remaining // (4 * threads))))


def _call_batch(func, recipe, items) -> tuple[list, float, bool]:
    """A Dask task: :func:`_call` on each item in turn. Returns the results, the compute
    time (s: CPU time of this thread, which runs the solves with their one BLAS thread;
    unlike wall time, not stretched by other load), and whether the next item failed:
    the caller keeps the finished results and sends the rest one per task, where the
    failure raises with its own traceback. A task of one item raises at once."""
    start = time.thread_time()
    results = []
    for item in items:
        try:
            results.append(_call(func, recipe, item))
        except Exception:
            if len(items) == 1:
                raise
            return results, time.thread_time() - start, True
    return results, time.thread_time() - start, False


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
                  timeout: float = 10.0, first=None) -> Executor:
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
    first : (DeviceRecipe, task), optional
        The run's first task: a local Dask cluster forks its workers as it starts, so the
        task's device and back end are prepared here first (as the process pool does
        before it forks), and every worker inherits them.
    """
    workers = check_executor_args(workers, scheduler)
    if scheduler is not None:
        prepare = None if first is None else (lambda: _prepare_before_fork(*first))
        return _DaskExecutor(scheduler, workers or default_workers(), timeout, prepare)
    if workers is None and default_workers() > 1:
        return _ProcessExecutor(default_workers(), in_process_first=True)
    workers = workers or default_workers()
    if workers == 1:
        return Executor()
    return _ProcessExecutor(workers)
