"""A sweep's description, built once from the user's call.

:class:`SweepSpec` validates every name, range and value up front (in the
caller's process, before any work), and then drives everything downstream: the
tasks sent to workers, the store header (content hash), the adaptive loop, the
result's metadata, and disorder ensembles (a sweep over ``seed``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from .._version import __version__
from ..backends import choose_backend, mumps_available
from ..solver import check_energy
from .sampling import DEFAULT_BATCH
from .store import STORE_FORMAT, source_digest

__all__ = ["SweepSpec", "ENERGY_NAMES"]

#: Names under which the Fermi energy (meV) can be swept.
ENERGY_NAMES = ("energy", "E")


def _axis_values(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"over[{name!r}]={values!r} is not allowed: it must be a sequence of "
                         "numbers") from None
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"over[{name!r}] is not allowed: it must be a non-empty 1-D sequence")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"over[{name!r}] is not allowed: it contains non-finite values")
    return arr


def _canonical(value):
    return float(value) if isinstance(value, (int, float, np.floating, np.integer)) else value


def _canonical(value):
    return float(value) if isinstance(value, (int, float, np.floating, np.integer)) else value


@dataclass
class SweepSpec:
    """Everything that defines a sweep (validated; see :meth:`build`).

    Attributes
    ----------
    device : qpcsim.Device
    names : list of str
        Swept names in axis order (device parameters, or ``energy``/``E``).
    axes : dict
        Name -> 1-D array of values (for adaptive sampling: the bounds).
    energy : float or None
        Fixed Fermi energy (meV), None when it is swept.
    temperature : float
        Temperature (K).
    method : str
        Back end (``qpcsim.solve``'s ``method``).
    fixed : dict
        Device parameters held fixed (physical units), as the user gave them.
    adaptive : float or None
        Target interpolation error (G0); None for a grid.
    max_points, adaptive_batch : int
        Adaptive sampling limits (``adaptive_batch`` None for a grid).
    """

    device: object
    names: list
    axes: dict
    energy: float | None
    temperature: float
    method: str
    fixed: dict
    adaptive: float | None = None
    max_points: int = 2000
    adaptive_batch: int | None = None
    _header: dict | None = field(default=None, repr=False)

    @classmethod
    def build(cls, device, over: Mapping[str, Sequence[float]], energy: float | None = None,
              temperature: float = 0.0, *, method: str = "auto", adaptive: float | None = None,
              max_points: int = 2000, adaptive_batch: int | None = None,
              fixed: Mapping | None = None) -> "SweepSpec":
        """Validate a sweep request; every refusal is a ValueError naming the value."""
        fixed = dict(fixed or {})
        if not isinstance(over, Mapping) or not 1 <= len(over) <= 2:
            raise ValueError(f"over={over!r} is not allowed: give one or two swept parameters, "
                             "e.g. over={'Vg': numpy.linspace(-1, 0, 101)}")
        names = list(over)
        known = list(device.defaults) + list(ENERGY_NAMES)
        _validate.known_names(names, known, "swept parameter",
                              hint="energy is swept as 'energy' (or 'E'), in meV")
        _validate.known_names(fixed, device.defaults, "parameter")
        if sum(n in ENERGY_NAMES for n in names) > 1:
            raise ValueError("over names the energy twice ('energy' and 'E'); keep one")
        axes = {name: _axis_values(name, over[name]) for name in names}
        if len(set(names) & set(fixed)):
            raise ValueError(f"parameters {sorted(set(names) & set(fixed))} are both swept "
                             "and fixed")
        energy_swept = any(n in ENERGY_NAMES for n in names)
        if energy_swept and energy is not None:
            raise ValueError("energy is swept; do not also pass energy=")
        if not energy_swept:
            if energy is None:
                raise ValueError("energy is required (meV) unless it is swept")
            energy = _validate.real_number("energy", energy, "meV")
        temperature = _validate.non_negative("temperature", temperature, "K")
        base = device.resolve_params(fixed)
        if adaptive is None and adaptive_batch is not None:
            raise ValueError(f"adaptive_batch={adaptive_batch!r} is not allowed without adaptive "
                             "(a tolerance in G0): a grid sweep runs every point it is given")
        if adaptive is not None:
            adaptive = _validate.positive("adaptive", adaptive, "G0")
            if adaptive_batch is None:
                adaptive_batch = DEFAULT_BATCH[len(axes)]
            adaptive_batch = _validate.positive_int("adaptive_batch", adaptive_batch)
            max_points = _validate.positive_int("max_points", max_points)
            for name, values in axes.items():
                if values.size < 2 or not values[-1] > values[0]:
                    raise ValueError(f"over[{name!r}] is not allowed for adaptive sampling: "
                                     "give increasing bounds (start < stop)")
        # Validate every point's inputs up front, in this process: fail before any work.
        for name, values in axes.items():
            for v in (values.min(), values.max()):
                if name in ENERGY_NAMES:
                    check_energy(device, v, base)
                else:
                    device.resolve_params({**fixed, name: v})
        if not energy_swept:
            check_energy(device, energy, base)
        return cls(device=device, names=names, axes=axes, energy=energy,
                   temperature=temperature, method=method, fixed=fixed, adaptive=adaptive,
                   max_points=max_points, adaptive_batch=adaptive_batch)

    # ------------------------------------------------------------ derived
    @property
    def energy_swept(self) -> bool:
        return any(n in ENERGY_NAMES for n in self.names)

    @property
    def dim_names(self) -> list[str]:
        """Dataset dimension names (an energy axis is always ``energy``)."""
        return [("energy" if n in ENERGY_NAMES else n) for n in self.names]

    @property
    def gridded(self) -> bool:
        return self.adaptive is None

    def unit(self, name: str) -> str:
        """Unit of a swept name."""
        return "meV" if name in ENERGY_NAMES else self.device.units.get(name, "")

    def task(self, point: tuple) -> tuple:
        """The worker task ``(energy, temperature, method, params)`` of one point."""
        params = dict(self.fixed)
        e = self.energy
        for name, value in zip(self.names, point):
            if name in ENERGY_NAMES:
                e = float(value)
            else:
                params[name] = float(value)
        return (e, self.temperature, self.method, params)

    def header(self) -> dict:
        """Store header: what the store's records belong to, with a content hash."""
        if self._header is None:
            self._header = self._make_header()
        return self._header

    def _make_header(self) -> dict:
        names, axes, adaptive = self.names, self.axes, self.adaptive
        spec = {
            "names": names,
            "axes": {n: [float(v) for v in axes[n]] for n in names} if adaptive is None
            else {n: [float(axes[n][0]), float(axes[n][-1])] for n in names},
            "energy": self.energy, "temperature": self.temperature, "method": self.method,
            "fixed": {k: _canonical(v) for k, v in sorted(self.fixed.items())},
            "adaptive": adaptive, "max_points": self.max_points if adaptive else None,
            "adaptive_batch": self.adaptive_batch if adaptive else None,
        }
        device = self.device
        # The size rule's back end changes with MUMPS's presence, and the back ends agree
        # only to ~1e-13, so a store from the other one is not resumed. (The rule's
        # choice, before a device-specific fallback such as RGF's pocket check, which is
        # deterministic; the back end that ran is in each point's result.)
        mumps = mumps_available()
        code = {"qpcsim": __version__, "source": source_digest(), "mumps": mumps,
                "fast_backend_rule": choose_backend(device.nx, device.ny, device.norbs, mumps)}
        header = {"format": STORE_FORMAT, "device": device.fingerprint(), "sweep": spec,
                  "code": code}
        header["hash"] = hashlib.sha256(json.dumps(header, sort_keys=True).encode()).hexdigest()
        return header

    def seed_values(self) -> dict:
        """Seed-like parameters (for the result's metadata)."""
        return {k: v for k, v in {**self.device.defaults, **self.fixed}.items()
                if "seed" in k.lower()}
