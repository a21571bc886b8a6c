"""S-matrix back ends and their registry (the solver layer's engines).

* :mod:`.base` — the contract (``smatrix(energy, params) -> (S, nprop)``);
* :mod:`.assembly` — the fast path's sparse system, shared by the fast back ends;
* :mod:`.schur` — ``mumps`` (python-mumps) and ``scipy``: a Schur complement onto the lead variables;
* :mod:`.rgf` — ``rgf``: recursive Green's functions over the lattice columns;
* :mod:`.rgf_mirror` — ``rgf-mirror``: RGF over half the columns at an exact x-mirror;
* :mod:`.rgf_parity` — ``rgf-parity``: RGF in the y-parity sectors (and the x-mirror) of a point;
* :mod:`.reference` — ``kwant``: plain ``kwant.smatrix``;
* :mod:`.registry` — names -> back ends, the auto rule :func:`choose_backend`.
"""
from .base import Backend, BackendNotApplicable
from .registry import (
                       AUTO_METHODS,
                       BackendInfo,
                       FastSolver,
                       backend_info,
                       choose_backend,
                       create_backend,
                       fast_path_applies,
                       register,
                       registered,
)
from .schur import mumps_available

__all__ = ["Backend", "BackendNotApplicable", "BackendInfo", "FastSolver", "AUTO_METHODS",
           "backend_info", "choose_backend", "create_backend", "fast_path_applies",
           "register", "registered", "mumps_available"]
