"""The wafer as a layer stack: layers, their series capacitance, donors and the ungated density.

Layers are listed from the surface down; the 2DEG sits at the bottom of the layer named
``interface`` (default: the last one). With z the depth below the surface, N(z) the
fixed positive charge (per area, in units of e) between z and the 2DEG, and no field
below the 2DEG, Gauss' law integrated from the 2DEG up to a surface held at the pinning
barrier e V_pin above the Fermi level gives (Thomas–Fermi 2DEG, E_F = n_s/rho)

    n_s = (C/e) (W - V_pin),    W = e * integral_0^d N(z)/eps(z) dz,
    1/C = sum_i d_i/eps_i + 1/(e^2 rho)

(Davies, *The Physics of Low-Dimensional Semiconductors*, sec. 9.3). W (V) is the donors'
"lift" of the 2DEG band bottom. The frozen surface keeps, between the gates, the surface
charge it had at cool-down with every gate at 0 V: by neutrality e (n_s - N_total) per area.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .. import validate as _validate
from ..units import Material, coulomb_constant_meV_nm

__all__ = ["Layer", "stack_depth_nm", "series_permittivity", "donor_lift_V",
           "donor_sheet_density_cm2"]

NM3_PER_CM3 = 1e-21        # 1 cm^-3 = 1e-21 nm^-3
NM2_PER_CM2 = 1e-14


@dataclass(frozen=True)
class Layer:
    """One layer of a heterostructure, listed from the surface down.

    Parameters
    ----------
    name : str
        Label (e.g. ``"cap"``, ``"AlGaAs"``, ``"delta"``, ``"spacer"``).
    thickness_nm : float
        Thickness (nm), > 0.
    eps_r : float
        Relative permittivity (dimensionless), > 0 (GaAs 12.9, Al0.3Ga0.7As 12.2).
    charge_cm3 : float
        Fixed charge density (e cm^-3): ionized donors > 0, acceptors < 0. A delta layer
        of sheet density N (cm^-2) is a thin layer with N/thickness.
    """

    name: str
    thickness_nm: float
    eps_r: float
    charge_cm3: float = 0.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Layer name={self.name!r} is not allowed: it must be a non-empty "
                             "string")
        object.__setattr__(self, "thickness_nm", _validate.positive(
            f"layer {self.name!r} thickness_nm", self.thickness_nm, "nm"))
        object.__setattr__(self, "eps_r", _validate.positive(
            f"layer {self.name!r} eps_r", self.eps_r))
        q = float(self.charge_cm3)
        if not math.isfinite(q):
            raise ValueError(f"layer {self.name!r} charge_cm3={self.charge_cm3!r} is not "
                             "allowed: it must be finite (e cm^-3)")
        object.__setattr__(self, "charge_cm3", q)

    @property
    def sheet_charge_cm2(self) -> float:
        """Charge per area of the layer (e cm^-2)."""
        return self.charge_cm3 * self.thickness_nm * 1e-7


def check_layers(layers, interface=None) -> tuple:
    """The layers above the 2DEG (a tuple of :class:`Layer`), checked.

    ``interface`` names the layer whose bottom is the 2DEG (default: the last).
    """
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(f"layers={layers!r} is not allowed: it must be a list of "
                         "qpcsim.electrostatics.Layer, surface first") from None
    if not layers or not all(isinstance(lay, Layer) for lay in layers):
        raise ValueError(f"layers={layers!r} is not allowed: it must be a non-empty list of "
                         "qpcsim.electrostatics.Layer, surface first")
    names = [lay.name for lay in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layers named {names} are not allowed: layer names must be unique")
    if interface is None:
        return layers
    if interface not in names:
        raise ValueError(f"interface={interface!r} is not allowed: the 2DEG must sit at the "
                         f"bottom of a layer of the stack, one of {', '.join(names)}")
    return layers[:names.index(interface) + 1]


def stack_depth_nm(layers) -> float:
    """Depth d of the 2DEG: the sum of the thicknesses (nm)."""
    return float(sum(lay.thickness_nm for lay in layers))


def series_permittivity(layers) -> float:
    """eps_eff = d / sum_i (d_i/eps_i): the uniform permittivity with the stack's capacitance."""
    return stack_depth_nm(layers) / sum(lay.thickness_nm / lay.eps_r for lay in layers)


def donor_sheet_density_cm2(layers) -> float:
    """Total fixed charge above the 2DEG (e cm^-2)."""
    return float(sum(lay.sheet_charge_cm2 for lay in layers))


def donor_lift_V(layers) -> float:
    """W = e integral_0^d N(z)/eps(z) dz (V), N(z) the charge between z and the 2DEG.

    Exact for piecewise-constant charge: a layer contributes
    (N_below t + rho t^2/2)/eps (per area, times e/eps_0).
    """
    e_over_eps0 = 4 * math.pi * coulomb_constant_meV_nm(Material(dielectric_constant=1.0)) / 1000
    total, below = 0.0, 0.0                  # below: charge between this layer and the 2DEG
    for lay in reversed(layers):
        rho = lay.charge_cm3 * NM3_PER_CM3
        t = lay.thickness_nm
        total += (below * t + 0.5 * rho * t * t) / lay.eps_r
        below += rho * t
    return e_over_eps0 * total               # (V nm) * nm^-1
