"""Disorder: random landscapes, ensembles, mean free path and localization.

Two disorder models, both functions of a seed only (bit-identical on every
machine and executor, because each landscape is drawn from its own
``numpy.random.default_rng(seed)`` stream and never from shared state):

* **Anderson** (``correlation_length = 0``): independent on-site energies,
  uniform in [-U/2, U/2] (meV); ``<V^2> = U^2/12``.
* **Gaussian-correlated** (``correlation_length = lc > 0``, nm): white noise
  convolved with a Gaussian, ``<V(r) V(r')> = U_rms^2 exp(-|r - r'|^2 / (2 lc^2))``,
  with the rms amplitude ``U_rms`` (meV): the smooth potential of remote donors.

:func:`with_disorder` adds a landscape to *any* device (the leads stay clean):
the result has three extra runtime parameters, ``disorder`` (meV: U, or U_rms
when correlated), ``seed`` and ``correlation_length`` (nm), so an ensemble is a
loop over ``seed`` on one built system and the fast solver, and a sweep can
change the strength or the correlation length without rebuilding.
:func:`ensemble` runs the loop on the sweep engine's executors and returns the
mean, variance and full distribution of G and ln G with standard errors.

Physics helpers: :func:`born_mean_free_path` (Born approximation for Anderson
disorder on the square lattice, derived in ``docs/disorder_and_lengths.md``),
:func:`fit_mean_free_path` (``<T>(L) = N / (1 + L/l)``, ``l = (pi/2) l_tr`` in 2-D),
:func:`fit_localization_length` (``<ln T> = c - 2L/xi``) and
:func:`predicted_localization_length` (``xi = (beta N + 2 - beta) l``).
"""
from __future__ import annotations

import inspect
import math
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import validate as _validate

__all__ = [
    "DisorderField", "with_disorder", "anderson_landscape", "correlated_landscape",
    "EnsembleResult", "ensemble", "required_samples",
    "lattice_dos_per_site", "fermi_surface_velocity", "BornEstimate", "born_mean_free_path",
    "MeanFreePathFit", "fit_mean_free_path", "LocalizationFit", "fit_localization_length",
    "predicted_localization_length", "plot_mean_free_path", "UCF_VARIANCE", "BORN_VALIDITY_LIMIT",
]

#: Universal conductance fluctuations of a quasi-1-D diffusive wire, var(T):
#: 2/15 for beta = 1 (time-reversal symmetric), 1/15 for beta = 2 (broken by B).
UCF_VARIANCE = {1: 2.0 / 15.0, 2: 1.0 / 15.0}
#: Largest hbar/tau / E_F for which the Born estimate is trusted (k_F l_e >~ 2 pi).
BORN_VALIDITY_LIMIT = 0.3
_DISORDER_PARAM = "disorder"
_SEED_PARAM = "seed"
_LC_PARAM = "correlation_length"


# ---------------------------------------------------------------------- landscapes
def _seed(seed) -> int:
    value = _validate.real_number("seed", seed)
    if value != int(value) or value < 0:
        raise ValueError(f"seed={seed!r} is not allowed: it must be a non-negative integer")
    return int(value)


def anderson_landscape(shape: tuple[int, int], strength: float, seed: int) -> np.ndarray:
    """Anderson on-site energies (meV), uniform in [-U/2, U/2].

    Parameters
    ----------
    shape : (int, int)
        Lattice columns x rows (nx, ny).
    strength : float
        Disorder strength U (meV), >= 0.
    seed : int
        Seed of the landscape; the same seed gives the same landscape bit for bit.
    """
    strength = _validate.non_negative("disorder strength U", strength, "meV")
    rng = np.random.default_rng(_seed(seed))
    return strength * (rng.random(shape) - 0.5)


