"""Clean vs disordered gate sweeps: how disorder destroys the plateaus.

:func:`compare_disorder` runs the clean sweep on the engine and disorder
ensembles per strength, and measures the plateaus' deviation and flatness.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import validate as _validate
from ..analysis import find_plateaus, plateau_resolution
from ..budget import BYTES_PER_POINT, check_memory
from ..engine import sweep
from ..engine.result import save_dataset
from ..engine.store import clear_store
from ..terminals import spin_factor_of
from .bias import bias_map, map_request
from .bias_ensemble import bias_ensemble
from .born import born_mean_free_path
from .disorder import with_disorder
from .ensemble import EnsembleResult, ensemble

__all__ = ["BiasComparison", "CompareResult", "ThermalComparison", "compare_disorder"]


# ---------------------------------------------------------------------- clean vs disordered
@dataclass
class CompareResult:
    """Clean and disorder-averaged gate sweeps.

    ``x``: gate values; ``clean``: G (G0); ``ensembles``: U (meV) -> EnsembleResult;
    ``quality``: U -> dict(deviation=mean |median G - n| on the clean curve's
    plateau windows (G0), flatness=mean max |G - median| there (G0),
    L_over_le=L/l_tr (Born), plateaus=quantized plateaus (n >= 1) still found
    per seed), U = 0 for the clean curve; ``temperature``: K.
    """

    name: str
    x: np.ndarray
    clean: np.ndarray
    ensembles: dict
    quality: dict
    energy: float
    length: float
    unit: str = ""
    temperature: float = 0.0
    bias: float | None = None
    error_bound: float | None = None

    def to_dataset(self):
        """The comparison as an :class:`xarray.Dataset`: the clean trace, every seed's
        trace per disorder strength (``disorder`` x ``seed`` x gate), their mean and
        standard deviation, and the plateau-quality table (per strength)."""
        import xarray as xr
        strengths = sorted(self.ensembles)
        seeds = np.array(self.ensembles[strengths[0]].seeds) if strengths else np.zeros(0, int)
        samples = np.array([self.ensembles[u].conductance for u in strengths]) if strengths \
            else np.zeros((0, 0, self.x.size))
        quality_keys = ("deviation", "flatness", "L_over_le", "plateaus")
        levels = sorted(self.quality)
        data = xr.Dataset(
            {"clean": ((self.name,), self.clean, {"units": "G0", "long_name": "clean conductance"}),
             "conductance": (("disorder", "seed", self.name), samples,
                             {"units": "G0", "long_name": "disordered conductance per seed"}),
             **{f"quality_{k}": (("quality_disorder",),
                                 np.array([self.quality[u][k] for u in levels], dtype=float))
                for k in quality_keys}},
            coords={self.name: self.x, "disorder": np.array(strengths, dtype=float),
                    "seed": seeds, "quality_disorder": np.array(levels, dtype=float)})
        data[self.name].attrs["units"] = self.unit
        data["disorder"].attrs["units"] = "meV"
        data["quality_disorder"].attrs["units"] = "meV"
        data.attrs.update({"energy_meV": float(self.energy), "length_nm": float(self.length),
                           "temperature_K": float(self.temperature),
                           "title": "qpcsim compare: clean vs disordered"})
        if self.bias is not None:   # the traces are dI/dV at V_sd = bias (symmetric drop)
            for var in ("clean", "conductance"):
                data[var].attrs["long_name"] += " (dI/dV at bias_mV)"
            data.attrs.update(bias_mV=float(self.bias), bias_model="symmetric drop",
                              didv_error_bound=(float("nan") if self.error_bound is None
                                                else float(self.error_bound)))
        return data

    def save(self, path):
        """Write :meth:`to_dataset` as NetCDF-4 (atomically); returns the path."""
        data = self.to_dataset()
        return save_dataset(data, path)


def _clean_windows(x, clean):
    """Gate windows (start, stop, n) of the clean trace's quantized plateaus, n >= 1
    (the pinch-off G = 0 is no plateau of interest)."""
    return [(p.start, p.stop, p.index) for p in find_plateaus(x, clean) if p.index >= 1]


def _plateau_quality(x, traces, windows):
    """Plateau quality of each trace on the clean plateau windows.

    ``deviation``: mean over traces and windows of |median G - n| (G0);
    ``flatness``: mean of max |G - median G| in the window (G0);
    ``plateaus``: mean number of quantized plateaus (n >= 1) that
    :func:`qpcsim.analysis.find_plateaus` still finds in each trace.
    """
    devs, flats, counts = [], [], []
    for g in np.atleast_2d(traces):
        for start, stop, n in windows:
            inside = (x >= start) & (x <= stop)
            med = float(np.median(g[inside]))
            devs.append(abs(med - n))
            flats.append(float(np.max(np.abs(g[inside] - med))))
        counts.append(sum(1 for p in find_plateaus(x, g) if p.index >= 1))
    return dict(deviation=float(np.mean(devs)) if devs else float("nan"),
                flatness=float(np.mean(flats)) if flats else float("nan"),
                plateaus=float(np.mean(counts)))


def compare_disorder(device, strengths, seeds: int, over: dict, energy: float, *,
                     correlation_length: float = 0.0, temperature=0.0, bias=None, workers=None,
                     scheduler=None, progress: bool = False, store=None, fresh: bool = False,
                     report=None, **fixed):
    """Ensemble-averaged sweeps of ``device`` for each disorder strength (meV).

    The clean curve comes from :func:`qpcsim.sweep`; each strength wraps the
    device with :func:`qpcsim.with_disorder` (disorder over the whole
    scattering region, leads clean) and runs :func:`qpcsim.ensemble` over
    ``seeds`` seeds (each seed computes the whole trace). Plateau quality is
    measured on every seed's trace and averaged; L/l_e uses the Born transport
    mean free path at ``energy``.

    Parameters
    ----------
    device : qpcsim.Device
        A clean device (e.g. ``qpc_split_gate``).
    strengths : sequence of float
        Disorder strengths (meV): Anderson U, or U_rms if correlated.
    seeds : int
        Realizations per strength (>= 2).
    over : dict
        One swept parameter -> values (its own unit, e.g. Vg in V).
    energy : float
        Fermi energy (meV).
    correlation_length : float
        Gaussian correlation length (nm); 0 = Anderson disorder.
    temperature : float or sequence of float
        Temperature (K). A sequence (each > 0, e.g. ``[0.5, 2]``) runs the comparison
        at each and returns a :class:`ThermalComparison`; its plateau windows are the
        lowest temperature's clean plateaus at every temperature, so the metric shows
        the thermal smearing on the same gate windows.
    bias : float or sequence of float, optional
        Source-drain bias(es) V_sd (mV): the traces become the differential conductance
        dI/dV (G0) of each realization in the symmetric drop, mu_L,R = E_F +- eV/2, as
        :func:`qpcsim.bias_map` (:func:`qpcsim.bias_ensemble` for
        the disordered ones), each within its interpolation bound ``error_bound``
        <= 1e-4 G0 (a point that cannot be resolved raises
        :class:`~qpcsim.spectral.refine.ThermalResolutionError`). V_sd = 0 is the linear
        conductance, the zero-bias comparison itself. Returns a :class:`BiasComparison`
        over every (temperature, bias), with the plateau windows of the clean trace at the
        lowest temperature and smallest |V_sd|. None (default): no bias.
    workers, scheduler : optional
        Executors, as in :func:`qpcsim.sweep`.
    progress : bool
        Progress lines of every run (a bar in a terminal, else a line per interval and a
        summary per run).
    store : path, optional
        A directory (created if missing) holding one resumable SQLite store per engine run
        (``clean_T0K_<digest>.sqlite``, ``U5meV_T0K_<digest>.sqlite``,
        ``..._bias_<digest>.sqlite``; the digest covers everything else that defines the run,
        so different requests never share a file): every finished point is kept, and a
        rerun of the same comparison computes only the missing ones.
    fresh : bool
        Delete this comparison's own stores in ``store`` first (qpcsim stores not in use
        only; other files there are kept) and start over; needs ``store``.
    report : callable, optional
        ``report(line)`` receives notes (each store a ``fresh`` start deleted).
    **fixed
        Other device parameters.

    Returns
    -------
    CompareResult, ThermalComparison for a sequence of temperatures, or BiasComparison
    when ``bias`` is given
    """
    if not isinstance(over, Mapping) or len(over) != 1:
        raise ValueError(f"over={over!r} is not allowed: compare sweeps exactly one parameter "
                         "(e.g. over={'Vg': [-0.5, -0.4]})")
    name, values = next(iter(over.items()))
    x = _validate.finite_sequence(f"over[{name!r}]", values,
                                  device.units.get(name) or "its unit")
    strengths = [_validate.non_negative("disorder", u, "meV")
                 for u in np.atleast_1d(np.asarray(strengths, dtype=object))]
    if not strengths:
        raise ValueError("give at least one disorder strength")
    if isinstance(seeds, bool) or _validate.positive_int("seeds", seeds) < 2:
        raise ValueError(f"seeds={seeds!r} is not allowed: mean +- std bands need at least 2 "
                         "seeds (6 or more recommended)")
    # before the clean sweep: 1e9 seeds filled the memory once the ensembles began
    check_memory(float(seeds) * x.size * len(strengths) * BYTES_PER_POINT,
                 f"seeds={seeds!r} ({x.size} points x {len(strengths)} disorder strength(s))",
                 "use fewer seeds or points")
    lc = _validate.non_negative("correlation_length", correlation_length, "nm")
    report = _validate.callback("report", report)     # before fresh deletes anything
    energy = _validate.real_number("energy", energy, "meV")
    if _validate.flag("fresh", fresh) and store is None:
        raise ValueError("fresh=True is not allowed without store=: it deletes this "
                         "comparison's stores; give store=DIR or leave fresh out")
    temps = _temperatures(temperature)
    biases = _biases(bias)
    run = dict(strengths=strengths, seeds=int(seeds), name=name, x=x, energy=energy,
               correlation_length=lc, workers=workers, scheduler=scheduler, fixed=fixed,
               progress=progress, devices={U: with_disorder(device, U, correlation_length=lc)
                                           for U in strengths})
    every_t = [float(temperature)] if temps is None else temps
    if biases is not None:
        _check_biases(device, every_t, biases, run)
    run["stores"] = _store_paths(store, device, every_t, biases or [None], run)
    _clear_stores(run["stores"], fresh, report)
    if biases is not None:
        return _compare_biases(device, every_t, biases, run)
    if temps is None:
        return _compare_at(device, float(temperature), None, [None], **run)[0]
    first = _compare_at(device, temps[0], None, [None], **run)[0]
    windows = _clean_windows(x, first.clean)
    return ThermalComparison([first] + [_compare_at(device, t, windows, [None], **run)[0]
                                        for t in temps[1:]])


def _temperatures(temperature):
    """None for one temperature (a number, >= 0 K); else the sorted list (each > 0 K)."""
    if np.ndim(temperature) == 0:
        _validate.non_negative("temperature", temperature, "K")
        return None
    temps = [float(_validate.positive("temperature", t, "K")) for t in temperature]
    if not temps or len(set(temps)) != len(temps):
        raise ValueError(f"temperature={list(temperature)!r} is not allowed: give one or more "
                         "distinct temperatures (K)")
    return sorted(temps)


def _store_paths(store, device, temps, biases, run) -> dict | None:
    """(U (meV; None: clean), T (K), biased) -> the store file of each engine run of this
    comparison in the directory ``store`` (created), or None without ``store``."""
    if store is None:
        return None
    path = _validate.file_path("store", store)
    if path.exists() and not path.is_dir():
        raise ValueError(f"store={str(store)!r} is not allowed: compare keeps one store per "
                         "run in a directory; give a directory path")
    path.mkdir(parents=True, exist_ok=True)
    finite = [v for v in biases if v]
    modes = ([False] if len(finite) < len(biases) else []) + ([True] if finite else [])
    devices = {None: device, **run["devices"]}
    return {(U, t, biased): str(path / _store_name(devices[U], U, t, finite if biased else None,
                                                   run))
            for U in devices for t in temps for biased in modes}


def _exact(value: float) -> str:
    """``value`` as the shortest text that reads back as the same float ("2" for 2.0)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _as_float(value):
    """A number as a float (its spelling does not matter); anything else unchanged."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _store_name(device, U, temperature: float, finite, run) -> str:
    """The file name of one engine run's store: U (meV; None: clean) and T (K) exactly, and
    a digest of everything else that defines the run (device, gate values, energy, fixed
    parameters, seeds, the finite biases), so two requests never share a file while a rerun
    of the same one finds it."""
    spec = {"device": device.fingerprint(), "gate": run["name"], "values": run["x"].tolist(),
            # numbers as floats: 5, 5.0 and np.int64(5) are one request (API and CLI alike)
            "energy": float(run["energy"]),
            "fixed": {k: _as_float(run["fixed"][k]) for k in sorted(run["fixed"])},
            "seeds": None if U is None else run["seeds"],
            "biases": None if finite is None else [float(v) for v in finite]}
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=repr).encode())
    tag = "clean" if U is None else f"U{_exact(U)}meV"
    return (f"{tag}_T{_exact(temperature)}K{'_bias' if finite is not None else ''}"
            f"_{digest.hexdigest()[:12]}.sqlite")


def _clear_stores(stores, fresh: bool, report) -> None:
    """With ``fresh``, delete the stores this comparison writes (nothing else in their
    directory), each deletion reported."""
    for old in sorted(set(stores.values())) if fresh else []:
        if Path(old).exists():
            cleared = clear_store(old, "store")
            if report is not None:
                report(f"fresh start: deleted store={old!r} ({cleared} finished point(s))")


def _store_of(stores, U, temperature: float, biased: bool):
    """The store file of one engine run (None without a store directory)."""
    return None if stores is None else stores[(U, temperature, biased)]


def _biases(bias):
    """None without a bias; else the distinct biases (mV), ascending."""
    if bias is None:
        return None
    values = [bias] if np.ndim(bias) == 0 else list(bias)
    biases = [float(_validate.real_number("bias", v, "mV")) for v in values]
    if not biases or len(set(biases)) != len(biases):
        raise ValueError(f"bias={values!r} is not allowed: give one or more distinct "
                         "source-drain biases (mV)")
    return sorted(biases)


def _check_biases(device, temps, biases, run) -> None:
    """Every (bias, temperature) checked on the device before any run (one-line
    ValueErrors): the bias window grows with kT, so each temperature is checked."""
    finite = [v for v in biases if v]
    for t in temps if finite else []:
        map_request(device, {run["name"]: run["x"]}, finite, run["energy"], t,
                    fixed=run["fixed"])


def _compare_biases(device, temps, biases, run) -> "BiasComparison":
    """Every (temperature, bias), on the plateau windows of the clean trace at the lowest
    temperature and smallest |bias|."""
    smallest = min(biases, key=abs)
    first = _compare_at(device, temps[0], None, biases, reference=smallest, **run)
    windows = _clean_windows(run["x"], next(r.clean for r in first if r.bias == smallest))
    results = first + [r for t in temps[1:] for r in _compare_at(device, t, windows, biases,
                                                                 **run)]
    return BiasComparison(results)


def _clean_traces(device, temperature, biases, *, name, x, energy, workers, scheduler,
                  progress, fixed, stores, **_):
    """bias (mV; None: no bias) -> (clean G or dI/dV trace (G0), its bound (G0) or None)."""
    traces = {}
    linear = [v for v in biases if not v]
    if linear:      # no bias, or V_sd = 0: the linear conductance, the zero-bias compare's
        g = sweep(device, {name: x}, energy=energy, temperature=temperature, workers=workers,
                  scheduler=scheduler, progress=progress,
                  store=_store_of(stores, None, temperature, False),
                  **fixed).data["conductance"].values
        traces.update({v: (g, None) for v in linear})
    finite = [v for v in biases if v]
    if finite:
        data = bias_map(device, {name: x}, finite, energy, temperature, workers=workers,
                        scheduler=scheduler, progress=progress,
                        store=_store_of(stores, None, temperature, True), **fixed)
        for j, v in enumerate(finite):
            traces[v] = (data["differential_conductance"].values[:, j],
                         float(data["didv_error_bound"].values[:, j].max()))
    return traces


def _disordered_traces(U, temperature, biases, *, devices, seeds, name, x, energy, workers,
                       scheduler, progress, fixed, stores, **_):
    """bias (mV; None: no bias) -> (EnsembleResult of G or dI/dV (G0), its bound or None)
    of the device with disorder strength ``U`` (meV)."""
    device, traces = devices[U], {}
    linear = [v for v in biases if not v]
    if linear:
        ens = ensemble(device, seeds, energy, over={name: x}, temperature=temperature,
                       workers=workers, scheduler=scheduler, progress=progress,
                       store=_store_of(stores, U, temperature, False), **fixed)
        traces.update({v: (ens, None) for v in linear})
    finite = [v for v in biases if v]
    if finite:
        data = bias_ensemble(device, seeds, {name: x}, finite, energy, temperature,
                             workers=workers, scheduler=scheduler, progress=progress,
                             store=_store_of(stores, U, temperature, True), **fixed)
        for j, v in enumerate(finite):
            didv = data["differential_conductance"].values[:, :, j]
            # transmission: the bias kernel's average of T(E), as G = spin_factor T at V = 0
            traces[v] = (EnsembleResult(
                seeds=data["seed"].values, conductance=didv,
                transmission=didv / spin_factor_of(device),
                over={name: x}, energy=float(energy), params=device.resolve_params(fixed),
                executor=data.attrs["executor"], samples={"differential_conductance": didv}),
                float(data["didv_error_bound"].values[:, :, j].max()))
    return traces


def _length_ratio(device, U, energy, correlation_length) -> float:
    """L / l_tr, the Born transport mean free path at ``energy`` (meV) for strength U (meV)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        l_tr = born_mean_free_path(energy, U, device.a, material=device.material,
                                   correlation_length=correlation_length).l_tr
    return device.length / l_tr


