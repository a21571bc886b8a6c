"""Dephasing by Büttiker voltage probes.

A voltage probe is a fictitious terminal whose electrochemical potential floats
so that it draws no net current: every electron it absorbs is re-emitted with a
random phase (Büttiker, Phys. Rev. B 33, 3020 (1986); IBM J. Res. Dev. 32, 63
(1988)). Here every ``spacing``-th column of the scattering region couples to
its own probe, a wide-band virtual lead with self-energy ``Sigma = -i c t`` on
each site of the column (``c``: the dimensionless coupling in [0, 1], ``t`` the
hopping). A wave packet on a probed site leaks into the probe at the rate
``Gamma/hbar = 2 c t / hbar``, so the phase-breaking time and lengths are::

    tau_phi = hbar * spacing / (2 c t)
    l_phi   = v_F tau_phi                       (ballistic: l_tr > l_phi)
    L_phi   = sqrt(D tau_phi),  D = v_F l_tr/2  (diffusive 2-D: l_tr < l_phi)

and an electron in lead mode n (longitudinal group velocity v_n) keeps its
phase over l_n = v_n tau_phi (:func:`mode_coherence_lengths`). This is checked
directly: in a clean wire the direct (never absorbed) transmission is
sum_n exp(-L/l_n) to 0.2 % (``tests/test_dephasing.py``).

Transport is multi-terminal Landauer–Büttiker: T_pq (q -> p) between all
terminals from the Fisher–Lee formula T_pq = Tr(Gamma_p G Gamma_q G^dagger)
(``kwant.greens_function`` with one ``kwant.builder.SelfEnergyLead`` per probe);
source mu = 1, drain mu = 0, probe potentials from zero net probe current, and
G = I_source in units of G0. With ``c = 0`` this reproduces the coherent
two-terminal result exactly; current conservation (row sums = column sums of
T) is reported with every result.

Limits: the probes relax momentum as well as phase. A probe re-emits what it
absorbs into all modes and both directions, so l_phi is also a momentum
relaxation length and the probes add an Ohmic resistance even to a clean
ballistic wire (6 modes, W = 100 nm, L = 200 nm, c = 0.03, l_phi = 163 nm:
G = 3.1 instead of 6), which pure dephasing would not. They model dephasing
faithfully in diffusive samples (l_tr << l_phi); in ballistic ones read L_phi
as a combined phase-and-momentum relaxation length. There is no
momentum-conserving (pure-dephasing) variant here;
:func:`qpcsim.length_scales` takes ``dephasing="probes"`` to include the
probes' backscattering in its plateau verdict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from ..backends import solver_context
from ..solver import check_energy
from ..terminals import spin_factor_of
from ..units import NM_IN_M, fermi_velocity_m_per_s, lifetime_ps

__all__ = ["ProbeResult", "probe_conductance", "DephasingLength", "dephasing_length",
           "coupling_for_length", "mode_coherence_lengths", "check_coupling"]


def check_coupling(coupling) -> float:
    """A probe coupling must lie in [0, 1] (dimensionless: Sigma = -i c t)."""
    value = _validate.real_number("coupling", coupling)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"coupling={value!r} is not allowed: a probe coupling c sets the self-energy "
            "-i c t of each probed site and must lie in [0, 1] (0 = coherent, 1 = an escape "
            "rate of the full 1-D bandwidth)")
    return value


@dataclass
class ProbeResult:
    """Multi-terminal result with Büttiker probes.

    Attributes
    ----------
    conductance : float
        Two-terminal conductance with floating probes (G0).
    coherent_transmission : float
        Direct transmission T_10 source -> drain (without probe re-emission).
    probe_potentials : ndarray
        Probe potentials mu_k, in units of the bias (source 1, drain 0).
    currents : ndarray
        Currents into every terminal (source, drain, probes) in G0 x bias.
    current_sum : float
        |sum of all terminal currents| (conservation, should be ~1e-15).
    sum_rule_error : float
        max_p |sum_q T_pq - sum_q T_qp|: zero net current at equal potentials;
        the non-trivial check of current conservation (~1e-12).
    probe_current_error : float
        Largest |current| in a probe after solving (should be ~1e-12).
    transmission : ndarray
        T_pq (q -> p) between all terminals (0 source, 1 drain, 2.. probes).
    coupling : float
        Probe coupling c.
    probe_columns : ndarray
        Column indices of the probes.
    """

    conductance: float
    coherent_transmission: float
    probe_potentials: np.ndarray
    currents: np.ndarray
    current_sum: float
    sum_rule_error: float
    probe_current_error: float
    transmission: np.ndarray = field(repr=False)
    coupling: float = 0.0
    probe_columns: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


def _probe_system(device, spacing: int):
    """Finalized Kwant system: the device's own model plus one self-energy lead
    per probed column (cached in the device's solver context)."""
    cache = solver_context(device).derived_systems
    key = ("dephasing probes", spacing)
    if key in cache:
        return cache[key]
    import kwant
    device.build()             # the value functions look up the device's own site order
    lat = kwant.lattice.square(1, norbs=device.norbs, name="")
    syst = device.builder()            # the device's own model and its two leads
    tags = device.site_tags()
    columns = np.arange(0, device.nx, spacing)
    norbs = device.norbs
    for i in columns:
        iface = [lat(int(i), int(j)) for ii, j in tags if ii == i]
        size = len(iface) * norbs

        def selfenergy(energy, args=(), *, params=None, _size=size):
            return -1j * params["probe_coupling"] * np.eye(_size)
        syst.leads.append(kwant.builder.SelfEnergyLead(selfenergy, iface, ("probe_coupling",)))
    fsyst = syst.finalized()
    cache[key] = (fsyst, columns)
    return fsyst, columns


def _sqrt_gamma(gamma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(0.5 * (gamma + gamma.conj().T))
    return v * np.sqrt(np.clip(w, 0.0, None))


def probe_conductance(device, energy: float, coupling: float, *, spacing: int = 1,
                      **params) -> ProbeResult:
    """Conductance of ``device`` with Büttiker voltage probes.

    Parameters
    ----------
    device : qpcsim.Device
        Any two-terminal device.
    energy : float
        Fermi energy (meV).
    coupling : float
        Probe coupling c in [0, 1]: self-energy -i c t on every probed site.
    spacing : int
        A probe on every ``spacing``-th column (1 = every column).
    **params
        Device parameters (meV, V, T, ...).

    Returns
    -------
    ProbeResult
    """
    import kwant

    c = check_coupling(coupling)
    if isinstance(spacing, bool) or int(spacing) != spacing or spacing < 1:
        raise ValueError(f"spacing={spacing!r} is not allowed: it must be a positive integer")
    resolved = device.resolve_params(params)
    energy = check_energy(device, energy, resolved)
    fsyst, columns = _probe_system(device, int(spacing))
    kparams = dict(resolved, probe_coupling=c)
    e = energy / device.t
    gf = kwant.greens_function(fsyst, e, params=kparams)
    G = np.asarray(gf.data)
    sizes = [len(iface) * device.norbs for iface in fsyst.lead_interfaces]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    # Gamma_p = L_p L_p^dagger; T_pq = || L_p^dagger G_pq L_q ||_F^2.
    blocks = []
    for k, lead in enumerate(fsyst.leads):
        if k < 2:
            sigma = np.asarray(lead.selfenergy(e, params=kparams))
            blocks.append(_sqrt_gamma(1j * (sigma - sigma.conj().T)))
        else:
            blocks.append(math.sqrt(2 * c) * np.eye(sizes[k]))
    import scipy.linalg
    L = scipy.linalg.block_diag(*blocks)
    X = np.abs(L.conj().T @ G @ L) ** 2
    T = np.add.reduceat(np.add.reduceat(X, offsets[:-1], axis=0), offsets[:-1], axis=1)
    spin = spin_factor_of(device)
    return _solve_terminals(T, spin, c, columns)


def _solve_terminals(T: np.ndarray, spin: float, coupling: float, columns) -> ProbeResult:
    n = T.shape[0]
    Tm = T.copy()
    np.fill_diagonal(Tm, 0.0)
    # Büttiker: I_p = (sum_{q != p} T_qp) mu_p - sum_{q != p} T_pq mu_q
    A = np.diag(Tm.sum(axis=0)) - Tm
    mu = np.zeros(n)
    mu[0] = 1.0
    if n > 2:
        probes = np.arange(2, n)
        rhs = -A[np.ix_(probes, [0])][:, 0]
        mu[probes] = np.linalg.lstsq(A[np.ix_(probes, probes)], rhs, rcond=1e-13)[0]
    currents = spin * (A @ mu)
    sum_rule = float(np.max(np.abs(Tm.sum(axis=1) - Tm.sum(axis=0))))
    probe_err = float(np.max(np.abs(currents[2:]))) if n > 2 else 0.0
    return ProbeResult(conductance=float(currents[0]), coherent_transmission=float(T[1, 0]),
                       probe_potentials=mu[2:], currents=currents,
                       current_sum=float(abs(currents.sum())), sum_rule_error=sum_rule,
                       probe_current_error=probe_err, transmission=T, coupling=coupling,
                       probe_columns=np.asarray(columns))


@dataclass
class DephasingLength:
    """Phase coherence set by a probe coupling.

    Attributes
    ----------
    tau_phi_ps : float
        Phase-breaking time hbar*spacing/(2 c t) (ps).
    l_phi_ballistic : float
        v_F tau_phi (nm).
    L_phi : float
        The coherence length that applies: sqrt(D tau_phi) with D = v_F l_tr/2
        when l_tr < v_F tau_phi (diffusive), else v_F tau_phi (nm).
    regime : str
        ``"ballistic"`` or ``"diffusive"``.
    """

    tau_phi_ps: float
    l_phi_ballistic: float
    L_phi: float
    regime: str


def dephasing_length(device, energy: float, coupling: float, *, spacing: int = 1,
                     l_tr: float = math.inf) -> DephasingLength:
    """L_phi (nm) of probes with coupling ``c`` at Fermi energy ``energy`` (meV).

    ``l_tr`` (nm) is the transport mean free path (infinite: ballistic).
    """
    c = check_coupling(coupling)
    if l_tr != math.inf:      # infinite: ballistic
        l_tr = _validate.positive("l_tr", l_tr, "nm")
    if c == 0:
        return DephasingLength(math.inf, math.inf, math.inf, "coherent")
    tau_ps = lifetime_ps(2 * c * device.t / spacing)       # hbar / (probe escape rate)
    v = fermi_velocity_m_per_s(energy, device.material)
    l_bal = v * tau_ps * 1e-12 / NM_IN_M
    if l_tr < l_bal:
        return DephasingLength(tau_ps, l_bal, math.sqrt(0.5 * l_tr * l_bal), "diffusive")
    return DephasingLength(tau_ps, l_bal, l_bal, "ballistic")


def coupling_for_length(device, energy: float, L_phi: float, *, spacing: int = 1,
                        l_tr: float = math.inf) -> float:
    """Inverse of :func:`dephasing_length`: the coupling that gives ``L_phi`` (nm)."""
    L_phi = _validate.positive("L_phi", L_phi, "nm")
    l_bal_1 = dephasing_length(device, energy, 1.0, spacing=spacing).l_phi_ballistic
    # ballistic: l_bal = l_bal_1 / c; diffusive: L_phi^2 = l_tr l_bal / 2
    l_bal = L_phi if L_phi <= l_tr else 2 * L_phi**2 / l_tr
    c = l_bal_1 / l_bal
    if c > 1:
        raise ValueError(f"L_phi={L_phi:g} nm is shorter than the strongest probes allow "
                         f"({l_bal_1:.3g} nm at coupling 1)")
    return c


def mode_coherence_lengths(device, energy: float, coupling: float, *,
                           spacing: int = 1, **params) -> np.ndarray:
    """Phase-coherence length l_n = v_n tau_phi (nm) of each open lead mode.

    ``v_n = 2 t a sin(k_n a)/hbar`` is the longitudinal group velocity of mode n
    on the lattice (lead subband E_n, ``E = E_n + 2t(1 - cos k_n a)``) and
    ``tau_phi = hbar spacing/(2 c t)``, so ``l_n = a spacing sin(k_n a)/c``. In
    a clean wire of L the probability to cross without entering a probe is
    ``exp(-L/l_n)`` per mode (the ``coherent_transmission`` of
    :func:`probe_conductance`).

    Parameters
    ----------
    device : qpcsim.Device
        The device (its lead fixes the modes).
    energy : float
        Fermi energy (meV).
    coupling : float
        Probe coupling c in [0, 1].
    spacing : int
        A probe on every ``spacing``-th column.
    **params
        Device parameters (``B`` is not supported here: lead modes at B = 0).
    """
    c = check_coupling(coupling)
    resolved = device.resolve_params(params)
    if resolved.get("B", 0.0) != 0.0:
        raise ValueError("mode_coherence_lengths uses the B = 0 lead subbands; give B=0")
    thresholds = device.transverse_mode_energies()
    if device.zeeman:
        ez = 0.5 * resolved.get("E_Z", 0.0)
        thresholds = np.sort(np.concatenate([thresholds - ez, thresholds + ez]))
    open_ = thresholds[thresholds < energy]
    ka = np.arccos(np.clip(1.0 - (energy - open_) / (2 * device.t), -1.0, 1.0))
    if c == 0:
        return np.full(open_.size, math.inf)
    return device.a * spacing * np.sin(ka) / c
