"""Self-consistent Thomas–Fermi screening of gate potentials by the 2DEG.

The density n(x, y) >= 0 (nm^-2) and the potential energy U(x, y) (meV, from the
ungated band bottom) satisfy

    n = rho (mu - U) Theta(mu - U),      mu = E_F = n_s / rho,
    U = U_gates + k * integral K(r - r') (n(r') - n_s) d^2r',   k = e^2/(4 pi eps),

with the pinned-surface kernel K(r) = 1/r - 1/sqrt(r^2 + 4 d^2) (the charge and
its image in the equipotential surface); a frozen surface replaces K and the gates'
potential by the gate-screened operators of ``surface.py`` (same functional, still convex).
These are the conditions for the minimum over n >= 0 of the strictly convex functional

    E[n] = integral [ n^2/(2 rho) + (U_gates - mu) n ] + (k/2) integral integral
           (n - n_s) K (n' - n_s),

(K is positive definite: K(q) = 2 pi (1 - exp(-2 q d))/q > 0), so the minimum
is unique and a monotone descent method reaches it from any start; no mixing,
no damping. The default is a projected Newton method (Bertsekas 1982) whose
inner conjugate-gradient solves are preconditioned by the exact inverse of the
padded (circulant) Hessian in Fourier space: 3-6 iterations per solve (on a mirror
sector, of the window padded by one depth instead of doubled: the same iterations, about
0.4 of the transform work; there, steps far from the answer also take their gradients
from single-precision products, and every gradient within 2 % of E_F is double). SciPy's
L-BFGS-B is the cross-check. A point whose bare potential is mirror symmetric (to rounding)
is solved on its half or quarter grid with cosine transforms (``mirror.py``): the same
minimizer (it is unique, hence symmetric), 4-5x cheaper on the demo.

Discretization: n is piecewise constant on the square cells of a grid over the
window, U is evaluated at the cell centres, and the kernel is integrated exactly
over each cell (closed forms for 1/r and 1/sqrt(r^2 + c^2)), so the 1/r
singularity costs nothing and a uniform density gets the exact integral. The
convolution is a zero-padded FFT (linear, not circular). Outside the window the
density is taken to be n_s: only n - n_s inside the window enters. The window
must therefore contain the gates and their influence; this is checked.

Scaled variables: s = n/n_s; the functional is divided by n_s E_F A_cell so its
gradient is s - 1 + U/E_F, i.e. (n/rho + U - mu)/E_F. The reported residual is
E_F times the largest projected gradient: max |n/rho + U - mu| over occupied
cells and max(mu - U, 0) over depleted ones (meV).
"""
from __future__ import annotations

import functools
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
import scipy.optimize

from .. import validate as _validate
from .bare import gate_potential
from .heterostructure import NM2_PER_CM2, Heterostructure
from .kernels import cell_kernel, padded_convolution
from .layout import Layout
from .mirror import MirrorSector, find_mirrors, mirror_deviations, sector_mirrors

__all__ = ["solve_thomas_fermi", "ElectrostaticsResult", "ThomasFermiProblem",
           "ConvergenceError", "cell_kernel", "BilinearStencil"]

_MAX_CELLS = 4_000_000
_PROBLEM_CACHE: OrderedDict = OrderedDict()
_PROBLEM_CACHE_SIZE = 4
PRECONDITIONER_MARGIN_DEPTHS = 1.0   # sector preconditioner's padding beyond the window (depths)
COARSE_RESIDUAL = 2e-2   # residual / E_F above which a sector's gradients may be single precision


class ConvergenceError(ValueError):
    """The Thomas–Fermi minimization stopped before its residual reached the tolerance."""


