"""Finite temperature that finds its resonances: adaptive refinement of T(E).

The trapezoidal ladder (:mod:`.grid`) is exponentially accurate for T(E) that is
smooth on the scale of its node spacing h (1.25 kT, at most 0.15 meV): QPC steps.
A Breit-Wigner or Fano resonance, or a Coulomb-blockade-like peak, narrower than
h is not: the ladder samples it at one or two nodes, or only on its tails.

Detection (no solve): each node's value is predicted by the cubic through its two
neighbours on each side (within one stretch between lead thresholds, where T(E)
steps or kinks), the node itself left out. The disagreement ``d_j`` is the error
of interpolating T(E) at twice the local spacing: for smooth T it is ~2^4 times
the error of the interpolant through all nodes, for an unresolved feature it is
the feature's size at the node. The thermal error of a cell [E_a, E_b] is bounded
by ``2 max(d_a, d_b) x int_cell (-df/dE) dE`` (the cell's Fermi weight, exactly
f(E_a) - f(E_b)); their sum, plus the tails beyond the outermost nodes, is the
error estimate. A resonance of width Γ at distance δ from the nearest node shows
a tail (Γ/2δ)^2 of its height there, so a peak whose every node sees less than
about 1e-3 of it (Γ < h/30) can still hide: the detection is an interpolation
test, not a proof.

Refinement: while the estimate exceeds the tolerance, the cells carrying the
largest share are bisected (one S-matrix solve at each midpoint) and the test
repeats on the refined nodes. The thermal average is then the product integral
of the Fermi window against the cubic spline through all nodes (cut at the lead
thresholds), whose error the estimate bounds. A point whose estimate still
exceeds the tolerance when the refinement budget (total solves) is spent raises
:class:`ThermalResolutionError`, naming the energy window it could not resolve.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..units import thermal_energy_meV
from ..validate import ThermalResolutionError
from .errors import (KINK_DELTA, cell_errors, kink_error, ladder_error, ladder_kinks,
                     leave_one_out, resolution_error, tail_errors)
from .grid import EnergyGrid, fermi

__all__ = ["DEFAULT_REFINEMENT_BUDGET", "DEFAULT_THERMAL_TOLERANCE", "ThermalResolutionError",
           "bias_bounds", "bias_window_weights", "drop_bounds", "kink_error", "kinks_counted",
           "ladder_resolves", "panel_errors", "threshold_kinks",
           "refine_bias_spectrum", "refine_drop_spectra",
           "check_thermal_options", "leave_one_out", "refine_spectrum", "resolution_error"]

#: Default target of the thermal average's error (transmission units; G0 for a spin-degenerate
#: channel).
DEFAULT_THERMAL_TOLERANCE = 1e-4
#: Default refinement budget: the most S-matrix solves (nodes) one point may use.
DEFAULT_REFINEMENT_BUDGET = 400
#: Share of the tolerance the refinement aims at (the rest is margin for the tails).
_TARGET = 0.5
#: Quantities whose resolution is tested (a Fano dip in one direction is a dip in both at B = 0).
_TESTED = ("transmission", "transmission_reverse")


def check_thermal_options(thermal_tolerance, refinement_budget, initial: int | None = None):
    """(tolerance, budget) validated: a tolerance > 0 (not NaN), a budget (integer) no smaller
    than the ``initial`` grid; otherwise a one-line ValueError naming value and rule."""
    try:
        tol = float(thermal_tolerance)
    except (TypeError, ValueError):
        tol = math.nan          # refused below, named
    if not tol > 0 or not math.isfinite(tol):
        raise ValueError(f"thermal_tolerance={thermal_tolerance!r} is not allowed: it must be a "
                         "finite number > 0 (error of the thermal average, G0)")
    try:
        whole = not isinstance(refinement_budget, bool) and \
            int(refinement_budget) == refinement_budget
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise ValueError(f"refinement_budget={refinement_budget!r} is not allowed: it must be an "
                         "integer (the most S-matrix solves of one point)")
    budget = int(refinement_budget)
    if initial is not None and budget < initial:
        raise ValueError(f"refinement_budget={budget} is not allowed: it is smaller than the "
                         f"initial energy grid ({initial} nodes); use at least {initial}")
    if budget < 1:
        raise ValueError(f"refinement_budget={budget} is not allowed: it must be >= 1")
    return tol, budget


def threshold_kinks(spectrum, solve_nodes, tolerance=DEFAULT_THERMAL_TOLERANCE):
    """Three solves next to each lead threshold E_t inside a kept ladder, at E_t - delta,
    E_t + delta, E_t + 4 delta: the square-root kink amplitudes the three-level ladder test
    cannot see (:func:`kink_error`). ``None`` when the grid has no ladder or no threshold
    carries weight (a kink whose term at unit amplitude is below 1e-2 ``tolerance``).

    Returns
    -------
    Spectrum or None
        T(E) at the sample energies (meV), three per threshold, in threshold order.
    """
    from .data import Spectrum
    grid = spectrum.grid
    if not grid.ladders or not grid.breakpoints.size:
        return None
    edges = np.unique(np.concatenate([ladder_kinks(grid, t, tolerance) for t in grid.ladders]))
    if not edges.size:
        return None
    energies = (edges[:, None] + KINK_DELTA * np.array([-1.0, 1.0, 4.0])).ravel()
    t_lr, t_rl, eig, worst = solve_nodes(energies)
    return Spectrum(_refined_grid(grid, energies), t_lr, t_rl, eig, spectrum.spin_degenerate,
                    worst, energies.size)


def _refined_grid(grid: EnergyGrid, nodes) -> EnergyGrid:
    cells = np.diff(nodes)
    weights = 0.5 * (np.concatenate([[0.0], cells]) + np.concatenate([cells, [0.0]]))
    return EnergyGrid(nodes=nodes, weights=weights, edges=nodes[[0, -1]].copy(), order=0,
                      mu=grid.mu, temperatures=grid.temperatures, bias=0.0, tol=grid.tol,
                      breakpoints=grid.breakpoints, rule="refined", ladders=None,
                      lower=grid.lower)


def kinks_counted(spectrum, kinks):
    """``spectrum`` with the solves and worst unitarity error of the kink samples added."""
    return replace(spectrum, solves=spectrum.solves + kinks.solves,
                   unitarity_error=max(spectrum.unitarity_error, kinks.unitarity_error))


def ladder_resolves(spectrum, tolerance=DEFAULT_THERMAL_TOLERANCE, kinks=None) -> bool:
    """Whether ``spectrum``'s trapezoidal ladder resolves T(E) to ``tolerance`` at every
    temperature of its grid: its own estimate, the three-level test and, with ``kinks``
    (:func:`threshold_kinks`), the lead thresholds' kink term."""
    temps = [t for t in spectrum.grid.temperatures if t > 0]
    return spectrum.grid.rule == "trapezoid" and all(
        ladder_error(spectrum, q, t) + kink_error(spectrum, kinks, q, t)
        + spectrum.thermal_error(q, t) <= tolerance for q in _TESTED for t in temps)


