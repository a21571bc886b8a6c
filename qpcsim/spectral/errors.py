"""Error estimates of a thermal integral over sampled T(E) (:mod:`.refine` acts on them,
:class:`~.data.Spectrum` reports them): the leave-one-out interpolation test on any nodes,
the three-level test of a trapezoidal ladder, and the square-root kinks at lead thresholds
that a ladder's three levels cannot see. Each takes a spectrum (``grid``, ``values``) and a
temperature (K), and returns an error in the units of the quantity (transmission; G0).
"""
from __future__ import annotations

import math

import numpy as np

from ..units import thermal_energy_meV
from .grid import fermi, fermi_window

__all__ = ["KINK_DELTA", "cell_errors", "kink_error", "ladder_error", "ladder_kinks",
           "leave_one_out", "resolution_error", "tail_errors"]


def _stretch_labels(nodes, breakpoints):
    """Index of the stretch between lead thresholds that each node lies in."""
    return np.searchsorted(np.asarray(breakpoints, dtype=float), nodes, side="right")


def leave_one_out(nodes, values, breakpoints=(), stride: int = 1) -> np.ndarray:
    """|value - cubic prediction from the two neighbours on each side| at every node.

    Neighbours are taken within the node's stretch between ``breakpoints`` (meV);
    near a stretch's end fewer are used (a quadratic, a line, a constant), a node
    alone in its stretch gets 0 (T(E) is constant between adjacent thresholds there).
    """
    nodes = np.asarray(nodes, dtype=float)
    values = np.asarray(values, dtype=float)
    labels = _stretch_labels(nodes, breakpoints)
    out = np.zeros(nodes.size)
    for j in range(nodes.size):
        same = [k for k in (j - 2 * stride, j - stride, j + stride, j + 2 * stride)
                if 0 <= k < nodes.size and labels[k] == labels[j]]
        if not same:
            continue
        xs, ys = nodes[same], values[same]
        prediction = 0.0
        for a, (xa, ya) in enumerate(zip(xs, ys)):
            basis = 1.0
            for b, xb in enumerate(xs):
                if b != a:
                    basis *= (nodes[j] - xb) / (xa - xb)
            prediction += ya * basis
        out[j] = abs(values[j] - prediction)
    return out


def _cell_weights(nodes, mu, kT, moment=0):
    """Fermi weight int_cell |E - mu|^moment (-df/dE) dE of each cell (bounded above)."""
    f = fermi(nodes, mu, kT)
    weight = np.abs(f[:-1] - f[1:])
    if moment:
        weight = weight * np.maximum(np.abs(nodes[:-1] - mu), np.abs(nodes[1:] - mu)) ** moment
    return weight


#: Safety factor on the leave-one-out bound: the spline's error inside a cell can exceed its
#: end nodes' test where a line shape's turn sits between them (measured 1.16x on a Fano dip).
_SAFETY = 2.0


def cell_errors(nodes, deviations, mu, kT, moment=0):
    return _SAFETY * np.maximum(deviations[:-1], deviations[1:]) * _cell_weights(nodes, mu, kT,
                                                                                  moment)


def resolution_error(spectrum, quantity, temperature, moment=0, tails=True) -> float:
    """Error bound of the thermal integral of ``quantity`` over the interpolant through
    ``spectrum``'s nodes at ``temperature`` (K): the cells' leave-one-out bounds plus,
    with ``tails``, the weight beyond the outermost nodes times the change of q a linear
    continuation over 3 kT would give (q is held at its end values there)."""
    grid = spectrum.grid
    kT = thermal_energy_meV(temperature)
    nodes, q = grid.nodes, spectrum.values(quantity)
    dev = leave_one_out(nodes, q, grid.breakpoints)
    error = float(np.sum(cell_errors(nodes, dev, grid.mu, kT, moment)))
    if tails and nodes.size > 1:
        error += sum(tail_errors(nodes, q, dev, grid, kT, moment))
    return error


def tail_errors(nodes, q, dev, grid, kT, moment=0) -> tuple[float, float]:
    """(above, below) the outermost nodes: their Fermi weight times the change of q that a
    linear continuation over 3 kT would give (q is held at its end values there); below,
    down to the band bottom, plus |q| itself (a mode's onset there is not sampled)."""
    scale = max(kT, abs(nodes[-1] - grid.mu)) ** moment
    slope_hi = abs(q[-1] - q[-2]) / (nodes[-1] - nodes[-2])
    above = float(fermi(nodes[-1], grid.mu, kT)) * scale * (3 * kT * slope_hi + dev[-1])
    below = 0.0
    if nodes[0] - grid.lower > 1e-9 * max(1.0, abs(grid.lower)):
        slope_lo = abs(q[1] - q[0]) / (nodes[1] - nodes[0])
        weight = float(fermi(max(grid.lower, nodes[0] - 60 * kT), grid.mu, kT)
                       - fermi(nodes[0], grid.mu, kT))
        below = weight * scale * (3 * kT * slope_lo + dev[0] + abs(q[0]))
    return above, below