# ------------------------------------------------------------------ result
@dataclass
class ElectrostaticsResult:
    """A converged Thomas–Fermi solution on the window's cell grid.

    Attributes
    ----------
    x_nm, y_nm : ndarray
        Cell-centre coordinates (nm), 1-D.
    density_grid_cm2 : ndarray
        n at the cell centres (cm^-2), shape (len(x_nm), len(y_nm)).
    potential_grid_meV : ndarray
        U at the cell centres (meV from the ungated band bottom).
    bare_grid_meV : ndarray
        The unscreened gate potential energy -e phi_gates (meV).
    voltages : dict
        Gate voltages (V) by gate name.
    heterostructure : Heterostructure
    layout : Layout
    window_nm : tuple
        ``(x0, x1, y0, y1)`` (nm).
    iterations : int
        Outer iterations of the minimizer (projected Newton steps, or L-BFGS-B iterations).
    residual : float
        max |n/rho + U - mu| on occupied cells, max(mu - U, 0) on depleted ones (meV).
    tolerance_meV : float
        The residual the solve was asked to reach (meV).
    functional : ndarray
        The (scaled) energy functional after each iteration: monotonically decreasing.
    seconds : float
        Wall time of the minimization (s).
    warm_started : bool
        Whether an initial density was given.
    mirrors : tuple of bool
        ``(x, y)``: the mirror symmetries the solve used (half or quarter grid).
    """

    x_nm: np.ndarray
    y_nm: np.ndarray
    density_grid_cm2: np.ndarray
    potential_grid_meV: np.ndarray
    bare_grid_meV: np.ndarray
    voltages: dict
    heterostructure: Heterostructure
    layout: Layout
    window_nm: tuple
    iterations: int
    residual: float
    tolerance_meV: float
    functional: np.ndarray = field(repr=False)
    seconds: float = 0.0
    warm_started: bool = False
    mirrors: tuple = (False, False)

    @property
    def fermi_energy_meV(self) -> float:
        """mu = E_F = n_s/rho (meV): the transport energy of this potential."""
        return self.heterostructure.fermi_energy_meV

    def _interp(self, grid, x_nm, y_nm, what):
        return self._stencil(x_nm, y_nm, what).apply(grid)

    def stencil(self, x_nm, y_nm, folded: bool = False) -> BilinearStencil:
        """The bilinear interpolation from this window's cell grid to positions (nm), to
        apply to the grids of any solution of the same problem (a sweep's potentials):
        ``stencil(x, y).apply(r.potential_grid_meV)`` equals ``r.potential_meV(x, y)`` bit
        for bit.

        With ``folded=True`` the positions are first folded onto the side of each mirror
        this solve used (``mirrors``; a sector solve is symmetric by construction), so a
        position and its mirror image get the same bits (the transport back ends' mirror
        check then sees no asymmetry; unfolded, the weights' rounding leaves 2e-16-2e-14
        relative). Apply such a stencil only to grids with those mirrors (solutions solved
        on the same mirrors): there it equals the plain interpolation to rounding plus the
        bare potential's accepted asymmetry (at most 1e-3 of ``tolerance_meV``, included in
        ``residual``)."""
        folded = _validate.flag("folded", folded)
        return self._stencil(x_nm, y_nm, "potential", folded)

    def _stencil(self, x_nm, y_nm, what, folded=False):
        x = np.asarray(x_nm, dtype=float)
        y = np.asarray(y_nm, dtype=float)
        x, y = np.broadcast_arrays(x, y)
        x0, x1, y0, y1 = self.window_nm
        slack = 1e-9 * max(x1 - x0, y1 - y0)
        outside = (x < x0 - slack) | (x > x1 + slack) | (y < y0 - slack) | (y > y1 + slack)
        if np.any(outside | ~np.isfinite(x) | ~np.isfinite(y)):
            k = int(np.flatnonzero((outside | ~np.isfinite(x) | ~np.isfinite(y)).ravel())[0])
            raise ValueError(
                f"{what} asked at x={x.ravel()[k]:g} nm, y={y.ravel()[k]:g} nm, outside the "
                f"solved window x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}] nm")
        # the sector's mirrors are the window's centre lines (an even cell count)
        if folded and self.mirrors[0]:
            centre = 0.5 * (x0 + x1)
            x = centre + np.abs(x - centre)
        if folded and self.mirrors[1]:
            centre = 0.5 * (y0 + y1)
            y = centre + np.abs(y - centre)
        return BilinearStencil(self.x_nm, self.y_nm, x, y)

    def density_cm2(self, x_nm, y_nm) -> np.ndarray:
        """Sheet density n (cm^-2) at positions (nm, arrays), bilinear between cell centres."""
        return self._interp(self.density_grid_cm2, x_nm, y_nm, "density_cm2")

    def potential_meV(self, x_nm, y_nm) -> np.ndarray:
        """Self-consistent potential energy U (meV from the ungated band bottom) at (x, y) (nm)."""
        return self._interp(self.potential_grid_meV, x_nm, y_nm, "potential_meV")

    def bare_potential_meV(self, x_nm, y_nm) -> np.ndarray:
        """Unscreened gate potential energy (meV) at (x, y) (nm), from the grid."""
        return self._interp(self.bare_grid_meV, x_nm, y_nm, "bare_potential_meV")

    def summary(self) -> str:
        return (f"Thomas-Fermi: {self.x_nm.size}x{self.y_nm.size} cells, {self.iterations} "
                f"iterations, residual {self.residual:.2e} meV (tolerance "
                f"{self.tolerance_meV:.1e}), {self.seconds:.2f} s"
                + (" (warm start)" if self.warm_started else ""))


