"""Building blocks for potential landscapes, for use in ``geometries/``.

All functions are vectorized over NumPy arrays; lengths in nm, energies in meV.
"""
from __future__ import annotations

import numpy as np

from .units import GAAS, Material, kinetic_constant_meV_nm2

__all__ = ["smooth_step", "flat_top_window", "rectangular_gate", "split_gate_channel",
           "kinetic_constant_meV_nm2", "harmonic_curvature"]


def smooth_step(s):
    """C-infinity step: 0 for s <= 0, 1 for s >= 1, all derivatives continuous.

    ``S(s) = f(s) / (f(s) + f(1 - s))`` with ``f(s) = exp(-1/s)``. Unlike a tanh
    or a cosine ramp it has no kink and no tail, so a potential switched on
    with it over a few Fermi wavelengths back-scatters exponentially little.
    """
    s = np.clip(np.asarray(s, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        f0 = np.where(s > 0, np.exp(-1.0 / np.where(s > 0, s, 1.0)), 0.0)
        f1 = np.where(s < 1, np.exp(-1.0 / np.where(s < 1, 1.0 - s, 1.0)), 0.0)
    return f0 / (f0 + f1)


def flat_top_window(x, half_flat: float, ramp: float):
    """1 for |x| <= half_flat, smoothly (C-infinity) down to 0 at |x| = half_flat + ramp.

    Parameters
    ----------
    x : array_like
        Position (nm).
    half_flat : float
        Half-length of the region where the window is 1 (nm).
    ramp : float
        Length of each switch-off ramp (nm); 0 gives a sharp edge.
    """
    x = np.abs(np.asarray(x, dtype=float))
    if ramp <= 0:
        return (x <= half_flat).astype(float)
    return 1.0 - smooth_step((x - half_flat) / ramp)


def split_gate_channel(x, y, energy: float, channel: float, half_gate: float, ramp: float,
                       edge_ramp: float, width: float):
    """Potential energy (meV) of two split gates over a ribbon of ``width``: ``energy`` under
    the gates, which cover |x| <= ``half_gate`` (switched on over ``ramp`` along x) outside a
    channel |y| <= ``channel``/2 (edges smoothed over ``edge_ramp``); 0 in the channel.

    Parameters
    ----------
    x, y : array_like
        Positions (nm).
    energy : float
        Potential energy under the gates (meV).
    channel : float
        Channel width between the gates (nm), 0 <= ``channel`` <= ``width``.
    half_gate, ramp, edge_ramp, width : float
        Half-length of the gates' flat part, their switch-on length along x, the width of
        their edges across the ribbon and the ribbon's width (nm).
    """
    if not 0 <= channel <= width:
        raise ValueError(f"w_qpc={channel!r} nm is not allowed: the channel between the "
                         f"gates must be 0 <= w_qpc <= W = {width:g} nm")
    outside = 1.0 - flat_top_window(y, 0.5 * channel, edge_ramp)
    return energy * flat_top_window(x, half_gate, ramp) * outside


def rectangular_gate(x, y, depth: float, left: float, right: float, bottom: float, top: float):
    """Electrostatic potential in the 2DEG of a rectangular surface gate at 1 V.

    The gate covers ``left <= x <= right``, ``bottom <= y <= top`` (nm) at the
    surface, the 2DEG lies ``depth`` (nm) below, and the rest of the surface is
    held at 0 V (pinned Fermi level). Davies, Larkin & Sukhorukov,
    J. Appl. Phys. 77, 4504 (1995), in their notation:
    ``phi = g(x-L, y-B) + g(x-L, T-y) + g(R-x, y-B) + g(R-x, T-y)`` with
    ``g(u, v) = arctan(u v / (d sqrt(u^2 + v^2 + d^2))) / (2 pi)``.

    Returns
    -------
    ndarray
        The potential (in volts per volt on the gate): 1 under an infinite gate,
        1/4 under the corner of a large one, 0 far away.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    d = float(depth)

    def g(u, v):
        return np.arctan2(u * v, d * np.sqrt(u**2 + v**2 + d**2)) / (2 * np.pi)

    return g(x - left, y - bottom) + g(x - left, top - y) + g(right - x, y - bottom) + \
        g(right - x, top - y)


def harmonic_curvature(hbar_omega_meV: float, material: Material = GAAS) -> float:
    """Coefficient c of V = c r^2 (meV/nm^2) for (1/2) m* omega^2 r^2 with hbar omega given (meV).

    (1/2) m* omega^2 = (hbar omega)^2 / (4 hbar^2/(2 m*)).
    """
    return hbar_omega_meV**2 / (4 * kinetic_constant_meV_nm2(material))
