"""Sparse Schur-complement back ends (``mumps``, ``scipy``): the Schur complement
S = A_XX - A_XB A_BB^-1 A_BX of a sparse matrix A onto a small index set X, so
that (A^-1)_XX = S^-1, with the symbolic analysis reused across matrices of the
same sparsity pattern.

``MumpsSchur`` asks MUMPS, through python-mumps (Kwant's own binding), for S
directly (one sparse factorization, no right-hand sides, factors discarded).
``ScipySchur`` is the fallback without python-mumps: a SuperLU factorization
and |X| sparse solves.
"""
from __future__ import annotations

import importlib.metadata
import math

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .assembly import SystemAssembly
from .base import BackendNotApplicable, FastBackend
from .context import solver_context
from .registry import BackendInfo, FastSolver, create_backend, register

__all__ = ["SchurBackend", "MumpsSchur", "ScipySchur", "mumps_available", "mumps_version",
           "mumps_report", "MUMPS_ORDERINGS", "SCHUR_GROWTH_LIMIT", "schur_growth",
           "block_picker", "dense_block", "hopping_scale", "exact_backend"]

#: Largest growth (:func:`schur_growth`) a point's Schur complement may reach before the point
#: goes to :func:`exact_backend`. Eliminating the region without its lead interfaces inverts a
#: closed box; near one of its eigenvalues (within ~1e-7 meV) the elimination's part of S_X
#: grows and the S-matrix loses accuracy without any sign in its unitarity (a tilted wire:
#: G 5e-6 off, unitarity 1e-16; tests/test_backends_fuzz.py). Ordinary points grow 2.7-16
#: (saddle, split gate); a point 7e-9 meV from an eigenvalue 1e5-1e6. Just under the limit
#: S is still accurate: growth 987 (1.7e-5 meV from the eigenvalue), 5.6e-13 from Kwant.
SCHUR_GROWTH_LIMIT = 1e3
#: Where a device's SolverContext keeps the back end of those points (:func:`exact_backend`).
_EXACT = "exact-fallback"


def schur_growth(schur: np.ndarray, direct: np.ndarray, hop: float) -> float:
    """max|S_X - A_XX| / ``hop``: what the elimination of the interior added to the block
    ``direct`` = A_XX of the Schur variables, over the region's hopping scale ``hop``
    (lattice units): ~ t |(A_II)^-1|, the closed interior's Green's function in units of
    1/t. Not over max|A|, which a hard wall (or a slow lead mode) makes so large that a
    near-singular interior passed unseen (S 5e-10 off Kwant behind 30 eV walls)."""
    return float(np.abs(schur - direct).max(initial=0.0)) / max(hop, 1e-300)


def block_picker(index: np.ndarray, n: int, row: np.ndarray, col: np.ndarray) -> tuple:
    """``(entries, rows, cols, repeats)``: the entries of an ``n x n`` COO pattern ``(row,
    col)`` in the block on ``index``, their rows and columns in it, and whether a position
    repeats (for :func:`dense_block`)."""
    where = np.full(n, -1)
    where[index] = np.arange(len(index))
    rows, cols = where[row], where[col]
    entries = np.flatnonzero((rows >= 0) & (cols >= 0))
    rows, cols = rows[entries], cols[entries]
    flat = rows * len(index) + cols
    return entries, rows, cols, np.unique(flat).size != flat.size


def dense_block(picker: tuple, values: np.ndarray, size: int) -> np.ndarray:
    """The dense ``size x size`` block of the entries ``values`` that ``picker``
    (:func:`block_picker`) selects (repeated entries summed, as the sparse matrix does)."""
    entries, rows, cols, repeats = picker
    out = np.zeros((size, size), dtype=complex)
    if repeats:
        np.add.at(out, (rows, cols), values[entries])
    else:       # every position once (the usual pattern): assignment, 4x faster than add.at
        out[rows, cols] = values[entries]
    return out


def hopping_scale(values: np.ndarray, off_diagonal: np.ndarray) -> float:
    """Largest |entry| of the region's ``values`` off the diagonal (lattice units)."""
    return float(np.abs(values[off_diagonal]).max(initial=0.0))


def exact_backend(device):
    """The back end of the points whose Schur complement grew past
    :data:`SCHUR_GROWTH_LIMIT`: the plain RGF sweep where it applies (it never inverts a
    closed region: bit-reproducible), else Kwant's solve of the open system (explicit
    leads, model devices). The device's own ``rgf`` or ``kwant`` back end, shared with
    :mod:`qpcsim.scattering` through its SolverContext (created there if not yet)."""
    cache = solver_context(device).backends
    backend = cache.get(_EXACT)
    if backend is None:
        try:
            backend = cache.get("rgf") or cache.setdefault("rgf", FastSolver(device, "rgf"))
        except ValueError:
            backend = cache.get("kwant") or cache.setdefault("kwant",
                                                             create_backend(device, "kwant"))
        cache[_EXACT] = backend
    return backend