class BilinearStencil:
    """Bilinear interpolation from a uniform cell-centre grid to fixed positions, constant
    beyond the outer centres; built once (indices and weights), applied to many grids.

    Parameters
    ----------
    xc, yc : ndarray
        Cell-centre coordinates (nm), 1-D, uniformly spaced.
    x, y : ndarray
        Positions (nm), of one shape.
    """

    def __init__(self, xc, yc, x, y):
        hx = xc[1] - xc[0] if xc.size > 1 else 1.0
        hy = yc[1] - yc[0] if yc.size > 1 else 1.0
        fx = np.clip((x - xc[0]) / hx, 0.0, xc.size - 1.0)
        fy = np.clip((y - yc[0]) / hy, 0.0, yc.size - 1.0)
        i = np.minimum(fx.astype(int), max(xc.size - 2, 0))
        j = np.minimum(fy.astype(int), max(yc.size - 2, 0))
        tx, ty = fx - i, fy - j
        i1 = np.minimum(i + 1, xc.size - 1)
        j1 = np.minimum(j + 1, yc.size - 1)
        self.grid_shape = (xc.size, yc.size)
        # corners (i, j), (i1, j), (i, j1), (i1, j1): weights multiplied as the one-shot
        # formula did, ((1 - tx) * (1 - ty)) * value, so the result has the same bits
        self._cells = [np.ravel_multi_index(c, self.grid_shape)
                       for c in ((i, j), (i1, j), (i, j1), (i1, j1))]
        self._weights = [(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty]

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """The interpolated values at the positions (units of ``grid``, shape ``grid_shape``)."""
        grid = np.asarray(grid)
        if grid.shape != self.grid_shape:
            raise ValueError(f"grid of shape {grid.shape} is not allowed: this stencil "
                             f"interpolates from the cell grid of shape {self.grid_shape}")
        values = grid.ravel()
        (w0, w1, w2, w3), (c0, c1, c2, c3) = self._weights, self._cells
        return w0 * values[c0] + w1 * values[c1] + w2 * values[c2] + w3 * values[c3]


# ------------------------------------------------------------------ problem
def _check_window(window_nm, resolution_nm):
    try:
        x0, x1, y0, y1 = (float(v) for v in window_nm)
    except (TypeError, ValueError):
        raise ValueError(f"window_nm={window_nm!r} is not allowed: it must be (x0, x1, y0, y1) "
                         "in nm") from None
    if not all(np.isfinite([x0, x1, y0, y1])) or x1 <= x0 or y1 <= y0:
        raise ValueError(f"window_nm={window_nm!r} is not allowed: it must be finite with "
                         "x0 < x1 and y0 < y1 (nm)")
    h = _validate.positive("resolution_nm", resolution_nm, "nm")
    nx, ny = max(int(round((x1 - x0) / h)), 1), max(int(round((y1 - y0) / h)), 1)
    if nx < 8 or ny < 8:
        raise ValueError(f"resolution_nm={h:g} is not allowed for window_nm={window_nm!r}: it "
                         f"gives {nx}x{ny} cells, at least 8 per side are needed")
    if nx * ny > _MAX_CELLS:
        raise ValueError(f"resolution_nm={h:g} is not allowed for window_nm={window_nm!r}: it "
                         f"gives {nx * ny} cells, at most {_MAX_CELLS} are allowed")
    return (x0, x1, y0, y1), nx, ny


def aligned_window(layout: Layout, heterostructure: Heterostructure, window_nm,
                   resolution_nm: float) -> tuple:
    """A default window ``window_nm`` (nm) fitted to the surface model.

    A frozen surface's gates are the cells whose centre lies in them
    (``surface.gate_cell_mask``), so a gate's straight edge acts as the cell boundary
    nearest to it: exact where it lies on a boundary, half a cell out where it lies on a
    centre. The window is therefore widened by half a cell at both ends (its centre kept,
    so a symmetric layout stays symmetric on the grid) of each axis where that brings the
    gates' axis-parallel edges closer to cell boundaries, weighted by their lengths; ties
    keep the window. A pinned surface has no gate cells and keeps ``window_nm``.
    """
    if not isinstance(layout, Layout) or not isinstance(heterostructure, Heterostructure):
        raise ValueError(f"layout={layout!r}, heterostructure={heterostructure!r} are not "
                         "allowed: they must be a qpcsim.electrostatics Layout and "
                         "Heterostructure")
    window_nm = _check_window(window_nm, resolution_nm)[0]
    if heterostructure.surface != "frozen":
        return window_nm
    h = float(resolution_nm)
    x0, x1, y0, y1 = window_nm
    best = None
    for wx in (0.0, h / 2):
        for wy in (0.0, h / 2):
            window = (x0 - wx, x1 + wx, y0 - wy, y1 + wy)
            try:
                mismatch = _edge_mismatch(layout, window, h)
            except ValueError:           # a widened window over the cell limit: not a choice
                continue
            cost = (mismatch, wx + wy, wx)                        # ties: the least change
            if best is None or cost < best[0]:
                best = (cost, window)
    return best[1]


def _edge_mismatch(layout: Layout, window_nm, resolution_nm: float) -> float:
    """Sum over the gates' axis-parallel edges of length x distance to the nearest cell
    boundary of the window's grid (nm^2)."""
    (x0, x1, y0, y1), nx, ny = _check_window(window_nm, resolution_nm)
    hx, hy = (x1 - x0) / nx, (y1 - y0) / ny
    total = 0.0
    for gate in layout.gates:
        for poly in gate.polygons:
            step = np.roll(poly, -1, axis=0) - poly
            for axis, (origin, h) in enumerate(((x0, hx), (y0, hy))):
                # edges along the other axis: their coordinate on this one is fixed
                parallel = np.abs(step[:, axis]) <= 1e-12 * np.abs(step).max()
                offset = (poly[parallel, axis] - origin) / h
                total += float(np.sum(np.abs(offset - np.round(offset)) * h *
                                      np.abs(step[parallel, 1 - axis])))
    return total


def _extra_potential(function, X, Y) -> np.ndarray:
    """``function(X, Y)`` (meV) on the cell grid, finite and shaped like it (a scalar is
    broadcast), else a one-line ValueError naming ``extra_potential_meV``."""
    if not callable(function):
        raise ValueError(f"extra_potential_meV={function!r} is not allowed: it must be callable "
                         "as f(x, y) (nm arrays) -> meV")
    try:
        values = np.broadcast_to(np.asarray(function(X, Y), dtype=float), X.shape).copy()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"extra_potential_meV must return meV shaped like its x, y arrays "
                         f"{X.shape} (or a number): {exc}") from None
    if not np.all(np.isfinite(values)):
        raise ValueError("extra_potential_meV returned non-finite values (NaN or inf)")
    return values


