"""Figures of the spectral observables: bias diamonds, current-density maps and temperature
series (one conductance curve per temperature)."""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from ..units import current_density_nA_per_nm
from .figure import (G_LABEL, colorbar, finish_trace, layout, new_figure, save_figure,
                     short_title, signed_colours, sweep_caption)

__all__ = ["bias_figure", "plot_bias_map", "plot_current", "current_figure", "plot_temperature_series"]


def bias_figure(data):
    """dI/dV (2e²/h) and its transconductance vs (gate, V_sd) from :func:`qpcsim.bias_map`:
    one short title, E_F and T in the caption, the transconductance on a diverging map
    centred on zero that uses its whole range on both sides.

    Parameters
    ----------
    data : xarray.Dataset
        The result of :func:`qpcsim.bias_map` (``differential_conductance`` in G0 and
        ``transconductance`` on (gate, bias), bias in mV).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("data", data, ("attrs", "differential_conductance", "transconductance"),
                        "the Dataset of qpcsim.bias_map")
    gate = data.attrs["gate"]
    x, v = data[gate].values, data["bias"].values
    fig = new_figure(figsize=(11, 4.4))
    axes = fig.subplots(1, 2)
    unit = data[gate].attrs.get("units", "")
    labels = {"differential_conductance": r"$dI/dV$ ($2e^2/h$)",
              "transconductance": r"$d^2I/dV\,d$" + gate + r" ($2e^2/h$" + (f" per {unit})" if unit else ")")}
    for ax, name in zip(axes, labels):
        z = data[name].values.T
        style = signed_colours(z) if name == "transconductance" else {"cmap": "viridis"}
        mesh = ax.pcolormesh(x, v, z, shading="auto", **style)
        colorbar(fig, ax, mesh, labels[name])
        ax.set_xlabel(f"{gate} ({unit})" if unit else gate)
        ax.set_ylabel(r"$V_{sd}$ (mV)")
    device = data.attrs.get("geometry") or data.attrs.get("device", "")
    axes[0].set_title(f"{device}: dI/dV vs ({gate}, V_sd)".lstrip(": "), fontsize=10)
    axes[1].set_title(f"transconductance along {gate}", fontsize=10)
    model = data.attrs.get("bias_model")
    return layout(fig, f"E_F = {data.attrs['energy_meV']:g} meV, T = {data.attrs['temperature_K']:g} K"
                        + (f"; bias: {model}" if model else ""))


def plot_bias_map(data, out):
    """Write :func:`bias_figure` of a :func:`qpcsim.bias_map` result to ``out``; returns the path."""
    return save_figure(bias_figure(data), out)


#: Sites whose scattering-state density is below this fraction of the largest are drawn as
#: empty (no colour, no streamline), as are the sites where V >= E_F (the 2DEG's density
#: vanishes there; only evanescent tails reach in, and a direction there is noise).
DEPLETED_DENSITY_FRACTION = 1e-3


def current_figure(device, cmap, params=None, *, title: str | None = None):
    """The current map of :func:`qpcsim.current_density` in nm: colour map of |j| per site
    in nA/nm per meV of source-drain bias (one spin, the injected modes of ``cmap``),
    streamlines (on a full rectangular lattice), both masked where the density vanishes
    (V >= E_F, or the scattering states' density below :data:`DEPLETED_DENSITY_FRACTION`
    of its maximum), the 2DEG edge where V = E_F
    (cyan), the device's walls (white) and the gate outlines
    (``device.metadata["gate_outlines"]``, white dashed), shared by ``qpcsim current`` and
    ``qpcsim show --current``.

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

    _validate.device("device", device)
    _validate.result_of("cmap", cmap, ("site_current", "density", "x", "y"),
                        "a CurrentMap (qpcsim.current_density)")
    jx, jy = (current_density_nA_per_nm(j, device.a) for j in cmap.site_current())
    x, y = cmap.x, cmap.y
    fig = new_figure(figsize=(7, max(3.2, 7 * device.width / max(device.length, 1e-9) * 0.9 + 1.9)))
    ax = fig.subplots()
    ax.set_facecolor("black")     # no current outside the lattice or where depleted
    density = cmap.density.sum(axis=0)               # summed over the injected modes
    V = device.potential_at(x, y, params or {})
    depleted = (density < DEPLETED_DENSITY_FRACTION * density.max()) | (V >= cmap.energy)
    mag = np.ma.masked_array(np.hypot(jx, jy), mask=depleted)
    tri = Triangulation(x, y)
    tri.set_mask(depleted[tri.triangles].any(axis=1))
    tpc = ax.tripcolor(tri, mag.filled(0.0), shading="gouraud", cmap="inferno")
    wide = device.length > 2.5 * device.width     # a long device: the colour bar below it
    colorbar(fig, ax, tpc, "|current density| (nA/nm per meV bias, one spin)",
              location="bottom" if wide else "right")
    xs = np.unique(np.round(x, 9))
    ys = np.unique(np.round(y, 9))
    if xs.size * ys.size == x.size:   # full rectangle: streamlines on the grid, none where depleted
        order = np.lexsort((x, y))
        hidden = depleted[order].reshape(ys.size, xs.size)
        gx = np.ma.masked_array(jx[order].reshape(ys.size, xs.size), mask=hidden)
        gy = np.ma.masked_array(jy[order].reshape(ys.size, xs.size), mask=hidden)
        ax.streamplot(xs, ys, gx, gy, color="white", linewidth=0.6, density=1.2, arrowsize=0.7)
    try:
        # on the unmasked lattice: the edge is the boundary of the masked region
        ax.tricontour(Triangulation(x, y), V, levels=[cmap.energy], colors="cyan", linewidths=1.0)
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
    if ax.get_legend_handles_labels()[0]:     # under the axes: clear of the map
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2 if wide else -0.14), ncol=2,
                  fontsize=7, facecolor="0.25", labelcolor="w", framealpha=1.0)
    modes = "all modes" if len(cmap.modes) != 1 else f"mode {cmap.modes[0]}"
    ax.set_title(title if title is not None else
                 f"{device.name}: current from lead {cmap.lead} ({modes})", fontsize=10)
    shown = ", ".join(f"{k} = {v:g} {device.units.get(k, '')}".strip()
                      for k, v in (params or {}).items())
    return layout(fig, f"E = {cmap.energy:g} meV" + (f", {shown}" if shown else "")
                   + "; black: no lattice, or depleted (V >= E_F)")


