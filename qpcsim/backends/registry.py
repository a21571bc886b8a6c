"""The back-end registry: every S-matrix back end by name, and the auto rule.

``qpcsim.solve(method=NAME)`` takes any registered name, ``"auto"`` (the fast
path where it applies, with :func:`choose_backend`'s pick, else ``kwant``) or
``"fast"`` (the fast path's pick, never Kwant). A new back end is one file in
this folder ending in its own :func:`register` call (see ARCHITECTURE.md); the
package's ``__init__`` imports the back-end modules, this module imports none.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import kwant.system

from .assembly import SystemAssembly
from .base import BackendNotApplicable, SMatrix
from .context import solver_context
from .model_assembly import assembly_for

__all__ = ["BackendInfo", "register", "registered", "backend_info", "create_backend",
           "choose_backend", "FastSolver", "fast_path_applies", "AUTO_METHODS"]

#: Method names that are not back ends but choices among them.
AUTO_METHODS = ("auto", "fast")
#: Orbitals across (ny norbs) from which auto runs mumps-sigma at every point where the
#: size rule picks mumps (narrower: its real points only; benchmarks/RESULTS.md).
_ALL_POINTS_ORBITALS = 12
#: Back ends that take any set of lead interfaces and any orbitals (the Schur complements).
_ANY_LEADS = ("auto", "mumps", "scipy", "mumps-sigma")


@dataclass(frozen=True)
class BackendInfo:
    """One registered back end.

    Attributes
    ----------
    name : str
        The ``method=`` name.
    factory : callable
        ``factory(device, assembly)`` -> back end (``assembly`` is the shared
        :class:`SystemAssembly` for fast-path back ends, ``None`` otherwise);
        raises :class:`BackendNotApplicable` with the reason.
    fast_path : bool
        Whether it runs on the fast path's :class:`SystemAssembly` (the Device's
        own two-lead lattice model).
    cost : callable, optional
        ``cost(nx, ny, norbs)`` -> modelled ms per point on one core; the auto
        rule picks the cheapest available back end that has one.
    available : callable
        Whether it can run in this installation.
    summary : str
        One line for listings.
    condition : str, optional
        A symmetry the back end exploits (e.g. ``"x-mirror"``). The auto rule
        considers it only where the caller states the condition holds
        (``choose_backend(..., holds=...)``); such a back end checks the
        condition itself per point and runs its ``fallback`` attribute (a back
        end, or ``None`` for its own) where it does not hold.
    real_cost : callable, optional
        ``real_cost(nx, ny, norbs)`` -> modelled ms per point at a real point (B = 0)
        without its condition. ``auto`` runs it at the real points where that beats the
        size rule's back end, and at every point where the size rule picks ``mumps``
        (``FastSolver``; ``mumps-sigma``).
    """

    name: str
    factory: Callable
    fast_path: bool
    summary: str
    cost: Callable | None = None
    available: Callable[[], bool] = lambda: True
    condition: str | None = None
    real_cost: Callable | None = None


_REGISTRY: dict[str, BackendInfo] = {}


def register(info: BackendInfo) -> BackendInfo:
    """Add a back end (its name must be new)."""
    if info.name in _REGISTRY or info.name in AUTO_METHODS:
        raise ValueError(f"back end {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


def registered() -> tuple[str, ...]:
    """Names of all registered back ends, in registration order."""
    return tuple(_REGISTRY)


def backend_info(name: str) -> BackendInfo:
    """The registration of ``name``; unknown names list the registered ones."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(n) for n in AUTO_METHODS + registered())
        raise ValueError(f"method={name!r} is not allowed: use one of {allowed}") from None


