"""S-matrix back ends and their registry (the solver layer's engines).

* :mod:`.base` — the contract (``smatrix(energy, params) -> SMatrix``), the
  :class:`SMatrix` result and the fast back ends' template :class:`FastBackend`;
* :mod:`.assembly` — the fast path's sparse system, shared by the fast back ends;
* :mod:`.context` — per-device solver state (:func:`solver_context`);
* :mod:`.registry` — names -> back ends, the auto rule :func:`choose_backend`;
* the back ends, each registering itself: :mod:`.schur` (``mumps`` on python-mumps,
  ``scipy``: a Schur complement onto the lead variables), :mod:`.rgf` (``rgf``: recursive
  Green's functions over the lattice columns), :mod:`.rgf_mirror` (``rgf-mirror``: RGF over
  half the columns at an exact x-mirror), :mod:`.rgf_parity` (``rgf-parity``: RGF in the
  y-parity sectors, and the x-mirror, of a point), :mod:`.sigma_schur` (``mumps-sigma``: the
  region's Schur complement onto the lead interfaces, leads as self-energies, in the parity
  sectors of :mod:`.sectors`), :mod:`.rgf_sigma` (``rgf-sigma``: ``rgf-parity``'s
  both-mirror path with the leads as self-energies, sectors stacked), :mod:`.reference`
  (``kwant``).
"""
from .base import Backend, BackendNotApplicable, FastBackend, SMatrix
from .context import SolverContext, solver_context
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
# The back ends register themselves on import (order: ties of the auto rule go to MUMPS).
from . import schur, rgf, rgf_mirror, rgf_parity, reference  # noqa: E402,F401  isort: skip
from . import sigma_schur, rgf_sigma  # noqa: E402,F401  isort: skip
from .schur import mumps_available  # noqa: E402

__all__ = ["Backend", "BackendNotApplicable", "BackendInfo", "FastBackend", "FastSolver",
           "SMatrix", "SolverContext", "AUTO_METHODS", "backend_info", "choose_backend",
           "create_backend", "fast_path_applies", "register", "registered", "mumps_available",
           "solver_context"]
