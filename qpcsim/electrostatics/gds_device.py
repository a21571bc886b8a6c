"""A self-consistent device straight from a GDSII layout: the device window and the leads
chosen from the gates, the Thomas–Fermi potential of :func:`self_consistent_device`.

The channel runs along x (the leads are the window's left and right edges). The window
is centred on the constriction: in x on the gates' extent, in y on the widest gap
between the gates' y-extents (the opening of a split gate). Its default size keeps the
proportions of the bundled ``qpc_split_gate_sc`` (which it reproduces from
``geometries/layouts/split_gate.gds`` at d = 50 nm): the width is the opening plus
1.2 depths on each side (the gate's fringe depletes the 2DEG over about a depth),
the length the gates' extent plus, at each end, the switch-off ramp and 1.8 depths
of channel (the fringe field decays over about two depths).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import validate as _validate
from .heterostructure import Heterostructure
from .layout import Gate, Layout
from .provider import self_consistent_device

__all__ = ["device_from_gds", "device_window"]

#: Window proportions (in depths of the 2DEG): side margin of the width, channel
#: beyond the ramp at each end of the length (those of qpc_split_gate_sc at d = 50 nm).
WIDTH_MARGIN_DEPTHS, LENGTH_MARGIN_DEPTHS = 1.2, 1.8


def device_window(layout: Layout, depth_nm: float, switch_off_nm: float):
    """``(x_center, y_center, width, length)`` (nm) of the default device window of
    ``layout`` (see the module docstring); ValueError if the gates leave no gap in y."""
    x0, x1, _, _ = layout.bounds_nm()
    spans = sorted((g.bounds_nm()[2], g.bounds_nm()[3]) for g in layout)
    merged = [list(spans[0])]
    for lo, hi in spans[1:]:
        if lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    gaps = [(b[0] - a[1], a[1], b[0]) for a, b in zip(merged[:-1], merged[1:])]
    if not gaps:
        raise ValueError(f"the gates {', '.join(layout.names)} leave no gap in y for a channel "
                         "along x: give the device window yourself (W and L, nm)")
    opening, y_lo, y_hi = max(gaps)
    width = opening + 2 * WIDTH_MARGIN_DEPTHS * depth_nm
    length = (x1 - x0) + 2 * (switch_off_nm + LENGTH_MARGIN_DEPTHS * depth_nm)
    return 0.5 * (x0 + x1), 0.5 * (y_lo + y_hi), width, length


def _centred(layout: Layout, dx: float, dy: float) -> Layout:
    """The layout moved by (-dx, -dy) nm (unchanged when both are zero)."""
    if dx == 0 and dy == 0:
        return layout
    return Layout([Gate(g.name, [p - np.array([dx, dy]) for p in g.polygons]) for g in layout])


def device_from_gds(path, layers: Mapping, *, depth_nm: float, density_cm2: float,
                    width_nm: float | None = None, length_nm: float | None = None,
                    a_nm: float = 4.0, resolution_nm: float = 4.0, switch_off_nm: float = 100.0,
                    margin_nm: float = 400.0, frozen: bool = False, cell: str | None = None,
                    zeeman: bool = False):
    """A self-consistent :class:`qpcsim.Device` from the gates of a GDSII file.

    Parameters
    ----------
    path : str or Path
        The ``.gds`` file (its own user unit, e.g. 1 um).
    layers : mapping
        ``{layer: gate name}``, e.g. ``{1: "left", 2: "right"}``; each gate's voltage is
        the runtime parameter ``V_<name>`` (V).
    depth_nm : float
        Depth of the 2DEG below the gates (nm).
    density_cm2 : float
        Ungated sheet density (cm^-2); E_F = n_s/rho is the device's transport energy.
    width_nm, length_nm : float, optional
        Device window (nm); default from the layout (module docstring).
    a_nm, resolution_nm, switch_off_nm, margin_nm : float
        Lattice constant, Thomas–Fermi cell, switch-off ramp toward the leads and
        electrostatic margin (nm), as in ``qpc_split_gate_sc``.
    frozen : bool
        Frozen surface charge instead of a pinned surface.
    cell : str, optional
        GDS cell (default: the only top-level one).
    zeeman : bool
        Resolve spins (adds ``E_Z``, meV).
    """
    depth = _validate.positive("depth_nm", depth_nm, "nm")
    ramp = _validate.non_negative("switch_off_nm", switch_off_nm, "nm")
    layout = Layout.from_gds(path, layers, cell=cell)
    xc, yc, width, length = device_window(layout, depth, ramp)
    width = width if width_nm is None else _validate.positive("width_nm", width_nm, "nm")
    length = length if length_nm is None else _validate.positive("length_nm", length_nm, "nm")
    het = Heterostructure(depth_nm=depth, density_cm2=density_cm2,
                          surface="frozen" if _validate.flag("frozen", frozen) else "pinned")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    device = self_consistent_device(
        _centred(layout, xc, yc), het, width_nm=width, length_nm=length, a_nm=a_nm,
        resolution_nm=resolution_nm, switch_off_nm=ramp, margin_nm=margin_nm, zeeman=zeeman,
        name=Path(path).stem,
        metadata={"geometry": Path(path).stem, "gds_file": str(path), "gds_sha256": digest,
                  "gds_layers": {str(k): str(v) for k, v in layers.items()},
                  "gds_offset_nm": [xc, yc]})
    # Fingerprint now, from an empty solution cache: the potential it samples (at the
    # default voltages) depends, within the Thomas-Fermi tolerance, on the initial guess,
    # i.e. on the voltages solved before; a rerun must find the same store and result.
    # Then forget that solve, so the sweep's solves start as a geometry file's do.
    device.fingerprint()
    device.potential.clear_cache()
    return device
