"""Parity-sector factorization of the frozen surface's capacitance matrix (issue 23 speed):
exact, i.e. A^-1 b equal to the dense solve to rounding, for every mirror group a gate set
can have (none, x, y, both; cells on the mirror axis included), and the right group found."""
import numpy as np
import pytest
import scipy.linalg

from qpcsim.electrostatics.parity import ParityCholesky, gate_block
from qpcsim.electrostatics.kernels import cell_kernel_on_grid as _cell_kernel


def mask_cells(shape, boxes):
    mask = np.zeros(shape, dtype=bool)
    for i0, i1, j0, j1 in boxes:
        mask[i0:i1, j0:j1] = True
    return np.flatnonzero(mask.ravel())


@pytest.mark.parametrize("shape, boxes, mirrors", [
    ((15, 20), [(3, 7, 2, 6), (3, 7, 14, 18)], 2),        # y-mirror (split gate)
    ((15, 20), [(2, 13, 2, 5), (6, 9, 9, 16)], 2),        # x-mirror, axis row ix = 7 held
    ((15, 21), [(2, 13, 2, 5), (2, 13, 16, 19), (6, 9, 8, 13)], 4),   # both, axis cells
    ((15, 20), [(2, 6, 2, 5), (6, 9, 9, 16)], 1),         # no mirror: the full matrix
])
def test_parity_solve_equals_the_dense_cholesky_solve(shape, boxes, mirrors):
    # Same A^-1 b as one dense Cholesky to 1e-12 of |x| (rounding; A's condition ~1e2).
    cells = mask_cells(shape, boxes)
    kernel = _cell_kernel((2 * shape[0], 2 * shape[1]), 4.0, 4.0, 0.0)
    solver = ParityCholesky(kernel, cells, shape)
    assert len(solver.mirrors) == mirrors
    a = gate_block(kernel, cells, cells, shape)
    b = np.random.default_rng(3).standard_normal((cells.size, 2))
    exact = scipy.linalg.solve(a, b, assume_a="pos")
    for rhs, ref in ((b, exact), (b[:, 0], exact[:, 0])):
        assert np.max(np.abs(solver.solve(rhs) - ref)) < 1e-12 * np.max(np.abs(ref))
