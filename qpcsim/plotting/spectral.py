"""Figures of the spectral observables: bias diamonds, current-density maps and temperature
series (one conductance curve per temperature)."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_bias_map", "plot_current", "current_figure", "plot_temperature_series"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_bias_map(data, out):
    """dI/dV (G0) and its transconductance vs (gate, V_sd) from :func:`qpcsim.bias_map`."""
    from . import save_figure
    plt = _pyplot()
    gate = data.attrs["gate"]
    x, v = data[gate].values, data["bias"].values
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    unit = data[gate].attrs.get("units", "")
    for ax, name, cmap in zip(axes, ["differential_conductance", "transconductance"],
                              ["viridis", "RdBu_r"]):
        z = data[name].values.T
        kwargs = {}
        if name == "transconductance":
            lim = np.nanmax(np.abs(z)) or 1.0
            kwargs = {"vmin": -lim, "vmax": lim}
        mesh = ax.pcolormesh(x, v, z, shading="auto", cmap=cmap, **kwargs)
        fig.colorbar(mesh, ax=ax, label=f"{data[name].attrs['long_name']} "
                                        f"({data[name].attrs['units']})")
        ax.set_xlabel(f"{gate} ({unit})" if unit else gate)
        ax.set_ylabel("V_sd (mV)")
    axes[0].set_title(f"E_F = {data.attrs['energy_meV']:g} meV, T = {data.attrs['temperature_K']:g} K")
    return save_figure(fig, out)


def current_figure(device, cmap, params=None, *, title: str | None = None):
    """The current map of :func:`qpcsim.current_density` in nm: colour map of |j| per site,
    streamlines (on a full rectangular lattice), the 2DEG edge where V = E_F (cyan), the
    device's walls (white) and the gate outlines (``device.metadata["gate_outlines"]``,
    white dashed), shared by ``qpcsim current`` and ``qpcsim show --current``.

    Parameters
    ----------
    device : qpcsim.Device
        The device the map was computed on.
    cmap : qpcsim.CurrentMap
        The current map.
    params : dict, optional
        Device parameters of the map (units in ``device.units``), for the potential contour.
    title : str, optional
        Default: the injecting lead, the modes and the energy (meV).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Polygon
    from matplotlib.tri import Triangulation

    from . import _figure
    jx, jy = cmap.site_current()
    x, y = cmap.x, cmap.y
    fig = _figure(figsize=(7, max(3.2, 7 * device.width / max(device.length, 1e-9) * 0.9 + 1.6)))
    ax = fig.subplots()
    ax.set_facecolor("black")     # no current outside the lattice; the walls show in white
    mag = np.hypot(jx, jy)
    tri = Triangulation(x, y)
    tpc = ax.tripcolor(tri, mag, shading="gouraud", cmap="inferno")
    wide = device.length > 2.5 * device.width     # a long device: the colour bar below it
    fig.colorbar(tpc, ax=ax, label="|current density| (flux per bond)",
                 orientation="horizontal" if wide else "vertical", shrink=0.8 if wide else 1.0,
                 pad=0.2 if wide else 0.05)
    xs = np.unique(np.round(x, 9))
    ys = np.unique(np.round(y, 9))
    if xs.size * ys.size == x.size:   # full rectangle: streamlines on the grid
        order = np.lexsort((x, y))
        gx = jx[order].reshape(ys.size, xs.size)
        gy = jy[order].reshape(ys.size, xs.size)
        ax.streamplot(xs, ys, gx, gy, color="white", linewidth=0.6, density=1.2, arrowsize=0.7)
    V = device.potential_at(x, y, params or {})
    try:
        ax.tricontour(tri, V, levels=[cmap.energy], colors="cyan", linewidths=1.0)
        ax.plot([], [], "c-", label=f"V = E_F ({cmap.energy:g} meV): 2DEG edge")
    except ValueError:
        pass
    half_l, half_w = device.length / 2, device.width / 2
    ax.plot([-half_l, half_l], [half_w] * 2, "w-", lw=2)
    ax.plot([-half_l, half_l], [-half_w] * 2, "w-", lw=2)
    for k, outline in enumerate(device.metadata.get("gate_outlines") or []):
        ax.add_patch(Polygon(np.asarray(outline, dtype=float), closed=True, fill=False,
                             edgecolor="w", lw=1.2, ls="--", label="gates" if k == 0 else None))
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(min(y.min(), -half_w), max(y.max(), half_w))
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_aspect("equal")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=7, facecolor="0.25", labelcolor="w",
                  framealpha=0.8)
    modes = "all modes" if len(cmap.modes) != 1 else f"mode {cmap.modes[0]}"
    ax.set_title(title if title is not None else
                 f"current from lead {cmap.lead} ({modes}), E = {cmap.energy:g} meV\n"
                 f"cyan: V = E_F (the 2DEG edge)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_current(device, cmap, out, params=None):
    """Write :func:`current_figure` to ``out``; returns the path."""
    from . import save_figure
    return save_figure(current_figure(device, cmap, params), out)


def plot_temperature_series(result, *, title: str | None = None, logx: bool = False,
                            logy: bool = False):
    """G vs the swept variable at each temperature of :func:`qpcsim.temperature_series`,
    one curve per temperature (labelled in K), above dG/dx of each curve.

    Parameters
    ----------
    result : SweepResult or xarray.Dataset
        A temperature series over one swept axis (``conductance`` with dims
        ``(name, "temperature")``), e.g. a saved ``qpcsim sweep`` result with a
        swept ``T``.
    title : str, optional
        Default: the geometry and every fixed parameter with its unit.
    logx, logy : bool
        Logarithmic swept axis / G axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from . import _G_LABEL, _figure, _finish_trace, _title
    from ..engine.result import SweepResult
    result = result if isinstance(result, SweepResult) else SweepResult(result)
    data = result.data
    g = data["conductance"]
    swept = [d for d in g.dims if d != "temperature"]
    if "temperature" not in g.dims or len(swept) != 1:
        raise ValueError(f"a temperature-series figure needs conductance over one swept axis "
                         f"and temperature; this result has dims {tuple(g.dims)} (select one "
                         "value of the other axes first)")
    name = swept[0]
    unit = data[name].attrs.get("units", "")
    x = np.asarray(data[name].values, dtype=float)
    order = np.argsort(x)
    x = x[order]
    temps = np.asarray(data["temperature"].values, dtype=float)
    fig = _figure(figsize=(7, 6.5))
    ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    colours = _colours(len(temps))
    top = 1
    for k, temp in enumerate(temps):
        y = np.asarray(g.isel(temperature=k).transpose(name).values, dtype=float)[order]
        ax.plot(x, y, "-", color=colours[k], lw=1.4, label=f"T = {temp:g} K")
        finite = y[np.isfinite(y)]
        if finite.size:
            top = max(top, int(np.ceil(finite.max())))
        if len(x) > 2:
            ax2.plot(x, np.gradient(y, x), color=colours[k], lw=1.1)
    for n in range(0, top + 1):
        ax.axhline(n, color="0.7", lw=0.7, zorder=0)
    ax.legend(fontsize=8, title="temperature (K)", title_fontsize=8)
    ax.set_ylabel(_G_LABEL)
    if title is None:
        title = _title(result, None) + f"\nT = {', '.join(f'{t:g}' for t in temps)} K"
    ax.set_title(title, fontsize=9)
    return _finish_trace(fig, ax, ax2, name, unit, logx, logy)


def _colours(n: int) -> list:
    """``n`` colours from cold (blue) to hot (red), one per temperature."""
    from matplotlib import colormaps
    cmap = colormaps["coolwarm"]
    return [cmap(0.0 if n == 1 else k / (n - 1)) for k in range(n)]
