"""Bridge to transport: a self-consistent potential as a :class:`qpcsim.Device` potential.

:class:`SelfConsistentPotential` is a picklable callable ``U(x, y, V_left=..., ...)``
(nm in, meV out, vectorized) whose keyword arguments are the gate voltages (V).
At each new voltage tuple it solves the Thomas–Fermi problem and caches the solution, so
a gate sweep costs one TF solve per point (a fraction of a transport solve). Pickling
(process pools) drops the grid and the cache; each worker rebuilds them on first use.

Reproducibility: a point's result is a function of its own voltages only, bit for bit,
whatever executor, worker count or order. Warm starts come from *anchors*: the voltage
lattice ``k * anchor_spacing_V`` (per gate). An anchor is solved cold (the unscreened
start, no history); every other point starts from its nearest anchor (per gate, round half
up) extrapolated to first order: the anchor's density plus its density derivative
(``ThomasFermiProblem.density_derivative``, one per gate or one along all gates with
``common``, cached with the anchor) times the voltage step. A point on an anchor is the
anchor. Newton then converges to the tolerance in 3-5 steps (4-6 from the anchor's density
alone, 6-7 cold); a symmetric point is solved on its mirror sector (``mirror.py``).
0.5 V minimised the demo sweep's cost (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import hashlib
import inspect
import math
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .. import validate as _validate
from ..device import Device
from ..potentials import flat_top_window
from .heterostructure import Heterostructure
from .layout import Layout
from .thomas_fermi import ElectrostaticsResult, ThomasFermiProblem, aligned_window

__all__ = ["SelfConsistentPotential", "self_consistent_device"]

ANCHOR_SPACING_V = 0.5     # V: warm-start anchor lattice (benchmarks/RESULTS.md)


def _code_digest() -> str:
    """Hash of this package's source: part of a device's fingerprint, so a sweep store
    written by other electrostatics code is not resumed."""
    from pathlib import Path
    h = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _layout_digest(layout: Layout) -> str:
    h = hashlib.sha256()
    for g in layout.gates:
        h.update(g.name.encode())
        for p in g.polygons:
            h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()[:16]


class SelfConsistentPotential:
    """Thomas–Fermi potential energy of a gated 2DEG as a function of the gate voltages.

    Parameters
    ----------
    layout : Layout
        Surface gates (nm).
    heterostructure : Heterostructure
        Depth (nm), density (cm^-2), material.
    window_nm : tuple
        ``(x0, x1, y0, y1)`` (nm) of the Thomas–Fermi solve; must contain the gates,
        their influence and every position the potential is asked at.
    resolution_nm : float
        Thomas–Fermi cell size (nm).
    voltages : mapping, optional
        Default gate voltages (V) by gate name; missing gates at 0 V.
    common : str, optional
        If given (e.g. ``"Vg"``), the potential takes one voltage parameter of that
        name applied to every gate, instead of one ``V_<gate>`` per gate.
    switch_off : tuple, optional
        ``(half_flat_nm, ramp_nm)``: multiply U by a C-infinity window in x (flat for
        |x| <= half_flat, zero beyond half_flat + ramp), so that U vanishes in the leads.
    tolerance_meV : float
        Residual of the Thomas–Fermi equations to reach (meV); tight by default so that a
        result is far below any transport scale.
    anchor_spacing_V : float
        Spacing (V) of the warm-start anchor lattice (see the module notes); results
        depend on it within the tolerance, never on the history.
    influence_tolerance : float
        Largest |n - n_s|/n_s on the window edge (dimensionless).
    cache_size : int
        Solutions kept (most recently used).

    Notes
    -----
    The potential is measured from the ungated band bottom: the transport energy must
    be ``heterostructure.fermi_energy_meV`` (= n_s/rho), which :attr:`fermi_energy_meV`
    returns.
    """

    def __init__(self, layout: Layout, heterostructure: Heterostructure, window_nm,
                 resolution_nm: float = 4.0, *, voltages: Mapping | None = None,
                 common: str | None = None, switch_off: tuple | None = None,
                 tolerance_meV: float = 1e-7, influence_tolerance: float = 0.05,
                 cache_size: int = 64, anchor_spacing_V: float = ANCHOR_SPACING_V):
        if not isinstance(layout, Layout):
            raise ValueError(f"layout={layout!r} is not allowed: it must be a Layout")
        if not isinstance(heterostructure, Heterostructure):
            raise ValueError(f"heterostructure={heterostructure!r} is not allowed: it must be "
                             "a Heterostructure")
        self.layout = layout
        self.heterostructure = heterostructure
        self.window_nm = tuple(float(v) for v in window_nm)
        self.resolution_nm = _validate.positive("resolution_nm", resolution_nm, "nm")
        self.defaults = layout.check_voltages(voltages)
        if common is not None and not (isinstance(common, str) and common.isidentifier()):
            raise ValueError(f"common={common!r} is not allowed: it must be a parameter name "
                             "(identifier) such as 'Vg', or None for one V_<gate> per gate")
        if common is not None and len(set(self.defaults.values())) > 1:
            raise ValueError(f"voltages={self.defaults} differ between gates, which is not "
                             f"allowed with common={common!r} (one voltage for every gate)")
        self.common = common
        if switch_off is not None:
            half, ramp = (float(v) for v in switch_off)
            _validate.non_negative("switch_off half_flat", half, "nm")
            _validate.non_negative("switch_off ramp", ramp, "nm")
            switch_off = (half, ramp)
        self.switch_off = switch_off
        self.tolerance_meV = _validate.positive("tolerance_meV", tolerance_meV, "meV")
        self.influence_tolerance = _validate.positive("influence_tolerance",
                                                      influence_tolerance)
        self.cache_size = _validate.positive_int("cache_size", cache_size)
        self.anchor_spacing_V = _validate.positive("anchor_spacing_V", anchor_spacing_V, "V")
        self._problem = None
        self._cache: OrderedDict = OrderedDict()
        self._derivatives: OrderedDict = OrderedDict()
        self._last_call = None       # (params, x, y, U) of the last __call__
        self._kept_stencil = None    # (x, y, BilinearStencil, switch-off) of the last positions
        self._solves = 0   # private: a device's fingerprint digests the public attributes
        self.problem()               # validate the window now, not inside a sweep
        self._settled = True

    def __setattr__(self, name, value):
        # Devices, stores and solver caches key on what the potential was built with: a
        # setting changed in place would reuse stale solutions and conductances silently.
        if not name.startswith("_") and self.__dict__.get("_settled"):
            raise AttributeError(
                f"{name} of a SelfConsistentPotential cannot change after it is built: its "
                f"solutions, and the devices and stores built on it, would go stale; build a "
                f"new potential with the {name} you want (and a new device on it)")
        super().__setattr__(name, value)

    def clear_cache(self) -> None:
        """Forget the cached solutions (results do not change: they never depend on it)."""
        self._cache.clear()
        self._derivatives.clear()
        self._last_call = None

    @property
    def solves(self) -> int:
        """Thomas–Fermi solves done so far (cache misses)."""
        return self._solves

    # ------------------------------------------------------------------ parameters
    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the voltage parameters (V)."""
        return (self.common,) if self.common else self.layout.parameters

    @property
    def __signature__(self):
        P = inspect.Parameter
        if self.common:
            first = next(iter(self.defaults.values()))
            params = [P(self.common, P.POSITIONAL_OR_KEYWORD, default=first)]
        else:
            params = [P(f"V_{n}", P.POSITIONAL_OR_KEYWORD, default=v)
                      for n, v in self.defaults.items()]
        return inspect.Signature([P("x", P.POSITIONAL_OR_KEYWORD),
                                  P("y", P.POSITIONAL_OR_KEYWORD)] + params)

    @property
    def units(self) -> dict[str, str]:
        return {p: "V" for p in self.parameters}

    @property
    def fermi_energy_meV(self) -> float:
        """The transport energy consistent with this potential: E_F = n_s/rho (meV)."""
        return self.heterostructure.fermi_energy_meV

    def describe(self) -> dict:
        """A JSON-able description for device metadata and fingerprints."""
        h = self.heterostructure
        return {"layout": list(self.layout.names), "layout_sha256": _layout_digest(self.layout),
                "depth_nm": h.depth_nm, "density_cm2": h.density_cm2,
                "material": repr(h.material), "surface": h.surface,
                "heterostructure": h.record(),
                "window_nm": list(self.window_nm), "resolution_nm": self.resolution_nm,
                "switch_off": list(self.switch_off) if self.switch_off else None,
                "tolerance_meV": self.tolerance_meV, "anchor_spacing_V": self.anchor_spacing_V,
                "fermi_energy_meV": self.fermi_energy_meV,
                "code_sha256": _code_digest()}

    def voltages_of(self, **params) -> dict[str, float]:
        """``{gate: V}`` from the potential's keyword parameters (unknown names refused)."""
        _validate.known_names(params, self.parameters, "voltage parameter")
        if self.common:
            v = _validate.real_number(self.common, params.get(
                self.common, next(iter(self.defaults.values()))), "V")
            return {n: v for n in self.layout.names}
        volts = dict(self.defaults)
        for key, value in params.items():
            volts[key[2:]] = _validate.real_number(key, value, "V")
        return self.layout.check_voltages(volts)

    # ------------------------------------------------------------------ solving
    def problem(self) -> ThomasFermiProblem:
        if self._problem is None:
            self._problem = ThomasFermiProblem(self.layout, self.heterostructure,
                                               self.window_nm, self.resolution_nm)
        return self._problem

    def solve(self, **params) -> ElectrostaticsResult:
        """The Thomas–Fermi solution at these voltages (cached; warm-started from the
        nearest anchor, so that it depends on these voltages only)."""
        volts = self.voltages_of(**params)
        key = tuple(round(volts[n], 12) for n in self.layout.names)
        anchor = tuple(round(math.floor(v / self.anchor_spacing_V + 0.5) * self.anchor_spacing_V,
                             12) for v in key)
        initial = None if anchor == key or key in self._cache else self._start(anchor, key)
        return self._cached_solve(key, initial)

    def _start(self, anchor: tuple, key: tuple) -> np.ndarray:
        """Warm start (cm^-2) of the point ``key`` from its anchor: the anchor's density
        plus its first-order change, the anchor's density derivative (one per gate, or one
        along all gates with ``common``) times the voltage step. A function of the anchor
        and the key only: the same bits whatever was solved before."""
        base = self._cached_solve(anchor, None)
        names = self.layout.names
        steps = [k - a for k, a in zip(key, anchor)]
        if self.common:
            moves = [(tuple(names), steps[0])]
        else:
            moves = [((name,), step) for name, step in zip(names, steps) if step != 0.0]
        density = base.density_grid_cm2.copy()
        for gates, step in moves:
            density += step * self._derivative(anchor, gates, base)
        return density

    def _derivative(self, anchor: tuple, gates: tuple, base) -> np.ndarray:
        """dn/dV (cm^-2/V) of the anchor's solution with all ``gates`` moving together
        (cached like the solutions)."""
        key = (anchor, gates)
        hit = self._derivatives.get(key)
        if hit is None:
            hit = self.problem().density_derivative(base, {n: 1.0 for n in gates})
            self._derivatives[key] = hit
            while len(self._derivatives) > self.cache_size:
                self._derivatives.popitem(last=False)
        return hit

    def _cached_solve(self, key: tuple, initial) -> ElectrostaticsResult:
        """The solution at the voltages ``key`` (V, in gate order) from ``initial``: the
        caller passes the same start for the same key, so a cache miss recomputes the same
        bits."""
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        volts = dict(zip(self.layout.names, key))
        result = self.problem().solve(volts, initial=initial, tolerance_meV=self.tolerance_meV,
                                      influence_tolerance=self.influence_tolerance)
        self._solves += 1
        self._cache[key] = result
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result

    def __call__(self, x, y, **params):
        """U(x, y) (meV, from the ungated band bottom) at positions in nm, for gate voltages
        given by name (V)."""
        # A solve evaluates it twice (sanity note, Hamiltonian): keep the last evaluation,
        # keyed on what decides it - the solution (resolved voltages, defaults included),
        # the switch-off window and the positions - never on the arguments as written.
        result = self.solve(**params)
        window = None if self.switch_off is None else tuple(self.switch_off)
        memo = self._last_call
        if memo is not None and memo[0] is result and memo[1] == window \
                and _same_array(memo[2], x) and _same_array(memo[3], y):
            return memo[4].copy()
        stencil, switch = self._stencil(result, x, y)
        u = stencil.apply(result.potential_grid_meV)
        if switch is not None:
            u = u * switch
        self._last_call = (result, window, np.array(x, dtype=float), np.array(y, dtype=float),
                           np.array(u))
        return u

    def _stencil(self, result: ElectrostaticsResult, x, y):
        """``(stencil, switch-off factors or None)`` at the positions (nm) ``x``, ``y``, kept
        while they stay the same (every point of a sweep: the device's sites) and the solve
        used the same mirrors: the indices, weights and window once. The stencil is folded
        onto those mirrors (``result.stencil(x, y, folded=True)``), so U is exactly mirror
        symmetric where the solve was, and equals ``result.potential_meV(x, y)`` times the
        window to rounding (the settings are fixed at construction)."""
        kept = self._kept_stencil
        if kept is not None and kept[4] == result.mirrors and _same_array(kept[0], x) \
                and _same_array(kept[1], y):
            return kept[2], kept[3]
        # folded onto the mirrors the solve used: mirror-image sites get the same bits
        stencil = result.stencil(x, y, folded=True)
        switch = None if self.switch_off is None else flat_top_window(x, *self.switch_off)
        self._kept_stencil = (np.array(x, dtype=float), np.array(y, dtype=float), stencil,
                              switch, result.mirrors)
        return stencil, switch

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_problem"] = None
        state["_cache"] = OrderedDict()
        state["_derivatives"] = OrderedDict()
        state["_last_call"] = None
        state["_kept_stencil"] = None
        return state

    def __repr__(self):
        return (f"SelfConsistentPotential({self.layout!r}, d={self.heterostructure.depth_nm:g} "
                f"nm, n_s={self.heterostructure.density_cm2:.3g} cm^-2, parameters "
                f"{self.parameters})")