def refine_spectrum(spectrum, solve_nodes, *, tolerance=DEFAULT_THERMAL_TOLERANCE,
                    budget=DEFAULT_REFINEMENT_BUDGET, kinks=None):
    """``spectrum`` itself when its nodes resolve T(E) to ``tolerance`` at every temperature
    of its grid, else a refined spectrum (grid rule ``"refined"``).

    Parameters
    ----------
    spectrum : Spectrum
        T(E) on a zero-bias grid (a trapezoidal ladder).
    solve_nodes : callable
        ``solve_nodes(energies) -> Spectrum``-like (t_lr, t_rl, eigenvalue rows, worst
        unitarity error) at new energies (meV): one S-matrix solve each.
    tolerance : float
        Target of the thermal average's error (transmission units).
    budget : int
        Most nodes (solves) in all.
    kinks : Spectrum or None
        Samples next to the lead thresholds (:func:`threshold_kinks`): their
        :func:`kink_error` joins the ladder's test, and their solves the count.

    Raises
    ------
    ThermalResolutionError
        The estimate exceeds ``tolerance`` with the budget spent; names the energy window.
    """
    from .data import Spectrum
    grid = spectrum.grid
    temps = [t for t in grid.temperatures if t > 0]

    def worst_cells(spec):
        nodes = spec.grid.nodes
        errors = np.zeros(nodes.size - 1)
        for quantity in _TESTED:
            dev = leave_one_out(nodes, spec.values(quantity), spec.grid.breakpoints)
            for t in temps:
                errors = np.maximum(errors, cell_errors(nodes, dev, grid.mu,
                                                         thermal_energy_meV(t)))
        return errors

    if ladder_resolves(spectrum, tolerance, kinks):
        return spectrum         # the ladder resolves T(E): no new solve
    current = Spectrum(_refined_grid(grid, grid.nodes.copy()), spectrum.transmission,
                       spectrum.transmission_reverse, spectrum.eigenvalues,
                       spectrum.spin_degenerate, spectrum.unitarity_error,
                       spectrum.solves)
    if kinks is not None:       # spent on the ladder's test: counted, and their unitarity
        current = kinks_counted(current, kinks)

    kT_max = max(thermal_energy_meV(t) for t in temps)

    def tails(spec):
        nodes, q = spec.grid.nodes, spec.values("transmission")
        dev = leave_one_out(nodes, q, spec.grid.breakpoints)
        per_t = [tail_errors(nodes, q, dev, grid, thermal_energy_meV(t)) for t in temps]
        return max(a for a, _ in per_t), max(b for _, b in per_t)

    goal = _TARGET * tolerance
    while True:
        errors = worst_cells(current)
        above, below = tails(current)
        if errors.sum() + above + below <= goal:
            return current
        nodes = current.grid.nodes
        new = []
        # the ends: one more node 2 kT beyond (below: at most halfway to the band bottom)
        if above > 0.125 * goal:
            new.append(nodes[-1] + 2 * kT_max)
        if below > 0.125 * goal:
            new.append(max(nodes[0] - 2 * kT_max, 0.5 * (nodes[0] + grid.lower)))
        chosen = []
        if errors.sum() > 0.75 * goal or not new:
            # Bisect the cells carrying the largest share until half the excess is covered.
            excess, covered = errors.sum() - 0.5 * goal, 0.0
            for k in np.argsort(errors)[::-1]:
                if covered >= 0.5 * excess and chosen:
                    break
                chosen.append(int(k))
                covered += errors[k]
            new += [0.5 * (nodes[k] + nodes[k + 1]) for k in chosen]
        new = np.array(sorted(new))
        if nodes.size + new.size > budget:
            worst = chosen or [0, nodes.size - 2]
            lo, hi = nodes[min(worst)], nodes[max(worst) + 1]
            raise ThermalResolutionError(
                f"the thermal average at E_F = {grid.mu:.6g} meV, T = {temps} K is not resolved "
                f"to thermal_tolerance={tolerance:g} within refinement_budget={budget} solves: "
                f"error estimate {errors.sum() + above + below:.3g}, from T(E) in "
                f"[{lo:.6g}, {hi:.6g}] "
                "meV; raise refinement_budget or thermal_tolerance")
        t_lr, t_rl, eig, worst = solve_nodes(new)
        merged = np.concatenate([nodes, new])
        order = np.argsort(merged, kind="stable")
        width = max(current.eigenvalues.shape[1], eig.shape[1])

        def padded(table):
            out = np.zeros((table.shape[0], width))
            out[:, :table.shape[1]] = table
            return out
        current = Spectrum(
            _refined_grid(grid, merged[order]),
            np.concatenate([current.transmission, t_lr])[order],
            np.concatenate([current.transmission_reverse, t_rl])[order],
            np.concatenate([padded(current.eigenvalues), padded(eig)])[order],
            current.spin_degenerate, max(current.unitarity_error, worst),
            current.solves + new.size)


