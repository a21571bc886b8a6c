"""A sweep's description, built once from the user's call.

:class:`SweepSpec` validates every name, range and value up front (in the
caller's process, before any work), and then drives everything downstream: the
tasks sent to workers, the store header (content hash), the adaptive loop, the
result's metadata, and disorder ensembles (a sweep over ``seed``).

Every parameter is fixed or swept the same way (``fixed=``/``over=``):

* potential parameters (gate voltages ...), ``B`` and ``E_Z``: Kwant
  parameters, no rebuild;
* ``energy``/``E`` (meV) and ``temperature``/``T`` (K);
* structural parameters (the geometry's ``make_device`` arguments that change
  the lattice: ``W``, ``gap``, ``a`` ...): one rebuild per distinct value,
  cached per worker (:class:`~.executors.DeviceRecipe`), counted in
  :attr:`SweepSpec.rebuilds` and refused beyond ``max_rebuilds`` with the
  count and an estimated time.
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from ..budget import BYTES_PER_POINT, check_memory, device_memory_bytes, format_bytes
from ..sanity import PhysicsWarning, check_parameter_magnitudes, warn_inputs
from ..solver import check_energy
from ..units import zeeman_energy_meV
from ..validate import ENERGY_NAMES, TEMPERATURE_NAMES
from .executors import DeviceRecipe
from .kind import make_header
from .progress import duration
from .task import SweepTask

__all__ = ["SweepSpec", "ENERGY_NAMES", "TEMPERATURE_NAMES", "MAX_REBUILDS",
           "structural_parameters"]

#: Points an adaptive sweep's learner proposes per round, by dimension (see ``sweep``'s
#: ``adaptive_batch``).
DEFAULT_BATCH = {1: 4, 2: 16}
#: Default upper bound on the systems a sweep over structural parameters rebuilds.
MAX_REBUILDS = 200
#: Measured cost of one rebuild: Kwant's finalization ~40 us/site plus the fast
#: path's first assembly, ~80 us per site in all (s/site), for the refusal message.
_REBUILD_S_PER_SITE = 8e-5


def structural_parameters(device) -> dict:
    """Structural parameters of ``device`` -> their current values: the
    ``make_device`` arguments of its geometry file that are not runtime
    parameters (they change the lattice; a new value needs a rebuild).
    Empty for a device not loaded from a geometry file; flags (``zeeman``)
    are not among them."""
    meta = device.metadata
    if "geometry_file" not in meta:
        return {}
    resolved = dict(meta.get("make_device") or {})
    resolved.update(meta.get("geometry_params") or {})
    # Numbers only (None: a geometry's "derived" default): flags such as zeeman
    # change the parameter set itself and are chosen when loading the device.
    return {k: v for k, v in resolved.items() if k not in device.defaults
            and (v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)))}


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
    uniq, counts = np.unique(arr, return_counts=True)
    if uniq.size != arr.size:
        raise ValueError(f"over[{name!r}] is not allowed: it lists {name}="
                         f"{', '.join(f'{v:g}' for v in uniq[counts > 1])} more than once; "
                         "give each value once")
    return arr


def _canonical(value):
    return float(value) if isinstance(value, (int, float, np.floating, np.integer)) else value


def _checked_names(device, over, fixed: dict) -> list[str]:
    """The swept names, after refusing unknown, repeated or both swept and fixed ones."""
    if not isinstance(over, Mapping) or not 1 <= len(over) <= 2:
        raise ValueError(f"over={over!r} is not allowed: give one or two swept parameters, "
                         "e.g. over={'Vg': numpy.linspace(-1, 0, 101)}")
    names = list(over)
    structural = structural_parameters(device)
    temp_names = [n for n in TEMPERATURE_NAMES if n not in device.defaults]
    known = list(device.defaults) + list(structural) + list(ENERGY_NAMES) + temp_names
    renamed = device.metadata.get("renamed_parameters")
    _validate.known_names(names, known, "swept parameter",
                          hint="energy is swept as 'energy' (or 'E'), in meV, the "
                               "temperature as 'temperature' (or 'T'), in K", renamed=renamed)
    _validate.known_names(fixed, list(device.defaults) + list(structural), "parameter",
                          hint=_structural_hint(device), renamed=renamed)
    if sum(n in ENERGY_NAMES for n in names) > 1:
        raise ValueError("over names the energy twice ('energy' and 'E'); keep one")
    if sum(n in temp_names for n in names) > 1:
        raise ValueError("over names the temperature twice ('temperature' and 'T'); keep one")
    if len(set(names) & set(fixed)):
        raise ValueError(f"parameters {sorted(set(names) & set(fixed))} are both swept "
                         "and fixed")
    return names


def _checked_energy_temperature(device, names, axes, energy, temperature):
    """``(energy, temperature)``: the fixed energy (meV; None when swept) and temperature (K),
    after refusing a missing or doubly given energy and a swept T <= 0."""
    energy_swept = any(n in ENERGY_NAMES for n in names)
    if energy_swept and energy is not None:
        raise ValueError("energy is swept; do not also pass energy=")
    if not energy_swept:
        if energy is None:
            raise ValueError("energy is required (meV) unless it is swept")
        energy = _validate.real_number("energy", energy, "meV")
    temperature = _validate.non_negative("temperature", temperature, "K")
    for name in names:
        if name in TEMPERATURE_NAMES and name not in device.defaults:
            if temperature != 0.0:
                raise ValueError(f"the temperature is swept (over[{name!r}]); do not also "
                                 f"pass temperature={temperature:g} K")
            bad = axes[name][axes[name] <= 0]
            if bad.size:
                raise ValueError(
                    f"over[{name!r}] contains T={bad[0]:g} K: a temperature sweep needs "
                    "T > 0 K (T = 0 is the plain zero-temperature sweep: leave T out)")
    return energy, temperature


def _checked_zeeman(device, names, fixed, zeeman_from_B) -> bool:
    zeeman_from_B = _validate.flag("zeeman_from_B", zeeman_from_B)
    if zeeman_from_B:
        if "E_Z" not in device.defaults:
            raise ValueError("zeeman_from_B=True needs a device with zeeman=True (it has "
                             "no E_Z parameter); build it with zeeman=True")
        if "E_Z" in fixed or "E_Z" in names:
            raise ValueError("zeeman_from_B=True derives E_Z from B: do not also fix or "
                             "sweep E_Z")
    return zeeman_from_B


def _checked_rebuilds(device, struct_names, axes, adaptive, max_rebuilds) -> int:
    """Distinct systems a sweep over ``struct_names`` builds, refused above ``max_rebuilds``."""
    if not struct_names:
        return 1
    rebuilds = int(np.prod([axes[n].size for n in struct_names]))
    if adaptive is not None:
        raise ValueError(f"structural parameters {struct_names} cannot be sampled "
                         "adaptively (each value rebuilds the system): give a grid")
    max_rebuilds = _validate.positive_int("max_rebuilds", max_rebuilds)
    if rebuilds > max_rebuilds:
        sites = device.nx * device.ny
        est = rebuilds * sites * _REBUILD_S_PER_SITE
        raise ValueError(
            f"sweeping {', '.join(struct_names)} rebuilds {rebuilds} systems "
            f"(~{sites * _REBUILD_S_PER_SITE:.2g} s each for {sites} sites, "
            f"~{duration(est)} in all before any solve); at most {max_rebuilds} are "
            "allowed: use fewer values (or raise max_rebuilds)")
    return rebuilds


def _checked_adaptive(axes, adaptive, adaptive_batch, max_points):
    """``(adaptive, adaptive_batch, max_points)`` checked (a batch only with a tolerance;
    increasing bounds)."""
    if adaptive is None and adaptive_batch is not None:
        raise ValueError(f"adaptive_batch={adaptive_batch!r} is not allowed without adaptive "
                         "(a tolerance in G0): a grid sweep runs every point it is given")
    if adaptive is None:
        return None, None, max_points
    adaptive = _validate.positive("adaptive", adaptive, "G0")
    if adaptive_batch is None:
        adaptive_batch = DEFAULT_BATCH[len(axes)]
    adaptive_batch = _validate.positive_int("adaptive_batch", adaptive_batch)
    max_points = _validate.positive_int("max_points", max_points)
    for name, values in axes.items():
        if values.size < 2 or not values[-1] > values[0]:
            raise ValueError(f"over[{name!r}] is not allowed for adaptive sampling: "
                             "give increasing bounds (start < stop)")
    return adaptive, adaptive_batch, max_points


@dataclass
class SweepSpec:
    """Everything that defines a sweep (validated; see :meth:`build`).

    Attributes
    ----------
    device : qpcsim.Device
    names : list of str
        Swept names in axis order (device parameters, structural parameters,
        ``energy``/``E`` or ``temperature``/``T``).
    axes : dict
        Name -> 1-D array of values (for adaptive sampling: the bounds).
    energy : float or None
        Fixed Fermi energy (meV), None when it is swept.
    temperature : float
        Temperature (K) when it is not swept.
    method : str
        Back end (``qpcsim.solve``'s ``method``).
    fixed : dict
        Runtime device parameters held fixed (physical units), as the user gave them.
    adaptive : float or None
        Target interpolation error (G0); None for a grid.
    max_points, adaptive_batch : int
        Adaptive sampling limits (``adaptive_batch`` None for a grid).
    structural_fixed : dict
        Structural parameters held fixed at a value other than the device's
        (geometry units); the device is rebuilt with them.
    zeeman_from_B : bool
        E_Z = |g| mu_B B at every point (from the device's material).
    rebuilds : int
        Distinct systems the sweep builds (1 when nothing structural changes).
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
    structural_fixed: dict = field(default_factory=dict)
    zeeman_from_B: bool = False
    rebuilds: int = 1
    _header: dict | None = field(default=None, repr=False)

    @classmethod
    def build(cls, device, over: Mapping[str, Sequence[float]], energy: float | None = None,
              temperature: float = 0.0, *, method: str = "auto", adaptive: float | None = None,
              max_points: int = 2000, adaptive_batch: int | None = None,
              fixed: Mapping | None = None, zeeman_from_B: bool = False,
              max_rebuilds: int = MAX_REBUILDS) -> "SweepSpec":
        """Validate a sweep request; every refusal is a ValueError naming the value.

        ``fixed`` may hold runtime parameters (potential parameters, ``B``,
        ``E_Z``) and structural ones (geometry ``make_device`` arguments such
        as ``W``); ``over`` may sweep any of them, the energy or the
        temperature. ``max_rebuilds`` bounds the distinct systems a sweep over
        structural parameters builds.
        """
        fixed = dict(fixed or {})
        names = _checked_names(device, over, fixed)
        axes = {name: _axis_values(name, over[name]) for name in names}
        energy, temperature = _checked_energy_temperature(device, names, axes, energy,
                                                          temperature)
        zeeman_from_B = _checked_zeeman(device, names, fixed, zeeman_from_B)
        structural = structural_parameters(device)
        structural_fixed = {k: v for k, v in fixed.items() if k in structural}
        fixed = {k: v for k, v in fixed.items() if k not in structural}
        rebuilds = _checked_rebuilds(device, [n for n in names if n in structural], axes,
                                     adaptive, max_rebuilds)
        base = device.resolve_params(fixed)
        adaptive, adaptive_batch, max_points = _checked_adaptive(axes, adaptive, adaptive_batch,
                                                                 max_points)
        spec = cls(device=device, names=names, axes=axes, energy=energy,
                   temperature=temperature, method=method, fixed=fixed, adaptive=adaptive,
                   max_points=max_points, adaptive_batch=adaptive_batch,
                   structural_fixed=structural_fixed, zeeman_from_B=zeeman_from_B,
                   rebuilds=rebuilds)
        spec._check_points(base)
        return spec

    def _devices(self) -> list:
        """The sweep's device and, with structural parameters, every rebuilt one (checked
        by make_device: cheap, no Kwant build)."""
        names, device = self.structural_names, self.device
        if not (names or self.structural_fixed):
            return [device]
        recipe = DeviceRecipe(device)
        return [recipe.device({**self.structural_fixed, **dict(zip(names, map(_canonical, combo)))},
                              cache=False)
                for combo in itertools.product(*[self.axes[n] for n in names])]

    def _check_points(self, base: dict) -> None:
        """Validate every point's inputs up front, in this process: fail before any work."""
        device, axes, fixed = self.device, self.axes, self.fixed
        runtime = [n for n in self.names if n in device.defaults]
        extremes = {n: max(axes[n], key=lambda v: abs(float(v))) for n in self.names
                    if np.asarray(axes[n]).dtype.kind in "iuf"}
        check_parameter_magnitudes({**fixed, **extremes}, device.units)   # e.g. Vg=1e300
        energies = [v for n in self.names if n in ENERGY_NAMES
                    for v in (axes[n].min(), axes[n].max())]
        if not self.energy_swept:
            energies.append(self.energy)
        for dev in self._devices():
            for name in runtime:
                for v in (axes[name].min(), axes[name].max()):
                    dev.resolve_params({**fixed, name: v})
            dev_base = dev.resolve_params(fixed) if dev is not device else base
            for energy in energies:
                check_energy(dev, energy, dev_base)

    # ------------------------------------------------------------ derived
    @property
    def energy_swept(self) -> bool:
        return any(n in ENERGY_NAMES for n in self.names)

    @property
    def temperature_name(self) -> str | None:
        """The swept temperature's name (``temperature`` or ``T``), None if not swept."""
        for n in self.names:
            if n in TEMPERATURE_NAMES and n not in self.device.defaults:
                return n
        return None

    @property
    def structural_names(self) -> list[str]:
        """Swept structural parameters (each value a rebuilt system)."""
        structural = structural_parameters(self.device)
        return [n for n in self.names if n in structural]

    @property
    def dim_names(self) -> list[str]:
        """Dataset dimension names (an energy axis is always ``energy``, a
        temperature axis ``temperature``)."""
        tname = self.temperature_name
        return [("energy" if n in ENERGY_NAMES else "temperature" if n == tname else n)
                for n in self.names]

    @property
    def gridded(self) -> bool:
        return self.adaptive is None

    def unit(self, name: str) -> str:
        """Unit of a swept name."""
        if name in ENERGY_NAMES:
            return "meV"
        if name == self.temperature_name:
            return "K"
        if name in self.device.units:
            return self.device.units[name]
        return parameter_units(self.device).get(name, "")

    def task(self, point: tuple) -> tuple:
        """The worker task ``(energy, temperature, method, params, structural)`` of
        one point; ``structural`` (geometry arguments) selects the rebuilt system."""
        params = dict(self.fixed)
        structural = dict(self.structural_fixed)
        e = self.energy
        tname = self.temperature_name
        names = set(self.structural_names)
        for name, value in zip(self.names, point):
            if name in ENERGY_NAMES:
                e = float(value)
            elif name == tname:
                pass
            elif name in names:
                structural[name] = _canonical(value)
            else:
                params[name] = float(value)
        return SweepTask(e, self.temperature_of(point), self.method, self.with_zeeman(params),
                         structural)

    def with_zeeman(self, params: dict) -> dict:
        """``params`` with the Zeeman energy E_Z (meV) derived from B (T) where the spec
        says so (``zeeman_from_B``); unchanged otherwise."""
        if self.zeeman_from_B:
            B = params.get("B", self.device.defaults.get("B", 0.0))
            params = {**params, "E_Z": zeeman_energy_meV(abs(B), self.device.material)}
        return params

    def temperature_of(self, point: tuple) -> float:
        """Temperature (K) of one point: the one place a temperature series is
        decided. Today each point of a temperature axis is a finite-T solve;
        a shared zero-temperature T(E) on an energy grid (the spectral
        mechanism) replaces that cost here and in :func:`solve_point`."""
        tname = self.temperature_name
        if tname is None:
            return self.temperature
        return float(point[self.names.index(tname)])

    @property
    def kind_name(self) -> str:
        """The engine kind that runs this spec (``"grid"`` or ``"adaptive"``)."""
        return "grid" if self.adaptive is None else "adaptive"

    def header(self, kind: str | None = None) -> dict:
        """Store header (``make_header``) of this spec run as ``kind`` (default
        :attr:`kind_name`): what the store's records belong to, with a content hash."""
        kind = kind or self.kind_name
        if self._header is None or self._header["kind"] != kind:
            self._header = make_header(kind, self.device, self.body())
        return self._header

    def body(self) -> dict:
        """The description of the points (the store header's ``sweep``)."""
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
        if self.structural_fixed:
            spec["structural_fixed"] = {k: _canonical(v) for k, v in
                                        sorted(self.structural_fixed.items())}
        if self.zeeman_from_B:
            spec["zeeman_from_B"] = True
        return spec

    def check_budget(self, report=None) -> int:
        """Refuse a sweep whose points cannot be held in memory; report a large one."""
        device = self.device
        if self.gridded:
            points = math.prod(len(self.axes[n]) for n in self.names)
        else:
            points = int(self.max_points)
        per_device = device_memory_bytes(device.nx, device.ny, device.norbs)
        check_memory(points * BYTES_PER_POINT + per_device,
                     f"the sweep ({points:,} points on a {device.nx} x {device.ny} lattice)",
                     "use fewer points (NUM in --sweep, or max_points) or split the sweep")
        if report is not None and points >= 10_000:
            report(f"{points:,} points on a {device.nx} x {device.ny} lattice "
                   f"(~{format_bytes(per_device)} per worker); an ETA follows once the "
                   "first points are timed")
        return points

    def warn_extremes(self) -> None:
        """PhysicsWarnings for the sweep's extreme inputs, once, in the caller's process."""
        said = set()
        corners = itertools.product(*[(self.axes[n].min(), self.axes[n].max())
                                      for n in self.names])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PhysicsWarning)
            for corner in corners:
                energy, temperature, _, params = self.task(corner)[:4]
                warn_inputs(self.device, energy, temperature, self.device.resolve_params(params))
        for w in caught:
            if str(w.message) not in said:
                said.add(str(w.message))
                warnings.warn(str(w.message), PhysicsWarning, stacklevel=6)

    def resolved_parameters(self) -> dict:
        """Every ``make_device`` argument and runtime parameter of the sweep's
        base point (swept ones at their device default), for provenance."""
        return {**structural_parameters(self.device), **self.structural_fixed,
                **self.device.defaults, **self.fixed}

    def seed_values(self) -> dict:
        """Seed-like parameters (for the result's metadata)."""
        return {k: v for k, v in {**self.device.defaults, **self.fixed}.items()
                if "seed" in k.lower()}


def parameter_units(device) -> dict:
    """Units of every parameter of ``device`` (runtime and structural), from the
    device and its geometry's ``DEFAULTS`` comments."""
    units = dict((device.metadata.get("parameter_units") or {}))
    units.update(device.units)
    return units


def _structural_hint(device) -> str:
    return ("Structural parameters (geometry arguments) are fixed or swept too; "
            "see `qpcsim params GEOMETRY`") if structural_parameters(device) else ""