def choose_backend(nx: int, ny: int, norbs: int = 1, mumps: bool | None = None,
                   holds: tuple = ()) -> str:
    """Fast-path back end that ``auto`` runs for an ``nx`` x ``ny``-site device.

    A fixed rule in the lattice size only, never a timing, so that a device
    runs the same arithmetic, bit for bit, in every process and executor: the
    registered back end with the smallest modelled cost (ties go to the one
    registered first). ``mumps=False`` models an installation without MUMPS.
    The cost models (ms per point, one core) were fitted by non-negative least
    squares to the cases of ``benchmarks/bench_backends.py``; see
    ``rgf.rgf_cost`` and ``schur._mumps_cost``. In effect: spinless
    devices up to about 50-60 sites across run RGF, wider ones MUMPS; very short
    wide ones (a few columns) RGF; Zeeman-resolved devices RGF up to about 25-30
    sites across. Near a crossover both cost about the same (within 10 %).

    ``holds`` names symmetry conditions (``"x-mirror"``) the caller has found
    in the device; back ends that need one (``BackendInfo.condition``) compete
    only then. Without it the rule is the plain size rule above, whatever the
    device's symmetry (``FastSolver`` asks both and decides per point).
    """
    best, best_cost = None, math.inf
    for info in _REGISTRY.values():
        if info.cost is None or not info.fast_path:
            continue
        if info.condition is not None and info.condition not in holds:
            continue
        usable = info.available() if (mumps is None or not info.name.startswith("mumps")) else mumps
        if not usable:
            continue
        cost = info.cost(nx, ny, norbs)
        if cost < best_cost:
            best, best_cost = info.name, cost
    return best or "scipy"


def create_backend(device, name: str, assembly: SystemAssembly | None = None):
    """Instantiate back end ``name`` for ``device``; a clear ValueError if it
    is unknown, unavailable or does not apply (saying why)."""
    info = backend_info(name)
    if not info.available():
        raise ValueError(f"backend={name!r} is not available in this installation "
                         f"({info.summary})")
    if info.fast_path and assembly is None:
        assembly = assembly_for(device)
    try:
        return info.factory(device, assembly)
    except BackendNotApplicable as err:
        raise ValueError(f"backend={name!r} does not apply to this device: {err}") from err


