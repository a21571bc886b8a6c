"""Mirror-reduced recursive Green's functions: half the column sweep at an x-mirror.

A device whose assembled system ``A x = B`` (see :mod:`.assembly`, :mod:`.rgf`)
is unchanged by the mirror ``x -> -x`` -- column ``i`` <-> column ``N-1-i``,
lead 0 <-> lead 1, the row index unchanged -- needs the RGF sweep from the left
lead only through the left half: the right half is its mirror image, so its
right-connected Green's functions are the left-connected ones. One small solve
joins the halves. With ``g`` the left-connected Green's function of the last
column of the left half, ``P = G^L_{h-1,0} B_0``, ``Q = R G^L_{0,h-1}`` and
``T = R G^L_{00} B_0`` (:meth:`RGFSolver.sweep`, incoming modes of lead 0 only):

* even ``N = 2h`` (coupling ``c`` between columns ``h-1`` and ``h``, equal both
  ways at the mirror): ``X = (1 - g c g c)^-1 P``, and
  ``S_00 = S_11 = T + Q c g c X``, ``S_10 = S_01 = -Q c X``;
* odd ``N = 2h+1`` (middle column ``h``, couplings ``cL = A[h, h-1]``,
  ``cR = A[h-1, h]``): ``X = (D_h - 2 cL g cR)^-1 cL P``, and
  ``S_00 = S_11 = T + Q cR X``, ``S_10 = S_01 = Q cR X``

(products with the diagonal couplings are row/column scalings). The cost is
``ceil(N/2)`` column inversions plus one LU solve instead of ``N`` inversions.

When the mirror holds
---------------------
Checked exactly on the assembled numbers, per point (the gate changes the
diagonal, B the Peierls phases, the energy the lead blocks):

* structure, once per device: the site set (a ``shape`` mask) and the pattern
  of every intra-column entry are mirror images;
* values, per point: the intra-column entries (``H_ii - E`` and the
  transverse hoppings) of column ``i`` equal those of column ``N-1-i``;
  ``A[i, i+1] = A[N-1-i, N-2-i]`` (false at B != 0 in the Landau gauge: the
  Peierls phases of the two directions are complex conjugates); lead 1's blocks,
  right-hand sides and outgoing rows equal lead 0's, in the column's local order.

Equal means bit for bit or to :data:`MIRROR_RTOL` relative to the largest entry
(the rounding of a grid ``x = -L/2 + i a`` that is not exactly antisymmetric,
e.g. 9e-16 in ``qpc_split_gate``); the reduced sweep then solves the system with
the left half mirrored. Anything larger is an asymmetry: the point runs the
fallback (the plain RGF sweep, or under ``auto`` the size rule's back end), and
an approximate symmetry (deviation below 1e-6 relative) is reported at
``logging.DEBUG``. The decision depends only on the device and the point's
numbers, never on a timing, so results are bit-identical in every process.
"""
from __future__ import annotations

import logging

import numpy as np
from scipy.linalg import lapack

from .assembly import SystemAssembly
from .base import FastBackend, SMatrix, BackendNotApplicable
from .context import solver_context
from .mirror_check import RegionMirrorCheck, entry_deviation
from .registry import BackendInfo, register
from .rgf import RGFBackend, RGFSolver, rgf_cost, shared_rgf_solver

__all__ = ["RGFMirrorBackend", "MirrorRGFSolver", "MIRROR_RTOL", "mirror_smatrix"]

#: Largest deviation from the mirror image, relative to the largest entry of
#: ``A``, still treated as the symmetry (rounding of the lattice positions).
MIRROR_RTOL = 1e-14
#: Deviations below this (relative) are reported as an approximate symmetry.
_NEAR_RTOL = 1e-6
#: Lead parts whose mirror check is kept (the assembly caches 512 energies).
_LEAD_CHECKS_KEPT = 512

log = logging.getLogger(__name__)


def _deviation(a: np.ndarray, b: np.ndarray) -> float:
    """0.0 for bitwise-equal arrays, else max |a - b| (inf for different shapes)."""
    if a.shape != b.shape:
        return np.inf
    return entry_deviation(a, b)


def _coupling_deviation(c_l: np.ndarray, c_r: np.ndarray) -> float:
    """Deviation of ``A[i, i+1]`` from its x-mirror image ``A[N-1-i, N-2-i]``."""
    return _deviation(c_r, c_l[::-1])


def mirror_smatrix(s00: np.ndarray, s10: np.ndarray) -> np.ndarray:
    """The S-matrix of an x-mirror symmetric point from its lead-0 blocks: reflection
    ``S_00 = S_11 = s00`` and transmission ``S_10 = S_01 = s10``."""
    n = s00.shape[0]
    smat = np.empty((2 * n, 2 * n), dtype=complex)
    smat[:n, :n] = smat[n:, n:] = s00
    smat[n:, :n] = smat[:n, n:] = s10
    return smat


