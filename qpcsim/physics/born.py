"""Born approximation for the mean free path of disorder on the square lattice.

Derived in ``docs/disorder_and_lengths.md``: Anderson disorder (white noise) and
Gaussian-correlated disorder, on the lattice's own Fermi contour (density of
states and velocities of the tight-binding band, not the continuum's).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..units import (
    GAAS,
    hopping_meV,
    lattice_velocity_m_per_s,
    lifetime_ps,
    wavevector_per_nm,
)
from .disorder import check_correlation_length

__all__ = ["lattice_dos_per_site", "fermi_surface_velocity", "BornEstimate",
           "born_mean_free_path", "BORN_VALIDITY_LIMIT"]


#: Largest hbar/tau / E_F for which the Born estimate is trusted (k_F l_e >~ 2 pi).
BORN_VALIDITY_LIMIT = 0.3


def lattice_dos_per_site(energy_t: float) -> float:
    """Density of states per site and spin of the square lattice (1/t).

    ``rho(E) = K(1 - (eps/4)^2) / (2 pi^2 t)`` with ``eps = E/t - 4`` measured
    from the band centre (E from the band bottom, in units of t) and K the
    complete elliptic integral of the first kind (parameter m). ``rho -> 1/(4 pi t)``
    at the band bottom, the continuum value m*a^2/(2 pi hbar^2).
    """
    import scipy.special
    e = _validate.real_number("energy", energy_t, "t")
    if not 0 < e < 8:
        raise ValueError(f"energy={e:g} t is outside the band (0, 8t)")
    eps = e - 4.0
    return float(scipy.special.ellipk(1.0 - (eps / 4.0) ** 2) / (2 * math.pi**2))


def fermi_surface_velocity(energy_t: float, samples: int = 20001) -> float:
    """Fermi-surface average of the speed |v| on the square lattice (t a / hbar).

    ``<|v|> = int d^2k delta(E - e_k) |v_k| / int d^2k delta(E - e_k)`` with
    ``e_k = 4 - 2 cos kx - 2 cos ky`` and ``v = 2 (sin kx, sin ky)``; the contour is
    parametrized by ``kx = kmax sin(phi)`` so the turning points are integrable.
    Tends to the continuum value ``2 sqrt(E/t)`` near the band bottom.
    """
    e = _validate.real_number("energy", energy_t, "t")
    if not 0 < e < 8:
        raise ValueError(f"energy={e:g} t is outside the band (0, 8t)")
    c = 2.0 - 0.5 * e   # cos kx + cos ky on the Fermi contour
    c = abs(c)           # (kx, ky) -> (pi - kx, pi - ky) maps c -> -c, |v| unchanged
    if c >= 2.0:
        return 0.0
    kmax = math.acos(c - 1.0)
    phi = (np.arange(samples) + 0.5) / samples * math.pi - 0.5 * math.pi
    kx = kmax * np.sin(phi)
    ky = np.arccos(np.clip(c - np.cos(kx), -1.0, 1.0))
    vx, vy = 2 * np.sin(kx), 2 * np.sin(ky)
    weight = kmax * np.cos(phi) / np.maximum(np.abs(vy), 1e-300)
    return float(np.sum(np.hypot(vx, vy) * weight) / np.sum(weight))


def _fermi_contour(energy_t: float, samples: int = 400):
    """Points on the square-lattice Fermi contour e_k = E with their density-of-
    states weights (sum 1): ``kx, ky`` (1/a), ``vx, vy`` (t a/hbar), ``w``.

    Parametrized as in :func:`fermi_surface_velocity` (upper half mirrored to the
    lower). Above the band centre the contour of 8t - E is used: (kx, ky) ->
    (pi - kx, pi - ky) leaves |v| and every |k - k'| pattern's statistics alike.
    """
    c = abs(2.0 - 0.5 * energy_t)
    kmax = math.acos(c - 1.0)
    phi = (np.arange(samples) + 0.5) / samples * math.pi - 0.5 * math.pi
    kx = kmax * np.sin(phi)
    ky = np.arccos(np.clip(c - np.cos(kx), -1.0, 1.0))
    w = kmax * np.cos(phi) / np.maximum(2 * np.abs(np.sin(ky)), 1e-300)
    kx, ky, w = np.concatenate([kx, kx]), np.concatenate([ky, -ky]), np.concatenate([w, w])
    return kx, ky, 2 * np.sin(kx), 2 * np.sin(ky), w / w.sum()


#: Longest correlation length (lattice constants) :func:`born_mean_free_path` takes.
MAX_CORRELATION_SITES = 1000


def _kernel_1d(correlation_sites: float):
    """The 1-D Gaussian of :func:`correlated_landscape`'s filter: weights g(s) at
    offsets s (sites), normalized so the 2-D kernel g(sx) g(sy) has unit norm."""
    import scipy.ndimage
    lc = float(correlation_sites)
    pad = int(math.ceil(4 * lc))
    delta = np.zeros(2 * pad + 1)
    delta[pad] = 1.0
    g = scipy.ndimage.gaussian_filter1d(delta, lc / math.sqrt(2.0), mode="constant", truncate=4.0)
    return g / math.sqrt(float(np.sum(g**2))), np.arange(-pad, pad + 1)


def _pair_transform(k, g, s):
    """ghat(k_i - k_j) = sum_s g(s) e^{i (k_i - k_j) s} for all pairs, via
    cos/sin products (an n x m times m x n product instead of n^2 m exponentials)."""
    c, sn = np.cos(np.outer(k, s)), np.sin(np.outer(k, s))
    return (c * g) @ c.T + (sn * g) @ sn.T + 1j * ((sn * g) @ c.T - (c * g) @ sn.T)


def _born_averages(energy_t: float, correlation_sites: float, samples: int = 300):
    """<S(k - k')> and <S(k - k') (1 - cos theta_vv')> over pairs of Fermi-contour
    points (DOS-weighted): the elastic and transport factors of the golden rule.

    S(q) = |ghat(qx)|^2 |ghat(qy)|^2 is the normalized spectral density of the
    landscape (mean 1 over the Brillouin zone, S = 1 for white noise): the 2-D
    filter of :func:`correlated_landscape` is the outer product g(sx) g(sy).
    """
    kx, ky, vx, vy, w = _fermi_contour(energy_t, samples)
    g, s = _kernel_1d(correlation_sites)
    S = np.abs(_pair_transform(kx, g, s)) ** 2 * np.abs(_pair_transform(ky, g, s)) ** 2
    speed = np.hypot(vx, vy)
    cos = (vx[:, None] * vx[None, :] + vy[:, None] * vy[None, :]) / np.outer(speed, speed)
    ww = np.outer(w, w)
    return float(np.sum(ww * S)), float(np.sum(ww * S * (1.0 - cos)))


@dataclass
class BornEstimate:
    """Born-approximation scattering of disorder on the square lattice.

    Attributes
    ----------
    energy, strength : float
        Fermi energy (meV, from the band bottom) and the disorder strength
        (meV): Anderson U, or the rms amplitude when correlated.
    correlation_length : float
        Gaussian correlation length (nm); 0 = Anderson disorder.
    hbar_over_tau : float
        Elastic scattering rate hbar/tau_e (meV): 2 pi rho(E) U^2/12 for
        Anderson disorder, 2 pi rho(E) U_rms^2 <S(k - k')> when correlated.
    tau_ps : float
        Elastic scattering time (ps).
    velocity : float
        Fermi-surface average speed (m/s).
    l_e : float
        Elastic mean free path v tau_e (nm).
    l_tr : float
        Transport mean free path v tau_tr (nm); equal to l_e for isotropic
        point scatterers (Anderson), longer for smooth disorder.
    l_wire : float
        The l of the quasi-1-D law <T> = N/(1 + L/l): (pi/2) l_tr in 2-D (nm).
    k_f_l : float
        k_F l_e (dimensionless); the Born estimate needs k_F l_e >> 1.
    ratio : float
        (hbar/tau_e)/E_F; reliable below ``BORN_VALIDITY_LIMIT``.
    valid : bool
        Whether the weak-disorder condition holds.
    """

    energy: float
    strength: float
    hbar_over_tau: float
    tau_ps: float
    velocity: float
    l_e: float
    l_tr: float
    l_wire: float
    k_f_l: float
    ratio: float
    valid: bool
    correlation_length: float = 0.0


def born_mean_free_path(energy: float, strength: float, a: float, *,
                        correlation_length: float = 0.0, material=None,
                        warn: bool = True) -> BornEstimate:
    """Born mean free paths of disorder of strength ``strength`` at ``energy``.

    Fermi's golden rule on the square lattice (derived in
    ``docs/disorder_and_lengths.md``): ``hbar/tau_e = 2 pi rho(E) <V^2> <S>``
    with rho the lattice DOS per site, ``<V^2> = U^2/12`` (Anderson) or
    ``U_rms^2`` (correlated), and S(q) the normalized spectral density of the
    landscape (1 for Anderson) averaged over pairs of Fermi-contour points;
    the transport rate carries the extra factor ``1 - cos theta`` between the
    velocities. ``l = <|v|> tau``.

    Parameters
    ----------
    energy : float
        Fermi energy (meV), measured from the band bottom; inside the band (0, 8t).
    strength : float
        Disorder strength (meV): Anderson U, or the rms amplitude U_rms of
        correlated disorder.
    a : float
        Lattice constant (nm).
    correlation_length : float
        Gaussian correlation length (nm) of :func:`correlated_landscape`; 0
        (default) = Anderson disorder.
    material : qpcsim.Material, optional
        Sets t = hbar^2/(2 m* a^2); GaAs by default.
    warn : bool
        Warn (RuntimeWarning, with the reason) when the disorder is too strong
        for the Born approximation (hbar/tau_e > 0.3 E_F).
    """
    material = material or GAAS
    energy = _validate.positive("energy", energy, "meV")
    U = _validate.non_negative("disorder", strength, "meV")
    a = _validate.positive("a", a, "nm")
    lc = check_correlation_length(correlation_length)
    if lc > MAX_CORRELATION_SITES * a:
        # its kernel spans 8 lc sites, paired with every Fermi-contour point (1e9 nm: 30 GiB)
        raise ValueError(f"correlation_length={lc:g} nm is not allowed: at most "
                         f"{MAX_CORRELATION_SITES} lattice constants ({MAX_CORRELATION_SITES * a:g} "
                         f"nm at a={a:g} nm): the Born integral's kernel spans 8 lc lattice sites")
    t = hopping_meV(a, material)
    e = energy / t
    rho = lattice_dos_per_site(e) / t                       # 1/meV per site (checks the band)
    if lc == 0:
        v2, s_el, s_tr = U**2 / 12.0, 1.0, 1.0
    else:
        v2 = U**2
        s_el, s_tr = _born_averages(e, lc / a)
    rate = 2 * math.pi * rho * v2 * s_el                      # hbar/tau_e in meV
    rate_tr = 2 * math.pi * rho * v2 * s_tr                   # hbar/tau_tr in meV
    v_lat = fermi_surface_velocity(e)                        # t a / hbar
    velocity = lattice_velocity_m_per_s(v_lat, t, a)          # m/s
    if rate == 0:
        l_e, l_tr, tau_ps = math.inf, math.inf, math.inf
    else:
        l_e = v_lat * t / rate * a                           # nm
        l_tr = v_lat * t / rate_tr * a
        tau_ps = lifetime_ps(rate)
    kf = wavevector_per_nm(energy, material)
    ratio = rate / energy
    valid = ratio <= BORN_VALIDITY_LIMIT
    if warn and not valid:
        what = f"U={U:g} meV" if lc == 0 else f"U_rms={U:g} meV (lc={lc:g} nm)"
        warnings.warn(
            f"disorder {what} is too strong for the Born approximation at E={energy:g} meV: "
            f"hbar/tau = {rate:.3g} meV is {ratio:.2f} E_F (> {BORN_VALIDITY_LIMIT}) and "
            f"k_F l_e = {kf * l_e:.2g}; the electron is scattered before it completes a "
            "wavelength, so the Born mean free path is meaningless (measure it instead)",
            RuntimeWarning, stacklevel=2)
    return BornEstimate(energy=energy, strength=U, hbar_over_tau=rate, tau_ps=tau_ps,
                        velocity=velocity, l_e=l_e, l_tr=l_tr, l_wire=0.5 * math.pi * l_tr,
                        k_f_l=kf * l_e, ratio=ratio, valid=valid, correlation_length=lc)

