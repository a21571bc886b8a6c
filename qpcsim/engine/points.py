"""One sweep point: the worker-side solve, point keys, and the grid runner."""
from __future__ import annotations

import json

from ..observables import to_record
from ..solver import solve

__all__ = ["solve_point", "point_key", "run_grid", "progress_bar"]


def solve_point(device, task):
    """Worker side: one solve, returned as plain numbers (picklable, JSON-able):
    every entry of the observables table, plus the back end that ran."""
    energy, temperature, method, params = task[:4]   # task[4]: structural (the recipe's)
    result = solve(device, energy, temperature=temperature, method=method, **params)
    record = to_record(result)
    record["solver"] = result.solver
    return record


def point_key(point) -> str:
    return json.dumps([float(v) for v in point])


def progress_bar(total, progress, desc, done=0):
    from tqdm.auto import tqdm
    return tqdm(total=total, initial=done, disable=not progress, desc=desc, unit="pt",
                dynamic_ncols=True, leave=False)


def run_grid(executor, recipe, grid, task_of, stored, progress):
    done = {rec["key"]: rec["result"] for rec in stored.records if "key" in rec}
    results = {}
    todo = []
    for point in grid:
        key = point_key(point)
        if key in done:
            results[key] = done[key]
        else:
            todo.append(point)
    # Points of one rebuilt system (structural sweep) run together: each worker
    # rebuilds it once (stable sort; results are keyed by point, not by order).
    todo.sort(key=lambda p: repr(task_of(p)[4:]))
    bar = progress_bar(len(grid), progress, "sweep", done=len(grid) - len(todo))
    try:
        for index, value in executor.imap_unordered(solve_point, recipe,
                                                    [task_of(p) for p in todo]):
            key = point_key(todo[index])
            stored.append({"key": key, "result": value})
            results[key] = value
            bar.update(1)
    finally:
        bar.close()
    return [results[point_key(p)] for p in grid]