def correlated_landscape(shape: tuple[int, int], strength: float, seed: int,
                         correlation_sites: float) -> np.ndarray:
    """Gaussian-correlated landscape (meV) with rms amplitude ``strength``.

    ``<V(r)V(r')> = strength^2 exp(-|r-r'|^2 / (2 lc^2))`` with ``lc =
    correlation_sites`` lattice constants. White noise on a grid padded by
    4 lc on every side is filtered by a Gaussian of width lc/sqrt(2) (the
    convolution of two such Gaussians gives the stated correlation) and divided
    by the exact kernel norm, so the variance is ``strength^2`` in expectation.
    """
    import scipy.ndimage
    strength = _validate.non_negative("disorder strength U", strength, "meV")
    lc = _validate.positive("correlation length", correlation_sites, "lattice constants")
    pad = int(math.ceil(4 * lc))
    nx, ny = shape
    rng = np.random.default_rng(_seed(seed))
    noise = rng.standard_normal((nx + 2 * pad, ny + 2 * pad))
    sigma = lc / math.sqrt(2.0)
    smooth = scipy.ndimage.gaussian_filter(noise, sigma, mode="wrap", truncate=4.0)
    delta = np.zeros((2 * pad + 1, 2 * pad + 1))
    delta[pad, pad] = 1.0
    norm = math.sqrt(float(np.sum(scipy.ndimage.gaussian_filter(delta, sigma, mode="constant",
                                                                truncate=4.0) ** 2)))
    return strength * smooth[pad:pad + nx, pad:pad + ny] / norm


def _correlation_length(value) -> float:
    lc = _validate.real_number(_LC_PARAM, value, "nm")
    if lc < 0:
        raise ValueError(f"{_LC_PARAM}={lc!r} nm is not allowed: it must be >= 0 (0 = Anderson "
                         "on-site disorder, > 0 = Gaussian-correlated disorder)")
    return lc


class DisorderField:
    """A seeded random potential on a device's lattice.

    ``field(x, y, strength, seed, correlation_length=0.0) -> meV`` at positions
    ``x``, ``y`` (nm). ``correlation_length`` (nm) selects the model at call
    time: 0 gives Anderson disorder (uniform in [-U/2, U/2], ``strength`` = U),
    > 0 Gaussian-correlated disorder of rms amplitude ``strength``. The
    landscape depends only on (seed, correlation length, grid): it is
    cached per (seed, lc) and never drawn from shared random state.

    Parameters
    ----------
    device : qpcsim.Device
        Fixes the grid (``a``, ``length``, ``width`` in nm); sites outside the
        scattering region (the leads) get zero.
    """

    def __init__(self, device):
        self.a = device.a
        self.nx, self.ny = device.nx, device.ny
        self.x0 = -0.5 * device.length
        self.y0 = -0.5 * device.width + device.a
        self._cache: dict = {}

    def unit_landscape(self, seed, correlation_length: float = 0.0) -> np.ndarray:
        """Landscape (nx, ny) for unit strength (1 meV), cached per (seed, lc).

        Parameters
        ----------
        seed : int
            Non-negative integer (a float with an integer value is accepted).
        correlation_length : float
            lc (nm); 0 = Anderson.
        """
        seed = _seed(seed)
        lc = _correlation_length(correlation_length)
        key = (seed, lc)
        land = self._cache.get(key)
        if land is None:
            if lc == 0:
                land = anderson_landscape((self.nx, self.ny), 1.0, seed)
            else:
                land = correlated_landscape((self.nx, self.ny), 1.0, seed, lc / self.a)
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = land
        return land

    def __call__(self, x, y, strength, seed, correlation_length=0.0) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        strength = _validate.non_negative(_DISORDER_PARAM, strength, "meV")
        i = np.rint((x - self.x0) / self.a).astype(int)
        j = np.rint((y - self.y0) / self.a).astype(int)
        inside = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        out = np.zeros(np.broadcast(x, y).shape)
        land = self.unit_landscape(seed, correlation_length)   # validates seed and lc
        if strength == 0:
            return out
        i, j = np.broadcast_to(i, out.shape), np.broadcast_to(j, out.shape)
        out[inside] = strength * land[i[inside], j[inside]]
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state


