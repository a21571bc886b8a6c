"""Disorder landscapes: seeded random potentials added to any device.

Two disorder models, both functions of a seed only (bit-identical on every
machine and executor, because each landscape is drawn from its own
``numpy.random.default_rng(seed)`` stream and never from shared state):

* **Anderson** (``correlation_length = 0``): independent on-site energies,
  uniform in [-U/2, U/2] (meV); ``<V^2> = U^2/12``.
* **Gaussian-correlated** (``correlation_length = lc > 0``, nm): white noise
  convolved with a Gaussian, ``<V(r) V(r')> = U_rms^2 exp(-|r - r'|^2 / (2 lc^2))``,
  with the rms amplitude ``U_rms`` (meV): the smooth potential of remote donors.

:func:`with_disorder` adds a landscape to *any* device (the leads stay clean),
the one-band :class:`qpcsim.Device` and the model devices of
:mod:`qpcsim.hamiltonian` / :mod:`qpcsim.lattices` alike (there the landscape
enters as an onsite term times the device's ``potential_matrix``: the identity
in orbital space, tau_z for a Bogoliubov-de Gennes device):
the result has three extra runtime parameters, ``disorder`` (meV: U, or U_rms
when correlated), ``seed`` and ``correlation_length`` (nm), so an ensemble is a
loop over ``seed`` on one built system and the fast solver, and a sweep can
change the strength or the correlation length without rebuilding.
:func:`qpcsim.physics.ensemble.ensemble` runs that loop on the sweep engine.
Theory and fits live beside this module: :mod:`.born` (Born mean free path),
:mod:`.fits` (mean free path and localization length from ensembles).
"""
from __future__ import annotations

import inspect
import math
import sys

import numpy as np

from .. import validate as _validate
from ..backends.context import solver_context
from ..device import Device

__all__ = ["DisorderField", "SiteDisorderField", "with_disorder", "anderson_landscape", "correlated_landscape",
           "DISORDER_PARAM", "SEED_PARAM", "CORRELATION_PARAM", "check_seed",
           "check_correlation_length"]
DISORDER_PARAM = "disorder"
SEED_PARAM = "seed"
CORRELATION_PARAM = "correlation_length"


# ---------------------------------------------------------------------- landscapes
def check_seed(seed) -> int:
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
    rng = np.random.default_rng(check_seed(seed))
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
    rng = np.random.default_rng(check_seed(seed))
    noise = rng.standard_normal((nx + 2 * pad, ny + 2 * pad))
    sigma = lc / math.sqrt(2.0)
    smooth = scipy.ndimage.gaussian_filter(noise, sigma, mode="wrap", truncate=4.0)
    delta = np.zeros((2 * pad + 1, 2 * pad + 1))
    delta[pad, pad] = 1.0
    norm = math.sqrt(float(np.sum(scipy.ndimage.gaussian_filter(delta, sigma, mode="constant",
                                                                truncate=4.0) ** 2)))
    return strength * smooth[pad:pad + nx, pad:pad + ny] / norm


def check_correlation_length(value) -> float:
    lc = _validate.real_number(CORRELATION_PARAM, value, "nm")
    if lc < 0:
        raise ValueError(f"{CORRELATION_PARAM}={lc!r} nm is not allowed: it must be >= 0 (0 = Anderson "
                         "on-site disorder, > 0 = Gaussian-correlated disorder)")
    return lc


def check_correlation_fits(lc: float, side: float) -> None:
    """Refuse a correlation length ``lc`` (nm) longer than the device's largest ``side`` (nm):
    its noise grid, padded by 4 lc, grows as lc^2 for what is a random offset of the whole
    device."""
    if lc > side:
        raise ValueError(f"{CORRELATION_PARAM}={lc:g} nm is not allowed on this device: at most "
                         f"its largest side, {side:g} nm (a longer correlation is a random offset "
                         "of the whole device: give it as a potential)")


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
        seed = check_seed(seed)
        lc = check_correlation_length(correlation_length)
        # the noise grid is padded by 4 lc on every side: 2500 nm on 11 x 9 sites took
        # minutes, 1e6 nm asked for 18.6 TiB. The sides: L + a (nx columns), W (ny + 1 rows)
        check_correlation_fits(lc, max(self.nx, self.ny + 1) * self.a)
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
        strength = _validate.non_negative(DISORDER_PARAM, strength, "meV")
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


