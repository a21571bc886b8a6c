"""Frozen surface: gates as Dirichlet patches on a surface whose charge is fixed.

At cool-down (every gate at 0 V) the surface is an equipotential and everything is
laterally uniform. Afterwards the charge on the exposed surface is frozen: when the gate
voltages change, only the gates' charge and the 2DEG density change. Relative to the
cool-down state the boundary-value problem is mixed: Dirichlet (the gate voltage) on the
gates, Neumann with no extra charge between them, a dielectric eps_top above the surface,
the host eps_s below (Armagnat et al., SciPost Phys. 7, 031 (2019); Laux, Frank & Stern,
Surf. Sci. 196, 101 (1988)).

Capacitance-matrix reduction onto the gates. With the half-space dielectric interface at
z = 0 the Green's functions are images (k_s = e^2/(4 pi eps_0 eps_s),
beta = (eps_s - eps_top)/(eps_s + eps_top)):

* surface charge -> anywhere:        (1 + beta) k_s / R      (a charge on the interface
  sees the mean permittivity (eps_s + eps_top)/2),
* 2DEG charge -> 2DEG:               k_s (1/r + beta/sqrt(r^2 + 4 d^2)).

Unknowns: the charge g on the gate cells (piecewise constant, collocated at cell centres:
A g = gate potential - potential of the 2DEG change, A the gate-cell block of 1/r).
Eliminating g leaves the 2DEG with the gate-screened Hartree operator

    H = k_s (K_dd - (1 + beta) G_ds A^-1 G_sd),

a Schur complement of a positive-definite Coulomb matrix, so the Thomas–Fermi functional
stays strictly convex. A is factorized once per grid (Cholesky, dense on the gate cells,
one factor per mirror-parity sector: parity.py), every product with H costs four FFTs and
two triangular solves per sector; nothing depends on the voltages. The pinned surface is the limit where the whole surface is a gate at 0 V.
"""
from __future__ import annotations

import numpy as np
import scipy.fft

from .kernels import cell_kernel_on_grid, padded_convolution
from .layout import _points_in_polygon
from .parity import ParityCholesky

__all__ = ["FrozenSurface", "MAX_GATE_CELLS"]

#: Largest number of gate cells of the dense capacitance matrix (memory ~ 8 n^2 bytes).
MAX_GATE_CELLS = 16_000


#: A cell centre closer than this fraction of the cell to a gate's edge lies on the edge.
EDGE_RTOL = 1e-6


