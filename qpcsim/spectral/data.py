"""Spectral data of one gate point: T(E) and T_n(E) on an :class:`EnergyGrid`.

Every finite-temperature and finite-bias observable is an integral of these
nodal values against a kernel, so none needs a new solve:

* **thermal integrals** ``int q(E) (E - mu)^k (-df/dE) dE`` at a temperature
  the grid was built for: the Gauss-Legendre sum over the nodes
  (:meth:`Spectrum.thermal`);
* **any other kernel** (the bias window f_L - f_R at a temperature below the
  grid's, T = 0 boxes, noise terms): the piecewise Legendre interpolant of the
  nodal values (exact polynomial of degree ``order - 1`` on each panel, panels
  ending at the lead thresholds) integrated on a fine sub-quadrature cut at the
  kernel's own edges (:meth:`Spectrum.integrate`).

Quantities ``q`` by name: ``transmission`` (T(E), lead 0 -> 1, summed over
channels), ``transmission_reverse``, ``noise_sum`` = sum_n T_n (1 - T_n),
``transmission_squared`` = sum_n T_n^2, or an array of nodal values.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from ..scattering import MIN_POINTS_PER_WAVELENGTH
from ..units import fermi_wavelength_nm, thermal_energy_meV
from .errors import kink_error, ladder_error, resolution_error
from .grid import EnergyGrid, fermi, fermi_window

__all__ = ["Spectrum"]

_SUB_ORDER = 8
#: Rules whose interpolant is a spline through the nodes (no panels): the trapezoidal ladders
#: and their adaptive refinement (:mod:`.refine`).
_NODAL = ("trapezoid", "refined")
# T(E) an integer to this on both sides of a lead threshold: a step there (no scattering).
_FLAT = 1e-8
# Grid-derived tables shared by every spectrum on the same grid (sub-quadratures, interpolation
# maps, kernel moments): a sweep's points reuse them. Bounded; cleared when full.
_SHARED: dict = {}
_SHARED_SIZE = 256


def _shared_get(key):
    return _SHARED.get(key)


def _shared_put(key, value):
    if len(_SHARED) >= _SHARED_SIZE:
        _SHARED.clear()
    _SHARED[key] = value
    return value


@dataclass
class Spectrum:
    """T(E) and the transmission eigenvalues T_n(E) at the nodes of ``grid``.

    Attributes
    ----------
    grid : EnergyGrid
        Nodes (meV), weights, panels.
    transmission : ndarray, shape (nodes,)
        Total transmission lead 0 -> lead 1 at each node (summed over modes
        and resolved spins).
    transmission_reverse : ndarray, shape (nodes,)
        Lead 1 -> lead 0.
    eigenvalues : ndarray, shape (nodes, channels)
        Eigenvalues of t^dagger t at each node, descending, zero-padded.
    spin_degenerate : bool
        True when one channel carries both spins (factor 2 in G0 = 2e^2/h
        units is already in the channel); False for Zeeman-resolved devices.
    unitarity_error : float
        Largest max|S^dagger S - 1| over the nodes.
    solves : int
        S-matrix solves that produced it.
    """

    grid: EnergyGrid
    transmission: np.ndarray
    transmission_reverse: np.ndarray
    eigenvalues: np.ndarray
    spin_degenerate: bool = True
    unitarity_error: float = 0.0
    solves: int = 0
    #: A trapezoidal ladder kept as it is after the convergence test of
    #: :func:`qpcsim.spectral.refine.refine_spectrum`: :meth:`thermal_error` adds the
    #: three-level test's estimate (:func:`~qpcsim.spectral.errors.ladder_error`) and the
    #: lead thresholds' kink term from ``kinks``
    #: (:func:`~qpcsim.spectral.refine.threshold_kinks`, None: no kink inside the ladder).
    ladder_tested: bool = False
    kinks: object = field(default=None, repr=False)

    # ------------------------------------------------------------ construction
    @classmethod
    def from_function(cls, grid: EnergyGrid, eigenvalues, spin_degenerate: bool = True):
        """A spectrum from a known ``eigenvalues(E) -> T_n`` (analytic models, tests).

        ``eigenvalues`` takes an energy array (meV) and returns (len(E), channels).
        """
        eig = np.atleast_2d(np.asarray(eigenvalues(grid.nodes), dtype=float))
        if eig.shape[0] != grid.size:
            eig = eig.T
        total = eig.sum(axis=1)
        return cls(grid, total, total.copy(), eig, spin_degenerate)

    # ------------------------------------------------------------ nodal values
    @property
    def energies(self) -> np.ndarray:
        """Node energies (meV)."""
        return self.grid.nodes

    @property
    def spin_factor(self) -> float:
        """Conductance per unit transmission in G0 = 2e^2/h: 1, or 1/2 when spins are resolved."""
        return 1.0 if self.spin_degenerate else 0.5

    def values(self, quantity) -> np.ndarray:
        """Nodal values of a named quantity (see the module docstring) or of an array."""
        if isinstance(quantity, str):
            if quantity == "transmission":
                return self.transmission
            if quantity == "transmission_reverse":
                return self.transmission_reverse
            if quantity == "noise_sum":
                return np.sum(self.eigenvalues * (1.0 - self.eigenvalues), axis=1)
            if quantity == "transmission_squared":
                return np.sum(self.eigenvalues ** 2, axis=1)
            raise ValueError(f"quantity={quantity!r} is not allowed: use 'transmission', "
                             "'transmission_reverse', 'noise_sum', 'transmission_squared' or an "
                             "array of nodal values")
        values = np.asarray(quantity, dtype=float)
        if values.shape != (self.grid.size,):
            raise ValueError(f"quantity has shape {values.shape}: nodal values need shape "
                             f"({self.grid.size},)")
        return values

    # ------------------------------------------------------------ thermal sums
    @classmethod
    def checked(cls, value, name: str = "spectrum") -> "Spectrum":
        """``value`` if it is a Spectrum, else a one-line ValueError naming ``name``."""
        if not isinstance(value, cls):
            raise ValueError(f"{name}={value!r} is not allowed: give a qpcsim.Spectrum, e.g. "
                             "qpcsim.spectrum(device, energy, temperature)")
        return value

    def check_temperature(self, temperature: float) -> float:
        """kT (meV) for ``temperature`` (K) if the grid resolves it, else a one-line ValueError."""
        from ..units import thermal_energy_meV
        kT = thermal_energy_meV(_validate.non_negative("temperature", temperature, "K"))
        kts = [thermal_energy_meV(t) for t in self.grid.temperatures if t > 0]
        if kT == 0 or not kts or kT < min(kts) * (1 - 1e-9) or kT > max(kts) * (1 + 1e-9):
            raise ValueError(
                f"temperature={temperature:g} K is not resolved by this energy grid (built for "
                f"{list(self.grid.temperatures)} K): build the spectrum with it")
        return kT

    def thermal(self, quantity="transmission", temperature: float = 1.0, moment: int = 0,
                mu: float | None = None) -> float:
        """``int q(E) (E - mu)^moment (-df/dE) dE`` (meV^moment) by the grid's nodes.

        ``temperature`` (K) must lie within the grid's temperatures' range (the
        panels are sized for those); ``mu`` (meV) defaults to the grid's.
        """
        kT = self.check_temperature(temperature)
        mu = self.grid.mu if mu is None else float(mu)
        if self.grid.rule in _NODAL:
            return self._trapezoid(quantity, temperature, kT, moment, mu)[0]
        e, w = self.grid.nodes, self.grid.weights
        q = self.values(quantity)
        kernel = (e - mu) ** moment * fermi_window(e, mu, kT)
        value = float(np.sum(w * q * kernel))
        # Control variate: the kernel's own moment over the window is computed to ~1e-14 on a
        # fine sub-quadrature, so the quadrature error of q(mu) x kernel is removed (exact for q
        # constant near mu).
        key = ("moment", self.grid.key(), kT, mu, moment)
        exact = _shared_get(key)
        if exact is None:
            nodes, sub_w = self.sub_quadrature((mu,), kT / 4)
            exact = _shared_put(key, float(
                np.sum(sub_w * (nodes - mu) ** moment * fermi_window(nodes, mu, kT))))
        value += float(self.interpolate(q, [mu])[0]) * (exact - float(np.sum(w * kernel)))
        return value

    def _trapezoid(self, quantity, temperature: float, kT: float, moment: int, mu: float):
        """(value, error estimate) of a thermal integral on a trapezoidal grid's ladder.

        ``int q K_k`` with K_k = (E - mu)^k (-df/dE) is written as q(mu) M_k (the kernel's exact
        moment) plus the trapezoidal sum of (q - q(mu)) K_k over the ladder, continued beyond
        its ends with q held at the end nodes' values (the lattice sums of K_k there are
        exact). The error estimate compares the ladder with its even half (spacing 2h): for an
        integrand analytic in a strip the trapezoidal error falls as exp(-c/h), so the error at
        h is about (difference)^2 / (scale of the integrand)."""
        grid = self.grid
        ladder = grid.ladders.get(float(temperature)) if grid.ladders else None
        if ladder is None or mu != grid.mu:
            # Not a design temperature (or another mu): product integration of the interpolant.
            def kernel(e):
                return (e - mu) ** moment * fermi_window(e, mu, kT)
            return self.integrate(quantity, kernel, (mu,), kT / 4), None
        index, step, j = ladder
        q = self.values(quantity)
        centre = int(np.flatnonzero(j == 0)[0])
        q0 = float(q[index[centre]])
        x = j * step
        kern = x ** moment * fermi_window(mu + x, mu, kT)
        dq = q[index] - q0
        key = ("tails", grid.key(), float(temperature), moment)
        tails = _shared_get(key)
        if tails is None:
            far = np.arange(1, int(60 * kT / step) + 2)

            def lattice_sums(start, sign):
                # sum over the lattice beyond the end node of h K_k, and of h K_k (x - x_end)
                xs = (start + sign * far) * step
                w = step * xs ** moment * fermi_window(mu + xs, mu, kT)
                return float(np.sum(w)), float(np.sum(w * (xs - start * step)))
            # cut by the band bottom (T = 0 below) when the lattice point below the first node
            # lies at or under it
            low_cut = not (mu + (j[0] - 1) * step > grid.lower)
            tails = _shared_put(key, (lattice_sums(j[-1], 1), lattice_sums(j[0], -1), low_cut,
                                      _kernel_moment(moment, kT)))
        (upper, upper_lever), (lower_sum, lower_lever), low_cut, exact = tails
        # Beyond the ladder q is continued linearly with its end nodes' slope (T = 0 below the
        # band bottom when the ladder is cut there).
        # (no slope across a threshold in the last cell: a step there is corrected separately)
        def across(a, b):
            return any(a < c - mu < b for c in grid.breakpoints)
        slope_hi = 0.0 if across(x[-2], x[-1]) else float(dq[-1] - dq[-2]) / step
        beyond = float(dq[-1]) * upper + slope_hi * upper_lever
        if low_cut:
            beyond -= q0 * lower_sum
        else:
            slope_lo = 0.0 if across(x[0], x[1]) else float(dq[0] - dq[1]) / step  # per -x
            beyond += float(dq[0]) * lower_sum - slope_lo * lower_lever
        jumps = self._threshold_jumps(q[index], j, step, mu, kT, moment, float(temperature),
                                      low_cut)
        value = q0 * exact + step * float(np.sum(kern * dq)) + beyond + jumps[0]
        even = (j % 2) == 0
        coarse = (q0 * exact + 2 * step * float(np.sum(kern[even] * dq[even])) + beyond
                  + jumps[1])
        size = max(1.0, float(np.max(np.abs(q)))) * max(abs(exact), kT ** moment)
        # Truncation: the continuation's error is the change of the end slope over the tail,
        # (second difference / h^2) x kT^2 x the tail's weight (exp(-reach) x reach^k).
        reach = float(np.max(np.abs(x)))
        curvature = abs(float(dq[-1] - 2 * dq[-2] + dq[-3]))
        if not low_cut:
            curvature += abs(float(dq[0] - 2 * dq[1] + dq[2]))
        tail = curvature / step**2 * kT**2 * reach ** moment * math.exp(-reach / kT)
        error = (value - coarse) ** 2 / size + tail
        return value, error

    def _threshold_jumps(self, q, j, step, mu, kT, moment, temperature, low_cut):
        """Trapezoidal corrections (ladder h, its even half 2h) for the steps of q at the lead
        thresholds (and the band bottom where the ladder is cut there). Where anything
        scatters, a new lead mode's transmission starts as sqrt(E - E_t) (zero velocity at its
        threshold): T(E) is continuous and needs no correction. Only where the region does not
        scatter (a clean wire: T counts the open modes, an integer on both sides) does it step,
        which the trapezoidal sum would see only to O(h): the rule's exact error for a unit
        step, int_{E_t} K_k - h sum_{E_j > E_t} K_k(E_j), is added times the step. Thresholds
        in one node interval share its step equally (each opens the same number of clean-lead
        modes); for a step below mu the control variate's own aliasing of the kernel is
        removed as well (there q - q(mu) = -step)."""
        grid = self.grid
        energies = grid.nodes[grid.ladders[temperature][0]]    # the ladder's own node energies
        out = [0.0, 0.0]
        cells: dict = {}            # first ladder position above -> thresholds in that interval
        for b in grid.breakpoints:
            above = np.flatnonzero(energies > float(b))
            if above.size and above[0] > 0:
                cells.setdefault(int(above[0]), []).append(float(b) - mu)
        if low_cut:
            cells.setdefault(0, []).append(float(grid.lower) - mu)

        def integer(v):
            return abs(v - round(v)) <= _FLAT
        for a, ts in cells.items():
            upper = float(q[a])
            lower = float(q[a - 1]) if a > 0 else 0.0       # T = 0 below the band bottom
            jump = upper - lower
            if abs(jump) <= _FLAT or not (integer(upper) and integer(lower)):
                continue
            for t in ts:
                key = ("step", grid.key(), temperature, moment, t, int(j[a]))
                corr = _shared_get(key)
                if corr is None:
                    corr = _shared_put(key, _step_correction(t, int(j[a]), step, kT, moment))
                out[0] += jump / len(ts) * corr[0]
                out[1] += jump / len(ts) * corr[1]
        return out

    def thermal_error(self, quantity="transmission", temperature: float = 1.0,
                      moment: int = 0) -> float:
        """Error estimate of :meth:`thermal`: its difference from the same integral of the
        piecewise interpolant on a fine sub-quadrature (the interpolant's error; the
        Gauss-Legendre sum converges twice as fast, so this is an upper estimate)."""
        kT = self.check_temperature(temperature)
        mu = self.grid.mu
        if self.grid.rule == "refined":
            return resolution_error(self, quantity, temperature, moment)
        if self.grid.rule == "trapezoid":
            value, error = self._trapezoid(quantity, temperature, kT, moment, mu)
            if error is None:
                # not a ladder's temperature: the spline against the piecewise-linear interpolant
                def kernel(e):
                    return (e - mu) ** moment * fermi_window(e, mu, kT)
                nodes, weights = self.sub_quadrature((mu,), kT / 4)
                linear = np.interp(nodes, self.grid.nodes, self.values(quantity))
                error = abs(value - float(np.sum(weights * linear * kernel(nodes))))
            if self.ladder_tested:
                error = (error + ladder_error(self, quantity, temperature, moment)
                         + kink_error(self, self.kinks, quantity, temperature, moment))
            return error
        direct = self.thermal(quantity, temperature, moment)

        def kernel(e):
            return (e - mu) ** moment * fermi_window(e, mu, kT)
        fine = self.integrate(quantity, kernel, scale=kT)
        # Resolution of q itself: each panel's Legendre tail |c_n-1| + |c_n-2|, shrunk by its
        # observed decay rate (no shrinking when q is under-resolved), times the panel's weight.
        n = self.grid.order
        coefs = np.abs(self._coefficients(self.values(quantity)))
        panel_weight = np.abs((self.grid.weights * (self.grid.nodes - mu) ** moment
                               * fermi_window(self.grid.nodes, mu, kT)).reshape(-1, n).sum(axis=1))
        if n >= 4:
            tail = coefs[:, -1] + coefs[:, -2]
            ratio = np.minimum(1.0, tail / (coefs[:, -3] + coefs[:, -4] + 1e-300))
            resolution = float(np.sum(panel_weight * tail * ratio ** ((n + 1) / 2)))
        else:
            resolution = float(np.sum(panel_weight * coefs[:, -1]))
        # x2: the interpolant's own error (a few % of the difference in the tests) is not in it.
        return 2 * abs(direct - fine) + resolution + float(np.exp(-(self.grid.window[1] - mu) / kT))

    # ------------------------------------------------------------ interpolant
    def _coefficients(self, values: np.ndarray) -> np.ndarray:
        """Legendre coefficients per panel, shape (panels, order)."""
        n = self.grid.order
        vinv = _shared_get(("vinv", n))
        if vinv is None:
            x, _ = np.polynomial.legendre.leggauss(n)
            vinv = _shared_put(("vinv", n), np.linalg.inv(np.polynomial.legendre.legvander(x, n - 1)))
        return values.reshape(-1, n) @ vinv.T

    def _plan(self, energies: np.ndarray):
        """(panel index, Legendre-Vandermonde rows) of energies: the interpolation map."""
        edges = self.grid.edges
        panel = np.clip(np.searchsorted(edges, energies, side="right") - 1, 0, len(edges) - 2)
        a, b = edges[panel], edges[panel + 1]
        x = (2 * energies - a - b) / (b - a)
        return panel, np.polynomial.legendre.legvander(x, self.grid.order - 1)

    def interpolate(self, quantity, energies) -> np.ndarray:
        """The piecewise Legendre interpolant of a quantity at ``energies`` (meV) in the window;
        0 below the window's lower edge when that is the first lead threshold."""
        energies = np.asarray(energies, dtype=float)
        lo, hi = self.grid.window
        if np.any(energies < lo - 1e-12) or np.any(energies > hi + 1e-12):
            raise ValueError(f"energies outside the spectrum's window [{lo:.6g}, {hi:.6g}] meV: "
                             "build the spectrum with a wider window (temperature, bias)")
        if self.grid.rule in _NODAL:
            return self._spline(quantity)(energies)
        coefs = self._coefficients(self.values(quantity))
        panel, vander = self._plan(energies)
        return np.sum(vander * coefs[panel], axis=1)

    def _spline(self, quantity):
        """Interpolant through the nodes of a trapezoidal grid: a quintic spline on each stretch
        between lead thresholds (where T(E) steps or kinks), so no step rings into the next.
        Built once per named quantity (a series asks for it at every temperature)."""
        cache = self.__dict__.setdefault("_splines", {})
        if isinstance(quantity, str) and quantity in cache:
            return cache[quantity]
        # cubic on refined (non-uniform) nodes: the degree the refinement's test checks
        spline = _PiecewiseSpline(self.grid.nodes, np.asarray(self.values(quantity), dtype=float),
                                  self.grid.breakpoints,
                                  degree=3 if self.grid.rule == "refined" else 5)
        if isinstance(quantity, str):
            cache[quantity] = spline
        return spline

    def derivative(self, quantity, energy: float) -> float:
        """d q / dE (1/meV) of the interpolant at ``energy`` (meV)."""
        if self.grid.rule in _NODAL:
            return float(self._spline(quantity).derivative()(energy))
        edges = self.grid.edges
        panel = int(np.clip(np.searchsorted(edges, energy, side="right") - 1, 0, len(edges) - 2))
        a, b = edges[panel], edges[panel + 1]
        coefs = self._coefficients(self.values(quantity))[panel]
        x = (2 * energy - a - b) / (b - a)
        return float(np.polynomial.legendre.legval(x, np.polynomial.legendre.legder(coefs))
                     * 2 / (b - a))

    def sub_quadrature(self, cuts=(), scale: float | None = None):
        """Fine nodes and weights (meV) over the window: each panel cut at ``cuts`` (meV,
        the kernel's edges) and into pieces no wider than ``scale`` (meV, the kernel's width)."""
        key = ("sub", self.grid.key(), tuple(float(c) for c in cuts), scale)
        cached = _shared_get(key)
        if cached is not None:
            return cached[0], cached[1]
        lo, hi = self.grid.window
        nodal = self.grid.rule in _NODAL
        edges = list(self.grid.nodes if nodal else self.grid.edges)
        if nodal:
            # q held at the end nodes' values out to 25 kT_max beyond them (0 below the band).
            reach = 25 * max(thermal_energy_meV(t) for t in self.grid.temperatures)
            edges = [max(lo - reach, self.grid.lower)] * (lo > self.grid.lower) + edges + [hi + reach]
        pts = sorted(set(edges) | {float(c) for c in (*cuts, *self.grid.breakpoints)
                                   if edges[0] < c < edges[-1]})
        x, w = np.polynomial.legendre.leggauss(_SUB_ORDER)
        nodes, weights = [], []
        for a, b in itertools.pairwise(pts):
            pieces = 1 if not scale else max(1, int(np.ceil((b - a) / scale)))
            sub = np.linspace(a, b, pieces + 1)
            mid, half = 0.5 * (sub[1:] + sub[:-1]), 0.5 * (sub[1:] - sub[:-1])
            nodes.append((mid[:, None] + half[:, None] * x).ravel())
            weights.append((half[:, None] * w).ravel())
        nodes, weights = np.concatenate(nodes), np.concatenate(weights)
        plan = (None, None) if nodal else self._plan(nodes)
        _shared_put(key, (nodes, weights) + plan)
        return nodes, weights

    def integrate(self, quantity, kernel, cuts=(), scale: float | None = None) -> float:
        """``int q(E) kernel(E) dE`` over the window with the interpolant of ``q``.

        Parameters
        ----------
        quantity : str or ndarray
            A named quantity or nodal values.
        kernel : callable
            ``kernel(E)`` on an energy array (meV).
        cuts : sequence of float
            Energies (meV) where the kernel has kinks or steps.
        scale : float, optional
            The kernel's narrowest feature (meV), e.g. kT.
        """
        nodes, weights = self.sub_quadrature(cuts, scale)
        if self.grid.rule in _NODAL:
            lo, hi = self.grid.window
            values = self._spline(quantity)(np.clip(nodes, lo, hi))
            return float(np.sum(weights * values * kernel(nodes)))
        _, _, panel, vander = _shared_get(("sub", self.grid.key(), tuple(float(c) for c in cuts),
                                           scale))
        coefs = self._coefficients(self.values(quantity))
        values = np.sum(vander * coefs[panel], axis=1)
        return float(np.sum(weights * values * kernel(nodes)))

    # ------------------------------------------------------------ conductance
    def conductance(self, temperature: float) -> float:
        """Linear-response conductance (G0) at ``temperature`` (K)."""
        return self.spin_factor * self.thermal("transmission", temperature)

    def bias_window(self, mu_left: float, mu_right: float, kT: float):
        """Kernel f_L - f_R (dimensionless) at kT (meV), its cuts and its scale."""
        def kernel(e):
            return fermi(e, mu_left, kT) - fermi(e, mu_right, kT)
        scale = None if kT == 0 else max(kT, 1e-9)
        return kernel, (mu_left, mu_right), scale


