"""The shared energy grid: Gauss-Legendre panels between lead thresholds.

One :class:`EnergyGrid` serves every gate point of a sweep (same Fermi energy,
same thermal/bias window) and every temperature of a temperature series: the
nodes are the same floats at every point, so the solver's lead-mode cache (per
energy) is filled once and reused, and each point costs one solve per node.

Panels
------
The window ``[mu - K kT_max - |eV|/2, mu + K kT_max + |eV|/2]`` (``K`` from
the window tolerance: the Fermi window's weight beyond ``K kT`` is
``exp(-K)``) is cut at the lead subband thresholds (where T(E) has steps and
square-root kinks) and at the bias window's edges, then filled outward from
each kernel centre (mu, mu +- eV/2) with panels of ``order`` Gauss-Legendre
nodes. A panel's width is the largest for which the Gauss-Legendre error bound
of the thermal kernel -df/dE (poles at ``+- i pi kT`` from the real axis,
Bernstein-ellipse bound ``rho^(-2 order)``) times the kernel's size there stays
below ``tol`` for *every* requested temperature, and at most ``max_panel``
(meV, the resolution of T(E) itself): narrow panels near mu for the lowest
temperature, wide ones in the tails of the highest.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..units import thermal_energy_meV

__all__ = ["DEFAULT_ORDER", "DEFAULT_RESOLUTION", "DEFAULT_TOL", "EnergyGrid", "RULES", "build_grid",
           "fermi", "fermi_window"]

#: Quadrature rules: composite Gauss-Legendre panels, or nested uniform (trapezoidal) ladders.
RULES = ("gauss", "trapezoid")
#: Trapezoidal node spacing in kT: the rule's aliasing error for the kernel (poles at
#: +- i pi kT) is ~ 8 pi^2/h exp(-2 pi^2/h) of a constant, removed by the control variate;
#: what is left, from the variation of T(E), measured <= 6e-6 G0 at h = 1.25 on the bundled QPCs.
TRAPEZOID_STEP = 1.25
#: Half-width of each trapezoidal ladder in kT at and below 1 K (the tails beyond are summed
#: on the lattice with T(E) continued linearly from the end nodes). Above 1 K it grows as
#: 10 + ln(kT / kT(1 K)): the tail's error is its weight exp(-reach) times the change of
#: T(E) over a few kT, which grows with kT.
TRAPEZOID_REACH = 10.0
#: Largest node spacing (meV) of a trapezoidal grid: the resolution of T(E) itself, which sets
#: the cost above ~1.4 K where 1.25 kT would be coarser (QPC steps have widths ~hbar w_x / 2 pi).
DEFAULT_RESOLUTION = 0.15

#: Gauss-Legendre nodes per panel.
DEFAULT_ORDER = 5
#: Nodes per panel of a bias window (interpolated T(E): 1e-5 on 0.16 meV features).
DEFAULT_BIAS_ORDER = 8
#: Target error of one thermal integral (units of the integrand, e.g. e^2/h per channel).
DEFAULT_TOL = 1e-3
#: Ratio of the geometric panel grading toward a lead threshold.
GRADING_RATIO = 0.2
#: Largest panel (meV) of a bias window: the resolution of T(E) between the kernel centres.
DEFAULT_BIAS_PANEL = 0.4
#: Half-width of the Fermi window in kT_max (its weight beyond is 2 exp(-20) = 4e-9).
DEFAULT_WINDOW_KT = 20.0
#: Most energies (solves) a grid may have: a resolution, tolerance or panel width far below
#: what T(E) needs (e.g. a resolution in meV given as 1e-9) asked for billions and ran out of
#: memory; the defaults take 17-200.
MAX_GRID_NODES = 20_000


def fermi(energy, mu: float, kT: float):
    """Fermi function f(E) = 1/(1 + exp((E - mu)/kT)) (all in meV); a step at kT = 0."""
    energy = np.asarray(energy, dtype=float)
    if kT == 0:
        return np.where(energy < mu, 1.0, np.where(energy > mu, 0.0, 0.5))
    return 0.5 * (1.0 - np.tanh((energy - mu) / (2.0 * kT)))


def fermi_window(energy, mu: float, kT: float):
    """Thermal kernel -df/dE = 1/(4 kT cosh^2((E - mu)/2kT)) (1/meV)."""
    x = (np.asarray(energy, dtype=float) - mu) / (2.0 * kT)
    return 1.0 / (4.0 * kT * np.cosh(np.clip(x, -350, 350)) ** 2)


@dataclass(frozen=True)
class EnergyGrid:
    """Composite Gauss-Legendre nodes on panels.

    Attributes
    ----------
    nodes : ndarray
        Energies (meV), increasing.
    weights : ndarray
        Quadrature weights (meV): ``sum(w * g(nodes)) ~ int g dE`` over the window.
    edges : ndarray
        Panel edges (meV), ``len(edges) - 1`` panels of ``order`` nodes each.
    order : int
        Nodes per panel.
    mu : float
        Fermi energy the grid was designed around (meV).
    temperatures : tuple of float
        Temperatures it resolves (K).
    bias : float
        Largest |bias| window it covers (mV, i.e. |eV| in meV).
    tol : float
        Design error of one thermal integral.
    breakpoints : ndarray
        Lead thresholds inside the window (meV): panel edges by construction.
    """

    nodes: np.ndarray
    weights: np.ndarray
    edges: np.ndarray
    order: int
    mu: float
    temperatures: tuple
    bias: float
    tol: float
    breakpoints: np.ndarray
    rule: str = "gauss"
    #: Trapezoidal ladders: temperature (K) -> (node indices, spacing (meV), lattice index of
    #: each node in units of the ladder's spacing).
    ladders: dict | None = None
    #: Lowest energy that carries current (meV): T(E) = 0 below.
    lower: float = -np.inf

    @property
    def size(self) -> int:
        return int(self.nodes.size)

    @property
    def window(self) -> tuple[float, float]:
        """(lowest, highest) energy of the window (meV)."""
        return float(self.edges[0]), float(self.edges[-1])

    def key(self) -> tuple:
        """Hashable identity (for caches): the panel edges and the order fix the nodes."""
        cached = self.__dict__.get("_key")
        if cached is None:
            if self.rule in ("trapezoid", "refined"):
                cached = (self.rule, tuple(float(e) for e in self.nodes))
            else:
                cached = (self.order, tuple(float(e) for e in self.edges))
            self.__dict__["_key"] = cached
        return cached

    @property
    def weight_name(self) -> str:
        """What ``weights`` are (the NetCDF long name of a saved grid's weights)."""
        return {"gauss": "Gauss-Legendre weight",
                "trapezoid": "trapezoid weight (cell width of the nested ladders)",
                "refined": "trapezoid weight (cell width of the refined nodes)"}[self.rule]

    def describe(self) -> dict:
        """JSON-able description (store headers, metadata)."""
        return {"rule": self.rule, "mu_meV": self.mu, "temperatures_K": list(self.temperatures),
                "bias_mV": self.bias, "order": self.order, "tol": self.tol,
                "nodes": self.size, "window_meV": list(self.window),
                "breakpoints_meV": [float(b) for b in self.breakpoints]}


_SAFETY = 50.0


def _rho(ratio):
    """Bernstein-ellipse parameter for a pole at distance ``ratio`` half-widths."""
    return ratio + np.sqrt(1.0 + ratio * ratio)


def _panel_error(half_width: float, distance: float, kTs: np.ndarray, order: int) -> float:
    """Error bound of ``order``-point Gauss-Legendre on the thermal kernel, over a panel of
    half-width ``half_width`` whose nearer edge lies ``distance`` (meV) from the kernel's centre."""
    rho = _rho(np.pi * kTs / half_width)
    size = np.exp(-np.maximum(distance, 0.0) / kTs) / kTs
    # 64/15 M rho^-2n / (rho^2 - 1) with M, the kernel's size on the ellipse, taken as
    # _SAFETY x its size on the real axis (calibrated: the true error stays below tol).
    return float(np.max(_SAFETY * 2 * half_width * size * 64.0 / 15.0 * rho ** (-2 * order)
                        / (rho**2 - 1)))


def _fill(start: float, stop: float, centre: float, kTs, order, tol, max_panel) -> list[float]:
    """Panel edges from ``start`` to ``stop`` (increasing or decreasing), widths by the error rule,
    distances measured from ``centre``."""
    sign = 1.0 if stop >= start else -1.0
    edges = [start]
    x = start
    while sign * (stop - x) > 1e-12:
        if len(edges) * order > MAX_GRID_NODES:
            raise ValueError(
                f"tol={tol:g}, max_panel={max_panel:g} meV are not allowed: the energy grid "
                f"would need more than {MAX_GRID_NODES} energies (solves) over "
                f"[{min(start, stop):.4g}, {max(start, stop):.4g}] meV; raise them, or lower "
                f"order={order}")
        remaining = abs(stop - x)
        dist = abs(x - centre) if sign * (x - centre) >= 0 else 0.0
        lo, hi = 1e-6 * kTs.min(), min(max_panel, remaining) / 2
        if _panel_error(hi, dist, kTs, order) <= tol:
            half = hi
        else:
            for _ in range(50):
                mid = math.sqrt(lo * hi)
                if _panel_error(mid, dist, kTs, order) <= tol:
                    lo = mid
                else:
                    hi = mid
            half = lo
        if 2 * half >= remaining * (1 - 1e-9):
            x = stop
        elif 4 * half >= remaining:     # split the rest evenly rather than leave a sliver
            x = x + sign * remaining / 2
        else:
            x = x + sign * 2 * half
        edges.append(x)
    return edges


def build_grid(mu: float, temperatures, *, bias: float = 0.0, thresholds=(), lower: float = -np.inf,
               order: int | None = None, tol: float = DEFAULT_TOL,
               max_panel: float | None = None, window_kT: float | None = None,
               grade: int | None = None, rule: str = "gauss",
               resolution: float | None = None, window_check=None) -> EnergyGrid:
    """The shared energy grid for Fermi energy ``mu`` and a set of temperatures.

    Parameters
    ----------
    mu : float
        Fermi energy (meV).
    temperatures : float or sequence of float
        Temperatures to resolve (K); 0 is allowed only with a bias (then the
        kernel is a box, resolved by ``max_panel``).
    bias : float
        Largest |V_sd| to cover (mV): the window grows by |eV|/2 on each side
        and mu +- eV/2 become kernel centres.
    thresholds : sequence of float
        Lead subband thresholds (meV): panel edges.
    lower : float
        No energy below it carries current (the first lead threshold, meV):
        the window is cut there.
    order : int, optional
        Gauss-Legendre nodes per panel: default :data:`DEFAULT_ORDER`, or
        :data:`DEFAULT_BIAS_ORDER` with a bias (the bias kernels use the
        interpolant of T(E), which converges half as fast as the nodal sums).
    tol : float
        Error target of one thermal integral of a bounded integrand.
    max_panel : float, optional
        Largest panel width (meV): the resolution of T(E) itself. Default:
        ``8 kT_max``, and at most :data:`DEFAULT_BIAS_PANEL` with a bias.
    window_kT : float, optional
        Half-width of the Fermi window in kT_max; default :data:`DEFAULT_WINDOW_KT`.
    grade : int, optional
        Geometric refinements (ratio :data:`GRADING_RATIO`) of the panels next to each
        threshold, where T(E) has square-root kinks (Wigner cusps) that a polynomial on a
        plain panel resolves only algebraically (default 0).
    rule : {"gauss", "trapezoid"}
        ``"gauss"``: the panels above. ``"trapezoid"`` (bias = 0 only): for each temperature a
        uniform ladder mu + j h (|j h| <= :data:`TRAPEZOID_REACH` kT, more above 1 K,
        h <= :data:`TRAPEZOID_STEP`
        kT and <= ``resolution``), the ladders nested (spacings the top temperature's halved
        0, 1, 2, ... times) so that they share nodes, every ladder through mu. The trapezoidal
        rule converges exponentially for the analytic Fermi kernel: 17 energies at 1 K
        against about 40 Gauss-Legendre nodes at the same error. ``order``, ``tol``,
        ``max_panel``, ``window_kT`` and ``grade`` do not apply.
    resolution : float, optional
        Trapezoid rule: the largest node spacing (meV), the resolution of T(E) itself;
        default :data:`DEFAULT_RESOLUTION`.
    window_check : callable, optional
        ``window_check(low, high)`` (meV) is called with the window's edges before its
        panels are built, to refuse a window (raise) before any work on it.
    """
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not allowed: use one of {RULES}")
    if rule == "trapezoid":
        return _trapezoid_grid(mu, temperatures, bias=bias, thresholds=thresholds, lower=lower,
                               resolution=resolution, window_check=window_check)
    mu, temps = _checked(mu, temperatures, _validate.non_negative)
    bias = abs(_validate.real_number("bias", bias, "mV"))
    if order is None:
        order = DEFAULT_BIAS_ORDER if bias > 0 else DEFAULT_ORDER
    order = _validate.positive_int("order", order)
    tol = _validate.positive("tol", tol)
    kTs_all = np.array([thermal_energy_meV(t) for t in temps])
    kTs = kTs_all[kTs_all > 0]
    if kTs.size == 0 and bias == 0:
        raise ValueError("temperature=0 K with bias=0 needs no energy grid: the conductance is "
                         "T(E_F); give a temperature > 0 or a bias")
    kT_max = float(kTs.max()) if kTs.size else 0.0
    if max_panel is None:
        max_panel = 8 * kT_max if kT_max > 0 else DEFAULT_BIAS_PANEL
        if bias > 0:
            max_panel = min(max_panel, DEFAULT_BIAS_PANEL)
    max_panel = _validate.positive("max_panel", max_panel, "meV")
    if window_kT is None:
        window_kT = DEFAULT_WINDOW_KT
    half = window_kT * kT_max + bias / 2
    lo, hi = max(mu - half, lower), mu + half
    if not hi > lo:
        raise ValueError(f"energy={mu:g} meV: the window [{mu - half:g}, {hi:g}] meV lies below "
                         f"the first lead mode ({lower:g} meV)")
    if window_check is not None:   # a huge window is refused before its panels are placed
        window_check(lo, hi)
    cuts = sorted({float(b) for b in thresholds if lo < b < hi})
    centres = sorted({mu - bias / 2, mu + bias / 2}) if bias > 0 else [mu]
    special = sorted(set([lo, hi] + cuts + [c for c in centres if lo < c < hi]))
    kT_rule = kTs if kTs.size else np.array([max_panel])   # T = 0: only max_panel matters
    edges = [special[0]]
    for a, b in itertools.pairwise(special):
        # Fill each interval from its end nearer to a kernel centre (its fine side).
        centre = min(centres, key=lambda c: min(abs(c - a), abs(c - b)))
        if abs(centre - a) <= abs(centre - b):
            part = _fill(a, b, centre, kT_rule, order, tol, max_panel)
        else:
            part = _fill(b, a, centre, kT_rule, order, tol, max_panel)[::-1]
        edges.extend(part[1:])
    grade = int(grade or 0)
    if grade < 0:
        raise ValueError(f"grade={grade!r} is not allowed: it must be >= 0")
    if grade and cuts:
        extra = []
        for c in cuts:
            k = int(np.searchsorted(edges, c))
            for neighbour in (edges[k - 1] if k > 0 else None,
                              edges[k + 1] if k + 1 < len(edges) else None):
                if neighbour is not None:
                    extra += [c + (neighbour - c) * GRADING_RATIO ** j for j in range(1, grade + 1)]
        edges = sorted(set(edges) | set(extra))
    if (len(edges) - 1) * order > MAX_GRID_NODES:     # the whole grid (each _fill: its part)
        raise ValueError(
            f"order={order}, tol={tol:g}, max_panel={max_panel:g} meV are not allowed: the "
            f"energy grid would need {(len(edges) - 1) * order} energies (solves), more than "
            f"{MAX_GRID_NODES}; lower the order or raise tol or max_panel")
    edges = np.array(edges)
    x, w = np.polynomial.legendre.leggauss(order)
    mid, halfw = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    nodes = (mid[:, None] + halfw[:, None] * x[None, :]).ravel()
    weights = (halfw[:, None] * w[None, :]).ravel()
    return EnergyGrid(nodes=nodes, weights=weights, edges=edges, order=order, mu=mu,
                      temperatures=tuple(float(t) for t in temps), bias=bias, tol=tol,
                      breakpoints=np.array(cuts), lower=float(lower))


_EXTRA = 2      # most lattice points a ladder end is extended by to take in a lead threshold


def _checked(mu, temperatures, rule):
    """(mu, temperatures array) checked: a real Fermi energy, at least one temperature, each
    passing ``rule`` (a validator)."""
    mu = _validate.real_number("energy", mu, "meV")
    try:
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"temperature={temperatures!r} is not allowed: give a temperature (K) "
                         "or a sequence of them") from None
    if temps.size == 0:
        raise ValueError("temperatures=[] is not allowed: give at least one temperature (K)")
    for t in temps:
        rule("temperature", t, "K")
    return mu, temps


