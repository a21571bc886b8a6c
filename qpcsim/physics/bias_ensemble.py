"""Disorder ensembles at finite source-drain bias: dI/dV of every realization.

:func:`bias_ensemble` is :func:`qpcsim.bias_map`'s symmetric drop (mu_L,R = E_F +- eV/2,
T(E) independent of V) for each seed of a disordered device: one refined T(E) spectrum
per (seed, gate point) on the bias window's shared grid, reduced to dI/dV at every bias
with its interpolation bound (:func:`qpcsim.spectral.refine.panel_errors`; a point still
above ``thermal_tolerance`` when the refinement budget is spent raises
:class:`~qpcsim.spectral.refine.ThermalResolutionError`, never a number).
:class:`BiasEnsembleKind` is the symmetric bias kind over (seed, gate), so store, resume,
progress and executors are the engine's, bit-identical on any worker count.
"""
from __future__ import annotations

import numpy as np

from ..engine.executors import check_executor_args
from ..engine.kind import Run
from ..engine.sweep import run_kind
from ..spectral.refine import DEFAULT_THERMAL_TOLERANCE
from .bias import MAP_VARIABLES, SymmetricBiasKind, map_request, map_variables
from .disorder import SEED_PARAM
from .ensemble import check_seeds

__all__ = ["BiasEnsembleKind", "bias_ensemble"]

class BiasEnsembleKind(SymmetricBiasKind):
    """The symmetric-drop bias map of each seed: one task per (seed, gate point), seed-major
    (the records of one realization together)."""

    name = "bias_ensemble"
    label = "bias ensemble"

    def __init__(self, request, grid, tolerance: float, budget: int, seeds: np.ndarray):
        super().__init__(request, grid, tolerance, budget)
        self.seeds = np.asarray(seeds, dtype=int)
        per_gate = self.tasks
        self.tasks = [task._replace(params={**task.params, SEED_PARAM: float(seed)})
                      for seed in self.seeds for task in per_gate]

    def body(self) -> dict:
        return {**super().body(), "seeds": [int(s) for s in self.seeds]}

    def result(self, run: Run):
        import xarray as xr   # as in engine/result.py: `import qpcsim` stays free of xarray
        req, records = self.request, self.records
        shape = (self.seeds.size, req.values.size, req.biases.size)
        dims = ("seed", req.name, "bias")
        variables = map_variables(dims, {
            field: np.array([r[field] for r in records], dtype=float).reshape(shape)
            for field in MAP_VARIABLES})
        data = xr.Dataset(variables, coords={"seed": self.seeds, req.name: req.values,
                                             "bias": req.biases})
        data["didv_error_bound"].attrs["tolerance"] = self.model["thermal_tolerance"]
        data[req.name].attrs["units"] = req.device.units.get(req.name, "")
        data["bias"].attrs.update(units="mV", long_name="source-drain bias V_sd")
        data.attrs.update(energy_meV=req.energy, temperature_K=req.temperature, gate=req.name,
                          bias_model="symmetric drop", executor=run.executor,
                          points_from_store=run.reused,
                          solves_per_point=int(max(r["solves"] for r in records)),
                          unitarity_error=float(max(r["unitarity_error"] for r in records)))
        return data


def bias_ensemble(device, seeds, over, biases, energy: float, temperature: float = 0.0, *,
                  workers: int | None = None, scheduler: str | None = None, method: str = "auto",
                  max_panel: float | None = None,
                  thermal_tolerance: float = DEFAULT_THERMAL_TOLERANCE,
                  refinement_budget: int | None = None, store=None, progress: bool = False,
                  fresh: bool = False, report=None, **fixed):
    """dI/dV(seed, gate, V_sd) of a disorder ensemble in the symmetric drop.

    Parameters
    ----------
    device : qpcsim.Device
        A device with a ``seed`` parameter (:func:`qpcsim.with_disorder`).
    seeds : int or iterable of int
        A number n (seeds 0 .. n-1) or explicit seeds; at least 2.
    over : mapping
        One swept gate parameter -> values (its unit in ``device.units``).
    biases : sequence of float
        Source-drain biases V_sd (mV); mu_L,R = E_F +- eV/2.
    energy : float
        Fermi energy E_F (meV).
    temperature : float
        Temperature (K); 0 allowed.
    workers, scheduler : optional
        Executors, as in :func:`qpcsim.sweep`.
    method : str
        S-matrix back end, as in :func:`qpcsim.solve`.
    max_panel : float, optional
        Resolution of T(E) on the bias window (meV).
    thermal_tolerance : float
        Largest allowed interpolation bound of dI/dV and I/V (G0) at every point.
    refinement_budget : int, optional
        Most solves of one (seed, gate) point, as in :func:`qpcsim.bias_map`.
    store : path, optional
        Resumable SQLite store: every finished (seed, gate) point is kept.
    progress : bool
        Progress bar (a plain line per interval when not in a terminal).
    fresh : bool
        Delete ``store`` first and start over.
    report : callable, optional
        ``report(line)`` receives notes (a fresh start's deleted store, a long run's ETA).
    **fixed
        Other device parameters (e.g. ``disorder`` in meV).

    Returns
    -------
    xarray.Dataset
        ``differential_conductance`` and ``didv_error_bound`` (G0), ``current`` and
        ``current_error_bound`` (nA) on (``seed``, gate, ``bias``).
    """
    seed_arr = check_seeds(device, seeds, fixed)
    workers = check_executor_args(workers, scheduler)
    request, grid, tolerance, budget = map_request(
        device, over, biases, energy, temperature, method=method, max_panel=max_panel,
        thermal_tolerance=thermal_tolerance, refinement_budget=refinement_budget, fixed=fixed)
    kind = BiasEnsembleKind(request, grid, tolerance, budget, seed_arr)
    return run_kind(kind, workers=workers, scheduler=scheduler, store=store, progress=progress,
                    fresh=fresh, report=report)