def mumps_available() -> bool:
    """Whether python-mumps (Kwant's own MUMPS binding, the ``mumps`` back end) is installed."""
    try:
        import mumps  # noqa: F401
    except ImportError:
        return False
    return True


def mumps_version() -> str | None:
    """Version of the installed python-mumps, or None without it (``qpcsim info``)."""
    try:
        return importlib.metadata.version("python-mumps")
    except importlib.metadata.PackageNotFoundError:
        return None


#: MUMPS's INFOG(7) codes: the ordering its analysis actually ran.
MUMPS_ORDERINGS = {0: "AMD", 1: "user", 2: "AMF", 3: "SCOTCH", 4: "PORD", 5: "METIS", 6: "QAMD"}


def mumps_report() -> str:
    """One line for ``qpcsim info``: the binding of the ``mumps`` back end and the
    ordering MUMPS reports (INFOG(7)) for a Schur complement of a small grid."""
    version = mumps_version()
    if version is None or not mumps_available():
        return "- (python-mumps not installed: no mumps back end; auto runs RGF or SciPy)"
    side = 12   # a 12 x 12 grid Laplacian, Schur complement onto its first column
    index = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate([np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                            np.stack([index[:-1].ravel(), index[1:].ravel()])], axis=1)
    row = np.concatenate([index.ravel(), pairs[0], pairs[1]])
    col = np.concatenate([index.ravel(), pairs[1], pairs[0]])
    values = np.where(row == col, 4.0 + 0.1j, -1.0).astype(complex)
    schur = MumpsSchur(side * side, row, col, index[:, 0])
    schur.schur_complement(values)
    return f"python-mumps {version} (Kwant's binding); ordering with a Schur complement: " \
           f"{schur.ordering} (INFOG(7))"


class MumpsSchur:
    """Schur complement of matrices sharing one sparsity pattern, via python-mumps.

    Parameters
    ----------
    n : int
        Matrix dimension.
    row, col : ndarray of int
        Zero-based coordinates of the stored entries (the pattern).
    schur_indices : ndarray of int
        The index set X (zero-based).

    Notes
    -----
    ``mumps.Context.schur`` runs the analysis once, on the first matrix (it is
    purely structural: no value-dependent column permutation, ICNTL(6) = 0), so
    the ordering, and with it the rounding of every later factorization, does
    not depend on which matrix a worker happened to see first: the key to
    bit-identical results across executors. Each matrix is then one
    ``Context.factor(reuse_analysis=True)`` (Schur settings kept, factors
    discarded). ``ordering`` names the ordering MUMPS reported (INFOG(7)).
    """

    def __init__(self, n, row, col, schur_indices):
        import mumps

        self.n = int(n)
        self.row = np.asarray(row)
        self.col = np.asarray(col)
        self.schur_indices = np.asarray(schur_indices)
        self.context = mumps.Context()
        self.ordering = None   # set by the analysis, on the first matrix

    def _matrix(self, values) -> sp.coo_array:
        return sp.coo_array((np.asarray(values, dtype=np.complex128), (self.row, self.col)),
                            shape=(self.n, self.n))

    def schur_complement(self, values) -> np.ndarray:
        """Schur complement onto X of the matrix with this pattern and entries ``values``."""
        context = self.context
        context.set_matrix(self._matrix(values), overwrite_a=True)
        if self.ordering is None:
            context.mumps_instance.icntl[6] = 0   # structural analysis only (see Notes)
            context.schur(self.schur_indices, ordering="auto", discard_factors=True)
            self.ordering = MUMPS_ORDERINGS.get(int(context.mumps_instance.infog[7]), "?")
        else:
            context.factor(reuse_analysis=True)
        return context.schur_complement.copy()


class ScipySchur:
    """Same interface as :class:`MumpsSchur`, with SciPy's SuperLU (slower)."""

    def __init__(self, n, row, col, schur_indices):
        self.n = int(n)
        self.row = np.asarray(row)
        self.col = np.asarray(col)
        self.schur_indices = np.asarray(schur_indices)

    def schur_complement(self, values) -> np.ndarray:
        a = sp.csc_matrix((values, (self.row, self.col)), shape=(self.n, self.n))
        lu = spla.splu(a)
        unit = np.zeros((self.n, len(self.schur_indices)), dtype=complex)
        unit[self.schur_indices, np.arange(len(self.schur_indices))] = 1
        return scipy.linalg.inv(lu.solve(unit)[self.schur_indices])