# ---------------------------------------------------------------- bias windows (Gauss panels)
#: Safety factor on the Legendre-tail estimate of a panel's interpolation error.
_PANEL_SAFETY = 4.0


def panel_errors(spectrum, quantity="transmission") -> np.ndarray:
    """Interpolation error bound of each Gauss-Legendre panel of ``spectrum`` (units of q).

    The panel's interpolant is the Legendre series sum_k c_k P_k(x) (|P_k| <= 1) through its
    ``order`` nodes; its error is estimated from the two highest coefficients,
    ``4 (|c_(n-1)| + |c_(n-2)|)``: for T(E) analytic over the panel the coefficients fall
    geometrically and the omitted tail is below this; a line shape narrower than the panel's
    node spacing keeps them large, and its panel is flagged. A feature no node sees at all
    (width well below the node spacing, between nodes) can still hide.
    """
    coefs = spectrum._coefficients(spectrum.values(quantity))
    tail = np.abs(coefs[:, -1]) + (np.abs(coefs[:, -2]) if coefs.shape[1] > 1 else 0.0)
    return _PANEL_SAFETY * tail


def _fermi_integral(energy, mu, kT):
    """Antiderivative of f(E) (meV): E - kT ln(1 + exp((E - mu)/kT)); min(E, mu) at kT = 0."""
    energy = np.asarray(energy, dtype=float)
    if kT == 0:
        return np.minimum(energy, mu)
    return energy - kT * np.logaddexp(0.0, (energy - mu) / kT)


