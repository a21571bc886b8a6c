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
table (``qpcsim lengths``). ``qpcsim compare`` contrasts clean and disordered
gate sweeps, and :func:`adiabaticity_scan` measures the plateau deviation of
``qpc_hardwall`` against taper length / lambda_F.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import validate as _validate

__all__ = ["Condition", "LengthScales", "length_scales", "measure_mean_free_path",
           "AdiabaticityResult", "adiabaticity_scan", "plot_adiabaticity",
           "CompareResult", "compare_disorder", "register_cli"]

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
                 f"  l_e (measured)    "
                 + (f"{fmt(self.l_e_measured)} nm" if self.l_e_measured is not None
                    else "not measured"),
                 f"  L_phi             {fmt(self.L_phi)} nm",
                 f"  L_T = hbar v_F/kT {fmt(self.L_T)} nm",
                 f"  k_B T             {fmt(self.kT)} meV",
                 f"  mode spacing dE   {fmt(self.mode_spacing)} meV",
                 f"  taper             " + (f"{fmt(self.taper)} nm" if self.taper is not None
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
                           workers: int | None = 1):
    """Transport mean free path measured on disordered wires.

    Runs ensembles of ``geometries/disordered_wire.py`` at ``lengths`` and fits
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
    """
    from .disorder import born_mean_free_path, ensemble, fit_mean_free_path
    from .geometry import load_geometry
    if lengths is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lw = born_mean_free_path(energy, disorder, a,
                                     correlation_length=correlation_length).l_wire
        lengths = [max(2 * a, a * round(f * min(lw, 200 * a) / a)) for f in (0.5, 1.0, 2.0)]
        lengths = sorted(set(lengths))
    means, sems, N = [], [], None
    for L in lengths:
        dev = load_geometry("disordered_wire", W=width, L=L, a=a)
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
    from .disorder import born_mean_free_path
    from .units import fermi_wavelength_nm, thermal_energy_meV, thermal_length_nm
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


# ---------------------------------------------------------------------- adiabaticity
@dataclass
class AdiabaticityResult:
    """Plateau deviation of ``qpc_hardwall`` vs taper length.

    Attributes
    ----------
    tapers : ndarray
        Taper lengths (nm).
    lambda_F : float
        Fermi wavelength at the middle plateau's energy (nm).
    deviation : ndarray
        Mean |G - n| over the plateau centres (G0), one per taper.
    per_plateau : ndarray
        |G - n| per taper and plateau (G0).
    threshold : float
        Smallest L_taper / lambda_F with deviation < ``tolerance`` (nan if none).
    tolerance : float
        The deviation used for ``threshold`` (G0).
    """

    tapers: np.ndarray
    lambda_F: float
    deviation: np.ndarray
    per_plateau: np.ndarray
    threshold: float
    tolerance: float

    @property
    def ratio(self) -> np.ndarray:
        """L_taper / lambda_F."""
        return self.tapers / self.lambda_F


