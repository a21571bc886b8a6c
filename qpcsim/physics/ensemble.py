"""Disorder ensembles: statistics of G over seeds, run on the sweep engine.

:func:`ensemble` is a grid sweep over ``seed`` (and optionally one more
parameter), a kind on the engine (:class:`EnsembleKind`), so it shares the engine's
executors, store, validation and bit-identical results; :class:`EnsembleResult` holds
the samples of every scalar observable with means, variances and standard errors
of G and ln G.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from ..budget import BYTES_PER_POINT, check_memory
from ..engine import ENERGY_NAMES, SweepSpec
from ..engine.kind import Run
from ..engine.points import GridKind
from ..engine.sweep import run_kind
from ..observables import scalar_observables
from .disorder import SEED_PARAM, check_seed

__all__ = ["EnsembleKind", "EnsembleResult", "check_seeds", "ensemble", "required_samples"]


def required_samples(statistic: str, rel_precision: float, *, mean: float = 1.0,
                     std: float = 1.0) -> int:
    """Samples needed to know ``statistic`` to relative standard error ``rel_precision``.

    ``"variance"``: SE(var)/var = sqrt(2/(n-1)) for near-Gaussian samples, so
    n = 2/p^2 + 1. ``"mean"``: SE/mean = std/(mean sqrt(n)).
    """
    p = _validate.positive("rel_precision", rel_precision)
    if statistic == "variance":
        return int(math.ceil(2.0 / p**2 + 1))
    if statistic == "mean":
        return max(2, int(math.ceil((std / (abs(mean) * p)) ** 2)))
    raise ValueError(f"statistic={statistic!r} is not allowed: use 'mean' or 'variance'")


def _sem(samples: np.ndarray) -> np.ndarray:
    n = samples.shape[0]
    return samples.std(axis=0, ddof=1) / math.sqrt(n)


def _var_sem(samples: np.ndarray) -> np.ndarray:
    """Standard error of the unbiased sample variance (from the fourth moment)."""
    n = samples.shape[0]
    dev = samples - samples.mean(axis=0)
    m4 = np.mean(dev**4, axis=0)
    var = samples.var(axis=0, ddof=1)
    return np.sqrt(np.maximum(m4 - (n - 3) / (n - 1) * var**2, 0.0) / n)


@dataclass
class EnsembleResult:
    """Disorder ensemble of conductances.

    Attributes
    ----------
    seeds : ndarray of int
        The seeds, in order; row k of every sample array belongs to ``seeds[k]``.
    conductance : ndarray
        Samples of G (G0), shape (n_seeds,) or (n_seeds, n_points) for a sweep.
    transmission : ndarray
        Samples of T (summed over modes), same shape.
    over : dict
        Swept parameter name -> values (empty for a single point).
    energy : float
        Fermi energy (meV).
    params : dict
        Fixed device parameters.
    mean, var, sem, var_sem : ndarray
        Mean of G (G0), its unbiased variance (G0^2), the standard error of the
        mean and of the variance.
    ln_mean, ln_var, ln_sem, ln_var_sem : ndarray
        Same for ln G (G in G0); ``-inf`` samples (G = 0) make them ``-inf``/``nan``.
    executor : str
        Executor that ran.
    samples : dict
        Samples of every scalar entry of the observables table (name -> array
        shaped like ``conductance``).
    """

    seeds: np.ndarray
    conductance: np.ndarray
    transmission: np.ndarray
    over: dict
    energy: float
    params: dict
    executor: str = "serial"
    samples: dict = field(default_factory=dict)
    mean: np.ndarray = field(init=False)
    var: np.ndarray = field(init=False)
    sem: np.ndarray = field(init=False)
    var_sem: np.ndarray = field(init=False)
    ln_mean: np.ndarray = field(init=False)
    ln_var: np.ndarray = field(init=False)
    ln_sem: np.ndarray = field(init=False)
    ln_var_sem: np.ndarray = field(init=False)

    def __post_init__(self):
        g = self.conductance
        self.mean, self.var = g.mean(axis=0), g.var(axis=0, ddof=1)
        self.sem, self.var_sem = _sem(g), _var_sem(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.log(g)
            self.ln_mean, self.ln_var = lg.mean(axis=0), lg.var(axis=0, ddof=1)
            self.ln_sem, self.ln_var_sem = _sem(lg), _var_sem(lg)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.seeds.size)

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation of G (G0)."""
        return np.sqrt(self.var)

    @property
    def ln_conductance(self) -> np.ndarray:
        """Samples of ln G (G in G0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.conductance)

    def histogram(self, bins: int = 20, log: bool = False):
        """Distribution of G (or ln G): ``(density, bin_edges)`` (numpy.histogram)."""
        data = self.ln_conductance if log else self.conductance
        data = data[np.isfinite(data)]
        return np.histogram(data, bins=bins, density=True)

    def require(self, statistic: str, rel_precision: float) -> None:
        """Raise ValueError if there are too few samples for ``statistic`` to
        ``rel_precision``, saying how many are needed."""
        needed = required_samples(statistic, rel_precision, mean=float(np.mean(self.mean)),
                                  std=float(np.mean(self.std)))
        if self.n < needed:
            raise ValueError(
                f"{self.n} seeds are too few to estimate the {statistic} of G to "
                f"{100 * rel_precision:g} %: at least {needed} are needed")


def _seed_list(seeds) -> np.ndarray:
    if isinstance(seeds, (str, bytes)):
        raise ValueError(f"seeds={seeds!r} is not allowed: give a number of seeds or a list of "
                         "non-negative integers")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds={seeds!r} is not allowed: give a positive number of seeds "
                             "or a list of seeds")
        # before any array of them (1e9 seeds filled the memory, and every point is a solve)
        check_memory(float(seeds) * BYTES_PER_POINT, f"seeds={seeds!r}",
                     "use fewer seeds (their points are held until the ensemble ends)")
        return np.arange(int(seeds))
    try:
        out = np.array([check_seed(s) for s in seeds], dtype=int)
    except TypeError:
        raise ValueError(f"seeds={seeds!r} is not allowed: give a number of seeds or a list of "
                         "non-negative integers") from None
    if out.size != np.unique(out).size:
        raise ValueError("seeds contains duplicates: each disorder realization must be distinct")
    return out


def check_seeds(device, seeds, fixed: Mapping) -> np.ndarray:
    """The seeds of an ensemble of ``device`` (a number n: 0 .. n-1, or explicit distinct
    non-negative integers; at least 2), checked: the device must have a ``seed`` parameter
    and ``fixed`` (the other parameters) must not set it. One-line ValueErrors."""
    if SEED_PARAM not in device.defaults:
        raise ValueError(f"device {device.name!r} has no 'seed' parameter: wrap it with "
                         "qpcsim.with_disorder(device, U) or use geometries/disordered_wire.py")
    seed_arr = _seed_list(seeds)
    if seed_arr.size < 2:
        raise ValueError(f"{seed_arr.size} seed is too few for an ensemble: the standard error "
                         "needs at least 2 seeds (use 20 or more for a variance)")
    if SEED_PARAM in fixed:
        raise ValueError("give the seeds in seeds=, not as a fixed parameter")
    return seed_arr


def ensemble(device, seeds: int | Iterable[int] = 20, energy: float | None = None, *,
             over: Mapping[str, Sequence[float]] | None = None, temperature: float = 0.0,
             workers: int | None = None, scheduler: str | None = None, method: str = "auto",
             store=None, progress: bool = False, **fixed) -> EnsembleResult:
    """Disorder average of the conductance over seeds.

    Parameters
    ----------
    device : qpcsim.Device
        A device with a ``seed`` parameter (from :func:`with_disorder` or
        ``geometries/disordered_wire.py``).
    seeds : int or iterable of int
        A number n (seeds 0 .. n-1) or explicit seeds; at least 2.
    energy : float
        Fermi energy (meV), unless ``over`` sweeps ``energy``.
    over : mapping, optional
        One swept parameter -> values: every seed computes the whole trace.
    temperature : float
        Temperature (K).
    workers, scheduler : optional
        As in :func:`qpcsim.sweep` (default: all local cores; 1 = serial).
    method : str
        The S-matrix back end, as in :func:`qpcsim.solve` (default "auto").
    store : path, optional
        Resumable SQLite store (:mod:`qpcsim.engine.store`): each finished (seed, point) is
        kept, and a rerun computes only the missing ones.
    progress : bool
        Progress bar (a plain line per interval when not in a terminal).
    **fixed
        Other device parameters (e.g. ``disorder`` in meV, ``B`` in T).

    Returns
    -------
    EnsembleResult
        Bit-identical for the same seeds on every executor.
    """
    seed_arr = check_seeds(device, seeds, fixed)
    over = dict(over or {})
    if len(over) > 1:
        raise ValueError(f"over={list(over)} sweeps {len(over)} parameters: ensemble sweeps one")
    name = next(iter(over), None)
    if name not in ENERGY_NAMES and energy is None:
        raise ValueError("energy (meV) is required unless over= sweeps it")
    # The ensemble is a grid sweep over (seed, [one swept name]) on the engine.
    axes = {SEED_PARAM: seed_arr.astype(float)}
    if name is not None:
        axes[name] = [float(_validate.real_number(name, v)) for v in over[name]]
    if name in ENERGY_NAMES:
        energy = None   # the swept energies replace a fixed one
    spec = SweepSpec.build(device, axes, energy, temperature, method=method, fixed=fixed)
    return run_kind(EnsembleKind(spec, seed_arr, name), workers=workers, scheduler=scheduler,
                    store=store, progress=progress)


class EnsembleKind(GridKind):
    """A disorder ensemble on the engine: a grid sweep over ``seed`` (and one more name)
    whose records become an :class:`EnsembleResult`."""

    name = "ensemble"
    label = "ensemble"

    def __init__(self, spec, seeds: np.ndarray, swept: str | None):
        super().__init__(spec)
        self.seeds, self.swept = seeds, swept

    def result_data(self, run: Run):
        """None: an ensemble's result is its :class:`EnsembleResult`, not the per-seed
        grid that :class:`GridKind` would describe."""
        return None

    def result(self, run: Run) -> EnsembleResult:
        spec, name, seeds = self.spec, self.swept, self.seeds
        n_pts = len(spec.axes[name]) if name is not None else 1
        samples = {entry.name: np.array([r[entry.name] for r in self.records])
                   .reshape(seeds.size, n_pts) for entry in scalar_observables()}
        if name is None:
            samples = {k: v[:, 0] for k, v in samples.items()}
        return EnsembleResult(
            seeds=seeds, conductance=samples["conductance"],
            transmission=samples["transmission"],
            over={name: np.asarray(spec.axes[name])} if name is not None else {},
            energy=float(spec.energy) if spec.energy is not None else float("nan"),
            params=spec.device.resolve_params(spec.fixed), executor=run.name, samples=samples)
