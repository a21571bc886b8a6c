"""The Schur-complement back ends: ``mumps`` drives MUMPS through python-mumps (Kwant's own
binding, not Kwant's private ``kwant.linalg._mumps``), equals SuperLU's Schur complement,
and its analysis is structural: a point's bits do not depend on which point came first."""
import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver
from qpcsim.backends.schur import MUMPS_ORDERINGS, MumpsSchur, ScipySchur, mumps_report

mumps = pytest.importorskip("mumps", reason="python-mumps not installed")


def _grid(side, shift):
    """A complex grid Laplacian (side x side) and its first column (the index set X)."""
    index = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate([np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                            np.stack([index[:-1].ravel(), index[1:].ravel()])], axis=1)
    row = np.concatenate([index.ravel(), pairs[0], pairs[1]])
    col = np.concatenate([index.ravel(), pairs[1], pairs[0]])
    values = np.where(row == col, 4.0 + shift, -1.0).astype(complex)
    return side * side, row, col, index[:, 0], values


@pytest.mark.parametrize("shift", [0.3j, 0.1 + 0.05j])
def test_mumps_schur_equals_superlu(shift):
    n, row, col, x, values = _grid(9, shift)
    ref = ScipySchur(n, row, col, x).schur_complement(values)
    schur = MumpsSchur(n, row, col, x)
    # Conditioning of these matrices is O(10): 1e-12 leaves a wide margin over rounding.
    assert np.abs(schur.schur_complement(values) - ref).max() < 1e-12
    assert isinstance(schur.context, mumps.Context) and schur.ordering in MUMPS_ORDERINGS.values()


def test_mumps_bits_do_not_depend_on_the_first_point():
    device = qpcsim.load_geometry("qpc_split_gate", a=8.0)
    energy = 0.1
    first, second = (device.resolve_params({"Vg": v}) for v in (-0.45, -0.6))
    one, two = FastSolver(device, "mumps"), FastSolver(device, "mumps")
    one.smatrix(energy, first)
    assert np.array_equal(one.smatrix(energy, second).data, two.smatrix(energy, second).data)


def test_info_line_names_the_binding_and_the_ordering():
    line = mumps_report()
    assert line.startswith("python-mumps ") and "(INFOG(7))" in line
