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

__all__ = ["CompareResult", "compare_disorder"]


# ---------------------------------------------------------------------- clean vs disordered
@dataclass
class CompareResult:
    """Clean and disorder-averaged gate sweeps.

    ``x``: gate values; ``clean``: G (G0); ``ensembles``: U (meV) -> EnsembleResult;
    ``quality``: U -> dict(deviation=mean |median G - n| on the clean curve's
    plateau windows (G0), flatness=mean max |G - median| there (G0),
    L_over_le=L/l_tr (Born), plateaus=quantized plateaus (n >= 1) still found
    per seed), U = 0 for the clean curve.
    """

    name: str
    x: np.ndarray
    clean: np.ndarray
    ensembles: dict
    quality: dict
    energy: float
    length: float
    unit: str = ""

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
                     correlation_length: float = 0.0, workers=None, scheduler=None,
                     **fixed) -> CompareResult:
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
    workers, scheduler : optional
        Executors, as in :func:`qpcsim.sweep`.
    **fixed
        Other device parameters.
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
    clean = sweep(device, {name: x}, energy=energy, workers=workers, scheduler=scheduler,
                  progress=False, **fixed).data["conductance"].values
    windows = _clean_windows(x, clean)
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
        ddev = with_disorder(device, U, correlation_length=lc)
        r = ensemble(ddev, int(seeds), energy, over={name: x}, workers=workers,
                     scheduler=scheduler, **fixed)
        ens[U] = r
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l_tr = born_mean_free_path(energy, U, device.a, material=device.material,
                                       correlation_length=lc).l_tr
        q = _plateau_quality(x, r.conductance, windows)
        q["L_over_le"] = device.length / l_tr
        quality[U] = q
    return CompareResult(name=name, x=x, clean=clean, ensembles=ens, quality=quality,
                         energy=float(energy), length=float(device.length),
                         unit=device.units.get(name, ""))

