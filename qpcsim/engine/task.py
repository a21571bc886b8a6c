"""One sweep point's task, as sent to a worker."""
from __future__ import annotations

from typing import NamedTuple

__all__ = ["SweepTask"]


class SweepTask(NamedTuple):
    """What a worker needs to compute one point of a sweep.

    Attributes
    ----------
    energy : float
        Fermi energy (meV).
    temperature : float
        Temperature (K).
    method : str
        Back end (``qpcsim.solve``'s ``method``).
    params : dict
        Runtime device parameters (physical units).
    structural : dict
        Geometry (``make_device``) arguments of the rebuilt system the point
        runs on; empty for the sweep's own device.
    """

    energy: float
    temperature: float
    method: str
    params: dict
    structural: dict
