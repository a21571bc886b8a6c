"""One sweep point: the worker-side solve, point keys, the grid kind and the ETA."""
from __future__ import annotations

import itertools
import json
import time

from ..observables import to_record
from ..solver import solve
from ..spectral.bands import lead_thresholds
from .kind import Kind, Run
from .progress import duration
from .result import assemble_data, assemble_result
from .store import task_key

__all__ = ["solve_point", "point_key", "task_key", "GridKind", "Eta"]

#: A sweep whose projected remaining time exceeds this gets an ETA line (s).
ETA_AFTER_S = 60.0


def solve_point(device, task):
    """Worker side: one solve, returned as plain numbers (picklable, JSON-able):
    every entry of the observables table, plus the back end that ran."""
    energy, temperature, method, params = task[:4]   # task[4]: structural (the recipe's)
    result = solve(device, energy, temperature=temperature, method=method, **params)
    record = to_record(result)
    record["solver"] = result.solver
    return record


def point_key(point) -> str:
    """The swept values of a point (for ordering only; the store keys by :func:`task_key`)."""
    return json.dumps([float(v) for v in point])


class Eta:
    """Reports once, through ``report(line)``, the projected remaining time of a
    sweep when it exceeds :data:`ETA_AFTER_S`. The rate is measured from the first
    finished point on (a worker's first point also builds the device), once a few
    points per worker have finished and at least 3 s have passed."""

    def __init__(self, todo: int, workers: int, report=None):
        self.todo, self.workers, self.report = todo, max(1, workers), report
        self.start = time.perf_counter()
        self.first = None
        self.done = 0
        self.said = report is None or todo == 0

    def tick(self, count: int = 1):
        self.done += count
        if self.said:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first, self.first_done = now, self.done
        if self.done < self.first_done + 2 * self.workers or now - self.start < 3.0:
            return
        per_point = (now - self.first) / (self.done - self.first_done)   # wall s per point
        left = per_point * (self.todo - self.done)
        self.said = True
        if left > ETA_AFTER_S:
            self.report(f"{self.todo - self.done} points to go, ETA ~{duration(left)} "
                        f"({per_point * self.workers:.3g} s per point on {self.workers} "
                        "worker(s))")


class GridKind(Kind):
    """A sweep on a grid (:class:`~.spec.SweepSpec` without ``adaptive``): every point of
    the axes' product is one :func:`solve_point`. The points of one rebuilt system
    (a structural sweep) run together: each worker rebuilds it once."""

    name = "grid"
    label = "sweep"

    def __init__(self, spec):
        self.spec = spec
        self.recipe_device = spec.device
        # before the grid is listed: 4000 x 4000 points filled the memory before check() ran
        spec.check_budget()
        self.grid = list(itertools.product(*[spec.axes[n] for n in spec.names]))
        self.tasks = [spec.task(p) for p in self.grid]

    @property
    def worker(self):
        return solve_point

    def order(self, task):
        return repr(task[4:])          # the structural part selects the rebuilt system

    def header(self) -> dict:
        return self.spec.header(self.name)

    def check(self, report=None) -> None:
        self.spec.check_budget(report)
        self.spec.warn_extremes()
        self._find_lead_thresholds()

    def _find_lead_thresholds(self) -> None:
        """The leads' subband thresholds of every finite-T point, found here before the
        pool forks (cached per lead parameters on the device): each worker would otherwise
        search the same lead bands again (18-39 s per lead in a field on the saddle)."""
        device = self.recipe_device
        for task in self.tasks:
            if getattr(task, "temperature", 0) > 0 and not task.structural:
                lead_thresholds(device, device.resolve_params(task.params))

    def result(self, run: Run):
        return assemble_result(self.spec, self.grid, self.records, run.executor)

    def result_data(self, run: Run):
        return assemble_data(self.spec, self.grid, self.records, run.executor)