def bias_window_weights(edges, mu, bias, kT):
    """Per panel [E_a, E_b] (``edges``, meV): the weights int_panel |kernel| dE of dI/dV
    (kernel (F_L + F_R)/2, F = -df/dE; dimensionless) and of I (kernel |f_L - f_R|, meV), for
    mu_L,R = mu +- bias/2 (bias in mV) at kT (meV). Closed forms; at kT = 0 the dI/dV kernel
    is the two delta functions at mu_L, mu_R (an energy on a panel edge counts on both)."""
    edges = np.asarray(edges, dtype=float)
    a, b = edges[:-1], edges[1:]
    mu_l, mu_r = mu + bias / 2, mu - bias / 2
    if kT == 0:
        didv = 0.5 * sum(((a <= m) & (m <= b)).astype(float) for m in (mu_l, mu_r))
    else:
        didv = 0.5 * sum(np.abs(fermi(a, m, kT) - fermi(b, m, kT)) for m in (mu_l, mu_r))
    cur = np.abs((_fermi_integral(b, mu_l, kT) - _fermi_integral(a, mu_l, kT))
                 - (_fermi_integral(b, mu_r, kT) - _fermi_integral(a, mu_r, kT)))
    return didv, cur


def bias_bounds(spectrum, biases, temperature, mu=None):
    """(dI/dV bound (G0), I bound (G0 mV)) at each bias (mV): the panels' interpolation
    bounds (:func:`panel_errors`) weighted by the bias kernels (:func:`bias_window_weights`),
    times the spin factor. The Fermi tails beyond the window (weight < 1e-8) are not counted."""
    kT = thermal_energy_meV(temperature)
    mu = spectrum.grid.mu if mu is None else float(mu)
    err = panel_errors(spectrum)
    didv, cur = [], []
    for v in np.atleast_1d(np.asarray(biases, dtype=float)):
        w_didv, w_cur = bias_window_weights(spectrum.grid.edges, mu, float(v), kT)
        didv.append(float(np.sum(err * w_didv)))
        cur.append(float(np.sum(err * w_cur)))
    return spectrum.spin_factor * np.array(didv), spectrum.spin_factor * np.array(cur)


def _panel_grid(grid: EnergyGrid, edges) -> EnergyGrid:
    x, w = np.polynomial.legendre.leggauss(grid.order)
    edges = np.asarray(edges, dtype=float)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    return EnergyGrid(nodes=(mid[:, None] + half[:, None] * x).ravel(),
                      weights=(half[:, None] * w).ravel(), edges=edges, order=grid.order,
                      mu=grid.mu, temperatures=grid.temperatures, bias=grid.bias, tol=grid.tol,
                      breakpoints=grid.breakpoints, rule=grid.rule, ladders=None,
                      lower=grid.lower)


