"""The back-end contract: what every S-matrix back end provides.

A back end is a class registered in :mod:`.registry` under a name (the value of
``qpcsim.solve(method=NAME)``). It is created once per device, keeps its own
caches (lead modes, symbolic factorizations), and answers
``smatrix(energy, params) -> (S, nprop)``:

* ``energy``: Fermi energy in lattice units (``E / t``);
* ``params``: the device's fully resolved parameters (``Device.resolve_params``);
* ``S``: the S-matrix, rows the outgoing modes of lead 0 then lead 1, columns
  the incoming modes of lead 0 then lead 1, in Kwant's order and normalization;
* ``nprop``: propagating modes per lead.

A back end that does not apply to a device raises :class:`BackendNotApplicable`
from its constructor, saying why; ``auto`` then falls back, an explicit request
becomes a one-line ``ValueError``.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["Backend", "BackendNotApplicable"]


class BackendNotApplicable(ValueError):
    """A back end does not cover this device (the message says why)."""


class Backend(Protocol):
    """Structural type of a back end (see the module docstring)."""

    name: str

    def smatrix(self, energy: float, params: dict) -> tuple[np.ndarray, tuple]:
        ...
