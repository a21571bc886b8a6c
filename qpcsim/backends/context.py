"""Per-device solver state: one :class:`SolverContext` per device.

The solver layer keeps, for each device, its back ends (lead modes, symbolic
factorizations), its shared energy grids, its lead band edges and any derived Kwant
systems. They live in one object in the device's one declared slot
(``device.solver_state``, :class:`qpcsim.device.DeviceBase`) rather than as
attributes that other modules set on the device. The device owns its context (a
reference cycle the garbage collector frees with the device: the back ends' Kwant
systems refer to the device, so a mapping keyed weakly by the device would never
let either go); the context names its owner, so a copy of a device (a derived one
with a new potential) starts afresh, and a pickle (every Dask task) carries none of it.
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
    owner : weakref.ref
        The device the context belongs to.
    backends : dict
        ``method`` -> back end object, created once per device (``qpcsim.scattering``).
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
    mirror_checks : dict
        (mirror, ``params_key``) -> the region's energy-free mirror check
        (``backends.mirror_check``), bounded (cleared when full).
    """

    owner: weakref.ref
    backends: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)
    band_edges: dict = field(default_factory=dict)
    derived_systems: dict = field(default_factory=dict)
    fast_path: bool | None = None
    mirror_checks: dict = field(default_factory=dict)


_LOCK = threading.Lock()


def solver_context(device) -> SolverContext:
    """The device's :class:`SolverContext` (created on first use).

    Parameters
    ----------
    device : qpcsim.Device or qpcsim.hamiltonian.ModelDevice
        The device whose back ends, grids and band edges the context keeps.

    Returns
    -------
    SolverContext
    """
    with _LOCK:
        context = device.solver_state
        if context is None or context.owner() is not device:
            context = SolverContext(owner=weakref.ref(device))
            device.solver_state = context
        return context