class SiteDisorderField(DisorderField):
    """A seeded random potential on the sites of any lattice (e.g. honeycomb).

    Same call and models as :class:`DisorderField`, for devices whose sites are
    not the square grid of :class:`qpcsim.Device`. The landscape is defined on
    the scattering-region sites of ``device`` (positions in nm) in a fixed order
    (sorted by x, then y, on a 1e-6 a grid), so it depends only on (seed, lc,
    site positions), never on Kwant's site order:

    * Anderson: site k of that order gets the k-th uniform number of
      ``default_rng(seed)``, times U, minus U/2.
    * Gaussian-correlated: white noise ``xi_g`` on a square grid of spacing
      ``a`` padded by 4 lc, ``V(r) = sum_g xi_g K(r - g) / sqrt(sum_g K(r - g)^2)``
      with ``K(r) = exp(-r^2/lc^2)`` (truncated at 4 lc/sqrt(2)): unit variance at
      every site and ``<V(r)V(r')> -> exp(-|r-r'|^2/(2 lc^2))`` for lc >> a.

    Positions that are not sites of the scattering region get zero.

    Parameters
    ----------
    device : ModelDevice
        Gives the site positions (``device.site_positions()``, nm) and ``a`` (nm).
    """

    def __init__(self, device):
        pos = np.asarray(device.site_positions(), dtype=float)
        self.a = float(device.a)
        key = np.round(pos / self.a * 1e6).astype(np.int64)
        order = np.lexsort((key[:, 1], key[:, 0]))
        self.positions = pos[order]
        self._keys = {(int(kx), int(ky)): k for k, (kx, ky) in enumerate(key[order])}
        self._cache: dict = {}
        self.side = float(np.ptp(pos, axis=0).max()) + self.a   # longest correlation taken (nm)

    def unit_landscape(self, seed, correlation_length: float = 0.0) -> np.ndarray:
        """Landscape (one value per site, in the sorted order) for unit strength (1 meV)."""
        seed = check_seed(seed)
        lc = check_correlation_length(correlation_length)
        check_correlation_fits(lc, self.side)
        land = self._cache.get((seed, lc))
        if land is not None:
            return land
        rng = np.random.default_rng(seed)
        if lc == 0:
            land = rng.random(len(self.positions)) - 0.5
        else:
            pad = 4.0 * lc
            lo = self.positions.min(axis=0) - pad
            hi = self.positions.max(axis=0) + pad
            gx = lo[0] + self.a * np.arange(int(np.ceil((hi[0] - lo[0]) / self.a)) + 1)
            gy = lo[1] + self.a * np.arange(int(np.ceil((hi[1] - lo[1]) / self.a)) + 1)
            noise = rng.standard_normal((gx.size, gy.size))
            cut = 4.0 * lc / math.sqrt(2.0)
            land = np.empty(len(self.positions))
            for k, (px, py) in enumerate(self.positions):
                ix = (gx > px - cut) & (gx < px + cut)
                iy = (gy > py - cut) & (gy < py + cut)
                kern = np.exp(-(((gx[ix, None] - px) ** 2 + (gy[None, iy] - py) ** 2) / lc**2))
                land[k] = np.sum(noise[np.ix_(ix, iy)] * kern) / math.sqrt(np.sum(kern**2))
        if len(self._cache) > 16:
            self._cache.clear()
        self._cache[(seed, lc)] = land
        return land

    def __call__(self, x, y, strength, seed, correlation_length=0.0) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        strength = _validate.non_negative(DISORDER_PARAM, strength, "meV")
        land = self.unit_landscape(seed, correlation_length)   # validates seed and lc
        out = np.zeros(x.shape)
        if strength == 0:
            return out
        kx = np.round(x / self.a * 1e6).astype(np.int64).ravel()
        ky = np.round(y / self.a * 1e6).astype(np.int64).ravel()
        index = np.array([self._keys.get((int(i), int(j)), -1) for i, j in zip(kx, ky)],
                         dtype=np.int64)
        flat = out.reshape(-1)
        found = index >= 0
        flat[found] = strength * land[index[found]]
        return out


