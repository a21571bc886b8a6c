"""The heterostructure: 2DEG depth, ungated density, host material and surface model."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .. import validate as _validate
from ..potentials import kinetic_constant_meV_nm2
from ..units import GAAS, Material, coulomb_constant_meV_nm

__all__ = ["Heterostructure", "SURFACE_MODELS"]

#: Surface models that are implemented.
SURFACE_MODELS = ("pinned",)
_KNOWN_SURFACES = ("pinned", "frozen")
NM2_PER_CM2 = 1e-14        # 1 cm^-2 = 1e-14 nm^-2


@dataclass(frozen=True)
class Heterostructure:
    """A 2DEG a depth ``depth_nm`` below the surface of a host ``material``.

    Parameters
    ----------
    depth_nm : float
        Distance from the surface (where the gates are) to the 2DEG (nm), > 0.
    density_cm2 : float
        Sheet density n_s of the ungated 2DEG (cm^-2), > 0, e.g. 2e11.
    material : Material
        Host (effective mass m*, relative permittivity eps_r); GaAs by default.
    surface : str
        ``"pinned"`` (default): the exposed surface is an equipotential at the
        gates' zero of voltage (Davies, Larkin & Sukhorukov, J. Appl. Phys. 77,
        4504 (1995)). ``"frozen"`` (frozen surface charge) is refused: its gate
        potential is a mixed-boundary problem with no closed form for
        arbitrary polygons, and it is not implemented.

    Notes
    -----
    Derived quantities (properties): the 2-D density of states
    rho = m*/(pi hbar^2) (spin-degenerate, nm^-2 meV^-1), the Fermi energy
    E_F = n_s/rho (meV) measured from the band bottom of the ungated 2DEG, the
    effective Bohr radius a_B* = 4 pi eps hbar^2/(m* e^2) (nm) and
    e^2/(4 pi eps) (meV nm).
    """

    depth_nm: float
    density_cm2: float
    material: Material = field(default=GAAS)
    surface: str = "pinned"

    def __post_init__(self):
        object.__setattr__(self, "depth_nm", _validate.positive("depth_nm", self.depth_nm, "nm"))
        object.__setattr__(self, "density_cm2",
                           _validate.positive("density_cm2", self.density_cm2, "cm^-2"))
        if not isinstance(self.material, Material):
            raise ValueError(f"material={self.material!r} is not allowed: it must be a "
                             "qpcsim.Material")
        if self.surface not in _KNOWN_SURFACES:
            raise ValueError(f"surface={self.surface!r} is not allowed: it must be one of "
                             f"{', '.join(_KNOWN_SURFACES)} (only 'pinned' is implemented)")
        if self.surface not in SURFACE_MODELS:
            raise ValueError(
                f"surface={self.surface!r} is not implemented: the frozen-surface gate potential "
                "is a mixed-boundary problem without a closed form for polygons; use "
                "surface='pinned' (Davies et al. 1995)")

    @property
    def density_nm2(self) -> float:
        """n_s in nm^-2."""
        return self.density_cm2 * NM2_PER_CM2

    @property
    def dos_per_meV_nm2(self) -> float:
        """rho = m*/(pi hbar^2), spin-degenerate (nm^-2 meV^-1); 2.80e-4 for GaAs."""
        return 1.0 / (2 * math.pi * kinetic_constant_meV_nm2(self.material))

    @property
    def fermi_energy_meV(self) -> float:
        """E_F = n_s/rho (meV) above the ungated band bottom: the transport energy."""
        return self.density_nm2 / self.dos_per_meV_nm2

    @property
    def coulomb_meV_nm(self) -> float:
        """e^2/(4 pi eps_0 eps_r) (meV nm)."""
        return coulomb_constant_meV_nm(self.material)

    @property
    def bohr_radius_nm(self) -> float:
        """Effective Bohr radius a_B* = 4 pi eps hbar^2/(m* e^2) (nm); 10.2 nm for GaAs."""
        return 2 * kinetic_constant_meV_nm2(self.material) / self.coulomb_meV_nm

    def depletion_voltage_V(self) -> float:
        """V_dep = -e n_s (d/eps + 1/(e^2 rho)) (V) of an infinite uniform gate.

        Equivalently -(4 pi n_s e^2/(4 pi eps)) (d + a_B*/4) / e.
        """
        return -self.density_nm2 / self.capacitance_per_e_nm2_per_V()

    def capacitance_per_e_nm2_per_V(self) -> float:
        """C/e (nm^-2 V^-1) of a uniform gate: 1/C = d/eps + 1/(e^2 rho) (geometric + quantum)."""
        # d/eps in units of e^2: (4 pi d) * e^2/(4 pi eps) -> meV nm^2 per electron;
        # 1/(e^2 rho) -> 1/rho meV nm^2. C/e = 1000 meV/V / (4 pi d k + 1/rho).
        return 1000.0 / (4 * math.pi * self.depth_nm * self.coulomb_meV_nm
                         + 1.0 / self.dos_per_meV_nm2)
