"""Sparse Schur-complement back ends (``mumps``, ``scipy``): the Schur complement
S = A_XX - A_XB A_BB^-1 A_BX of a sparse matrix A onto a small index set X, so
that (A^-1)_XX = S^-1, with the symbolic analysis reused across matrices of the
same sparsity pattern.

``MumpsSchur`` asks MUMPS for S directly (one sparse factorization, no
right-hand sides, factors discarded). ``ScipySchur`` is the fallback when Kwant
was built without MUMPS: a SuperLU factorization and |X| sparse solves.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .assembly import SystemAssembly
from .base import BackendNotApplicable, FastBackend
from .registry import BackendInfo, register

__all__ = ["SchurBackend", "MumpsSchur", "ScipySchur", "mumps_available"]


def mumps_available() -> bool:
    """Whether Kwant was built with MUMPS (its fast sparse solver)."""
    try:
        import kwant.linalg.mumps  # noqa: F401
    except ImportError:
        return False
    return True


class MumpsSchur:
    """Schur complement of matrices sharing one sparsity pattern, via MUMPS.

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
    The analysis is purely structural (no value-dependent column permutation,
    ICNTL(6) = 0), so the ordering, and with it the rounding of every later
    factorization, does not depend on which matrix a worker happened to see
    first: the key to bit-identical results across executors.
    """

    def __init__(self, n, row, col, schur_indices):
        from kwant.linalg import _mumps

        self._mumps = _mumps
        self.n = int(n)
        self.row = np.asfortranarray(np.asarray(row).astype(_mumps.int_dtype) + 1)
        self.col = np.asfortranarray(np.asarray(col).astype(_mumps.int_dtype) + 1)
        self.schur_indices = np.asfortranarray(
            np.asarray(schur_indices).astype(_mumps.int_dtype) + 1)
        self.inst = _mumps.zmumps(False)
        self._data = np.ones(len(self.row), dtype=np.complex128, order="F")
        self.inst.set_assembled_matrix(self.n, self.row, self.col, self._data)
        self.inst.icntl[6] = 0      # structural analysis only (see Notes)
        self.inst.icntl[7] = 7      # automatic ordering choice (as Kwant's 'auto')
        self.inst.icntl[19] = 1     # Schur complement returned centralized, by rows
        self.inst.icntl[31] = 1     # discard the factors: only S is needed
        size = len(self.schur_indices)
        self.schur = np.empty((size, size), order="C", dtype=np.complex128)
        self.inst.set_schur(self.schur, self.schur_indices)
        self.inst.job = 1
        self.inst.call()
        self._check()

    def _check(self):
        info = self.inst.infog[1]
        if info < 0:
            from kwant.linalg.mumps import MUMPSError
            raise MUMPSError(self.inst.infog)

    def schur_complement(self, values) -> np.ndarray:
        """Schur complement onto X of the matrix with this pattern and entries ``values``."""
        self._data = np.asfortranarray(np.asarray(values, dtype=np.complex128))
        self.inst.set_assembled_matrix(self.n, self.row, self.col, self._data)
        self.inst.job = 2
        while True:
            self.inst.call()
            if self.inst.infog[1] in (-8, -9):   # workspace too small: enlarge, retry
                self.inst.icntl[14] *= 2
                continue
            self._check()
            break
        return self.schur.copy()


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
            raise BackendNotApplicable("Kwant was built without MUMPS")
        if sparse == "mumps" and device.nx <= 2:
            # Every site is a lead-interface site, and MUMPS refuses a Schur
            # complement onto the whole matrix (error -49).
            raise BackendNotApplicable(
                f"a device {device.nx} sites long has every site on a lead interface "
                "(MUMPS refuses a Schur complement onto the whole matrix): use 'rgf' or 'scipy'")
        super().__init__(device, assembly)
        self.name = sparse
        self._kind = MumpsSchur if sparse == "mumps" else ScipySchur
        self._fact = self._fact_key = None

    def factorizer(self, leads):
        """The Schur factorizer for this lead pattern (analysis reused while it holds)."""
        if self._fact_key != leads.pattern_key:
            row = np.concatenate([self.assembly.sys_row, leads.row])
            col = np.concatenate([self.assembly.sys_col, leads.col])
            self._fact = self._kind(leads.n, row, col, leads.schur)
            self._fact_key = leads.pattern_key   # keep one: the pattern rarely changes
        return self._fact

    def _solve(self, values: np.ndarray, leads) -> tuple[np.ndarray, str]:
        values = np.concatenate([values, leads.values])
        schur = self.factorizer(leads).schur_complement(values)
        x = scipy.linalg.solve(schur, leads.rhs_x, check_finite=False)
        return x[leads.kept], self.name


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