def _compare_at(device, temperature, windows, biases, *, reference=None, **run):
    """The clean traces and the ensembles at one temperature (K), one
    :class:`CompareResult` per bias (mV; None: no bias); plateau quality on ``windows``
    (default: the clean plateaus at bias ``reference``)."""
    name, x = run["name"], run["x"]
    clean = _clean_traces(device, temperature, biases, **run)
    if windows is None:
        windows = _clean_windows(x, clean[reference][0])
    if not windows:
        _no_plateau(name, x, clean[reference][0])
    disordered = {U: _disordered_traces(U, temperature, biases, **run)
                  for U in run["strengths"]}
    ratio = {U: _length_ratio(device, U, run["energy"], run["correlation_length"])
             for U in run["strengths"]}
    results = []
    for v in biases:
        quality = {0.0: dict(_plateau_quality(x, clean[v][0], windows), L_over_le=0.0)}
        quality.update({U: dict(_plateau_quality(x, disordered[U][v][0].conductance, windows),
                                L_over_le=ratio[U]) for U in run["strengths"]})
        bounds = [b for b in [clean[v][1]] + [disordered[U][v][1] for U in disordered]
                  if b is not None]
        results.append(CompareResult(
            name=name, x=x, clean=clean[v][0], ensembles={U: disordered[U][v][0]
                                                          for U in disordered},
            quality=quality, energy=float(run["energy"]), length=float(device.length),
            unit=device.units.get(name, ""), temperature=float(temperature), bias=v,
            error_bound=max(bounds) if bounds else None))
    return results


