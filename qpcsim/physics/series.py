"""Temperature series of a sweep from one spectral sweep.

Each gate point is solved once on the shared energy grid of *all* the
temperatures (:mod:`qpcsim.spectral`); the conductance, thermopower, thermal
conductance, Lorenz ratio, Peltier coefficient and Johnson-Nyquist noise at
every temperature are integrals over that spectrum, so a series of N
temperatures costs one sweep on a somewhat denser grid, not N sweeps. The
spectral data themselves (T(E) and T_n(E) per point, gate x energy x channel)
are kept in the Dataset and in the resumable store.

A kind on the engine (:class:`SeriesKind`, registered as ``"temperature_series"``:
:func:`qpcsim.sweep` and ``qpcsim sweep`` with a swept T on a grid run it);
:func:`run_temperature_series` takes a validated :class:`~qpcsim.engine.SweepSpec`
(its ``temperature`` is ignored) and the temperatures; :func:`temperature_series`
is the Python API.
"""
from __future__ import annotations

import itertools
import json
import math
from typing import NamedTuple

import numpy as np

from .. import validate as _validate
from ..budget import BYTES_PER_POINT
from ..engine import SweepSpec
from ..engine.kind import Kind, Run, register_kind
from ..engine.result import run_metadata
from ..engine.result_data import ResultData
from ..engine.store import task_key
from ..engine.sweep import run_kind
from ..engine.task import SweepTask
from ..solver import refine_thermal
from ..units import G0_SIEMENS
from ..spectral import compute_spectrum, device_grid
from ..spectral.refine import DEFAULT_REFINEMENT_BUDGET, DEFAULT_THERMAL_TOLERANCE
from .thermoelectric import thermoelectric

__all__ = ["SERIES_VARIABLES", "SeriesKind", "run_temperature_series", "temperature_series",
           "series_hash"]

#: Per-(point, temperature) variables: name -> (unit, long name).
SERIES_VARIABLES = {
    "conductance": ("G0", "linear conductance at temperature T, G0 = 2e^2/h"),
    "thermal_error": ("", "error estimate of the thermal average of the transmission"),
    "thermopower": ("uV/K", "thermopower S (exact Onsager integrals)"),
    "thermopower_mott": ("uV/K", "thermopower from Mott's formula"),
    "thermal_conductance": ("W/K", "electronic thermal conductance kappa"),
    "thermal_conductance_quanta": ("", "kappa / kappa_0, kappa_0 = pi^2 k_B^2 T / 3h"),
    "lorenz_ratio": ("", "Lorenz ratio (kappa / G T) / L_0"),
    "peltier": ("mV", "Peltier coefficient Pi = S T"),
    "johnson_noise": ("A^2/Hz", "Johnson-Nyquist noise 4 k_B T G"),
}
_KB_J = 1.380649e-23


def _series_point(device, task):
    """Worker: one spectrum, every temperature's observables, and the nodal data."""
    energy, params, method, grid, temperatures = task
    resolved = device.resolve_params(params)
    if grid is None:
        grid = device_grid(device, energy, temperatures, params=resolved)
    shared = compute_spectrum(device, grid, resolved, method)
    # refined where the shared nodes miss a resonance (the stored nodal data stay the shared ones)
    spec = refine_thermal(device, shared, resolved, method, DEFAULT_THERMAL_TOLERANCE,
                          max(DEFAULT_REFINEMENT_BUDGET, grid.size))
    rec = {name: [] for name in SERIES_VARIABLES}
    for temp in temperatures:
        g = spec.conductance(temp)
        rec["conductance"].append(g)
        rec["thermal_error"].append(spec.thermal_error("transmission", temp))
        try:
            te = thermoelectric(spec, temp)
            values = (te.thermopower, te.thermopower_mott, te.thermal_conductance,
                      te.thermal_conductance_quanta, te.lorenz_ratio, te.peltier)
        except ValueError:      # pinched off: no transport in the window
            values = (math.nan,) * 6
        for name, v in zip(list(SERIES_VARIABLES)[2:8], values):
            rec[name].append(float(v))
        rec["johnson_noise"].append(4 * _KB_J * temp * g * G0_SIEMENS)
    rec["spectrum_transmission"] = shared.transmission.tolist()
    rec["spectrum_eigenvalues"] = [row.tolist() for row in shared.eigenvalues]
    rec["solves"] = spec.solves
    rec["unitarity_error"] = spec.unitarity_error
    return rec


