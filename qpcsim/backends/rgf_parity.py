"""Parity-split recursive Green's functions: every mirror symmetry a point has.

A two-terminal device can be symmetric under the x-mirror (column ``i`` <->
``N-1-i``, lead 0 <-> lead 1; :mod:`.rgf_mirror` halves the column sweep) and
under the y-mirror ``y -> -y`` (row ``j`` <-> ``ny-1-j`` in every column, each
lead onto itself: a split-gate QPC or a saddle at B = 0). Under the y-mirror
every column block commutes with the row flip, so in the basis of y-even and
y-odd combinations ``(x_j +- x_{ny-1-j}) / sqrt 2`` (the middle row, for odd
``ny``, is even) it splits into two blocks of half the size: a quarter of the
flops per inversion each. :class:`RGFParityBackend` runs per point

* both mirrors: the mirror-reduced sweep (:mod:`.rgf_mirror`) in the two sectors;
* the y-mirror only: the full sweep in the two sectors, the last column (lead 1)
  unsplit;
* the x-mirror only: the mirror-reduced sweep;
* neither: its fallback (plain RGF, or under ``auto`` the size rule's back end).

When the y-mirror holds
-----------------------
Structure, once per device: the site set and the intra-column hopping pattern
of every column are invariant under the row flip. Values, per point: the
intra-column entries and both couplings between columns equal their row-flip
images to :data:`~.rgf_mirror.MIRROR_RTOL` relative (false at B != 0: the
Landau-gauge Peierls phases change sign with y).

The first column carries lead 0's mode variables, computed numerically: they
are parity symmetric only to rounding (~1e-14 relative). Its Green's function
is therefore computed unsplit and projected onto the sectors; the part that
the projection drops (the cross-sector blocks) must be below
:data:`PARITY_LEAD_RTOL` relative to its largest entry, else the point is not
split. The dropped part perturbs S by at most about that much times the
conditioning of the recursion: measured <= 1e-12 against MUMPS and plain RGF
on every bundled geometry (tests/test_rgf_parity.py asserts 1e-10, the bar of
every back end against ``kwant.smatrix``). The decision depends only on the
device and the point's numbers, never on a timing: bit-identical in every process.
"""
from __future__ import annotations

import logging

import numpy as np

from .assembly import SystemAssembly
from .base import BackendNotApplicable, FastBackend, SMatrix
from .context import solver_context
from .mirror_check import RegionMirrorCheck, entry_deviation
from .registry import BackendInfo, register
from .rgf import RGFBackend, RGFSolver, rgf_cost, shared_rgf_solver
from .rgf_mirror import MIRROR_RTOL, MirrorRGFSolver, mirror_smatrix

__all__ = ["RGFParityBackend", "ParitySplit", "PARITY_LEAD_RTOL"]

#: Largest cross-sector part of the first column's Green's function (which
#: contains lead 0's numerical modes), relative to its largest entry, that the
#: y-parity split drops; above it the point is not split.
PARITY_LEAD_RTOL = 1e-12

log = logging.getLogger(__name__)
_R2 = np.sqrt(0.5)


