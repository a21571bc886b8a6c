"""Figures a referee accepts: conductance traces with G0 gridlines and the
transconductance (with units), 2-D maps of G and dG/dx, the device in nm with
gate outlines, the 2DEG edge and the E_F = U contour.

Every ``plot_*`` function **returns** a :class:`matplotlib.figure.Figure`
(it shows inline in Jupyter); :func:`save_figure` writes one to a file. A title is
short (the device and the swept axis); every fixed parameter of the sweep (energy,
temperature, field, gates, structural sizes) is in the caption under the axes, so two
different sweeps never look alike. Colour bars are as tall as their axes; diverging maps
are centred on zero and use the whole colour range on each side.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .. import validate as _validate
from ..analysis import find_plateaus
from ..terminals import lead_sites
from .figure import (G_LABEL, axis_label, colorbar, derivative_label, finish_trace, layout,
                     new_figure, save_figure, short_title, signed_colours, sweep_caption)
from .compare import plot_compare_biases, plot_compare_temperatures
from .physics import plot_adiabaticity, plot_compare, plot_mean_free_path

__all__ = ["plot_result", "plot_device", "save_figure", "plot_mean_free_path", "plot_adiabaticity",
           "plot_compare", "axis_label", "plot_compare_temperatures", "plot_compare_biases"]

def plot_result(result, *, title: str | None = None, logx: bool = False, logy: bool = False,
                plateaus: bool = True, variable: str = "conductance"):
    """Figure of a sweep result.

    1-D: G vs the swept variable with integer gridlines and plateau labels,
    above dG/dx (units G0 per unit of x); a temperature series
    (:func:`qpcsim.temperature_series`, e.g. ``qpcsim sweep`` with a swept ``T``
    and a gate): one curve per temperature
    (:func:`qpcsim.plotting.spectral.plot_temperature_series`). 2-D:
    side-by-side maps of G and of dG/dx along the first swept axis (adaptive
    2-D samples are interpolated onto a 200 x 200 grid for the derivative).

    Parameters
    ----------
    result : SweepResult
    title : str, optional
        Default: the geometry and the swept axes; every fixed parameter with its unit is
        in the caption under the axes.
    logx, logy : bool
        Logarithmic first / second axis (1-D: ``logy`` is the G axis).
    plateaus : bool
        Label the plateaus found by :func:`qpcsim.analysis.find_plateaus` (1-D).
    variable : str
        The data variable drawn (default the two-terminal conductance, G0), e.g. a
        four-terminal resistance ``"R_diag"`` (h/e^2) added by ``qpcsim sweep
        --observable``; other variables get no integer gridlines or plateau labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _validate.result_of("result", result, ("data", "swept"),
                        "a SweepResult (from qpcsim.sweep or qpcsim.load_result)")
    data = result.data
    swept = result.swept
    if variable not in data.data_vars:
        raise ValueError(f"variable={variable!r} is not allowed: it is not in the result "
                         f"(its variables: {', '.join(sorted(data.data_vars))})")
    g = data[variable]
    is_conductance = variable == "conductance"
    label = G_LABEL if is_conductance else f"{variable} ({g.attrs.get('units', '')})"
    if "temperature" in g.dims and "temperature" not in swept:
        from .spectral import plot_temperature_series   # one curve per temperature
        return plot_temperature_series(result, title=title, logx=logx, logy=logy)
    title = short_title(result, title, "G" if is_conductance else variable)
    caption = sweep_caption(result)
    if len(swept) == 1:
        name = swept[0]
        unit = data[name].attrs.get("units", "")
        x = np.asarray(data[name].values, dtype=float)
        order = np.argsort(x)
        x, y = x[order], np.asarray(g.values)[order]
        fig = new_figure(figsize=(7, 6.5))
        ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
        ax.plot(x, y, "-", color="C0", lw=1.6)
        ax.plot(x, y, ".", color="C0", ms=3)
        finite = y[np.isfinite(y)]
        top = int(np.ceil(finite.max())) if finite.size else 1
        for n in range(0, top + 1 if is_conductance else 0):
            ax.axhline(n, color="0.7", lw=0.7, zorder=0)
        if plateaus and is_conductance and len(x) >= 5 and finite.size == y.size:
            for p in find_plateaus(x, y):
                ax.annotate(f"{p.value:.3f}", ((p.start + p.stop) / 2, p.value),
                            textcoords="offset points", xytext=(0, 5), ha="center", fontsize=8)
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=10)
        if len(x) > 2:
            ax2.plot(x, np.gradient(y, x), color="C3", lw=1.2)
        fig = finish_trace(fig, ax, ax2, name, unit, logx, logy, caption)
        if not is_conductance:
            ax2.set_ylabel(f"d{variable}/d{name}", fontsize=9)
        return fig
    xname, yname = swept
    xu, yu = data[xname].attrs.get("units", ""), data[yname].attrs.get("units", "")
    if "point" in g.dims:
        from scipy.interpolate import griddata
        xs, ys = data[xname].values, data[yname].values
        gx = np.linspace(xs.min(), xs.max(), 200)
        gy = np.linspace(ys.min(), ys.max(), 200)
        X, Y = np.meshgrid(gx, gy)
        G = griddata((xs, ys), g.values, (X, Y), method="linear")
    else:
        gx, gy = data[xname].values, data[yname].values
        G = g.transpose(yname, xname).values
    fig = new_figure(figsize=(12, 4.8))
    ax, bx = fig.subplots(1, 2)
    mesh = ax.pcolormesh(gx, gy, G, shading="auto")
    colorbar(fig, ax, mesh, label)
    if len(gx) > 1:
        dG = np.gradient(G, gx, axis=1)
        mesh2 = bx.pcolormesh(gx, gy, dG, shading="auto", **signed_colours(dG))
        colorbar(fig, bx, mesh2, derivative_label(xname, xu))
    bx.set_title(r"transconductance $dG/d$" + xname, fontsize=10)
    for a in (ax, bx):
        a.set_xlabel(axis_label(xname, xu))
        a.set_ylabel(axis_label(yname, yu))
        if logx:
            a.set_xscale("log")
        if logy:
            a.set_yscale("log")
    ax.set_title(title, fontsize=10)
    return layout(fig, caption)


