"""Mirror sectors of the Thomas–Fermi problem: a symmetric point solved on a half or a quarter
of its grid, with real cosine transforms instead of the zero-padded FFT.

The functional of ``thomas_fermi.py`` is strictly convex, so its minimizer has every
symmetry of its data: if the bare potential is even under x -> -x (y -> -y) on the cell grid,
so is the density, and the problem closes on the cells of one half (quarter). On a grid of
an even number n of cells along a mirrored axis, keep the upper half (n/2 cells); the
linear convolution with the even cell kernel K of a half-sample-symmetric grid is a
DCT-II of length n (the reduced half, zero-padded to n) times the real transform of K on
the 2n padded grid, inverted by the DCT-III (Martucci, IEEE Trans. Signal Process. 42,
1038 (1994)): the same numbers as the padded FFT to rounding, on a real transform of
length n instead of a complex one of length 2n. On a quarter grid a product costs about
1/6 of the full one, and every vector operation of the Newton iteration 1/4.

The CG's preconditioner, (1 + H)^-1 of a circulant problem, needs no such exactness: any
positive definite one leaves the answer unchanged. Padding the window by one depth (the
kernel decays as 2 d^2 / r^3) instead of doubling it conditions the Newton system as well
(tests: within 1 %) with transforms of about half the length on each axis.

The reduction is exact (a point without the symmetry keeps the full grid): a mirror is
used only if the bare potential equals its mirror image to rounding, and the remaining
asymmetry (meV) is added to the reported residual. A mirror on an odd number of cells
keeps the full grid (the middle row is its own image).
"""
from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["MirrorSector", "mirror_convolution", "find_mirrors", "mirror_deviations",
           "sector_mirrors"]


def find_mirrors(grid: np.ndarray, threshold: float) -> tuple[bool, bool]:
    """``(x, y)``: whether ``grid`` is even under x -> -x (y -> -y) within ``threshold``
    (same units).

    Parameters
    ----------
    grid : ndarray
        Values on the (nx, ny) cell grid.
    threshold : float
        Largest allowed |grid - mirror image| (units of ``grid``).

    Returns
    -------
    tuple of bool
        The mirrors found. Only an even number of cells along a mirrored axis has a
        sector (:func:`sector_mirrors`).
    """
    dx, dy = mirror_deviations(grid)
    return bool(dx <= threshold), bool(dy <= threshold)


