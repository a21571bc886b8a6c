"""Clean vs disordered gate sweeps: how disorder destroys the plateaus.

:func:`compare_disorder` runs the clean sweep on the engine and disorder
ensembles per strength, and measures the plateaus' deviation and flatness.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..analysis import find_plateaus, plateau_resolution
from ..engine import sweep
from ..engine.result import save_dataset
from .born import born_mean_free_path
from .disorder import with_disorder
from .ensemble import ensemble

__all__ = ["CompareResult", "ThermalComparison", "compare_disorder"]


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
                     correlation_length: float = 0.0, temperature=0.0, workers=None,
                     scheduler=None, **fixed):
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
    workers, scheduler : optional
        Executors, as in :func:`qpcsim.sweep`.
    **fixed
        Other device parameters.

    Returns
    -------
    CompareResult, or ThermalComparison for a sequence of temperatures
    """
    if len(over) != 1:
        raise ValueError("compare sweeps exactly one parameter (e.g. Vg)")
    name, values = next(iter(over.items()))
    x = np.asarray(values, dtype=float)
    strengths = [_validate.non_negative("disorder", u, "meV") for u in strengths]
    if not strengths:
        raise ValueError("give at least one disorder strength")
    if isinstance(seeds, bool) or int(seeds) != seeds or seeds < 2:
        raise ValueError(f"seeds={seeds!r} is not allowed: mean +- std bands need at least 2 "
                         "seeds (6 or more recommended)")
    lc = _validate.non_negative("correlation_length", correlation_length, "nm")
    temps = _temperatures(temperature)
    run = dict(strengths=strengths, seeds=int(seeds), name=name, x=x, energy=energy,
               correlation_length=lc, workers=workers, scheduler=scheduler, fixed=fixed)
    if temps is None:
        return _compare_at(device, float(temperature), None, **run)
    first = _compare_at(device, temps[0], None, **run)
    windows = _clean_windows(x, first.clean)
    return ThermalComparison([first] + [_compare_at(device, t, windows, **run)
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


def _compare_at(device, temperature, windows, *, strengths, seeds, name, x, energy,
                correlation_length, workers, scheduler, fixed) -> CompareResult:
    """The clean sweep and the ensembles at one temperature (K); plateau quality on
    ``windows`` (default: this clean trace's plateaus)."""
    clean = sweep(device, {name: x}, energy=energy, temperature=temperature, workers=workers,
                  scheduler=scheduler, progress=False, **fixed).data["conductance"].values
    windows = _clean_windows(x, clean) if windows is None else windows
    if not windows:
        # Say why: too few points per plateau, or a range without a plateau; the
        # disorder ensembles would be computed for a quality that cannot be measured.
        why = plateau_resolution(x, clean) if x.size >= 2 else ""
        raise ValueError(
            f"the clean sweep over {name} ({x.size} points) shows no quantized plateau with "
            "G >= 1 G0, so plateau quality cannot be measured: "
            + (why if why else f"G spans {np.min(clean):.2f}..{np.max(clean):.2f} G0 here; "
               "widen the sweep range to include a plateau"))
    quality = {0.0: dict(_plateau_quality(x, clean, windows), L_over_le=0.0)}
    ens = {}
    for U in strengths:
        ddev = with_disorder(device, U, correlation_length=correlation_length)
        ens[U] = ensemble(ddev, seeds, energy, over={name: x}, temperature=temperature,
                          workers=workers, scheduler=scheduler, **fixed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l_tr = born_mean_free_path(energy, U, device.a, material=device.material,
                                       correlation_length=correlation_length).l_tr
        quality[U] = dict(_plateau_quality(x, ens[U].conductance, windows),
                          L_over_le=device.length / l_tr)
    return CompareResult(name=name, x=x, clean=clean, ensembles=ens, quality=quality,
                         energy=float(energy), length=float(device.length),
                         unit=device.units.get(name, ""), temperature=float(temperature))


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
        import xarray as xr
        parts = [r.to_dataset() for r in self.results]
        data = xr.concat(parts, dim="temperature", data_vars="all", coords="minimal",
                         compat="override", combine_attrs="drop_conflicts")
        data = data.assign_coords(temperature=("temperature", self.temperatures,
                                               {"units": "K"}))
        data.attrs["title"] = "qpcsim compare: clean vs disordered per temperature"
        return data

    def save(self, path):
        """Write :meth:`to_dataset` as NetCDF-4 (atomically); returns the path."""
        return save_dataset(self.to_dataset(), path)
