"""A GDSII layout in place of a geometry file (``qpcsim sweep layout.gds --layer 1=left
--layer 2=right --depth 90 --density 2.5e11 --sweep V_left=...``): the self-consistent
device of :func:`qpcsim.electrostatics.device_from_gds`. ``--set`` takes its window and
numerics under the names of ``qpc_split_gate_sc`` (``W``, ``L``, ``a``, ``resolution``,
``L_switch``, ``margin``, ``frozen``, ``zeeman``; nm); every other ``--set`` is a runtime
parameter (``V_<gate>`` in V, ``B`` in T)."""
from __future__ import annotations

from .args import parse_set
from .params import load_with_set

__all__ = ["add_arguments", "load_device"]

#: ``--set`` names that build a layout's device -> device_from_gds keyword.
_BUILD = {"W": "width_nm", "L": "length_nm", "a": "a_nm", "resolution": "resolution_nm",
          "L_switch": "switch_off_nm", "margin": "margin_nm", "frozen": "frozen",
          "zeeman": "zeeman"}


def add_arguments(p) -> None:
    """The flags of a ``.gds`` geometry."""
    p.add_argument("--layer", action="append", metavar="N=NAME",
                   help="with a .gds geometry: GDS layer N is the gate NAME (voltage V_NAME in "
                        "V); give one per gate, e.g. --layer 1=left --layer 2=right")
    p.add_argument("--depth", type=float, metavar="NM",
                   help="with a .gds geometry: depth of the 2DEG below the gates (nm)")
    p.add_argument("--density", type=float, metavar="CM2",
                   help="with a .gds geometry: ungated sheet density (cm^-2); the energy "
                        "defaults to its E_F")
    p.add_argument("--cell", help="with a .gds geometry: the GDS cell (default: the only "
                                  "top-level one)")


def _layers(items) -> dict:
    layers = {}
    for item in items or []:
        number, sep, name = item.partition("=")
        try:
            key = int(number)
        except ValueError:
            key = None
        if not sep or key is None or not name.strip():
            raise ValueError(f"--layer {item!r} is malformed: use N=NAME with N the GDS layer "
                             "number, e.g. --layer 1=left")
        layers[key] = name.strip()
    if not layers:
        raise ValueError("a .gds geometry needs --layer N=NAME for each gate, e.g. "
                         "--layer 1=left --layer 2=right")
    return layers


def load_device(args) -> tuple[object, dict]:
    """``(device, runtime)`` for ``args.geometry``: a ``.gds`` layout with ``--layer``,
    ``--depth`` and ``--density``, else a geometry file with ``--set`` (load_with_set)."""
    gds = str(args.geometry).lower().endswith((".gds", ".gdsii"))
    given = [f for f in ("layer", "depth", "density", "cell") if getattr(args, f) is not None]
    if not gds:
        if given:
            raise ValueError(f"--{given[0]} is only allowed with a .gds geometry (a GDSII "
                             f"layout); {args.geometry!r} is a geometry file or name")
        return load_with_set(args.geometry, args.set)
    for flag in ("depth", "density"):
        if getattr(args, flag) is None:
            raise ValueError(f"a .gds geometry needs --{flag} (" + (
                "the 2DEG depth below the gates, nm)" if flag == "depth" else
                "the ungated sheet density, cm^-2)"))
    from ..electrostatics import device_from_gds   # a layout only: 0.1 s of imports

    values = parse_set(args.set)
    build = {_BUILD[k]: v for k, v in values.items() if k in _BUILD}
    device = device_from_gds(args.geometry, _layers(args.layer), depth_nm=args.depth,
                             density_cm2=args.density, cell=args.cell, **build)
    if not args.quiet:
        print(f"layout {args.geometry}: gates " + ", ".join(
            f"{name} (layer {n}, V_{name} in V)" for n, name in _layers(args.layer).items())
            + f"; window {device.width:g} x {device.length:g} nm (W x L) centred at "
            f"({device.metadata['gds_offset_nm'][0]:g}, {device.metadata['gds_offset_nm'][1]:g})"
            f" nm; d = {args.depth:g} nm, n_s = {args.density:g} cm^-2, E_F = "
            f"{device.metadata['fermi_energy_meV']:.4g} meV")
    runtime = {k: v for k, v in values.items() if k not in _BUILD}
    unknown = sorted(set(runtime) - set(device.defaults) - {"E_Z"})
    if unknown:
        raise ValueError(f"--set {unknown[0]} is not a parameter of the layout "
                         f"{args.geometry!r}; known: {', '.join(sorted(device.defaults))} "
                         f"(runtime) and {', '.join(_BUILD)} (window and numerics)")
    return device, runtime
