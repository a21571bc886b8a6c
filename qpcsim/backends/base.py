"""The back-end contract: what every S-matrix back end provides and returns.

A back end is a class registered in :mod:`.registry` under a name (the value of
``qpcsim.solve(method=NAME)``); its module ends with its own ``register`` call.
It is created once per device, keeps its own caches (lead modes, symbolic
factorizations), and answers ``smatrix(energy, params) -> SMatrix``:

* ``energy``: Fermi energy in lattice units (``E / t``);
* ``params``: the device's fully resolved parameters (``Device.resolve_params``);
* the :class:`SMatrix`: rows the outgoing modes of lead 0, lead 1, ..., columns
  the incoming modes in the same lead order, in Kwant's order and normalization;
  the propagating modes per lead; the name of the back end that ran.

The fast back ends (on the shared :class:`~.assembly.SystemAssembly`) derive
from :class:`FastBackend`, which writes the ``smatrix`` body once; they supply
only :meth:`FastBackend._solve` (or :meth:`FastBackend._solve_point`, which also
sees the point's energy and parameters).

A back end that does not apply to a device raises :class:`BackendNotApplicable`
from its constructor, saying why; ``auto`` then falls back, an explicit request
becomes a one-line ``ValueError``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..terminals import conductance_matrix
from .assembly import LeadPart, SystemAssembly, single_threaded_blas

__all__ = ["Backend", "BackendNotApplicable", "FastBackend", "SMatrix"]


class BackendNotApplicable(ValueError):
    """A back end does not cover this device (the message says why)."""


@dataclass(frozen=True, eq=False)
class SMatrix:
    """Scattering matrix of one solve, with its lead information (after Kwant's
    ``kwant.solvers.common.SMatrix``).

    Attributes
    ----------
    data : ndarray, shape (sum(nprop), sum(nprop))
        The S-matrix: rows the outgoing, columns the incoming propagating modes,
        lead 0 first, each lead's modes (all orbitals and spins) in Kwant's order
        and normalization (unitary). Empty where no mode propagates.
    nprop : tuple of int
        The lead information: propagating modes in each lead (any number of leads).
    backend : str
        Registered name of the back end whose arithmetic produced ``data``
        (``rgf-mirror``'s per-point fallback names the back end that ran instead).
    """

    data: np.ndarray
    nprop: tuple
    backend: str

    def __post_init__(self):
        if not np.iterable(self.nprop):
            raise ValueError(f"nprop={self.nprop!r} is not allowed: give the propagating modes "
                             "of each lead as a sequence of integers >= 0")
        nprop = tuple(self.nprop)
        object.__setattr__(self, "data", np.asarray(self.data))
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0
                   for n in nprop):
            raise ValueError(f"nprop={nprop!r} is not allowed: give the propagating modes of "
                             "each lead as integers >= 0")
        total = sum(int(n) for n in nprop)
        if np.shape(self.data) != (total, total):
            raise ValueError(f"data of shape {np.shape(self.data)} is not allowed with "
                             f"nprop={nprop!r}: the S-matrix must be ({total}, {total}), the "
                             "modes of all leads on each side")
        object.__setattr__(self, "nprop", tuple(int(n) for n in nprop))

    @property
    def num_leads(self) -> int:
        """Number of leads."""
        return len(self.nprop)

    def num_propagating(self, lead: int) -> int:
        """Propagating modes in ``lead``."""
        return self.nprop[self._check_lead(lead)]

    def _check_lead(self, lead) -> int:
        if not isinstance(lead, (int, np.integer)) or not 0 <= lead < len(self.nprop):
            raise ValueError(f"lead={lead!r} is not allowed: use an integer in "
                             f"0..{len(self.nprop) - 1}")
        return int(lead)

    def _slice(self, lead: int) -> slice:
        start = sum(self.nprop[:self._check_lead(lead)])
        return slice(start, start + self.nprop[lead])

    def submatrix(self, lead_out: int, lead_in: int) -> np.ndarray:
        """Block of amplitudes from the modes of ``lead_in`` into those of ``lead_out``
        (shape ``(nprop[lead_out], nprop[lead_in])``; a view of ``data``)."""
        return self.data[self._slice(lead_out), self._slice(lead_in)]

    def transmission(self, lead_out: int, lead_in: int) -> float:
        """Total transmission from ``lead_in`` into ``lead_out``, sum |S_mn|^2 over
        their modes (for ``lead_out == lead_in``: the total reflection), as Kwant's."""
        return float(np.sum(np.abs(self.submatrix(lead_out, lead_in)) ** 2))

    def conductance_matrix(self, spin_factor: float = 1.0) -> np.ndarray:
        """Landauer-Büttiker G_ij = spin_factor (N_i delta_ij - T_ij) (Kwant's
        ``SMatrix.conductance_matrix`` times ``spin_factor``: 1 in G0 = 2e^2/h for a
        spin-degenerate device, 1/2 where each spin is a channel), shape (leads, leads)."""
        return conductance_matrix(self.data, self.nprop, spin_factor)

    @property
    def unitarity_error(self) -> float:
        """max|S^dagger S - 1| (0 for an empty matrix)."""
        if self.data.size == 0:
            return 0.0
        return float(np.abs(self.data.conj().T @ self.data - np.eye(self.data.shape[1])).max())


class Backend(Protocol):
    """Structural type of a back end (see the module docstring)."""

    name: str

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        ...


class FastBackend:
    """Template of the fast back ends: the point's lead blocks and system values
    from the shared assembly, on one BLAS thread; subclasses solve ``A x = B``.

    Parameters
    ----------
    device : qpcsim.Device
    assembly : SystemAssembly, optional
        The fast path's shared assembly (one is made if not given).
    """

    name = "fast"

    def __init__(self, device, assembly: SystemAssembly | None = None):
        self.assembly = assembly or SystemAssembly(device)

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """S-matrix at ``energy`` (lattice units) for resolved ``params``."""
        with single_threaded_blas():
            leads = self.assembly.leads(energy, params)
            if sum(leads.nprop) == 0:
                return SMatrix(np.zeros((0, 0), dtype=complex), leads.nprop, self.name)
            values = self.assembly.system_values(energy, params)
            solved = self._solve_point(energy, params, values, leads)
        if solved is None:   # the subclass hands the point on (outside the BLAS limit)
            return self._delegate(energy, params)
        data, path = solved
        return SMatrix(data, leads.nprop, path)

    def prepare_structure(self) -> None:
        """Derive now what the back end finds from the device's structure alone at its
        first point (called before a pool forks: the workers inherit it); by default
        nothing, the constructor did it."""

    def _solve(self, values: np.ndarray, leads: LeadPart) -> tuple[np.ndarray, str] | None:
        """``(x[leads.kept], path)``: the S-matrix data of ``A x = B`` for the system
        entries ``values`` and the lead part ``leads``, and the registered name of the
        arithmetic that produced it (usually ``self.name``); or ``None`` to hand the
        point to :meth:`_delegate`."""
        raise NotImplementedError

    def _solve_point(self, energy: float, params: dict, values: np.ndarray,
                     leads: LeadPart) -> tuple[np.ndarray, str] | None:
        """:meth:`_solve` given the point's ``energy`` (lattice units) and resolved
        ``params`` too: a back end that keeps something per parameter set overrides
        this one instead."""
        return self._solve(values, leads)

    def _delegate(self, energy: float, params: dict) -> SMatrix:
        """The S-matrix of a point :meth:`_solve` handed on (e.g. to a fallback)."""
        raise NotImplementedError(f"{type(self).__name__} hands on no points")
