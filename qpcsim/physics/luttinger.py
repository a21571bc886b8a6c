"""Interacting wires: an inhomogeneous Luttinger liquid between Fermi-liquid leads.

**Bosonized model** (everything in this module except :func:`tight_binding_impurity`).
The charge field phi(x, t) of one spin-degenerate channel obeys the wave equation
of an inhomogeneous Luttinger liquid (Maslov & Stone, PRB 52, R5539 (1995);
Safi & Schulz, PRB 52, R17040 (1995)),

    d/dt [ (1/(u K)) d/dt phi ] = d/dx [ (u/K) d/dx phi ],

with interaction parameter K(x) (1 in the leads, K_c in the wire) and plasmon
velocity u(x). At frequency omega it is a transmission line: in a region of
constant K and u, phi = A e^{ikx} + B e^{-ikx} with k = omega/u, and phi and
(u/K) d phi/dx are continuous. The current j ~ d phi/dt, so the characteristic
admittance of a region is proportional to K: an infinite wire of parameter K
alone conducts K G0 (its *intrinsic* conductance), while the leads have
admittance G0.

The two-terminal ac conductance is the admittance seen from the leads:
G(omega) = G0 t(omega), with t the plasmon (current) transmission amplitude of the
inhomogeneous region, computed with 2x2 transfer matrices on a grid (a smooth
K(x) is a staircase of many thin cells). At omega -> 0 every cell's transfer
matrix tends to one that leaves a wave of vanishing k unchanged, so G(0) = G0
for any K_c: the leads, not the wire, set the dc conductance. At finite omega
the K mismatch at the two ends reflects plasmons: Fabry-Pérot oscillations of
|G(omega)| with period Delta omega = pi u_c / L (round-trip time 2L/u_c).

*Spin and normalization.* For one spin-degenerate channel phi is the charge
field phi_rho = (phi_up + phi_down)/sqrt(2) and K means K_rho; the spin sector
(K_sigma = 1) carries no charge current. With K_rho = 1 the channel conducts
G0 = 2e^2/h, so all conductances here are reported as G/G0 with G0 = 2e^2/h
(for a spinless wire read G0 as e^2/h: the numbers are the same).

**Single impurity** (Kane & Fisher, PRL 68, 1220 (1992)). The dimensionless
backscattering amplitude of a weak impurity grows as T^{K-1} (RG eigenvalue
1 - K), so G = G0 (1 - c T^{2K-2}); a weak link's tunnelling amplitude scales
as T^{1/K-1}, so G ~ T^{2/K-2}. For g = G/G0 we integrate the interpolating flow

    dg/dl = -2 (1 - K) g (1 - g) [g + (1 - g)/K],      l = ln(Lambda / T),

whose two limits are *exactly* the perturbative flows above (g -> 1: weak
barrier; g -> 0: weak link); the crossover in between is an interpolation (for
K = 1/2 compare :func:`kane_fisher_half_exact`, the refermionized exact result).
At K = 1 nothing flows: the non-interacting reference is the tight-binding chain
with one impurity, computed with qpcsim's solver (:func:`tight_binding_impurity`).
The exponents 2K-2 and 2/K-2 are those of a one-component (spinless) Luttinger
liquid; for a spin-degenerate channel see :func:`spinful_exponents`. The
spinful flow (``kane_fisher_flow(..., spinful=True)``, K = K_rho, K_sigma = 1)
is the same interpolation at half the rate,

    dg/dl = -(1 - K_rho) g (1 - g) [g + (1 - g)/K_rho],

with the spinful limits 1 - g ~ T^(K_rho - 1) and g ~ T^(1/K_rho - 1) (so at
K_rho = 1/2 a weak link conducts ~ T^1, not the spinless T^2). The CLI uses
the spinful convention throughout (K = K_rho, as in the ac panel).

**Tight binding** (not bosonized): only :func:`tight_binding_impurity`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.integrate
import scipy.special

from .. import validate as _validate
from ..device import Device
from ..potentials import smooth_step
from ..solver import solve
from ..units import GAAS, H_PLANCK, M_ELECTRON, Material

__all__ = ["WireProfile", "ACConductance", "wire_profile", "ac_conductance", "intrinsic_conductance",
           "fabry_perot_period", "KaneFisherFlow", "kane_fisher_flow", "kane_fisher_half_exact",
           "kane_fisher_half_crossover",
           "fit_power_law", "spinful_exponents", "tight_binding_impurity"]


@dataclass
class WireProfile:
    """Piecewise-constant K(x), u(x) on cells between the leads.

    Attributes
    ----------
    edges : ndarray
        Cell boundaries (nm), from 0 to the total length.
    K : ndarray
        Interaction parameter per cell (dimensionless).
    u : ndarray
        Plasmon velocity per cell (m/s).
    K_lead, u_lead : float
        Lead values (K = 1, u = v_F in m/s).
    max_frequency_GHz : float
        Upper validity limit of the bosonized (linear-spectrum) model,
        f_max = E_F / h with E_F = m* v_F^2 / 2 (GHz).
    """

    edges: np.ndarray
    K: np.ndarray
    u: np.ndarray
    K_lead: float
    u_lead: float
    max_frequency_GHz: float = math.inf


def wire_profile(K_c: float, length_nm: float, v_F: float = 2.0e5, u_c: float | None = None,
                 crossover_nm: float = 0.0, cells: int = 400,
                 material: Material = GAAS) -> WireProfile:
    """K(x), u(x) of a wire of length ``length_nm`` between K = 1 leads.

    Parameters
    ----------
    K_c : float
        Interaction parameter in the wire (> 0; < 1 repulsive).
    length_nm : float
        Wire length L (nm).
    v_F : float
        Fermi velocity of the leads (m/s).
    u_c : float, optional
        Plasmon velocity in the wire (m/s); default v_F / K_c (Galilean invariance).
    crossover_nm : float
        Width of a smooth (C-infinity) crossover of K and u at each end (nm);
        0 gives sharp steps.
    cells : int
        Cells of the staircase (>= 2; only used for smooth crossovers). The
        staircase is solved exactly; it approximates the smooth profile while
        each cell is thin compared with the plasmon wavelength 2 pi u / omega.
    material : Material
        Host material; its effective mass turns v_F into E_F = m* v_F^2 / 2,
        which sets the frequency limit of the model.

    Returns
    -------
    WireProfile
        Total length L (sharp) or L + 2 * crossover (smooth), with K = K_c,
        u = u_c on the flat part.
    """
    K_c = _validate.positive("K_c", K_c)
    length = _validate.positive("length", length_nm, "nm")
    v_F = _validate.positive("v_F", v_F, "m/s")
    u_c = v_F / K_c if u_c is None else _validate.positive("u_c", u_c, "m/s")
    crossover = _validate.non_negative("crossover", crossover_nm, "nm")
    e_fermi_J = 0.5 * material.effective_mass * M_ELECTRON * v_F**2
    f_max = e_fermi_J / H_PLANCK / 1e9
    if crossover == 0:
        return WireProfile(np.array([0.0, length]), np.array([K_c]), np.array([u_c]), 1.0, v_F,
                           f_max)
    cells_f = _validate.real_number("cells", cells)
    if cells_f != int(cells_f) or cells_f < 2:
        raise ValueError(f"cells={cells!r} is not allowed: it must be an integer >= 2")
    cells = int(cells_f)
    total = length + 2 * crossover
    edges = np.linspace(0.0, total, cells + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    weight = smooth_step(mid / crossover) * smooth_step((total - mid) / crossover)
    return WireProfile(edges, 1.0 + (K_c - 1.0) * weight, v_F + (u_c - v_F) * weight, 1.0, v_F,
                       f_max)


@dataclass
class ACConductance:
    """Two-terminal ac conductance of a Luttinger-liquid wire (bosonized model).

    Attributes
    ----------
    frequency_GHz : ndarray
        Frequencies f = omega / 2 pi (GHz).
    conductance : ndarray
        Complex G(omega) / G0 = t(omega), G0 = 2e^2/h. Phase convention: time
        dependence e^{-i omega t}; t is the amplitude of the transmitted wave at
        the right end of the profile per unit incident wave at its left end, so
        a uniform K = 1 wire of length L gives t = exp(+i omega L / v_F) (the
        phase is the transit delay, positive). For the engineering convention
        e^{+j omega t} take the complex conjugate.
    reflection : ndarray
        Complex plasmon reflection amplitude r(omega); |r|^2 + |t|^2 = 1.
    """

    frequency_GHz: np.ndarray
    conductance: np.ndarray
    reflection: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        """|G(omega)| / G0 (dimensionless)."""
        return np.abs(self.conductance)


def _transfer(profile: WireProfile, omega: float) -> np.ndarray:
    """Transfer matrix of (phi, (u/K) phi') across the wire at angular frequency omega (1/s)."""
    matrix = np.eye(2, dtype=complex)
    widths = np.diff(profile.edges) * 1e-9
    for d, K, u in zip(widths, profile.K, profile.u):
        k = omega / u
        admittance = omega / K                # (u/K) k
        kd = k * d
        cell = np.array([[math.cos(kd), math.sin(kd) / admittance if omega else d * K / u],
                         [-admittance * math.sin(kd), math.cos(kd)]], dtype=complex)
        matrix = cell @ matrix
    return matrix


def ac_conductance(profile: WireProfile, frequency_GHz) -> ACConductance:
    """Two-terminal ac conductance G(omega)/G0 of the wire between K = 1 leads.

    Parameters
    ----------
    profile : WireProfile
        From :func:`wire_profile`.
    frequency_GHz : array_like
        Frequencies f = omega / 2 pi (GHz). The bosonized model linearizes the
        spectrum and holds for h f << E_F: values outside
        [0, profile.max_frequency_GHz] (f_max = E_F / h; 1.84e3 GHz for GaAs with
        v_F = 2e5 m/s) are refused; close to f_max results are qualitative.

    Returns
    -------
    ACConductance
        G(omega)/G0 and r(omega) at each frequency; f = 0 returns the exact dc
        values t = 1, r = 0. Phase convention: e^{-i omega t}, t referred from
        the left end of the profile to its right end (:class:`ACConductance`).
    """
    try:
        freqs = np.atleast_1d(np.asarray(frequency_GHz, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"frequency={frequency_GHz!r} is not allowed: it must be real "
                         "numbers (GHz)") from None
    f_max = profile.max_frequency_GHz
    bad = ~np.isfinite(freqs) | (freqs < 0) | (freqs > f_max)
    if np.any(bad):
        raise ValueError(f"frequency={float(freqs[bad][0])!r} GHz is not allowed: it must lie in "
                         f"[0, {f_max:.6g}] GHz, below the band scale E_F/h where the linear "
                         "(bosonized) spectrum holds")
    conductance = np.empty(freqs.shape, dtype=complex)
    reflection = np.empty(freqs.shape, dtype=complex)
    for i, f in enumerate(freqs):
        omega = 2 * math.pi * f * 1e9
        if omega == 0:
            conductance[i], reflection[i] = 1.0, 0.0      # exact dc limit
            continue
        z_left = omega / profile.K_lead
        z_right = omega / profile.K_lead
        m = _transfer(profile, omega)
        # Left: phi = e^{ikx} + r e^{-ikx} -> (1 + r, i z (1 - r)); right: t e^{ikx} -> (t, i z t).
        # m @ left = right: two linear equations for (r, t).
        a = np.array([[m[0, 0] - 1j * z_left * m[0, 1], -1.0],
                      [m[1, 0] - 1j * z_left * m[1, 1], -1j * z_right]], dtype=complex)
        b = -np.array([m[0, 0] + 1j * z_left * m[0, 1], m[1, 0] + 1j * z_left * m[1, 1]])
        r, t = np.linalg.solve(a, b)
        conductance[i], reflection[i] = t, r
    return ACConductance(freqs, conductance, reflection)


def intrinsic_conductance(K_c: float) -> float:
    """Conductance of the interacting wire alone (infinite, homogeneous): K_c G0.

    Bosonized result (Kane & Fisher 1992; Apel & Rice 1982): the characteristic
    admittance of a homogeneous Luttinger liquid. It is what a measurement *inside*
    an infinite wire would give; with Fermi-liquid leads attached the dc
    two-terminal value is G0 (:func:`ac_conductance`). The admittance ratio K_c
    is checked numerically by the quarter-wave minimum 2 K_c / (1 + K_c^2) of
    |G(omega)|.

    Parameters
    ----------
    K_c : float
        Charge-sector Luttinger parameter of the wire (> 0).

    Returns
    -------
    float
        G_intrinsic / G0 = K_c (dimensionless; G0 = 2e^2/h).
    """
    return _validate.positive("K_c", K_c)


def fabry_perot_period(length_nm: float, u_c: float) -> float:
    """Frequency period of the Fabry-Pérot oscillations, Delta f = u_c / (2 L) (GHz).

    Equivalently Delta omega = pi u_c / L, the inverse of the round-trip time
    2 L / u_c. ``length_nm`` in nm, ``u_c`` in m/s.
    """
    return _validate.positive("u_c", u_c, "m/s") / (2 * _validate.positive("length", length_nm, "nm")
                                                     * 1e-9) / 1e9


# ---------------------------------------------------------------- Kane-Fisher
@dataclass
class KaneFisherFlow:
    """G(T)/G0 of a wire with one impurity (bosonized RG).

    Attributes
    ----------
    K : float
        Luttinger parameter (dimensionless).
    temperature_K : ndarray
        Temperatures (K).
    conductance : ndarray
        G/G0 at each temperature (dimensionless).
    """

    K: float
    temperature_K: np.ndarray
    conductance: np.ndarray


def kane_fisher_flow(K: float, temperatures_K, g_at_cutoff: float = 0.5,
                     cutoff_K: float = 100.0, spinful: bool = False) -> KaneFisherFlow:
    """Integrate the interpolating Kane-Fisher flow from the cutoff down to each T.

    Parameters
    ----------
    K : float
        Luttinger parameter (> 0).
    temperatures_K : array_like
        Temperatures (K), 0 < T <= cutoff_K.
    g_at_cutoff : float
        G/G0 at T = cutoff_K, in (0, 1).
    cutoff_K : float
        Band cutoff Lambda as a temperature (K); below it the bosonized low-energy
        theory holds.
    spinful : bool
        False: one-component (spinless) liquid, exponents 2K-2 and 2/K-2.
        True: spin-degenerate channel with K = K_rho, K_sigma = 1, exponents
        K-1 and 1/K-1 (half the spinless rate; :func:`spinful_exponents`).

    Returns
    -------
    KaneFisherFlow
        G/G0 at each temperature (same order as given). Exponents exact in the
        weak-barrier and weak-link limits; the crossover is an interpolation.
    """
    K = _validate.positive("K", K)
    cutoff = _validate.positive("cutoff", cutoff_K, "K")
    g0 = _validate.real_number("g_at_cutoff", g_at_cutoff)
    if not 0 < g0 < 1:
        raise ValueError(f"g_at_cutoff={g0!r} is not allowed: it must lie in (0, 1)")
    temps = np.atleast_1d(np.asarray(temperatures_K, dtype=float))
    if temps.size == 0:
        raise ValueError("temperatures=[] is not allowed: give at least one temperature (K)")
    bad = ~np.isfinite(temps) | (temps <= 0) | (temps > cutoff)
    if np.any(bad):
        raise ValueError(f"temperature={float(temps[bad][0])!r} K is not allowed: it must lie in "
                         f"(0, {cutoff:g}] K (0 < T <= cutoff): the RG runs from the cutoff "
                         "Lambda down; above it the model does not apply")
    ls = np.log(cutoff / temps)
    order = np.argsort(ls)
    # Integrate in log(g) and log(1-g) where the flow is linear: use the
    # variable s = log(g / (1 - g)), for which ds/dl = g' / (g (1 - g)).
    rate = 1.0 if spinful else 2.0

    def rhs(l, s):
        g = 1.0 / (1.0 + math.exp(-s[0]))
        return [-rate * (1.0 - K) * (g + (1.0 - g) / K)]
    sol = scipy.integrate.solve_ivp(rhs, (0.0, float(ls.max())), [math.log(g0 / (1 - g0))],
                                    t_eval=np.sort(ls), rtol=1e-12, atol=1e-14, method="DOP853")
    s = np.empty_like(ls)
    s[order] = sol.y[0]
    g = 1.0 / (1.0 + np.exp(-s))
    return KaneFisherFlow(K, temps, g)


def kane_fisher_half_exact(temperatures_K, crossover_K: float) -> np.ndarray:
    """Exact G/G0 at K = 1/2 (refermionization): 1 - (T_B/2piT) psi'(1/2 + T_B/2piT).

    Kane & Fisher (1992); limits 1 - pi T_B/(4T) (T >> T_B) and ~ T^2 (T << T_B).
    """
    temps = _validate.finite_sequence("temperatures_K", np.atleast_1d(temperatures_K), "K")
    if np.any(temps <= 0):    # (T < 0 gave G/G0 = 2.54)
        raise ValueError(f"temperatures_K={temperatures_K!r} is not allowed: each must be > 0 K")
    temps = temps.reshape(np.shape(temperatures_K))
    z = _validate.positive("crossover", crossover_K, "K") / (2 * np.pi * temps)
    return 1.0 - z * scipy.special.polygamma(1, 0.5 + z)


def kane_fisher_half_crossover(g_at_cutoff: float, cutoff_K: float = 100.0) -> float:
    """Crossover temperature T_B (K) of the exact K = 1/2 solution that has
    G/G0 = ``g_at_cutoff`` at T = ``cutoff_K``: the same bare impurity as a
    :func:`kane_fisher_flow` started there."""
    import scipy.optimize

    g0 = _validate.real_number("g_at_cutoff", g_at_cutoff)
    if not 0 < g0 < 1:
        raise ValueError(f"g_at_cutoff={g0!r} is not allowed: it must lie in (0, 1)")
    cutoff = _validate.positive("cutoff", cutoff_K, "K")

    def miss(log_tb):
        return float(kane_fisher_half_exact([cutoff], math.exp(log_tb))[0]) - g0
    return math.exp(scipy.optimize.brentq(miss, math.log(cutoff) - 40, math.log(cutoff) + 20,
                                          xtol=1e-14))


def fit_power_law(x, y) -> float:
    """Exponent p of y ~ x^p from a least-squares line in log-log (dimensionless).

    ``x`` and ``y`` must be positive (at least two points).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must have the same shape with >= 2 points (got {x.shape}, "
                         f"{y.shape})")
    for name, arr in (("x", x), ("y", y)):
        bad = ~np.isfinite(arr) | (arr <= 0)
        if np.any(bad):
            raise ValueError(f"{name}={float(arr[bad][0])!r} is not allowed: a power-law fit needs "
                             "finite values > 0")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def spinful_exponents(K_rho: float, K_sigma: float = 1.0) -> tuple[float, float]:
    """Kane-Fisher exponents of a spin-degenerate channel (bosonized).

    For electrons with spin the backscattering operator involves both sectors:
    the weak-barrier eigenvalue is 1 - (K_rho + K_sigma)/2 and the weak-link one
    1 - (1/K_rho + 1/K_sigma)/2 (Kane & Fisher 1992). This module's flow is
    written for one component with parameter K; a spinful wire maps onto it
    with K_eff = (K_rho + K_sigma)/2 at weak barrier and
    1/K_eff = (1/K_rho + 1/K_sigma)/2 at weak link.

    Returns
    -------
    (float, float)
        Exponents of delta G ~ -T^a (weak barrier) and G ~ T^b (weak link).
    """
    K_rho = _validate.positive("K_rho", K_rho)
    K_sigma = _validate.positive("K_sigma", K_sigma)
    return K_rho + K_sigma - 2.0, 1.0 / K_rho + 1.0 / K_sigma - 2.0


# ---------------------------------------------------------------- K = 1 reference
def tight_binding_impurity(U_meV: float, energy_meV: float, temperatures_K=(0.0,),
                           a_nm: float = 2.0):
    """Transmission of a one-channel tight-binding chain with one on-site impurity.

    The non-interacting (K = 1) reference: computed with qpcsim's solver
    (tight binding, not bosonization) at each temperature.

    Parameters
    ----------
    U_meV : float
        Impurity potential on one site (meV).
    energy_meV : float
        Fermi energy (meV) from the 2DEG band bottom; the chain's band starts at
        2t (its single transverse level).
    temperatures_K : sequence of float
        Temperatures (K).
    a_nm : float
        Lattice constant (nm).

    Returns
    -------
    transmissions : ndarray
        Thermally averaged transmission at each temperature.
    analytic : float
        1/(1 + (U / (2 t sin k))^2) at the Fermi energy, with E = 2t + 2t(1 - cos k).
    """
    U = _validate.real_number("U", U_meV, "meV")
    a = _validate.positive("a", a_nm, "nm")
    energy_meV = _validate.real_number("energy", energy_meV, "meV")
    temperatures = [_validate.non_negative("temperature", T, "K")
                    for T in np.atleast_1d(np.asarray(temperatures_K, dtype=object))]

    def potential(x, y, U=U):
        return np.where(np.abs(x) < 0.5 * a, U, 0.0) + 0.0 * y

    chain = Device(width=2 * a, length=20 * a, a=a, potential=potential, name="impurity chain")
    t = chain.t
    cos_k = 1.0 - (energy_meV - 2 * t) / (2 * t)
    if not -1 < cos_k < 1:
        raise ValueError(f"energy={energy_meV!r} meV is not allowed: the chain's band is "
                         f"({2 * t:.4g}, {6 * t:.4g}) meV")
    analytic = 1.0 / (1.0 + (U / (2 * t * math.sqrt(1 - cos_k**2))) ** 2)
    values = np.array([solve(chain, energy_meV, temperature=T).transmission
                       for T in temperatures])
    return values, analytic