class _PiecewiseSpline:
    """Quintic interpolating splines between breakpoints (a constant on a one-node stretch);
    callable on energies, with ``derivative()``."""

    def __init__(self, nodes, values, breakpoints, order: int = 0, pieces=None, degree: int = 5):
        import scipy.interpolate
        self.order = order
        if pieces is None:
            cuts = np.searchsorted(nodes, breakpoints)
            pieces = []
            for (lo, hi), start in zip(itertools.pairwise([0, *cuts, nodes.size]),
                                       [-np.inf, *breakpoints]):
                n = hi - lo
                if n == 0:
                    continue
                # degree 5, or the most the stretch allows (SciPy has no k = 4 interpolant)
                k = min(degree, n - 1)
                spline = None if n == 1 else scipy.interpolate.make_interp_spline(
                    nodes[lo:hi], values[lo:hi], k=k - (k == 4))
                pieces.append((float(start), float(values[lo]), spline))
        self.pieces = pieces
        self.starts = np.array([p[0] for p in pieces])

    def derivative(self, order: int = 1):
        return _PiecewiseSpline(None, None, None, self.order + order, self.pieces)

    def __call__(self, energies):
        energies = np.asarray(energies, dtype=float)
        which = np.clip(np.searchsorted(self.starts, energies, side="right") - 1, 0,
                        len(self.pieces) - 1)
        out = np.zeros(energies.shape)
        for k, (_, constant, spline) in enumerate(self.pieces):
            mask = which == k
            if not np.any(mask):
                continue
            if spline is None:
                out[mask] = constant if self.order == 0 else 0.0
            else:
                f = spline if self.order == 0 else spline.derivative(self.order)
                out[mask] = f(energies[mask])
        return out