class SchurBackend(FastBackend):
    """S-matrix from one sparse factorization with a Schur complement onto X.

    ``(A^-1)_XX`` is the inverse of the Schur complement of ``A`` onto the
    lead-interface orbitals and mode variables X; a dense solve of size
    |X| ~ 4 W/a with the right-hand sides (which live on X) gives the outgoing
    amplitudes, i.e. the S-matrix. The symbolic analysis is reused for every
    matrix with the same pattern (the pattern changes only when a lead's number
    of mode variables does).

    Parameters
    ----------
    device : qpcsim.Device
    sparse : {"mumps", "scipy"}
        MUMPS (Kwant built with it) or SciPy's SuperLU.
    """

    def __init__(self, device, sparse: str = "mumps", assembly: SystemAssembly | None = None):
        if sparse == "mumps" and not mumps_available():
            raise BackendNotApplicable(
                "python-mumps is not installed (scripts/setup_env.sh builds it)")
        if sparse == "mumps" and device.nx <= 2:
            # Every site is a lead-interface site, and MUMPS refuses a Schur
            # complement onto the whole matrix (error -49).
            raise BackendNotApplicable(
                f"a device {device.nx} sites long has every site on a lead interface "
                "(MUMPS refuses a Schur complement onto the whole matrix): use 'rgf' or 'scipy'")
        super().__init__(device, assembly)
        self.name = sparse
        self._kind = MumpsSchur if sparse == "mumps" else ScipySchur
        self._fact = self._fact_key = self._picker = None
        self._off_diagonal = self.assembly.sys_row != self.assembly.sys_col

    def factorizer(self, leads):
        """The Schur factorizer for this lead pattern (analysis reused while it holds)."""
        if self._fact_key != leads.pattern_key:
            row = np.concatenate([self.assembly.sys_row, leads.row])
            col = np.concatenate([self.assembly.sys_col, leads.col])
            self._fact = self._kind(leads.n, row, col, leads.schur)
            self._picker = block_picker(leads.schur, leads.n, row, col)
            self._fact_key = leads.pattern_key   # keep one: the pattern rarely changes
        return self._fact

    def _solve(self, values: np.ndarray, leads) -> tuple[np.ndarray, str] | None:
        hop = hopping_scale(values, self._off_diagonal)
        values = np.concatenate([values, leads.values])
        schur = self.factorizer(leads).schur_complement(values)
        direct = dense_block(self._picker, values, len(leads.schur))
        if schur_growth(schur, direct, hop) > SCHUR_GROWTH_LIMIT:
            return None   # a near-singular interior: the exact back end (_delegate)
        x = scipy.linalg.solve(schur, leads.rhs_x, check_finite=False)
        return x[leads.kept], self.name

    def _delegate(self, energy: float, params: dict):
        return exact_backend(self.assembly.device).smatrix(energy, params)


def _mumps_cost(nx: int, ny: int, norbs: int) -> float:
    """MUMPS on OpenBLAS (``scripts/setup_env.sh`` selects it; ``qpcsim info`` says which
    BLAS is active): nested dissection of the grid plus the dense Schur solve on X
    (|X| ~ 2m): ``norbs^1.2 (1.3e-3 nx ny + 1.4e-5 long short^2) + 5.6e-6 m^3`` ms,
    long/short = max/min(nx, ny). Fitted by least squares in log space to the
    MUMPS/RGF ratio measured interleaved (30 cases: saddles 8 x 100 .. 400 x 200,
    short wide ones, Zeeman saddles, wires 19-59 sites across; benchmarks/RESULTS.md)
    times the RGF model. Infinite for nx <= 2 (every site is on a lead interface;
    MUMPS refuses a Schur complement onto the whole matrix)."""
    if nx <= 2:
        return math.inf
    m = ny * norbs
    long, short = max(nx, ny), min(nx, ny)
    return norbs**1.2 * (1.3e-3 * nx * ny + 1.4e-5 * long * short**2) + 5.6e-6 * m**3


# Registered first: ties of the auto rule's cost models go to MUMPS.
register(BackendInfo("mumps", lambda d, a: SchurBackend(d, "mumps", a), fast_path=True,
                     cost=_mumps_cost, available=mumps_available,
                     summary="MUMPS Schur complement onto the lead variables (needs Kwant "
                             "built with MUMPS)"))
register(BackendInfo("scipy", lambda d, a: SchurBackend(d, "scipy", a), fast_path=True,
                     summary="SuperLU Schur complement (slow; when Kwant lacks MUMPS)"))