class ParitySplit:
    """The row flip ``y -> -y`` of one RGF structure and the sector projections.

    Rows are split into pairs (``L``: lower half, ``R``: their images) and the
    fixed middle row ``F`` (odd ``ny``). The even sector is ``(L + R)/sqrt 2``
    then ``F``; the odd sector ``(L - R)/sqrt 2``.

    Raises
    ------
    BackendNotApplicable
        The site set or the intra-column pattern is not y-mirror symmetric.
    """

    def __init__(self, rgf: RGFSolver):
        m, norbs, nsl = rgf.m, rgf.norbs, rgf.nslices
        ny = m // norbs
        loc = np.arange(m)
        flip = (ny - 1 - loc // norbs) * norbs + loc % norbs
        present = np.zeros((nsl, m), dtype=bool)
        present[rgf.slice_of, rgf.local_of] = True
        if not np.array_equal(present, present[:, flip]):
            raise BackendNotApplicable("the site set is not mirror symmetric in y")
        rows, cols = rgf.intra_rc
        column = np.repeat(np.arange(nsl), np.diff(rgf.intra_bounds))
        key = (column * m + rows) * m + cols
        fkey = (column * m + flip[rows]) * m + flip[cols]
        order = np.argsort(key, kind="stable")
        where = np.minimum(np.searchsorted(key[order], fkey), len(key) - 1)
        if not np.all(key[order][where] == fkey) or len(np.unique(key)) != len(key):
            raise BackendNotApplicable("the intra-column hoppings are not mirror symmetric in y")
        lower = loc[2 * (loc // norbs) < ny - 1]
        self.L, self.R, self.F = lower, flip[lower], loc[2 * (loc // norbs) == ny - 1]
        self._flip_intra = order[where]     # intra entry k <-> its row-flip image
        #: The region's check, once per parameter set (:mod:`.mirror_check`).
        self.region = RegionMirrorCheck("y-mirror", rgf, self._flip_intra,
                                        self.coupling_deviation)
        self._bounds = rgf.intra_bounds
        self.sizes = (len(self.L) + len(self.F), len(self.L))
        shared: dict = {}    # columns of one pattern share their maps (memory at 1e6 sites)
        self._columns = []
        for i in range(nsl):
            lo, hi = rgf.intra_bounds[i], rgf.intra_bounds[i + 1]
            pattern = (rows[lo:hi].tobytes(), cols[lo:hi].tobytes(),
                       rgf.dummy_orbitals.get(i, np.zeros(0, dtype=np.int64)).tobytes())
            if pattern not in shared:
                shared[pattern] = self._column_maps(rgf, i)
            self._columns.append(shared[pattern])

    def _column_maps(self, rgf, i):
        """Scatter maps from column ``i``'s intra entries to its even and odd blocks
        (one flat buffer: even then odd), valid for a flip-symmetric block:
        ``even[a, b] = D[La, Lb] + D[La, Rb]``, ``even[a, F] = sqrt2 D[La, F]``,
        ``even[F, b] = sqrt2 D[F, Lb]``, ``odd[a, b] = D[La, Lb] - D[La, Rb]``.
        Two passes with unique targets each (set, then add), plus the unit
        diagonal of absent sites."""
        m = rgf.m
        ne, no = self.sizes
        role = np.full(m, 2)                # 0: L, 1: F, 2: R
        role[self.L], role[self.F] = 0, 1
        epos = np.empty(m, dtype=np.int64)  # position in the even sector
        epos[self.L] = epos[self.R] = np.arange(no)
        epos[self.F] = no + np.arange(len(self.F))
        lo, hi = rgf.intra_bounds[i], rgf.intra_bounds[i + 1]
        r, c = rgf.intra_rc[0][lo:hi], rgf.intra_rc[1][lo:hi]
        src = np.arange(hi - lo)
        even_t, odd_t = epos[r] * ne + epos[c], ne * ne + epos[r] * no + epos[c]
        root2 = np.sqrt(2.0)
        row_l, row_f = role[r] == 0, role[r] == 1
        first, second = [], []
        for keep, target, coef, into in (
                (row_l & (role[c] != 2), even_t, np.where(role[c] == 1, root2, 1.0), first),
                (row_l & (role[c] == 0), odd_t, 1.0, first),
                (row_f & (role[c] != 2), even_t, np.where(role[c] == 0, root2, 1.0), first),
                (row_l & (role[c] == 2), even_t, 1.0, second),
                (row_l & (role[c] == 2), odd_t, -1.0, second)):
            into.append((target[keep], src[keep], np.broadcast_to(coef, r.shape)[keep]))
        dummy = rgf.dummy_orbitals.get(i, np.zeros(0, dtype=np.int64))
        dummy = dummy[role[dummy] != 2]
        unit = np.concatenate([epos[dummy] * (ne + 1),
                               ne * ne + epos[dummy[role[dummy] == 0]] * (no + 1)])
        return tuple(tuple(np.concatenate(x) for x in zip(*p)) for p in (first, second)) + (unit,)

    def blocks(self, i: int, intra_vals: np.ndarray) -> tuple:
        """The even and odd blocks of column ``i`` (new C-ordered arrays)."""
        ne, no = self.sizes
        buf = self._sector_buffer(i, intra_vals)
        return buf[:ne * ne].reshape(ne, ne), buf[ne * ne:].reshape(no, no)

    def _sector_buffer(self, i: int, intra_vals: np.ndarray, buf=None) -> np.ndarray:
        """Column ``i``'s even block then odd block, flat in one buffer (``buf``, zeroed
        and filled, or a new one)."""
        ne, no = self.sizes
        (t1, s1, c1), (t2, s2, c2), unit = self._columns[i]
        vals = intra_vals[self._bounds[i]:self._bounds[i + 1]]
        if buf is None:
            buf = np.zeros(ne * ne + no * no, dtype=complex)
        else:
            buf.fill(0.0)
        buf[t1] = vals[s1] * c1
        buf[t2] += vals[s2] * c2
        buf[unit] += 1.0
        return buf

    def stacked_blocks(self, i: int, intra_vals: np.ndarray, out=None) -> np.ndarray:
        """Column ``i``'s even and odd blocks as one C-ordered ``(2, ne, ne)`` array
        (``out``, overwritten, or a new one); for odd ``ny`` the odd block is padded with
        the middle row's ``norbs`` decoupled unit orbitals (last), which change no physical
        entry of its inverse."""
        ne, no = self.sizes
        if ne == no:
            flat = None if out is None else out.reshape(-1)
            return self._sector_buffer(i, intra_vals, flat).reshape(2, ne, ne)
        buf = self._sector_buffer(i, intra_vals)
        stack = np.zeros((2, ne, ne), dtype=complex) if out is None else out
        stack.fill(0.0)
        stack[0] = buf[:ne * ne].reshape(ne, ne)
        stack[1, :no, :no] = buf[ne * ne:].reshape(no, no)
        pad = np.arange(no, ne)
        stack[1, pad, pad] = 1.0
        return stack

    def stacked_vec(self, c: np.ndarray) -> np.ndarray:
        """:meth:`vec` as one ``(2, ..., ne)`` array, the odd sector padded with zeros
        (the padding orbital couples to nothing)."""
        even, odd = self.vec(c)
        stack = np.zeros((2,) + even.shape, dtype=even.dtype)
        stack[0], stack[1, ..., :odd.shape[-1]] = even, odd
        return stack

    def stacked_rows(self, x: np.ndarray) -> np.ndarray:
        """:meth:`rows` as one ``(2, ne, ...)`` array, the odd sector padded with zeros."""
        even, odd = self.rows(x)
        stack = np.zeros((2,) + even.shape, dtype=complex)
        stack[0], stack[1, :len(odd)] = even, odd
        return stack

    def coupling_deviation(self, c_l: np.ndarray, c_r: np.ndarray) -> float:
        """Largest deviation of the couplings between columns from their row-flip
        images (absolute)."""
        L, R = self.L, self.R
        return max(entry_deviation(c_l[:, L], c_l[:, R]), entry_deviation(c_r[:, L], c_r[:, R]))

    def vec(self, c: np.ndarray) -> tuple:
        """y-symmetric diagonals (couplings; rows of ``c``: columns) in the even and
        odd sectors."""
        return np.concatenate([c[..., self.L], c[..., self.F]], axis=-1), c[..., self.L]

    def rows(self, x: np.ndarray) -> tuple:
        """Rows of ``x`` projected onto the even and odd sectors."""
        xl, xr = x[self.L], x[self.R]
        return np.concatenate([(xl + xr) * _R2, x[self.F]]), (xl - xr) * _R2

    def unrows(self, even: np.ndarray, odd: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`rows`: sector rows back to lattice rows."""
        npair = len(self.L)
        out = np.empty((npair * 2 + len(self.F),) + even.shape[1:], dtype=complex)
        out[self.L] = (even[:npair] + odd) * _R2
        out[self.R] = (even[:npair] - odd) * _R2
        out[self.F] = even[npair:]
        return out

    def general(self, g: np.ndarray) -> tuple:
        """Even and odd blocks of ``g`` and the largest entry of its cross-sector
        blocks (what the projection drops)."""
        even_rows, odd_rows = self.rows(g)
        ee, eo = self.rows(even_rows.T)
        oe, oo = self.rows(odd_rows.T)
        cross = max(np.abs(eo).max(initial=0.0), np.abs(oe).max(initial=0.0))
        return ee.T, oo.T, cross

    def merge(self, even: np.ndarray, odd: np.ndarray) -> np.ndarray:
        """The lattice-basis matrix of block-diagonal sectors (even, odd)."""
        zero_eo = np.zeros((even.shape[0], odd.shape[1]), dtype=complex)
        zero_oe = np.zeros((odd.shape[0], even.shape[1]), dtype=complex)
        rows = self.unrows(np.hstack([even, zero_eo]), np.hstack([zero_oe, odd]))
        return self.unrows(rows[:, :even.shape[1]].T, rows[:, even.shape[1]:].T).T


class ParityRGFSolver:
    """The sector-split recursions on top of one :class:`RGFSolver`.

    Parameters
    ----------
    rgf : RGFSolver
        The plain recursion of the device.
    split : ParitySplit
        Its row flip.
    mirror : MirrorRGFSolver or None
        Its x-mirror, where the structure has one.
    """

    def __init__(self, rgf: RGFSolver, split: ParitySplit, mirror: MirrorRGFSolver | None):
        self.rgf, self.split, self.mirror = rgf, split, mirror

    def applies(self, sys_values: np.ndarray, prepared, region: float | None = None) -> bool:
        """Whether the point's column blocks are y-mirror symmetric (to MIRROR_RTOL);
        ``region``: their relative deviation, if known (``split.region``)."""
        if region is None:
            region = self.split.region.full(*prepared[1:4],
                                            max(np.abs(sys_values).max(), 1e-300))
        return region <= MIRROR_RTOL

    def _first(self, prepared, leads, b0):
        """Sectors ``[[g, p, q] even, [g, p, q] odd]`` and ``t`` after column 0
        (lead 0 included, inverted unsplit), or None where its Green's function is
        parity symmetric only to more than PARITY_LEAD_RTOL."""
        rgf, m = self.rgf, self.rgf.m
        lm, intra_vals = prepared[:2]
        block = rgf.block(0, lm.sizes[0], None, intra_vals, lm.sys_first_flat,
                           lm.first_flat, leads.values[lm.first_idx])
        g = rgf.invert(block)
        p = (g @ b0)[:m]
        q = g[lm.kept_first]
        t = q @ b0
        g_e, g_o, cross = self.split.general(g[:m, :m])
        scale = np.abs(g[:m, :m]).max(initial=0.0)
        if cross > PARITY_LEAD_RTOL * scale:
            log.debug("y-parity: lead 0's column is parity symmetric only to %.2e relative: "
                      "not split", cross / scale)
            return None
        q_e, q_o = (x.T for x in self.split.rows(q[:, :m].T))
        p_e, p_o = self.split.rows(p)
        return [[g_e, p_e, q_e], [g_o, p_o, q_o]], t

    def _sweep(self, prepared, sectors, t, ncols):
        """Columns ``1 .. ncols-1`` in the two sectors (``sectors`` updated); new ``t``."""
        _, intra_vals, c_l, c_r = prepared[:4]
        cls, crs = self.split.vec(c_l[:ncols - 1]), self.split.vec(c_r[:ncols - 1])
        for i in range(1, ncols):
            blocks = self.split.blocks(i, intra_vals)
            for sec, d, cl, cr in zip(sectors, blocks, (cls[0][i - 1], cls[1][i - 1]),
                                      (crs[0][i - 1], crs[1][i - 1])):
                g_s, p_s, q_s = sec
                d -= cl[:, None] * g_s * cr[None, :]
                g_s = self.rgf.invert(d)
                p_s = -(g_s @ (cl[:, None] * p_s))
                qs = q_s * cr[None, :]
                t = t - qs @ p_s
                sec[:] = g_s, p_s, -(qs @ g_s)
        return t

    def solve_both(self, prepared, leads):
        """S of a point with both mirrors (the x-mirror join in the sectors), or None."""
        nsl, h = self.rgf.nslices, self.rgf.nslices // 2
        _, intra_vals, c_l, c_r, b_first = prepared[:5]
        first = self._first(prepared, leads, b_first[:, :leads.nprop[0]])
        if first is None:
            return None
        sectors, t = first
        t = self._sweep(prepared, sectors, t, h)
        s00, s10 = t, 0
        if nsl % 2 == 0:
            for (g_s, p_s, q_s), c in zip(sectors, self.split.vec(c_r[h - 1])):
                kernel = np.eye(len(c), dtype=complex)
                kernel -= g_s @ (c[:, None] * g_s * c[None, :])
                x = self.mirror.join_solve(kernel, p_s)
                qc = q_s * c[None, :]
                s00 = s00 + qc @ (g_s @ (c[:, None] * x))
                s10 = s10 - qc @ x
        else:
            blocks = self.split.blocks(h, intra_vals)
            for (g_s, p_s, q_s), d, cl, cr in zip(sectors, blocks, self.split.vec(c_l[h - 1]),
                                                  self.split.vec(c_r[h - 1])):
                d -= 2.0 * (cl[:, None] * g_s * cr[None, :])
                s10 = s10 + (q_s * cr[None, :]) @ self.mirror.join_solve(d, cl[:, None] * p_s)
            s00 = t + s10
        return mirror_smatrix(s00, s10)

    def solve_y(self, prepared, leads):
        """S of a point with the y-mirror only (the last column, lead 1, unsplit), or None."""
        rgf, m, last = self.rgf, self.rgf.m, self.rgf.nslices - 1
        lm, intra_vals, c_l, c_r, b_first, b_last = prepared
        first = self._first(prepared, leads, b_first)
        if first is None:
            return None
        sectors, t = first
        t = self._sweep(prepared, sectors, t, last)
        (g_e, p_e, q_e), (g_o, p_o, q_o) = sectors
        g = self.split.merge(g_e, g_o)
        p = self.split.unrows(p_e, p_o)
        q = self.split.unrows(q_e.T, q_o.T).T
        cl, cr = c_l[last - 1], c_r[last - 1]
        corr = np.multiply(g, (-cl)[:, None], order="C")
        corr *= cr[None, :]
        block = rgf.block(last, lm.sizes[1], corr, intra_vals, lm.sys_last_flat,
                           lm.last_flat, leads.values[lm.last_idx])
        g = rgf.invert(block)
        p = -(g[:, :m] @ (cl[:, None] * p))
        qs = q * cr[None, :]
        t = t - qs @ p[:m]
        q = -(qs @ g[:m])
        top = t + q @ b_last
        bottom = p[lm.kept_last] + g[lm.kept_last] @ b_last
        return np.vstack([top, bottom])


class RGFParityBackend(FastBackend):
    """The ``rgf-parity`` back end: per point, the parity sectors of every mirror
    the point has (see the module docstring), else ``fallback``.

    Parameters
    ----------
    device : qpcsim.Device
    assembly : SystemAssembly, optional
        The shared fast-path assembly.
    fallback : back end, optional
        What runs a point with neither mirror (``auto`` passes the size rule's
        back end); default: the plain RGF sweep on the same assembly.

    Raises
    ------
    BackendNotApplicable
        RGF does not apply, or the structure has neither mirror.

    Notes
    -----
    Each :class:`SMatrix` names the path that ran its point: ``rgf-parity``
    (sectors split), ``rgf-mirror`` (x-mirror only, or lead modes not parity
    symmetric to :data:`PARITY_LEAD_RTOL`), or the fallback's name.
    """

    name = "rgf-parity"

    def __init__(self, device, assembly: SystemAssembly | None = None, fallback=None):
        super().__init__(device, assembly)
        rgf = self._rgf = shared_rgf_solver(device, self.assembly)
        self._mirror = _structural(MirrorRGFSolver, rgf)
        split = _structural(ParitySplit, rgf)
        if self._mirror is None and split is None:
            raise BackendNotApplicable("the device's structure has neither an x- nor a y-mirror")
        self._parity = None if split is None else ParityRGFSolver(rgf, split, self._mirror)
        self.fallback = fallback or RGFBackend(device, self.assembly)
        #: Points per path (diagnostics).
        self.counts = {"rgf-parity": 0, "rgf-mirror": 0, "fallback": 0}

    @property
    def sector_solvers(self) -> tuple:
        """``(MirrorRGFSolver or None, ParityRGFSolver or None)``: the device's x-mirror
        and y-parity recursions (shared with ``rgf-sigma``)."""
        return self._mirror, self._parity

    def mirror_deviations(self, energy: float, params: dict, leads) -> tuple:
        """The region's relative x- and y-mirror deviations at the point (None: not
        cached, check in full), from the per-parameter-set checks."""
        context = solver_context(self.assembly.device)
        return tuple(None if check is None else
                     check.region.relative(context, self.assembly, energy, params, leads)
                     for check in (self._mirror, self._parity and self._parity.split))

    def _symmetric(self, values, leads, prepared, regions=(None, None)):
        """(S, path) by the cheapest symmetry the point has, or (None, None);
        ``regions``: the region's relative x- and y-deviation, if known."""
        x = self._mirror is not None and self._mirror.applies(values, leads, prepared,
                                                              regions[0])
        if self._parity is not None and self._parity.applies(values, prepared, regions[1]):
            smat = (self._parity.solve_both(prepared, leads) if x
                    else self._parity.solve_y(prepared, leads))
            if smat is not None:
                return smat, "rgf-parity"
        if x:
            return self._mirror.solve(values, leads, prepared), "rgf-mirror"
        return None, None

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """S-matrix at ``energy`` (lattice units) for resolved ``params``."""
        if float(params.get("B", 0.0)) != 0.0:
            # A field breaks both mirrors exactly in the Landau gauge: no check then.
            return self._delegate(energy, params)
        return super().smatrix(energy, params)

    def _solve_point(self, energy, params, values, leads) -> tuple[np.ndarray, str] | None:
        regions = self.mirror_deviations(energy, params, leads)
        return self.solve_prepared(values, leads, self._rgf.prepare(values, leads), regions)

    def solve_prepared(self, values, leads, prepared, regions=(None, None)):
        """``(S data, path)`` of a point whose system values and RGF preparation the caller
        already has (``rgf-sigma``'s points without both mirrors: no second preparation or
        check), or None where the point has neither mirror (then :meth:`delegate`)."""
        smat, path = self._symmetric(values, leads, prepared, regions)
        if smat is None:
            return None
        self.counts[path] += 1
        return smat, path

    def delegate(self, energy: float, params: dict) -> SMatrix:
        """The S-matrix of a point with neither mirror: the fallback's."""
        self.counts["fallback"] += 1
        return self.fallback.smatrix(energy, params)

    _delegate = delegate


def _structural(kind, rgf):
    """``kind(rgf)``, or None where the structure lacks that symmetry."""
    try:
        return kind(rgf)
    except BackendNotApplicable:
        return None


def _rgf_parity_cost(nx: int, ny: int, norbs: int) -> float:
    """rgf-parity with both mirrors: the first column unsplit, then half the columns
    in two sectors of half the size: ``rgf_cost(1) + ceil(nx / 2) (0.045 + 1.1e-5 m^2
    + 6e-8 m^3)`` ms. The flop terms are RGF's at m/2, twice; the per-column overhead
    (two sectors, the sector projection) was fitted to the rgf-mirror/rgf-parity ratio
    measured interleaved (benchmarks/bench_parity.py: equal cost near m = 40)."""
    m = ny * norbs
    return rgf_cost(1, ny, norbs) + (nx + 1) // 2 * (0.045 + 1.1e-5 * m**2 + 6e-8 * m**3)


register(BackendInfo("rgf-parity", RGFParityBackend, fast_path=True,
                     cost=_rgf_parity_cost, condition="mirror",
                     summary="RGF in the parity sectors of every mirror (x, y) a point has "
                             "(checked per point; else plain RGF)"))