def _no_plateau(name, x, clean):
    """Say why plateau quality cannot be measured: too few points per plateau, or a range
    without a plateau (the disorder ensembles would be computed for nothing)."""
    why = plateau_resolution(x, clean) if x.size >= 2 else ""
    raise ValueError(
        f"the clean sweep over {name} ({x.size} points) shows no quantized plateau with "
        "G >= 1 G0, so plateau quality cannot be measured: "
        + (why if why else f"G spans {np.min(clean):.2f}..{np.max(clean):.2f} G0 here; "
           "widen the sweep range to include a plateau"))


@dataclass
class ThermalComparison:
    """Clean vs disordered at several temperatures: one :class:`CompareResult` per
    temperature (ascending), all measured on the lowest temperature's clean plateau
    windows."""

    results: list

    @property
    def temperatures(self) -> np.ndarray:
        """The temperatures (K), ascending."""
        return np.array([r.temperature for r in self.results])

    def to_dataset(self):
        """Every temperature's :meth:`CompareResult.to_dataset` stacked along
        ``temperature`` (K)."""
        return _stack_temperatures([r.to_dataset() for r in self.results], self.temperatures,
                                   "qpcsim compare: clean vs disordered per temperature")

    def save(self, path):
        """Write :meth:`to_dataset` as NetCDF-4 (atomically); returns the path."""
        return save_dataset(self.to_dataset(), path)


