"""Bare gate potential of polygon surface gates, pinned surface, in closed form.

With a pinned surface the whole plane z = 0 is a Dirichlet boundary: V on the
gates, 0 on the exposed surface (Davies, Larkin & Sukhorukov, J. Appl. Phys. 77,
4504 (1995)). The potential a depth d below is the Poisson integral of the
half-space,

    phi(x, y) = sum_gates V_g * integral over gate of d / (2 pi (r^2 + d^2)^(3/2)) dA
              = sum_gates V_g * Omega_g(x, y, d) / (2 pi),

where Omega_g is the solid angle the gate subtends from the point (x, y, -d). For
a polygon it is a sum over its edges of the solid angles of the triangles formed
by the point's projection and each edge (Van Oosterom & Strackee, IEEE Trans.
Biomed. Eng. 30, 125 (1983)); for an edge from A to B (relative to the
projection), with b = |(A, d)|, c = |(B, d)|:

    Omega_AB = 2 atan2(A x B, b c + A.B + d^2 + d (b + c)).

The denominator is positive for every A, B (so there are no branch cuts), and
for a rectangle the sum reproduces the corner formula of
:func:`qpcsim.potentials.rectangular_gate`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["polygon_potential", "gate_potential", "layout_potential"]


def polygon_potential(x_nm, y_nm, vertices_nm, depth_nm: float) -> np.ndarray:
    """Potential a depth ``depth_nm`` below a polygon surface gate at 1 V (pinned surface).

    Parameters
    ----------
    x_nm, y_nm : array_like
        Positions in the 2DEG plane (nm), broadcast together.
    vertices_nm : array_like, shape (n, 2)
        The polygon's vertices (nm), counter-clockwise (clockwise gives the
        negative); a simple polygon.
    depth_nm : float
        Depth of the 2DEG below the surface (nm), > 0.

    Returns
    -------
    ndarray
        phi (volts per volt on the gate): 1 under the middle of a huge gate, 1/2 under a
        straight edge, 0 far away.
    """
    x = np.asarray(x_nm, dtype=float)
    y = np.asarray(y_nm, dtype=float)
    v = np.asarray(vertices_nm, dtype=float)
    d = float(depth_nm)
    d2 = d * d
    total = np.zeros(np.broadcast(x, y).shape)
    n = len(v)
    for k in range(n):
        x1, y1 = v[k]
        x2, y2 = v[(k + 1) % n]
        ax, ay = x1 - x, y1 - y
        bx, by = x2 - x, y2 - y
        cross = ax * by - ay * bx
        dot = ax * bx + ay * by
        a2 = ax * ax + ay * ay
        b2 = bx * bx + by * by
        ra = np.sqrt(a2 + d2)
        rb = np.sqrt(b2 + d2)
        # ra rb + A.B loses digits when A and B point apart: use
        # ra rb + A.B = ((A x B)^2 + d^2 (|A|^2 + |B|^2 + d^2)) / (ra rb - A.B).
        rr = ra * rb
        with np.errstate(invalid="ignore", divide="ignore"):
            stable = (cross * cross + d2 * (a2 + b2 + d2)) / (rr - dot)
        s = np.where(dot < 0, stable, rr + dot)
        total += np.arctan2(cross, s + d2 + d * (ra + rb))
    return total / np.pi


def gate_potential(x_nm, y_nm, gate, depth_nm: float) -> np.ndarray:
    """Potential (V per V) of one :class:`~qpcsim.electrostatics.Gate` (all its polygons)
    at positions ``x_nm``, ``y_nm`` (nm), a depth ``depth_nm`` (nm) below the surface."""
    return sum(polygon_potential(x_nm, y_nm, p, depth_nm) for p in gate.polygons)


def layout_potential(x_nm, y_nm, layout, voltages, depth_nm: float) -> np.ndarray:
    """Electrostatic potential (V) in the 2DEG of all gates of ``layout`` at ``voltages``
    (``{gate name: V}``), positions in nm, depth in nm. The potential energy of an
    electron is -e times this (``-1000 * phi`` meV)."""
    volts = layout.check_voltages(voltages)
    out = np.zeros(np.broadcast(np.asarray(x_nm), np.asarray(y_nm)).shape)
    for gate in layout.gates:
        if volts[gate.name] != 0.0:
            out = out + volts[gate.name] * gate_potential(x_nm, y_nm, gate, depth_nm)
    return out