def adiabaticity_scan(tapers=(0.0, 10.0, 25.0, 50.0, 100.0, 200.0), plateaus=(1, 2, 3), *,
                      tolerance: float = 2e-3, **geometry) -> AdiabaticityResult:
    """Deviation of the plateaus of ``qpc_hardwall`` from integers vs taper length.

    For each taper (nm) the constriction's subband thresholds come from
    ``transverse_thresholds(device)``; the Fermi energy is set midway between
    thresholds n and n+1 (plateau n) with Vg = 0 and G is solved there.
    ``geometry`` passes other ``qpc_hardwall`` parameters (e.g. ``a``).
    """
    from .geometry import load_geometry, load_geometry_module
    from .solver import solve
    from .units import fermi_wavelength_nm
    module = load_geometry_module("qpc_hardwall")
    tapers = np.array([_validate.non_negative("taper", t, "nm") for t in tapers])
    per = np.zeros((tapers.size, len(plateaus)))
    energies = None
    for k, taper in enumerate(tapers):
        dev = load_geometry("qpc_hardwall", L_taper=float(taper), **geometry)
        th = module.transverse_thresholds(dev, count=max(plateaus) + 1)
        energies = [0.5 * (th[n - 1] + th[n]) for n in plateaus]
        for m, (n, e) in enumerate(zip(plateaus, energies)):
            per[k, m] = abs(solve(dev, e, Vg=0.0).conductance - n)
    lam = fermi_wavelength_nm(energies[len(energies) // 2])
    dev_mean = per.mean(axis=1)
    good = np.flatnonzero(dev_mean < tolerance)
    threshold = float(tapers[good[0]] / lam) if good.size else float("nan")
    return AdiabaticityResult(tapers=tapers, lambda_F=lam, deviation=dev_mean, per_plateau=per,
                              threshold=threshold, tolerance=tolerance)


def plot_adiabaticity(result: AdiabaticityResult, path):
    """Figure: plateau deviation (G0) vs L_taper / lambda_F (log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for m in range(result.per_plateau.shape[1]):
        ax.semilogy(result.ratio, np.maximum(result.per_plateau[:, m], 1e-7), "o:", ms=3,
                    alpha=0.6, label=f"plateau {m + 1}")
    ax.semilogy(result.ratio, np.maximum(result.deviation, 1e-7), "ko-", label="mean")
    ax.axhline(result.tolerance, color="grey", lw=0.8)
    ax.set_xlabel(r"$L_{taper}/\lambda_F$")
    ax.set_ylabel(r"$|G - n|$ ($G_0$)")
    ax.set_title(f"qpc_hardwall: |G - n| < {result.tolerance:g} $G_0$ from "
                 f"$L_{{taper}}/\\lambda_F$ = {result.threshold:.2g}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- clean vs disordered
@dataclass
class CompareResult:
    """Clean and disorder-averaged gate sweeps.

    ``x``: gate values; ``clean``: G (G0); ``ensembles``: U (meV) -> EnsembleResult;
    ``quality``: U -> dict(deviation=mean |median G - n| on the clean curve's
    plateau windows (G0), flatness=mean max |G - median| there (G0),
    L_over_le=L/l_tr (Born), plateaus=quantized plateaus (n >= 1) still found
    per seed), U = 0 for the clean curve.
    """

    name: str
    x: np.ndarray
    clean: np.ndarray
    ensembles: dict
    quality: dict
    energy: float
    length: float


def _clean_windows(x, clean):
    """Gate windows (start, stop, n) of the clean trace's quantized plateaus, n >= 1
    (the pinch-off G = 0 is no plateau of interest)."""
    from .analysis import find_plateaus
    return [(p.start, p.stop, p.index) for p in find_plateaus(x, clean) if p.index >= 1]


def _plateau_quality(x, traces, windows):
    """Plateau quality of each trace on the clean plateau windows.

    ``deviation``: mean over traces and windows of |median G - n| (G0);
    ``flatness``: mean of max |G - median G| in the window (G0);
    ``plateaus``: mean number of quantized plateaus (n >= 1) that
    :func:`qpcsim.analysis.find_plateaus` still finds in each trace.
    """
    from .analysis import find_plateaus
    devs, flats, counts = [], [], []
    for g in np.atleast_2d(traces):
        for start, stop, n in windows:
            inside = (x >= start) & (x <= stop)
            med = float(np.median(g[inside]))
            devs.append(abs(med - n))
            flats.append(float(np.max(np.abs(g[inside] - med))))
        counts.append(sum(1 for p in find_plateaus(x, g) if p.index >= 1))
    return dict(deviation=float(np.mean(devs)) if devs else float("nan"),
                flatness=float(np.mean(flats)) if flats else float("nan"),
                plateaus=float(np.mean(counts)))


def compare_disorder(device, strengths, seeds: int, over: dict, energy: float, *,
                     correlation_length: float = 0.0, workers=None, scheduler=None,
                     **fixed) -> CompareResult:
    """Ensemble-averaged sweeps of ``device`` for each disorder strength (meV).

    The clean curve comes from :func:`qpcsim.sweep`; each strength wraps the
    device with :func:`qpcsim.with_disorder` (disorder over the whole
    scattering region, leads clean) and runs :func:`qpcsim.ensemble` over
    ``seeds`` seeds (each seed computes the whole trace). Plateau quality is
    measured on every seed's trace and averaged; L/l_e uses the Born transport
    mean free path at ``energy``.

    Parameters
    ----------
    device : qpcsim.Device
        A clean device (e.g. ``qpc_split_gate``).
    strengths : sequence of float
        Disorder strengths (meV): Anderson U, or U_rms if correlated.
    seeds : int
        Realizations per strength (>= 2).
    over : dict
        One swept parameter -> values (its own unit, e.g. Vg in V).
    energy : float
        Fermi energy (meV).
    correlation_length : float
        Gaussian correlation length (nm); 0 = Anderson disorder.
    workers, scheduler : optional
        Executors, as in :func:`qpcsim.sweep`.
    **fixed
        Other device parameters.
    """
    from .disorder import born_mean_free_path, ensemble, with_disorder
    from .sweep import sweep
    if len(over) != 1:
        raise ValueError("compare sweeps exactly one parameter (e.g. Vg)")
    name, values = next(iter(over.items()))
    x = np.asarray(values, dtype=float)
    strengths = [_validate.non_negative("disorder", u, "meV") for u in strengths]
    if not strengths:
        raise ValueError("give at least one disorder strength")
    if isinstance(seeds, bool) or int(seeds) != seeds or seeds < 2:
        raise ValueError(f"seeds={seeds!r} is not allowed: mean +- std bands need at least 2 "
                         "seeds (6 or more recommended)")
    lc = _validate.non_negative("correlation_length", correlation_length, "nm")
    clean = sweep(device, {name: x}, energy=energy, workers=workers, scheduler=scheduler,
                  progress=False, **fixed).data["conductance"].values
    windows = _clean_windows(x, clean)
    if not windows:
        warnings.warn(f"the clean sweep over {name} shows no quantized plateau with G >= 1 G0: "
                      "plateau quality cannot be measured (widen the sweep range)",
                      RuntimeWarning, stacklevel=2)
    quality = {0.0: dict(_plateau_quality(x, clean, windows), L_over_le=0.0)}
    ens = {}
    for U in strengths:
        ddev = with_disorder(device, U, correlation_length=lc)
        r = ensemble(ddev, int(seeds), energy, over={name: x}, workers=workers,
                     scheduler=scheduler, **fixed)
        ens[U] = r
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            l_tr = born_mean_free_path(energy, U, device.a, material=device.material,
                                       correlation_length=lc).l_tr
        q = _plateau_quality(x, r.conductance, windows)
        q["L_over_le"] = device.length / l_tr
        quality[U] = q
    return CompareResult(name=name, x=x, clean=clean, ensembles=ens, quality=quality,
                         energy=float(energy), length=float(device.length))


def plot_compare(result: CompareResult, path, unit: str = ""):
    """Figure: mean +- std bands over the clean curve, and plateau quality vs L/l_e."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [3, 2]})
    ax.plot(result.x, result.clean, "k-", lw=1.5, label="clean")
    for U, r in result.ensembles.items():
        line, = ax.plot(result.x, r.mean, lw=1.2, label=f"U = {U:g} meV (n={r.n})")
        ax.fill_between(result.x, r.mean - r.std, r.mean + r.std, color=line.get_color(),
                        alpha=0.25)
    ax.set_xlabel(f"{result.name}" + (f" ({unit})" if unit else ""))
    ax.set_ylabel(r"$G$ ($G_0$)")
    ax.set_title(f"clean vs disordered (mean $\\pm$ std), E = {result.energy:g} meV, "
                 f"L = {result.length:g} nm", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    Us = sorted(result.quality)
    ratios = np.array([result.quality[u]["L_over_le"] for u in Us])
    floor = 1e-5
    bx.semilogy(ratios, [max(result.quality[u]["deviation"], floor) for u in Us], "o-",
                label=r"mean $|G - n|$ on the clean plateaus")
    bx.semilogy(ratios, [max(result.quality[u]["flatness"], floor) for u in Us], "s--",
                label=r"mean flatness (max $|G - $median$|$)")
    for u, r in zip(Us, ratios):
        bx.annotate(f"U={u:g}", (r, max(result.quality[u]["deviation"], floor)), fontsize=7)
    bx.set_xlabel(r"$L/l_{tr}$ (Born; clean = 0)")
    bx.set_ylabel(r"$G_0$")
    bx.set_title("plateau quality")
    bx.grid(alpha=0.3, which="both")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------- CLI
def _default_energy(device) -> float:
    th = device.transverse_mode_energies()
    k = min(3, len(th) - 1)
    return float(0.5 * (th[k - 1] + th[k])) if k >= 1 else float(2 * th[0])


def _lengths(args) -> int:
    from ._cli_sweep import parse_set
    from .geometry import load_geometry
    device = load_geometry(args.geometry, **parse_set(args.set))
    energy = args.energy if args.energy is not None else _default_energy(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scales = length_scales(device, energy, args.temperature, disorder=args.disorder,
                               correlation_length=args.correlation_length,
                               L_phi=args.L_phi if args.L_phi is not None else math.inf,
                               L=args.length, measure=not args.no_measure, seeds=args.seeds)
    for w in caught:
        print(f"warning: {w.message}")
    print(device.name + ("" if args.energy is not None else
                         " (energy defaulted to midway between lead subbands 3 and 4)"))
    print(scales.report())
    return 0


def _compare(args) -> int:
    import time
    from ._cli_sweep import _check_writable, parse_set, parse_sweep
    from .geometry import load_geometry
    out = _check_writable(args.out, "--out")
    device = load_geometry(args.geometry, **parse_set(args.set))
    try:
        strengths = [float(s) for s in args.disorder.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--disorder {args.disorder!r} is malformed: give comma-separated "
                         "strengths in meV, e.g. --disorder 0.5,1.5") from None
    name, values = parse_sweep(args.sweep)
    energy = args.energy if args.energy is not None else _default_energy(device)
    t0 = time.perf_counter()
    result = compare_disorder(device, strengths, args.seeds, {name: values}, energy,
                              correlation_length=args.correlation_length, workers=args.workers,
                              scheduler=args.scheduler)
    plot_compare(result, out, device.units.get(name, ""))
    print(f"{'U (meV)':>8} {'L/l_e':>10} {'|plateau-n|':>12} {'flatness':>10} {'plateaus':>9}")
    for U in sorted(result.quality):
        q = result.quality[U]
        print(f"{U:8.3g} {q['L_over_le']:10.3g} {q['deviation']:12.3g} {q['flatness']:10.3g} "
              f"{q['plateaus']:9.2f}")
    print(f"wrote {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def register_cli(sub) -> None:
    p = sub.add_parser("lengths", help="length-scale hierarchy and whether plateaus should show")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (nm, meV, V, T)")
    p.add_argument("--temperature", type=float, required=True, help="temperature (K)")
    p.add_argument("--energy", type=float, help="Fermi energy (meV)")
    p.add_argument("--disorder", type=float,
                   help="disorder strength (meV): Anderson U, or U_rms with --correlation-length "
                        "(default: the geometry's own disorder parameter, else 0)")
    p.add_argument("--correlation-length", dest="correlation_length", type=float,
                   help="Gaussian correlation length (nm); 0 = Anderson")
    p.add_argument("--L-phi", dest="L_phi", type=float, help="phase-coherence length (nm)")
    p.add_argument("--length", type=float,
                   help="length that must be short (nm), e.g. the constriction; default: the "
                        "device's scattering-region length")
    p.add_argument("--seeds", type=int, default=16, help="seeds per length for measured l_e")
    p.add_argument("--no-measure", action="store_true", help="Born l_e only (no ensembles)")
    p.set_defaults(func=_lengths)

    p = sub.add_parser("compare", help="clean vs disordered gate sweeps (ensemble bands)")
    p.add_argument("geometry", help="geometry file (or the name of one in geometries/)")
    p.add_argument("--disorder", required=True, metavar="U1,U2,...",
                   help="disorder strengths (meV): Anderson U, or rms with --correlation-length")
    p.add_argument("--seeds", type=int, default=6, help="disorder realizations per strength")
    p.add_argument("--sweep", required=True, metavar="NAME=START:STOP:NUM",
                   help="swept parameter in its own unit (e.g. Vg in V)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="geometry parameter (nm, meV, V, T)")
    p.add_argument("--energy", type=float, help="Fermi energy (meV)")
    p.add_argument("--correlation-length", type=float, default=0.0,
                   help="Gaussian correlation length (nm); 0 = Anderson disorder")
    p.add_argument("--workers", type=int, help="local processes (default: all cores)")
    p.add_argument("--scheduler", help="Dask scheduler tcp://host:port, or 'local'")
    p.add_argument("--out", required=True, help="figure file (PNG)")
    p.set_defaults(func=_compare)
