"""Pinch-off diagrams: the channel state over two gate voltages, electrostatics only.

At each point of a (V_1, V_2) grid the Thomas–Fermi problem is solved (no transport) and
the channel classified:

* ``PINCHED``: occupied 2DEG does not connect the source side (x = x0 of the window) to
  the drain side (x = x1) inside the channel strip y_lo <= y <= y_hi,
* ``DEPLETED``: the channel is open and the 2DEG under one of the two swept gates is gone
  (at least half of the cells under it empty): the gates define a constriction,
* ``OPEN``: the channel is open and the 2DEG is still under both gates.

The channel's bottleneck density n_b (the largest n such that cells with density >= n still
connect source and drain: the saddle density of the widest path) is kept at each point; the
pinch-off line is where n_b reaches 0 along V_2 at each V_1, extrapolated linearly from the
last two open points (n_b is close to linear in V_g before pinch-off), within the grid step.
Each row of constant V_1 is solved in order with warm starts, cold at its first point, so the
numbers do not depend on how rows are split over worker processes.
"""
from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage

from .. import validate as _validate
from ..backends.assembly import single_threaded_blas
from .heterostructure import Heterostructure
from .layout import Layout
from .thomas_fermi import _problem, aligned_window

__all__ = ["PinchoffDiagram", "pinchoff_diagram", "OPEN", "PINCHED", "DEPLETED",
           "bottleneck_density"]

OPEN, PINCHED, DEPLETED = 0, 1, 2
STATE_NAMES = {OPEN: "open", PINCHED: "pinched", DEPLETED: "depleted under a gate, open"}


def bottleneck_density(density, strip) -> float:
    """Largest n such that cells with density >= n connect column 0 to column -1 (4-neighbour),
    within the boolean ``strip`` mask; 0 if even the occupied cells do not."""
    n = np.where(strip, density, -1.0)
    values = np.unique(n[n > 0])
    lo, hi = 0, values.size - 1            # bisection on the sorted levels
    best = 0.0
    while lo <= hi:
        mid = (lo + hi) // 2
        labels, _ = scipy.ndimage.label(n >= values[mid])
        if np.intersect1d(labels[0][labels[0] > 0], labels[-1][labels[-1] > 0]).size:
            best, lo = float(values[mid]), mid + 1
        else:
            hi = mid - 1
    return best


@dataclass
class PinchoffDiagram:
    """Channel state over two gate voltages.

    Attributes
    ----------
    gates : tuple
        The two swept gates (V_1 rows, V_2 columns).
    v1, v2 : ndarray
        Gate voltages (V).
    state : ndarray of int, shape (len(v1), len(v2))
        ``OPEN`` (0), ``PINCHED`` (1), ``DEPLETED`` (2).
    bottleneck_cm2 : ndarray
        Saddle density of the widest source-drain path (cm^-2).
    under_gate_cm2 : ndarray, shape (2, len(v1), len(v2))
        Mean density under each swept gate (cm^-2).
    fixed : dict
        Voltages (V) of the other gates.
    heterostructure : dict
        The model (:meth:`Heterostructure.record`, with its calibration).
    seconds : float
        Wall time (s).
    """

    gates: tuple
    v1: np.ndarray
    v2: np.ndarray
    state: np.ndarray
    bottleneck_cm2: np.ndarray
    under_gate_cm2: np.ndarray
    fixed: dict
    heterostructure: dict
    channel_nm: tuple
    seconds: float = 0.0
    solves: int = field(default=0)

    def pinchoff_line(self) -> np.ndarray:
        """V_2 (V) at which the channel pinches, for each V_1 (NaN where it does not in range):
        n_b extrapolated linearly to 0 from the last two open V_2 (scanning from the open
        side), kept between the last open and the first closed voltage."""
        order = np.argsort(-self.v2)                          # least negative first
        out = np.full(self.v1.size, np.nan)
        for i in range(self.v1.size):
            nb = self.bottleneck_cm2[i, order]
            closed = np.flatnonzero(nb <= 0)
            if closed.size == 0 or closed[0] == 0:
                continue
            k = closed[0]
            v = self.v2[order]
            out[i] = _zero_crossing(v, nb, k)
        return out

    def depletion_voltage(self, which: int) -> float:
        """Voltage (V) of gate ``which`` (0 or 1) at which the 2DEG under it disappears, with
        the other gate at its least negative value in the scan (linear in the mean density)."""
        under = self.under_gate_cm2[which]
        trace, volts = (under[:, np.argmax(self.v2)], self.v1) if which == 0 else \
            (under[np.argmax(self.v1)], self.v2)
        order = np.argsort(-volts)
        t, v = trace[order], volts[order]
        gone = np.flatnonzero(t <= 0)
        if gone.size == 0 or gone[0] == 0:
            return float("nan")
        return _zero_crossing(v, t, gone[0])


def _zero_crossing(v, y, k):
    """Where y (> 0 before index k, <= 0 at k) reaches 0: the line through the last two
    positive points, clipped to [v[k-1], v[k]] (one point: linear between k-1 and k)."""
    va, vb = v[k - 1], v[k]
    if k >= 2 and y[k - 2] != y[k - 1]:
        z = va + (va - v[k - 2]) * y[k - 1] / (y[k - 2] - y[k - 1])
    else:
        z = va + (vb - va) * y[k - 1] / (y[k - 1] - y[k])
    return float(min(max(z, min(va, vb)), max(va, vb)))