def refine_bias_spectrum(spectrum, solve_nodes, biases, temperature, *,
                         tolerance=DEFAULT_THERMAL_TOLERANCE, budget=DEFAULT_REFINEMENT_BUDGET):
    """``spectrum`` (Gauss panels over a bias window) with the panels bisected until, at every
    bias (mV), the bound of dI/dV is <= ``tolerance`` (G0) and that of I <= ``tolerance`` x |V|
    (G0 mV: the mean conductance I/V to ``tolerance``); see :func:`bias_bounds`.

    Each bisection solves ``order`` new nodes on each half (Gauss nodes do not nest); the
    nodes of the other panels are kept. ``solve_nodes`` as in :func:`refine_spectrum`.

    Returns
    -------
    (Spectrum, didv_bound, current_bound)
        The bounds (G0, G0 mV) at each bias on the returned spectrum.

    Raises
    ------
    ThermalResolutionError
        A bound exceeds its tolerance with ``budget`` (total solves of the point) spent;
        names the bias and the energy window of the panel it could not resolve.
    """
    biases = np.atleast_1d(np.asarray(biases, dtype=float))
    kT = thermal_energy_meV(temperature)
    allowed_cur = tolerance * np.abs(biases)
    current = spectrum
    while True:
        b_didv, b_cur = bias_bounds(current, biases, temperature)
        bad = np.flatnonzero((b_didv > tolerance) | (b_cur > allowed_cur))
        if bad.size == 0:
            return current, b_didv, b_cur
        grid = current.grid
        err = panel_errors(current) * current.spin_factor
        shares = []
        for k in bad:
            w_didv, w_cur = bias_window_weights(grid.edges, grid.mu, float(biases[k]), kT)
            shares += [(err * w_didv, tolerance), (err * w_cur, allowed_cur[k])]
        split = _panels_to_split(shares)
        k = int(bad[0])
        _check_panel_budget(current, split, budget, biases[k], temperature, tolerance,
                            b_didv[k], b_cur[k])
        current = _bisected(current, split, solve_nodes)


def _panels_to_split(shares) -> np.ndarray:
    """Panels to bisect: for each (per-panel share of a bound, allowance) whose sum exceeds
    its allowance, the panels carrying the most, until the rest is within half of it."""
    split = None
    for share, allowed in shares:
        split = np.zeros(share.size, dtype=bool) if split is None else split
        if share.sum() > allowed:
            rest = share.sum()
            for p in np.argsort(share)[::-1]:
                if rest <= 0.5 * allowed:
                    break
                split[p] = True
                rest -= share[p]
    return split


def _check_panel_budget(spectrum, split, budget, bias, temperature, tolerance, b_didv, b_cur):
    """ThermalResolutionError naming the bias and the panel when bisecting ``split`` (order
    new nodes on each half) would pass ``budget``."""
    grid = spectrum.grid
    if spectrum.solves + 2 * grid.order * int(split.sum()) > budget or not split.any():
        p = int(np.argmax(split)) if split.any() else 0
        raise ThermalResolutionError(
            f"the bias window of V_sd = {bias:g} mV at E_F = {grid.mu:.6g} meV, "
            f"T = {temperature:g} K is not resolved to thermal_tolerance={tolerance:g} within "
            f"refinement_budget={budget} solves: bound dI/dV {b_didv:.3g} G0, I/V "
            f"{b_cur / max(abs(bias), 1e-300):.3g} G0, from T(E) in "
            f"[{grid.edges[p]:.6g}, {grid.edges[p + 1]:.6g}] meV; raise refinement_budget "
            "or thermal_tolerance")