#: Smallest ratio of a ladder's successive level differences trusted as exponential
#: convergence when a lead threshold lies inside it: algebraic orders 1.5 (a square-root kink)
#: to 3 give ratios 2.8 to 8 (measured 5.9 and 8.3 on a saddle QPC in a field next to a
#: threshold, 11.7-20 on the demo split gate at 1 K whose ladder converges exponentially).
_EXPONENTIAL_RATIO = 10.0


def ladder_error(spectrum, quantity, temperature, moment=0) -> float:
    """Error estimate of a trapezoidal ladder's thermal sum from its three nested levels.

    With the control variate (q - q(mu)) the trapezoidal error at spacing h falls as
    C exp(-2 pi w / h) for q analytic in a strip of half-width w (a resonance of width Γ
    has w = Γ/2). The differences d_a = |I_h - I_2h| ~ e(2h) and d_b = |I_2h - I_4h| ~ e(4h)
    give e(h) ~ e(2h) (e(2h)/e(4h))^2 without knowing C or w: ``d_a min(1, d_a/d_b)^2``.
    Where the levels do not converge (a feature narrower than ~h) this is d_a itself, of
    the order of the feature's weight.

    A lead threshold inside the ladder is a square-root kink of T(E) (a new lead mode's
    velocity starts at zero, and the Wigner cusp below it): its share of the error falls only
    as h^1.5, and three levels cannot tell that from slow exponential convergence. There the
    extrapolation is trusted only where the levels converge faster than any such algebraic
    order can (``d_b / d_a >= _EXPONENTIAL_RATIO``); otherwise the estimate is d_a itself,
    which bounds the error of I_h whenever the order is >= 1 (measured on a saddle QPC at
    B = 1 T, 1 K, a threshold 0.35 kT below mu: ratio 5.9, true error 8.3e-7, d_a 1.4e-5,
    the exponential extrapolation 4.0e-7). 0 when the grid has no ladder at ``temperature``."""
    grid = spectrum.grid
    ladder = grid.ladders.get(float(temperature)) if grid.ladders else None
    if ladder is None:
        return 0.0
    index, step, j = ladder
    kT = thermal_energy_meV(temperature)
    q = spectrum.values(quantity)[index]
    dq = q - q[j == 0][0]
    x = j * step
    kern = x ** moment * np.exp(-np.logaddexp(0, x / kT) - np.logaddexp(0, -x / kT)) / kT
    sums = [m * step * float(np.sum((kern * dq)[j % m == 0])) for m in (1, 2, 4)]
    d_a, d_b = abs(sums[0] - sums[1]), abs(sums[1] - sums[2])
    if d_b <= 0 or (grid.breakpoints.size and d_b < _EXPONENTIAL_RATIO * d_a):
        return d_a
    return d_a * min(1.0, d_a / d_b) ** 2


#: |zeta(-1/2)|: the trapezoidal error of a square-root kink c sqrt(E - E_t) sampled at
#: spacing h is at most 0.2079 |c| h^1.5 per side (the Hurwitz zeta(-1/2, a) over the
#: threshold's offset a in the cell), times the Fermi weight at E_t.
_KINK_CONSTANT = 0.2079
#: Safety factor on the kink term (measured 1.09-60x the true error on 12 saddle cases
#: with the four-point amplitudes, so 2 covers the three-point amplitudes' scatter).
_KINK_SAFETY = 2.0
#: Offset (meV) of the kink samples from a lead threshold: small, as the slope left after
#: :func:`_smooth_slope` reads as a kink of O(slope x sqrt(delta)), but not so small that
#: the new mode's vanishing velocity spoils unitarity (saddle QPC at 1 T, 6.309 meV:
#: 1.2e-8 at 1e-8 meV, above the 1e-8 check; 8.6e-10 at 1e-7 meV).
KINK_DELTA = 1e-7
#: A threshold whose kink term at unit amplitude, K(E_t) 0.2079 h^1.5, is below this share
#: of the tolerance gets no kink solves (far out in the Fermi tail; measured amplitudes are
#: 1e-3 to 4e-3 per sqrt(meV), so its term is below 1e-4 of the tolerance). The demo split
#: gate's threshold at +12.3 kT (3.7e-7 at unit amplitude) is skipped, the one at -2.93 kT
#: (3 solves, 18 -> 21) is not.
_KINK_NEGLIGIBLE = 1e-2


