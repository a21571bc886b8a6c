"""The scattering region's mirror checks, once per parameter set, exact per energy.

``rgf-mirror`` and ``rgf-parity`` use a mirror only where the point's ``A = H - E``
equals its mirror image to :data:`~.rgf_mirror.MIRROR_RTOL` relative to max|A|, and
every entry to :data:`ENTRY_RTOL_FACTOR` times that relative to its own size, or to the
hopping scale where it is smaller (:func:`relative_deviation`; the region's column
entries and couplings here, the lead blocks per lead part in :mod:`.rgf_mirror`). The
second bound because a large entry elsewhere (a hard wall's 30 eV) made max|A| so loose
that a real asymmetry passed as the mirror (S 1.4e-9 off Kwant at a resonance;
tests/test_backends_fuzz.py); it is a few ulps (2.5e-15), as the mirror path's error is
the accepted asymmetry times the sensitivity of S. The region's ``H`` does not depend on the energy, so a
thermal grid (tens of energies per gate point) re-checked the same numbers at every
energy: an O(sites) gather and compare per solve.

Why the decision itself cannot simply be cached per parameter set: the check
reads ``H - E``, not ``H``. The diagonal ``V_i - E`` is rounded once per energy, so
a rounding-level asymmetry ``V_i != V_mirror(i)`` (the lattice positions' rounding,
~1e-16 relative in ``qpc_split_gate``) can vanish or grow by an ulp with ``E``, and
max|A| and each entry's size move with ``E``: the relative deviation is a function of
the energy. A point near :data:`~.rgf_mirror.MIRROR_RTOL` could then take the mirror
path at one energy and the fallback at another, and the two paths differ in the last
bits (the reduced sweep reads only the left half's numbers). The check feeds no
arithmetic.

So the energy-free part is computed once per parameter set (:class:`RegionDeviation`,
kept on the device's :class:`~.context.SolverContext`, keyed by ``params_key``): the
hoppings' and couplings' deviations, the hopping scale, the diagonal pairs that differ
bit for bit (the only ones whose ``(V_i - E) - (V_j - E)`` can be nonzero) and the
extremes of the diagonal (``|fl(V - E)|`` is largest at the smallest or largest ``V``:
rounding is monotone). Per energy only those few numbers are shifted, in the same
floating-point operations as the full check (:meth:`RegionMirrorCheck.full`): the same
deviation bit for bit, so the same decision and the same S-matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .assembly import params_key
from .context import SolverContext

__all__ = ["RegionDeviation", "RegionMirrorCheck", "MIRROR_CHECKS_KEPT", "ENTRY_RTOL_FACTOR",
           "entry_deviation", "relative_deviation"]

#: Each entry's own bound is this many times MIRROR_RTOL (so 2.5e-15: ~11 ulps of the
#: entry, or of the hopping scale where it is smaller), on top of MIRROR_RTOL relative to
#: max|A|. The mirror path solves the symmetrized H, so its error is the accepted asymmetry
#: times the sensitivity, |dS| <~ 2.5e-15 |A_ii| |dS/dV_i|: linear in the asymmetry, 1e-10
#: per 1e-14 at a resonance of half width ~1e-3 meV (a walled double barrier; at this
#: bound 2.6e-11, where plain RGF's own rounding there is 0.2-1.3e-11;
#: tests/test_backends_fuzz.py). The inputs' own asymmetry stays well inside: positions are
#: exactly antisymmetric (Device.lattice_to_nm), the self-consistent potential on a pinned
#: surface is exactly symmetric wherever its solve used a mirror (interpolated at folded
#: positions; a frozen surface has no sector, 6.9e-14, and runs plain RGF as before), and
#: the split gate's potential function leaves 2.3e-16. Where a resonance is so narrow that even
#: plain RGF is ~1e-9 from Kwant (quantum_dot at 45 meV barriers), the mirror path's share
#: stays within a few times that (benchmarks/RESULTS.md).
ENTRY_RTOL_FACTOR = 0.25
#: Parameter sets whose energy-free check a device keeps (all dropped when full); 0
#: checks every point in full (the reference the cache is tested against).
MIRROR_CHECKS_KEPT = 64


def entry_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """0.0 for bitwise-equal arrays, else max |a - b| (the mirror checks' measure)."""
    if np.array_equal(a, b):
        return 0.0
    return float(np.max(np.abs(a - b), initial=0.0))


def relative_deviation(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    """0.0 for bitwise-equal arrays, else max |a_k - b_k| / max(|a_k|, |b_k|, ``floor``):
    each entry against its own size, and against ``floor`` (the hopping scale, lattice
    units) where it is smaller, as a perturbation of an entry matters on that scale."""
    if np.array_equal(a, b):
        return 0.0
    differ = a != b              # the rest contributes 0: the same number, a fraction of the work
    a, b = a[differ], b[differ]
    size = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / size, initial=0.0))


