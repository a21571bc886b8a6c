"""The fast path's linear system, shared by every sparse back end.

Kwant's sparse solver (``kwant.solvers.common.SparseSolver``) writes the
scattering problem as one sparse linear system ``A x = B``: ``A`` is ``H - E``
of the scattering region bordered, for each lead, by the blocks of its
outgoing/evanescent mode amplitudes, and the S-matrix is ``x`` on the outgoing
mode variables. :class:`SystemAssembly` builds the *same* system, but

* assembles it with NumPy (no Python call per site): the gate enters only the
  diagonal of ``H``, so a sweep point is an array update;
* computes the lead modes once per (energy, B, E_Z) and caches them;
* exposes the index set X of lead-interface orbitals and lead mode variables
  (the right-hand sides live there and the outputs are read there), so a back
  end needs ``(A^-1)`` only on X.

The back ends that consume it (:mod:`.schur`: MUMPS/SuperLU Schur complement
onto X; :mod:`.rgf`: recursive Green's functions over the lattice columns) are
registered in :mod:`.registry`.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from kwant import physics
from threadpoolctl import ThreadpoolController

from ..terminals import magnetic_hoppings

__all__ = ["SystemAssembly", "LeadPart", "single_threaded_blas", "params_key"]

# Lead blocks are small (a few (W/a)^2 numbers): keep many, e.g. for the
# energy nodes of a thermal average shared by all points of a sweep.
_CACHE_SIZE = 512
_BLAS = None


def params_key(params: dict):
    """A hashable key of resolved parameters (sorted items), or ``None`` where a value is
    not hashable (then nothing is cached on it)."""
    try:
        key = tuple(sorted(params.items()))
        hash(key)
    except TypeError:
        return None
    return key


def single_threaded_blas():
    """One BLAS thread during a solve: the matrices are small, and multithreaded
    BLAS rounds differently with the thread count (Dask workers default to one
    thread), which would break bit-identical results across executors."""
    global _BLAS
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


@dataclass
class LeadPart:
    """The lead-dependent part of ``A x = B`` at one (energy, B, E_Z)."""

    row: np.ndarray             # coordinates of the lead blocks in A
    col: np.ndarray
    values: np.ndarray
    n: int                      # dimension of A
    schur: np.ndarray           # index set X: interface orbitals + mode variables
    rhs_x: np.ndarray           # B restricted to rows X (dense, |X| x n_in)
    kept: np.ndarray            # positions in X of the outgoing-mode variables
    nprop: tuple                # propagating modes per lead
    pattern_key: str            # identifies (row, col, schur)
    n_outs: tuple = ()          # mode variables per lead


class SystemAssembly:
    """The sparse system ``A x = B`` of one two-terminal device, with caches.

    Parameters
    ----------
    device : qpcsim.Device
        The device. Its arrays and its leads (``device.lead_systems()``) are all the
        assembly needs: the plain model's scattering region is never run through Kwant's
        Builder here (:attr:`fsyst` builds it where asked for).
    """

    def __init__(self, device):
        self.device = device
        self.norbs = device.norbs
        self.n_sys = len(device.site_positions()) * self.norbs
        self._hoppings = self._hopping_structure()
        self.sys_row, self.sys_col = self._system_pattern()
        self._hop_cache: dict = {}
        self._lead_cache: OrderedDict = OrderedDict()
        self._lead_matrix_cache: dict = {}
        self._structure_cache: dict = {}
        self._values_key = self._values = None
        self._shared: dict = {}

    @cached_property
    def fsyst(self):
        """The device's finalized Kwant system (built on first use)."""
        return self.device.build()

    @cached_property
    def lead_systems(self) -> list:
        """Kwant's finalized leads (``fsyst.leads``; the plain model's without building)."""
        return self.device.lead_systems()[0]

    @cached_property
    def lead_interfaces(self) -> list:
        """Each lead's interface sites (``fsyst.lead_interfaces``)."""
        return self.device.lead_systems()[1]

    def shared(self, key: str, make):
        """One ``make()`` per assembly for structures several back ends use (e.g. the
        RGF column analysis that ``rgf`` and ``rgf-mirror``'s fallback both need)."""
        value = self._shared.get(key)
        if value is None:
            value = self._shared[key] = make()
        return value

    def system_values(self, energy: float, params: dict) -> np.ndarray:
        """Entries of the scattering region's ``H - E`` in the order of
        (``sys_row``, ``sys_col``): hoppings, then the diagonal."""
        # The energy-free part depends on the parameters only: a thermal or bias grid
        # solves one gate point at tens of energies, so the potential (possibly a
        # self-consistent one) is evaluated once per point, not once per energy.
        key = params_key(params)
        if key is None or key != self._values_key:
            diag = self.device.onsite_diagonal(params)
            self._values = (self._hopping_values(float(params["B"])), diag)
            self._values_key = key
        hop, diag = self._values
        return np.concatenate([hop, diag - energy])

    # -------------------------------------------------------------- assembly
    def _hopping_structure(self):
        """(to, from) site index pairs of all nearest-neighbour hoppings."""
        dev = self.device
        pos = np.rint(dev.site_positions()).astype(int)
        grid = -np.ones((dev.nx, dev.ny), dtype=np.int64)
        grid[pos[:, 0], pos[:, 1]] = np.arange(len(pos))
        pairs = []
        for di, dj in ((1, 0), (0, 1)):
            a = grid[: dev.nx - di, : dev.ny - dj].ravel()
            b = grid[di:, dj:].ravel()
            ok = (a >= 0) & (b >= 0)
            pairs.append((b[ok], a[ok]))     # b = a + (di, dj)
            pairs.append((a[ok], b[ok]))
        to_site = np.concatenate([p[0] for p in pairs])
        from_site = np.concatenate([p[1] for p in pairs])
        return to_site, from_site

    def _orbitals(self, sites: np.ndarray) -> np.ndarray:
        sites = np.asarray(sites, dtype=np.int64)
        return (sites[:, None] * self.norbs + np.arange(self.norbs)).ravel()

    def _hopping_values(self, B: float) -> np.ndarray:
        """Entries of the scattering region's hoppings (depend on B only)."""
        values = self._hop_cache.get(B)
        if values is None:
            pos = self.device.site_positions()
            to_site, from_site = self._hoppings
            if getattr(self.device, "gauge", "landau") != "landau":   # explicit leads on y edges
                hop = magnetic_hoppings(self.device, to_site, from_site, B)
            else:
                hop = self.device.hopping_values(pos[to_site], pos[from_site], B)
            values = hop.astype(complex) if self.norbs == 1 else \
                np.concatenate([hop[:, 0, 0], hop[:, 1, 1]])
            self._hop_cache = {B: values}
        return values

    def _system_pattern(self):
        """Coordinates of the scattering region's entries: hoppings, then diagonal."""
        to_site, from_site = self._hoppings
        if self.norbs == 1:
            rows, cols = [to_site], [from_site]
        else:   # spin-diagonal hoppings: the two diagonal orbital entries
            rows = [to_site * 2, to_site * 2 + 1]
            cols = [from_site * 2, from_site * 2 + 1]
        diag = np.arange(self.n_sys)
        return np.concatenate(rows + [diag]), np.concatenate(cols + [diag])

    def _lead_matrices(self, leadnum: int, params: dict):
        """Unit-cell Hamiltonian, inter-cell hopping and symmetries of a lead
        (they depend on B and E_Z only, not on the energy)."""
        key = (leadnum,) + tuple(float(params[k]) for k in self.device.lead_parameters)
        mats = self._lead_matrix_cache.get(key)
        if mats is None:
            lead = self.lead_systems[leadnum]
            kwant_params = {k: params[k] for k in self.device.lead_parameters}
            mats = (lead.cell_hamiltonian(params=kwant_params),
                    lead.inter_cell_hopping(params=kwant_params),
                    lead.discrete_symmetry(params=kwant_params))
            if len(self._lead_matrix_cache) > 64:
                self._lead_matrix_cache.clear()
            self._lead_matrix_cache[key] = mats
        return mats

    def _lead_structure(self, n_outs: tuple):
        """Coordinates of the lead blocks, the index set X and the positions of
        the mode variables in X: fixed for given numbers of lead mode variables."""
        struct = self._structure_cache.get(n_outs)
        if struct is not None:
            return struct
        n = self.n_sys
        rows, cols, schur, blocks = [], [], [], []
        for interface, n_out in zip(self.lead_interfaces, n_outs):
            iface = self._orbitals(interface)
            new_vars = n + np.arange(n_out)
            for r_idx, c_idx in ((iface, new_vars), (new_vars, iface), (new_vars, new_vars)):
                r, c = np.meshgrid(r_idx, c_idx, indexing="ij")
                rows.append(r.ravel()), cols.append(c.ravel())
            schur += [iface, new_vars]
            blocks.append((iface, new_vars))
            n += n_out
        schur = np.concatenate(schur)
        where = np.full(n, -1, dtype=np.int64)
        where[schur] = np.arange(len(schur))
        row, col = np.concatenate(rows), np.concatenate(cols)
        digest = hashlib.blake2b(row.tobytes() + col.tobytes() + schur.tobytes()).hexdigest()
        struct = (row, col, n, schur, where, blocks, digest)
        self._structure_cache[n_outs] = struct
        return struct

    def _stabilized_modes(self, energy: float, params: dict) -> list:
        """Kwant's stabilized modes of every lead at ``energy`` (lattice units)."""

        stabs = []
        for leadnum in range(len(self.lead_interfaces)):
            ham, hop, symmetries = self._lead_matrices(leadnum, params)
            ham = ham.copy()
            ham.flat[::ham.shape[0] + 1] -= energy
            _, stab = physics.modes(ham, hop, discrete_symmetry=symmetries)
            if stab.sqrt_hop.shape[1] != stab.vecs.shape[1] - stab.nmodes:
                raise RuntimeError("lead hopping is rank deficient; use method='kwant'")
            stabs.append(stab)
        return stabs

    def _lead_part(self, energy: float, params: dict) -> LeadPart:
        """Lead blocks, exactly as kwant.solvers.common.SparseSolver._make_linear_sys."""
        stabs = self._stabilized_modes(energy, params)
        n_outs = tuple(stab.vecs.shape[1] - stab.nmodes for stab in stabs)
        row, col, n, schur, where, blocks, digest = self._lead_structure(n_outs)

        vals, rhs_cols, kept, nprop_all = [], [], [], []
        for stab, (iface, new_vars) in zip(stabs, blocks):
            u, ulinv, nprop, svd_v = stab.vecs, stab.vecslmbdainv, stab.nmodes, stab.sqrt_hop
            vals += [(svd_v @ u[:, nprop:]).ravel(),       # V^dagger u_out (interface rows)
                     svd_v.conj().T.ravel(),               # V (mode rows)
                     (-ulinv[:, nprop:]).ravel()]
            rhs_cols.append((iface, -svd_v @ u[:, :nprop], new_vars, ulinv[:, :nprop]))
            kept.append(new_vars[:nprop])
            nprop_all.append(int(nprop))
        rhs_x = np.zeros((len(schur), sum(nprop_all)), dtype=complex)
        col0 = 0
        for iface, top, new_vars, bottom in rhs_cols:
            k = top.shape[1]
            rhs_x[where[iface], col0:col0 + k] += top
            rhs_x[where[new_vars], col0:col0 + k] += bottom
            col0 += k
        return LeadPart(row, col, np.concatenate(vals).astype(complex), n, schur, rhs_x,
                         where[np.concatenate(kept)], tuple(nprop_all), digest, n_outs)

    def leads(self, energy: float, params: dict) -> LeadPart:
        """Lead blocks at ``energy`` (lattice units), cached per (E, B, E_Z)."""
        key = (float(energy),) + tuple(float(params[k]) for k in self.device.lead_parameters)
        part = self._lead_cache.get(key)
        if part is None:
            part = self._lead_part(energy, params)
            self._lead_cache[key] = part
            if len(self._lead_cache) > _CACHE_SIZE:
                self._lead_cache.popitem(last=False)
        else:
            self._lead_cache.move_to_end(key)
        return part