def with_disorder(device, strength: float = 0.0, *, correlation_length: float = 0.0,
                  seed: int = 0):
    """A copy of ``device`` whose potential is the original plus a disorder field.

    Parameters
    ----------
    device : qpcsim.Device
        Any device; its potential, shape, material and parameters are kept.
    strength : float
        Default disorder strength (meV): U of Anderson disorder (correlation
        length 0) or the rms amplitude of correlated disorder. Runtime
        parameter ``disorder``.
    correlation_length : float
        Default correlation length lc (nm); 0 = Anderson disorder. Runtime
        parameter ``correlation_length``.
    seed : int
        Default seed (runtime parameter ``seed``).

    Returns
    -------
    qpcsim.Device
        With runtime parameters ``disorder`` (meV), ``seed`` and
        ``correlation_length`` (nm) in addition to the original ones: an
        ensemble or a sweep changes them without rebuilding. The leads stay clean.
    """
    from .device import Device

    strength = _validate.non_negative(_DISORDER_PARAM, strength, "meV")
    seed = _seed(seed)
    lc = _correlation_length(correlation_length)
    names = tuple(device._potential_names)
    added = (_DISORDER_PARAM, _SEED_PARAM, _LC_PARAM)
    clash = set(added) & set(names)
    if clash:
        raise ValueError(f"device {device.name!r} already has parameter(s) {sorted(clash)}: "
                         "it carries disorder already")
    dfield = DisorderField(device)
    base = device.potential
    _pickle_geometry_by_value(base)

    def potential(x, y, **kw):
        strength_ = kw.pop(_DISORDER_PARAM)
        seed_ = kw.pop(_SEED_PARAM)
        lc_ = kw.pop(_LC_PARAM)
        total = dfield(x, y, strength_, seed_, lc_)
        if base is not None:
            total = total + base(x, y, **kw)
        return total

    potential.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("x", "y")]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names + added])
    params = {n: device.defaults[n] for n in names}
    params.update({_DISORDER_PARAM: strength, _SEED_PARAM: float(seed), _LC_PARAM: lc})
    units = dict(device.units)
    units.update({_DISORDER_PARAM: "meV", _SEED_PARAM: "", _LC_PARAM: "nm"})
    meta = {k: v for k, v in device.metadata.items()
            if k not in ("geometry_file", "geometry_sha256", "geometry_params")}
    meta["disorder"] = {"base_fingerprint": device.fingerprint(),
                        "model": "Anderson (correlation_length = 0) or Gaussian-correlated"}
    return Device(width=device.width, length=device.length, a=device.a, potential=potential,
                  shape=device.shape, params=params, units=units, material=device.material,
                  zeeman=device.zeeman, name=f"{device.name}+disorder", metadata=meta)


def _pickle_geometry_by_value(func) -> None:
    """Geometry files are imported under generated module names that worker
    processes (Dask) cannot import: ship their functions by value."""
    module = sys.modules.get(getattr(func, "__module__", "") or "")
    if module is not None and module.__name__.startswith("qpcsim_geometry_"):
        import cloudpickle
        try:
            cloudpickle.register_pickle_by_value(module)
        except ValueError:  # already registered
            pass


