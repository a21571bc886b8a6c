"""Physics guards of qpcsim/sanity.py (issue 25): each warning or refusal is checked
against the number it is computed from (a Fermi wavelength, a range, a threshold)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import qpcsim
from qpcsim.sanity import (
    PhysicsWarning,
    check_parameter_magnitudes,
    density_warnings,
    depth_warnings,
    input_warnings,
    layout_scale_warnings,
    local_wavelength_note,
)
from qpcsim.units import fermi_wavelength_nm


def _well(depth_meV: float, a: float = 4.0) -> qpcsim.Device:
    """A Gaussian well V = -depth exp(-(x^2+y^2)/40^2) (meV) in a 200 nm wide wire."""
    def potential(x, y, depth=depth_meV):
        return -depth * np.exp(-(x ** 2 + y ** 2) / 40.0 ** 2)
    return qpcsim.Device(width=200.0, length=200.0, a=a, potential=potential)


@pytest.mark.parametrize("depth, warned", [(10.0, False), (200.0, True)])
def test_local_wavelength_where_the_potential_is_deepest(depth, warned):
    """lambda(E - V_min) < 4a warns, naming the a that resolves it; 10 meV deep does not."""
    device, energy = _well(depth), 5.0
    note = local_wavelength_note(device, energy, device.resolve_params({}))
    lam = fermi_wavelength_nm(energy + depth, device.material)   # V_min = -depth at x = y = 0
    assert (lam < 4 * device.a) == warned
    assert bool(note) == warned
    if warned:
        assert f"a <= {lam / 4:.3g} nm" in note and f"{lam:.3g} nm" in note


def test_energy_below_the_band_bottom_warns_and_gives_zero():
    device = _well(1.0, a=10.0)
    with pytest.warns(PhysicsWarning, match=r"energy=-5 meV is below the 2DEG band bottom.*5 meV"):
        result = qpcsim.solve(device, -5.0)
    assert result.conductance == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", PhysicsWarning)
        qpcsim.solve(device, 0.0)       # an energy sweep may start at the band bottom


def test_self_consistent_device_off_its_fermi_energy_warns():
    device = _well(1.0, a=10.0)
    device.metadata["fermi_energy_meV"] = 8.0
    assert any("E_F = 8 meV" in n for n in input_warnings(device, 5.0))
    assert not any("E_F" in n for n in input_warnings(device, 8.0))


@pytest.mark.parametrize("value", [1e300, -1e13])
def test_absurd_parameter_values_are_refused(value):
    device = _well(1.0, a=10.0)
    with pytest.raises(ValueError, match=r"depth=.* is not allowed: \|depth\| > 1e\+12"):
        qpcsim.solve(device, 5.0, depth=value)
    with pytest.raises(ValueError, match=r"\|depth\| > 1e\+12"):
        qpcsim.sweep(device, {"depth": [0.0, value]}, energy=5.0, workers=1, progress=False)
    check_parameter_magnitudes({"depth": 1e11})   # large but possible: allowed


@pytest.mark.parametrize("density, hint", [
    (2.5, "did you mean 2.5e11 cm^-2"),
    (2.5e20, "did you mean 2.5e11 cm^-2"),
    (2.5e15, "did you mean 2.5e+11 cm^-2 (2.5e+15 is in m^-2)"),
    (2e11, None),
])
def test_density_slips(density, hint):
    notes = density_warnings(density)
    assert (notes[0].count(hint) == 1) if hint else notes == []


@pytest.mark.parametrize("depth, hint", [(0.09, "did you mean 90 nm"), (90.0, None)])
def test_depth_slips(depth, hint):
    notes = depth_warnings(depth)
    assert (hint in notes[0]) if hint else notes == []


@pytest.mark.parametrize("extent, unit, hint", [
    (0.8, 1.0, "unit_nm=1000"), (8e9, 1000.0, "unit_nm=1 "), (800.0, 1.0, None)])
def test_layout_scale_slips(extent, unit, hint):
    notes = layout_scale_warnings(extent, unit)
    assert (hint in notes[0]) if hint else notes == []
