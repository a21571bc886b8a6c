"""Figures: conductance traces with G0 gridlines, transconductance, 2-D maps,
and the device (lattice, leads, potential landscape). Matplotlib, Agg backend."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis import find_plateaus
from .physics import plot_adiabaticity, plot_compare, plot_mean_free_path

__all__ = ["plot_result", "plot_device", "save_figure", "plot_mean_free_path", "plot_adiabaticity",
           "plot_compare"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    """Write ``fig`` to ``path`` (format from the suffix) and close it; a clear error if it cannot."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=130, bbox_inches="tight")
    except OSError as exc:
        raise ValueError(f"out={str(path)!r} cannot be written: {exc.strerror or exc}") from None
    finally:
        _pyplot().close(fig)
    return path


def plot_result(result, out, title: str | None = None):
    """G vs the swept variable with G0 gridlines and plateau labels, plus dG/dx;
    or a colour map of G (and of dG/dx) for 2-D sweeps."""
    plt = _pyplot()
    data = result.data
    swept = result.swept
    g = data["conductance"]
    title = title or data.attrs.get("title", "")
    if len(swept) == 1:
        name = swept[0]
        x = np.asarray(data[name].values, dtype=float)
        order = np.argsort(x)
        x, y = x[order], np.asarray(g.values)[order]
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.3]})
        ax.plot(x, y, "-", color="C0", lw=1.6)
        ax.plot(x, y, ".", color="C0", ms=3)
        top = int(np.ceil(np.nanmax(y))) if y.size else 1
        for n in range(0, top + 1):
            ax.axhline(n, color="0.7", lw=0.7, zorder=0)
        if len(x) >= 5:
            for p in find_plateaus(x, y):
                ax.annotate(f"{p.value:.3f}", ((p.start + p.stop) / 2, p.value),
                            textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8)
        ax.set_ylabel(r"$G$ ($2e^2/h$)")
        ax.set_title(title)
        unit = data[name].attrs.get("units", "")
        if len(x) > 2:
            ax2.plot(x, np.gradient(y, x), color="C3", lw=1.2)
        ax2.set_ylabel(r"$dG/d$" + name)
        ax2.set_xlabel(f"{name} ({unit})" if unit else name)
    else:
        fig, ax = plt.subplots(figsize=(7.5, 5.5))
        xname, yname = swept
        if "point" in g.dims:
            tri = ax.tricontourf(data[xname].values, data[yname].values, g.values, levels=60)
            fig.colorbar(tri, ax=ax, label=r"$G$ ($2e^2/h$)")
        else:
            mesh = ax.pcolormesh(data[xname].values, data[yname].values, g.transpose(yname, xname).values,
                                 shading="auto")
            fig.colorbar(mesh, ax=ax, label=r"$G$ ($2e^2/h$)")
        ax.set_xlabel(f"{xname} ({data[xname].attrs.get('units', '')})")
        ax.set_ylabel(f"{yname} ({data[yname].attrs.get('units', '')})")
        ax.set_title(title)
    return save_figure(fig, out)


def plot_device(device, out, **params):
    """The lattice with its leads (kwant.plot) and the potential landscape (meV)."""
    import warnings
    with warnings.catch_warnings():       # Kwant warns that plotly (unused here) is missing
        warnings.simplefilter("ignore", RuntimeWarning)
        import kwant
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    kwant.plot(device.build(), ax=ax1, site_size=0.25, hop_lw=0.03, show=False)
    ax1.set_title(f"{device.name}: {device.nx} x {device.ny} sites, a = {device.a:g} nm")
    ax1.set_xlabel("x (lattice units)")
    x, y, v = device.potential_landscape(**params)
    sc = ax2.scatter(x, y, c=v, s=max(1.0, 4000.0 / len(x)), marker="s", cmap="viridis")
    fig.colorbar(sc, ax=ax2, label="V (meV)")
    ax2.set_aspect("equal")
    ax2.set_xlabel("x (nm)")
    ax2.set_ylabel("y (nm)")
    shown = device.resolve_params(params)
    ax2.set_title(", ".join(f"{k}={v:g} {device.units.get(k, '')}".strip() for k, v in shown.items()))
    return save_figure(fig, out)