def _draw_terminals(ax, device, lead_len: float):
    """Each explicit lead (``qpcsim.Lead``) as a strip beyond its edge, labelled
    ``index: name``."""
    from matplotlib.patches import Rectangle
    half_w, half_l = device.width / 2, device.length / 2
    for k, lead in enumerate(device.leads):
        sites = lead_sites(device, lead)
        x, y = device.lattice_to_nm(*np.array(sites, dtype=float).T)
        lo = (y.min() if lead.along_x else x.min()) - device.a
        span = (len(sites) + 1) * device.a
        if lead.along_x:
            edge_x = (-half_l if lead.edge == "left" else half_l) if lead.at is None else lead.at
            x0 = edge_x - lead_len if lead.edge == "left" else edge_x
            patch, centre = Rectangle((x0, lo), lead_len, span), (x0 + lead_len / 2, lo + span / 2)
        else:
            edge_y = (-half_w if lead.edge == "bottom" else half_w) if lead.at is None else lead.at
            y0 = edge_y - lead_len if lead.edge == "bottom" else edge_y
            patch, centre = Rectangle((lo, y0), span, lead_len), (lo + span / 2, y0 + lead_len / 2)
        patch.set(facecolor="C1", alpha=0.35, edgecolor="C1")
        ax.add_patch(patch)
        ax.text(*centre, f"{k}: {lead.name}", ha="center", va="center", fontsize=7,
                rotation=90 if lead.along_x else 0)


def _plot_model_device(device, params):
    """Sites of a non-square-lattice or multi-orbital device (nm), coloured by U (meV)."""
    x, y, V = device.potential_landscape(**params)
    fig = new_figure(figsize=(8, 8 * device.width / max(device.length, 1e-9) * 0.9 + 1.2))
    ax = fig.subplots()
    points = ax.scatter(x, y, c=V, s=8, cmap="viridis")
    colorbar(fig, ax, points, r"$U$ (meV)")
    ax.set_aspect("equal")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    ax.set_title(f"{device.name}: {len(x)} sites x {device.norbs} orbitals, a = {device.a:g} nm "
                 "(leads continue left and right)", fontsize=9)
    return fig


