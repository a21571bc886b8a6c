"""Analysis of conductance traces: plateaus, steps, Büttiker saddle-point fits.

All functions take plain arrays (gate values in the user's unit, conductance
in G0), so they work on simulated and measured data alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate as _validate

__all__ = ["Plateau", "Step", "ButtikerFit", "find_plateaus", "find_steps", "fit_buttiker",
           "buttiker_conductance", "plateau_table", "optimal_sample_count", "plateau_resolution",
           "overlapping_risers", "RISER_OVERLAP_RATIO", "pinch_off"]


@dataclass
class Plateau:
    """A flat stretch of G(x).

    Attributes
    ----------
    value : float
        Median conductance on the plateau (G0).
    start, stop : float
        Its extent in the swept variable (gate units).
    width : float
        ``stop - start`` (gate units).
    flatness : float
        Largest |G - value| on the plateau (G0).
    deviation : float
        ``value - nearest integer`` (G0).
    points : int
        Samples on the plateau.
    """

    value: float
    start: float
    stop: float
    width: float
    flatness: float
    deviation: float
    points: int

    @property
    def index(self) -> int:
        """Nearest integer: the number of open channels."""
        return int(round(self.value))


@dataclass
class Step:
    """A riser between plateaus n-1 and n: where G crosses n - 1/2, and the
    distance between its n - 3/4 and n - 1/4 crossings (gate units)."""

    n: int
    position: float
    width: float


def _sorted_trace(x, g, min_points=5, purpose="to find plateaus"):
    x = np.asarray(x, dtype=float)
    g = np.asarray(g, dtype=float)
    if x.ndim != 1 or x.shape != g.shape:
        raise ValueError(f"x and conductance must be 1-D arrays of equal length; got shapes "
                         f"{x.shape} and {g.shape}")
    if x.size < min_points:
        raise ValueError(f"x has {x.size} points: at least {min_points} are needed {purpose}")
    for name, values in (("x", x), ("conductance", g)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains non-finite values (NaN or inf) at "
                             f"{np.flatnonzero(~np.isfinite(values))[:5].tolist()}")
    order = np.argsort(x)
    return x[order], g[order]


def find_plateaus(x, conductance, *, slope_fraction: float = 0.2, min_points: int = 3,
                  tolerance: float = 0.25) -> list[Plateau]:
    """Plateaus of a conductance trace G(x).

    A plateau is a maximal run of at least ``min_points`` samples where
    |dG/dx| < ``slope_fraction`` * (typical riser slope: the median height of
    the peaks of |dG/dx|), and whose median lies within
    ``tolerance`` of an integer (so a flat stretch of a disordered trace at a
    non-integer value is not called a quantized plateau).

    Parameters
    ----------
    x : array_like
        Swept variable (gate units, e.g. V).
    conductance : array_like
        G (G0).
    slope_fraction : float
        Flatness threshold relative to the steepest slope (dimensionless).
    min_points : int
        Smallest number of samples on a plateau.
    tolerance : float
        Largest allowed distance of the plateau value from an integer (G0).

    Returns
    -------
    list of Plateau, ordered by x
    """
    x, g = _sorted_trace(x, conductance)
    slope_fraction = _validate.in_range("slope_fraction", slope_fraction, 0.0, 1.0)
    return _flat_runs(x, g, slope_fraction, min_points, tolerance)


def _flat_runs(x, g, slope_fraction, min_points, tolerance):
    """Plateaus of one stretch. A run judged flat against the stretch's typical
    riser slope but whose values drift by more than ``tolerance`` is not a
    plateau: it holds gentler risers (e.g. the first steps of a split gate next
    to the steep ones near full opening), so it is searched again against its
    own riser slope."""
    from scipy.signal import find_peaks   # 0.1-0.2 s of imports: only when a trace is analysed

    slope = np.abs(np.gradient(g, x))
    peaks, _ = find_peaks(slope, prominence=0.2 * slope.max())
    reference = np.median(slope[peaks]) if peaks.size else slope.max()
    flat = slope < slope_fraction * reference if reference > 0 else np.ones_like(slope, bool)
    plateaus = []
    start = None
    for i, is_flat in enumerate(np.append(flat, False)):
        if is_flat and start is None:
            start = i
        elif not is_flat and start is not None:
            run = slice(start, i)
            start = None
            if run.stop - run.start < min_points:
                continue
            if np.ptp(g[run]) > tolerance:
                if run.stop - run.start < x.size:   # a proper sub-stretch: look inside
                    plateaus += _flat_runs(x[run], g[run], slope_fraction, min_points,
                                           tolerance)
                continue
            value = float(np.median(g[run]))
            deviation = value - round(value)
            if abs(deviation) > tolerance:
                continue
            plateaus.append(Plateau(value=value, start=float(x[run][0]), stop=float(x[run][-1]),
                                    width=float(x[run][-1] - x[run][0]),
                                    flatness=float(np.max(np.abs(g[run] - value))),
                                    deviation=float(deviation), points=run.stop - run.start))
    return plateaus


def _crossings(x, g, level):
    s = g - level
    idx = np.flatnonzero(np.sign(s[:-1]) * np.sign(s[1:]) < 0)
    return x[idx] - s[idx] * (x[idx + 1] - x[idx]) / (s[idx + 1] - s[idx])


def find_steps(x, conductance) -> list[Step]:
    """Risers of G(x): first crossing of each n - 1/2 with its 25-75 % width."""
    x, g = _sorted_trace(x, conductance)
    steps = []
    top = int(np.floor(np.nanmax(g) + 0.5))
    for n in range(1, top + 1):
        mid = _crossings(x, g, n - 0.5)
        if mid.size == 0:
            continue
        lo, hi = _crossings(x, g, n - 0.75), _crossings(x, g, n - 0.25)
        width = float(abs(hi[np.argmin(abs(hi - mid[0]))] - lo[np.argmin(abs(lo - mid[0]))])) \
            if lo.size and hi.size else float("nan")
        steps.append(Step(n=n, position=float(mid[0]), width=width))
    return steps


def pinch_off(x, conductance) -> float | None:
    """Pinch-off point of a gate trace (its unit): where G first crosses G0/2 (linear
    interpolation), the first riser of :func:`find_steps`; None if G never reaches it."""
    first = [s for s in find_steps(x, conductance) if s.n == 1]
    return first[0].position if first else None


def buttiker_conductance(x, hw_x, hw_y, x0, lever_arm=1.0, n_modes=30):
    """Büttiker's saddle-point conductance vs gate (G0).

    ``G = sum_n 1/(1 + exp(-2 pi eps_n / hw_x))`` with
    ``eps_n = lever_arm (x0 - x) - hw_y (n + 1/2)``: the energy of the Fermi
    level above the n-th saddle threshold when the gate ``x`` raises the saddle
    by ``lever_arm`` meV per gate unit (``x0``: gate where the saddle top meets
    the Fermi level). For a sweep of V0 itself, ``lever_arm = 1`` and ``x0 = E_F``.
    """
    x = np.asarray(x, dtype=float)[..., None]
    n = np.arange(n_modes)
    eps = lever_arm * (x0 - x) - hw_y * (n + 0.5)
    return np.sum(0.5 * (1 + np.tanh(np.pi * eps / hw_x)), axis=-1)


@dataclass
class ButtikerFit:
    """Fit of G(x) to Büttiker's formula; values with one-sigma uncertainties (meV, gate units)."""

    hw_x: float
    hw_x_err: float
    hw_y: float
    hw_y_err: float
    x0: float
    x0_err: float
    lever_arm: float
    residual_rms: float


