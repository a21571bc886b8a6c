"""Per-device solver state: one :class:`SolverContext` per device, held in a weak mapping.

The solver layer keeps, for each device, its back ends (lead modes, symbolic
factorizations), its shared energy grids, its lead band edges and any derived Kwant
systems. They live here, keyed weakly by the device object, rather than as
attributes other modules set on the :class:`~qpcsim.device.Device`: a device owns
only its own description and its own build, a context disappears with its device,
pickling a device carries no caches (a worker process builds its own), and a
derived device (a copy with a new potential) starts with an empty context.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

__all__ = ["SolverContext", "solver_context"]


@dataclass
class SolverContext:
    """What the solver layer caches for one device.

    Attributes
    ----------
    backends : dict
        ``method`` -> back end object, created once per device (``qpcsim.solver``).
    grids : dict
        (E_F, T, lead parameters) -> shared spectral energy grid (``qpcsim.solver``).
    band_edges : dict
        Lead parameters -> (thresholds, first mode) in meV (``qpcsim.spectral.bands``).
    derived_systems : dict
        Finalized Kwant systems derived from the device, by the deriving module's key
        (e.g. ``("dephasing probes", spacing)``, ``qpcsim.physics.dephasing``).
    fast_path : bool or None
        Whether the fast back ends model the device (``backends.fast_path_applies``);
        None until first asked.
    """

    backends: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)
    band_edges: dict = field(default_factory=dict)
    derived_systems: dict = field(default_factory=dict)
    fast_path: bool | None = None


_CONTEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def solver_context(device) -> SolverContext:
    """The device's :class:`SolverContext` (created on first use, dropped with the device)."""
    with _LOCK:
        context = _CONTEXTS.get(device)
        if context is None:
            context = _CONTEXTS[device] = SolverContext()
        return context