def plot_current(device, cmap, out, params=None):
    """Write :func:`current_figure` to ``out``; returns the path."""
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
        Default: the geometry and the swept axis; the fixed parameters and the
        temperatures are in the caption.
    logx, logy : bool
        Logarithmic swept axis / G axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..engine.result import SweepResult
    if not isinstance(result, SweepResult):
        _validate.result_of("result", result, ("data_vars", "attrs"), "a temperature series "
                            "(the SweepResult or Dataset of qpcsim.temperature_series)")
        result = SweepResult(result)
    data = result.data
    if "conductance" not in data.data_vars:
        raise ValueError("result has no conductance: give a temperature series (the "
                         "SweepResult or Dataset of qpcsim.temperature_series)")
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
    fig = new_figure(figsize=(7, 6.5))
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
    ax.legend(fontsize=8, title="temperature", title_fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))       # beside the axes: clear of every trace
    ax.set_ylabel(G_LABEL)
    ax.set_title(short_title(result, title) + " at several T" if title is None else title, fontsize=10)
    return finish_trace(fig, ax, ax2, name, unit, logx, logy,
                         sweep_caption(result) + f"\nT = {', '.join(f'{t:g}' for t in temps)} K")


def _colours(n: int) -> list:
    """``n`` colours from cold (dark blue-violet) to hot (orange), one per temperature; all
    dark enough to read on white (a diverging map's pale middle is not)."""
    from matplotlib import colormaps
    cmap = colormaps["plasma"]
    return [cmap(0.0 if n == 1 else 0.82 * k / (n - 1)) for k in range(n)]
