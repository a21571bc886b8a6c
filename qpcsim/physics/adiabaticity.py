"""Adiabatic vs abrupt constrictions: plateau deviation against taper length.

:func:`adiabaticity_scan` solves a hard-wall constriction (by default the
bundled ``qpc_hardwall``) at the middle of each plateau for a series of taper
lengths and reports |G - n| against L_taper / lambda_F (Szafer & Stone, PRL 62,
300 (1989); Yacoby & Imry, PRB 41, 5341 (1990)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..geometry import load_geometry, load_geometry_module
from ..solver import solve
from ..units import fermi_wavelength_nm

__all__ = ["AdiabaticityResult", "adiabaticity_scan"]


@dataclass
class AdiabaticityResult:
    """Plateau deviation of ``qpc_hardwall`` vs taper length.

    Attributes
    ----------
    tapers : ndarray
        Taper lengths (nm).
    lambda_F : float
        Fermi wavelength at the middle plateau's energy (nm).
    deviation : ndarray
        Mean |G - n| over the plateau centres (G0), one per taper.
    per_plateau : ndarray
        |G - n| per taper and plateau (G0).
    threshold : float
        Smallest L_taper / lambda_F with deviation < ``tolerance`` (nan if none).
    tolerance : float
        The deviation used for ``threshold`` (G0).
    """

    tapers: np.ndarray
    lambda_F: float
    deviation: np.ndarray
    per_plateau: np.ndarray
    threshold: float
    tolerance: float

    @property
    def ratio(self) -> np.ndarray:
        """L_taper / lambda_F."""
        return self.tapers / self.lambda_F


def adiabaticity_scan(tapers=(0.0, 10.0, 25.0, 50.0, 100.0, 200.0), plateaus=(1, 2, 3), *,
                      tolerance: float = 2e-3, make_device=None, thresholds=None,
                      **geometry) -> AdiabaticityResult:
    """Deviation of the plateaus of ``qpc_hardwall`` from integers vs taper length.

    For each taper (nm) the constriction's subband thresholds come from
    ``transverse_thresholds(device)``; the Fermi energy is set midway between
    thresholds n and n+1 (plateau n) with U_gate = 0 and G is solved there.
    ``geometry`` passes other ``qpc_hardwall`` parameters (e.g. ``a``).

    ``make_device(L_taper=nm, **geometry)`` and ``thresholds(device, count)``
    (the constriction's subband thresholds, meV) replace the bundled
    ``qpc_hardwall`` and its ``transverse_thresholds`` for another constriction.
    """
    if make_device is None or thresholds is None:
        module = load_geometry_module("qpc_hardwall")
        make_device = make_device or (lambda **p: load_geometry("qpc_hardwall", **p))
        thresholds = thresholds or module.transverse_thresholds
    tapers = np.array([_validate.non_negative("taper", t, "nm") for t in tapers])
    plateaus = [_validate.positive_int("plateau", n) for n in plateaus]
    tolerance = _validate.positive("tolerance", tolerance, "G0")
    per = np.zeros((tapers.size, len(plateaus)))
    energies = None
    for k, taper in enumerate(tapers):
        dev = make_device(L_taper=float(taper), **geometry)
        th = thresholds(dev, count=max(plateaus) + 1)
        energies = [0.5 * (th[n - 1] + th[n]) for n in plateaus]
        for m, (n, e) in enumerate(zip(plateaus, energies)):
            per[k, m] = abs(solve(dev, e, U_gate=0.0).conductance - n)
    lam = fermi_wavelength_nm(energies[len(energies) // 2])
    dev_mean = per.mean(axis=1)
    good = np.flatnonzero(dev_mean < tolerance)
    threshold = float(tapers[good[0]] / lam) if good.size else float("nan")
    return AdiabaticityResult(tapers=tapers, lambda_F=lam, deviation=dev_mean, per_plateau=per,
                              threshold=threshold, tolerance=tolerance)

