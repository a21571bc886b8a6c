"""Figures of the physics layer's results: mean free path fits, adiabaticity
scans, clean vs disordered comparisons. Each returns a matplotlib Figure;
save it with :func:`qpcsim.plotting.save_figure`."""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from .figure import new_figure

__all__ = ["plot_mean_free_path", "plot_adiabaticity", "plot_compare"]


def plot_mean_free_path(fit, born=None):
    """Figure: <T>(L) with error bars, the fit N/(1 + L/l) and (if given) the
    Born prediction N/(1 + L/((pi/2) l_tr^Born)).

    Parameters
    ----------
    fit : qpcsim.physics.fits.MeanFreePathFit
        The fit of :func:`qpcsim.fit_mean_free_path` (lengths in nm).
    born : optional
        The Born estimate of :func:`qpcsim.born_mean_free_path` (``l_tr``, ``l_wire`` in nm).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("fit", fit, ("lengths", "mean_T", "sem_T"),
                        "a MeanFreePathFit (qpcsim.fit_mean_free_path)")
    fig = new_figure(figsize=(5, 3.6))
    ax = fig.subplots()
    L = np.linspace(0, fit.lengths.max() * 1.05, 200)
    ax.errorbar(fit.lengths, fit.mean_T, yerr=fit.sem_T, fmt="ko", ms=4, label="ensemble <T>")
    ax.plot(L, fit.model(L), "C0-",
            label=f"fit: l = {fit.l:.0f} nm, l_tr = 2l/pi = {fit.l_tr:.0f} nm")
    if born is not None:
        ax.plot(L, fit.modes / (1 + L / born.l_wire), "C1--",
                label=f"Born: l_tr = {born.l_tr:.0f} nm")
    ax.set_xlabel("L (nm)")
    ax.set_ylabel(r"$\langle T\rangle$")
    ax.set_title(f"N = {fit.modes} modes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig



def plot_adiabaticity(result):
    """Figure: plateau deviation |G - n| (2e²/h) vs L_taper / lambda_F (log scale).

    Parameters
    ----------
    result : qpcsim.physics.adiabaticity.AdiabaticityResult
        The scan of :func:`qpcsim.adiabaticity_scan`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("result", result, ("per_plateau",),
                        "an AdiabaticityResult (qpcsim.adiabaticity_scan)")
    fig = new_figure(figsize=(5, 3.6))
    ax = fig.subplots()
    for m in range(result.per_plateau.shape[1]):
        ax.semilogy(result.ratio, np.maximum(result.per_plateau[:, m], 1e-7), "o:", ms=3,
                    alpha=0.6, label=f"plateau {m + 1}")
    ax.semilogy(result.ratio, np.maximum(result.deviation, 1e-7), "ko-", label="mean")
    ax.axhline(result.tolerance, color="grey", lw=0.8)
    ax.set_xlabel(r"$L_{taper}/\lambda_F$")
    ax.set_ylabel(r"$|G - n|$ ($2e^2/h$)")
    ax.set_title(f"qpc_hardwall: |G - n| < {result.tolerance:g} (2e²/h) from "
                 f"$L_{{taper}}/\\lambda_F$ = {result.threshold:.2g}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_compare(result, unit: str = ""):
    """Figure: mean +- std bands over the clean curve, and plateau quality vs L/l_e.

    Parameters
    ----------
    result : qpcsim.physics.compare.CompareResult
        The comparison of :func:`qpcsim.compare_disorder` (G in 2e²/h, U in meV).
    unit : str
        Unit of the swept gate, for the axis label (e.g. ``"V"``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("result", result, ("x", "clean", "ensembles"),
                        "a CompareResult (qpcsim.compare_disorder)")
    fig = new_figure(figsize=(10, 4))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    ax.plot(result.x, result.clean, "k-", lw=1.5, label="clean")
    for U, r in result.ensembles.items():
        line, = ax.plot(result.x, r.mean, lw=1.2, label=f"U = {U:g} meV (n={r.n})")
        ax.fill_between(result.x, r.mean - r.std, r.mean + r.std, color=line.get_color(),
                        alpha=0.25)
    ax.set_xlabel(f"{result.name}" + (f" ({unit})" if unit else ""))
    ax.set_ylabel(r"$G$ ($2e^2/h$)")
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
    bx.set_ylabel(r"deviation ($2e^2/h$)")
    bx.set_title("plateau quality")
    bx.grid(alpha=0.3, which="both")
    bx.legend(fontsize=8)
    fig.tight_layout()
    return fig