# ---------------------------------------------------------------------- ensembles
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
    """

    seeds: np.ndarray
    conductance: np.ndarray
    transmission: np.ndarray
    over: dict
    energy: float
    params: dict
    executor: str = "serial"
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


def _ensemble_task(device, item):
    from .solver import solve
    seed, energy, temperature, fixed, name, values, method = item
    g, t = [], []
    for v in (values if name is not None else [None]):
        params = dict(fixed)
        params[_SEED_PARAM] = float(seed)
        e = energy
        if name in ("energy", "E"):
            e = float(v)
        elif name is not None:
            params[name] = float(v)
        r = solve(device, e, temperature=temperature, method=method, **params)
        g.append(r.conductance)
        t.append(r.transmission)
    return np.array(g), np.array(t)


def _seed_list(seeds) -> np.ndarray:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds={seeds!r} is not allowed: give a positive number of seeds "
                             "or a list of seeds")
        return np.arange(int(seeds))
    try:
        out = np.array([_seed(s) for s in seeds], dtype=int)
    except TypeError:
        raise ValueError(f"seeds={seeds!r} is not allowed: give a number of seeds or a list of "
                         "non-negative integers") from None
    if out.size != np.unique(out).size:
        raise ValueError("seeds contains duplicates: each disorder realization must be distinct")
    return out


def ensemble(device, seeds: int | Iterable[int] = 20, energy: float | None = None, *,
             over: Mapping[str, Sequence[float]] | None = None, temperature: float = 0.0,
             workers: int | None = None, scheduler: str | None = None, method: str = "auto",
             **fixed) -> EnsembleResult:
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
    **fixed
        Other device parameters (e.g. ``disorder`` in meV, ``B`` in T).

    Returns
    -------
    EnsembleResult
        Bit-identical for the same seeds on every executor.
    """
    from .executors import DeviceRecipe, make_executor

    if _SEED_PARAM not in device.defaults:
        raise ValueError(f"device {device.name!r} has no 'seed' parameter: wrap it with "
                         "qpcsim.with_disorder(device, U) or use geometries/disordered_wire.py")
    seed_arr = _seed_list(seeds)
    if seed_arr.size < 2:
        raise ValueError(f"{seed_arr.size} seed is too few for an ensemble: the standard error "
                         "needs at least 2 seeds (use 20 or more for a variance)")
    if _SEED_PARAM in fixed:
        raise ValueError("give the seeds in seeds=, not as a fixed parameter")
    over = dict(over or {})
    if len(over) > 1:
        raise ValueError(f"over={list(over)} sweeps {len(over)} parameters: ensemble sweeps one")
    name, values = (None, None)
    if over:
        name, values = next(iter(over.items()))
        values = [float(_validate.real_number(name, v)) for v in values]
        if name not in ("energy", "E"):
            device.resolve_params({name: values[0]})
    if name not in ("energy", "E"):
        if energy is None:
            raise ValueError("energy (meV) is required unless over= sweeps it")
        energy = _validate.real_number("energy", energy, "meV")
    fixed = device.resolve_params(fixed)
    fixed = {k: v for k, v in fixed.items() if k != _SEED_PARAM and
             (k in device._potential_names or k in device.lead_parameters) and k != name}
    items = [(int(s), energy, float(temperature), fixed, name, values, method) for s in seed_arr]
    n_pts = len(values) if name is not None else 1
    g = np.empty((seed_arr.size, n_pts))
    t = np.empty((seed_arr.size, n_pts))
    recipe = DeviceRecipe(device)
    with make_executor(workers, scheduler) as ex:
        for index, (gi, ti) in ex.imap_unordered(_ensemble_task, recipe, items):
            g[index], t[index] = gi, ti
        exname = ex.name
    if name is None:
        g, t = g[:, 0], t[:, 0]
    return EnsembleResult(seeds=seed_arr, conductance=g, transmission=t,
                          over={name: np.array(values)} if name is not None else {},
                          energy=float(energy) if energy is not None else float("nan"),
                          params=fixed, executor=exname)


# ---------------------------------------------------------------------- Born approximation
def lattice_dos_per_site(energy_t: float) -> float:
    """Density of states per site and spin of the square lattice (1/t).

    ``rho(E) = K(1 - (eps/4)^2) / (2 pi^2 t)`` with ``eps = E/t - 4`` measured
    from the band centre (E from the band bottom, in units of t) and K the
    complete elliptic integral of the first kind (parameter m). ``rho -> 1/(4 pi t)``
    at the band bottom, the continuum value m*a^2/(2 pi hbar^2).
    """
    import scipy.special
    e = _validate.real_number("energy", energy_t, "t")
    if not 0 < e < 8:
        raise ValueError(f"energy={e:g} t is outside the band (0, 8t)")
    eps = e - 4.0
    return float(scipy.special.ellipk(1.0 - (eps / 4.0) ** 2) / (2 * math.pi**2))


