"""Bogoliubov-de Gennes devices: a normal lead and a superconducting lead.

:class:`BdGDevice` is a :class:`qpcsim.ContinuumDevice` in Nambu space
(electron, hole) of a spin-degenerate s-wave system, in the reduced basis
(c_up, c_down^dagger) of Kwant's superconductivity tutorial::

    H = (h(k) - mu + V(x, y)) tau_z + Delta (cos(phi) tau_x - sin(phi) tau_y)

with ``h`` the normal kinetic energy (default ``hbar^2 k^2/(2 m*)``), ``mu``
the Fermi energy (meV from the band bottom), ``Delta`` (meV) and ``phi`` (rad)
the pairing in the superconducting leads only (the scattering region is normal:
``Delta = 0`` there). Energies ``E`` of ``solve(energy=E)`` are excitation
energies from the Fermi level (meV), so ``0 <= E < Delta`` is inside the gap.

Lead 0 is normal and carries the conservation law ``-tau_z`` (block 0 the
electrons, block 1 the holes) and the particle-hole symmetry ``tau_y`` (Kwant
then chooses modes so that S(E) = P S(-E)^* P: at E = 0, S_hh = S_ee^* and
S_he = S_eh^*). A superconducting lead mixes electrons and holes, so it has
the particle-hole symmetry only.

Observables (spin degeneracy included: an open spin-degenerate channel is G0):

* ``conductance`` = ``transmission``: the Andreev conductance of lead 0,
  G_NS / G0 = N_e - R_ee + R_he (Blonder-Tinkham-Klapwijk; Kwant tutorial);
  a perfectly transmitted channel gives 2, and at ``Delta = 0`` it is the
  normal conductance (R_he = 0);
* ``transmission_eigenvalues``: eigenvalues of t^dagger t, t the lead-1 <- lead-0
  electron block; at ``Delta = 0`` the normal-state T_n of the device;
* ``transmission_reverse``: the quasiparticle transmission sum |S_{0 <- 1}|^2.

Beenakker (PRB 46, 12841 (1992)): G_NS = (4e^2/h) sum_n T_n^2/(2 - T_n)^2 at
E = 0 in the Andreev approximation (Delta << mu), see :func:`beenakker_conductance`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from . import validate as _validate
from .hamiltonian import (MIN_POINTS_PER_WAVELENGTH, ContinuumDevice, carries_potential,
                          value_parameters, with_signature)
from .units import GAAS, Material, fermi_wavelength_nm, wavevector_per_nm

__all__ = ["BdGDevice", "beenakker_conductance", "andreev_observables", "TAU_Z", "TAU_Y",
           "ANDREEV_THERMAL_TOLERANCE"]

#: Absolute tolerance (G0) of the finite-temperature Andreev conductance (the quadrature's
#: own error estimate must stay below it, else ThermalResolutionError).
ANDREEV_THERMAL_TOLERANCE = 1e-5
#: Half-width of the Fermi window in kT: the weight -df/dE beyond carries 2e-11.
_WINDOW_KT = 25.0

TAU_Z = np.diag([1.0, -1.0])
TAU_Y = np.array([[0, -1j], [1j, 0]])
#: Normal kinetic energy h(k) of the default model (meV, k in 1/nm).
KINETIC = "hbar**2/(2*m)*(k_x**2 + k_y**2)"


def beenakker_conductance(transmissions) -> float:
    """Andreev conductance (G0 = 2e^2/h) of normal-state eigenvalues T_n (E = 0,
    Andreev approximation): G_NS = (4e^2/h) sum T_n^2 / (2 - T_n)^2 = G0 * 2 sum(...)."""
    try:
        T = np.asarray(transmissions, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"transmissions={transmissions!r} are not allowed: give the "
                         "eigenvalues T_n (numbers in [0, 1])") from None
    if not np.all(np.isfinite(T)) or np.any((T < -1e-12) | (T > 1 + 1e-12)):
        raise ValueError(f"transmissions={T!r} are not allowed: each T_n must lie in [0, 1]")
    return float(2.0 * np.sum(T**2 / (2.0 - T) ** 2))


def andreev_observables(smat: np.ndarray, nprop: tuple, block_nmodes) -> tuple:
    """(G_NS/G0, quasiparticle T(0 <- 1), eig(t^dagger t)) of a BdG S-matrix whose lead 0
    is normal with modes ordered (electrons, holes): ``block_nmodes`` = (N_e, N_h)."""
    n0 = nprop[0]
    n_e = int(block_nmodes[0])
    r = smat[:n0, :n0]
    g_ns = n_e - np.sum(np.abs(r[:n_e, :n_e]) ** 2) + np.sum(np.abs(r[n_e:, :n_e]) ** 2)
    t = smat[n0:, :n_e]
    eig = np.sort(np.linalg.svd(t, compute_uv=False) ** 2)[::-1] if t.size else np.zeros(0)
    t_rev = float(np.sum(np.abs(smat[:n0, n0:]) ** 2))
    return float(g_ns), t_rev, eig


def _with_pairing(value, t: float, profile: Callable | None = None):
    """Onsite value function ``value + s(x, y) Delta (cos(phi) tau_x - sin(phi) tau_y) / t``
    with ``s = profile(x, y)`` (1 without a profile)."""
    inner = value_parameters(value)
    names = list(dict.fromkeys(inner + ["Delta", "phi"]))

    def onsite(site, *args):
        kw = dict(zip(names, args))
        base = value(site, *[kw[n] for n in inner]) if callable(value) else value
        scale = 1.0 if profile is None else float(profile(*site.pos))
        delta = scale * kw["Delta"] * np.exp(1j * kw["phi"]) / t
        return base + np.array([[0, delta], [delta.conjugate(), 0]])   # cos tau_x - sin tau_y
    onsite.carries_potential = carries_potential(value)
    return with_signature(onsite, ["site"], names)


class BdGDevice(ContinuumDevice):
    """A normal-superconductor device in Bogoliubov-de Gennes form (module docstring).

    Parameters
    ----------
    width, length, a : float
        As :class:`qpcsim.ContinuumDevice` (nm).
    mu : float
        Default Fermi energy (meV) from the band bottom (runtime parameter ``mu``).
    Delta : float
        Default pairing potential of the superconducting lead (meV, >= 0; runtime
        parameter ``Delta``); ``Delta = 0`` is the normal state of the same device.
    phi : float
        Default superconducting phase of lead 1 (rad; runtime parameter ``phi``).
    potential : callable, optional
        ``potential(x, y, **params)`` (nm in, meV out): the electrostatic landscape,
        entering as ``V tau_z``.
    params, units : mapping, optional
        Defaults and units of the potential's parameters.
    kinetic : str
        Normal-state kinetic energy h(k) (meV; time-reversal symmetric).
    material : Material
        Effective mass (``m``) and g-factor.
    shape : callable, optional
        ``shape(x, y) -> bool``: sites kept in the scattering region.
    pairing_profile : callable, optional
        ``s(x, y)`` in [0, 1] (nm in): a superconducting region inside the scattering
        region with pairing ``s Delta e^{i phi}``; it should reach 1 where lead 1
        attaches. A smooth rise over several lambda_F removes the normal reflection
        of an abrupt interface (first order in Delta/mu).
    name, metadata
        Label and description.
    """

    #: Lead 0 is the normal lead, lead 1 the superconductor.
    terminals = ("normal", "superconductor")


    non_negative_parameters = ("Delta",)
    #: Excitation energies from mu: E < 0 is the hole side, not below a band bottom.
    negative_energies_propagate = True

    def __init__(self, *, width: float, length: float, a: float, mu: float,
                 Delta: float, phi: float = 0.0, potential: Callable | None = None,
                 params: Mapping[str, float] | None = None,
                 units: Mapping[str, str] | None = None, kinetic: str = KINETIC,
                 material: Material = GAAS, shape: Callable | None = None,
                 pairing_profile: Callable | None = None,
                 name: str = "N-S device", metadata: Mapping | None = None):
        _validate.non_negative("Delta", Delta, "meV")
        normal = f"({kinetic} - mu)*sigma_z"
        super().__init__(
            normal, width=width, length=length, a=a, material=material, potential=potential,
            potential_matrix=TAU_Z, shape=shape,
            params={"mu": mu, "Delta": Delta, "phi": phi, **dict(params or {})},
            units={"mu": "meV", "Delta": "meV", "phi": "rad", **dict(units or {})},
            spin_resolved=False, name=name, metadata=metadata)
        self.pairing_profile = pairing_profile
        # Lead 0 normal: electrons (block 0) and holes resolved; lead 1 mixes them.
        self.lead_symmetries = ((-TAU_Z, TAU_Y), (None, TAU_Y))

    def hamiltonian_text(self) -> str:
        return (f"{self.hamiltonian} + V(x, y)*sigma_z; lead 1: + "
                "Delta*(cos(phi)*sigma_x - sin(phi)*sigma_y)")

    def builder(self):
        """Unfinalized Builder: lead 1 gets the pairing Delta (cos phi tau_x - sin phi tau_y)
        on its sites (added here: this Kwant's continuum printer lacks cos/sin)."""
        syst = super().builder()
        for builder, profile in ((syst.leads[1].builder, None), (syst, self.pairing_profile)):
            if builder is syst and profile is None:
                continue
            pairing = {}
            for site, value in list(builder.site_value_pairs()):
                if id(value) not in pairing:
                    pairing[id(value)] = _with_pairing(value, self.t, profile)
                builder[site] = pairing[id(value)]
        return syst

    def check_fermi_energy(self, energy_meV: float, params: dict) -> float:
        """Excitation energy E (meV) from the Fermi level; the lattice must resolve
        lambda_F at mu and the coherence length xi = hbar v_F / Delta (>= 4a each)."""
        energy = _validate.real_number("energy", energy_meV, "meV")
        mu = params["mu"]
        if mu <= 0:
            raise ValueError(f"mu={mu:g} meV is not allowed: the Fermi energy must lie above "
                             "the band bottom (> 0) for a normal-superconductor device")
        lam = fermi_wavelength_nm(mu, self.material)
        if lam < MIN_POINTS_PER_WAVELENGTH * self.a:
            raise ValueError(
                f"mu={mu:g} meV is not allowed with a={self.a:g} nm: lambda_F = {lam:.3g} nm "
                f"needs a <= lambda_F/{MIN_POINTS_PER_WAVELENGTH:g}; reduce a or mu")
        if params["Delta"] > 0:
            xi = 2 * mu / (wavevector_per_nm(mu, self.material) * params["Delta"])  # hbar v_F/Delta
            if xi < MIN_POINTS_PER_WAVELENGTH * self.a:
                raise ValueError(
                    f"Delta={params['Delta']:g} meV is not allowed with a={self.a:g} nm: the "
                    f"coherence length hbar v_F/Delta = {xi:.3g} nm needs a <= xi/"
                    f"{MIN_POINTS_PER_WAVELENGTH:g}; reduce a or Delta")
        return energy

    def transport_observables(self, smat: np.ndarray, nprop: tuple, energy_meV: float,
                              params: dict) -> tuple:
        """The solver's hook: (transmission, transmission_reverse, eigenvalues) of one
        S-matrix; ``transmission`` is G_NS/G0, the conductance (module docstring)."""
        blocks = self.lead_modes(energy_meV, params, 0).block_nmodes
        return andreev_observables(smat, nprop, blocks)

    def thermal_breakpoints(self, energy_meV: float, kT: float, params: dict) -> tuple:
        """The Fermi window of the Andreev conductance at ``kT`` (meV) and the energies
        (meV) where G_NS(E) has kinks: ``(lo, hi, points)``, the window ``energy`` +-
        25 kT (the weight beyond: 2e-11); the gap edges +-Delta, lead 0's subband
        thresholds, and four points where the Fermi weight decays.

        BdG energies are excitation energies from mu, so the window covers E < 0 as well
        (holes: G_NS(-E) is the hole block's N_h - R_hh + R_eh at E). Not the sorted
        bands' crossings at E ~ 0 (the electron and hole bands of the normal lead cross
        at the Fermi level). The solver integrates over it (``solver.solve``)."""
        lo, hi = energy_meV - _WINDOW_KT * kT, energy_meV + _WINDOW_KT * kT
        thresholds = self.lead_thresholds(params)
        edges = np.concatenate([[-params["Delta"], params["Delta"]],
                                thresholds[np.abs(thresholds) > 1e-6]])
        scales = energy_meV + kT * np.array([-8.0, -2.5, 2.5, 8.0])   # the weight decays
        points = sorted({float(e) for e in np.concatenate([edges, scales]) if lo < e < hi})
        return lo, hi, points
