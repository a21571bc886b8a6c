"""Figure of a clean-vs-disordered comparison at several temperatures
(:class:`qpcsim.physics.compare.ThermalComparison`): the talk figure."""
from __future__ import annotations

from .. import validate as _validate

__all__ = ["plot_compare_biases", "plot_compare_temperatures"]

#: Floor of the log-scale quality axis (G0): a clean plateau's deviation can be ~1e-9.
_FLOOR = 1e-5


def plot_compare_temperatures(comparison, unit: str = ""):
    """Figure: one panel per temperature with the clean trace and each disorder
    strength's mean +- std band, and a last panel with the plateau quality on the
    lowest temperature's clean plateaus vs L/l_e, per temperature: flatness (mean
    max |G - median|, solid) and deviation (mean |median G - n|, dashed), G0.

    Parameters
    ----------
    comparison : qpcsim.physics.compare.ThermalComparison
        The clean/disordered comparison at several temperatures (K), from
        :func:`qpcsim.compare_disorder` with a list of temperatures.
    unit : str, optional
        Unit of the swept gate axis for its label (e.g. ``"V"``); empty: none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("comparison", comparison, ("results", "temperatures"), "a "
                        "ThermalComparison (qpcsim.compare_disorder with several temperatures)")
    from matplotlib.figure import Figure
    results = comparison.results
    fig = Figure(figsize=(3.2 * len(results) + 3.6, 3.6))
    axes = fig.subplots(1, len(results) + 1, sharey=False)
    for ax, res in zip(axes[:-1], results):
        _bands(ax, res, unit)
        ax.set_title(f"T = {res.temperature:g} K", fontsize=9)
    axes[0].set_ylabel(r"$G$ ($2e^2/h$)")
    axes[0].legend(fontsize=7, loc="best", title=f"mean $\\pm$ std, n = {_seeds(results)}",
                   title_fontsize=7)
    _quality(axes[-1], results, [f"T = {res.temperature:g} K" for res in results])
    fig.suptitle(f"clean vs disordered, E = {results[0].energy:g} meV, "
                 f"L = {results[0].length:g} nm", fontsize=10)
    fig.tight_layout()
    return fig


def _seeds(results) -> str:
    counts = {ens.n for res in results for ens in res.ensembles.values()}
    return ", ".join(str(c) for c in sorted(counts)) if counts else "0"


def plot_compare_biases(comparison, unit: str = ""):
    """Figure: per bias (columns) and temperature (rows), the clean dI/dV trace and each
    disorder strength's mean +- std band, and a last column with the plateau quality on the
    reference clean plateaus vs L/l_e, one colour per bias: flatness (solid) and deviation
    (dashed), G0.

    Parameters
    ----------
    comparison : qpcsim.physics.compare.BiasComparison
        The clean/disordered comparison at several biases (mV) and temperatures (K), from
        :func:`qpcsim.compare_disorder` with ``bias=``.
    unit : str, optional
        Unit of the swept gate axis for its label (e.g. ``"V"``); empty: none.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("comparison", comparison, ("biases", "temperatures"),
                        "a BiasComparison (qpcsim.compare_disorder with bias=)")
    from matplotlib.figure import Figure
    temps, biases = comparison.temperatures, comparison.biases
    fig = Figure(figsize=(3.0 * len(biases) + 3.6, 3.2 * len(temps) + 0.4))
    axes = fig.subplots(len(temps), len(biases) + 1, squeeze=False)
    for row, t in zip(axes, temps):
        results = [comparison.at(v, t) for v in biases]
        for ax, res in zip(row[:-1], results):
            _bands(ax, res, unit)
            ax.set_title(f"$V_{{sd}}$ = {res.bias:g} mV, T = {t:g} K", fontsize=9)
        row[0].set_ylabel(r"$dI/dV$ ($2e^2/h$)")
        _quality(row[-1], results, [f"{res.bias:g} mV" for res in results])
    axes[0][0].legend(fontsize=7, loc="best",
                      title=f"mean $\\pm$ std, n = {_seeds(comparison.results)}",
                      title_fontsize=7)
    first = comparison.results[0]
    fig.suptitle(f"clean vs disordered dI/dV (symmetric drop), E = {first.energy:g} meV, "
                 f"L = {first.length:g} nm", fontsize=10)
    fig.tight_layout()
    return fig


def _bands(ax, res, unit: str) -> None:
    """The clean trace (black) and each strength's mean +- std band of one comparison."""
    ax.plot(res.x, res.clean, "k-", lw=1.4, label="clean")
    for i, (U, ens) in enumerate(sorted(res.ensembles.items())):
        ax.plot(res.x, ens.mean, color=f"C{i}", lw=1.1, label=f"U = {U:g} meV")
        ax.fill_between(res.x, ens.mean - ens.std, ens.mean + ens.std, color=f"C{i}",
                        alpha=0.25, lw=0)
    ax.set_xlabel(res.name + (f" ({unit})" if unit else ""))
    ax.grid(alpha=0.3)


def _quality(bx, results, labels) -> None:
    """Plateau quality vs L/l_tr, one colour per comparison (``labels``): flatness (solid,
    circles) and deviation (dashed, squares), G0 on a log axis floored at :data:`_FLOOR`."""
    for j, (res, label) in enumerate(zip(results, labels)):
        levels = sorted(res.quality)
        ratio = [res.quality[u]["L_over_le"] for u in levels]
        for key, style in (("flatness", "o-"), ("deviation", "s--")):
            bx.semilogy(ratio, [max(res.quality[u][key], _FLOOR) for u in levels], style,
                        color=f"C{j}", ms=4, label=f"{key}, {label}")
    bx.locator_params(axis="x", nbins=4)
    bx.set_xlabel(r"$L/l_{tr}$ (Born; clean = 0)")
    bx.set_ylabel(r"plateau quality ($2e^2/h$)")
    bx.set_title("plateau quality", fontsize=9)
    bx.grid(alpha=0.3, which="both")
    bx.legend(fontsize=7)