def _prepare(spec: SweepSpec, temperatures):
    """Checked temperatures (K) and the shared energy grid (None when the energy is swept)."""
    if spec.adaptive is not None:
        raise ValueError("a temperature series needs a grid sweep: adaptive sampling picks points "
                         "for one conductance trace")
    structural = spec.structural_names + sorted(spec.structural_fixed)
    if structural:
        raise ValueError(f"structural parameters {structural} are not allowed in a temperature "
                         "series (each value rebuilds the system and its energy grid): build the "
                         "device with them, or use qpcsim.sweep with a temperature axis")
    temps = [float(_validate.positive("temperature", t, "K")) for t in np.atleast_1d(temperatures)]
    if not temps:
        raise ValueError("temperatures=[] is not allowed: give at least one temperature (K)")
    if len(set(temps)) != len(temps):
        raise ValueError(f"temperatures={temps} repeat a value")
    grid = None
    # a swept B or E_Z moves the lead thresholds: each point then builds its own grid
    lead_swept = any(n in spec.device.lead_parameters for n in spec.names)
    if not spec.energy_swept and not lead_swept:
        # E_Z derived from a fixed B (zeeman_from_B) moves the thresholds too
        grid = device_grid(spec.device, spec.energy, temps,
                           params=spec.device.resolve_params(spec.with_zeeman(dict(spec.fixed))))
    return temps, grid


class SeriesTask(NamedTuple):
    """One gate point of a temperature series, as sent to a worker."""

    energy: float
    params: dict
    method: str
    grid: object            # the shared SpectralGrid, None: each point builds its own
    temperatures: list


def _point_header(temperatures, grid) -> dict:
    """The temperature series' part of the store header."""
    return {"temperatures": [float(t) for t in temperatures],
            "grid": grid.describe() if grid is not None else None}


class SeriesKind(Kind):
    """A temperature series on the engine: one spectrum per gate point, every temperature's
    observables from it (:func:`_series_point`), assembled into a Dataset with a
    ``temperature`` axis (:func:`run_temperature_series`)."""

    name = "temperature_series"
    label = "series"

    def __init__(self, spec: SweepSpec, temperatures):
        self.spec = spec
        self.temps, self.grid = _prepare(spec, temperatures)
        self.recipe_device = spec.device
        self.points = list(itertools.product(*[spec.axes[n] for n in spec.names]))
        self.tasks = []
        for point in self.points:
            energy, _, method, params = spec.task(point)[:4]
            self.tasks.append(SeriesTask(energy, params, method, self.grid, self.temps))
        nodes = self.grid.size if self.grid is not None else 64
        self.bytes_per_point = BYTES_PER_POINT + 16 * nodes * (len(self.temps) + 8)

    @property
    def worker(self):
        return _series_point

    def key(self, task) -> str:        # the shared grid is in the header
        return task_key(SweepTask(task.energy, task.temperatures, task.method, task.params, {}))

    def body(self) -> dict:
        return {**self.spec.body(), "series": _point_header(self.temps, self.grid)}

    def result(self, run: Run):
        return self.result_data(run).to_dataset()

    def result_data(self, run: Run) -> ResultData:
        return _series_data(self, self.records, run)


def _spectrum_variables(grid, records, dims, shape) -> dict:
    """The nodal data of a series on one shared grid (point x energy_node [x channel])."""
    variables = {"spectrum_transmission": (
        dims + ("energy_node",),
        np.array([r["spectrum_transmission"] for r in records]).reshape(shape + (grid.size,)),
        {"units": "", "long_name": "T(E) at the shared grid's nodes"})}
    width = max(len(r["spectrum_eigenvalues"][0]) for r in records)
    eig = np.zeros((len(records), grid.size, width))
    for k, r in enumerate(records):
        rows = np.array(r["spectrum_eigenvalues"])
        eig[k, :, :rows.shape[1]] = rows
    variables["spectrum_eigenvalues"] = (
        dims + ("energy_node", "channel"), eig.reshape(shape + (grid.size, width)),
        {"units": "", "long_name": "transmission eigenvalues T_n(E) at the nodes"})
    variables["quadrature_weight"] = (("energy_node",), grid.weights,
                                      {"units": "meV", "long_name": grid.weight_name})
    return variables


def _series_data(kind: SeriesKind, records, run: Run) -> ResultData:
    """The result of a finished series (see :func:`run_temperature_series`)."""
    spec, temps, grid = kind.spec, kind.temps, kind.grid
    shape = tuple(len(spec.axes[n]) for n in spec.names)
    dims = tuple(spec.dim_names)
    coords = {d: ((d,), spec.axes[n], {"units": spec.unit(n)}) for d, n in zip(dims, spec.names)}
    coords["temperature"] = (("temperature",), np.array(temps), {"units": "K"})
    variables = {}
    for name, (unit, long_name) in SERIES_VARIABLES.items():
        arr = np.array([r[name] for r in records], dtype=float).reshape(shape + (len(temps),))
        variables[name] = (dims + ("temperature",), arr, {"units": unit, "long_name": long_name})
    if grid is not None:
        coords["energy_node"] = (("energy_node",), grid.nodes, {"units": "meV"})
        variables.update(_spectrum_variables(grid, records, dims, shape))
    data = ResultData(variables, coords)
    provenance = run_metadata(spec, kind.header())     # store_hash: the series header's
    provenance.pop("temperature_K")                    # the temperatures are an axis
    data.attrs.update({
        "title": f"qpcsim temperature series of {spec.device.name}",
        "swept": json.dumps(list(dims)),
        **provenance,
        "temperatures_K": json.dumps(temps),
        "sampling": "uniform",
        "executor": run.executor,
        "grid": json.dumps(grid.describe() if grid is not None else "per point"),
        "solves_per_point": int(records[0]["solves"]),
        # (no lead axis here: the summary must know a multi-terminal device by this)
        "leads": len(getattr(spec.device, "terminals", ("left", "right"))),
        "unitarity_error": float(max(r["unitarity_error"] for r in records)),
    })
    return data


