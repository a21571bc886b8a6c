"""The length-scale hierarchy of mesoscopic transport, and when plateaus survive.

Conductance quantization needs the sample length L to be short compared with
every length over which an electron loses its way or its phase:

* the elastic mean free path l_e (disorder; Born estimate and/or measured),
* the phase-coherence length L_phi (inelastic scattering; here set by hand or
  by Büttiker probes, :mod:`qpcsim.dephasing`),
* the thermal length L_T = hbar v_F / k_B T (energy averaging),

and the thermal energy k_B T small compared with the subband spacing Delta E,
and the constriction to open slowly on the scale of lambda_F (adiabaticity).
:func:`length_scales` gathers them with ratios and verdicts; the CLI prints the
table (``qpcsim lengths``). Beside it: :mod:`.compare` (clean vs disordered gate
sweeps) and :mod:`.adiabaticity` (plateau deviation vs taper length / lambda_F).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import validate as _validate
from ..geometry import load_geometry
from ..units import fermi_wavelength_nm, thermal_energy_meV, thermal_length_nm
from .born import born_mean_free_path
from .ensemble import ensemble
from .fits import fit_mean_free_path

__all__ = ["Condition", "LengthScales", "length_scales", "measure_mean_free_path"]

#: A condition "a << b" counts as met when a/b is below this (dimensionless).
MUCH_LESS = 1.0
#: k_B T / Delta E below which thermal smearing leaves plateaus flat to ~1 %:
#: the Fermi window (width ~ 3.5 k_B T) covers less than a quarter of a plateau.
THERMAL_RATIO_OK = 0.1


@dataclass
class Condition:
    """One condition of the hierarchy: ``name`` (e.g. ``"L << l_e"``), the
    ratio (dimensionless; smaller is better), ``ok`` (met?) and a sentence."""

    name: str
    ratio: float
    ok: bool
    note: str


@dataclass
class LengthScales:
    """All length and energy scales of a device at one Fermi energy.

    Lengths in nm, energies in meV, temperature in K. ``l_e_born`` and
    ``l_tr_born`` are the Born elastic and transport mean free paths of the
    disorder ``disorder`` (Anderson U, or U_rms with ``correlation_length``
    > 0; inf when clean), ``l_e_measured`` the transport mean free path fitted
    from ensembles (or None), ``mode_spacing`` the subband spacing Delta E at
    the Fermi energy. The condition "L << l_e" uses the measured value if
    there is one, else the Born transport mean free path (equal to l_e for
    Anderson disorder; for smooth disorder only l_tr counts backscattering).
    ``conditions`` lists each requirement with its ratio and verdict;
    ``plateaus_visible`` is True when all are met.
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

    @property
    def plateaus_visible(self) -> bool:
        return all(c.ok for c in self.conditions)

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(name)

    def report(self) -> str:
        """A plain-text table."""
        def fmt(v):
            return "inf" if v is None or (isinstance(v, float) and math.isinf(v)) else f"{v:.4g}"
        what = ("clean (no disorder)" if self.disorder == 0 else
                f"Anderson disorder U = {self.disorder:g} meV" if self.correlation_length == 0
                else f"correlated disorder U_rms = {self.disorder:g} meV, "
                     f"lc = {self.correlation_length:g} nm")
        lines = [f"Fermi energy {self.energy:g} meV, T = {self.temperature:g} K, "
                 f"{what}, {self.open_modes} open lead modes",
                 f"  lambda_F          {fmt(self.lambda_F)} nm",
                 f"  W                 {fmt(self.W)} nm",
                 f"  L                 {fmt(self.L)} nm",
                 f"  l_e (Born)        {fmt(self.l_e_born)} nm",
                 f"  l_tr (Born)       {fmt(self.l_tr_born)} nm",
                 "  l_e (measured)    "
                 + (f"{fmt(self.l_e_measured)} nm" if self.l_e_measured is not None
                    else "not measured"),
                 f"  L_phi             {fmt(self.L_phi)} nm",
                 f"  L_T = hbar v_F/kT {fmt(self.L_T)} nm",
                 f"  k_B T             {fmt(self.kT)} meV",
                 f"  mode spacing dE   {fmt(self.mode_spacing)} meV",
                 "  taper             " + (f"{fmt(self.taper)} nm" if self.taper is not None
                                            else "n/a"),
                 "conditions (ratio: smaller is better):"]
        for c in self.conditions:
            lines.append(f"  {c.name:<22} {c.ratio:10.3g}  {'ok ' if c.ok else 'NO '} {c.note}")
        lines.append("verdict: plateaus " + ("should be visible" if self.plateaus_visible else
                                             "should NOT be (fully) visible: " + ", ".join(
                                                 c.name for c in self.conditions if not c.ok)))
        return "\n".join(lines)


