"""``qpcsim sweep ... --observable R_diag --current 0:3 --voltage 1:4``: a named
four-terminal resistance of a multi-terminal device, computed from the sweep's
stored conductance matrices (exact, whatever executor or store ran the points)
and saved as a variable of the result (units h/e^2). ``--tip WIDTH:HEIGHT``: a
scanning-gate tip on the device (``qpcsim.with_tip``), so that
``--sweep x_tip=... --sweep y_tip=... --plot map.png`` is an SGM map."""
from __future__ import annotations

import numpy as np

from ..terminals import resistance

__all__ = ["add_arguments", "check_request", "add_resistance", "apply_tip"]


def add_arguments(p) -> None:
    """The ``--observable/--current/--voltage`` flags of ``qpcsim sweep``."""
    p.add_argument("--observable", metavar="NAME",
                   help="name of a four-terminal resistance to add (h/e^2), e.g. R_xy; needs "
                        "--current and --voltage")
    p.add_argument("--current", metavar="SRC:SNK",
                   help="terminals (index or name, see `qpcsim show`) the current enters and "
                        "leaves by, e.g. 0:3 or source:drain")
    p.add_argument("--voltage", metavar="A:B",
                   help="terminals between which the voltage V_A - V_B is measured, e.g. 1:5")
    p.add_argument("--tip", metavar="WIDTH:HEIGHT[:PROFILE]",
                   help="scanning-gate tip: width (nm), height (meV), lorentzian (default) or "
                        "gaussian; sweep x_tip, y_tip (nm) for an SGM map")


def apply_tip(args, device):
    """The device with the requested tip (``--tip``), else the device itself."""
    if args.tip is None:
        return device
    from ..physics.sgm import with_tip
    parts = args.tip.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"--tip {args.tip!r} is not allowed: give WIDTH:HEIGHT or "
                         "WIDTH:HEIGHT:PROFILE, e.g. 15:3 or 15:3:gaussian")
    try:
        width, height = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--tip {args.tip!r} is not allowed: WIDTH (nm) and HEIGHT (meV) "
                         "must be numbers, e.g. 15:3") from None
    return with_tip(device, width=width, height=height,
                    profile=parts[2] if len(parts) == 3 else "lorentzian")


def check_request(args, device) -> None:
    """Refuse an incomplete or impossible request before any work."""
    given = [f for f, v in (("--observable", args.observable), ("--current", args.current),
                            ("--voltage", args.voltage)) if v is not None]
    if not given:
        return
    if args.observable is not None and not args.observable.strip():
        raise ValueError("--observable '' is not allowed: give the name of a resistance, "
                         "e.g. --observable R_xy")
    if len(given) != 3:
        raise ValueError(f"{' and '.join(given)} need --observable, --current and --voltage "
                         "together (e.g. --observable R_xy --current 0:3 --voltage 1:5)")
    n = len(device.terminals)
    resistance(np.eye(n), args.current, args.voltage, device.terminals)   # names, distinct


def add_resistance(data, device, args) -> None:
    """Add the requested resistance to the sweep Dataset ``data`` and print it."""
    if args.observable is None:
        return
    G = data["conductance_matrix"]
    values = resistance(G.values, args.current, args.voltage, device.terminals)
    dims = G.dims[:-2]
    data[args.observable] = (dims, values, {
        "units": "h/e^2",
        "long_name": f"four-terminal resistance, I: {args.current}, V: {args.voltage}"})
    print(f"{args.observable} (h/e^2), current {args.current}, voltage {args.voltage}:")
    if len(dims) == 1:
        for x, r in zip(data[dims[0]].values, values):
            print(f"{x:>14.6g} {r:>18.12f}")
