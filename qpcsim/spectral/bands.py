"""Lead band edges at any magnetic field and Zeeman energy: the thresholds of T(E).

At B = 0 the lead subbands open at the transverse energies E_n (+- E_Z/2), a
closed formula (:meth:`qpcsim.Device.transverse_mode_energies`). In a field the
lead bands E_m(k) are (edge-state) Landau-level bands whose minima sit at k != 0
and move with B: the thresholds where modes open or close are the local extrema
of the magnetic lead's band structure (``kwant.physics.Bands``) at this B and E_Z,
found on a k grid (Bloch Hamiltonian h0 + V e^{-ik} + h.c., as ``kwant.physics.Bands``,
batched) and polished on a fine local grid.
"""
from __future__ import annotations

import numpy as np

from ..backends import solver_context
from ..backends.assembly import single_threaded_blas

__all__ = ["lead_band_edges", "lead_thresholds"]

#: k points of the first search over the Brillouin zone [-pi, pi]; two extrema closer than
#: 2 pi / _K_POINTS may merge.
_K_POINTS = 241
#: Polishing rounds: a 5-point grid over +- one search step around each extremum, recentred
#: and halved each round, then a parabola through the best three (the edge to ~1e-7 t).
_ROUNDS = 4
#: Band edges above this (Hamiltonian units, t) are not thresholds anyone can reach: λ_F >= 4a
#: keeps energies below (pi/2)^2 t ~ 2.5 t.
_CAP = 3.0
#: A local extremum must undercut both neighbours by this (Hamiltonian units): plateaus of
#: flat (bulk Landau) bands are not extrema at every k.
_STRICT = 1e-10


def _band_energies(h0, hop, ks):
    """Eigenvalues (k, band), ascending, of H(k) = h0 + hop e^{-ik} + h.c. (Kwant's Bands)."""
    phase = np.exp(-1j * np.asarray(ks))[:, None, None]
    hk = h0[None] + hop[None] * phase
    hk = hk + (hop[None] * phase).conj().transpose(0, 2, 1)
    return np.linalg.eigvalsh(hk)


def _lead_edges(lead, params: dict) -> tuple[np.ndarray, float]:
    """(band extrema, lowest band bottom) of one lead (Hamiltonian units)."""
    h0 = lead.cell_hamiltonian(params=params)
    hop = lead.inter_cell_hopping(params=params)
    square = np.zeros(h0.shape, dtype=complex)          # Kwant pads the hopping to the cell
    square[:, :hop.shape[1]] = hop
    ks = np.linspace(-np.pi, np.pi, _K_POINTS)[:-1]      # periodic: k = pi is k = -pi
    table = _band_energies(h0, square, ks)
    edges = []
    for sign in (1.0, -1.0):                              # minima, then maxima
        e = sign * table
        # per band: its global extremum (flat Landau bands: one, not every k of the plateau)
        # and the strict local ones; only those below the lattice's usable energies matter
        strict = (e < np.roll(e, 1, axis=0) - _STRICT) & (e < np.roll(e, -1, axis=0) - _STRICT)
        strict[np.argmin(e, axis=0), np.arange(e.shape[1])] = True
        strict &= table < _CAP
        found = np.argwhere(strict)
        if not found.size:
            continue
        centre, half = ks[found[:, 0]], np.full(len(found), ks[1] - ks[0])
        rows = np.arange(len(found))
        for _ in range(_ROUNDS):     # a 5-point grid around the best point, shrunk each round
            offsets = np.linspace(-1.0, 1.0, 5)
            local = _band_energies(h0, square, (centre[:, None] + half[:, None] * offsets).ravel())
            local = sign * local.reshape(len(found), 5, -1)[rows, :, found[:, 1]]
            best = np.argmin(local, axis=1)
            centre = centre + half * offsets[best]
            half = half / 2
        # vertex of the parabola through the best point and its neighbours (spacing 2 half)
        i = np.clip(best, 1, 3)
        a, b, c = local[rows, i - 1], local[rows, i], local[rows, i + 1]
        curvature = a - 2 * b + c
        vertex = b - np.where(curvature > 0, (c - a) ** 2 / (8 * np.maximum(curvature, 1e-300)), 0)
        edges.append(sign * np.minimum(vertex, local.min(axis=1)))
    if not edges:
        return np.zeros(0), float(table[:, 0].min())
    return np.concatenate(edges), float(table[:, 0].min())


def lead_band_edges(device, params: dict) -> tuple[np.ndarray, float]:
    """(thresholds, first mode) in meV of ``device``'s leads at the field and Zeeman energy
    of ``params`` (resolved device parameters): every local extremum of every lead band,
    and the lowest energy at which every lead carries a mode. Cached per lead parameters."""
    cache = solver_context(device).band_edges
    key = tuple(float(params[k]) for k in device.lead_parameters)
    if key not in cache:
        kwant_params = {k: params[k] for k in device.lead_parameters}
        with single_threaded_blas():    # small matrices: threads only contend (and round)
            found = [_lead_edges(lead, kwant_params) for lead in device.lead_systems()[0]]
        edges = np.unique(np.round(np.concatenate([f[0] for f in found]), 12)) * device.t
        cache[key] = (edges, max(f[1] for f in found) * device.t)
    return cache[key]


def lead_thresholds(device, params: dict) -> np.ndarray:
    """Energies (meV) where lead subbands open (or close): kinks and steps of G(E) that the
    thermal quadrature must not straddle, for resolved ``params``. A device that knows its
    leads' band edges answers itself (``device.lead_thresholds``, e.g.
    :class:`qpcsim.hamiltonian.ModelDevice`); else at B = 0 the closed formula (+- E_Z/2),
    in a field the extrema of the magnetic lead bands at this B and E_Z
    (:func:`lead_band_edges`)."""
    own = device.lead_thresholds(params)
    if own is not None:
        return own
    if params.get("B", 0.0) != 0.0:
        return lead_band_edges(device, params)[0]
    bottoms = device.transverse_mode_energies()
    split = 0.5 * abs(params.get("E_Z", 0.0))
    return np.unique(np.concatenate([bottoms - split, bottoms + split]))
