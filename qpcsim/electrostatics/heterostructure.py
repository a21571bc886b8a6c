"""The heterostructure: 2DEG depth, ungated density, host material and surface model."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from .. import validate as _validate
from ..potentials import kinetic_constant_meV_nm2
from ..units import GAAS, Material, coulomb_constant_meV_nm
from . import stack as _stack

__all__ = ["Heterostructure", "SURFACE_MODELS"]

#: Surface models that are implemented.
SURFACE_MODELS = ("pinned", "frozen")
_KNOWN_SURFACES = SURFACE_MODELS
#: Default surface barrier: the Fermi level pinned near mid-gap at a GaAs surface (V).
SURFACE_BARRIER_V = 0.7
#: Band gap of GaAs at low temperature (eV): the surface barrier lies in [0, gap].
_GAAS_GAP_EV = 1.519
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
        4504 (1995)). ``"frozen"``: the exposed surface keeps the charge it had
        at cool-down (gates at 0 V): a Neumann boundary between the gates, Dirichlet
        under them, a dielectric ``top_eps_r`` above (see ``surface.py``).
    layers : tuple of Layer
        The stack above the 2DEG, surface first (from :meth:`from_layers`); empty for
        the single-permittivity model.
    top_eps_r : float
        Relative permittivity above the surface (1: vacuum); used by the frozen surface.
    surface_barrier_V : float
        Conduction band at the surface above the Fermi level at cool-down (V): with the
        donors of ``layers`` it sets the ungated density (``stack.py``).
    provenance : tuple
        ``(key, value)`` pairs of a calibration (:meth:`calibrate`); :meth:`record` is the
        JSON form stored with results.

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
    layers: tuple = ()
    top_eps_r: float = 1.0
    surface_barrier_V: float = SURFACE_BARRIER_V
    provenance: tuple = field(default=(), compare=False)

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
        object.__setattr__(self, "layers", _stack.check_layers(self.layers) if self.layers
                           else ())
        object.__setattr__(self, "top_eps_r", _validate.positive("top_eps_r", self.top_eps_r))
        object.__setattr__(self, "surface_barrier_V", _validate.real_number(
            "surface_barrier_V", self.surface_barrier_V, "V"))

    @classmethod
    def from_layers(cls, layers, density_cm2: float | None = None, surface: str = "pinned", *,
                    interface: str | None = None, material: Material = GAAS,
                    top_eps_r: float = 1.0,
                    surface_barrier_V: float = SURFACE_BARRIER_V) -> Heterostructure:
        """The heterostructure of a layer stack, the 2DEG at the bottom of the last layer.

        Parameters
        ----------
        layers : sequence of Layer
            From the surface down (thickness nm, eps_r, charge e cm^-3).
        density_cm2 : float, optional
            Measured ungated density n_s (cm^-2). Default: from the donors,
            n_s = (C/e)(W - V_pin) (``stack.py``); a stack that leaves the 2DEG depleted
            is refused.
        surface : str
            ``"pinned"`` or ``"frozen"``.
        interface : str, optional
            Name of the layer whose bottom is the 2DEG (default: the last); layers below
            it are ignored.
        material : Material
            Host of the 2DEG (effective mass); its permittivity is replaced by the stack's
            series value eps_eff = d/sum(d_i/eps_i), exact for laterally uniform fields.
        top_eps_r : float
            Permittivity above the surface (frozen surface).
        surface_barrier_V : float
            Surface barrier V_pin at cool-down (V), 0.7 (mid-gap pinning) by default.
        """
        layers = _stack.check_layers(layers, interface)
        eps = _stack.series_permittivity(layers)
        mat = dataclasses.replace(material, dielectric_constant=eps)
        depth = _stack.stack_depth_nm(layers)
        barrier = _validate.real_number("surface_barrier_V", surface_barrier_V, "V")
        if density_cm2 is None:
            probe = cls(depth, 1e11, mat)
            lift = _stack.donor_lift_V(layers)
            n = probe.capacitance_per_e_nm2_per_V() * (lift - barrier) / NM2_PER_CM2
            if n <= 0:
                raise ValueError(
                    f"layers with donor sheet density {_stack.donor_sheet_density_cm2(layers):.3g}"
                    f" cm^-2 are not allowed: they leave the 2DEG depleted at zero gate voltage "
                    f"(donor lift W = {lift:.3g} V must exceed the surface barrier "
                    f"{barrier:g} V; n_s = C(W - V_pin)/e = {n:.3g} cm^-2)")
            density_cm2 = n
        return cls(depth, density_cm2, mat, surface, layers, top_eps_r, barrier)

    @classmethod
    def calibrate(cls, layers, *, density_cm2: float | None = None,
                  depletion_voltage_V: float | None = None, fit: str = "donors",
                  doped_layer: str | None = None, surface: str = "frozen",
                  interface: str | None = None, material: Material = GAAS,
                  top_eps_r: float = 1.0, surface_barrier_V: float = SURFACE_BARRIER_V,
                  max_charge_cm3: float = 1e20) -> Heterostructure:
        """Fit one parameter of a layer stack to one measurement.

        Parameters
        ----------
        layers : sequence of Layer
            The stack, surface first.
        density_cm2 : float, optional
            Measured ungated density (cm^-2). Exactly one of this and
            ``depletion_voltage_V``.
        depletion_voltage_V : float, optional
            Measured depletion voltage of a large gate (V, < 0): n_s = -C V_dep/e, the same
            for a pinned and a frozen surface (a gate covering the surface).
        fit : str
            ``"donors"``: the charge density of ``doped_layer`` (e cm^-3, in
            [0, max_charge_cm3]) at the given surface barrier; ``"surface"``: the surface
            barrier V_pin (V, in [0, 1.519], the GaAs gap), i.e. the frozen surface charge
            e(n_s - N_donors), at the given donors.
        doped_layer : str, optional
            Layer whose charge is fitted (default: the only charged layer).
        surface, interface, material, top_eps_r, surface_barrier_V
            As in :meth:`from_layers`.
        max_charge_cm3 : float
            Upper bound of the fitted donor density (e cm^-3).

        Returns
        -------
        Heterostructure
            With the fitted value; ``provenance`` (and :meth:`record`) say what was fitted to
            what.

        Raises
        ------
        ValueError
            A target outside the range the parameter can reach (the range is given).
        """
        layers = _stack.check_layers(layers, interface)
        if (density_cm2 is None) == (depletion_voltage_V is None):
            raise ValueError("calibrate needs exactly one measurement: density_cm2 (ungated "
                             "density, cm^-2) or depletion_voltage_V (of a large gate, V)")
        probe = cls.from_layers(layers, 1e11, surface, material=material,
                                top_eps_r=top_eps_r, surface_barrier_V=surface_barrier_V)
        c_cm2 = probe.capacitance_per_e_nm2_per_V() / NM2_PER_CM2      # cm^-2 per V
        if density_cm2 is not None:
            target = _validate.positive("density_cm2", density_cm2, "cm^-2")
            what = ("density_cm2", target)
        else:
            v_dep = _validate.real_number("depletion_voltage_V", depletion_voltage_V, "V")
            if v_dep >= 0:
                raise ValueError(f"depletion_voltage_V={v_dep!r} V is not allowed: a 2DEG "
                                 "depletes at a negative gate voltage (< 0)")
            target = -c_cm2 * v_dep
            what = ("depletion_voltage_V", v_dep)
        barrier = float(surface_barrier_V)
        if fit == "donors":
            charged = [lay.name for lay in layers if lay.charge_cm3 != 0.0]
            name = doped_layer if doped_layer is not None else (
                charged[0] if len(charged) == 1 else None)
            names = [lay.name for lay in layers]
            if name not in names:
                raise ValueError(f"doped_layer={doped_layer!r} is not allowed: name the layer "
                                 f"whose donors are fitted, one of {', '.join(names)}")
            unit = [dataclasses.replace(lay, charge_cm3=1.0 if lay.name == name else 0.0)
                    for lay in layers]
            rest = [dataclasses.replace(lay, charge_cm3=0.0) if lay.name == name else lay
                    for lay in layers]
            # n_s = c (W_rest + rho w1 - V_pin): linear in the fitted density rho
            w1, w_rest = _stack.donor_lift_V(unit), _stack.donor_lift_V(rest)
            lo, hi = c_cm2 * (w_rest - barrier), c_cm2 * (w_rest + max_charge_cm3 * w1 - barrier)
            value = (target / c_cm2 + barrier - w_rest) / w1
            rng = f"charge_cm3 of {name!r} in [0, {max_charge_cm3:g}] e cm^-3"
            fitted = ("doped_layer", name), ("charge_cm3", value)
        elif fit == "surface":
            lift = _stack.donor_lift_V(layers)
            lo, hi = c_cm2 * (lift - _GAAS_GAP_EV), c_cm2 * lift
            value = lift - target / c_cm2
            rng = f"surface_barrier_V in [0, {_GAAS_GAP_EV}] V"
            fitted = ("surface_barrier_V", value),
        else:
            raise ValueError(f"fit={fit!r} is not allowed: it must be 'donors' (the doped "
                             "layer's density) or 'surface' (the surface barrier, i.e. charge)")
        if not (max(lo, 0.0) < target <= hi):
            raise ValueError(
                f"{what[0]}={what[1]:g} is not reachable with fit={fit!r}: it needs n_s = "
                f"{target:.4g} cm^-2, while {rng} gives n_s in ({max(lo, 0.0):.4g}, "
                f"{hi:.4g}] cm^-2")
        if fit == "donors":
            layers = tuple(dataclasses.replace(lay, charge_cm3=value) if lay.name == name
                           else lay for lay in layers)
        else:
            barrier = value
        het = cls.from_layers(layers, None, surface, material=material, top_eps_r=top_eps_r,
                              surface_barrier_V=barrier)
        prov = (("fit", fit),) + fitted + (("measurement", what[0]), ("measured", what[1]),
                                           ("target_density_cm2", target))
        return dataclasses.replace(het, provenance=prov)

    @property
    def donor_sheet_density_cm2(self) -> float:
        """Fixed charge of the stack above the 2DEG (e cm^-2); 0 without layers."""
        return _stack.donor_sheet_density_cm2(self.layers)

    @property
    def surface_charge_cm2(self) -> float:
        """Frozen surface charge (e cm^-2, < 0: electrons in surface states) by neutrality,
        n_s - N_donors; only meaningful with a layer stack."""
        return self.density_cm2 - self.donor_sheet_density_cm2

    @property
    def implied_surface_barrier_V(self) -> float:
        """W - e n_s/C (V): the surface barrier that makes the stack's donors give n_s (with a
        measured ``density_cm2`` it may differ from ``surface_barrier_V``)."""
        return _stack.donor_lift_V(self.layers) - \
            self.density_nm2 / self.capacitance_per_e_nm2_per_V()

    def record(self) -> dict:
        """JSON-able description: the model and, if calibrated, its calibration."""
        out = {"depth_nm": self.depth_nm, "density_cm2": self.density_cm2,
               "eps_r": self.material.dielectric_constant,
               "effective_mass": self.material.effective_mass, "surface": self.surface}
        if self.layers:
            out["layers"] = [dataclasses.asdict(lay) for lay in self.layers]
            out["surface_barrier_V"] = self.surface_barrier_V
            out["implied_surface_barrier_V"] = self.implied_surface_barrier_V
            out["surface_charge_cm2"] = self.surface_charge_cm2
        if self.surface == "frozen":
            out["top_eps_r"] = self.top_eps_r
        if self.provenance:
            out["calibration"] = dict(self.provenance)
        return out

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
