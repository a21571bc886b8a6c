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
from dataclasses import dataclass

import numpy as np

from .grid import EnergyGrid, fermi, fermi_window

__all__ = ["Spectrum"]

_SUB_ORDER = 8
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
    def check_temperature(self, temperature: float) -> float:
        """kT (meV) for ``temperature`` (K) if the grid resolves it, else a one-line ValueError."""
        from ..units import thermal_energy_meV
        kT = thermal_energy_meV(temperature)
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

    def thermal_error(self, quantity="transmission", temperature: float = 1.0,
                      moment: int = 0) -> float:
        """Error estimate of :meth:`thermal`: its difference from the same integral of the
        piecewise interpolant on a fine sub-quadrature (the interpolant's error; the
        Gauss-Legendre sum converges twice as fast, so this is an upper estimate)."""
        kT = self.check_temperature(temperature)
        mu = self.grid.mu
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
        coefs = self._coefficients(self.values(quantity))
        panel, vander = self._plan(energies)
        return np.sum(vander * coefs[panel], axis=1)

    def derivative(self, quantity, energy: float) -> float:
        """d q / dE (1/meV) of the interpolant at ``energy`` (meV)."""
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
        edges = list(self.grid.edges)
        lo, hi = self.grid.window
        pts = sorted(set(edges) | {float(c) for c in cuts if lo < c < hi})
        x, w = np.polynomial.legendre.leggauss(_SUB_ORDER)
        nodes, weights = [], []
        for a, b in itertools.pairwise(pts):
            pieces = 1 if not scale else max(1, int(np.ceil((b - a) / scale)))
            sub = np.linspace(a, b, pieces + 1)
            mid, half = 0.5 * (sub[1:] + sub[:-1]), 0.5 * (sub[1:] - sub[:-1])
            nodes.append((mid[:, None] + half[:, None] * x).ravel())
            weights.append((half[:, None] * w).ravel())
        nodes, weights = np.concatenate(nodes), np.concatenate(weights)
        _shared_put(key, (nodes, weights) + self._plan(nodes))
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


def lead_energy_check(device, energies) -> None:
    """Raise if an energy (meV) of a window is not resolved on the lattice (λ_F < 4a)."""
    from ..solver import MIN_POINTS_PER_WAVELENGTH
    from ..units import fermi_wavelength_nm
    top = float(np.max(energies))
    if fermi_wavelength_nm(top, device.material) < MIN_POINTS_PER_WAVELENGTH * device.a:
        raise ValueError(
            f"the energy window reaches {top:.4g} meV, where the Fermi wavelength is below "
            f"{MIN_POINTS_PER_WAVELENGTH:g} a = {MIN_POINTS_PER_WAVELENGTH * device.a:g} nm "
            "(the lattice band is no longer parabolic): lower the temperature or the bias, or "
            "reduce a")