def run_temperature_series(spec: SweepSpec, temperatures, *, workers: int | None = None,
                           scheduler: str | None = None, store=None, progress: bool = True):
    """Run a grid :class:`SweepSpec` as a temperature series; return an ``xarray.Dataset``.

    Parameters
    ----------
    spec : SweepSpec
        A gridded (not adaptive) sweep; its own ``temperature`` is not used.
    temperatures : sequence of float
        Temperatures (K), each > 0.
    workers, scheduler
        As for :func:`qpcsim.sweep`.
    store : path, optional
        Resumable SQLite store (:mod:`qpcsim.engine.store`; the spectral data of each
        finished point), keyed by a header with the temperatures and the energy grid.
    progress : bool
        Progress bar.

    Returns
    -------
    xarray.Dataset
        The swept dimensions plus ``temperature`` for every entry of
        :data:`SERIES_VARIABLES`; ``spectrum_transmission`` (point x
        ``energy_node``) and ``spectrum_eigenvalues`` (point x ``energy_node``
        x ``channel``) when the energy is not swept (one shared grid). Attributes: the
        provenance of :func:`qpcsim.engine.result.run_metadata` (``store_hash`` the series
        header's, see :func:`series_hash`), ``temperatures_K``, ``solves_per_point``; saved
        with :meth:`qpcsim.engine.SweepResult.save` it is read back by
        :func:`qpcsim.load_result` (``qpcsim plot`` draws one curve per temperature).
    """
    return run_kind(SeriesKind(spec, temperatures), workers=workers, scheduler=scheduler,
                    store=store, progress=progress)


def _series_kind(device, over, energy, temperatures, method, zeeman_from_B, fixed) -> SeriesKind:
    try:
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"temperatures={temperatures!r} is not allowed: give temperatures in "
                         "K (numbers)") from None
    spec = SweepSpec.build(device, over, energy, float(temps.max()) if temps.size else 0.0,
                           method=method, fixed=fixed, zeeman_from_B=zeeman_from_B)
    return SeriesKind(spec, temps)


def series_hash(device, over, energy: float | None = None, temperatures=(1.0,), *,
                method: str = "auto", zeeman_from_B: bool = False, **fixed) -> str:
    """The content hash that :func:`temperature_series` with these arguments records
    (its store's header and the Dataset's ``store_hash``), computed without solving:
    ``qpcsim sweep`` compares it with an existing ``--out`` before replacing it.

    Parameters
    ----------
    device, over, energy, temperatures, method, zeeman_from_B, **fixed
        As for :func:`temperature_series`.

    Returns
    -------
    str
        SHA-256 hex digest.
    """
    return _series_kind(device, over, energy, temperatures, method, zeeman_from_B,
                        fixed).header()["hash"]


def temperature_series(device, over, energy: float | None = None, temperatures=(1.0,), *,
                       workers: int | None = None, scheduler: str | None = None, store=None,
                       progress: bool = True, method: str = "auto", zeeman_from_B: bool = False,
                       **fixed):
    """Conductance, thermopower, kappa, L/L0, Peltier and Johnson noise of a gate sweep at several
    temperatures, from one spectral sweep.

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    over : mapping
        Swept names -> values, as for :func:`qpcsim.sweep` (grid only).
    energy : float
        Fermi energy (meV), unless swept.
    temperatures : sequence of float
        Temperatures (K), each > 0.
    workers, scheduler, store, progress, method, zeeman_from_B, **fixed
        As for :func:`qpcsim.sweep` (``**fixed``: runtime parameters only; structural
        ones are refused, build the device with them).

    Returns
    -------
    xarray.Dataset
        See :func:`run_temperature_series`.

    Examples
    --------
    >>> ds = qpcsim.temperature_series(dev, over={"V0": np.linspace(4, 9, 200)}, energy=9.0,
    ...                                temperatures=[0.5, 1, 2, 4])      # doctest: +SKIP
    >>> ds["conductance"].sel(temperature=1.0)                            # doctest: +SKIP
    """
    kind = _series_kind(device, over, energy, temperatures, method, zeeman_from_B, fixed)
    return run_kind(kind, workers=workers, scheduler=scheduler, store=store, progress=progress)


def _planned_series(device, over, energy, temperatures, *, method, zeeman_from_B, fixed):
    """The engine's :func:`~qpcsim.engine.sweep.plan_sweep` hands a swept T on a grid here."""
    return _series_kind(device, over, energy, temperatures, method, zeeman_from_B, fixed)


register_kind(SeriesKind.name, _planned_series)
