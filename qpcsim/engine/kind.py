"""What the engine runs: a *kind* of result, and the one store header every kind shares.

A kind bundles what differs between a sweep, an adaptive sweep, an ensemble, a
temperature series and a bias map, the way an ``adaptive`` learner bundles where
to sample next while its runner does the rest:

* ``worker(device, task) -> record`` (a module-level function: it travels to
  worker processes), and ``recipe_device``, the device the workers rebuild;
* ``ask(replaying)`` / ``tell(tasks, records)``: the next batch of tasks (all of
  a grid at once; an adaptive learner's batches), and its records back;
* ``header()``: the store header (:func:`make_header`: the kind's name, its
  description, the device fingerprint and the code hash), which also keys the
  result's ``store_hash``;
* ``result(run)``: the records assembled into the kind's result (an xarray
  Dataset, :class:`~.result.SweepResult`, ...).

Everything else, the same for every kind, is :func:`qpcsim.engine.run_kind`:
executor, store (records keyed by ``store.task_key`` of the point's inputs),
progress and ETA, memory check, the lost-scheduler message. Adding a kind is one
class in one file (see ``ARCHITECTURE.md``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import NamedTuple

from .._version import __version__
from ..backends import choose_backend, mumps_available
from ..budget import BYTES_PER_POINT, check_memory, device_memory_bytes
from .store import STORE_FORMAT, source_digest, task_key

__all__ = ["Kind", "Run", "make_header", "register_kind", "kind_factory"]

_KINDS: dict[str, Callable] = {}


class Run(NamedTuple):
    """How a kind's points ran, handed to :meth:`Kind.result`.

    Attributes
    ----------
    name : str
        The executor's name (``"serial"``, ``"processes"``, ``"dask"``).
    workers : int
        Its workers.
    reused : int
        Points taken from the store instead of computed.
    """

    name: str
    workers: int
    reused: int

    @property
    def executor(self) -> str:
        """``"name(workers)"``, e.g. ``"processes(2)"`` (the results' ``executor``)."""
        return f"{self.name}({self.workers})"


def make_header(kind: str, device, body: dict) -> dict:
    """The store header of one run: the kind's ``name``, its description ``body``
    (everything that defines its points), the device fingerprint and the code (version,
    source hash, the back end the size rule picks), with a SHA-256 content ``hash``. A store
    whose hash differs is refused, so a store of another kind or spec is never mixed in."""
    # The size rule's back end changes with MUMPS's presence, and the back ends agree
    # only to ~1e-13, so a store from the other one is not resumed. (The rule's
    # choice, before a device-specific fallback such as RGF's pocket check, which is
    # deterministic; the back end that ran is in each point's result.)
    mumps = mumps_available()
    code = {"qpcsim": __version__, "source": source_digest(), "mumps": mumps,
            "fast_backend_rule": choose_backend(device.nx, device.ny, device.norbs, mumps)}
    header = {"format": STORE_FORMAT, "kind": kind, "device": device.fingerprint(),
              "sweep": body, "code": code}
    if device.metadata.get("geometry_sha256"):   # named when a resume is refused
        header["geometry_sha256"] = device.metadata["geometry_sha256"]
        header["geometry_file"] = str(device.metadata.get("geometry_file", ""))
    header["hash"] = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
    return header


class Kind:
    """Base of every kind: a fixed set of tasks asked in one batch (a grid).

    Subclasses set ``name``, ``label`` (for progress lines), ``recipe_device``,
    ``tasks`` (or override :meth:`ask`/:meth:`tell`), and define ``worker``,
    :meth:`body` and :meth:`result`.
    """

    name = "kind"
    label = "points"
    #: True when the batches depend on earlier records (adaptive sampling): the store logs
    #: each batch's keys and a resume replays them in order.
    replay = False
    #: Bytes one stored record takes in memory (the memory check).
    bytes_per_point = BYTES_PER_POINT
    recipe_device = None
    tasks: list = []

    @property
    def worker(self) -> Callable:
        raise NotImplementedError

    @property
    def total(self) -> int | None:
        """Points the run computes (None when not known ahead: adaptive sampling)."""
        return len(self.tasks)

    def key(self, task) -> str:
        """The store key of a task: ``store.task_key`` of the point's inputs."""
        return task_key(task)

    def order(self, task):
        """Sort key of the tasks still to compute (stable; results are keyed, not ordered)."""
        return 0

    def body(self) -> dict:
        raise NotImplementedError

    def header(self) -> dict:
        if getattr(self, "_header", None) is None:
            self._header = make_header(self.name, self.recipe_device, self.body())
        return self._header

    def check(self, report=None) -> None:
        """Before any work: refuse a run whose records cannot be held in memory."""
        device = self.recipe_device
        points = self.total or 0
        check_memory(points * self.bytes_per_point
                     + device_memory_bytes(device.nx, device.ny, device.norbs),
                     f"the {self.label} ({points:,} points on a {device.nx} x {device.ny} "
                     "lattice)", "use fewer points or split the run")

    def ask(self, replaying: bool = False) -> list | None:
        """The next batch of tasks, or None when done (a grid: every task, once)."""
        if getattr(self, "_asked", False):
            return None
        self._asked = True
        return list(self.tasks)

    def tell(self, tasks: list, records: list) -> None:
        """The records of the last batch, in its order."""
        self.records = records

    def result(self, run: Run):
        raise NotImplementedError

    def result_data(self, run: Run):
        """The result as a :class:`~.result_data.ResultData` (saved to NetCDF without
        importing xarray: ``run_kind(..., as_data=True)``), or None for a kind that
        builds its result otherwise."""
        return None


def register_kind(name: str, factory: Callable) -> None:
    """Make a kind defined above the engine (physics/) reachable by name: the engine's
    :func:`~.sweep.plan_sweep` asks for ``"temperature_series"`` this way."""
    _KINDS[name] = factory


def kind_factory(name: str) -> Callable:
    """The factory registered under ``name`` (ValueError listing the registered ones)."""
    if name not in _KINDS:
        raise ValueError(f"kind={name!r} is not registered; registered kinds: "
                         f"{sorted(_KINDS) or 'none (import qpcsim)'}")
    return _KINDS[name]
