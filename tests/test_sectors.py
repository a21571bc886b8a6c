"""Parity sectors (backends/sectors.py): the Schur complement assembled from the sectors of
one or two lattice mirrors equals the dense Schur complement of the whole matrix."""

import numpy as np
import pytest
import scipy.sparse as sp

from qpcsim.backends.sectors import mirror_entries, split_sector, whole_sector


def grid(nx, ny, seed=0):
    """H - E of an nx x ny grid (site i ny + j) with an onsite term symmetric under both
    mirrors, its entries (row, col, values), the two mirrors and the Schur set (the first
    and last columns)."""
    index = np.arange(nx * ny).reshape(nx, ny)
    pairs = np.concatenate([np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                            np.stack([index[:-1].ravel(), index[1:].ravel()])], axis=1)
    onsite = np.random.default_rng(seed).uniform(-1, 1, (nx, ny))
    onsite = onsite + onsite[::-1] + onsite[:, ::-1] + onsite[::-1, ::-1]
    row = np.concatenate([index.ravel(), pairs[0], pairs[1]])
    col = np.concatenate([index.ravel(), pairs[1], pairs[0]])
    values = np.concatenate([4.0 + onsite.ravel() - 1.3, -np.ones(2 * pairs.shape[1])])
    mirrors = {"y": index[:, ::-1].ravel(), "x": index[::-1].ravel()}
    return row, col, values.astype(complex), mirrors, np.concatenate([index[0], index[-1]])


def dense_schur(n, row, col, values, keep):
    a = sp.coo_array((values, (row, col)), shape=(n, n)).toarray()
    rest = np.setdiff1d(np.arange(n), keep)
    return a[np.ix_(keep, keep)] - a[np.ix_(keep, rest)] @ np.linalg.solve(
        a[np.ix_(rest, rest)], a[np.ix_(rest, keep)])


@pytest.mark.parametrize("nx, ny", [(6, 4), (7, 5), (5, 8)])
@pytest.mark.parametrize("mirrors", [("y",), ("x",), ("y", "x")])
def test_sector_schur_complements_add_up_to_the_whole(nx, ny, mirrors):
    row, col, values, maps, iface = grid(nx, ny)
    n = nx * ny
    leaves = [whole_sector(n, row, col, iface)]
    for name in mirrors:
        leaves = [s for leaf in leaves for s in split_sector(leaf, maps[name])]
    assert len(leaves) == 2 ** len(mirrors)
    assert sum(leaf.n for leaf in leaves) == n
    total = sum(leaf.basis @ dense_schur(leaf.n, leaf.row, leaf.col, leaf.values(values),
                                         leaf.interface) @ leaf.basis.T for leaf in leaves)
    np.testing.assert_allclose(total, dense_schur(n, row, col, values, iface), atol=1e-12)


def test_mirror_entries_permute_the_pattern_or_say_none():
    row, col, values, maps, iface = grid(6, 4)
    perm = mirror_entries(row, col, maps["y"])
    assert np.array_equal(row[perm], maps["y"][row]) and np.array_equal(col[perm], maps["y"][col])
    assert np.array_equal(values[perm], values)            # the grid is y-symmetric
    shifted = (np.arange(24) + 1) % 24                     # not an involution of the pattern
    assert mirror_entries(row, col, shifted) is None


def test_schur_set_not_closed_under_the_mirror_does_not_split():
    row, col, _, maps, iface = grid(6, 4)
    assert split_sector(whole_sector(24, row, col, iface[:4]), maps["x"]) is None