class MirrorRGFSolver:
    """The mirror-reduced recursion on top of one :class:`RGFSolver`.

    Parameters
    ----------
    rgf : RGFSolver
        The plain recursion of the device (its column structure and helpers).

    Raises
    ------
    BackendNotApplicable
        The site set or the intra-column pattern is not mirror symmetric.
    """

    def __init__(self, rgf: RGFSolver):
        self.rgf = rgf
        nsl, m = rgf.nslices, rgf.m
        present = np.zeros((nsl, m), dtype=bool)
        present[rgf.slice_of, rgf.local_of] = True
        if not np.array_equal(present, present[::-1]):
            raise BackendNotApplicable("the site set is not mirror symmetric in x")
        # Intra-column entries sorted by column: key (column, row, col) and its mirror.
        rows, cols = rgf.intra_rc
        column = np.repeat(np.arange(nsl), np.diff(rgf.intra_bounds))
        key = (column * m + rows) * m + cols
        mirror_key = ((nsl - 1 - column) * m + rows) * m + cols
        order = np.argsort(key, kind="stable")
        where = np.searchsorted(key[order], mirror_key)
        where = np.minimum(where, len(key) - 1)
        found = key[order][where] == mirror_key
        if not found.all() or len(np.unique(key)) != len(key):
            raise BackendNotApplicable("the intra-column hoppings are not mirror symmetric in x")
        self._mirror_intra = order[where]   # intra entry k <-> entry _mirror_intra[k]
        #: The region's part of the check, once per parameter set (:mod:`.mirror_check`).
        self.region = RegionMirrorCheck("x-mirror", rgf, self._mirror_intra, _coupling_deviation)
        self._lead_checked: dict = {}     # id(LeadPart) -> (LeadPart, deviation)
        self._lu_lwork: dict = {}

    # ------------------------------------------------------------ detection
    def _lead_deviation(self, leads, lm) -> float:
        """Relative deviation of lead 1's part of ``A x = B`` from lead 0's (cached per
        LeadPart object, which the assembly caches per energy: a thermal grid revisits
        its energies at every gate point)."""
        hit = self._lead_checked.get(id(leads))
        if hit is not None and hit[0] is leads:
            return hit[1]
        dev = np.inf
        n0, n1 = leads.nprop
        if leads.n_outs[0] == leads.n_outs[1] and n0 == n1 and \
                np.array_equal(lm.kept_first, lm.kept_last):
            size = lm.sizes[0]
            blocks = np.zeros((2, size * size), dtype=complex)
            blocks[0, lm.first_flat] = leads.values[lm.first_idx]
            blocks[1, lm.last_flat] = leads.values[lm.last_idx]
            rhs = leads.rhs_x
            b = np.zeros((2, size, n0 + n1), dtype=complex)
            b[0, lm.b_first[0]] = rhs[lm.b_first[1]]
            b[1, lm.b_last[0]] = rhs[lm.b_last[1]]
            if not (b[0, :, n0:].any() or b[1, :, :n0].any()):
                scale = max(np.abs(blocks).max(), np.abs(b).max(), 1e-300)
                dev = max(_deviation(blocks[0], blocks[1]),
                          _deviation(b[0, :, :n0], b[1, :, n0:])) / scale
        if len(self._lead_checked) >= _LEAD_CHECKS_KEPT:
            self._lead_checked.clear()
        self._lead_checked[id(leads)] = (leads, dev)
        return dev

    def deviation(self, sys_values: np.ndarray, leads, prepared=None,
                  region: float | None = None) -> float:
        """Largest relative deviation of the point's ``A x = B`` from its mirror image
        (the region's against max|A| and each entry against its own size,
        :meth:`RegionMirrorCheck.full`; the leads' against their largest entry; 0.0: bit
        for bit; inf: structurally not). ``region``: the scattering region's part, if
        known (:attr:`region`)."""
        rgf = self.rgf
        lm, intra, c_l, c_r = (prepared or rgf.prepare(sys_values, leads))[:4]
        if region is None:
            region = self.region.full(intra, c_l, c_r, max(np.abs(sys_values).max(), 1e-300))
        return max(region, self._lead_deviation(leads, lm))

    def applies(self, sys_values: np.ndarray, leads, prepared=None,
                region: float | None = None) -> bool:
        """Whether the point is mirror symmetric (to :data:`MIRROR_RTOL`); an
        approximate symmetry is reported at debug level and not used."""
        dev = self.deviation(sys_values, leads, prepared, region)
        if dev <= MIRROR_RTOL:
            return True
        if dev < _NEAR_RTOL and log.isEnabledFor(logging.DEBUG):
            log.debug("x-mirror symmetry holds only approximately (relative deviation "
                      "%.2e > %.0e): not used at this point", dev, MIRROR_RTOL)
        return False

    # ------------------------------------------------------------ solve
    def solve(self, sys_values: np.ndarray, leads, prepared=None) -> np.ndarray:
        """The S-matrix of a mirror-symmetric point (check :meth:`applies` first);
        rows and columns as :meth:`RGFSolver.solve`."""
        rgf = self.rgf
        m, nsl = rgf.m, rgf.nslices
        prepared = prepared or rgf.prepare(sys_values, leads)
        _, intra_vals, c_l, c_r, b_first, _ = prepared
        n0 = leads.nprop[0]
        h = nsl // 2
        g, p, q, t = rgf.sweep(prepared, leads, h, b_first[:, :n0])
        g, p, q = g[:m, :m], p[:m], q[:, :m]
        if nsl % 2 == 0:
            c = c_r[h - 1]
            kernel = np.eye(m, dtype=complex)
            kernel -= g @ (c[:, None] * g * c[None, :])
            x = self.join_solve(kernel, p)
            qc = q * c[None, :]
            s00 = t + qc @ (g @ (c[:, None] * x))
            s10 = -(qc @ x)
        else:
            cl, cr = c_l[h - 1], c_r[h - 1]
            corr = np.multiply(g, (-2.0 * cl)[:, None], order="C")
            corr *= cr[None, :]
            block = rgf.interior_block(h, corr, intra_vals)
            x = self.join_solve(block, cl[:, None] * p)
            s10 = (q * cr[None, :]) @ x
            s00 = t + s10
        return mirror_smatrix(s00, s10)

    @staticmethod
    def join_solve(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """``matrix^-1 rhs`` by LAPACK getrf/getrs (``matrix`` C-ordered, overwritten).

        LAPACK factorizes the Fortran-ordered transpose (no copy) and solves with
        its transpose."""
        lu, piv, info = lapack.zgetrf(matrix.T, overwrite_a=True)
        if info != 0:
            raise np.linalg.LinAlgError(f"singular join of the mirrored halves (getrf info={info})")
        x, info = lapack.zgetrs(lu, piv, rhs, trans=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"mirror join solve failed (getrs info={info})")
        return x


class RGFMirrorBackend(FastBackend):
    """The ``rgf-mirror`` back end: :class:`MirrorRGFSolver` where a point is
    x-mirror symmetric, else ``fallback`` (by default the plain RGF sweep).

    Parameters
    ----------
    device : qpcsim.Device
    assembly : SystemAssembly, optional
        The shared fast-path assembly.
    fallback : back end, optional
        What runs a point that is not mirror symmetric (``auto`` passes the size
        rule's back end); default: the plain RGF recursion on the same assembly.

    Raises
    ------
    BackendNotApplicable
        RGF does not apply, or the device's structure (site set, hopping
        pattern) is not mirror symmetric.

    Notes
    -----
    Each :class:`SMatrix` names the path that ran its point: ``rgf-mirror``, or
    the fallback's name (``rgf`` for the plain sweep).
    """

    name = "rgf-mirror"

    def __init__(self, device, assembly: SystemAssembly | None = None, fallback=None):
        super().__init__(device, assembly)
        self._mirror = MirrorRGFSolver(shared_rgf_solver(device, self.assembly))
        self.fallback = fallback or RGFBackend(device, self.assembly)
        #: Points solved by the mirror reduction / by the fallback (diagnostics).
        self.counts = {"mirror": 0, "fallback": 0}

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """S-matrix at ``energy`` (lattice units) for resolved ``params``."""
        if float(params.get("B", 0.0)) != 0.0:
            # A field breaks the x-mirror exactly (the Landau-gauge Peierls phases of the
            # two directions are complex conjugates): no check, no second evaluation.
            return self._delegate(energy, params)
        return super().smatrix(energy, params)

    def _solve_point(self, energy, params, values, leads) -> tuple[np.ndarray, str] | None:
        prepared = self._mirror.rgf.prepare(values, leads)
        region = self._mirror.region.relative(solver_context(self.assembly.device),
                                              self.assembly, energy, params, leads)
        if not self._mirror.applies(values, leads, prepared, region):
            return None
        self.counts["mirror"] += 1
        return self._mirror.solve(values, leads, prepared), self.name

    def _delegate(self, energy: float, params: dict) -> SMatrix:
        self.counts["fallback"] += 1
        return self.fallback.smatrix(energy, params)


def _rgf_mirror_cost(nx: int, ny: int, norbs: int) -> float:
    """RGF on the left half of an x-mirror symmetric device plus the join (about
    one column): :func:`~.rgf.rgf_cost` of ``ceil(nx / 2) + 1`` columns. Ties (nx = 2)
    go to the plain RGF."""
    return rgf_cost((nx + 1) // 2 + 1, ny, norbs)


register(BackendInfo("rgf-mirror", RGFMirrorBackend, fast_path=True,
                     cost=_rgf_mirror_cost, condition="x-mirror",
                     summary="RGF over half the columns where the device is x-mirror "
                             "symmetric (checked per point; else plain RGF)"))
