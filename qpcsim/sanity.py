"""Warnings for physically absurd inputs: numbers that run but mean nothing.

Each warning names the value, the physical scale it exceeds, and what follows;
they are :class:`PhysicsWarning` (a ``UserWarning``), so ``warnings`` filters
apply. Refusals are errors elsewhere: complex or non-finite potentials, an
energy whose Fermi wavelength the lattice does not resolve (``solver.check_energy``),
and parameter values beyond any physical scale (:func:`check_parameter_magnitudes`,
e.g. ``Vg=1e300``). Legal but suspicious inputs warn here: an energy at or below
the first lead mode is allowed (G = 0; an energy sweep may start at the band
bottom), but one *below the band bottom* (E < 0) warns; so do a potential deep
enough that the *local* Fermi wavelength where it is deepest (E - V_min) is not
resolved, a self-consistent device run away from the Fermi energy its potential
was computed for, and densities, depths and layout scales outside physical
ranges (with the likely slip: "2.5 cm^-2: did you mean 2.5e11?").
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .units import K_BOLTZMANN_MEV, fermi_wavelength_nm, magnetic_length_nm

__all__ = ["PhysicsWarning", "input_warnings", "warn_inputs", "MAX_LAB_FIELD_T",
           "check_parameter_magnitudes", "local_wavelength_note", "density_warnings",
           "depth_warnings", "layout_scale_warnings", "warn_notes", "MAX_PARAMETER_MAGNITUDE",
           "MAX_TEMPERATURE_K", "MAX_EFFECTIVE_MASS_ENERGY_MEV"]

#: Strongest fields in any laboratory (pulsed, non-destructive) (T).
MAX_LAB_FIELD_T = 100.0
#: Above this a semiconductor 2DEG has long stopped existing (K).
MAX_TEMPERATURE_K = 1000.0
#: Above this the parabolic effective-mass band is no model of a semiconductor (meV).
MAX_EFFECTIVE_MASS_ENERGY_MEV = 1000.0


#: No physical parameter of a device (V, meV, T, nm, dimensionless) comes near this.
MAX_PARAMETER_MAGNITUDE = 1e12
#: Sheet densities of semiconductor 2DEGs (cm^-2).
DENSITY_RANGE_CM2 = (1e9, 1e13)
#: Depths of a 2DEG below the surface (nm).
DEPTH_RANGE_NM = (5.0, 2000.0)
#: Extents of a gate layout (nm): a few nm to a few mm.
LAYOUT_RANGE_NM = (5.0, 5e6)
#: Smallest lambda / a that a lattice resolves (as ``solver.MIN_POINTS_PER_WAVELENGTH``).
_POINTS_PER_WAVELENGTH = 4.0


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
    if energy is not None and float(energy) < 0 and \
            not getattr(device, "negative_energies_propagate", False):   # BdG, graphene
        notes.append(f"energy={float(energy):g} meV is below the 2DEG band bottom (E = 0): no "
                     "state propagates and G = 0; energies are measured from the band bottom "
                     f"(did you mean {-float(energy):g} meV?)")
    fermi = (getattr(device, "metadata", None) or {}).get("fermi_energy_meV")
    if energy is not None and fermi is not None and \
            abs(float(energy) - float(fermi)) > 1e-6 * max(abs(float(fermi)), 1.0):
        notes.append(f"energy={float(energy):g} meV differs from the Fermi energy E_F = "
                     f"{float(fermi):.4g} meV for which {device.name}'s self-consistent potential "
                     "was computed: the result is not self-consistent; use energy "
                     f"{float(fermi):.4g} meV (the CLI's default for this device)")
    if energy is not None and float(energy) > 0 and params is not None:
        note = local_wavelength_note(device, float(energy), params)
        if note:
            notes.append(note)
    return notes


def local_wavelength_note(device, energy: float, params: Mapping) -> str:
    """A note if the potential is so deep that the local Fermi wavelength at its
    deepest point, lambda(E - V_min), is below 4a (the check ``solver.check_energy``
    makes for lambda_F at E); "" otherwise. ``energy`` in meV, ``params`` resolved."""
    if getattr(device, "potential", None) is None or not hasattr(device, "site_tags"):
        # Model devices (other bands, lattices) check lambda_F from their own lead modes.
        return ""
    try:
        # The built system's site positions are cached on the device (the solve needs the
        # build anyway): no per-point rebuild of the lattice and shape mask.
        x, y = device.site_positions_nm()
        values = device.potential_at(x, y, params)
    except ValueError:
        return ""   # a bad potential is refused by the solve with its own message
    k = int(np.argmin(values))
    kinetic = energy - float(values[k])
    if values[k] >= 0 or kinetic <= energy:
        return ""
    lam = fermi_wavelength_nm(kinetic, device.material)
    if lam >= _POINTS_PER_WAVELENGTH * device.a:
        return ""
    return (f"the potential is {-float(values[k]):.4g} meV deep at x={float(x[k]):.4g} nm, "
            f"y={float(y[k]):.4g} nm (parameters {dict(params)}): there the local Fermi wavelength "
            f"lambda(E - V_min = {kinetic:.4g} meV) = {lam:.3g} nm is below 4a = "
            f"{_POINTS_PER_WAVELENGTH * device.a:g} nm, which the lattice does not resolve "
            f"(results depend on a); use a <= {lam / _POINTS_PER_WAVELENGTH:.3g} nm, or a "
            "shallower potential")


def check_parameter_magnitudes(params: Mapping, units: Mapping | None = None) -> None:
    """Refuse a parameter value beyond any physical scale (|value| > 1e12 in its
    unit, e.g. ``Vg=1e300``): such a value runs, but only to a meaningless G = 0."""
    for name, value in (params or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            continue
        if abs(float(value)) > MAX_PARAMETER_MAGNITUDE:
            unit = (units or {}).get(name, "")
            raise ValueError(f"{name}={float(value):g}{' ' + unit if unit else ''} is not "
                             f"allowed: |{name}| > {MAX_PARAMETER_MAGNITUDE:g} is beyond any "
                             "physical scale (check the value and its unit)")


def _range_note(what: str, value: float, unit: str, bounds, slips) -> str:
    low, high = bounds
    if low <= value <= high:
        return ""
    guess = next((hint for test, hint in slips if test(value)), "")
    return (f"{what}={value:g} {unit} is outside the range of real samples ({low:g} to "
            f"{high:g} {unit})" + (f": did you mean {guess}?" if guess else ""))


def density_warnings(density_cm2: float) -> list[str]:
    """Notes for a 2DEG sheet density (cm^-2) outside 1e9..1e13, with the likely slip."""
    d = float(density_cm2)
    low, high = DENSITY_RANGE_CM2
    mantissa = d / 10 ** np.floor(np.log10(d)) if d > 0 else d
    slips = [(lambda v: high < v and low <= v * 1e-4 <= high,
              f"{d * 1e-4:g} cm^-2 ({d:g} is in m^-2)"),
             (lambda v: v > 0, f"{mantissa:g}e11 cm^-2")]
    note = _range_note("density", d, "cm^-2", DENSITY_RANGE_CM2, slips)
    return [note] if note else []


def depth_warnings(depth_nm: float) -> list[str]:
    """Notes for a 2DEG depth (nm) outside 5..2000 nm, with the likely slip."""
    d = float(depth_nm)
    slips = [(lambda v: v < 5, f"{d * 1000:g} nm ({d:g} in um)"),
             (lambda v: v > 2000, f"{d / 10:g} nm ({d:g} in Angstrom)")]
    note = _range_note("depth", d, "nm", DEPTH_RANGE_NM, slips)
    return [note] if note else []


def layout_scale_warnings(extent_nm: float, unit_nm: float | None = None) -> list[str]:
    """Notes for a gate layout whose largest extent (nm) is outside 5 nm .. 5 mm
    (a GDS unit scale off by 1000: ``--unit-nm 1`` on a um-unit file)."""
    e = float(extent_nm)
    low, high = LAYOUT_RANGE_NM
    if low <= e <= high:
        return []
    unit = 1.0 if unit_nm is None else float(unit_nm)
    better = unit * 1000 if e < low else unit / 1000
    return [f"the gate layout spans {e:g} nm" + ("" if unit_nm is None else
                                                  f" with unit_nm={unit_nm:g}")
            + f", outside the size of real gates ({low:g} nm to {high:g} nm): did you mean "
            f"unit_nm={better:g} (a GDS unit 1000x {'larger' if e < low else 'smaller'})?"]


def warn_notes(notes, stacklevel: int = 3) -> list:
    """Issue each note as a :class:`PhysicsWarning`; returns them."""
    for note in notes:
        warnings.warn(note, PhysicsWarning, stacklevel=stacklevel)
    return list(notes)


def warn_inputs(device, energy=None, temperature=None, params=None, stacklevel: int = 3) -> list:
    """Issue :func:`input_warnings` as :class:`PhysicsWarning`; returns them."""
    return warn_notes(input_warnings(device, energy, temperature, params), stacklevel + 1)