def gate_cell_mask(layout, x, y) -> dict:
    """``{gate: boolean (nx, ny) mask}`` of the cells whose centre lies in the gate or on
    its edge (within ``EDGE_RTOL`` of a cell), for the uniform centres ``x``, ``y`` (nm,
    increasing).

    A centre on an edge counts as gate on every side, so a mirror-symmetric layout of
    separate gates gets a mirror-symmetric mask (the even-odd rule alone counts a centre on
    a left or lower edge in and on a right or upper one out: such a gate was shifted by half
    a cell, and a symmetric split gate's U was 8-25 meV asymmetric). Such an edge then sits
    half a cell out, the largest error of a generic edge; the default windows put edges on
    cell boundaries where they can (``thomas_fermi.aligned_window``). Polygons of one gate
    that touch leave no slit. A centre that several gates claim (on an edge they share) has
    exactly one owner: the first gate whose interior holds it, else the first claimant; that
    choice is one-sided, so gates that touch each other can lose a mirror symmetry by a cell.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or x.size < 2 or y.size < 2 or \
            not (np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)):
        raise ValueError(f"x of shape {x.shape}, y of shape {y.shape} are not allowed: they "
                         "must be 1-D increasing cell centres (nm), at least 2 each")
    X, Y = np.meshgrid(x, y, indexing="ij")
    inside = np.stack([np.logical_or.reduce([_points_in_polygon(X, Y, p) for p in g.polygons])
                       for g in layout.gates])
    closed = inside | np.stack([_on_edges(g, x, y) for g in layout.gates])
    owner = np.where(inside.any(axis=0), inside.argmax(axis=0), closed.argmax(axis=0))
    shared = closed.sum(axis=0) > 1
    return {g.name: np.where(shared, owner == k, closed[k])
            for k, g in enumerate(layout.gates)}


def _on_edges(gate, x, y) -> np.ndarray:
    """Boolean ``(nx, ny)`` grid: which centres ``x``, ``y`` (nm) lie on an edge of ``gate``
    (within ``EDGE_RTOL`` of a cell)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    h = min(x[1] - x[0], y[1] - y[0]) if x.size > 1 and y.size > 1 else 1.0
    tol = EDGE_RTOL * h
    on = np.zeros((x.size, y.size), dtype=bool)
    for poly in gate.polygons:
        for (ax, ay), (bx, by) in zip(poly, np.roll(poly, -1, axis=0)):
            # only the centres in the edge's box (grown by tol) can lie on it
            i0, i1 = np.searchsorted(x, [min(ax, bx) - tol, max(ax, bx) + tol])
            j0, j1 = np.searchsorted(y, [min(ay, by) - tol, max(ay, by) + tol])
            if i0 >= i1 or j0 >= j1:
                continue
            X, Y = np.meshgrid(x[i0:i1], y[j0:j1], indexing="ij")
            length = np.hypot(bx - ax, by - ay)
            distance = np.abs((bx - ax) * (Y - ay) - (by - ay) * (X - ax)) / length
            along = ((X - ax) * (bx - ax) + (Y - ay) * (by - ay)) / length
            on[i0:i1, j0:j1] |= (distance <= tol) & (along >= -tol) & (along <= length + tol)
    return on