def mirror_deviations(grid: np.ndarray) -> tuple[float, float]:
    """``(max |grid - grid[::-1]|, max |grid - grid[:, ::-1]|)`` (units of ``grid``), from
    the first half of each axis (the other half holds the same differences)."""
    nx, ny = grid.shape
    dx = float(np.max(np.abs(grid[:nx // 2] - grid[::-1][:nx // 2]))) if nx > 1 else 0.0
    dy = float(np.max(np.abs(grid[:, :ny // 2] - grid[:, ::-1][:, :ny // 2]))) if ny > 1 \
        else 0.0
    return dx, dy


def sector_mirrors(mirrors: tuple, shape: tuple) -> tuple[bool, bool]:
    """The mirrors to reduce by: all of ``mirrors`` if every mirrored axis has an even
    number of cells, else none. A partial reduction would leave the other mirror symmetric
    only to the solver tolerance, not to rounding (measured 2e-10 meV), and the transport
    back ends' exact mirror check (``rgf-mirror``, ``rgf-parity``) would then miss it."""
    if any(m and n % 2 for m, n in zip(mirrors, shape)):
        return False, False
    return tuple(bool(m) for m in mirrors)


def mirror_convolution(grid: np.ndarray, kernel_hat: np.ndarray, shape: tuple,
                       mirrors: tuple) -> np.ndarray:
    """Linear convolution of a mirror-symmetric grid with an even kernel, on its sector.

    Parameters
    ----------
    grid : ndarray
        The sector (upper half along each mirrored axis) of a (nx, ny) grid that is even
        under the ``mirrors``; float64 or float32 (sets the transforms' precision).
    kernel_hat : ndarray
        The kernel's real transform on the (2 nx, 2 ny) padded grid, sliced by
        :meth:`MirrorSector.spectrum`.
    shape : tuple
        ``(nx, ny)`` of the full window grid (even along each mirrored axis); or, for a
        preconditioner, any larger half-periods of the padded grid (``kernel_hat`` on the
        (2 nx, 2 ny) grid): the transforms' lengths, the sector zero-padded to them.
    mirrors : tuple of bool
        ``(x, y)``; at least one True.

    Returns
    -------
    ndarray
        The convolution on the sector: equal to the zero-padded FFT convolution of the full
        grid, restricted to the sector, to rounding.
    """
    nx, ny = shape
    rows, cols = grid.shape
    mx, my = mirrors
    if my:
        t = scipy.fft.dct(grid, type=2, n=ny, axis=1)
        t = scipy.fft.dct(t, type=2, n=nx, axis=0) if mx else \
            scipy.fft.rfft(t, n=2 * nx, axis=0)
    else:
        t = scipy.fft.rfft(grid, n=2 * ny, axis=1)
        t = scipy.fft.dct(t, type=2, n=nx, axis=0)
    t *= kernel_hat
    if my:
        t = scipy.fft.idct(t, type=2, axis=0)[:rows] if mx else \
            scipy.fft.irfft(t, n=2 * nx, axis=0)[:rows]
        return scipy.fft.idct(t, type=2, axis=1)[:, :cols]
    t = scipy.fft.idct(t, type=2, axis=0)[:rows]
    return scipy.fft.irfft(t, n=2 * ny, axis=1)[:, :cols]


class MirrorSector:
    """The Hartree operator and its preconditioner on one mirror sector of the window grid.

    Parameters
    ----------
    kernel_hat : ndarray
        Real transform (``rfft2``, shape (2 nx, ny + 1)) of the scaled cell kernel on the
        padded grid (dimensionless: Hartree energy in units of E_F per unit s).
    shape : tuple
        ``(nx, ny)`` of the window grid.
    mirrors : tuple of bool
        ``(x, y)``: the mirrors of the sector (at least one).
    kernel : callable, optional
        ``kernel(lx, ly)``: the scaled cell kernel on a (2 lx, 2 ly) padded grid (FFT order,
        as ``cell_kernel``). Given, the preconditioner pads the sector by ``margin_cells``
        only (rounded up to fast transform lengths) instead of to the window's size.
    margin_cells : int
        Zero padding (cells) beyond the window's edge in the preconditioner.

    Attributes
    ----------
    order : int
        Cells of the full grid per sector cell (2 or 4).
    """

    def __init__(self, kernel_hat: np.ndarray, shape: tuple, mirrors: tuple, kernel=None,
                 margin_cells: int = 0):
        self.shape = tuple(shape)
        self.mirrors = tuple(bool(m) for m in mirrors)
        mx, my = self.mirrors
        nx, ny = self.shape
        self.order = 2 ** (mx + my)
        self.sector_shape = (nx // 2 if mx else nx, ny // 2 if my else ny)
        spectrum = self.spectrum(kernel_hat)
        self._kernel = spectrum
        self._kernel_single = spectrum.astype(np.float32)
        # (1 + H)^-1 with the window padded by a margin, not doubled (module notes); 1 + H > 0
        # (H positive definite); single precision: it only steers the CG. Half-periods: a
        # mirrored axis's DCT spans the sector plus the margin, the other's rfft the window
        # plus twice the margin.
        self.preconditioner_lengths = self.shape if kernel is None else tuple(
            min(n, scipy.fft.next_fast_len((n + 1) // 2 + margin_cells, real=True))
            for n in self.shape)
        if self.preconditioner_lengths != self.shape:
            spectrum = self.spectrum(scipy.fft.rfft2(kernel(*self.preconditioner_lengths)),
                                     self.preconditioner_lengths)
        self._inverse_single = (1.0 / (1.0 + spectrum)).astype(np.float32)
        self._approximate_single = spectrum.astype(np.float32)   # H on the same lengths

    def spectrum(self, kernel_hat: np.ndarray, lengths: tuple | None = None) -> np.ndarray:
        """The part of the (even, real) kernel transform the sector's transforms use, for
        the half-periods ``lengths`` of ``kernel_hat``'s padded grid (default ``shape``)."""
        nx, ny = self.shape if lengths is None else lengths
        mx, my = self.mirrors
        hat = np.asarray(kernel_hat).real
        if my:
            return np.ascontiguousarray(hat[:nx if mx else nx + 1, :ny])
        return np.ascontiguousarray(hat[:nx, :])

    def fold(self, grid: np.ndarray) -> np.ndarray:
        """The sector (upper half along each mirror) of a full (nx, ny) grid, a copy."""
        nx, ny = self.shape
        mx, my = self.mirrors
        return np.array(grid[nx // 2 if mx else 0:, ny // 2 if my else 0:])

    def unfold(self, sector: np.ndarray) -> np.ndarray:
        """The full grid, even under the mirrors, from its sector."""
        mx, my = self.mirrors
        out = np.concatenate([sector[::-1], sector], axis=0) if mx else sector
        return np.concatenate([out[:, ::-1], out], axis=1) if my else out

    def hartree(self, v: np.ndarray) -> np.ndarray:
        """H v on the sector (double precision), ``v`` of shape ``sector_shape``."""
        return mirror_convolution(v, self._kernel, self.shape, self.mirrors)

    def product(self, d: np.ndarray, approximate: bool = False) -> np.ndarray:
        """H d (flat, float64 out) in single precision, for the inner CG; ``approximate``:
        with the preconditioner's margin instead of the padded window (a Newton direction
        needed to 1 % only: the same steps on the demo, 0.4 of the transform work)."""
        grid = d.reshape(self.sector_shape).astype(np.float32)
        if approximate:
            out = mirror_convolution(grid, self._approximate_single,
                                     self.preconditioner_lengths, self.mirrors)
        else:
            out = mirror_convolution(grid, self._kernel_single, self.shape, self.mirrors)
        return out.ravel().astype(float)

    def precondition(self, r: np.ndarray) -> np.ndarray:
        """(1 + H)^-1 r (flat) of the margin-padded circulant problem, single precision."""
        grid = r.reshape(self.sector_shape).astype(np.float32)
        out = mirror_convolution(grid, self._inverse_single, self.preconditioner_lengths,
                                 self.mirrors)
        return out.ravel().astype(float)