def _same_array(kept: np.ndarray, value) -> bool:
    """Whether ``value`` equals the array ``kept``, shape and every element."""
    value = np.asarray(value)
    return value.shape == kept.shape and bool(np.array_equal(value, kept))


def _even_cells(window_nm: tuple, resolution_nm: float) -> tuple:
    """``window_nm`` (nm) widened by half a cell on both ends of each axis that would get an
    odd number of cells at ``resolution_nm`` (nm): its centre stays, and a layout symmetric
    about it can be solved on its mirror sector (which needs an even count, ``mirror.py``)
    and gives mirror-image sites the same bits."""
    x0, x1, y0, y1 = window_nm
    if round((x1 - x0) / resolution_nm) % 2:
        x0, x1 = x0 - resolution_nm / 2, x1 + resolution_nm / 2
    if round((y1 - y0) / resolution_nm) % 2:
        y0, y1 = y0 - resolution_nm / 2, y1 + resolution_nm / 2
    return x0, x1, y0, y1


def self_consistent_device(layout: Layout, heterostructure: Heterostructure, *,
                           width_nm: float, length_nm: float, a_nm: float,
                           window_nm=None, resolution_nm: float = 4.0,
                           voltages: Mapping | None = None, common: str | None = None,
                           switch_off_nm: float | None = None, margin_nm: float | None = None,
                           tolerance_meV: float = 1e-7, influence_tolerance: float = 0.05,
                           zeeman: bool = False, name: str = "self_consistent",
                           metadata: Mapping | None = None):
    """A :class:`qpcsim.Device` whose potential is the self-consistent Thomas–Fermi U.

    Parameters
    ----------
    layout : Layout
        Surface gates (nm), in the device's coordinates (x along the channel, the
        scattering region spans |x| <= length/2, |y| < width/2).
    heterostructure : Heterostructure
        Depth (nm), ungated density (cm^-2), material.
    width_nm, length_nm, a_nm : float
        Device width, length and lattice constant (nm), as for :class:`qpcsim.Device`.
    window_nm : tuple, optional
        Thomas–Fermi window ``(x0, x1, y0, y1)`` (nm); default: the union of the
        device and the gates, enlarged by ``margin_nm`` on each side, and by half a cell
        more at both ends of an axis that would otherwise get an odd number of cells
        (pinned surface: a symmetric layout is then solved on its mirror sector, 4-5x faster
        and exactly symmetric) or where that puts the gates' edges on cell boundaries
        (frozen surface: ``thomas_fermi.aligned_window``).
    resolution_nm : float
        Thomas–Fermi cell size (nm).
    voltages : mapping, optional
        Default gate voltages (V) by gate name.
    common : str, optional
        One voltage parameter (e.g. ``"Vg"``) for all gates instead of ``V_<gate>``.
    switch_off_nm : float, optional
        Length (nm) of a C-infinity ramp that brings U to zero at the leads
        (as in ``qpc_split_gate``); None keeps U as solved.
    margin_nm : float, optional
        Margin of the default window (nm); default 8 depths.
    tolerance_meV, influence_tolerance : float
        See :class:`SelfConsistentPotential`.
    zeeman : bool
        Resolve spins (adds ``E_Z``).
    name : str
        Device label.
    metadata : mapping, optional
        Extra metadata.

    Returns
    -------
    qpcsim.Device
        Potential parameters ``V_<gate>`` (or ``common``) in V; the transport energy
        is ``device.metadata["fermi_energy_meV"]`` = n_s/rho.
    """

    W = _validate.positive("width_nm", width_nm, "nm")
    L = _validate.positive("length_nm", length_nm, "nm")
    if window_nm is None:
        m = 8 * heterostructure.depth_nm if margin_nm is None else \
            _validate.non_negative("margin_nm", margin_nm, "nm")
        gx0, gx1, gy0, gy1 = layout.bounds_nm()
        window_nm = (min(gx0, -L / 2) - m, max(gx1, L / 2) + m,
                     min(gy0, -W / 2) - m, max(gy1, W / 2) + m)
        h = _validate.positive("resolution_nm", resolution_nm, "nm")
        # a frozen surface has no sector solve: its window puts the gates' edges on cell
        # boundaries where half a cell can
        window_nm = aligned_window(layout, heterostructure, window_nm, h) \
            if heterostructure.surface == "frozen" else _even_cells(window_nm, h)
    x0, x1, y0, y1 = (float(v) for v in window_nm)
    if x0 > -L / 2 or x1 < L / 2 or y0 > -W / 2 or y1 < W / 2:
        raise ValueError(f"window_nm={tuple(window_nm)} is not allowed: it must contain the "
                         f"device, x in [{-L / 2:g}, {L / 2:g}] and y in [{-W / 2:g}, {W / 2:g}] nm")
    switch = None
    if switch_off_nm is not None:
        ramp = _validate.non_negative("switch_off_nm", switch_off_nm, "nm")
        if 2 * ramp >= L:
            raise ValueError(f"switch_off_nm={ramp:g} is not allowed: it must be < length/2 = "
                             f"{L / 2:g} nm")
        switch = (L / 2 - ramp, ramp)
    pot = SelfConsistentPotential(layout, heterostructure, window_nm, resolution_nm,
                                  voltages=voltages, common=common, switch_off=switch,
                                  tolerance_meV=tolerance_meV,
                                  influence_tolerance=influence_tolerance)
    meta = {"electrostatics": pot.describe(), "fermi_energy_meV": pot.fermi_energy_meV}
    meta.update(metadata or {})
    return Device(width=W, length=L, a=a_nm, potential=pot, units=pot.units,
                  material=heterostructure.material, zeeman=zeeman, name=name, metadata=meta)