def fermi_surface_velocity(energy_t: float, samples: int = 20001) -> float:
    """Fermi-surface average of the speed |v| on the square lattice (t a / hbar).

    ``<|v|> = int d^2k delta(E - e_k) |v_k| / int d^2k delta(E - e_k)`` with
    ``e_k = 4 - 2 cos kx - 2 cos ky`` and ``v = 2 (sin kx, sin ky)``; the contour is
    parametrized by ``kx = kmax sin(phi)`` so the turning points are integrable.
    Tends to the continuum value ``2 sqrt(E/t)`` near the band bottom.
    """
    e = _validate.real_number("energy", energy_t, "t")
    if not 0 < e < 8:
        raise ValueError(f"energy={e:g} t is outside the band (0, 8t)")
    c = 2.0 - 0.5 * e   # cos kx + cos ky on the Fermi contour
    c = abs(c)           # (kx, ky) -> (pi - kx, pi - ky) maps c -> -c, |v| unchanged
    if c >= 2.0:
        return 0.0
    kmax = math.acos(c - 1.0)
    phi = (np.arange(samples) + 0.5) / samples * math.pi - 0.5 * math.pi
    kx = kmax * np.sin(phi)
    ky = np.arccos(np.clip(c - np.cos(kx), -1.0, 1.0))
    vx, vy = 2 * np.sin(kx), 2 * np.sin(ky)
    weight = kmax * np.cos(phi) / np.maximum(np.abs(vy), 1e-300)
    return float(np.sum(np.hypot(vx, vy) * weight) / np.sum(weight))


def _fermi_contour(energy_t: float, samples: int = 400):
    """Points on the square-lattice Fermi contour e_k = E with their density-of-
    states weights (sum 1): ``kx, ky`` (1/a), ``vx, vy`` (t a/hbar), ``w``.

    Parametrized as in :func:`fermi_surface_velocity` (upper half mirrored to the
    lower). Above the band centre the contour of 8t - E is used: (kx, ky) ->
    (pi - kx, pi - ky) leaves |v| and every |k - k'| pattern's statistics alike.
    """
    c = abs(2.0 - 0.5 * energy_t)
    kmax = math.acos(c - 1.0)
    phi = (np.arange(samples) + 0.5) / samples * math.pi - 0.5 * math.pi
    kx = kmax * np.sin(phi)
    ky = np.arccos(np.clip(c - np.cos(kx), -1.0, 1.0))
    w = kmax * np.cos(phi) / np.maximum(2 * np.abs(np.sin(ky)), 1e-300)
    kx, ky, w = np.concatenate([kx, kx]), np.concatenate([ky, -ky]), np.concatenate([w, w])
    return kx, ky, 2 * np.sin(kx), 2 * np.sin(ky), w / w.sum()


def _kernel_1d(correlation_sites: float):
    """The 1-D Gaussian of :func:`correlated_landscape`'s filter: weights g(s) at
    offsets s (sites), normalized so the 2-D kernel g(sx) g(sy) has unit norm."""
    import scipy.ndimage
    lc = float(correlation_sites)
    pad = int(math.ceil(4 * lc))
    delta = np.zeros(2 * pad + 1)
    delta[pad] = 1.0
    g = scipy.ndimage.gaussian_filter1d(delta, lc / math.sqrt(2.0), mode="constant", truncate=4.0)
    return g / math.sqrt(float(np.sum(g**2))), np.arange(-pad, pad + 1)


def _pair_transform(k, g, s):
    """ghat(k_i - k_j) = sum_s g(s) e^{i (k_i - k_j) s} for all pairs, via
    cos/sin products (an n x m times m x n product instead of n^2 m exponentials)."""
    c, sn = np.cos(np.outer(k, s)), np.sin(np.outer(k, s))
    return (c * g) @ c.T + (sn * g) @ sn.T + 1j * ((sn * g) @ c.T - (c * g) @ sn.T)