def _trapezoid_grid(mu, temperatures, *, bias, thresholds, lower, resolution,
                    window_check=None) -> EnergyGrid:
    """Nested uniform ladders through mu, one per temperature (see :func:`build_grid`)."""
    mu, temps = _checked(mu, temperatures, _validate.positive)
    if _validate.real_number("bias", bias, "mV") != 0:
        raise ValueError(f"bias={bias:g} mV is not allowed with rule='trapezoid': a bias window "
                         "needs rule='gauss'")
    resolution = DEFAULT_RESOLUTION if resolution is None else resolution
    resolution = _validate.positive("resolution", resolution, "meV")
    if not mu > lower:
        raise ValueError(f"energy={mu:g} meV lies below the first lead mode ({lower:g} meV): no "
                         "current flows")
    temps = sorted({float(t) for t in temps})
    kTs = {t: thermal_energy_meV(t) for t in temps}
    top = min(TRAPEZOID_STEP * kTs[temps[-1]], resolution)
    halvings = {t: max(0, math.ceil(math.log2(top / min(TRAPEZOID_STEP * kTs[t], resolution))
                                    - 1e-9)) for t in temps}
    finest = max(halvings.values())
    unit = top / 2 ** finest                      # every node is mu + n * unit, n an integer
    # A lead threshold (or the band bottom) just beyond a ladder's end would be a step that the
    # tail continuation misses (clean leads): the ladder is extended to one lattice point past
    # it when that takes at most EXTRA more points (the step's weight beyond is then at most
    # exp(-reach - EXTRA h / kT), 4e-6 of a unit step at 1 K).
    steps = [float(b) for b in thresholds] + ([float(lower)] if np.isfinite(lower) else [])
    extents = {}
    for t in temps:
        stride = 2 ** (finest - halvings[t])
        h = stride * unit
        reach_kT = TRAPEZOID_REACH + max(0.0, math.log(kTs[t] / thermal_energy_meV(1.0)))
        reach = math.ceil(reach_kT * kTs[t] / h - 1e-9)
        up = down = reach
        for b in steps:
            d = (b - mu) / h
            if reach < d < reach + _EXTRA:
                up = max(up, math.floor(d) + 1)
            elif -reach - _EXTRA < d < -reach:
                down = max(down, math.floor(-d) + 1)
        extents[t] = (stride, down, up, reach_kT)
    # The window and the node count are checked before any array is made: a temperature of
    # 1e7 K or a resolution of 1e-9 meV asked for 1e9-1e10 nodes (GiB) before being refused.
    def first_kept(stride, down):
        """Index of the ladder's first node above ``lower``, as ``energies > lower`` keeps it."""
        n = -down * stride
        if np.isfinite(lower):
            n = stride * max(-down, math.floor((lower - mu) / (stride * unit)) - 1)
            while not mu + n * unit > lower:
                n += stride
        return n
    low = min(first_kept(stride, down) for stride, down, _, _ in extents.values())
    high = max(up * stride for stride, _, up, _ in extents.values())
    if window_check is not None:
        window_check(mu + low * unit, mu + high * unit)
    longest = max(extents, key=lambda t: extents[t][1] + extents[t][2])
    stride, down, up, reach_kT = extents[longest]
    if down + up + 1 > MAX_GRID_NODES:
        need = 2.04 * max(r * kTs[t] for t, (_, _, _, r) in extents.items()) / MAX_GRID_NODES
        digits = 10.0 ** (math.floor(math.log10(need)) - 1)
        raise ValueError(
            f"resolution={resolution:g} meV is not allowed at temperature={longest:g} K: its "
            f"ladder would need {down + up + 1} energies (solves), more than {MAX_GRID_NODES}; "
            f"use resolution >= {math.ceil(need / digits) * digits:.2g} meV")
    members = {t: (stride, np.arange(-down, up + 1) * stride)
               for t, (stride, down, up, _) in extents.items()}
    lattice = np.unique(np.concatenate([n for _, n in members.values()]))
    energies = mu + lattice * unit
    keep = energies > lower
    lattice, energies = lattice[keep], energies[keep]
    position = {int(n): k for k, n in enumerate(lattice)}
    ladders = {}
    for t, (stride, ns) in members.items():
        ns = ns[mu + ns * unit > lower]
        ladders[t] = (np.array([position[int(n)] for n in ns]), stride * unit, ns // stride)
    # Generic weights (cell widths): sum(w g(nodes)) ~ int g dE over [nodes[0], nodes[-1]].
    cells = np.diff(energies)
    weights = 0.5 * (np.concatenate([[0.0], cells]) + np.concatenate([cells, [0.0]]))
    cuts = np.array(sorted(float(b) for b in thresholds if energies[0] < b < energies[-1]))
    return EnergyGrid(nodes=energies, weights=weights, edges=energies[[0, -1]].copy(), order=0,
                      mu=mu, temperatures=tuple(temps), bias=0.0, tol=0.0, breakpoints=cuts,
                      rule="trapezoid", ladders=ladders, lower=float(lower))
