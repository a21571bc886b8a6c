"""The length-scale hierarchy of mesoscopic transport, and when plateaus survive.

Each verdict is a statement about the measured conductance: "plateaus
visible" means |G - N| < ``VISIBLE_TOL`` (0.05 G0) at the requested energy
and temperature, N the number of open *constriction* subbands. The plateau
conditions (they decide :attr:`LengthScales.plateaus_visible`) are

* ``L << l_e``: backscattering by disorder, <T> = N/(1 + L/l) with
  l = (pi/2) l_tr (2-D), so |G - N| ~ N L/(L + l);
* ``L << l_probe`` (only with ``dephasing="probes"``): Büttiker probes
  (:mod:`.dephasing`) absorb and re-emit electrons isotropically, so they
  relax momentum as well as phase; their momentum-relaxation length is the
  ballistic l_phi = v_F tau_phi and they add an Ohmic resistance even in a
  clean wire (6 modes, L = 200 nm, c = 0.03: G = 3.1 instead of 6);
* ``k_BT << dE``: thermal smearing of the *constriction's* steps. The Fermi
  window of width ~k_BT must stay inside the plateau: with delta the distance
  from E to the nearest constriction threshold the tail is
  ~ 1/(1 + exp(delta/k_BT)); ``ok`` when that is < VISIBLE_TOL;
* ``lambda_F << taper`` (devices with a constriction, or an explicit
  ``taper``): the constriction opens adiabatically. The taper is *measured*:
  the 10-90 % rise length of the lowest subband bottom E_1(x) along the
  channel (not the envelope's ``L_switch``).

Interference conditions (resonances, universal conductance fluctuations;
reported, but they do not decide plateau visibility):

* ``L << L_T``: ballistic L_T = hbar v_F/k_BT, diffusive (L > l_tr)
  L_T = sqrt(hbar D/k_BT), D = v_F l_tr/2. In a ballistic device L_T matters
  only through the structure of T(E): a flat T(E) (clean wire, adiabatic QPC)
  is untouched by energy averaging whatever L/L_T; Fabry-Perot resonances
  (energy spacing ~ hbar v_F pi/L) are averaged away when L > L_T.
* ``L << L_phi``: pure dephasing does not backscatter, so a ballistic plateau
  survives it; it washes out resonances and UCF.

The constriction (:func:`constriction_of`) is found from the transverse
lattice Hamiltonian of every column (potential at the given parameters,
B = 0, disorder switched off): the column whose lowest subband bottom is
highest is the bottleneck, its subband bottoms are the step energies, and
the curvature of E_1(x) there gives the intrinsic step width
Gamma = hbar omega_x/(2 pi) (Büttiker's saddle). An energy inside a step
(|E - E_n| < Gamma ln(1/VISIBLE_TOL)) is refused: a plateau verdict there
means nothing. A uniform device has no constriction: its steps are the
lead's subbands and the report says so.

:func:`length_scales` gathers them with ratios and verdicts; the CLI prints the
table (``qpcsim lengths``). Beside it: :mod:`.compare` (clean vs disordered gate
sweeps) and :mod:`.adiabaticity` (plateau deviation vs taper length / lambda_F).
Verdicts are checked against solves (finite T, probes, disorder) in
``tests/test_lengths.py``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .. import validate as _validate
from ..geometry import load_geometry
from ..potentials import harmonic_curvature
from ..units import (
    diffusive_thermal_length_nm,
    fermi_wavelength_nm,
    thermal_energy_meV,
    thermal_length_nm,
)
from .born import born_mean_free_path
from .ensemble import ensemble
from .fits import fit_mean_free_path

__all__ = ["Condition", "Constriction", "LengthScales", "constriction_of", "length_scales",
           "measure_mean_free_path", "VISIBLE_TOL"]

#: A plateau counts as visible when |G - N| < VISIBLE_TOL (G0); every plateau
#: condition predicts its own deviation and is met when that is below this.
VISIBLE_TOL = 0.05
#: k_B T / delta (delta: distance to the nearest step, meV) below which the
#: thermal tail 1/(1 + exp(delta/k_BT)) is < VISIBLE_TOL (= 1/ln(1/tol - 1)).
THERMAL_RATIO_OK = 1.0 / math.log(1.0 / VISIBLE_TOL - 1.0)
#: Interference conditions "a << b" count as met when a/b is below this.
MUCH_LESS = 1.0
#: A device has a constriction when its bottleneck's lowest subband bottom is
#: above the lead's by more than this fraction of the lead's first spacing.
CONSTRICTION_MIN_RISE = 0.05
#: Dephasing models: "pure" (phase only) or "probes" (Büttiker probes, which
#: relax momentum too).
DEPHASING_MODELS = ("pure", "probes")


@dataclass
class Condition:
    """One condition of the hierarchy: ``name`` (e.g. ``"L << l_e"``), the
    ratio (dimensionless; smaller is better), ``ok`` (met?) and a sentence.
    ``kind`` is ``"plateau"`` (decides plateau visibility) or
    ``"interference"`` (resonances / UCF only); ``predicted`` is the plateau
    deviation |G - N| (G0) this condition predicts (None for interference)."""

    name: str
    ratio: float
    ok: bool
    note: str
    kind: str = "plateau"
    predicted: float | None = None


@dataclass
class Constriction:
    """The bottleneck of a device at given parameters.

    ``x`` (nm) is the column whose lowest transverse subband bottom is
    highest; ``thresholds`` (meV) are the subband bottoms there (the step
    energies); ``step_width`` Gamma = hbar omega_x/(2 pi) (meV) from the
    curvature of E_1(x) at the bottleneck; ``taper`` (nm) the 10-90 % rise
    length of E_1(x) on the x > bottleneck side; ``present`` is False for a
    uniform device (thresholds = the lead's, no taper).
    """

    x: float
    thresholds: np.ndarray
    step_width: float
    taper: float | None
    present: bool


def constriction_of(device, params=None, count: int = 12) -> Constriction:
    """Find the constriction of ``device`` (see :class:`Constriction`).

    Parameters
    ----------
    device : qpcsim.Device
        The device; its potential is evaluated at ``params`` (B = 0; a
        ``disorder`` parameter is set to 0).
    params : dict, optional
        Runtime parameters (their own units, e.g. Vg in V, U_gate in meV).
    count : int
        Number of subband bottoms to return.
    """
    params = dict(params or {})
    if "disorder" in device.defaults:
        params["disorder"] = 0.0
    x, y = device.site_positions_nm()
    V = device.potential_at(x, y, params)
    t = device.t
    lead = device.transverse_mode_energies(count)
    xs, column = np.unique(np.round((x - x.min()) / device.a).astype(np.int64),
                           return_inverse=True)
    xs = x.min() + xs * device.a
    order = np.lexsort((y, column))
    starts = np.searchsorted(column[order], np.arange(len(xs) + 1))
    e1 = np.empty(len(xs))

    def column_levels(k, m):
        sel = order[starts[k]:starts[k + 1]]
        yc, vc = y[sel], V[sel]
        hop = (np.diff(yc) < 1.5 * device.a).astype(float)
        m = min(m, len(yc)) - 1
        return eigh_tridiagonal(2.0 * t + vc, -t * hop, eigvals_only=True,
                                select="i", select_range=(0, m))

    for k in range(len(xs)):
        e1[k] = column_levels(k, 1)[0]
    k0 = int(np.argmax(e1))
    thresholds = np.asarray(column_levels(k0, count))
    lead_gap = float(lead[1] - lead[0]) if len(lead) > 1 else float(lead[0])
    rise = e1[k0] - lead[0]
    if rise <= CONSTRICTION_MIN_RISE * lead_gap:
        return Constriction(x=float(xs[k0]), thresholds=lead, step_width=0.0, taper=None,
                            present=False)
    # intrinsic step width from the curvature of E_1(x) near its maximum
    spacing = (thresholds[1] - thresholds[0]) if len(thresholds) > 1 else rise
    near = e1 > e1[k0] - 0.25 * spacing
    idx = np.flatnonzero(near)
    lo, hi = idx.min(), idx.max()
    lo, hi = max(0, min(lo, k0 - 1)), min(len(xs) - 1, max(hi, k0 + 1))
    coef = np.polyfit(xs[lo:hi + 1] - xs[k0], e1[lo:hi + 1], 2)[0]
    curvature = max(-coef, 0.0)                       # V ~ -c x^2, meV/nm^2
    hw_x = math.sqrt(curvature / harmonic_curvature(1.0, device.material))
    # taper: 10-90 % rise of E_1(x) toward the right lead
    right = e1[k0:]
    base = lead[0]
    frac = (right - base) / rise
    x90 = xs[k0:][np.flatnonzero(frac >= 0.9)].max()
    below = np.flatnonzero(frac <= 0.1)
    x10 = xs[k0:][below.min()] if below.size else xs[-1]
    return Constriction(x=float(xs[k0]), thresholds=thresholds, step_width=hw_x / (2 * math.pi),
                        taper=float(abs(x10 - x90)), present=True)


def _thermal_deviation(energy: float, kT: float, thresholds, gamma: float, N: int) -> float:
    """|<T>_T - N| at ``energy`` for the constriction's staircase model.

    T(E) = sum_n 1/(1 + exp(-(E - E_n)/Gamma)) (Büttiker's saddle form; a sharp
    step for Gamma = 0), averaged over the Fermi window -df/dE of width k_BT
    (meV) by quadrature on +-40 k_BT. Signed steps above and below cancel, as
    in the measured G (a plateau centre between equal spacings is robust).
    """
    if kT <= 0:
        return 0.0
    e = energy + kT * np.linspace(-40.0, 40.0, 4001)
    w = np.maximum(gamma, 1e-9 * kT)
    z = np.clip((e[:, None] - np.asarray(thresholds)[None, :]) / w, -700, 700)
    staircase = (1.0 / (1.0 + np.exp(-z))).sum(axis=1)
    x = (e - energy) / kT
    kernel = 0.25 / np.cosh(0.5 * x) ** 2          # -df/dE in units of 1/kT
    weight = kernel / np.trapezoid(kernel, x)
    return float(abs(np.trapezoid(staircase * weight, x) - N))


def measure_mean_free_path(width: float, a: float, energy: float, disorder: float, *,
                           correlation_length: float = 0.0, lengths=None, seeds: int = 16,
                           workers: int | None = 1, wire=None):
    """Transport mean free path measured on disordered wires.

    Runs ensembles of disordered wires (``wire(W=..., L=..., a=...)``, by
    default the bundled ``disordered_wire`` geometry) at ``lengths`` and fits
    <T> = N/(1 + L/l); returns :class:`qpcsim.physics.fits.MeanFreePathFit`
    (``.l_tr`` = 2 l / pi, nm).

    Parameters
    ----------
    width, a : float
        Wire width and lattice constant (nm).
    energy : float
        Fermi energy (meV).
    disorder : float
        Disorder strength (meV): Anderson U, or U_rms if correlated.
    correlation_length : float
        Gaussian correlation length (nm); 0 = Anderson.
    lengths : sequence of float, optional
        Wire lengths (nm); default 0.5, 1, 2 x the Born l_wire (at least 2a).
    seeds : int
        Disorder realizations per length.
    workers : int, optional
        Local processes (1 = serial).
    wire : callable, optional
        Device factory ``wire(W=nm, L=nm, a=nm)`` returning a device with
        ``disorder``, ``seed`` and ``correlation_length`` parameters.
    """
    if _validate.positive_int("seeds", seeds) < 2:
        raise ValueError(f"seeds={seeds!r} is not allowed: the fit weights each length by its "
                         "ensemble's standard error, which needs at least 2 seeds")
    if wire is None:
        def wire(**geometry):
            return load_geometry("disordered_wire", **geometry)
    if lengths is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lw = born_mean_free_path(energy, disorder, a,
                                     correlation_length=correlation_length).l_wire
        lengths = [max(2 * a, a * round(f * min(lw, 200 * a) / a)) for f in (0.5, 1.0, 2.0)]
        lengths = sorted(set(lengths))
    means, sems, N = [], [], None
    for L in lengths:
        dev = wire(W=width, L=L, a=a)
        r = ensemble(dev, seeds, energy=energy, workers=workers, disorder=disorder,
                     correlation_length=correlation_length)
        means.append(r.transmission.mean())
        sems.append(r.transmission.std(ddof=1) / math.sqrt(r.n))
        N = int(np.sum(dev.transverse_mode_energies() < energy))
    return fit_mean_free_path(lengths, means, N, sems)


@dataclass
class LengthScales:
    """All length and energy scales of a device at one Fermi energy.

    Lengths in nm, energies in meV, temperature in K. ``l_e_born`` and
    ``l_tr_born`` are the Born elastic and transport mean free paths of the
    disorder ``disorder`` (Anderson U, or U_rms with ``correlation_length``
    > 0; inf when clean), ``l_e_measured`` the transport mean free path fitted
    from ensembles (or None). ``mode_spacing`` is the *constriction's*
    subband spacing around the Fermi energy (the lead's for a uniform
    device), ``step_distance`` the distance from E to the nearest
    constriction threshold, ``step_width`` the intrinsic width of the steps,
    ``open_modes`` the number of open constriction subbands (the plateau
    index N), ``lead_modes`` the lead's. ``L_T`` is ballistic hbar v_F/k_BT or
    diffusive sqrt(hbar D/k_BT) (``L_T_regime``). ``dephasing`` names the
    model behind ``L_phi``. ``conditions`` lists each requirement with its
    ratio, kind and verdict; ``plateaus_visible`` is True when all plateau
    conditions are met (predicting |G - N| < VISIBLE_TOL).
    """

    energy: float
    temperature: float
    disorder: float
    lambda_F: float
    W: float
    L: float
    l_e_born: float
    l_e_measured: float | None
    L_phi: float
    L_T: float
    kT: float
    mode_spacing: float
    open_modes: int
    taper: float | None
    conditions: list = field(default_factory=list)
    l_tr_born: float = math.inf
    correlation_length: float = 0.0
    L_T_regime: str = "ballistic"
    dephasing: str = "pure"
    has_constriction: bool = False
    step_distance: float = math.inf
    step_width: float = 0.0
    lead_modes: int = 0
    #: G (G0) of the solve at this energy, temperature and disorder (None: not solved).
    solved_conductance: float | None = None

    @property
    def solved_deviation(self) -> float | None:
        """|G - N| (G0) of the solve, None when not solved."""
        if self.solved_conductance is None:
            return None
        return abs(self.solved_conductance - max(self.open_modes, 1))

    @property
    def plateaus_visible(self) -> bool:
        """The verdict: what the solve shows (|G - N| < VISIBLE_TOL) when there is one, else
        the plateau conditions' rule of thumb (then only a prediction)."""
        if self.solved_conductance is not None:
            return self.solved_deviation < VISIBLE_TOL
        return all(c.ok for c in self.conditions if c.kind == "plateau")

    @property
    def interference_visible(self) -> bool:
        """Resonances / UCF survive thermal averaging and dephasing."""
        return all(c.ok for c in self.conditions if c.kind == "interference")

    @property
    def predicted_deviation(self) -> float:
        """Sum of the plateau conditions' predicted |G - N| (G0)."""
        return float(sum(c.predicted or 0.0 for c in self.conditions if c.kind == "plateau"))

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(name)

    def failed(self, kind: str = "plateau") -> list[str]:
        """Names of the unmet conditions of ``kind``."""
        return [c.name for c in self.conditions if c.kind == kind and not c.ok]

    def report(self) -> str:
        """A plain-text table."""
        def fmt(v):
            return "inf" if v is None or (isinstance(v, float) and math.isinf(v)) else f"{v:.4g}"
        what = ("clean (no disorder)" if self.disorder == 0 else
                f"Anderson disorder U = {self.disorder:g} meV" if self.correlation_length == 0
                else f"correlated disorder U_rms = {self.disorder:g} meV, "
                     f"lc = {self.correlation_length:g} nm")
        where = ("constriction" if self.has_constriction else
                 "no constriction (uniform cross-section): steps are the lead's subbands")
        lt = ("hbar v_F/kT" if self.L_T_regime == "ballistic" else "sqrt(hbar D/kT)")
        lines = [f"Fermi energy {self.energy:g} meV, T = {self.temperature:g} K, "
                 f"{what}, {self.open_modes} open constriction subbands "
                 f"({self.lead_modes} in the leads)",
                 f"  {where}",
                 f"  lambda_F          {fmt(self.lambda_F)} nm",
                 f"  W                 {fmt(self.W)} nm",
                 f"  L                 {fmt(self.L)} nm",
                 f"  l_e (Born)        {fmt(self.l_e_born)} nm",
                 f"  l_tr (Born)       {fmt(self.l_tr_born)} nm",
                 "  l_e (measured)    "
                 + (f"{fmt(self.l_e_measured)} nm" if self.l_e_measured is not None
                    else "not measured"),
                 f"  L_phi             {fmt(self.L_phi)} nm ({self.dephasing} dephasing)",
                 f"  L_T ({self.L_T_regime:9s}) {fmt(self.L_T)} nm = {lt}",
                 f"  k_B T             {fmt(self.kT)} meV",
                 f"  subband spacing   {fmt(self.mode_spacing)} meV"
                 + (" (constriction)" if self.has_constriction else " (lead)"),
                 f"  distance to step  {fmt(self.step_distance)} meV "
                 f"(intrinsic step width {fmt(self.step_width)} meV)",
                 "  taper             " + (f"{fmt(self.taper)} nm" if self.taper is not None
                                            else "n/a"),
                 f"plateau conditions (|G - N| < {VISIBLE_TOL:g} G0 when all are met; "
                 "ratio: smaller is better):"]
        for c in self.conditions:
            if c.kind == "plateau":
                pred = "" if c.predicted is None else f" (|dG| ~ {c.predicted:.2g})"
                lines.append(f"  {c.name:<22} {c.ratio:10.3g}  {'ok ' if c.ok else 'NO '} "
                             f"{c.note}{pred}")
        lines.append("interference conditions (resonances, UCF; not needed for plateaus):")
        for c in self.conditions:
            if c.kind == "interference":
                lines.append(f"  {c.name:<22} {c.ratio:10.3g}  {'ok ' if c.ok else 'NO '} {c.note}")
        failed = self.failed()
        rule = ("rule of thumb: plateaus should be visible" if not failed else
                "rule of thumb: plateaus should NOT be (fully) visible: failed "
                + ", ".join(failed))
        if self.solved_conductance is not None:
            lines.append(f"verdict (from the solve): G = {self.solved_conductance:.6g} G0, "
                         f"|G - N| = {self.solved_deviation:.2g} "
                         + ("<" if self.plateaus_visible else ">=") + f" {VISIBLE_TOL:g}: "
                         f"plateau {'visible' if self.plateaus_visible else 'NOT visible'} "
                         f"({rule})")
        else:
            lines.append("(not solved: disorder the device does not carry, or probes; the "
                         "verdict is the rule of thumb)")
            lines.append("verdict: plateaus " + ("should be visible" if not failed else
                                                 "should NOT be (fully) visible: failed "
                                                 + ", ".join(failed)))
        return "\n".join(lines)


def _taper_of(device):
    """An explicit taper of a hard-wall constriction (``L_taper``), else None."""
    taper = device.metadata.make_device.get("L_taper")
    return None if taper is None else float(taper)


def length_scales(device, energy: float, temperature: float = 0.0, *,
                  disorder: float | None = None, correlation_length: float | None = None,
                  L: float | None = None, L_phi: float = math.inf, dephasing: str = "pure",
                  l_e_measured: float | None = None, measure: bool = False,
                  seeds: int = 16, mode_spacing: float | None = None,
                  taper: float | None = None, params=None, solve: bool = True) -> LengthScales:
    """The hierarchy of lengths for ``device`` and whether plateaus should show.

    Parameters
    ----------
    device : qpcsim.Device
        The device (its width, length, lattice, potential and metadata are used).
    energy : float
        Fermi energy (meV). Must lie on a plateau of the constriction.
    temperature : float
        Temperature (K).
    disorder : float, optional
        Disorder strength (meV): Anderson U, or U_rms with a correlation
        length; 0 = clean (l_e = inf). Default: the device's own ``disorder``
        parameter if it has one (``with_disorder``), else 0.
    correlation_length : float, optional
        Gaussian correlation length (nm); 0 = Anderson. Default: the device's
        ``correlation_length`` parameter, else 0.
    L : float, optional
        Length that must be short (nm); default the device length.
    L_phi : float
        Phase-coherence length (nm); inf for the coherent simulation.
    dephasing : {"pure", "probes"}
        What sets ``L_phi``: "pure" dephasing (phase only: affects
        interference, not ballistic plateaus) or Büttiker "probes"
        (:func:`qpcsim.dephasing_length`), which relax momentum over the same
        length and so also backscatter.
    l_e_measured : float, optional
        A measured transport mean free path (nm), e.g. from
        :func:`measure_mean_free_path`.
    measure : bool
        Measure l_e on disordered wires of this width (``seeds`` per length).
    seeds : int
        Disorder realizations per wire length when ``measure`` is true.
    mode_spacing : float, optional
        Subband spacing (meV); default the constriction's around ``energy``.
    taper : float, optional
        Length over which the constriction opens (nm); default the geometry's
        ``L_taper``, else measured from the subband profile (devices with a
        constriction only).
    params : dict, optional
        Runtime parameters of the device (e.g. ``{"Vg": 10.0}``) that set the
        constriction; default the device's defaults.
    solve : bool
        Decide the verdict by a solve (default): G at ``energy`` and ``temperature``
        with the device's own disorder (:func:`qpcsim.solve`, finite T by the refined
        thermal grid), |G - N| against ``VISIBLE_TOL``; the conditions are then printed
        beside it as explanations. Not possible with ``dephasing="probes"`` or a
        ``disorder`` the device does not carry (the rule of thumb decides there).

    Raises
    ------
    ValueError
        ``energy`` inside a step of the constriction (not on a plateau), or
        a device whose steps are so broad that no energy is on a plateau.
    """
    energy = _validate.positive("energy", energy, "meV")
    temperature = _validate.non_negative("temperature", temperature, "K")
    if dephasing not in DEPHASING_MODELS:
        raise ValueError(f"dephasing={dephasing!r} is not allowed: use one of "
                         + ", ".join(DEPHASING_MODELS))
    if disorder is None:
        disorder = device.defaults.get("disorder", 0.0)
    if correlation_length is None:
        correlation_length = device.defaults.get("correlation_length", 0.0)
    disorder = _validate.non_negative("disorder", disorder, "meV")
    correlation_length = _validate.non_negative("correlation_length", correlation_length, "nm")
    L = float(device.length) if L is None else _validate.positive("L", L, "nm")
    L_phi = float(L_phi) if math.isinf(L_phi) else _validate.positive("L_phi", L_phi, "nm")
    lam = fermi_wavelength_nm(energy, device.material)
    born = born_mean_free_path(energy, disorder, device.a, material=device.material,
                               correlation_length=correlation_length)
    if measure and disorder > 0 and l_e_measured is None:
        l_e_measured = measure_mean_free_path(device.width, device.a, energy, disorder,
                                              correlation_length=correlation_length,
                                              seeds=seeds).l_tr
    lead_modes = int(np.sum(device.transverse_mode_energies() < energy))
    con = constriction_of(device, params)
    th = con.thresholds
    N = int(np.sum(th < energy))
    if N >= len(th):
        th = device.transverse_mode_energies() if not con.present else th
    below = th[N - 1] if N >= 1 else None
    above = th[N] if N < len(th) else None
    gaps = [energy - below] if below is not None else []
    gaps += [above - energy] if above is not None else []
    delta = min(gaps) if gaps else math.inf
    if mode_spacing is None:
        if below is not None and above is not None:
            mode_spacing = float(above - below)
        elif above is not None:
            mode_spacing = float(th[1] - th[0]) if len(th) > 1 else float(above)
        else:
            mode_spacing = float(th[-1] - th[-2])
    gamma = con.step_width
    edge = gamma * math.log(1.0 / VISIBLE_TOL - 1.0)
    if edge >= 0.5 * mode_spacing:
        raise ValueError(
            f"energy={energy:g} meV: no energy is on a plateau of this device: its steps are "
            f"{gamma:.3g} meV wide (Gamma = hbar omega_x/2pi) against a subband spacing of "
            f"{mode_spacing:.3g} meV, so there is no plateau to judge")
    if delta < max(edge, 1e-6 * mode_spacing):
        nearest = below if below is not None and energy - below == delta else above
        lo = 0.0 if below is None else below + edge
        hi = math.inf if above is None else above - edge
        raise ValueError(
            f"energy={energy:g} meV is not on a plateau: it lies {delta:.3g} meV from the "
            f"constriction threshold {nearest:.4g} meV (steps {gamma:.3g} meV wide); "
            f"choose an energy between {lo:.4g} and {hi:.4g} meV")
    kT = thermal_energy_meV(temperature)
    if taper is None:
        taper = _taper_of(device) if con.present else None
        if taper is None and con.present:
            taper = con.taper
    else:
        taper = _validate.non_negative("taper", taper, "nm")
    if l_e_measured is not None:   # (a negative one gave "L << l_e: -8")
        l_e_measured = _validate.positive("l_e_measured", l_e_measured, "nm")
    l_tr = l_e_measured if l_e_measured is not None else born.l_tr
    diffusive = L > l_tr
    if diffusive and kT > 0:
        L_T = diffusive_thermal_length_nm(energy, l_tr, temperature, device.material)
    else:
        L_T = thermal_length_nm(energy, temperature, device.material)
    n_plateau = max(N, 1)
    # plateau conditions, each with the deviation it predicts
    l_bs = 0.5 * math.pi * l_tr                      # <T> = N/(1 + L/l), l = (pi/2) l_tr
    dev_dis = n_plateau * L / (L + l_bs) if math.isfinite(l_bs) else 0.0
    conds = [Condition("L << l_e", L / l_tr, dev_dis < VISIBLE_TOL,
                       "ballistic" if dev_dis < VISIBLE_TOL else
                       "disorder backscatters: <T> = N/(1 + L/l) off the plateau",
                       predicted=dev_dis)]
    if dephasing == "probes" and math.isfinite(L_phi):
        dev_pr = n_plateau * L / (L + L_phi)
        conds.append(Condition("L << l_probe", L / L_phi, dev_pr < VISIBLE_TOL,
                               "probes rarely absorb" if dev_pr < VISIBLE_TOL else
                               "Büttiker probes relax momentum: Ohmic resistance even "
                               "without disorder", predicted=dev_pr))
    dev_T = _thermal_deviation(energy, kT, th, gamma, N)
    ratio_T = kT / delta if math.isfinite(delta) else 0.0
    conds.append(Condition("k_BT << dE", ratio_T, dev_T < VISIBLE_TOL,
                           "Fermi window inside the plateau" if dev_T < VISIBLE_TOL else
                           "Fermi window reaches the constriction's steps: they smear",
                           predicted=dev_T))
    if taper is not None:
        ratio = lam / taper if taper > 0 else math.inf
        conds.append(Condition("lambda_F << taper", ratio, ratio < MUCH_LESS,
                               "adiabatic opening" if ratio < MUCH_LESS else
                               "abrupt: mode mixing and resonances on plateaus",
                               predicted=None if ratio < MUCH_LESS else VISIBLE_TOL))
    conds += [
        Condition("L << L_T", L / L_T, L / L_T < MUCH_LESS,
                  "resonances/UCF survive energy averaging" if L / L_T < MUCH_LESS else
                  "energy averaging washes out resonances/UCF (flat T(E) is unaffected)",
                  kind="interference"),
        Condition("L << L_phi", L / L_phi, L / L_phi < MUCH_LESS,
                  "phase coherent" if L / L_phi < MUCH_LESS else
                  "dephasing inside the device: resonances and interference wash out",
                  kind="interference"),
    ]
    solved = None
    carries = disorder == device.defaults.get("disorder", 0.0)
    if solve and dephasing == "pure" and carries:
        from ..solver import solve as _solve
        solved = float(_solve(device, energy, temperature=temperature,
                              **(params or {})).conductance)
    return LengthScales(energy=energy, temperature=temperature, disorder=disorder, lambda_F=lam,
                        W=float(device.width), L=L, l_e_born=born.l_e, l_e_measured=l_e_measured,
                        L_phi=L_phi, L_T=L_T, kT=kT, mode_spacing=mode_spacing, open_modes=N,
                        taper=taper, conditions=conds, l_tr_born=born.l_tr,
                        correlation_length=correlation_length,
                        L_T_regime="diffusive" if diffusive else "ballistic",
                        dephasing=dephasing, has_constriction=con.present, step_distance=delta,
                        step_width=gamma, lead_modes=lead_modes, solved_conductance=solved)