class ThomasFermiProblem:
    """Everything about a Thomas–Fermi solve that does not depend on the voltages:
    the grid, the FFT of the cell kernel, each gate's bare potential on the grid.
    Build once, then :meth:`solve` at many voltages (a sweep).

    Parameters
    ----------
    layout : Layout
    heterostructure : Heterostructure
    window_nm : tuple
        ``(x0, x1, y0, y1)`` (nm): the solved region; it must contain the gates and
        their influence (n back to n_s on its edge).
    resolution_nm : float
        Cell size (nm); cells are adjusted to divide the window exactly.
    extra_potential_meV : callable, optional
        ``f(x_nm, y_nm) -> meV``, an additional external potential energy (e.g. a
        test perturbation or disorder) added to the gates'.
    """

    def __init__(self, layout: Layout, heterostructure: Heterostructure, window_nm,
                 resolution_nm: float = 4.0, extra_potential_meV=None):
        if not isinstance(layout, Layout):
            raise ValueError(f"layout={layout!r} is not allowed: it must be a "
                             "qpcsim.electrostatics.Layout")
        if not isinstance(heterostructure, Heterostructure):
            raise ValueError(f"heterostructure={heterostructure!r} is not allowed: it must be "
                             "a qpcsim.electrostatics.Heterostructure")
        (x0, x1, y0, y1), nx, ny = _check_window(window_nm, resolution_nm)
        for gate in layout.gates:
            gx0, gx1, gy0, gy1 = gate.bounds_nm()
            if gx0 < x0 or gx1 > x1 or gy0 < y0 or gy1 > y1:
                raise ValueError(
                    f"window_nm=({x0:g}, {x1:g}, {y0:g}, {y1:g}) does not contain gate "
                    f"{gate.name!r} (x {gx0:g}..{gx1:g}, y {gy0:g}..{gy1:g} nm): the window must "
                    "contain every gate and its influence (a few depths beyond)")
        self.layout = layout
        self.het = heterostructure
        self.window = (x0, x1, y0, y1)
        self.nx, self.ny = nx, ny
        self.hx, self.hy = (x1 - x0) / nx, (y1 - y0) / ny
        self.x = x0 + (np.arange(nx) + 0.5) * self.hx
        self.y = y0 + (np.arange(ny) + 0.5) * self.hy
        X, Y = np.meshgrid(self.x, self.y, indexing="ij")
        d = heterostructure.depth_nm
        self.frozen = None
        if heterostructure.surface == "frozen":
            from .surface import FrozenSurface
            self.frozen = FrozenSurface(
                layout, self.x, self.y, d, heterostructure.material.dielectric_constant,
                heterostructure.top_eps_r, heterostructure.coulomb_meV_nm
                * heterostructure.density_nm2 / heterostructure.fermi_energy_meV)
            self.gate_phi = self.frozen.gate_phi
        else:
            self.gate_phi = {g.name: gate_potential(X, Y, g, d) for g in layout.gates}
        self.extra = np.zeros((nx, ny)) if extra_potential_meV is None else \
            _extra_potential(extra_potential_meV, X, Y)
        # H(v) = (k n_s / E_F) * conv(K_cell, v): the Hartree energy in units of E_F
        if self.frozen is None:
            self._kernel_hat = scipy.fft.rfft2(self._scaled_kernel(nx, ny))
            # The kernel is even, so its transform is real; 1 + H > 0 (H positive definite).
            # Single precision: a preconditioner only steers CG, it never sets the answer.
            self._inv_hessian_hat = (1.0 / (1.0 + self._kernel_hat.real)).astype(np.float32)
            self._kernel_hat_single = self._kernel_hat.real.astype(np.float32)
        self.cg_iterations = 0
        self._pad_shape = (2 * nx, 2 * ny)         # zero-padded: linear, not circular
        self._sectors = {}                         # mirrors -> MirrorSector (built once)

    def _scaled_kernel(self, lx: int, ly: int) -> np.ndarray:
        """The cell kernel on the (2 lx, 2 ly) padded grid, times k n_s / E_F (nm^-1 ->
        Hartree energy in units of E_F per unit s)."""
        het = self.het
        return cell_kernel(lx, ly, self.hx, self.hy, het.depth_nm) * (
            het.coulomb_meV_nm * het.density_nm2 / het.fermi_energy_meV)

    @property
    def shape(self):
        return (self.nx, self.ny)

    @functools.cached_property
    def gate_cells(self) -> dict:
        """``{gate: boolean (nx, ny) mask}`` of the cells under each gate
        (``surface.gate_cell_mask``; a frozen surface's own, else made once)."""
        if self.frozen is not None:
            return self.frozen.masks
        from .surface import gate_cell_mask
        return gate_cell_mask(self.layout, self.x, self.y)

    def hartree(self, v: np.ndarray) -> np.ndarray:
        """k conv(K, v n_s)/E_F on the grid, for ``v`` = (n - n_s)/n_s of shape (nx, ny)."""
        if self.frozen is not None:              # the gates' charge screens the 2DEG's
            return self.frozen.hartree(v)
        return padded_convolution(v, self._kernel_hat, self._pad_shape)

    def bare_meV(self, voltages) -> np.ndarray:
        """Unscreened potential energy -1000 sum_g V_g phi_g + extra (meV) on the grid."""
        volts = self.layout.check_voltages(voltages)
        u = self.extra.copy()
        for name, phi in self.gate_phi.items():
            if volts[name] != 0.0:
                u -= 1000.0 * volts[name] * phi
        return u

    def solve(self, voltages, *, initial=None, tolerance_meV: float = 1e-4,
              max_iterations: int = 200, influence_tolerance: float = 0.05,
              check_window: bool = True, method: str = "newton",
              symmetry: bool = True) -> ElectrostaticsResult:
        """Minimize the Thomas–Fermi functional at ``voltages`` (V, by gate name).

        Parameters
        ----------
        voltages : mapping
            ``{gate: V}`` (V); missing gates at 0 V.
        initial : ElectrostaticsResult or ndarray, optional
            Warm start: a previous solution on the same grid, or a density (cm^-2)
            of shape ``(nx, ny)``.
        tolerance_meV : float
            Largest allowed residual of the Thomas–Fermi equations (meV).
        max_iterations : int
            Iteration budget (projected-Newton or L-BFGS-B iterations).
        influence_tolerance : float
            Largest allowed |n - n_s|/n_s on the window's edge cells (dimensionless).
        check_window : bool
            Apply that check (tests of pure linear response switch it off).
        method : str
            ``"newton"`` (default): projected Newton with Fourier-preconditioned CG on
            the free cells and an Armijo line search along the projection arc
            (Bertsekas, SIAM J. Control Optim. 20, 221 (1982)); ``"lbfgsb"``: SciPy's
            L-BFGS-B (slower, kept as an independent cross-check). Both decrease the
            functional monotonically and converge from any start (strict convexity).
        symmetry : bool
            Newton only: solve a point whose bare potential is mirror symmetric (to
            rounding) on its half or quarter grid (``mirror.py``; exact, 3-6x faster);
            False keeps the full grid (the cross-check).

        Raises
        ------
        ConvergenceError
            The residual did not reach ``tolerance_meV`` within ``max_iterations``.
        ValueError
            Bad voltages, or a window that does not contain the gates' influence.
        """
        tol = _validate.positive("tolerance_meV", tolerance_meV, "meV")
        max_iterations = _validate.positive_int("max_iterations", max_iterations)
        # (a NaN passed the window's influence check, which a window then never failed)
        influence_tolerance = _validate.positive("influence_tolerance", influence_tolerance)
        volts = self.layout.check_voltages(voltages)
        ef = self.het.fermi_energy_meV
        ns_cm2 = self.het.density_cm2
        bare = self.bare_meV(volts)
        nx, ny = self.nx, self.ny
        grid = None
        if initial is not None:
            grid = initial.density_grid_cm2 if isinstance(initial, ElectrostaticsResult) \
                else np.asarray(initial, dtype=float)
            if grid.shape != (nx, ny):
                raise ValueError(f"initial density of shape {grid.shape} is not allowed: it "
                                 f"must be on this problem's grid, shape {(nx, ny)}")
            if not np.all(np.isfinite(grid)):
                raise ValueError("initial density is not allowed: it must be finite "
                                 "(cm^-2) on every cell")
        start = time.perf_counter()
        sector, asymmetry = self._mirror_sector(bare, tol) if symmetry and method == "newton" \
            else (None, 0.0)
        # elementwise, so on the sector only (the same bits as folding the full grids)
        fold = (lambda full: full) if sector is None else sector.fold
        a = fold(bare) / ef - 1.0                           # linear coefficient of s
        # the start: the given density, or cold the unscreened guess; clipped
        s0 = np.clip(1.0 - fold(bare) / ef if grid is None else fold(grid) / ns_cm2, 0.0, None)
        if sector is not None:
            x, iterations, residual, history, hartree = self._sector_newton(
                sector, asymmetry, a, s0, tol, max_iterations)
        elif method == "newton":
            x, iterations, residual, history, hartree = self._projected_newton(
                a, s0.ravel(), tol, max_iterations)
        elif method == "lbfgsb":
            x, iterations, residual, history = self._lbfgsb(a, s0.ravel(), tol, max_iterations)
            hartree = None
        else:
            raise ValueError(f"method={method!r} is not allowed: it must be 'newton' "
                             "(projected Newton-CG) or 'lbfgsb' (SciPy's L-BFGS-B)")
        seconds = time.perf_counter() - start
        if not residual <= tol:   # NaN too
            raise ConvergenceError(
                f"Thomas-Fermi solve did not converge: residual max|n/rho + U - E_F| = "
                f"{residual:.3g} meV after {iterations} iterations, {residual / tol:.3g}x the "
                f"tolerance_meV={tol:g}; raise max_iterations={max_iterations} or the tolerance")
        s = x.reshape(nx, ny)
        # the minimizer's last Hartree energy is that of s: reuse it, bit for bit
        hartree = self.hartree(s - 1.0) if hartree is None else hartree.reshape(nx, ny)
        potential = bare + ef * hartree
        if check_window:
            edge = np.concatenate([s[0], s[-1], s[:, 0], s[:, -1]])
            dev = float(np.max(np.abs(edge - 1.0)))
            if dev > influence_tolerance:
                x0, x1, y0, y1 = self.window
                hint = ""
                if dev < 1.0:   # far field ~ 1/r^3 from the gates: r grows by (dev/tol)^(1/3)
                    ex = np.concatenate([np.full(self.ny, self.x[0]), np.full(self.ny, self.x[-1]),
                                         self.x, self.x])
                    ey = np.concatenate([self.y, self.y, np.full(self.nx, self.y[0]),
                                         np.full(self.nx, self.y[-1])])
                    k = int(np.argmax(np.abs(edge - 1.0)))
                    gx0, gx1, gy0, gy1 = self.layout.bounds_nm()
                    r = float(np.hypot(ex[k] - 0.5 * (gx0 + gx1), ey[k] - 0.5 * (gy0 + gy1)))
                    more = r * ((dev / influence_tolerance) ** (1 / 3) - 1)
                    hint = f" by about {more:.0f} nm on each side"
                raise ValueError(
                    f"window_nm=({x0:g}, {x1:g}, {y0:g}, {y1:g}) does not contain the gates' "
                    f"influence: on its edge |n - n_s| reaches {dev:.3g} n_s (allowed "
                    f"{influence_tolerance:g} n_s, influence_tolerance); enlarge the window{hint}")
        return ElectrostaticsResult(
            x_nm=self.x, y_nm=self.y, density_grid_cm2=s * ns_cm2, potential_grid_meV=potential,
            bare_grid_meV=bare, voltages=volts, heterostructure=self.het, layout=self.layout,
            window_nm=self.window, iterations=iterations, residual=residual, tolerance_meV=tol,
            functional=np.array(history), seconds=seconds, warm_started=grid is not None,
            mirrors=sector.mirrors if sector is not None else (False, False))

    def _mirror_sector(self, bare, tol):
        """The mirror sector of a point whose bare potential (meV) is symmetric to rounding
        (1e-3 of the tolerance), and its asymmetry (meV); ``(None, 0.0)`` if it has none."""
        if self.frozen is not None:
            return None, 0.0
        deviations = mirror_deviations(bare)
        sector = self._sector(sector_mirrors(tuple(d <= 1e-3 * tol for d in deviations),
                                             self.shape))
        if sector is None:
            return None, 0.0
        # |bare - its sector's unfolding| <= the sum of the used mirrors' deviations (a
        # cell's image is its x, y or xy mirror image: triangle inequality)
        asymmetry = sum(d for d, m in zip(deviations, sector.mirrors) if m)
        return (sector, asymmetry) if asymmetry <= 1e-3 * tol else (None, 0.0)

    def _sector(self, mirrors):
        """The (cached) MirrorSector of these mirrors; None for none."""
        if not any(mirrors):
            return None
        if mirrors not in self._sectors:
            self._sectors[mirrors] = MirrorSector(
                self._kernel_hat, self.shape, mirrors, kernel=self._scaled_kernel,
                margin_cells=int(np.ceil(PRECONDITIONER_MARGIN_DEPTHS * self.het.depth_nm
                                         / min(self.hx, self.hy))))
        return self._sectors[mirrors]

    def density_derivative(self, result: ElectrostaticsResult, direction) -> np.ndarray:
        """dn/dt (cm^-2 per unit t) of a solution along the voltages V + t * ``direction``,
        at fixed depleted cells: the exact slope of the (piecewise-linear) solution wherever
        no cell changes between depleted and occupied. A nearby point's warm start.

        Parameters
        ----------
        result : ElectrostaticsResult
            A solution of this problem.
        direction : mapping
            ``{gate: dV/dt}`` (V per unit t); missing gates 0.

        Returns
        -------
        ndarray
            (nx, ny), cm^-2 per unit t; 0 on depleted cells. Solved to 1e-3 relative
            (CG): a guess, never a result.
        """
        dirs = self.layout.check_voltages(direction)
        slope = np.zeros(self.shape)              # d bare / dt (meV per unit t)
        for name, phi in self.gate_phi.items():
            if dirs[name] != 0.0:
                slope -= 1000.0 * dirs[name] * phi
        scale = float(np.max(np.abs(slope)))
        sector = None if self.frozen is not None else self._sector(sector_mirrors(tuple(
            m and r for m, r in zip(find_mirrors(slope, 1e-12 * scale), result.mirrors)),
            self.shape))
        fold = (lambda grid: grid) if sector is None else sector.fold
        s = fold(result.density_grid_cm2).ravel()
        free = s > 0
        b = np.where(free, -fold(slope).ravel() / self.het.fermi_energy_meV, 0.0)
        t = self._free_cell_solve(b, free, 0.0, 1e-3, sector)
        t = t.reshape(self.shape) if sector is None else \
            sector.unfold(t.reshape(sector.sector_shape))
        return t * self.het.density_cm2

    def _sector_newton(self, sector, asymmetry, a, s0, tol, max_iterations):
        """Projected Newton on the mirror sector (``a`` and ``s0`` folded onto it);
        full-grid density, Hartree energy and functional back. The bare potential's
        asymmetry (meV) bounds the change of every gradient component, so the sector is
        solved to ``tol - asymmetry`` and the full problem's residual is at most the
        sector's plus the asymmetry."""
        x, iterations, residual, history, h = self._projected_newton(
            a, s0.ravel(), tol - asymmetry, max_iterations, sector)
        shape = sector.sector_shape
        return (sector.unfold(x.reshape(shape)).ravel(), iterations, residual + asymmetry,
                [sector.order * f for f in history], sector.unfold(h.reshape(shape)))

    # ------------------------------------------------------------------ minimizers
    def _fun(self, a: np.ndarray, s_flat: np.ndarray):
        """Scaled functional and its gradient at s = n/n_s (flat arrays)."""
        return self._terms(a, s_flat)[:2]

    def _terms(self, a: np.ndarray, s_flat: np.ndarray, sector=None, single=False):
        """Functional, gradient and Hartree energy (units of E_F) at s (flat arrays), on
        the full grid or a mirror ``sector`` (``single``: see :meth:`_gradient`)."""
        g, h = self._gradient(a, s_flat, sector, single)
        return self._value(a, s_flat, h), g, h

    @staticmethod
    def _value(a: np.ndarray, s_flat: np.ndarray, h: np.ndarray) -> float:
        """The scaled functional at s (flat) from its Hartree energy ``h``."""
        return float(s_flat @ (0.5 * s_flat + a) + 0.5 * ((s_flat - 1.0) @ h))

    def _gradient(self, a: np.ndarray, s_flat: np.ndarray, sector=None, single=False):
        """Gradient and Hartree energy (units of E_F) at s (flat arrays). ``single``: a
        sector's Hartree product in single precision (error ~4e-5 meV on the demo), for
        steps far from the answer only."""
        v = s_flat - 1.0
        if single:
            h = sector.product(v)
        elif sector is not None:
            h = sector.hartree(v.reshape(sector.sector_shape)).ravel()
        else:
            h = self.hartree(v.reshape(self.nx, self.ny)).ravel()
        return s_flat + a + h, h

    def _residual(self, s, g) -> float:
        # max(|g| on occupied cells, max(-g, 0) on depleted ones), without temporaries:
        # -g <= |g| everywhere, so it is max(-min g, max of g over occupied cells, 0)
        ef = self.het.fermi_energy_meV
        return ef * max(-float(g.min()), float(np.max(g, where=s > 0, initial=0.0)), 0.0)

    def _newton_product(self, d: np.ndarray, sector=None, approximate=False) -> np.ndarray:
        """H d for the inner CG (flat), in single precision: the CG only finds the Newton
        direction (to 1 %); gradients, line search and residual stay double. On a sector,
        ``approximate`` uses the margin-padded kernel (``MirrorSector.product``)."""
        if sector is not None:
            return sector.product(d, approximate)
        if self.frozen is not None:
            out = self.frozen.hartree(d.reshape(self.nx, self.ny), single=True)
            return out.ravel().astype(float)
        grid = d.reshape(self.nx, self.ny).astype(np.float32)
        out = padded_convolution(grid, self._kernel_hat_single, self._pad_shape)
        return out.ravel().astype(float)

    def _precondition(self, r: np.ndarray, sector=None) -> np.ndarray:
        """(1 + H)^-1 of the padded (circulant) problem, restricted to the window."""
        if sector is not None:
            return sector.precondition(r)
        if self.frozen is not None:
            return self.frozen.precondition(r)
        grid = r.reshape(self.nx, self.ny).astype(np.float32)
        out = padded_convolution(grid, self._inv_hessian_hat, self._pad_shape)
        return out.ravel().astype(float)

    def _free_cell_solve(self, b, free, atol, rtol, sector=None, approximate=False):
        """x with (1 + H) x = b on the ``free`` cells, 0 elsewhere: preconditioned CG
        (single-precision products, ``approximate`` ones on a sector), stopped at
        max|r| < ``atol`` or |r| < ``rtol`` |b|."""
        fixed = np.flatnonzero(~free)            # indices: cheaper than the mask, same bits
        x = np.zeros_like(b)
        r = b.copy()
        z = self._precondition(r, sector)
        z[fixed] = 0.0
        d = z.copy()
        rz = float(r @ z)
        bnorm = float(np.linalg.norm(b))
        for _ in range(100):
            if rz <= 0:
                break
            ad = self._newton_product(d, sector, approximate)   # (1 + H) d on free cells
            ad[fixed] = 0.0
            ad += d
            self.cg_iterations += 1
            alpha = rz / float(d @ ad)
            x += alpha * d
            r -= alpha * ad
            if max(float(r.max()), -float(r.min())) < atol or \
                    float(np.linalg.norm(r)) < rtol * bnorm:
                break
            z = self._precondition(r, sector)
            z[fixed] = 0.0
            rz_new = float(r @ z)
            d *= rz_new / rz
            d += z
            rz = rz_new
        return x

    def _projected_newton(self, a, s, tol, max_iterations, sector=None):
        """Projected Newton-CG for min f(s), s >= 0 (f strictly convex quadratic), on the
        full grid or a mirror ``sector``."""
        a = a.ravel()
        ef = self.het.fermi_energy_meV
        # On a sector, gradients and line searches use single-precision Hartree products
        # while the residual exceeds COARSE_RESIDUAL of E_F (their error, ~4e-5 meV, is far
        # below what such a step resolves); from there on double precision, recomputed at
        # the switch: every gradient that sets the answer, and the residual, are exact.
        # The functional's history accumulates each step's change of the quadratic; at the
        # switch it is shifted onto the exact value there (the single-precision steps'
        # changes, exact to ~1e-7 relative, keep it decreasing).
        single = sector is not None
        f, g, h = self._terms(a, s, sector, single)
        history = [f]
        exact_history = not single
        iterations = 0
        self.cg_iterations = 0
        while True:
            residual = self._residual(s, g)
            # (a tolerance above the switch still ends on exact products)
            if single and residual <= max(COARSE_RESIDUAL * ef, tol):
                single = False
                g, h = self._gradient(a, s, sector)
                continue
            if not single and not exact_history:    # first exact h: shift the history
                shift = self._value(a, s, h) - f
                history = [value + shift for value in history]
                f, exact_history = f + shift, True
            if residual <= tol or iterations >= max_iterations:
                break
            iterations += 1
            width = float(np.max(np.abs(s - np.clip(s - g, 0.0, None))))
            free = ~((s <= min(1e-3, width)) & (g > 0))     # cells not held at n = 0
            # On a sector, within 1 % of E_F (free cells settled), one accurate step ends the
            # solve (3 Newton steps instead of 4 on the demo). Not on the full grid: its
            # single-precision CG would leave U mirror symmetric only to ~1e-10 meV, which
            # the transport back ends' exact mirror check refuses.
            # Before that, a 1 % direction needs no exact Hessian: the margin-padded one
            # (MirrorSector.product) gives the same steps (exact gradient and line search).
            settled = sector is not None and residual <= 1e-2 * ef
            # Settled, the CG residual is the next gradient on the free cells: run it to
            # half the tolerance (not to a relative 1e-5, which left 1e-7..3e-7 meV on a
            # tenth of the demo's points and cost them another Newton step); 1e-7 relative
            # is the single-precision products' floor.
            x = self._free_cell_solve(np.where(free, -g, 0.0), free,
                                      (0.5 if settled else 0.2) * tol / ef,
                                      1e-7 if settled else 1e-2, sector, not settled)
            # a step from within 10x that residual usually lands inside it (the demo: 10-100x
            # smaller each step): its trial is evaluated exactly, saving the recomputation
            single = single and residual > 10 * COARSE_RESIDUAL * ef
            found = self._line_search(a, s, g, np.where(free, x, -g), sector, single)
            if found is None:                  # no decrease possible: at machine precision
                break
            s, change, g, h = found
            f += change
            history.append(f)
        return s, iterations, residual, history, h

    def _line_search(self, a, s, g, step, sector, single):
        """Armijo search along the projection arc of ``step``, else of -g: (trial, change
        of the functional, gradient and Hartree energy there), or None if neither
        decreases the functional."""
        for direction in (step, -g):       # Newton step, else projected gradient
            alpha = 1.0
            for _ in range(60):
                trial = np.clip(s + alpha * direction, 0.0, None)
                g_new, h_new = self._gradient(a, trial, sector, single)
                # Exact change of a quadratic, free of the cancellation in f_new - f:
                # f(s + D) - f(s) = g.D + D.(g_new - g)/2.
                delta = trial - s
                slope = float(g @ delta)
                change = slope + 0.5 * float(delta @ (g_new - g))
                if change <= 1e-4 * slope and slope < 0:
                    return trial, change, g_new, h_new
                alpha *= 0.5
        return None

    def _lbfgsb(self, a, s, tol, max_iterations):
        a = a.ravel()
        history = []

        def callback(intermediate_result):
            history.append(float(intermediate_result.fun))

        bounds = scipy.optimize.Bounds(np.zeros(s.size), np.full(s.size, np.inf))
        gtol = tol / self.het.fermi_energy_meV
        iterations = 0
        residual = np.inf
        for _ in range(8):                       # restarts only if L-BFGS-B stalls on ftol
            res = scipy.optimize.minimize(
                lambda v: self._fun(a, v), s, jac=True, method="L-BFGS-B", bounds=bounds,
                callback=callback, options=dict(maxiter=max_iterations - iterations,
                                                maxcor=10, ftol=1e-15, gtol=gtol, maxls=50))
            iterations += int(res.nit)
            s = np.clip(res.x, 0.0, None)
            residual = self._residual(s, self._fun(a, s)[1])
            if residual <= tol or iterations >= max_iterations or res.nit == 0:
                break
        return s, iterations, residual, history


