"""``rgf-sigma``: the parity-split RGF with the leads as self-energies, both sectors stacked.

At a point with both mirrors (x and y; a split gate or a saddle at B = 0) ``rgf-parity``
sweeps half the columns in the y-even and y-odd sectors, but inverts its first column
unsplit: that block carries lead 0's numerical mode variables (``m + n_out`` orbitals,
a complex inversion of ~10x the flops of a sector's). Here the mode variables are eliminated
first, exactly and once per energy (:class:`~.sigma_schur.InterfaceReduction`, the
reduction of ``mumps-sigma``): lead 0 enters column 0 as its self-energy ``Sigma``
(``m x m``), the right-hand sides and outgoing rows as ``rhs`` and ``out_q`` on the
interface orbitals, and S is Fisher-Lee, ``S = out_b - out_q psi`` with
``psi = (H - E + Sigma)^-1 rhs`` from the mirror-reduced sweep of :mod:`.rgf_mirror`
in the two sectors. Every column, the first included, then splits; the two sectors
are carried as one stacked ``(2, n, n)`` array (the odd sector padded with ``norbs``
decoupled orbitals where ``ny`` is odd), so each column costs two LAPACK inversions and
a handful of stacked NumPy products instead of twice as many calls.

When it runs
------------
Exactly where ``rgf-parity`` would run its both-mirror path: its x- and y-mirror checks
(the region's in full at every point, as a gate sweep's points are new parameter sets; the
leads' per energy, lead 1 the mirror image of lead 0; to :data:`~.rgf_mirror.MIRROR_RTOL`),
and ``Sigma`` parity symmetric: the cross-sector part
of lead 0's self-energy that the projection drops must be below
:data:`~.rgf_parity.PARITY_LEAD_RTOL` of its largest entry. Every other point (one
mirror, none, B != 0) runs ``rgf-parity`` (and its fallback) bit for bit. The decision
reads the point's numbers only: bit-identical in every process. S differs from
``rgf-parity``'s at rounding level (another elimination order; tests/test_rgf_sigma.py).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .base import FastBackend, SMatrix
from .registry import BackendInfo, register
from .rgf import RGFSolver
from .rgf_mirror import MirrorRGFSolver, mirror_smatrix
from .rgf_parity import PARITY_LEAD_RTOL, ParitySplit, RGFParityBackend
from .sigma_schur import InterfaceReduction

__all__ = ["RGFSigmaBackend", "SigmaRGFSolver"]

#: Lead parts whose sector projection is kept (the assembly caches 512 energies), at most
#: this many bytes of them (at least 4).
_LEADS_KEPT = 512
_LEADS_KEPT_BYTES = 256 * 2**20


@dataclass
class _LeadSectors:
    """Lead 0 on the first column, in the stacked y-parity sectors (``n``: sector size)."""

    sigma: np.ndarray   # (2, n, n): lead 0's self-energy
    rhs: np.ndarray     # (2, n, n_in0): right-hand sides of lead 0's incoming modes
    out_q: np.ndarray   # (2, n_out0, n): lead 0's outgoing amplitudes from psi
    out_b: tuple        # (lead 0 rows, lead 1 rows) of the amplitudes' incoming part


class SigmaRGFSolver:
    """The stacked-sector recursion with the leads as self-energies.

    Parameters
    ----------
    rgf : RGFSolver
        The device's column structure.
    split : ParitySplit
        Its row flip (y-mirror).
    n_sys : int
        Orbitals of the scattering region (the lead reduction numbers mode variables
        after them).
    """

    def __init__(self, rgf: RGFSolver, split: ParitySplit, n_sys: int):
        self.rgf, self.split, self.n_sys = rgf, split, int(n_sys)
        self._leads: OrderedDict = OrderedDict()

    def lead_sectors(self, leads) -> _LeadSectors | None:
        """Lead 0's reduced blocks in the sectors (cached per lead part, which the
        assembly caches per energy), or None where its self-energy is parity symmetric
        only to more than PARITY_LEAD_RTOL."""
        hit = self._leads.get(id(leads))
        if hit is not None and hit[0] is leads:
            return hit[1]
        sectors = self._project(leads)
        size = 1 if sectors is None else sectors.sigma.nbytes + sectors.rhs.nbytes
        kept = max(4, min(_LEADS_KEPT, _LEADS_KEPT_BYTES // size))
        while len(self._leads) >= kept:
            self._leads.popitem(last=False)
        self._leads[id(leads)] = (leads, sectors)
        return sectors

    def _project(self, leads) -> _LeadSectors | None:
        """Lead 0's reduction on column 0's orbitals, projected onto the sectors."""
        rgf, split, m = self.rgf, self.split, self.rgf.m
        reduction = InterfaceReduction(leads, self.n_sys)
        n0 = leads.nprop[0]
        at = np.flatnonzero(rgf.slice_of[reduction.interface] == 0)   # lead 0's interface
        local = rgf.local_of[reduction.interface[at]]
        sigma = np.zeros((m, m), dtype=complex)
        sigma[np.ix_(local, local)] = reduction.sigma[np.ix_(at, at)]
        rhs = np.zeros((m, n0), dtype=complex)
        rhs[local] = reduction.rhs[at, :n0]
        out_q = np.zeros((n0, m), dtype=complex)
        out_q[:, local] = reduction.out_q[:n0, at]
        even, odd, cross = split.general(sigma)
        if cross > PARITY_LEAD_RTOL * np.abs(sigma).max(initial=0.0):
            return None
        stacked = np.zeros((2,) + even.shape, dtype=complex)
        stacked[0], stacked[1, :len(odd), :len(odd)] = even, odd
        return _LeadSectors(stacked, split.stacked_rows(rhs),
                            np.ascontiguousarray(split.stacked_rows(out_q.T).transpose(0, 2, 1)),
                            (reduction.out_b[:n0, :n0], reduction.out_b[n0:, :n0]))

    def _invert(self, stack: np.ndarray) -> np.ndarray:
        """Inverse of each C-ordered block of ``stack``, in place (LAPACK getrf/getri)."""
        for block in stack:
            inverse = self.rgf.invert(block)
            if not np.may_share_memory(inverse, stack):
                block[...] = inverse
        return stack

    def solve(self, prepared, leads) -> np.ndarray | None:
        """S of a point with both mirrors (check them first), or None where lead 0's
        self-energy does not split."""
        lead = self.lead_sectors(leads)
        if lead is None:
            return None
        split, nsl = self.split, self.rgf.nslices
        h = nsl // 2
        intra, c_l, c_r = prepared[1:4]
        cols = split.stacked_vec(c_l[:h])[..., None]        # (2, h, n, 1): A[i+1, i]
        rows = split.stacked_vec(c_r[:h])[:, :, None, :]    # (2, h, 1, n): A[i, i+1]
        if not (cols.imag.any() or rows.imag.any()):
            cols, rows = cols.real, rows.real    # B = 0: real products below
        g = split.stacked_blocks(0, intra)
        g += lead.sigma
        g, p, q, t = self._sweep(self._invert(g), lead, intra, cols, rows)
        s00, s10 = self._join(intra, cols[:, h - 1], rows[:, h - 1], g, p, q, t)
        return mirror_smatrix(lead.out_b[0] - s00, lead.out_b[1] - s10)

    @staticmethod
    def unit_coupling(cols: np.ndarray, rows: np.ndarray):
        """The couplings' common value ``c`` where every one is the same and ``c^2 = 1``
        (the uniform lattice at B = 0: ``-t`` in lattice units), else None. Products with
        them are then sign changes, exact: skipping them changes no bit."""
        c = cols.flat[0] if cols.size else 0.0
        if c * c == 1.0 and np.all(cols == c) and np.all(rows == c):
            return c
        return None

    def _sweep(self, g, lead, intra, cols, rows):
        """Columns ``1 .. h-1`` from ``g``, column 0's inverse: ``(g, p, q, t)`` of the
        last column (:meth:`RGFSolver.sweep`'s, in the stacked sectors)."""
        split, h = self.split, self.rgf.nslices // 2
        # Unsigned Dyson products, one buffer slot per column: P_i = g_i cl P_{i-1} and
        # Q_i = Q_{i-1} cr g_i (G^L_{i0} rhs = (-1)^i P_i, out_q G^L_{0i} = (-1)^i Q_i),
        # and out_q G^L_{00} rhs = Q_0 rhs + sum_i (Q_{i-1} cr) P_i in one product at the end.
        # With unit couplings c the products skip them: P~_i = c^i P_i and
        # (Q_{i-1} cr) P_i = Q~_{i-1} P~_i (c^2 = 1).
        # The odd sector's padding orbitals (odd ny) couple to nothing: only the physical
        # couplings decide, and the padding keeps its unit diagonal below.
        ne, no = split.sizes
        pad = np.arange(no, ne)
        unit = self.unit_coupling(np.concatenate([cols[0].ravel(), cols[1, :, :no].ravel()]),
                                  np.concatenate([rows[0].ravel(), rows[1, ..., :no].ravel()]))
        p_all = np.empty((h,) + lead.rhs.shape, dtype=complex)
        qs_all = np.empty((h,) + lead.out_q.shape, dtype=complex)
        np.matmul(g, lead.rhs, out=p_all[0])
        q = lead.out_q @ g
        t = (q @ lead.rhs).sum(axis=0)
        spare = np.empty_like(g)   # two buffers in turn: no allocation per column
        weight = np.empty(g.shape, dtype=cols.dtype)
        for i in range(1, h):
            cl, cr = cols[:, i - 1], rows[:, i - 1]
            block = split.stacked_blocks(i, intra, spare)
            spare = g
            if unit is None:
                g *= np.multiply(cl, cr, out=weight)
            block -= g
            if unit is not None and pad.size:
                block[1, pad, pad] = 1.0   # its unweighted g = 1 was subtracted
            g = self._invert(block)
            if unit is None:
                np.matmul(g, cl * p_all[i - 1], out=p_all[i])
                np.multiply(q, cr, out=qs_all[i])
            else:
                np.matmul(g, p_all[i - 1], out=p_all[i])
                qs_all[i] = q
            q = qs_all[i] @ g
        if h > 1:
            t += np.matmul(qs_all[1:], p_all[1:]).sum(axis=(0, 1))
        sign = (-1.0 if h % 2 == 0 else 1.0) * (1.0 if unit is None else unit ** (h - 1))
        return g, sign * p_all[h - 1], sign * q, t

    def _join(self, intra, cl, cr, g, p, q, t):
        """``out_q G_00 rhs`` and ``out_q G_{N-1,0} rhs`` from the left half (the
        x-mirror join of :mod:`.rgf_mirror`, per sector)."""
        nsl, h = self.rgf.nslices, self.rgf.nslices // 2
        s10 = 0
        if nsl % 2 == 0:
            c_col, c_row = cr.transpose(0, 2, 1), cr      # the coupling A[h-1, h], both ways
            kernel = -(g @ (c_col * g * c_row))
            kernel += np.eye(g.shape[1])
            qc = q * c_row
            s00 = t
            for k in range(2):
                x = MirrorRGFSolver.join_solve(kernel[k], p[k])
                s00 = s00 + qc[k] @ (g[k] @ (c_col[k] * x))
                s10 = s10 - qc[k] @ x
            return s00, s10
        block = self.split.stacked_blocks(h, intra)
        block -= 2.0 * (cl * g * cr)
        for k in range(2):
            s10 = s10 + (q[k] * cr[k]) @ MirrorRGFSolver.join_solve(block[k], cl[k] * p[k])
        return t + s10, s10


class RGFSigmaBackend(FastBackend):
    """The ``rgf-sigma`` back end: :class:`SigmaRGFSolver` at points with both mirrors,
    ``rgf-parity`` (with ``fallback``) at every other point.

    Parameters
    ----------
    device : qpcsim.Device
    assembly : SystemAssembly, optional
        The shared fast-path assembly.
    fallback : back end, optional
        What ``rgf-parity`` runs at a point with neither mirror (``auto`` sets the size
        rule's back end); default: the plain RGF sweep.

    Raises
    ------
    BackendNotApplicable
        RGF does not apply, or the structure has neither an x- nor a y-mirror.

    Notes
    -----
    Each :class:`SMatrix` names the path that ran its point: ``rgf-sigma``, or what
    ``rgf-parity`` ran (``rgf-parity``, ``rgf-mirror``, or the fallback's name).
    """

    name = "rgf-sigma"

    def __init__(self, device, assembly=None, fallback=None):
        super().__init__(device, assembly)
        self._parity = RGFParityBackend(device, self.assembly, fallback)
        mirror, parity = self._parity.sector_solvers
        self._solver = (None if mirror is None or parity is None else
                        SigmaRGFSolver(parity.rgf, parity.split, self.assembly.n_sys))
        #: Points per path (diagnostics): here, or handed to ``rgf-parity``.
        self.counts = {"rgf-sigma": 0, "rgf-parity": 0}

    @property
    def fallback(self):
        """``rgf-parity``'s back end for points with neither mirror."""
        return self._parity.fallback

    @fallback.setter
    def fallback(self, backend) -> None:
        self._parity.fallback = backend

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """S-matrix at ``energy`` (lattice units) for resolved ``params``."""
        if self._solver is None or float(params.get("B", 0.0)) != 0.0:
            return self._field(energy, params)   # no mirror pair (B breaks both exactly)
        return super().smatrix(energy, params)

    def _solve_point(self, energy, params, values, leads) -> tuple[np.ndarray, str] | None:
        mirror, parity = self._parity.sector_solvers
        prepared = parity.rgf.prepare(values, leads)
        # The full checks (O(sites)): in a gate sweep every point is a new parameter set,
        # where rgf-parity's per-parameter-set record costs a second evaluation of H.
        if parity.applies(values, prepared) and mirror.applies(values, leads, prepared):
            smat = self._solver.solve(prepared, leads)
            if smat is not None:
                self.counts["rgf-sigma"] += 1
                return smat, self.name
        # One mirror, or the self-energy does not split: rgf-parity on this preparation.
        self.counts["rgf-parity"] += 1
        return self._parity.solve_prepared(values, leads, prepared)

    def _delegate(self, energy: float, params: dict) -> SMatrix:
        """Neither mirror: rgf-parity's fallback at once (its checks already failed here)."""
        return self._parity.delegate(energy, params)

    def _field(self, energy: float, params: dict) -> SMatrix:
        self.counts["rgf-parity"] += 1
        return self._parity.smatrix(energy, params)   # B != 0: its fallback, unchecked


def _rgf_sigma_cost(nx: int, ny: int, norbs: int) -> float:
    """rgf-sigma with both mirrors: ``ceil(nx / 2)`` columns in two stacked sectors of
    half the size plus the join (about one column), ``(ceil(nx / 2) + 1) (0.03 + 1.1e-5
    m^2 + 6e-8 m^3)`` ms: the flop terms of ``rgf-parity``'s columns, without its unsplit
    first column and with less overhead per column; it ties with rgf-mirror near 30 sites
    across (measured interleaved: rgf-mirror 8 % faster at 24, rgf-sigma 5-10 % faster at
    30, 15 % at 36); a device two columns long goes to plain RGF only below ~30 sites
    across (at 60 sites: 0.17 vs 0.29 ms)."""
    m = ny * norbs
    return ((nx + 1) // 2 + 1) * (0.03 + 1.1e-5 * m**2 + 6e-8 * m**3)


register(BackendInfo("rgf-sigma", RGFSigmaBackend, fast_path=True,
                     cost=_rgf_sigma_cost, condition="mirror",
                     summary="rgf-parity with the leads as self-energies and both parity "
                             "sectors stacked (points with both mirrors; else rgf-parity)"))