def measure_mean_free_path(width: float, a: float, energy: float, disorder: float, *,
                           correlation_length: float = 0.0, lengths=None, seeds: int = 16,
                           workers: int | None = 1, wire=None):
    """Transport mean free path measured on disordered wires.

    Runs ensembles of disordered wires (``wire(W=..., L=..., a=...)``, by
    default the bundled ``disordered_wire`` geometry) at ``lengths`` and fits
    <T> = N/(1 + L/l); returns :class:`qpcsim.disorder.MeanFreePathFit`
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


def _taper_of(device):
    meta = device.metadata.get("make_device", {})
    taper = meta.get("L_taper", meta.get("L_switch"))
    return None if taper is None else float(taper)


def length_scales(device, energy: float, temperature: float = 0.0, *,
                  disorder: float | None = None, correlation_length: float | None = None,
                  L: float | None = None, L_phi: float = math.inf,
                  l_e_measured: float | None = None, measure: bool = False,
                  seeds: int = 16, mode_spacing: float | None = None,
                  taper: float | None = None) -> LengthScales:
    """The hierarchy of lengths for ``device`` and whether plateaus should show.

    Parameters
    ----------
    device : qpcsim.Device
        The device (its width, length, lattice and metadata are used).
    energy : float
        Fermi energy (meV).
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
    l_e_measured : float, optional
        A measured transport mean free path (nm), e.g. from
        :func:`measure_mean_free_path`.
    measure : bool
        Measure l_e on disordered wires of this width (``seeds`` per length).
    mode_spacing : float, optional
        Subband spacing (meV); default the lead's spacing at the Fermi energy.
    taper : float, optional
        Length over which the constriction opens (nm); default from the
        geometry's ``L_taper`` or ``L_switch``.
    """
    energy = _validate.positive("energy", energy, "meV")
    temperature = _validate.non_negative("temperature", temperature, "K")
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
    thresholds = device.transverse_mode_energies()
    N = int(np.sum(thresholds < energy))
    if mode_spacing is None:
        hw_y = device.metadata.get("make_device", {}).get("hw_y")
        if hw_y is not None:
            mode_spacing = float(hw_y)
        else:
            k = min(max(N, 1), len(thresholds) - 1)
            mode_spacing = float(thresholds[k] - thresholds[k - 1])
    kT = thermal_energy_meV(temperature)
    L_T = thermal_length_nm(energy, temperature, device.material)
    taper = _taper_of(device) if taper is None else _validate.non_negative("taper", taper, "nm")
    l_e = l_e_measured if l_e_measured is not None else born.l_tr
    conds = [
        Condition("L << l_e", L / l_e, L / l_e < MUCH_LESS,
                  "ballistic" if L / l_e < MUCH_LESS else
                  "disorder backscatters: plateaus lose quantization"),
        Condition("L << L_phi", L / L_phi, L / L_phi < MUCH_LESS,
                  "phase coherent" if L / L_phi < MUCH_LESS else
                  "dephasing inside the device: resonances and interference wash out"),
        Condition("L << L_T", L / L_T, L / L_T < MUCH_LESS,
                  "no energy averaging inside L" if L / L_T < MUCH_LESS else
                  "thermal energy averaging over the device"),
        Condition("k_BT << dE", kT / mode_spacing, kT / mode_spacing < THERMAL_RATIO_OK,
                  "sharp steps" if kT / mode_spacing < THERMAL_RATIO_OK else
                  "Fermi window spans a sizeable part of a plateau: steps smear"),
    ]
    if taper is not None:
        ratio = lam / taper if taper > 0 else math.inf
        conds.append(Condition("lambda_F << taper", ratio, ratio < MUCH_LESS,
                               "adiabatic opening" if ratio < MUCH_LESS else
                               "abrupt: mode mixing and resonances on plateaus"))
    return LengthScales(energy=energy, temperature=temperature, disorder=disorder, lambda_F=lam,
                        W=float(device.width), L=L, l_e_born=born.l_e, l_e_measured=l_e_measured,
                        L_phi=L_phi, L_T=L_T, kT=kT, mode_spacing=mode_spacing, open_modes=N,
                        taper=taper, conditions=conds, l_tr_born=born.l_tr,
                        correlation_length=correlation_length)
