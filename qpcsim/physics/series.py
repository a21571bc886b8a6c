"""Temperature series of a sweep from one spectral sweep.

Each gate point is solved once on the shared energy grid of *all* the
temperatures (:mod:`qpcsim.spectral`); the conductance, thermopower, thermal
conductance, Lorenz ratio, Peltier coefficient and Johnson-Nyquist noise at
every temperature are integrals over that spectrum, so a series of N
temperatures costs one sweep on a somewhat denser grid, not N sweeps. The
spectral data themselves (T(E) and T_n(E) per point, gate x energy x channel)
are kept in the Dataset and in the resumable store.

Engine hook: :func:`run_temperature_series` takes a validated
:class:`~qpcsim.engine.SweepSpec` (its ``temperature`` is ignored) and the
temperatures; :func:`temperature_series` is the Python API.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math

import numpy as np

from .. import validate as _validate
from ..engine import DeviceRecipe, SweepSpec, make_executor
from ..engine.executors import check_executor_args
from ..engine.points import point_key, progress_bar
from ..engine.result import run_metadata
from ..engine.store import NoStore, Store
from ..engine.sweep import register_series_runner
from ..solver import refine_thermal
from ..spectral import compute_spectrum, device_grid
from ..spectral.refine import DEFAULT_REFINEMENT_BUDGET, DEFAULT_THERMAL_TOLERANCE
from .thermoelectric import thermoelectric

__all__ = ["SERIES_VARIABLES", "run_temperature_series", "temperature_series", "series_hash"]

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
    from ..units import G0_SIEMENS
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


def _series_header(spec: SweepSpec, temperatures, grid) -> dict:
    header = dict(spec.header())
    header["series"] = {"temperatures": [float(t) for t in temperatures],
                        "grid": grid.describe() if grid is not None else None}
    body = {k: v for k, v in header.items() if k != "hash"}
    header["hash"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return header


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
        grid = device_grid(spec.device, spec.energy, temps,
                           params=spec.device.resolve_params(spec.fixed))
    return temps, grid


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
    import xarray as xr

    temps, grid = _prepare(spec, temperatures)
    check_executor_args(workers, scheduler)      # before the store is opened
    device = spec.device
    points = list(itertools.product(*[spec.axes[n] for n in spec.names]))
    tasks = []
    for point in points:
        energy, _, method, params = spec.task(point)[:4]
        tasks.append((energy, params, method, grid, temps))
    header = _series_header(spec, temps, grid)
    stored = Store(store, header) if store is not None else NoStore()
    done = stored.results()
    results = {point_key(p): done[point_key(p)] for p in points if point_key(p) in done}
    todo = [k for k, p in enumerate(points) if point_key(p) not in results]
    bar = progress_bar(len(points), progress, "series", done=len(points) - len(todo))
    try:
        with make_executor(workers, scheduler) as executor:
            for index, rec in executor.imap_unordered(_series_point, DeviceRecipe(device),
                                                      [tasks[k] for k in todo]):
                key = point_key(points[todo[index]])
                stored.put(key, rec)
                results[key] = rec
                bar.update(1)
            ran_on = f"{executor.name}({getattr(executor, 'workers', 1)})"
    finally:
        bar.close()
        stored.close()
    records = [results[point_key(p)] for p in points]
    shape = tuple(len(spec.axes[n]) for n in spec.names)
    dims = tuple(spec.dim_names)
    coords = {d: spec.axes[n] for d, n in zip(dims, spec.names)}
    coords["temperature"] = np.array(temps)
    variables = {}
    for name, (unit, long_name) in SERIES_VARIABLES.items():
        arr = np.array([r[name] for r in records], dtype=float).reshape(shape + (len(temps),))
        variables[name] = (dims + ("temperature",), arr, {"units": unit, "long_name": long_name})
    if grid is not None:
        coords["energy_node"] = grid.nodes
        variables["spectrum_transmission"] = (
            dims + ("energy_node",),
            np.array([r["spectrum_transmission"] for r in records]).reshape(shape + (grid.size,)),
            {"units": "", "long_name": "T(E) at the shared grid's nodes"})
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
    data = xr.Dataset(variables, coords=coords)
    for d, n in zip(dims, spec.names):
        data[d].attrs["units"] = spec.unit(n)
    data["temperature"].attrs["units"] = "K"
    if grid is not None:
        data["energy_node"].attrs["units"] = "meV"
    provenance = run_metadata(spec, header)     # store_hash: the series header's
    provenance.pop("temperature_K")             # the temperatures are an axis
    data.attrs.update({
        "title": f"qpcsim temperature series of {device.name}",
        "swept": json.dumps(list(dims)),
        **provenance,
        "temperatures_K": json.dumps(temps),
        "sampling": "uniform",
        "executor": ran_on,
        "grid": json.dumps(grid.describe() if grid is not None else "per point"),
        "solves_per_point": int(records[0]["solves"]),
        "unitarity_error": float(max(r["unitarity_error"] for r in records)),
    })
    return data


def _series_spec(device, over, energy, temperatures, method, zeeman_from_B, fixed):
    temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    spec = SweepSpec.build(device, over, energy, float(temps.max()) if temps.size else 0.0,
                           method=method, fixed=fixed, zeeman_from_B=zeeman_from_B)
    return spec, temps


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
    spec, temps = _series_spec(device, over, energy, temperatures, method, zeeman_from_B, fixed)
    temps, grid = _prepare(spec, temps)
    return _series_header(spec, temps, grid)["hash"]


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
    spec, temps = _series_spec(device, over, energy, temperatures, method, zeeman_from_B, fixed)
    return run_temperature_series(spec, temps, workers=workers, scheduler=scheduler, store=store,
                                  progress=progress)


register_series_runner(temperature_series)
