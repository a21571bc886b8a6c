"""The observables table: one declaration per per-point observable.

Every layer that handles per-point numbers loops over :data:`OBSERVABLES`: the
solver's :class:`~qpcsim.solver.TransportResult` (``result.<name>`` for any
entry), the sweep store's records, the sweep's xarray Dataset (one variable
per entry, with its unit and long name), disorder ensembles (samples of every
scalar entry) and the plots (axis labels). A new observable is one entry here
plus its test.

An entry's ``extract(result)`` receives the :class:`TransportResult` of one
solve (S-matrix, transmission eigenvalues, modes, ...) and returns a number,
or for ``dims=("channel",)`` a 1-D array (padded with NaN to the longest in a
sweep), for ``dims=("lead",)`` one integer per lead, for ``dims=("lead", "lead_voltage")``
an N x N matrix (the conductance matrix; NaN-padded to the most leads in a sweep).
Named four-terminal resistances (``R_xy`` ...) are entries added by
:func:`register_resistance`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Observable", "OBSERVABLES", "observable", "scalar_observables", "register_observable",
           "register_resistance", "to_record", "from_records"]


@dataclass(frozen=True)
class Observable:
    """One per-point observable.

    Attributes
    ----------
    name : str
        Attribute of :class:`TransportResult`, store key and Dataset variable.
    unit : str
        Unit as written on axes and in NetCDF ``units`` ("" = dimensionless).
    long_name : str
        What it is, for captions and NetCDF ``long_name``.
    extract : callable
        ``extract(result) -> value`` from one :class:`TransportResult`.
    dims : tuple of str
        Extra dimensions per point: ``()`` (a number), ``("channel",)`` (ragged,
        NaN-padded) or ``("lead",)`` (one integer per lead).
    """

    name: str
    unit: str
    long_name: str
    extract: Callable
    dims: tuple = ()

    @property
    def label(self) -> str:
        """Axis label with the unit, e.g. ``conductance (G0)``."""
        return f"{self.long_name} ({self.unit})" if self.unit else self.long_name


#: The per-point observables, in record order (extend with :func:`register_observable`).
OBSERVABLES: list[Observable] = [
    Observable("conductance", "G0", "conductance G0 T(lead 1 <- lead 0): the two-terminal "
               "conductance of a two-lead device, G0 = 2e^2/h", lambda r: r.conductance),
    Observable("transmission", "", "total transmission lead 0 -> lead 1",
               lambda r: r.transmission),
    Observable("transmission_reverse", "", "total transmission lead 1 -> lead 0",
               lambda r: r.transmission_reverse),
    Observable("transmission_eigenvalues", "", "eigenvalues of t^dagger t, descending",
               lambda r: r.transmission_eigenvalues, dims=("channel",)),
    Observable("open_modes", "", "propagating modes per lead", lambda r: r.open_modes,
               dims=("lead",)),
    Observable("unitarity_error", "", "max|S^dagger S - 1|", lambda r: r.unitarity_error),
    Observable("fano_factor", "", "Fano factor sum T_n(1 - T_n) / sum T_n at E_F (T = 0 shot noise)",
               lambda r: _fano(r.transmission_eigenvalues)),
    Observable("thermal_error", "", "error estimate of the thermal average of the transmission",
               lambda r: getattr(r, "thermal_error", 0.0)),
    Observable("conductance_matrix", "G0",
               "Landauer-Büttiker conductance matrix G_ij (I = G V), G0 = 2e^2/h",
               lambda r: r.conductance_matrix, dims=("lead", "lead_voltage")),
]


def _fano(eigenvalues) -> float:
    """sum T_n (1 - T_n) / sum T_n (NaN when nothing is transmitted); the shot-noise Fano
    factor at zero temperature (Blanter & Büttiker, Phys. Rep. 336, 1 (2000))."""
    t = np.asarray(eigenvalues, dtype=float)
    total = float(np.sum(t))
    return float(np.sum(t * (1.0 - t)) / total) if total > 0 else float("nan")


def register_observable(entry: Observable) -> Observable:
    """Add an entry (its name must be new)."""
    if any(o.name == entry.name for o in OBSERVABLES):
        raise ValueError(f"observable {entry.name!r} is already in the table")
    OBSERVABLES.append(entry)
    return entry


def register_resistance(name: str, current, voltage) -> Observable:
    """Add a four-terminal resistance R = (V_a - V_b)/I (h/e^2) to the table, e.g.
    ``register_resistance("R_xy", current=("source", "drain"), voltage=("1", "4"))``.

    Terminals are names or indices (``qpcsim.terminals.resistance``); a result whose
    device lacks them gives NaN. Registering the same definition again is a no-op.
    The table lives in each process: worker processes get the entry when the code
    that registers it (e.g. a geometry file) runs there too; the stored
    ``conductance_matrix`` gives the same number afterwards in any case.
    """
    from .terminals import _pair, resistance
    current, voltage = _pair("current", current), _pair("voltage", voltage)
    long_name = (f"four-terminal resistance, I: {current[0]} -> {current[1]}, "
                 f"V: {voltage[0]} - {voltage[1]}")
    for entry in OBSERVABLES:
        if entry.name == name and entry.long_name == long_name:
            return entry

    def extract(result):
        names = list(result.terminals)
        if not all(t in names or isinstance(t, int) and -len(names) <= t < len(names)
                   for t in current + voltage):
            return float("nan")
        return float(resistance(result.conductance_matrix, current, voltage, names))

    if current[0] == current[1] or voltage[0] == voltage[1]:
        raise ValueError(f"register_resistance({name!r}): current={current} and voltage="
                         f"{voltage} must each name two different terminals")
    return register_observable(Observable(name, "h/e^2", long_name, extract))


def observable(name: str) -> Observable:
    """The entry called ``name``; unknown names list the known ones."""
    for entry in OBSERVABLES:
        if entry.name == name:
            return entry
    known = ", ".join(o.name for o in OBSERVABLES)
    raise ValueError(f"observable={name!r} is not allowed: use one of {known}")


def scalar_observables() -> list[Observable]:
    """Entries with one number per point (what ensembles and 1-D plots take)."""
    return [o for o in OBSERVABLES if not o.dims]


def to_record(result) -> dict:
    """Every observable of one solve as plain JSON-able numbers (store/worker format)."""
    record = {}
    for entry in OBSERVABLES:
        value = entry.extract(result)
        if entry.dims == ("lead",):
            record[entry.name] = [int(v) for v in value]
        elif entry.dims:
            record[entry.name] = [float(v) for v in np.ravel(value)]
        else:
            record[entry.name] = float(value)
    return record


def from_records(records: list[dict], shape: tuple) -> dict:
    """Arrays of shape ``shape`` (+ the entry's extra dimension) per observable,
    from per-point records in the order of a C-ordered ``shape`` grid."""
    arrays = {}
    for entry in OBSERVABLES:
        values = [rec[entry.name] for rec in records]
        if entry.dims == ("lead",):
            width = max([len(v) for v in values] + [2])
            arr = np.zeros((len(values), width), dtype=np.int64)
            for k, v in enumerate(values):
                arr[k, :len(v)] = v
            arrays[entry.name] = arr.reshape(shape + (width,))
        elif len(entry.dims) == 2:   # square matrices, stored flat (row-major)
            sizes = [int(round(np.sqrt(len(v)))) for v in values]
            width = max(sizes + [2])
            arr = np.full((len(values), width, width), np.nan)
            for k, (v, n) in enumerate(zip(values, sizes)):
                arr[k, :n, :n] = np.reshape(v, (n, n))
            arrays[entry.name] = arr.reshape(shape + (width, width))
        elif entry.dims:
            width = max([len(v) for v in values] + [1])
            arr = np.full((len(values), width), np.nan)
            for k, v in enumerate(values):
                arr[k, :len(v)] = v
            arrays[entry.name] = arr.reshape(shape + (width,))
        else:
            arrays[entry.name] = np.array(values, dtype=float).reshape(shape)
    return arrays
