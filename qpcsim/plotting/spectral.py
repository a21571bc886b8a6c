"""Figures of the spectral observables: bias diamonds and current-density maps."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_bias_map", "plot_current"]


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


def plot_current(device, cmap, out, params=None):
    """Colour map of |j| per site with streamlines, over the potential landscape's 2DEG edge
    (the contour V = E_F) and the device outline, in nm."""
    from matplotlib.tri import Triangulation

    from . import save_figure
    plt = _pyplot()
    jx, jy = cmap.site_current()
    x, y = cmap.x, cmap.y
    fig, ax = plt.subplots(figsize=(7, 7 * device.width / max(device.length, 1e-9) * 0.9 + 1))
    mag = np.hypot(jx, jy)
    tri = Triangulation(x, y)
    tpc = ax.tripcolor(tri, mag, shading="gouraud", cmap="inferno")
    fig.colorbar(tpc, ax=ax, label="|current density| (flux per bond)")
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
    except ValueError:
        pass
    ax.plot([-device.length / 2, device.length / 2], [device.width / 2] * 2, "w-", lw=2)
    ax.plot([-device.length / 2, device.length / 2], [-device.width / 2] * 2, "w-", lw=2)
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_aspect("equal")
    ax.set_title(f"current from lead {cmap.lead}, E = {cmap.energy:g} meV\n"
                 f"cyan: V = E_F (the 2DEG edge)", fontsize=10)
    return save_figure(fig, out)