def _row(args):
    with single_threaded_blas():          # small vectors; same bits in every worker
        return _solve_row(*args)


def _solve_row(layout, het, window, resolution, gates, v1, v2s, fixed, strip_y, tol):
    prob = _problem(layout, het, window, resolution)
    masks = prob.gate_cells               # made once per (cached) problem, not per row
    strip = np.broadcast_to((prob.y >= strip_y[0]) & (prob.y <= strip_y[1]), prob.shape)
    rows = []
    previous = None
    for v2 in v2s:
        volts = {**fixed, gates[0]: v1, gates[1]: v2}
        res = prob.solve(volts, initial=previous, tolerance_meV=tol, check_window=False)
        previous = res
        n = res.density_grid_cm2
        under = [float(n[masks[g]].mean()) for g in gates]
        gone = any(np.mean(n[masks[g]] <= 0) >= 0.5 for g in gates)
        nb = bottleneck_density(n, strip)
        rows.append((PINCHED if nb <= 0 else (DEPLETED if gone else OPEN), nb, under))
    return rows


def pinchoff_diagram(layout: Layout, heterostructure: Heterostructure, gates, v1, v2, *,
                     channel_nm=(-160.0, 160.0), fixed=None, window_nm=None,
                     resolution_nm: float = 8.0, tolerance_meV: float = 1e-3,
                     workers: int = 1) -> PinchoffDiagram:
    """The channel state over a grid of two gate voltages (electrostatics only).

    Parameters
    ----------
    layout : Layout
        Gates (nm).
    heterostructure : Heterostructure
        The wafer (pinned or frozen surface).
    gates : (str, str)
        The two swept gates.
    v1, v2 : array_like
        Their voltages (V).
    channel_nm : (float, float)
        The channel strip y_lo..y_hi (nm) in which source (window's x0) and drain (x1) must
        connect; the device width.
    fixed : mapping, optional
        Voltages (V) of the other gates (default 0 V).
    window_nm : tuple, optional
        Thomas–Fermi window (nm); default the gates' box plus 8 depths on each side.
    resolution_nm : float
        Cell size (nm).
    tolerance_meV : float
        Thomas–Fermi residual (meV).
    workers : int
        Processes (rows are split between them; results do not depend on it).

    Returns
    -------
    PinchoffDiagram
    """
    if not isinstance(layout, Layout):
        raise ValueError(f"layout={layout!r} is not allowed: it must be a Layout")
    gates = tuple(gates)
    if len(gates) != 2 or gates[0] == gates[1] or any(g not in layout.names for g in gates):
        raise ValueError(f"gates={gates!r} is not allowed: give two different gates of the "
                         f"layout, from {', '.join(layout.names)}")
    v1 = np.atleast_1d(np.asarray(v1, dtype=float))
    v2 = np.atleast_1d(np.asarray(v2, dtype=float))
    for name, v in (("v1", v1), ("v2", v2)):
        if v.ndim != 1 or v.size < 2 or not np.all(np.isfinite(v)):
            raise ValueError(f"{name}={v!r} is not allowed: it must be at least two finite "
                             "voltages (V)")
    if set(fixed or {}) & set(gates):       # (the swept value won over it, silently)
        raise ValueError(f"fixed={fixed!r} is not allowed: it sets the swept gate(s) "
                         f"{sorted(set(fixed) & set(gates))}; give only the other gates")
    fixed = layout.check_voltages(fixed or {})
    lo, hi = (float(c) for c in channel_nm)
    if not hi > lo:
        raise ValueError(f"channel_nm={channel_nm!r} is not allowed: it must be (y_lo, y_hi) "
                         "with y_lo < y_hi (nm)")
    if window_nm is None:
        m = 8 * heterostructure.depth_nm
        x0, x1, y0, y1 = layout.bounds_nm()
        window_nm = aligned_window(layout, heterostructure,
                                   (x0 - m, x1 + m, min(y0, lo) - m, max(y1, hi) + m),
                                   resolution_nm)
    window_nm = tuple(float(w) for w in window_nm)
    workers = _validate.positive_int("workers", workers)
    tasks = [(layout, heterostructure, window_nm, resolution_nm, gates, float(a), v2, fixed,
              (lo, hi), tolerance_meV) for a in v1]
    start = time.perf_counter()
    if workers == 1:
        rows = [_row(t) for t in tasks]
    else:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_row, tasks, chunksize=max(1, len(tasks) // (4 * workers))))
    state = np.array([[r[0] for r in row] for row in rows], dtype=int)
    nb = np.array([[r[1] for r in row] for row in rows])
    under = np.array([[r[2] for r in row] for row in rows]).transpose(2, 0, 1)
    return PinchoffDiagram(gates, v1, v2, state, nb, under, fixed, heterostructure.record(),
                           (lo, hi), time.perf_counter() - start, v1.size * v2.size)