def fit_buttiker(x, conductance, *, lever_arm: float = 1.0, guess: dict | None = None,
                 max_conductance: float | None = None) -> ButtikerFit:
    """Fit a sweep to Büttiker's saddle-point formula, returning hbar omega_x,y.

    Parameters
    ----------
    x : array_like
        Gate values (gate units; meV when sweeping the saddle height V0).
    conductance : array_like
        G (G0).
    lever_arm : float
        meV of saddle height per gate unit (1 for a V0 sweep; negative when G
        rises with the gate); held fixed, since it is degenerate with the two
        energies.
    guess : dict, optional
        Starting values ``hw_x``, ``hw_y``, ``x0``; by default from step
        positions (hw_y from their spacing, hw_x from their 25-75 % width:
        width = ln(3) hw_x / pi).
    max_conductance : float, optional
        Ignore points above this G (where a real device departs from a saddle).

    Returns
    -------
    ButtikerFit
    """
    x, g = _sorted_trace(x, conductance)
    lever_arm = _validate.real_number("lever_arm", lever_arm)
    if lever_arm == 0:
        raise ValueError("lever_arm=0 is not allowed: the gate must move the saddle "
                         "(negative when G rises with the gate)")
    if max_conductance is not None:
        keep = g <= max_conductance
        x, g = x[keep], g[keep]
    if x.size >= 2:
        # lever_arm > 0: the gate raises the saddle, so G must fall as x rises
        trend = float(np.polyfit(x - x.mean(), g, 1)[0])
        if trend != 0 and np.sign(trend) == np.sign(lever_arm):
            raise ValueError(
                f"lever_arm={lever_arm:g} has the wrong sign for this sweep: G "
                f"{'rises' if trend > 0 else 'falls'} with the gate (from {g[0]:.3g} to "
                f"{g[-1]:.3g} G0), so the lever arm must be "
                f"{'negative' if trend > 0 else 'positive'} (a wrong sign fits nonsense, "
                "e.g. hbar omega_x ~ 1e7 meV)")
    guess = dict(guess or {})
    steps = find_steps(x, g)
    if not {"hw_x", "hw_y", "x0"} <= guess.keys():
        if len(steps) < 2:
            raise ValueError("fit_buttiker needs at least two conductance steps in the sweep "
                             "(or an explicit guess={'hw_x', 'hw_y', 'x0'})")
        spacing = np.median(np.abs(np.diff([s.position for s in steps]))) * lever_arm
        widths = [s.width for s in steps if np.isfinite(s.width)]
        first = steps[0]
        guess.setdefault("hw_y", spacing)
        guess.setdefault("hw_x", (np.median(widths) * lever_arm * np.pi / np.log(3))
                         if widths else spacing / 2)
        # step n crosses G = n - 1/2 where lever (x0 - x) = hw_y (n - 1/2)
        guess["hw_y"] = abs(guess["hw_y"])
        guess["hw_x"] = abs(guess["hw_x"])
        guess.setdefault("x0", first.position + guess["hw_y"] * (first.n - 0.5) / lever_arm)

    def model(xx, hw_x, hw_y, x0):
        return buttiker_conductance(xx, hw_x, hw_y, x0, lever_arm)

    from scipy.optimize import curve_fit

    try:
        popt, pcov = curve_fit(
            model, x, g, p0=[guess["hw_x"], guess["hw_y"], guess["x0"]],
            bounds=([1e-6, 1e-6, -np.inf], [np.inf, np.inf, np.inf]))
    except RuntimeError as exc:
        raise ValueError(f"Büttiker fit did not converge: {exc}") from None
    errors = np.sqrt(np.diag(pcov))
    rms = float(np.sqrt(np.mean((model(x, *popt) - g) ** 2)))
    return ButtikerFit(hw_x=float(popt[0]), hw_x_err=float(errors[0]), hw_y=float(popt[1]),
                       hw_y_err=float(errors[1]), x0=float(popt[2]), x0_err=float(errors[2]),
                       lever_arm=lever_arm, residual_rms=rms)