def with_disorder(device, strength: float = 0.0, *, correlation_length: float = 0.0,
                  seed: int = 0):
    """A copy of ``device`` whose potential is the original plus a disorder field.

    Parameters
    ----------
    device : qpcsim.Device or ModelDevice
        Any device; its potential, shape, material and parameters are kept.
        For a model device (``ContinuumDevice``, ``BdGDevice``, ``GrapheneRibbon``)
        the landscape is an onsite term times its ``potential_matrix`` (the
        identity in orbital space; tau_z in BdG): every orbital of a site sees
        the same V. ``ContinuumDevice`` shares Device's grid (same seed, same
        landscape on the same grid); other lattices use :class:`SiteDisorderField`.
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
    qpcsim.Device or ModelDevice
        Of the same class as ``device``, with runtime parameters ``disorder`` (meV), ``seed`` and
        ``correlation_length`` (nm) in addition to the original ones: an
        ensemble or a sweep changes them without rebuilding. The leads stay clean.
    """

    _validate.device("device", device)
    strength = _validate.non_negative(DISORDER_PARAM, strength, "meV")
    seed = check_seed(seed)
    lc = check_correlation_length(correlation_length)
    names = tuple(device.potential_parameters)
    added = (DISORDER_PARAM, SEED_PARAM, CORRELATION_PARAM)
    clash = set(added) & set(names)
    if clash:
        raise ValueError(f"device {device.name!r} already has parameter(s) {sorted(clash)}: "
                         "it carries disorder already")
    from ..hamiltonian import ContinuumDevice, ModelDevice
    model = isinstance(device, ModelDevice)
    if model and not isinstance(device, ContinuumDevice):
        dfield = SiteDisorderField(device)          # any lattice (graphene)
    else:
        dfield = DisorderField(device)              # the square grid of Device / ContinuumDevice
    base = device.potential
    _pickle_geometry_by_value(base)

    def potential(x, y, **kw):
        strength_ = kw.pop(DISORDER_PARAM)
        seed_ = kw.pop(SEED_PARAM)
        lc_ = kw.pop(CORRELATION_PARAM)
        total = dfield(x, y, strength_, seed_, lc_)
        if base is not None:
            total = total + base(x, y, **kw)
        return total

    potential.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("x", "y")]
        + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names + added])
    params = dict(device.defaults) if model else {n: device.defaults[n] for n in names}
    params.update({DISORDER_PARAM: strength, SEED_PARAM: float(seed), CORRELATION_PARAM: lc})
    units = dict(device.units)
    units.update({DISORDER_PARAM: "meV", SEED_PARAM: "", CORRELATION_PARAM: "nm"})
    meta = {k: v for k, v in device.metadata.items()
            if k not in ("geometry_file", "geometry_sha256", "geometry_params")}
    meta["disorder"] = {"base_fingerprint": device.fingerprint(),
                        "model": "Anderson (correlation_length = 0) or Gaussian-correlated"}
    if model:
        disordered = _model_with_potential(device, potential, params, units, meta)
    else:
        disordered = Device(
            width=device.width, length=device.length, a=device.a, potential=potential,
            shape=device.shape, params=params, units=units, material=device.material,
            zeeman=device.zeeman, name=f"{device.name}+disorder", metadata=meta,
            **({} if getattr(device, "leads", None) is None     # multi-terminal devices
               else dict(leads=device.leads, gauge=device.gauge)))
    # The leads stay clean: their band edges (keyed by the lead parameters) are the
    # original's, found once for every strength of a comparison.
    solver_context(disordered).band_edges = solver_context(device).band_edges
    return disordered


def _model_with_potential(device, potential, params, units, meta):
    """A copy of the model device ``device`` with a new potential (its Kwant system,
    caches and memos are rebuilt on first use)."""
    import copy
    new = copy.copy(device)
    new.__dict__.update(device.__getstate__())          # drop the built system and caches
    new.metadata = meta
    new.name = f"{device.name}+disorder"
    new._init_parameters(potential, params, units,
                         reserved=set(getattr(device, "constants", {})) | {"energy"})
    return new


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
