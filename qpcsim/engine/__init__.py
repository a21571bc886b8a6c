"""The sweep engine: what to compute, where it runs, what is kept.

* :mod:`.spec` — :class:`SweepSpec`, a sweep's validated description;
* :mod:`.sweep` — :func:`sweep` and :func:`run_spec`;
* :mod:`.points` — one point in a worker, the grid runner;
* :mod:`.sampling` — adaptive sampling (Learner1D/2D, losses, stop rule);
* :mod:`.executors` — serial, local processes, Dask;
* :mod:`.store` — the resumable store and the code hash;
* :mod:`.result` — :class:`SweepResult` (xarray) and its assembly.
"""
from .executors import DeviceRecipe, default_workers, make_executor
from .result import SweepResult, load_result
from .spec import ENERGY_NAMES, SweepSpec
from .sweep import run_spec, sweep

__all__ = ["sweep", "run_spec", "SweepSpec", "SweepResult", "load_result", "ENERGY_NAMES",
           "DeviceRecipe", "make_executor", "default_workers"]
