"""The scattering region's mirror checks, once per parameter set, exact per energy.

``rgf-mirror`` and ``rgf-parity`` use a mirror only where the point's ``A = H - E``
equals its mirror image to :data:`~.rgf_mirror.MIRROR_RTOL` relative to max|A|
(the region's column entries and couplings here; the lead blocks are checked per
lead part in :mod:`.rgf_mirror`). The region's ``H`` does not depend on the energy,
so a thermal grid (tens of energies per gate point) re-checked the same numbers at
every energy: an O(sites) gather and compare per solve.

Why the decision itself cannot simply be cached per parameter set: the check
reads ``H - E``, not ``H``. The diagonal ``V_i - E`` is rounded once per energy, so
a rounding-level asymmetry ``V_i != V_mirror(i)`` (the lattice positions' rounding,
~1e-16 relative in ``qpc_split_gate``) can vanish or grow by an ulp with ``E``, and
the scale ``max|A|`` moves with ``E``: the relative deviation is a function of the
energy. A point near :data:`~.rgf_mirror.MIRROR_RTOL` could then take the mirror path
at one energy and the fallback at another, and the two paths differ in the last bits
(the reduced sweep reads only the left half's numbers). The check feeds no arithmetic.

So the energy-free part is computed once per parameter set (:class:`RegionDeviation`,
kept on the device's :class:`~.context.SolverContext`, keyed by ``params_key``): the
hoppings' and couplings' deviation, the diagonal pairs that differ bit for bit (the
only ones whose ``(V_i - E) - (V_j - E)`` can be nonzero) and the extremes of the
diagonal (``|fl(V - E)|`` is largest at the smallest or largest ``V``: rounding is
monotone). Per energy only those few numbers are shifted, in the same floating-point
operations as the full check: the same deviation bit for bit, so the same decision
and the same S-matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .assembly import params_key
from .context import SolverContext

__all__ = ["RegionDeviation", "RegionMirrorCheck", "MIRROR_CHECKS_KEPT", "entry_deviation"]

#: Parameter sets whose energy-free check a device keeps (all dropped when full); 0
#: checks every point in full (the reference the cache is tested against).
MIRROR_CHECKS_KEPT = 64


def entry_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """0.0 for bitwise-equal arrays, else max |a - b| (the mirror checks' measure)."""
    if np.array_equal(a, b):
        return 0.0
    return float(np.max(np.abs(a - b), initial=0.0))


@dataclass(frozen=True)
class RegionDeviation:
    """The energy-free part of one mirror check of one parameter set.

    Attributes
    ----------
    fixed : float
        Largest absolute deviation of the hoppings and inter-column couplings
        (lattice units).
    pairs : tuple of ndarray
        The diagonal entries ``(V_i, V_image(i))`` (lattice units) that differ bit for bit.
    hop_max : float
        Largest |hopping| (lattice units).
    diag_range : tuple of float or None
        Smallest and largest (real) diagonal entry; None where the diagonal is not real.
    diag : ndarray or None
        The diagonal, kept only where it is not real (else None: the record stays small).
    """

    fixed: float
    pairs: tuple
    hop_max: float
    diag_range: tuple | None
    diag: np.ndarray | None

    def relative(self, energy: float) -> float:
        """Deviation of ``H - E`` from its image relative to max|H - E| (``energy`` in
        lattice units): bit for bit the full check's number."""
        first, second = self.pairs
        deviation = max(self.fixed, float(np.max(np.abs((first - energy) - (second - energy)),
                                                 initial=0.0)))
        if self.diag_range is None:
            diag_max = float(np.abs(self.diag - energy).max(initial=0.0))
        else:
            low, high = self.diag_range
            diag_max = max(abs(low - energy), abs(high - energy))
        return deviation / max(self.hop_max, diag_max, 1e-300)


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

    def _energy_free(self, free: np.ndarray, leads, n_diag: int) -> RegionDeviation | None:
        """The check's energy-free part from the region's entries at E = 0 (``V - 0.0``
        is ``V`` exactly); None where an entry is not finite."""
        if not np.all(np.isfinite(free)):
            return None
        self.checks += 1
        _, intra, c_l, c_r = self.rgf.prepare(free, leads)[:4]
        hop_pos = np.flatnonzero(~self._on_diagonal)
        diag_pos = np.flatnonzero(self._on_diagonal)
        first, second = intra[diag_pos], intra[self.image[diag_pos]]
        differ = first != second
        hoppings, diag = free[:-n_diag], free[-n_diag:]
        real = not np.iscomplexobj(diag) or not diag.imag.any()
        return RegionDeviation(
            fixed=max(entry_deviation(intra[hop_pos], intra[self.image[hop_pos]]),
                      self.couplings(c_l, c_r)),
            pairs=(first[differ], second[differ]),
            hop_max=float(np.abs(hoppings).max(initial=0.0)),
            diag_range=(float(diag.real.min()), float(diag.real.max())) if real else None,
            diag=None if real else diag)