def _born_averages(energy_t: float, correlation_sites: float, samples: int = 300):
    """<S(k - k')> and <S(k - k') (1 - cos theta_vv')> over pairs of Fermi-contour
    points (DOS-weighted): the elastic and transport factors of the golden rule.

    S(q) = |ghat(qx)|^2 |ghat(qy)|^2 is the normalized spectral density of the
    landscape (mean 1 over the Brillouin zone, S = 1 for white noise): the 2-D
    filter of :func:`correlated_landscape` is the outer product g(sx) g(sy).
    """
    kx, ky, vx, vy, w = _fermi_contour(energy_t, samples)
    g, s = _kernel_1d(correlation_sites)
    S = np.abs(_pair_transform(kx, g, s)) ** 2 * np.abs(_pair_transform(ky, g, s)) ** 2
    speed = np.hypot(vx, vy)
    cos = (vx[:, None] * vx[None, :] + vy[:, None] * vy[None, :]) / np.outer(speed, speed)
    ww = np.outer(w, w)
    return float(np.sum(ww * S)), float(np.sum(ww * S * (1.0 - cos)))


@dataclass
class BornEstimate:
    """Born-approximation scattering of disorder on the square lattice.

    Attributes
    ----------
    energy, strength : float
        Fermi energy (meV, from the band bottom) and the disorder strength
        (meV): Anderson U, or the rms amplitude when correlated.
    correlation_length : float
        Gaussian correlation length (nm); 0 = Anderson disorder.
    hbar_over_tau : float
        Elastic scattering rate hbar/tau_e (meV): 2 pi rho(E) U^2/12 for
        Anderson disorder, 2 pi rho(E) U_rms^2 <S(k - k')> when correlated.
    tau_ps : float
        Elastic scattering time (ps).
    velocity : float
        Fermi-surface average speed (m/s).
    l_e : float
        Elastic mean free path v tau_e (nm).
    l_tr : float
        Transport mean free path v tau_tr (nm); equal to l_e for isotropic
        point scatterers (Anderson), longer for smooth disorder.
    l_wire : float
        The l of the quasi-1-D law <T> = N/(1 + L/l): (pi/2) l_tr in 2-D (nm).
    k_f_l : float
        k_F l_e (dimensionless); the Born estimate needs k_F l_e >> 1.
    ratio : float
        (hbar/tau_e)/E_F; reliable below ``BORN_VALIDITY_LIMIT``.
    valid : bool
        Whether the weak-disorder condition holds.
    """

    energy: float
    strength: float
    hbar_over_tau: float
    tau_ps: float
    velocity: float
    l_e: float
    l_tr: float
    l_wire: float
    k_f_l: float
    ratio: float
    valid: bool
    correlation_length: float = 0.0