def _bisected(current, split, solve_nodes):
    """``current`` with the panels ``split`` bisected: ``order`` new solves on each half, the
    other panels' nodes kept."""
    from .data import Spectrum
    grid = current.grid
    n = grid.order
    new_edges = np.sort(np.concatenate([grid.edges,
                                        0.5 * (grid.edges[:-1] + grid.edges[1:])[split]]))
    new_grid = _panel_grid(grid, new_edges)
    old = {float(e): i for i, e in enumerate(grid.edges[:-1])}
    keep = np.zeros(new_grid.edges.size - 1, dtype=bool)
    src = np.zeros(new_grid.edges.size - 1, dtype=int)
    for q, (a, b) in enumerate(zip(new_grid.edges[:-1], new_grid.edges[1:])):
        i = old.get(float(a))
        if i is not None and not split[i] and grid.edges[i + 1] == b:
            keep[q], src[q] = True, i
    t_lr = np.zeros(new_grid.size)
    t_rl = np.zeros(new_grid.size)
    fresh = np.repeat(~keep, n)
    s_lr, s_rl, eig, worst = solve_nodes(new_grid.nodes[fresh])
    width = max(current.eigenvalues.shape[1], eig.shape[1])
    eigs = np.zeros((new_grid.size, width))
    rows = (src[keep][:, None] * n + np.arange(n)).ravel()
    t_lr[~fresh], t_rl[~fresh] = current.transmission[rows], current.transmission_reverse[rows]
    eigs[~fresh, :current.eigenvalues.shape[1]] = current.eigenvalues[rows]
    t_lr[fresh], t_rl[fresh] = s_lr, s_rl
    eigs[fresh, :eig.shape[1]] = eig
    return Spectrum(new_grid, t_lr, t_rl, eigs, current.spin_degenerate,
                    max(current.unitarity_error, worst), current.solves + int(fresh.sum()))


def drop_bounds(plus, minus, bias, temperature, step):
    """(dI/dV bound (G0), I bound (G0 mV)) of the bias-drop model at one bias (mV) from the
    spectra at V_sd = bias +- ``step`` (mV) on the same panels: the Legendre-tail bound of the
    mean T(E; V) weighted by the dI/dV kernel (F_L + F_R)/2 and, for I, by |f_L - f_R|; plus,
    for dI/dV, the bound of dT/dV = (T_+ - T_-)/(2 step) weighted by |f_L - f_R|. Also the
    per-panel shares [(dI/dV share, I share)] for :func:`refine_drop_spectra`."""
    kT = thermal_energy_meV(temperature)
    grid = plus.grid
    mean = 0.5 * (plus.transmission + minus.transmission)
    slope = (plus.transmission - minus.transmission) / (2 * step)
    err_mean = panel_errors(plus, mean) * plus.spin_factor
    err_slope = panel_errors(plus, slope) * plus.spin_factor
    w_didv, w_cur = bias_window_weights(grid.edges, grid.mu, float(bias), kT)
    share_didv = err_mean * w_didv + err_slope * w_cur
    share_cur = err_mean * w_cur
    return float(share_didv.sum()), float(share_cur.sum()), (share_didv, share_cur)


def refine_drop_spectra(plus, minus, solve_plus, solve_minus, bias, temperature, step, *,
                        tolerance=DEFAULT_THERMAL_TOLERANCE, budget=DEFAULT_REFINEMENT_BUDGET):
    """The spectra at V_sd = bias +- ``step`` (mV) of a bias-drop device, their shared Gauss
    panels bisected until :func:`drop_bounds` is within ``tolerance`` (dI/dV, G0) and
    ``tolerance`` x |bias| (I, G0 mV). ``solve_plus``/``solve_minus`` as ``solve_nodes`` of
    :func:`refine_spectrum`; ``budget`` counts the solves of each spectrum (the point solves
    twice that).

    Returns
    -------
    (plus, minus, didv_bound, current_bound)

    Raises
    ------
    ThermalResolutionError
        A bound above its tolerance with ``budget`` spent; names the bias and the window.
    """
    allowed_cur = tolerance * abs(float(bias))
    while True:
        b_didv, b_cur, (s_didv, s_cur) = drop_bounds(plus, minus, bias, temperature, step)
        if b_didv <= tolerance and b_cur <= allowed_cur:
            return plus, minus, b_didv, b_cur
        split = _panels_to_split([(s_didv, tolerance), (s_cur, allowed_cur)])
        _check_panel_budget(plus, split, budget, float(bias), temperature, tolerance, b_didv,
                            b_cur)
        plus, minus = _bisected(plus, split, solve_plus), _bisected(minus, split, solve_minus)
