"""The engine: what to compute, where it runs, what is kept.

* :mod:`.kind` — :class:`Kind`, what a kind of run bundles (worker, tasks, header, result);
* :mod:`.run` — the one loop (ask, skip what the store has, execute, store, tell);
* :mod:`.sweep` — :func:`run_kind` (the one entry point of every kind), :func:`plan_sweep`,
  :func:`sweep` and :func:`run_spec`;
* :mod:`.spec` — :class:`SweepSpec`, a sweep's validated description;
* :mod:`.points` — one point in a worker, the grid kind;
* :mod:`.sampling` — adaptive sampling (Learner1D/2D, losses, stop rule);
* :mod:`.progress` — progress lines and bars;
* :mod:`.executors` — serial, local processes, Dask;
* :mod:`.store` — the resumable store and the code hash;
* :mod:`.result` — :class:`SweepResult` (xarray) and its assembly;
* :mod:`.result_data` — a result's one description: its Dataset, or NetCDF without xarray.
"""
from .executors import DeviceRecipe, default_workers, make_executor
from .kind import Kind
from .result import SweepResult, load_result
from .result_data import ResultData
from .spec import ENERGY_NAMES, SweepSpec
from .sweep import plan_sweep, run_kind, run_spec, sweep

__all__ = ["sweep", "run_spec", "run_kind", "plan_sweep", "Kind", "SweepSpec", "SweepResult",
           "load_result", "ResultData", "ENERGY_NAMES", "DeviceRecipe", "make_executor",
           "default_workers"]
