"""The fast path's linear system for model devices (any number of orbitals per site).

:class:`ModelAssembly` gives the sparse Schur back ends (``mumps``, ``scipy``) the
interface of :class:`.assembly.SystemAssembly` (``sys_row``/``sys_col``,
``system_values``, ``leads``) for a :class:`qpcsim.hamiltonian.ModelDevice`
(continuum, Bogoliubov-de Gennes, graphene): it reads the scattering region from
the finalized Kwant system itself (``hamiltonian_submatrix``, blocks of
``norbs``) and the leads from Kwant's own ``lead.modes`` (which resolves the blocks
of a lead's conservation law, e.g. the electrons and holes of a BdG normal lead,
and orders the modes as ``kwant.smatrix`` does), so the S-matrix equals
``kwant.smatrix``'s.

Why it is faster than ``kwant.smatrix`` per point: the lead modes are computed once
per (energy, lead parameters); the Hamiltonian's potential-free part once per set of
non-potential parameters (a gate sweep only adds ``V(x, y) * potential_matrix``,
one vectorized call, to the onsite blocks); MUMPS's analysis is reused and only the
Schur complement onto the lead variables is formed.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .assembly import SystemAssembly, params_key
from .base import BackendNotApplicable

__all__ = ["ModelAssembly", "assembly_for"]


def assembly_for(device) -> SystemAssembly:
    """The fast path's assembly of ``device``: :class:`ModelAssembly` for a model
    device (it has ``hamiltonian_submatrix``-style blocks), else the one-band one."""
    if device.fast_path_model:
        return ModelAssembly(device)
    return SystemAssembly(device)


class ModelAssembly(SystemAssembly):
    """The sparse system ``A x = B`` of a two-lead model device, with caches.

    Parameters
    ----------
    device : qpcsim.hamiltonian.ModelDevice
        The device; its Kwant system is built on first use.

    Raises
    ------
    BackendNotApplicable
        The sites do not all carry the same number of orbitals.
    """

    def __init__(self, device):
        self.device = device
        self.fsyst = fsyst = device.build()
        self.norbs = int(device.norbs)
        if any(site.family.norbs != self.norbs for site in fsyst.sites):
            raise BackendNotApplicable("its sites carry different numbers of orbitals")
        self.n_sys = len(fsyst.sites) * self.norbs
        row, col = self._block_pattern()
        self._keys = row * self.n_sys + col      # sorted: entries are found by bisection
        diag = np.arange(self.n_sys)
        self.sys_row = np.concatenate([row, diag])
        self.sys_col = np.concatenate([col, diag])
        self._potential_entries = self._onsite_potential_entries(row, col)
        self._base_cache: dict = {}
        self._lead_cache = OrderedDict()
        self._structure_cache: dict = {}
        self._shared: dict = {}
        self._values_key = self._values = None

    def _block_pattern(self):
        """Every entry of every onsite and hopping block of the graph, sorted by (row,
        col): Kwant's sparse ``hamiltonian_submatrix`` omits entries that are zero at the
        given parameters (e.g. a Zeeman term at B = 0), so the pattern comes from the graph."""
        graph, n = self.fsyst.graph, self.norbs
        pairs = np.array([(i, i) for i in range(graph.num_nodes)]
                         + [(i, j) for i in range(graph.num_nodes) for j in graph.out_neighbors(i)])
        orb = np.arange(n)
        row = np.broadcast_to(pairs[:, 0, None, None] * n + orb[None, :, None], (len(pairs), n, n))
        col = np.broadcast_to(pairs[:, 1, None, None] * n + orb[None, None, :], (len(pairs), n, n))
        keys = np.unique(row.ravel() * self.n_sys + col.ravel())
        return keys // self.n_sys, keys % self.n_sys

    def _onsite_potential_entries(self, row, col):
        """(entry index, site index, orbital factor) of every stored onsite entry the
        potential enters, ``V_site * potential_matrix[a, b]`` (only on the sites whose
        onsite value adds it: not on lead cells Kwant added to the region)."""
        matrix = np.asarray(getattr(self.device, "potential_matrix", np.eye(self.norbs)),
                            dtype=complex).reshape(self.norbs, self.norbs)
        site_r, site_c = row // self.norbs, col // self.norbs
        onsite = np.flatnonzero(site_r == site_c)
        factor = matrix[row[onsite] % self.norbs, col[onsite] % self.norbs]
        keep = (factor != 0) & self.device.potential_sites()[site_r[onsite]]
        return onsite[keep], site_r[onsite[keep]], factor[keep]

    def _potential_values(self, params: dict) -> np.ndarray:
        """The potential's share of the stored entries of H (lattice units)."""
        values = np.zeros(len(self._keys), dtype=complex)
        if self.device.potential is None:
            return values
        x, y = self.device.site_positions_nm()
        potential = self.device.potential_at(x, y, params) / self.device.t
        entries, sites, factor = self._potential_entries
        values[entries] = potential[sites] * factor
        return values

    def _base_values(self, params: dict) -> np.ndarray:
        """Entries of H without the potential, once per set of non-potential parameters."""
        key = tuple(float(params[n]) for n in self.device.lead_parameters)
        base = self._base_cache.get(key)
        if base is None:
            # shared with the device's Hermiticity check at build (one evaluation)
            h = self.device.potential_free_hamiltonian(params)
            where = np.searchsorted(self._keys, h.row * self.n_sys + h.col)
            base = np.zeros(len(self._keys), dtype=complex)
            base[where] = h.data        # every (row, col) of a block is in the pattern
            if len(self._base_cache) > 16:
                self._base_cache.clear()
            self._base_cache[key] = base
        return base

    def system_values(self, energy: float, params: dict) -> np.ndarray:
        """Entries of the scattering region's ``H - E`` in the order of
        (``sys_row``, ``sys_col``): the stored entries of H, then ``-E`` on the diagonal."""
        key = params_key(params)
        if key is None or key != self._values_key:
            # the potential first, outside Kwant: a failing one is a one-line error
            potential = self._potential_values(params)
            self._values = self._base_values(params) + potential
            self._values_key = key
        return np.concatenate([self._values, np.full(self.n_sys, -energy, dtype=complex)])

    def _stabilized_modes(self, energy: float, params: dict) -> list:
        """Kwant's own ``lead.modes`` (conservation-law blocks resolved and ordered as
        ``kwant.smatrix`` orders them)."""
        lead_params = {n: params[n] for n in self.device.lead_parameters}
        stabs = []
        for lead in self.fsyst.leads:
            _, stab = lead.modes(energy, params=lead_params)
            if len(stab.vecs) == 0 or stab.sqrt_hop.shape[1] != stab.vecs.shape[1] - stab.nmodes:
                raise RuntimeError("a lead's hopping is zero or rank deficient; use method='kwant'")
            stabs.append(stab)
        return stabs