@dataclass(frozen=True)
class RegionDeviation:
    """The energy-free part of one mirror check of one parameter set.

    Attributes
    ----------
    fixed : float
        Largest absolute deviation of the hoppings and inter-column couplings
        (lattice units).
    fixed_entry : float
        Their largest deviation relative to each entry (:func:`relative_deviation`).
    pairs : tuple of ndarray
        The diagonal entries ``(V_i, V_image(i))`` (lattice units) that differ bit for bit.
    hop_max : float
        Largest |hopping| (lattice units).
    hop_scale : float
        The hopping scale of :func:`relative_deviation` (:meth:`RegionMirrorCheck.full`).
    diag_range : tuple of float or None
        Smallest and largest (real) diagonal entry; None where the diagonal is not real.
    diag : ndarray or None
        The diagonal, kept only where it is not real (else None: the record stays small).
    """

    fixed: float
    fixed_entry: float
    pairs: tuple
    hop_max: float
    hop_scale: float
    diag_range: tuple | None
    diag: np.ndarray | None

    def relative(self, energy: float) -> float:
        """Deviation of ``H - E`` from its image (``energy`` in lattice units), as
        :meth:`RegionMirrorCheck.full` measures it: bit for bit the full check's number."""
        first, second = self.pairs
        shifted = (first - energy, second - energy)
        deviation = max(self.fixed, float(np.max(np.abs(shifted[0] - shifted[1]),
                                                 initial=0.0)))
        if self.diag_range is None:
            diag_max = float(np.abs(self.diag - energy).max(initial=0.0))
        else:
            low, high = self.diag_range
            diag_max = max(abs(low - energy), abs(high - energy))
        entry = max(self.fixed_entry, relative_deviation(*shifted, self.hop_scale))
        return max(deviation / max(self.hop_max, diag_max, 1e-300), entry / ENTRY_RTOL_FACTOR)


class RegionMirrorCheck:
    """One mirror of the region's column entries, checked once per parameter set.

    Parameters
    ----------
    name : str
        The mirror (``"x-mirror"``, ``"y-mirror"``): part of the cache key.
    rgf : RGFSolver
        The device's column structure (:mod:`.rgf`).
    image : ndarray of int
        Intra-column entry ``k`` <-> entry ``image[k]`` under the mirror.
    couplings : callable
        ``couplings(c_l, c_r) -> float``: the inter-column couplings' absolute
        deviation from their image (lattice units).
    """

    def __init__(self, name: str, rgf, image: np.ndarray,
                 couplings: Callable[[np.ndarray, np.ndarray], float]):
        self.name, self.rgf, self.image, self.couplings = name, rgf, image, couplings
        rows, cols = rgf.intra_rc
        self._on_diagonal = rows == cols
        #: Energy-free checks computed (one per parameter set while cached).
        self.checks = 0

    def relative(self, context: SolverContext, assembly, energy: float,
                 params: dict, leads) -> float | None:
        """The point's relative deviation from the mirror (as the full check computes
        it), or None where it is not cached (unhashable or non-finite parameters, or
        :data:`MIRROR_CHECKS_KEPT` = 0): then check the point in full."""
        key = params_key(params)
        if key is None or MIRROR_CHECKS_KEPT <= 0:
            return None
        cache = context.mirror_checks
        record = cache.get((self.name, key))
        if record is None:
            record = self._energy_free(assembly.system_values(0.0, params), leads,
                                       assembly.n_sys)
            if record is None:
                return None
            if len(cache) >= MIRROR_CHECKS_KEPT:
                cache.clear()       # atomic: threads may share the device
            cache[(self.name, key)] = record
        return record.relative(energy)

    def full(self, intra: np.ndarray, c_l: np.ndarray, c_r: np.ndarray,
             scale: float) -> float:
        """The point's deviation from the mirror, from its prepared column entries and
        couplings (lattice units), to compare with MIRROR_RTOL: the larger of the absolute
        deviation over ``scale`` (max|A|) and each entry's relative one
        (:func:`relative_deviation`, hopping-scale floor) over :data:`ENTRY_RTOL_FACTOR`."""
        image, couplings = intra[self.image], self.couplings(c_l, c_r)
        if couplings == 0.0 and np.array_equal(intra, image):
            return 0.0                 # bit for bit (most points): no scale needed
        hop = self._hopping_scale(intra, c_l, c_r)
        entry = max(relative_deviation(intra, image, hop), couplings / hop)
        return max(max(entry_deviation(intra, image), couplings) / scale,
                   entry / ENTRY_RTOL_FACTOR)

    def _hopping_scale(self, intra: np.ndarray, c_l: np.ndarray, c_r: np.ndarray) -> float:
        """Largest |hopping| of the region (lattice units): the off-diagonal column entries
        and the couplings between columns; energy-free."""
        return max(float(np.abs(intra[~self._on_diagonal]).max(initial=0.0)),
                   float(np.abs(c_l).max(initial=0.0)), float(np.abs(c_r).max(initial=0.0)),
                   1e-300)

    def _energy_free(self, free: np.ndarray, leads, n_diag: int) -> RegionDeviation | None:
        """The check's energy-free part from the region's entries at E = 0 (``V - 0.0``
        is ``V`` exactly); None where an entry is not finite."""
        if not np.all(np.isfinite(free)):
            return None
        self.checks += 1
        _, intra, c_l, c_r = self.rgf.prepare(free, leads)[:4]
        hop = self._hopping_scale(intra, c_l, c_r)
        hop_pos = np.flatnonzero(~self._on_diagonal)
        diag_pos = np.flatnonzero(self._on_diagonal)
        first, second = intra[diag_pos], intra[self.image[diag_pos]]
        differ = first != second
        hoppings, diag = free[:-n_diag], free[-n_diag:]
        real = not np.iscomplexobj(diag) or not diag.imag.any()
        couplings = self.couplings(c_l, c_r)
        return RegionDeviation(
            fixed=max(entry_deviation(intra[hop_pos], intra[self.image[hop_pos]]), couplings),
            fixed_entry=max(relative_deviation(intra[hop_pos], intra[self.image[hop_pos]],
                                               hop), couplings / hop),
            pairs=(first[differ], second[differ]),
            hop_max=float(np.abs(hoppings).max(initial=0.0)), hop_scale=hop,
            diag_range=(float(diag.real.min()), float(diag.real.max())) if real else None,
            diag=None if real else diag)