def _ladder_span(grid, temperature):
    index, step, _ = grid.ladders[float(temperature)]
    nodes = grid.nodes[index]
    return nodes.min(), nodes.max(), step


def ladder_kinks(grid, temperature, tolerance):
    """Lead thresholds (meV) inside the ladder at ``temperature`` whose kink can matter."""
    low, high, step = _ladder_span(grid, temperature)
    kT = thermal_energy_meV(temperature)
    edges = grid.breakpoints[(grid.breakpoints > low) & (grid.breakpoints < high)]
    unit = _KINK_CONSTANT * fermi_window(edges, grid.mu, kT) * step ** 1.5
    return edges[unit >= _KINK_NEGLIGIBLE * tolerance]


def _smooth_slope(spectrum, quantity, temperature, edges):
    """dq/dE (1/meV) at each threshold, from the cubic through the ladder's 4 nodes around
    it: removed from the kink samples, whose three-point amplitudes would otherwise read a
    slope s as kinks c+ = 3 s sqrt(d), c- = -s sqrt(d) (about 1.2e-5 G0 of false kink term
    on the demo split gate at d = 1e-7 meV, about 1e-7 after). The kink's own share of this
    slope, O(c / sqrt(h)), shifts the amplitudes by O(c sqrt(d / h)) only."""
    index = spectrum.grid.ladders[float(temperature)][0]
    nodes = spectrum.grid.nodes[index]
    order = np.argsort(nodes)
    nodes, q = nodes[order], spectrum.values(quantity)[index][order]
    start = np.clip(np.searchsorted(nodes, edges) - 2, 0, nodes.size - 4)
    slopes = []
    for edge, k in zip(edges, start):      # the cubic through the 4 nodes around E_t
        x = nodes[k:k + 4] - edge
        slopes.append(np.polyfit(x, q[k:k + 4], 3)[2])
    return np.array(slopes)


def kink_error(spectrum, kinks, quantity, temperature, moment=0) -> float:
    """Trapezoidal error of the ladder at ``temperature`` from the square-root kinks at lead
    thresholds, sampled by :func:`threshold_kinks`: 2 x 0.2079 K(E_t) (|c+| + |c-|) h^1.5.

    With q(E_t + s) = q0 + c+ sqrt(s) + O(s) above and q0 + c- sqrt(-s) + O(s) below,
    c+ = (q(E_t + 4d) - q(E_t + d)) / sqrt(d), q0 = q(E_t + d) - c+ sqrt(d) and
    c- = (q0 - q(E_t - d)) / sqrt(d), after removing the ladder's slope at E_t
    (:func:`_smooth_slope`); neglected: that slope's error times 3 sqrt(d) (c+) and sqrt(d)
    (c-), 3e-4 of it at d = 1e-7 meV, and the next orders of the threshold expansion,
    O(d) relative to c. K(E_t) = |E_t - mu|^moment
    (-df/dE)(E_t) (1/meV); h the ladder spacing (meV). 0 without kinks or ladder."""
    grid = spectrum.grid
    if kinks is None or not grid.ladders or float(temperature) not in grid.ladders:
        return 0.0
    low, high, step = _ladder_span(grid, temperature)
    edges = kinks.energies.reshape(-1, 3)[:, 0] + KINK_DELTA
    q = kinks.values(quantity).reshape(-1, 3) - _smooth_slope(spectrum, quantity, temperature,
                                                              edges)[:, None] * (
        kinks.energies.reshape(-1, 3) - edges[:, None])
    root = math.sqrt(KINK_DELTA)
    above = (q[:, 2] - q[:, 1]) / root
    below = (q[:, 1] - above * root - q[:, 0]) / root
    inside = (edges > low) & (edges < high)
    weight = (np.abs(edges - grid.mu) ** moment
              * fermi_window(edges, grid.mu, thermal_energy_meV(temperature)))
    amplitude = (np.abs(above) + np.abs(below))[inside]
    return float(_KINK_SAFETY * _KINK_CONSTANT * step ** 1.5 * np.sum(weight[inside] * amplitude))