def born_mean_free_path(energy: float, strength: float, a: float, *,
                        correlation_length: float = 0.0, material=None,
                        warn: bool = True) -> BornEstimate:
    """Born mean free paths of disorder of strength ``strength`` at ``energy``.

    Fermi's golden rule on the square lattice (derived in
    ``docs/disorder_and_lengths.md``): ``hbar/tau_e = 2 pi rho(E) <V^2> <S>``
    with rho the lattice DOS per site, ``<V^2> = U^2/12`` (Anderson) or
    ``U_rms^2`` (correlated), and S(q) the normalized spectral density of the
    landscape (1 for Anderson) averaged over pairs of Fermi-contour points;
    the transport rate carries the extra factor ``1 - cos theta`` between the
    velocities. ``l = <|v|> tau``.

    Parameters
    ----------
    energy : float
        Fermi energy (meV), measured from the band bottom; inside the band (0, 8t).
    strength : float
        Disorder strength (meV): Anderson U, or the rms amplitude U_rms of
        correlated disorder.
    a : float
        Lattice constant (nm).
    correlation_length : float
        Gaussian correlation length (nm) of :func:`correlated_landscape`; 0
        (default) = Anderson disorder.
    material : qpcsim.Material, optional
        Sets t = hbar^2/(2 m* a^2); GaAs by default.
    warn : bool
        Warn (RuntimeWarning, with the reason) when the disorder is too strong
        for the Born approximation (hbar/tau_e > 0.3 E_F).
    """
    from .units import E_CHARGE, GAAS, HBAR, hopping_meV, wavevector_per_nm
    material = material or GAAS
    energy = _validate.positive("energy", energy, "meV")
    U = _validate.non_negative("disorder", strength, "meV")
    a = _validate.positive("a", a, "nm")
    lc = _correlation_length(correlation_length)
    t = hopping_meV(a, material)
    e = energy / t
    rho = lattice_dos_per_site(e) / t                       # 1/meV per site (checks the band)
    if lc == 0:
        v2, s_el, s_tr = U**2 / 12.0, 1.0, 1.0
    else:
        v2 = U**2
        s_el, s_tr = _born_averages(e, lc / a)
    rate = 2 * math.pi * rho * v2 * s_el                      # hbar/tau_e in meV
    rate_tr = 2 * math.pi * rho * v2 * s_tr                   # hbar/tau_tr in meV
    v_lat = fermi_surface_velocity(e)                        # t a / hbar
    velocity = v_lat * t * 1e-3 * E_CHARGE * a * 1e-9 / HBAR   # m/s
    if rate == 0:
        l_e, l_tr, tau_ps = math.inf, math.inf, math.inf
    else:
        l_e = v_lat * t / rate * a                           # nm
        l_tr = v_lat * t / rate_tr * a
        tau_ps = HBAR / (rate * 1e-3 * E_CHARGE) * 1e12
    kf = wavevector_per_nm(energy, material)
    ratio = rate / energy
    valid = ratio <= BORN_VALIDITY_LIMIT
    if warn and not valid:
        what = f"U={U:g} meV" if lc == 0 else f"U_rms={U:g} meV (lc={lc:g} nm)"
        warnings.warn(
            f"disorder {what} is too strong for the Born approximation at E={energy:g} meV: "
            f"hbar/tau = {rate:.3g} meV is {ratio:.2f} E_F (> {BORN_VALIDITY_LIMIT}) and "
            f"k_F l_e = {kf * l_e:.2g}; the electron is scattered before it completes a "
            "wavelength, so the Born mean free path is meaningless (measure it instead)",
            RuntimeWarning, stacklevel=2)
    return BornEstimate(energy=energy, strength=U, hbar_over_tau=rate, tau_ps=tau_ps,
                        velocity=velocity, l_e=l_e, l_tr=l_tr, l_wire=0.5 * math.pi * l_tr,
                        k_f_l=kf * l_e, ratio=ratio, valid=valid, correlation_length=lc)


# ---------------------------------------------------------------------- fits
@dataclass
class MeanFreePathFit:
    """Fit of <T>(L) = N / (1 + L/l).

    Attributes
    ----------
    l : float
        Fitted quasi-1-D mean free path (nm).
    l_stderr : float
        Its standard error (nm).
    l_tr : float
        Transport mean free path 2 l / pi (nm) (2-D relation).
    modes : int
        N, open channels.
    lengths, mean_T, sem_T : ndarray
        The data (nm, -, -).
    """

    l: float
    l_stderr: float
    l_tr: float
    modes: int
    lengths: np.ndarray
    mean_T: np.ndarray
    sem_T: np.ndarray

    def model(self, lengths) -> np.ndarray:
        """N / (1 + L/l) at ``lengths`` (nm)."""
        return self.modes / (1.0 + np.asarray(lengths, dtype=float) / self.l)