def plot_device(device, *, energy: float | None = None, **params):
    """The device in nm: the potential landscape U(x, y) (meV) on the lattice,
    the 2DEG edge (hard walls and the shape's boundary), the leads, the gate
    outlines (``device.metadata["gate_outlines"]``, polygons in nm, if the
    geometry declares them) and, with ``energy`` (meV), the E_F = U contour
    (where the 2DEG is depleted). The legend sits under the axes, clear of the
    map and the lead labels; the parameters are in the caption.

    Parameters
    ----------
    device : qpcsim.Device
        The device (a model device is drawn as its sites coloured by U).
    energy : float, optional
        Fermi energy (meV): draws the contour E_F = U.
    **params
        Device parameters (units in ``device.units``, e.g. ``Vg`` in V).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.patches import Polygon, Rectangle

    _validate.device("device", device)
    if not hasattr(device, "lattice_to_nm"):     # a ModelDevice (qpcsim.hamiltonian, lattices)
        return _plot_model_device(device, params)
    resolved = device.resolve_params(params)
    i, j = np.meshgrid(np.arange(device.nx), np.arange(device.ny), indexing="ij")
    X, Y = device.lattice_to_nm(i, j)
    V = device.potential_at(X, Y, resolved)
    inside = np.ones(X.shape, dtype=bool)
    if device.shape is not None:
        inside = np.broadcast_to(np.asarray(device.shape(X, Y), dtype=bool), X.shape)
    Vm = np.where(inside, V, np.nan)
    fig = new_figure(figsize=(8, 8 * device.width / max(device.length, 1e-9) * 0.9 + 1.2))
    ax = fig.subplots()
    mesh = ax.pcolormesh(X, Y, Vm, shading="nearest", cmap="viridis")
    colorbar(fig, ax, mesh, r"$U$ (meV)")
    half_w, half_l = device.width / 2, device.length / 2
    ax.plot([-half_l, half_l], [half_w, half_w], "k-", lw=1.5)
    ax.plot([-half_l, half_l], [-half_w, -half_w], "k-", lw=1.5, label="2DEG edge")
    if device.shape is not None and not inside.all():
        ax.contour(X, Y, inside.astype(float), levels=[0.5], colors="k", linewidths=1.2)
    lead_len = 0.12 * device.length
    if getattr(device, "leads", None) is not None:
        _draw_terminals(ax, device, lead_len)
    else:
        for (j0, n), x0 in zip(device.lead_windows, (-half_l - lead_len, half_l)):
            y0 = -half_w + j0 * device.a
            ax.add_patch(Rectangle((x0, y0), lead_len, (n + 1) * device.a, facecolor="C1",
                                   alpha=0.35, edgecolor="C1"))
        ax.text(-half_l - lead_len / 2, 0, "lead 0", ha="center", va="center", rotation=90,
                fontsize=8)
        ax.text(half_l + lead_len / 2, 0, "lead 1", ha="center", va="center", rotation=90,
                fontsize=8)
    for k, outline in enumerate(device.metadata.get("gate_outlines") or []):
        ax.add_patch(Polygon(np.asarray(outline, dtype=float), closed=True, fill=False,
                             edgecolor="w", lw=1.5, ls="--", label="gates" if k == 0 else None))
    if energy is not None:
        ax.contour(X, Y, Vm, levels=[float(energy)], colors="r", linewidths=1.2)
        ax.plot([], [], "r-", label=f"$E_F = U$ ({float(energy):g} meV)")
    ax.set_xlim(-half_l - lead_len, half_l + lead_len)
    extra = lead_len if any(not lead.along_x for lead in getattr(device, "leads", None) or ()) \
        else 0.0
    ax.set_ylim(-half_w * 1.08 - extra, half_w * 1.08 + extra)
    ax.set_aspect("equal")
    ax.set_xlabel("x (nm)")
    ax.set_ylabel("y (nm)")
    # mid-grey: the white gate outlines and the black edge both show in the legend
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=7, facecolor="0.65",
              framealpha=1.0)
    shown = ", ".join(f"{k} = {v:g} {device.units.get(k, '')}".strip()
                      for k, v in resolved.items())
    ax.set_title(f"{device.name}: potential U(x, y)", fontsize=10)
    return layout(fig, textwrap.fill(f"{device.nx} x {device.ny} sites, a = {device.a:g} nm; "
                                      f"{shown}", 110))