def _stack_temperatures(parts, temperatures, title: str):
    """Datasets, one per temperature (K), stacked along a ``temperature`` coordinate."""
    import xarray as xr
    data = xr.concat(parts, dim="temperature", data_vars="all", coords="minimal",
                     compat="override", combine_attrs="drop_conflicts")
    data = data.assign_coords(temperature=("temperature", temperatures, {"units": "K"}))
    data.attrs["title"] = title
    return data


@dataclass
class BiasComparison:
    """Clean vs disordered dI/dV at several source-drain biases (and temperatures): one
    :class:`CompareResult` per (temperature, bias), temperature-major, biases ascending,
    all measured on the clean plateau windows at the lowest temperature and smallest
    |bias|."""

    results: list

    @property
    def temperatures(self) -> np.ndarray:
        """The distinct temperatures (K), ascending."""
        return np.unique([r.temperature for r in self.results])

    @property
    def biases(self) -> np.ndarray:
        """The distinct biases V_sd (mV), ascending."""
        return np.unique([r.bias for r in self.results])

    def at(self, bias: float, temperature: float | None = None) -> CompareResult:
        """The comparison at ``bias`` (mV) and ``temperature`` (K; default the lowest)."""
        t = self.temperatures[0] if temperature is None else float(temperature)
        for r in self.results:
            if r.bias == float(bias) and r.temperature == t:
                return r
        raise ValueError(f"bias={bias!r} mV, temperature={t!r} K is not in this comparison: "
                         f"biases {self.biases.tolist()} mV, temperatures "
                         f"{self.temperatures.tolist()} K")

    def to_dataset(self):
        """Every :meth:`CompareResult.to_dataset` stacked along ``bias`` (mV) and
        ``temperature`` (K); ``didv_error_bound`` (G0) per (temperature, bias)."""
        import xarray as xr
        rows = []
        for t in self.temperatures:
            parts = [self.at(v, t) for v in self.biases]
            row = xr.concat([p.to_dataset() for p in parts], dim="bias", data_vars="all",
                            coords="minimal", compat="override",
                            combine_attrs="drop_conflicts")
            row["didv_error_bound"] = ("bias", [p.error_bound if p.error_bound is not None
                                                else 0.0 for p in parts],
                                       {"units": "G0", "long_name":
                                        "largest interpolation bound of dI/dV (0: V_sd = 0, "
                                        "the linear G solved directly)"})
            rows.append(row.assign_coords(bias=("bias", self.biases, {"units": "mV"})))
        return _stack_temperatures(rows, self.temperatures,
                                   "qpcsim compare: clean vs disordered dI/dV per bias")

    def save(self, path):
        """Write :meth:`to_dataset` as NetCDF-4 (atomically); returns the path."""
        return save_dataset(self.to_dataset(), path)