def fit_mean_free_path(lengths, mean_T, modes: int, sem_T=None) -> MeanFreePathFit:
    """Fit ``<T>(L) = N/(1 + L/l)`` (one parameter, l in the units of ``lengths``).

    Uses the linear form ``N/<T> - 1 = L/l`` weighted by the standard errors,
    then ``scipy.optimize.curve_fit`` on the original form.
    """
    import scipy.optimize
    L = np.asarray(lengths, dtype=float)
    T = np.asarray(mean_T, dtype=float)
    if L.size < 2 or L.shape != T.shape:
        raise ValueError("fit_mean_free_path needs at least 2 lengths with one <T> each")
    N = int(modes)
    if np.any(T <= 0) or np.any(T > N):
        raise ValueError(f"<T> must lie in (0, N={N}] for the fit; got {T}")
    sem = np.full_like(T, 1e-3) if sem_T is None else np.maximum(np.asarray(sem_T, float), 1e-9)
    guess = float(np.sum(L**2) / np.sum(L * (N / T - 1.0)))
    popt, pcov = scipy.optimize.curve_fit(lambda x, l: N / (1.0 + x / l), L, T, p0=[guess],
                                          sigma=sem, absolute_sigma=sem_T is not None)
    l = float(popt[0])
    return MeanFreePathFit(l=l, l_stderr=float(np.sqrt(pcov[0, 0])), l_tr=2 * l / math.pi,
                           modes=N, lengths=L, mean_T=T, sem_T=np.asarray(sem))


@dataclass
class LocalizationFit:
    """Fit of <ln T>(L) = c - 2 L / xi.

    Attributes
    ----------
    xi, xi_stderr : float
        Localization length and its standard error (units of the lengths).
    intercept : float
        c (dimensionless).
    """

    xi: float
    xi_stderr: float
    intercept: float
    lengths: np.ndarray
    mean_lnT: np.ndarray


def fit_localization_length(lengths, mean_lnT, sem_lnT=None) -> LocalizationFit:
    """Linear fit of ``<ln T>`` vs L in the localized regime: slope = -2/xi."""
    L = np.asarray(lengths, dtype=float)
    y = np.asarray(mean_lnT, dtype=float)
    if L.size < 2 or not np.all(np.isfinite(y)):
        raise ValueError("fit_localization_length needs >= 2 lengths with finite <ln T>")
    w = None if sem_lnT is None else 1.0 / np.maximum(np.asarray(sem_lnT, float), 1e-12)
    (slope, c), cov = np.polyfit(L, y, 1, w=w, cov="unscaled" if w is not None else True) \
        if L.size > 2 else (np.polyfit(L, y, 1), np.zeros((2, 2)))
    if slope >= 0:
        raise ValueError(f"<ln T> does not decrease with L (slope {slope:.3g}): the wire is not "
                         "localized; make it longer or the disorder stronger")
    xi = -2.0 / slope
    return LocalizationFit(xi=xi, xi_stderr=float(2 * math.sqrt(abs(cov[0, 0])) / slope**2),
                           intercept=float(c), lengths=L, mean_lnT=y)


def predicted_localization_length(modes: int, l: float, beta: int = 1) -> float:
    """xi = (beta N + 2 - beta) l, with l the quasi-1-D mean free path of
    <T> = N/(1 + L/l) (Beenakker, Rev. Mod. Phys. 69, 731 (1997))."""
    if beta not in (1, 2, 4):
        raise ValueError(f"beta={beta!r} is not allowed: use 1, 2 or 4")
    return (beta * int(modes) + 2 - beta) * float(l)


def plot_mean_free_path(fit: MeanFreePathFit, path, born: BornEstimate | None = None):
    """Figure: <T>(L) with error bars, the fit N/(1 + L/l) and (if given) the
    Born prediction N/(1 + L/((pi/2) l_tr^Born))."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.6))
    L = np.linspace(0, fit.lengths.max() * 1.05, 200)
    ax.errorbar(fit.lengths, fit.mean_T, yerr=fit.sem_T, fmt="ko", ms=4, label="ensemble <T>")
    ax.plot(L, fit.model(L), "C0-",
            label=f"fit: l = {fit.l:.0f} nm, l_tr = 2l/pi = {fit.l_tr:.0f} nm")
    if born is not None:
        ax.plot(L, fit.modes / (1 + L / born.l_wire), "C1--",
                label=f"Born: l_tr = {born.l_tr:.0f} nm")
    ax.set_xlabel("L (nm)")
    ax.set_ylabel(r"$\langle T\rangle$")
    ax.set_title(f"N = {fit.modes} modes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
