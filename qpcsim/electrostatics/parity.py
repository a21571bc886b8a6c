"""Mirror-parity block factorization of the gates' capacitance matrix (frozen surface).

The gate-cell block A of the 1/r cell kernel depends only on the offset between cells and
is even in each of its components. If the set of gate cells is mirror symmetric on the
grid (x -> -x, y -> -y or both, checked exactly on the cell indices), A commutes with the
mirrors and splits into one block per parity sector (character chi of the mirror group G),
each about |G| times smaller: a Cholesky factorization |G|^2 times cheaper, triangular
solves |G| times cheaper, the same A^-1 to rounding. A set without a mirror keeps the full
matrix (G trivial): this is an exact reduction, never an approximation.

Sector basis (orthonormal): for a representative cell p with orbit O_p under G and a
character chi trivial on p's stabilizer, b_p = sum_{g in G/Stab} chi(g) e_{g p} / sqrt|O_p|;
then A_chi[p, p'] = sqrt(|O_p| |O_p'|) / |G| * sum_g chi(g) A[p, g p'].
"""
from __future__ import annotations

import itertools

import numpy as np
import scipy.linalg

__all__ = ["ParityCholesky", "gate_block"]


def gate_block(kernel, rows, cols, shape):
    """B[p, q] = kernel at the offset of cell ``rows[p]`` from cell ``cols[q]`` (FFT order):
    the cell integral of 1/r over q at the centre of p. Built in row blocks with int32 offsets
    (memory, speed)."""
    rx, ry = (i.astype(np.int32) for i in np.unravel_index(rows, shape))
    cx, cy = (i.astype(np.int32) for i in np.unravel_index(cols, shape))
    flat = kernel.ravel()
    ncol = kernel.shape[1]
    out = np.empty((rows.size, cols.size))
    for s in range(0, rows.size, 512):
        off = rx[s:s + 512, None] - cx[None, :]
        off %= kernel.shape[0]
        off *= ncol
        dy = ry[s:s + 512, None] - cy[None, :]
        dy %= ncol
        off += dy
        np.take(flat, off, out=out[s:s + 512])
    return out


def _mirror_group(mask):
    """The mirrors ``(flip_x, flip_y)`` that leave the boolean cell mask invariant, as the
    group they generate (identity first)."""
    flips = [np.array_equal(mask, mask[::-1]), np.array_equal(mask, mask[:, ::-1])]
    return [(fx, fy) for fx, fy in itertools.product((False, True), repeat=2)
            if (not fx or flips[0]) and (not fy or flips[1])]


class ParityCholesky:
    """A^-1 of the gate-cell block of an offset kernel, one Cholesky factor per parity sector.

    Parameters
    ----------
    kernel : ndarray
        The 1/r cell kernel on the padded FFT grid (nm), even in each offset component.
    cells : ndarray
        Flat indices (into the (nx, ny) window grid) of the gate cells, sorted.
    shape : tuple
        ``(nx, ny)`` of the window grid.

    Attributes
    ----------
    mirrors : list of tuple
        The mirror group found, ``(flip_x, flip_y)`` per element; ``[(False, False)]`` if none.
    """

    def __init__(self, kernel, cells, shape):
        nx, ny = shape
        mask = np.zeros(shape, dtype=bool)
        mask.ravel()[cells] = True
        self.mirrors = _mirror_group(mask)
        ix, iy = np.unravel_index(cells, shape)
        rep = np.ones(cells.size, dtype=bool)
        if any(fx for fx, _ in self.mirrors):
            rep &= 2 * ix <= nx - 1
        if any(fy for _, fy in self.mirrors):
            rep &= 2 * iy <= ny - 1
        rx, ry = ix[rep], iy[rep]
        position = np.full(nx * ny, -1, dtype=np.int64)
        position[cells] = np.arange(cells.size)
        # images[k]: positions (in ``cells``) of the mirror images g(p) of the representatives
        self._images = [position[np.ravel_multi_index((nx - 1 - rx if fx else rx,
                                                       ny - 1 - ry if fy else ry), shape)]
                        for fx, fy in self.mirrors]
        self._orbit = np.array([len(set(col)) for col in zip(*self._images)], dtype=float)
        reps = np.asarray(cells)[rep]
        blocks = [gate_block(kernel, reps, np.asarray(cells)[img], shape)
                  for img in self._images]
        order = len(self.mirrors)
        self._sectors = []
        for signs in itertools.product((1.0, -1.0), repeat=int(np.log2(order))):
            chi = self._character(signs)
            active = np.ones(reps.size, dtype=bool)
            for k, img in enumerate(self._images):   # chi trivial on each cell's stabilizer
                if chi[k] < 0:
                    active &= self._images[0] != img
            orbit = self._orbit[active]
            weight = np.sqrt(orbit)
            block = blocks[0].copy()
            for c, b in zip(chi[1:], blocks[1:]):       # in place: no n^2 temporaries
                (np.add if c > 0 else np.subtract)(block, b, out=block)
            if not active.all():
                block = block[np.ix_(active, active)]
            if np.ptp(orbit) > 0:
                block *= np.sqrt(np.outer(orbit, orbit)) / order
            elif orbit[0] != order:
                block *= orbit[0] / order
            factor = scipy.linalg.cho_factor(block, lower=True, check_finite=False)
            self._sectors.append((chi, active, weight, factor))

    def _character(self, signs):
        """chi(g) for each mirror-group element g, from the signs of the generators."""
        flips = [m for m in ((True, False), (False, True)) if m in self.mirrors]
        out = []
        for fx, fy in self.mirrors:
            value = 1.0
            for (gx, gy), sign in zip(flips, signs):
                if (gx and fx) or (gy and fy):
                    value *= sign
            out.append(value)
        return out

    def solve(self, b):
        """A^-1 b for ``b`` of shape (n_cells,) or (n_cells, k)."""
        order = len(self.mirrors)
        images = [b[img] for img in self._images]
        parts = []
        for chi, active, weight, factor in self._sectors:
            rhs = sum(c * im for c, im in zip(chi, images))[active]
            scale = (weight / order).reshape((-1,) + (1,) * (b.ndim - 1))
            x = np.zeros((self._orbit.size,) + b.shape[1:])
            x[active] = scipy.linalg.cho_solve(factor, scale * rhs, check_finite=False)
            parts.append((chi, x))
        out = np.empty_like(b, dtype=float)
        root = np.sqrt(self._orbit).reshape((-1,) + (1,) * (b.ndim - 1))
        for k, img in enumerate(self._images):
            out[img] = sum(chi[k] * x for chi, x in parts) / root
        return out
