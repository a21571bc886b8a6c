"""Warnings for physically absurd inputs: numbers that run but mean nothing.

Each warning names the value, the physical scale it exceeds, and what follows;
they are :class:`PhysicsWarning` (a ``UserWarning``), so ``warnings`` filters
apply. Refusals (complex potentials, energies below the first lead mode or
unresolved by the lattice) are errors elsewhere; these inputs are legal but
outside what the model describes.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping

from .units import K_BOLTZMANN_MEV, magnetic_length_nm

__all__ = ["PhysicsWarning", "input_warnings", "warn_inputs", "MAX_LAB_FIELD_T",
           "MAX_TEMPERATURE_K", "MAX_EFFECTIVE_MASS_ENERGY_MEV"]

#: Strongest fields in any laboratory (pulsed, non-destructive) (T).
MAX_LAB_FIELD_T = 100.0
#: Above this a semiconductor 2DEG has long stopped existing (K).
MAX_TEMPERATURE_K = 1000.0
#: Above this the parabolic effective-mass band is no model of a semiconductor (meV).
MAX_EFFECTIVE_MASS_ENERGY_MEV = 1000.0


class PhysicsWarning(UserWarning):
    """An input outside the physical range the model describes."""


def input_warnings(device, energy: float | None = None, temperature: float | None = None,
                   params: Mapping | None = None) -> list[str]:
    """The warnings (strings) for one set of inputs of ``device``.

    Parameters
    ----------
    device : qpcsim.Device
    energy : float, optional
        Fermi energy (meV).
    temperature : float, optional
        Temperature (K).
    params : mapping, optional
        Device parameters (``B`` in T is checked).
    """
    notes = []
    a = device.a
    B = abs(float((params or {}).get("B", 0.0) or 0.0))
    if B > 0:
        l_B = magnetic_length_nm(B)
        if l_B < a:
            notes.append(f"B={B:g} T: the magnetic length l_B = {l_B:.3g} nm is below the "
                         f"lattice constant a = {a:g} nm, so the lattice cannot resolve the "
                         "cyclotron orbits (Hofstadter regime, not a 2DEG); reduce B or a")
        if B > MAX_LAB_FIELD_T:
            notes.append(f"B={B:g} T exceeds the strongest laboratory fields "
                         f"(~{MAX_LAB_FIELD_T:g} T)")
    if temperature is not None and temperature > 0:
        kT = K_BOLTZMANN_MEV * float(temperature)
        band = 8.0 * device.t
        if kT > band:
            notes.append(f"temperature={temperature:g} K: k_B T = {kT:.3g} meV exceeds the "
                         f"lattice's whole band width 8t = {band:.3g} meV; the Fermi window "
                         "is cut by the band edges")
        elif temperature > MAX_TEMPERATURE_K:
            notes.append(f"temperature={temperature:g} K exceeds {MAX_TEMPERATURE_K:g} K, where "
                         "no semiconductor 2DEG exists")
        if energy is not None and kT > float(energy) > 0:
            notes.append(f"temperature={temperature:g} K: k_B T = {kT:.3g} meV exceeds the "
                         f"Fermi energy {float(energy):g} meV (non-degenerate gas: the "
                         "Landauer picture of a Fermi sea no longer applies)")
    if energy is not None and float(energy) > MAX_EFFECTIVE_MASS_ENERGY_MEV:
        notes.append(f"energy={float(energy):g} meV exceeds {MAX_EFFECTIVE_MASS_ENERGY_MEV:g} "
                     "meV, beyond any semiconductor's parabolic (effective-mass) band")
    return notes


def warn_inputs(device, energy=None, temperature=None, params=None, stacklevel: int = 3) -> list:
    """Issue :func:`input_warnings` as :class:`PhysicsWarning`; returns them."""
    notes = input_warnings(device, energy, temperature, params)
    for note in notes:
        warnings.warn(note, PhysicsWarning, stacklevel=stacklevel)
    return notes
