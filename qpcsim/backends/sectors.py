"""Mirror-parity sectors of a sparse matrix, for the Schur complement of ``mumps-sigma``.

A matrix ``A`` that commutes with an involution ``m`` of its indices (a lattice
mirror: ``y -> -y`` or ``x -> -x`` at B = 0) is block diagonal in the basis of
even and odd combinations ``(e_i +- e_m(i)) / sqrt 2`` (a fixed index ``i = m(i)``
is even). With a Schur set ``I`` closed under ``m`` (the lead interfaces),

    Schur(A)_I = T_e Schur(A_e)_{I_e} T_e^T + T_o Schur(A_o)_{I_o} T_o^T,

where ``T`` are the (orthogonal) basis columns restricted to ``I``: two sparse
factorizations of half the size instead of one (about half the work on a 2-D
grid; both mirrors: four quarters). The sector entries are sums of ``A``'s entries
in the rows of one representative of each pair (exact where ``A`` is symmetric;
the caller checks that, to :data:`~.rgf_mirror.MIRROR_RTOL`, per point).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sector", "split_sector", "whole_sector", "mirror_entries"]

_R2 = np.sqrt(0.5)


@dataclass
class Sector:
    """One parity sector: its sparse pattern, its Schur set and the linear map from the
    parent matrix's entries to its own.

    Attributes
    ----------
    n : int
        Dimension.
    row, col : ndarray of int
        Pattern (unique entries).
    interface : ndarray of int
        The Schur set in this sector's indices.
    basis : ndarray, shape (|I|, len(interface))
        Its basis vectors on the top-level Schur set I (orthonormal columns).
    maps : list of (src, weight, inverse, size)
        Entry k (< size) of this sector is ``sum(weight * parent[src])`` over
        ``inverse == k``, applied from the top-level matrix down.
    index_map : ndarray of int
        Top-level index -> this sector's index of its representative (-1: none).
    """

    n: int
    row: np.ndarray
    col: np.ndarray
    interface: np.ndarray
    basis: np.ndarray
    maps: list
    index_map: np.ndarray

    def values(self, top_values: np.ndarray) -> np.ndarray:
        """This sector's entries (order of ``row``/``col``) from the top-level entries."""
        values = top_values
        real = not top_values.imag.any()
        for src, weight, inverse, size in self.maps:
            picked = values.real[src] * weight if real else values[src] * weight
            values = np.bincount(inverse, weights=picked.real, minlength=size)
            if not real:
                values = values + 1j * np.bincount(inverse, weights=picked.imag, minlength=size)
        return values.astype(complex) if real else values


def whole_sector(n: int, row, col, interface) -> Sector:
    """The matrix itself as the trivial sector."""
    interface = np.asarray(interface)
    index_map = np.arange(n)
    return Sector(int(n), np.asarray(row), np.asarray(col), interface,
                  np.eye(len(interface)), [], index_map)


def mirror_entries(row, col, mirror) -> np.ndarray | None:
    """For each entry (i, j), the position of the entry (m(i), m(j)); None where the
    pattern is not invariant under the index involution ``mirror``."""
    n = int(max(row.max(), col.max())) + 1 if len(row) else 0
    keys = row.astype(np.int64) * n + col
    order = np.argsort(keys, kind="stable")
    images = mirror[row].astype(np.int64) * n + mirror[col]
    at = np.searchsorted(keys[order], images)
    if np.any(at >= len(keys)) or np.any(keys[order][np.minimum(at, len(keys) - 1)] != images):
        return None
    return order[at]


def split_sector(parent: Sector, top_mirror: np.ndarray) -> tuple[Sector, Sector] | None:
    """The even and odd sectors of ``parent`` under the top-level index involution
    ``top_mirror``; None where its pattern, representatives or Schur set are not
    invariant (the structure has no such mirror)."""
    # The involution in the parent's indices (representatives map to representatives).
    reps_top = np.flatnonzero(parent.index_map >= 0)
    m = np.full(parent.n, -1, dtype=np.int64)
    m[parent.index_map[reps_top]] = parent.index_map[top_mirror[reps_top]]
    if np.any(m < 0) or not np.array_equal(m[m], np.arange(parent.n)):
        return None
    if mirror_entries(parent.row, parent.col, m) is None:
        return None
    iface = parent.interface
    if not np.array_equal(np.sort(m[iface]), np.sort(iface)):
        return None
    index = np.arange(parent.n)
    rep = np.minimum(index, m)
    is_pair = m != index
    k = np.flatnonzero(parent.row <= m[parent.row])          # rows that are representatives
    r, j = parent.row[k], parent.col[k]
    w_even = np.where(is_pair[r] & ~is_pair[j], np.sqrt(2.0),
                      np.where(~is_pair[r] & is_pair[j], _R2, 1.0))
    odd_rows = is_pair[r] & is_pair[j]
    w_odd = np.where(j == rep[j], 1.0, -1.0)[odd_rows]
    where_in_iface = np.full(parent.n, -1, dtype=np.int64)
    where_in_iface[iface] = np.arange(len(iface))
    sectors = []
    for members, keep, weight, sign in ((index <= m, slice(None), w_even, 1.0),
                                        (index < m, odd_rows, w_odd, -1.0)):
        member_local = np.full(parent.n, -1, dtype=np.int64)
        member_local[np.flatnonzero(members)] = np.arange(int(members.sum()))
        local = member_local[rep]                              # every index -> its rep's
        ns = int(members.sum())
        src = k[keep]
        keys = local[parent.row[src]] * ns + local[parent.col[src]]
        unique, inverse = np.unique(keys, return_inverse=True)
        s_iface = iface[members[iface]]
        basis = np.zeros((len(iface), len(s_iface)))
        cols = np.arange(len(s_iface))
        pair = is_pair[s_iface]
        basis[where_in_iface[s_iface], cols] = np.where(pair, _R2, 1.0)
        basis[where_in_iface[m[s_iface[pair]]], cols[pair]] = sign * _R2
        index_map = np.where(parent.index_map >= 0,
                             member_local[np.maximum(parent.index_map, 0)], -1)
        maps = parent.maps + [(src, weight, inverse, len(unique))]
        sectors.append(Sector(ns, unique // ns, unique % ns, local[s_iface],
                              parent.basis @ basis, maps, index_map))
    if any(s.n == 0 or not 0 < len(s.interface) < s.n for s in sectors):
        return None   # an empty sector, or one that is all Schur set (MUMPS refuses it)
    return sectors[0], sectors[1]
