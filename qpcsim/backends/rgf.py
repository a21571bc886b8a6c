"""Recursive Green's function (RGF) back end for the fast path.

The fast path's linear system ``A x = B`` (see :mod:`.assembly`) is
block-tridiagonal in the lattice columns ("slices") of a
:class:`~qpcsim.device.Device`: the scattering region's ``H - E`` couples only
neighbouring columns, through nearest-neighbour hoppings that are *diagonal*
in the row index (``-t`` times a Peierls phase), and the mode variables of the
left (right) lead couple only to the first (last) column. Appending them to
that column's block gives blocks ``D_0 .. D_{N-1}`` of sizes ``m + n_out0``,
``m``, ..., ``m``, ``m + n_out1`` (``m = ny * norbs``) and couplings
``C_{i,i+1} = diag(cR_i)``, ``C_{i+1,i} = diag(cL_i)``.

The right-hand sides live in the first and last blocks and the S-matrix is
read there too, so only ``G_00, G_0N, G_N0, G_NN`` of ``G = A^-1`` are needed.
They come from one sweep from the left lead, with the left-connected Green's
functions (which contain the open left lead, so they are never singular at a
real energy)::

    g_0 = D_0^-1,   g_i = (D_i - cL_{i-1} g_{i-1} cR_{i-1})^-1

(products with the diagonal couplings are row/column scalings), carrying only
the thin blocks ``P_i = G^L_{i0} B_0`` (columns: incoming modes),
``Q_i = R G^L_{0i}`` (rows: outgoing modes of the left lead) and
``T_i = R G^L_{00} B_0``; at the end ``g_{N-1} = G_NN``. The cost is one dense
LU-based inversion of an ``m x m`` block per column, O(nx m^3), single-threaded
BLAS/LAPACK, deterministic.

Columns with missing sites (a ``shape`` mask) are padded to ``m`` with
decoupled dummy orbitals (diagonal 1, no hopping), which changes no physical
entry of ``A^-1``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

import scipy.sparse
import scipy.sparse.csgraph

from .assembly import SystemAssembly
from .base import BackendNotApplicable, FastBackend
from .registry import BackendInfo, register

__all__ = ["RGFBackend", "RGFSolver", "RGFNotApplicable", "rgf_cost", "shared_rgf_solver"]

_getrf, _getri, _getri_lwork = lapack.zgetrf, lapack.zgetri, lapack.zgetri_lwork


class RGFNotApplicable(BackendNotApplicable):
    """The system is not block-tridiagonal in lattice columns with the leads at
    the first and last column (the caller falls back to a sparse back end)."""


def _inverse(matrix: np.ndarray, lwork: dict) -> np.ndarray:
    """Inverse of a C-ordered square matrix (overwritten) by LAPACK getrf/getri.

    LAPACK works on the Fortran-ordered transpose, whose inverse is the
    transpose of the inverse: no copies."""
    n = matrix.shape[0]
    work = lwork.get(n)
    if work is None:
        work, info = _getri_lwork(n)
        work = lwork[n] = max(int(work.real), 1)
    lu, piv, info = _getrf(matrix.T, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"singular block in the RGF recursion (getrf info={info})")
    inv, info = _getri(lu, piv, lwork=work, overwrite_lu=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"RGF block inversion failed (getri info={info})")
    return inv.T


@dataclass
class _LeadMap:
    """Where the lead-dependent entries go in the first/last block (one pattern)."""

    sizes: tuple            # (size of the first block, size of the last block)
    first_flat: np.ndarray  # flat positions in the first block of lead entries ...
    first_idx: np.ndarray   # ... and their indices in leads.values
    last_flat: np.ndarray
    last_idx: np.ndarray
    sys_first_flat: np.ndarray  # flat positions of the system entries of column 0
    sys_last_flat: np.ndarray   # ... and of column N-1, with the extended strides
    b_first: tuple          # (local rows, rows of rhs_x) of B on the first block
    b_last: tuple
    kept_first: np.ndarray  # local rows of the kept variables in the first block
    kept_last: np.ndarray


class RGFSolver:
    """The RGF recursion for one device structure.

    Parameters
    ----------
    positions : ndarray (n_sites, 2)
        Integer lattice positions (column, row) of the sites, Kwant's order.
    norbs, nx, ny : int
        Orbitals per site and the bounding box in columns x rows.
    sys_row, sys_col : ndarray
        Coordinates (orbital indices) of the scattering region's entries of
        ``A``, in the order of the values passed to :meth:`solve`.
    lead_interfaces : sequence of two arrays of site indices

    Attributes
    ----------
    intra_rc : (ndarray, ndarray)
        Local (row, column) in its column's block of each intra-column entry,
        sorted by column.
    intra_bounds : ndarray (nx + 1,)
        Column ``i``'s intra-column entries are ``intra_bounds[i]:intra_bounds[i + 1]``.
    dummy_orbitals : dict
        Column -> local rows of its missing sites (padded with decoupled dummies).

    Raises
    ------
    RGFNotApplicable
        Entries coupling non-adjacent columns or different rows across
        columns, or lead interfaces that are not the first/last column.
    """

    def __init__(self, positions, norbs, nx, ny, sys_row, sys_col, lead_interfaces):
        pos = np.rint(np.asarray(positions)).astype(np.int64)
        self.nslices = nslices = int(nx)
        self.m = m = int(ny) * int(norbs)
        self.norbs = int(norbs)
        if nslices < 2 or len(lead_interfaces) != 2:
            raise RGFNotApplicable("RGF needs two leads and at least two columns")
        orb = np.arange(len(pos) * norbs)
        site = orb // norbs
        self.slice_of = pos[site, 0]
        self.local_of = pos[site, 1] * norbs + orb % norbs
        if (self.slice_of.min() < 0 or self.slice_of.max() >= nslices
                or self.local_of.min() < 0 or self.local_of.max() >= m):
            raise RGFNotApplicable("sites outside the device's bounding box")
        for lead, column in zip(lead_interfaces, (0, nslices - 1)):
            if np.any(pos[np.asarray(lead), 0] != column):
                raise RGFNotApplicable("a lead does not attach at the first/last column")

        sys_row, sys_col = np.asarray(sys_row), np.asarray(sys_col)
        sr, sc = self.slice_of[sys_row], self.slice_of[sys_col]
        lr, lc = self.local_of[sys_row], self.local_of[sys_col]
        intra, fwd, bwd = sr == sc, sc == sr + 1, sc == sr - 1
        if not np.all(intra | fwd | bwd) or np.any(lr[~intra] != lc[~intra]):
            raise RGFNotApplicable("hoppings are not diagonal between adjacent columns")
        idx = np.flatnonzero(intra)
        idx = idx[np.argsort(sr[idx], kind="stable")]
        self._intra_idx = idx
        self.intra_rc = (lr[idx], lc[idx])
        self._intra_flat = lr[idx] * m + lc[idx]
        self.intra_bounds = np.searchsorted(sr[idx], np.arange(nslices + 1))
        self._fwd = (np.flatnonzero(fwd), sr[fwd], lr[fwd])   # A[i, i+1] -> cR[i]
        self._bwd = (np.flatnonzero(bwd), sc[bwd], lr[bwd])   # A[i+1, i] -> cL[i]
        present = np.zeros((nslices, m), dtype=bool)
        present[self.slice_of, self.local_of] = True
        self.dummy_orbitals = {i: np.flatnonzero(~present[i]) for i in range(nslices)
                       if not present[i].all()}
        off = intra & (lr != lc)
        self._check_open_to_left_lead(present, sr[off], lr[off], lc[off], sr[fwd], lr[fwd],
                                      np.asarray(lead_interfaces[0]))
        self._lead_maps: dict = {}
        self._lwork: dict = {}

    # ------------------------------------------------------------ structure
    def _check_open_to_left_lead(self, present, slices, rows, cols, step_slices, step_locals,
                                 lead_sites):
        """Raise RGFNotApplicable unless every orbital of columns 0..i reaches the left
        lead through columns <= i, for every i.

        The recursion inverts the left-connected blocks; they contain the open left
        lead, and so are regular at real energies, only under this condition. A pocket
        of sites that opens only to the right (a masked device) is a closed box at
        that step: its real eigenvalues make the block singular, and near one the
        S-matrix drifts from the exact one while staying unitary to 1e-10.
        """
        m, nsl = self.m, self.nslices
        nodes = nsl * m
        within = scipy.sparse.coo_matrix(
            (np.ones(len(slices)), (slices * m + rows, slices * m + cols)), shape=(nodes, nodes))
        _, labels = scipy.sparse.csgraph.connected_components(within, directed=False)
        labels = labels.reshape(nsl, m)
        steps = np.zeros((nsl, m), dtype=bool)          # (i, l) couples to (i + 1, l)
        steps[step_slices, step_locals] = True
        lead_orbitals = (lead_sites[:, None] * self.norbs + np.arange(self.norbs)).ravel()
        seeds = np.zeros(m, dtype=bool)                 # column 0: the lead's orbitals
        seeds[self.local_of[lead_orbitals]] = True
        for i in range(nsl):
            reached = np.isin(labels[i], labels[i][seeds]) & present[i]
            seeds = reached & steps[i]                  # for column i + 1
            if np.any(present[i] & ~reached):
                raise RGFNotApplicable(
                    f"column {i} has sites that reach the left lead only through later "
                    "columns (a pocket open to the right)")

    def _global_to_local(self, index, n_sys, n_out0):
        """(slice, local row) of indices of ``A`` (system orbitals, then lead variables)."""
        index = np.asarray(index)
        sl = np.empty(len(index), dtype=np.int64)
        loc = np.empty(len(index), dtype=np.int64)
        is_sys = index < n_sys
        sl[is_sys], loc[is_sys] = self.slice_of[index[is_sys]], self.local_of[index[is_sys]]
        var = index[~is_sys] - n_sys
        left = var < n_out0
        sl[~is_sys] = np.where(left, 0, self.nslices - 1)
        loc[~is_sys] = self.m + np.where(left, var, var - n_out0)
        return sl, loc

    def _lead_map(self, leads) -> _LeadMap:
        key = (leads.pattern_key, leads.nprop)    # kept rows depend on nprop too
        lmap = self._lead_maps.get(key)
        if lmap is not None:
            return lmap
        m, last = self.m, self.nslices - 1
        n_sys = len(self.slice_of)
        n_out0, n_out1 = leads.n_outs
        sizes = (m + n_out0, m + n_out1)
        rs, rl = self._global_to_local(leads.row, n_sys, n_out0)
        cs, cl = self._global_to_local(leads.col, n_sys, n_out0)
        if np.any(rs != cs) or np.any((rs != 0) & (rs != last)):
            raise RGFNotApplicable("lead blocks outside the first/last column")
        first, lastb = rs == 0, rs == last
        xs, xl = self._global_to_local(leads.schur, n_sys, n_out0)
        xpos = np.arange(len(xs))
        ks, kl = xs[leads.kept], xl[leads.kept]
        k0 = int(np.count_nonzero(ks == 0))
        if np.any(ks[:k0] != 0) or np.any(ks[k0:] != last):
            raise RGFNotApplicable("unexpected order of the outgoing modes")
        a, b = self.intra_bounds[0], self.intra_bounds[1]
        c, d = self.intra_bounds[last], self.intra_bounds[last + 1]
        ir, ic = self.intra_rc
        lmap = _LeadMap(
            sizes=sizes,
            first_flat=rl[first] * sizes[0] + cl[first], first_idx=np.flatnonzero(first),
            last_flat=rl[lastb] * sizes[1] + cl[lastb], last_idx=np.flatnonzero(lastb),
            sys_first_flat=ir[a:b] * sizes[0] + ic[a:b],
            sys_last_flat=ir[c:d] * sizes[1] + ic[c:d],
            b_first=(xl[xs == 0], xpos[xs == 0]), b_last=(xl[xs == last], xpos[xs == last]),
            kept_first=kl[:k0], kept_last=kl[k0:])
        if len(self._lead_maps) > 64:
            self._lead_maps.clear()
        self._lead_maps[key] = lmap
        return lmap

    def block(self, i, size, corr, intra_vals, flat, lead_flat=None, lead_vals=None):
        """``D_i - correction`` of column ``i`` as a C-ordered ``size x size`` matrix (``corr``,
        the correction, reused if already ``m x m``): the intra-column values ``intra_vals``
        at flat positions ``flat``, dummy orbitals, the lead entries ``lead_vals`` at
        ``lead_flat``."""
        if corr is None:
            block = np.zeros((size, size), dtype=complex)
        elif size == self.m:
            block = corr
        else:
            block = np.zeros((size, size), dtype=complex)
            block[:self.m, :self.m] = corr
        flat_view = block.reshape(-1)
        lo, hi = self.intra_bounds[i], self.intra_bounds[i + 1]
        flat_view[flat] += intra_vals[lo:hi]
        dummy = self.dummy_orbitals.get(i)
        if dummy is not None:
            block[dummy, dummy] += 1.0
        if lead_flat is not None:
            flat_view[lead_flat] += lead_vals
        return block

    def interior_block(self, i: int, corr: np.ndarray, intra_vals: np.ndarray) -> np.ndarray:
        """``D_i - correction`` of an interior column ``i`` (``m x m``; ``corr``, the
        correction, is overwritten and returned)."""
        lo, hi = self.intra_bounds[i], self.intra_bounds[i + 1]
        return self.block(i, self.m, corr, intra_vals, self._intra_flat[lo:hi])
    def invert(self, block: np.ndarray) -> np.ndarray:
        """Inverse of a C-ordered square block (overwritten), as the recursion does it."""
        return _inverse(block, self._lwork)

    # ------------------------------------------------------------ solve
    def prepare(self, sys_values: np.ndarray, leads):
        """Per-point pieces of the recursion: ``(lead map, intra-column values,
        cL, cR, B on the first block, B on the last block)``; ``cL[i]`` (``cR[i]``)
        is the diagonal of ``A[i+1, i]`` (``A[i, i+1]``)."""
        m, nsl = self.m, self.nslices
        lm = self._lead_map(leads)
        intra_vals = sys_values[self._intra_idx]
        c_r = np.zeros((nsl - 1, m), dtype=complex)
        c_l = np.zeros((nsl - 1, m), dtype=complex)
        k, s, l = self._fwd
        c_r[s, l] = sys_values[k]
        k, s, l = self._bwd
        c_l[s, l] = sys_values[k]
        rhs = leads.rhs_x
        n_in = rhs.shape[1]
        b_first = np.zeros((lm.sizes[0], n_in), dtype=complex)
        b_first[lm.b_first[0]] = rhs[lm.b_first[1]]
        b_last = np.zeros((lm.sizes[1], n_in), dtype=complex)
        b_last[lm.b_last[0]] = rhs[lm.b_last[1]]
        return lm, intra_vals, c_l, c_r, b_first, b_last

    def sweep(self, prepared, leads, ncols: int, b_first=None):
        """The recursion from the left lead through columns ``0 .. ncols-1``.

        Returns ``(g, p, q, t)``: the left-connected Green's function of column
        ``ncols-1`` (with the right lead's block if ``ncols`` is all columns),
        ``G^L_{i0} B_0``, ``R G^L_{0i}`` and ``R G^L_{00} B_0`` (``B_0``:
        ``b_first``, by default all incoming modes)."""
        m, nsl = self.m, self.nslices
        lm, intra_vals, c_l, c_r, b_all, _ = prepared
        b_first = b_all if b_first is None else b_first
        block = self.block(0, lm.sizes[0], None, intra_vals, lm.sys_first_flat,
                            lm.first_flat, leads.values[lm.first_idx])
        g = _inverse(block, self._lwork)
        p = g @ b_first                       # G^L_{i0} B_0
        q = g[lm.kept_first]                  # R G^L_{0i}
        t = q @ b_first                       # R G^L_{00} B_0
        for i in range(1, ncols):
            cl, cr = c_l[i - 1], c_r[i - 1]
            corr = np.multiply(g[:m, :m], (-cl)[:, None], order="C")
            corr *= cr[None, :]
            if i < nsl - 1:
                block = self.interior_block(i, corr, intra_vals)
            else:
                block = self.block(i, lm.sizes[1], corr, intra_vals, lm.sys_last_flat,
                                    lm.last_flat, leads.values[lm.last_idx])
            g = _inverse(block, self._lwork)
            # Dyson: G_{i0} = -g_i A_{i,i-1} G_{i-1,0}, G_{0i} = -G_{0,i-1} A_{i-1,i} g_i and
            # G_00 += G_{0,i-1} A_{i-1,i} g_i A_{i,i-1} G_{i-1,0} (two minus signs cancel).
            p = -(g[:, :m] @ (cl[:, None] * p[:m]))
            qs = q[:, :m] * cr[None, :]
            t -= qs @ p[:m]
            q = -(qs @ g[:m])
        return g, p, q, t

    def solve(self, sys_values: np.ndarray, leads, prepared=None) -> np.ndarray:
        """``x[leads.kept]`` of ``A x = B``: the S-matrix (rows in ``leads.kept`` order).

        ``sys_values`` are the scattering region's entries of ``A`` (hoppings,
        then ``H_ii - E``) at the coordinates given to the constructor;
        ``prepared``: :meth:`prepare`'s result for them, if already at hand.
        """
        prepared = prepared or self.prepare(sys_values, leads)
        lm, b_last = prepared[0], prepared[5]
        g, p, q, t = self.sweep(prepared, leads, self.nslices)
        top = t + q @ b_last                          # G_00 B_0 + G_0N B_N on kept rows
        bottom = p[lm.kept_last] + g[lm.kept_last] @ b_last
        return np.vstack([top, bottom])


def shared_rgf_solver(device, assembly: SystemAssembly) -> RGFSolver:
    """The device's :class:`RGFSolver`, one per assembly (``rgf`` and ``rgf-mirror``'s
    fallback share it)."""
    return assembly.shared("rgf", lambda: RGFSolver(
        device.site_positions(), assembly.norbs, device.nx, device.ny, assembly.sys_row,
        assembly.sys_col, assembly.lead_interfaces))


class RGFBackend(FastBackend):
    """The ``rgf`` back end: :class:`RGFSolver` on the shared :class:`SystemAssembly`.

    Raises :class:`RGFNotApplicable` (with the reason) for devices it does not
    cover, e.g. a masked pocket open only to the right lead.
    """

    name = "rgf"

    def __init__(self, device, assembly: SystemAssembly | None = None):
        super().__init__(device, assembly)
        self._rgf = shared_rgf_solver(device, self.assembly)

    def _solve(self, values: np.ndarray, leads) -> tuple[np.ndarray, str]:
        return self._rgf.solve(values, leads), self.name


def rgf_cost(nx: int, ny: int, norbs: int) -> float:
    """RGF: one dense m x m inversion per column (m = ny norbs) plus Python
    overhead per column: ``nx (0.0156 + 2.2e-5 m^2 + 2.4e-7 m^3)`` ms."""
    m = ny * norbs
    return nx * (0.0156 + 2.2e-5 * m**2 + 2.4e-7 * m**3)


register(BackendInfo("rgf", RGFBackend, fast_path=True, cost=rgf_cost,
                     summary="recursive Green's functions over the lattice columns"))