class FrozenSurface:
    """The frozen-surface operators on a Thomas–Fermi grid.

    Parameters
    ----------
    layout : Layout
        The gates (nm).
    x, y : ndarray
        Cell centres of the window (nm), uniform.
    depth_nm : float
        2DEG depth (nm).
    eps_s, eps_top : float
        Permittivity below (host) and above (dielectric) the surface.
    scale : float
        k_s n_s / E_F (nm^-1): the Hartree operator in units of E_F per unit of
        (n - n_s)/n_s, as in :class:`~qpcsim.electrostatics.ThomasFermiProblem`.

    Attributes
    ----------
    gate_phi : dict
        Bare potential (V per V) of each gate on the grid, the others at 0 V.
    n_gate_cells : int
    """

    def __init__(self, layout, x, y, depth_nm, eps_s, eps_top, scale):
        nx, ny = x.size, y.size
        hx, hy = x[1] - x[0], y[1] - y[0]
        self.shape = (nx, ny)
        self.beta = (eps_s - eps_top) / (eps_s + eps_top)
        self.scale = scale
        self.masks = masks = gate_cell_mask(layout, x, y)
        empty = [name for name, m in masks.items() if not m.any()]
        if empty:
            raise ValueError(f"gate {empty[0]!r} covers no cell centre of the grid: refine "
                             "resolution_nm so that every gate holds cells (frozen surface)")
        union = np.zeros((nx, ny), dtype=bool)
        for m in masks.values():
            union |= m
        self.cells = np.flatnonzero(union.ravel())
        rows = np.flatnonzero(union.any(axis=1))
        self._rows = slice(int(rows[0]), int(rows[-1]) + 1)     # window rows holding gates
        n = self.cells.size
        self.n_gate_cells = n
        if n > MAX_GATE_CELLS:
            raise ValueError(f"resolution_nm={hx:g} is not allowed for the frozen surface of "
                             f"this layout: the gates cover {n} cells, at most "
                             f"{MAX_GATE_CELLS} are allowed (dense capacitance matrix)")
        # FFT sizes >= 2n - 1 with small prime factors (the pinned path keeps 2n)
        fft = (scipy.fft.next_fast_len(2 * nx - 1, real=True),
               scipy.fft.next_fast_len(2 * ny - 1, real=True))
        self._pad = np.zeros(fft)
        coulomb = cell_kernel_on_grid(fft, hx, hy, 0.0)         # 1/r, same plane
        image = cell_kernel_on_grid(fft, hx, hy, 2 * depth_nm)  # its image
        self_hat = scipy.fft.rfft2(coulomb + self.beta * image)
        self._self_hat = scale * self_hat
        # 1 + H_free > 0: the preconditioner (the gates' screening only lowers H)
        # (single precision: a preconditioner only steers CG, it never sets the answer)
        self._inv_hessian_hat = (1.0 / (1.0 + self._self_hat.real)).astype(np.float32)
        self._cross_hat = scipy.fft.rfft2(cell_kernel_on_grid(fft, hx, hy, depth_nm))
        self._single_hats = (self._cross_hat.astype(np.complex64),
                             self._self_hat.astype(np.complex64))
        # A^-1 by parity sector where the gate cells are mirror symmetric (exact, cheaper)
        self._capacitance = ParityCholesky(coulomb, self.cells, (nx, ny))
        rhs = np.stack([masks[g.name].ravel()[self.cells] for g in layout.gates], axis=1)
        charge = self._capacitance.solve(rhs.astype(float))
        self.gate_phi = {}
        for k, g in enumerate(layout.gates):
            self.gate_phi[g.name] = self._inverse(self._gates_hat(charge[:, k]) * self._cross_hat)

    def _forward(self, grid):
        """rfft2 of the zero-padded grid, pruned: the y transforms of the window's rows only."""
        P, Q = self._pad.shape
        return scipy.fft.fft(scipy.fft.rfft(grid, n=Q, axis=1), n=P, axis=0, overwrite_x=True)

    def _inverse(self, hat):
        """irfft2 on the window only (pruned: the y transforms of its rows)."""
        nx, ny = self.shape
        rows = scipy.fft.ifft(hat, axis=0)[:nx]
        return scipy.fft.irfft(rows, n=self._pad.shape[1], axis=1)[:, :ny]

    def _gates_hat(self, charge):
        """Transform of the padded grid holding ``charge`` on the gate cells: the real
        transform along y only for the rows that hold gates (the others are zero)."""
        grid = np.zeros(self.shape, dtype=charge.dtype)
        grid.ravel()[self.cells] = charge
        P, Q = self._pad.shape
        part = scipy.fft.rfft(grid[self._rows], n=Q, axis=1)
        full = np.zeros((P, Q // 2 + 1), dtype=part.dtype)
        full[self._rows] = part
        return scipy.fft.fft(full, axis=0, overwrite_x=True)

    def _at_gates(self, hat):
        """The inverse transform of ``hat`` at the gate cells (rows with gates only)."""
        P, Q = self._pad.shape
        part = scipy.fft.ifft(hat, axis=0)[self._rows]
        rows = scipy.fft.irfft(part, n=Q, axis=1)[:, :self.shape[1]]
        grid = np.zeros(self.shape, dtype=rows.dtype)
        grid[self._rows] = rows
        return grid.ravel()[self.cells]

    def hartree(self, v, single: bool = False):
        """H v in units of E_F for v = (n - n_s)/n_s on the (nx, ny) grid:
        scale (K_dd v - (1 + beta) G_ds A^-1 G_sd v). ``single``: the transforms in single
        precision (the gate charges still solved in double), for the Newton CG's products."""
        cross, own = (self._cross_hat, self._self_hat) if not single else self._single_hats
        v_hat = self._forward(v.astype(np.float32 if single else float, copy=False))
        at_gates = self._at_gates(v_hat * cross)
        charge = self._capacitance.solve(at_gates.astype(float)).astype(at_gates.dtype)
        hat = v_hat * own - (self.scale * (1.0 + self.beta)) * self._gates_hat(charge) * cross
        return self._inverse(hat)

    def precondition(self, r):
        """(1 + H_free)^-1 r (flat arrays): the padded operator without the gates."""
        grid = r.reshape(self.shape).astype(np.float32)
        out = padded_convolution(grid, self._inv_hessian_hat, self._pad.shape)
        return out.ravel().astype(float)
