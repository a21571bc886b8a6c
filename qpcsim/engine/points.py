"""One sweep point: the worker-side solve, point keys, the grid runner and its ETA."""
from __future__ import annotations

import json
import time

from ..observables import to_record
from ..solver import solve
from .store import task_key

__all__ = ["solve_point", "point_key", "task_key", "run_grid", "progress_bar", "Eta"]

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


def progress_bar(total, progress, desc, done=0):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=done, disable=not progress, desc=desc, unit="pt",
                dynamic_ncols=True, leave=False)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


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
            self.report(f"{self.todo - self.done} points to go, ETA ~{_duration(left)} "
                        f"({per_point * self.workers:.3g} s per point on {self.workers} "
                        "worker(s))")


def run_grid(executor, recipe, grid, task_of, stored, progress, report=None):
    """Every point of ``grid``: the store's, then the missing ones computed (each
    stored as it finishes). Returns the records in the order of ``grid``."""
    done = stored.results()
    keys = [task_key(task_of(p)) for p in grid]
    todo = [i for i, key in enumerate(keys) if key not in done]
    results = dict(done)
    # Points of one rebuilt system (structural sweep) run together: each worker
    # rebuilds it once (stable sort; results are keyed by task, not by order).
    todo.sort(key=lambda i: repr(task_of(grid[i])[4:]))
    bar = progress_bar(len(grid), progress, "sweep", done=len(grid) - len(todo))
    eta = Eta(len(todo), getattr(executor, "workers", 1), report)
    try:
        for index, value in executor.imap_unordered(solve_point, recipe,
                                                    [task_of(grid[i]) for i in todo]):
            key = keys[todo[index]]
            stored.put(key, value)
            results[key] = value
            bar.update(1)
            eta.tick()
    finally:
        bar.close()
    return [results[key] for key in keys]
