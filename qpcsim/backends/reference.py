"""The ``kwant`` back end: plain ``kwant.smatrix`` on ``Device.build()``.

The reference every fast back end is tested against, and the fallback for
systems the fast path does not model (extra probe leads, self-energy leads, a
subclass with its own Kwant model).
"""
from __future__ import annotations

import kwant
import kwant.solvers.sparse
import numpy as np

from .assembly import single_threaded_blas
from .base import SMatrix
from .registry import BackendInfo, register

__all__ = ["KwantBackend"]


class KwantBackend:
    """``kwant.smatrix`` with Kwant's default sparse solver (MUMPS when built with it)."""

    name = "kwant"

    def __init__(self, device):
        self.fsyst = device.build()
        # A device may ask for Kwant's SciPy sparse solver: on multi-orbital systems
        # (hamiltonian.ModelDevice) Kwant's MUMPS varies in the last bits from call to call.
        self._sparse_solver = device.kwant_solver == "sparse"

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """S-matrix and propagating modes per lead at ``energy`` (lattice units).

        On one BLAS thread, as the fast back ends: with NumPy's threaded OpenBLAS
        Kwant's lead modes otherwise change in the last bits from run to run (seen
        as 1e-10 in |S_mn| at B != 0 on a loaded machine)."""
        smatrix = kwant.solvers.sparse.smatrix if self._sparse_solver else kwant.smatrix
        with single_threaded_blas():
            smat = smatrix(self.fsyst, energy, params=params)
        nprop = tuple(int(smat.num_propagating(i)) for i in range(len(self.fsyst.leads)))
        return SMatrix(np.asarray(smat.data), nprop, self.name)


register(BackendInfo("kwant", lambda d, a: KwantBackend(d), fast_path=False,
                     summary="plain kwant.smatrix (the reference; any Kwant system)"))