def _step_correction(t: float, first: int, step: float, kT: float, moment: int) -> tuple:
    """The trapezoidal rule's error (ladder h, its even half 2h) for a unit step at t (meV
    from mu) whose first ladder node above is ``first`` (units of h): exact int_t K_k minus the
    lattice sum from that node on; for t < 0 also minus the kernel's own aliasing
    M_k - h sum K_k, which the control variate carried."""
    nodes, w = np.polynomial.legendre.leggauss(40)
    exact = 0.0
    for a, b in itertools.pairwise(np.linspace(t, max(t, 0.0) + 60 * kT, 31)):
        e = 0.5 * (a + b) + 0.5 * (b - a) * nodes
        exact += float(np.sum(0.5 * (b - a) * w * e ** moment * fermi_window(e, 0.0, kT)))
    count = int(np.ceil(60 * kT / step)) + 1
    n = np.arange(first, max(first, 0) + count + 1)
    kern = (n * step) ** moment * fermi_window(n * step, 0.0, kT)
    fine = exact - step * float(np.sum(kern))
    coarse = exact - 2 * step * float(np.sum(kern[n % 2 == 0]))
    if t < 0:
        m = np.arange(-count, count + 1)
        km = (m * step) ** moment * fermi_window(m * step, 0.0, kT)
        exact_moment = _kernel_moment(moment, kT)
        fine -= exact_moment - step * float(np.sum(km))
        coarse -= exact_moment - 2 * step * float(np.sum(km[m % 2 == 0]))
    return fine, coarse


def _kernel_moment(moment: int, kT: float) -> float:
    """int (E - mu)^k (-df/dE) dE over the real line (meV^k): 0 for odd k, else
    2 (1 - 2^(1-k)) k! zeta(k) kT^k (1 for k = 0; pi^2 kT^2 / 3 for k = 2)."""
    if moment == 0:
        return 1.0
    if moment % 2:
        return 0.0
    from scipy.special import zeta
    return float(2 * (1 - 2.0 ** (1 - moment)) * math.factorial(moment) * zeta(moment) * kT**moment)


def lead_energy_check(device, energies) -> None:
    """Raise if an energy (meV) of a window is not resolved on the lattice (λ_F < 4a)."""
    top = float(np.max(energies))
    if fermi_wavelength_nm(top, device.material) < MIN_POINTS_PER_WAVELENGTH * device.a:
        raise ValueError(
            f"the energy window reaches {top:.4g} meV, where the Fermi wavelength is below "
            f"{MIN_POINTS_PER_WAVELENGTH:g} a = {MIN_POINTS_PER_WAVELENGTH * device.a:g} nm "
            "(the lattice band is no longer parabolic): lower the temperature or the bias, or "
            "reduce a")
