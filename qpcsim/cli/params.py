"""``qpcsim params GEOMETRY``: every parameter of a geometry (default, unit,
runtime or structural), and the shared split of ``--set`` values between a
geometry's ``make_device`` and the runtime parameters (``B``, ``E_Z`` ...)."""
from __future__ import annotations

from .. import validate as _validate
from ..geometry import load_geometry, load_geometry_module
from .args import parse_set

__all__ = ["load_with_set", "register"]


def load_with_set(geometry: str, items) -> tuple[object, dict]:
    """``(device, runtime)`` from ``--set KEY=VALUE`` items: names in the
    geometry's ``DEFAULTS`` go to its ``make_device`` (a file without
    ``DEFAULTS`` gets every name but ``B`` and ``E_Z``); the others (``B``,
    ``E_Z``, potential parameters the file does not list) are returned to be
    held fixed per point. Unknown names fail later with the known ones listed."""
    values = parse_set(items)
    module = load_geometry_module(geometry)
    defaults = getattr(module, "DEFAULTS", None)
    if isinstance(defaults, dict):
        build = {k: v for k, v in values.items() if k in defaults}
    else:
        build = {k: v for k, v in values.items() if k not in ("B", "E_Z")}
    runtime = {k: v for k, v in values.items() if k not in build}
    device = load_geometry(geometry, **build)
    known = list(device.defaults) + [k for k in (defaults or {}) if k not in device.defaults]
    _validate.known_names(runtime, known, "parameter", owner=device.metadata.get(
        "geometry", device.name), renamed=device.metadata.get("renamed_parameters"))
    return device, runtime


def _params(args) -> int:
    device, _ = load_with_set(args.geometry, args.set)
    print(device.describe())
    return 0


def register(sub) -> None:
    p = sub.add_parser("params", help="a geometry's parameters: default, unit, runtime or "
                                      "structural",
                       description="List every parameter of a geometry with its default, unit "
                                   "and kind: runtime parameters (gates, B, E_Z) change per point "
                                   "without rebuilding; structural ones (sizes, lattice constant) "
                                   "rebuild the system. Both can be --set or --sweep'd.")
    p.add_argument("geometry", help="geometry file (or the name of a bundled one)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="parameter value (in the unit `qpcsim params` lists)")
    p.set_defaults(func=_params)