class FastSolver:
    """The fast path for one device: the shared assembly and one back end.

    Parameters
    ----------
    device : qpcsim.Device
        The device; its Kwant system is built on first use.
    backend : str
        A registered fast-path back end (``mumps``, ``scipy``, ``rgf``, ...) or
        ``auto``: the choice of :func:`choose_backend` (a fixed rule in the
        device's size, so the same device always runs the same arithmetic),
        falling back to a sparse back end where it does not apply. Where a
        back end with a symmetry condition (``rgf-mirror``) is cheaper under
        that condition and the device's structure has the symmetry, ``auto``
        runs it at every point whose numbers are symmetric and the size rule's
        choice at the others: a decision on the device and the point only.
    """

    def __init__(self, device, backend: str = "auto"):
        fast = [n for n, i in _REGISTRY.items() if i.fast_path]
        if backend != "auto" and backend not in fast:
            allowed = ", ".join(repr(n) for n in ["auto"] + fast)
            raise ValueError(f"backend={backend!r} is not allowed: use one of {allowed}")
        explicit = getattr(device, "leads", None) is not None
        if explicit and backend not in _ANY_LEADS:
            raise ValueError(f"backend={backend!r} does not apply to this device: its leads "
                             "(qpcsim.Lead) may sit on any edge; use 'mumps-sigma', 'mumps', "
                             "'scipy' or 'kwant'")
        model = device.fast_path_model
        if model and backend not in _ANY_LEADS:
            raise ValueError(f"backend={backend!r} does not apply to this device: the RGF "
                             "recursions model the one-band square lattice; for a model device "
                             "(any orbitals, any lattice) use 'mumps-sigma', 'mumps', 'scipy' "
                             "or 'kwant'")
        self.device = device
        self.assembly = assembly_for(device)
        if (explicit or model) and backend == "auto":
            # Leads on any edge: only the Schur complements take any set of interfaces.
            self._impl = self._schur_points(device, self._sparse(device))
        elif backend != "auto":
            self._impl = create_backend(device, backend, self.assembly)
        else:
            choice = choose_backend(device.nx, device.ny, device.norbs)
            try:
                self._impl = _REGISTRY[choice].factory(device, self.assembly)
            except BackendNotApplicable:
                # Deterministic (the device decides): a sparse back end covers everything.
                self._impl = self._sparse(device)
            self._impl = self._schur_points(device, self._impl)
        #: The back end that runs every point: the one asked for, or under ``auto`` the
        #: size rule's, or ``mumps-sigma`` where it takes the real points or all of them
        #: (a back end with a symmetry condition, ``self._impl`` then, runs the points
        #: that have the symmetry and hands it the others).
        self.backend = self._impl.name
        if backend == "auto" and not (explicit or model):
            self._impl = self._conditional(device, choice)

    def _sparse(self, device):
        """The Schur back end that covers every device: MUMPS where it is available and
        applies (more than two columns), else SuperLU."""
        mumps = _REGISTRY.get("mumps")
        choice = "mumps" if mumps and mumps.available() and device.nx > 2 else "scipy"
        return _REGISTRY[choice].factory(device, self.assembly)

    def _schur_points(self, device, impl):
        """The back end with a ``real_cost`` (``mumps-sigma``: the leads as self-energies
        on the interface, real LDL^T at B = 0) where it is cheaper than ``impl``: where
        ``impl`` is ``mumps``, at every point (measured 0.46-0.7x its time at real points,
        ~0.8x at complex ones; it then runs as asked for by name) on devices at least
        ``_ALL_POINTS_ORBITALS`` orbitals across, at the real points on narrower ones (its
        complex LU measured 4-5 % slower there); otherwise at the real points where its
        real cost beats ``impl``'s model. ``impl`` runs the rest. A decision on the
        device's size, then per point on its numbers only (real or not)."""
        for info in _REGISTRY.values():
            if info.real_cost is None or not info.available():
                continue
            if impl.name == "mumps" and device.ny * device.norbs >= _ALL_POINTS_ORBITALS:
                points, fallback = "all", None
            elif impl.name == "mumps" or (
                    impl.name in _REGISTRY and _REGISTRY[impl.name].cost is not None and
                    info.real_cost(device.nx, device.ny, device.norbs) <
                    _REGISTRY[impl.name].cost(device.nx, device.ny, device.norbs)):
                points, fallback = "real", impl
            else:
                continue
            try:
                schur = info.factory(device, self.assembly)
            except BackendNotApplicable:
                continue
            schur.fallback, schur.points = fallback, points
            return schur
        return impl

    def _conditional(self, device, choice: str):
        """The first back end with a symmetry condition that beats ``choice`` under
        it and whose structural check passes on ``device``, with ``choice``'s back
        end as its per-point fallback; else ``choice``'s back end."""
        conditional = [i for i in _REGISTRY.values() if i.condition is not None and i.available()]
        # The cheapest under its condition first (stable: ties in registration order).
        conditional.sort(key=lambda i: i.cost(device.nx, device.ny, device.norbs))
        for info in conditional:
            pick = choose_backend(device.nx, device.ny, device.norbs, holds=(info.condition,))
            if pick != info.name:
                continue
            if self._impl.name == info.name:
                return self._impl     # it already runs those points (and splits them)
            try:
                impl = info.factory(device, self.assembly)
            except BackendNotApplicable:
                continue
            if info.condition == "mirror" and getattr(self._impl, "split", None) is True:
                # the points handed on have no mirror the front end takes (rgf-sigma,
                # rgf-parity: x, y or both): the Schur back end behind it need not look
                self._impl.split = False
            impl.fallback = self._impl
            return impl
        return self._impl

    @property
    def name(self) -> str:
        """``fast-<backend>``: the ``solver`` label of the results of :attr:`backend` (each
        :class:`SMatrix` names the back end that ran its point)."""
        return f"fast-{self.backend}"

    def prepare_structure(self) -> None:
        """``prepare_structure()`` of the back end that runs the points and of its fallbacks
        (before a pool forks: each worker inherits their structural analysis)."""
        impl, seen = self._impl, set()
        while impl is not None and id(impl) not in seen:
            seen.add(id(impl))
            impl.prepare_structure()
            impl = getattr(impl, "fallback", None)

    def smatrix(self, energy: float, params: dict) -> SMatrix:
        """Scattering matrix at ``energy`` (lattice units) for resolved ``params``:
        rows the outgoing, columns the incoming modes of lead 0, lead 1, ...
        (Kwant's order and normalization)."""
        return self._impl.smatrix(energy, params)


def fast_path_applies(device) -> bool:
    """The fast path rebuilds the Device's own lattice model: exactly the two
    leads it attaches itself, or its explicit ``leads`` (Schur back ends only).
    Anything else (a subclass adding probe leads or self-energy leads) goes to Kwant."""
    if not device.fast_path_supported:
        return False   # a device class the fast path does not model (hamiltonian.ModelDevice)
    context = solver_context(device)
    if context.fast_path is None and getattr(device, "plain_model", False):
        context.fast_path = True   # Device's own two-lead model, known without building
    if context.fast_path is None:
        fsyst = device.build()
        context.fast_path = (
            (len(fsyst.leads) == 2 or getattr(device, "leads", None) is not None)
            and not any(kwant.system.is_selfenergy_lead(lead) for lead in fsyst.leads)
            and len(fsyst.sites) == len(device.site_positions()))
    return context.fast_path