def optimal_sample_count(x, conductance, error: float) -> int:
    """Fewest samples of a trace whose linear interpolant stays within ``error``.

    The benchmark for any sampler (uniform, adaptive): the samples are chosen
    among the points of the dense trace ``(x, conductance)``, the end points
    included, and the chord between consecutive samples must stay within
    ``error`` of every dense point it spans. Solved exactly as a shortest path:
    the chords that leave a sample ``i`` and stay within the error are those
    whose slope lies in a cone narrowed by each point passed (the cone's bounds
    are running max/min of slopes to ``g_k -/+ error``), and once the cone is
    empty no longer chord from ``i`` can be valid.

    Parameters
    ----------
    x : array_like
        Dense grid of the swept parameter (its unit).
    conductance : array_like
        Conductance on that grid (G0).
    error : float
        Allowed max deviation of the interpolant (G0), > 0.

    Returns
    -------
    int
        The number of samples, end points included.
    """
    x, g = _sorted_trace(x, conductance, 2, "for a trace")
    error = _validate.positive("error", error, "G0")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x has repeated values: give each point of the dense trace once")
    # A point exactly at the error bound counts as within it, whatever the rounding.
    error *= 1 + 1e-12
    n = len(x)
    samples = np.full(n, n + 1, dtype=np.int64)     # fewest samples ending at point j
    samples[0] = 1
    for i in range(n - 1):
        dx = x[i + 1:] - x[i]
        low = np.maximum.accumulate((g[i + 1:] - error - g[i]) / dx)
        high = np.minimum.accumulate((g[i + 1:] + error - g[i]) / dx)
        slope = (g[i + 1:] - g[i]) / dx
        # Chord i -> j is valid if its slope fits the cone of the points strictly
        # between them: bounds up to j - 1 (the chord meets g_j exactly).
        low_before = np.concatenate([[-np.inf], low[:-1]])
        high_before = np.concatenate([[np.inf], high[:-1]])
        valid = (slope >= low_before) & (slope <= high_before)
        open_cone = np.flatnonzero(low_before > high_before)
        if open_cone.size:
            valid[open_cone[0]:] = False
        targets = i + 1 + np.flatnonzero(valid)
        samples[targets] = np.minimum(samples[targets], samples[i] + 1)
    return int(samples[-1])