def _problem(layout, heterostructure, window_nm, resolution_nm) -> ThomasFermiProblem:
    key = (layout, heterostructure, tuple(float(v) for v in window_nm), float(resolution_nm))
    try:
        prob = _PROBLEM_CACHE.pop(key)
    except (KeyError, TypeError):
        prob = ThomasFermiProblem(layout, heterostructure, window_nm, resolution_nm)
    _PROBLEM_CACHE[key] = prob
    while len(_PROBLEM_CACHE) > _PROBLEM_CACHE_SIZE:
        _PROBLEM_CACHE.popitem(last=False)
    return prob


def solve_thomas_fermi(layout: Layout, heterostructure: Heterostructure, voltages=None,
                       window_nm=None, resolution_nm: float = 4.0, *, initial=None,
                       tolerance_meV: float = 1e-4, max_iterations: int = 200,
                       influence_tolerance: float = 0.05,
                       method: str = "newton") -> ElectrostaticsResult:
    """Self-consistent Thomas–Fermi density and potential of a gated 2DEG.

    Parameters
    ----------
    layout : Layout
        The surface gates (nm).
    heterostructure : Heterostructure
        Depth (nm), ungated density (cm^-2), material, surface model.
    voltages : mapping, optional
        Gate voltages (V) by gate name (``"left"`` or ``"V_left"``); missing at 0 V.
    window_nm : tuple
        ``(x0, x1, y0, y1)`` (nm): must contain all gates and their influence
        (outside it the density is taken to be n_s). Default: the gates' bounding
        box enlarged by 6 depths on each side.
    resolution_nm : float
        Cell size (nm), a few times smaller than the depth.
    initial : ElectrostaticsResult or ndarray, optional
        Warm start (a solution on the same window and resolution, or a density in cm^-2).
    tolerance_meV : float
        Largest allowed residual of the Thomas–Fermi equations (meV).
    max_iterations : int
        Iteration budget of the minimizer.
    influence_tolerance : float
        Largest allowed |n - n_s|/n_s on the window edge (dimensionless).
    method : str
        ``"newton"`` (projected Newton-CG, default) or ``"lbfgsb"``.

    Returns
    -------
    ElectrostaticsResult
        ``.density_cm2(x, y)``, ``.potential_meV(x, y)``, ``.iterations``, ``.residual`` (meV).

    Raises
    ------
    ConvergenceError
        (a ValueError) if the residual does not reach ``tolerance_meV``.
    ValueError
        Bad input: window, resolution, voltages, or a window too small for the gates' influence.

    Examples
    --------
    >>> lay = Layout([Gate("left", [(-50, 100), (50, 100), (50, 400), (-50, 400)]),
    ...               Gate("right", [(-50, -400), (50, -400), (50, -100), (-50, -100)])])
    >>> res = solve_thomas_fermi(lay, Heterostructure(50, 2e11), {"left": -0.5, "right": -0.5},
    ...                          window_nm=(-500, 500, -700, 700))   # doctest: +SKIP
    >>> res.density_cm2(0.0, 0.0)                                     # doctest: +SKIP
    """
    if window_nm is None:
        if not isinstance(layout, Layout):
            raise ValueError(f"layout={layout!r} is not allowed: it must be a "
                             "qpcsim.electrostatics.Layout")
        m = 6 * heterostructure.depth_nm
        x0, x1, y0, y1 = layout.bounds_nm()
        window_nm = aligned_window(layout, heterostructure, (x0 - m, x1 + m, y0 - m, y1 + m),
                                   resolution_nm)
    prob = _problem(layout, heterostructure, window_nm, resolution_nm)
    return prob.solve(voltages or {}, initial=initial, tolerance_meV=tolerance_meV,
                      max_iterations=max_iterations, influence_tolerance=influence_tolerance,
                      method=method)


def density_nm2_from_cm2(n_cm2):
    """cm^-2 -> nm^-2."""
    return np.asarray(n_cm2) * NM2_PER_CM2