def plateau_resolution(x, conductance, *, min_points: int = 3) -> str:
    """Why plateaus are missed, when it is the sampling.

    Returns ``""`` when the trace has no risers, or when :func:`find_plateaus`
    finds a plateau between every two risers; otherwise a sentence such as
    "G rises through 4 step(s) over 25 points: 5 point(s) per plateau
    (fewest between two risers), need >= 8; use >= 40 points over this range".

    The need, ``2 min_points + 2`` samples between risers, is measured: a
    plateau's flat run must hold ``min_points`` samples whose slope is small
    against the risers', and the samples next to each riser are not flat
    (Fermi-function staircases: plateaus found from 8 samples per plateau on).
    Risers closer than :data:`RISER_OVERLAP_RATIO` widths hold no plateau at any
    resolution (:func:`overlapping_risers`) and are not counted.

    Parameters
    ----------
    x, conductance : array_like
        The trace (gate units, G0).
    min_points : int
        Samples a plateau needs in :func:`find_plateaus`.
    """
    x, g = _sorted_trace(x, conductance, min_points=2, purpose="to judge the resolution")
    if x.size < 5:
        return ""
    steps = sorted(find_steps(x, g), key=lambda s: s.position)
    positions = np.array([s.position for s in steps])
    if positions.size < 2:
        return ""
    pairs = [(a.position, b.position) for a, b in zip(steps[:-1], steps[1:])
             if not _risers_overlap(a, b, np.median(np.diff(x)))]
    inner = [int(np.sum((x > lo) & (x < hi))) for lo, hi in pairs]
    found = [p for p in find_plateaus(x, g, min_points=min_points)
             if any(lo < p.start and p.stop < hi for lo, hi in pairs)]
    if len(found) >= len(inner):
        return ""
    fewest = min(inner)
    need = 2 * min_points + 2
    if fewest >= need:
        return ""
    suggested = int(np.ceil(x.size * need / max(fewest, 1)))
    return (f"G rises through {positions.size} step(s) over {x.size} points: {fewest} point(s) "
            f"per plateau (fewest between two risers), need >= {need}; use >= {suggested} "
            "points over this range")


#: Riser spacing / 25-75 % riser width below which no point between two Büttiker risers
#: is flat by find_plateaus' criterion (slope < 0.2 x the peak slope): with
#: T = 1/(1 + exp(-k e)), the width is 2 ln 3 / k and both tails' slope at mid-way,
#: 2 k exp(-k s / 2), falls below 0.2 k / 4 only for s > 2 ln 40 / k = 3.36 widths.
RISER_OVERLAP_RATIO = 2 * np.log(40.0) / (2 * np.log(3.0))


def _risers_overlap(a: Step, b: Step, dx: float) -> bool:
    """True when risers ``a`` and ``b`` are resolved (25-75 % widths of >= 1.5 samples,
    else a width is only an upper bound set by the sampling) and closer than
    :data:`RISER_OVERLAP_RATIO` mean widths: no plateau between them at any resolution."""
    widths = np.array([a.width, b.width])
    if not np.all(np.isfinite(widths)) or np.any(widths < 1.5 * dx):
        return False
    return abs(b.position - a.position) < RISER_OVERLAP_RATIO * float(np.mean(widths))


def overlapping_risers(x, conductance) -> list[int]:
    """Indices n of the risers that are closer to riser n - 1 than
    :data:`RISER_OVERLAP_RATIO` riser widths (e.g. a QPC near full opening): there the
    trace has no plateau to resolve, however many points are taken."""
    x, g = _sorted_trace(x, conductance, min_points=5, purpose="to judge the risers")
    steps = sorted(find_steps(x, g), key=lambda s: s.position)
    dx = float(np.median(np.diff(x)))
    return [b.n for a, b in zip(steps[:-1], steps[1:]) if _risers_overlap(a, b, dx)]


def plateau_table(plateaus: list[Plateau], unit: str = "", diagnosis: str = "") -> str:
    """Plain-text table of plateaus (what ``qpcsim sweep`` prints); ``diagnosis``
    (e.g. from :func:`plateau_resolution`) replaces "(no plateaus found)"."""
    unit = f" ({unit})" if unit else ""
    lines = [f"{'n':>3} {'G/G0':>9} {'dev':>9} {'flatness':>9} {'from':>10} {'to':>10} "
             f"{'width' + unit:>12}"]
    for p in sorted(plateaus, key=lambda p: p.value):
        lines.append(f"{p.index:>3} {p.value:>9.4f} {p.deviation:>+9.1e} {p.flatness:>9.1e} "
                     f"{p.start:>10.4g} {p.stop:>10.4g} {p.width:>12.4g}")
    if not plateaus:
        lines.append(f"  (no plateaus found: {diagnosis})" if diagnosis else
                     "  (no plateaus found)")
    return "\n".join(lines)
