"""Figures of a Thomas–Fermi solution: density map with the depletion contour and the
gate outlines, and the potential along and across the channel."""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from ..electrostatics.channel import sweep_figures
from ..electrostatics.thomas_fermi import ElectrostaticsResult
from .figure import colorbar, new_figure, save_figure

__all__ = ["draw_layout", "plot_electrostatics", "plot_bare_vs_self_consistent", "plot_pinchoff"]


def draw_layout(ax, layout, **style):
    """Draw the gate outlines of ``layout`` (nm) on a Matplotlib axis, labelled by name."""
    from matplotlib.patches import Polygon
    style = {"fill": False, "edgecolor": "w", "linewidth": 1.2, **style}
    for gate in layout.gates:
        for poly in gate.polygons:
            ax.add_patch(Polygon(poly, closed=True, **style))
        x0, x1, y0, y1 = gate.bounds_nm()
        ax.text(0.5 * (x0 + x1), 0.5 * (y0 + y1), gate.name, color=style["edgecolor"],
                ha="center", va="center", fontsize=8)
    return ax


def plot_electrostatics(result: ElectrostaticsResult, out, *, summary=None, device=None,
                        title: str | None = None):
    """Write a figure: n(x, y) (10^11 cm^-2) with the depletion contour (n = 0), gates and
    device outline; U along the channel (y = saddle y) and across it (x = saddle x), bare
    and self-consistent, with E_F.

    Parameters
    ----------
    result : ElectrostaticsResult
    out : str or Path
        PNG path.
    summary : ChannelSummary, optional
        Marks the saddle and titles the numbers.
    device : qpcsim.Device, optional
        Draws the scattering region's outline.
    title : str, optional
    """
    from matplotlib.patches import Rectangle

    _validate.result_of("result", result, ("x_nm", "y_nm", "density_grid_cm2"),
                        "an ElectrostaticsResult (qpcsim.electrostatics.solve_thomas_fermi)")
    fig = new_figure(figsize=(12, 5.4))
    (ax0, ax1) = fig.subplots(1, 2,
                                   gridspec_kw={"width_ratios": [1.1, 1]})
    x, y = result.x_nm, result.y_nm
    n11 = result.density_grid_cm2 / 1e11
    mesh = ax0.pcolormesh(x, y, n11.T, shading="auto", cmap="viridis", vmin=0)
    colorbar(fig, ax0, mesh, r"$n$ ($10^{11}$ cm$^{-2}$)")
    ns = result.heterostructure.density_cm2
    if (result.density_grid_cm2 <= 1e-6 * ns).any():
        ax0.contour(x, y, result.density_grid_cm2.T, levels=[1e-3 * ns], colors="r",
                    linewidths=1.0)
    draw_layout(ax0, result.layout)
    if device is not None:
        ax0.add_patch(Rectangle((-device.length / 2, -device.width / 2), device.length,
                                device.width, fill=False, edgecolor="orange", linestyle="--"))
    xs, ys = (summary.saddle_nm if summary is not None else (0.0, 0.0))
    ax0.plot([xs], [ys], "r+", markersize=10)
    ax0.set_aspect("equal")
    ax0.set_xlabel("x (nm)")
    ax0.set_ylabel("y (nm)")
    ax0.set_title("density (red: depletion edge n = 0)")

    ef = result.fermi_energy_meV
    along = result.potential_meV(x, np.full(x.shape, ys))
    across = result.potential_meV(np.full(y.shape, xs), y)
    ax1.plot(x, along, "C0", label=f"U along the channel (y = {ys:.0f} nm)")
    ax1.plot(y, across, "C1", label=f"U across (x = {xs:.0f} nm)")
    ax1.plot(x, result.bare_potential_meV(x, np.full(x.shape, ys)), "C0:", label="bare, along")
    ax1.axhline(ef, color="k", linestyle="--", linewidth=0.8, label=f"E_F = {ef:.2f} meV")
    top = max(3 * ef, float(np.max(along)) * 1.1, 1.0)
    ax1.set_ylim(min(-0.5, float(np.min(across)) - 0.5), top)
    ax1.set_xlabel("position (nm)")
    ax1.set_ylabel("U (meV)")
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)  # clear of U
    volts = ", ".join(f"{k} {v:g} V" for k, v in result.voltages.items())
    sub = f"{volts}; {result.iterations} iterations, residual {result.residual:.1e} meV"
    if summary is not None:
        sub += (f"\nn(centre) = {summary.density_centre_cm2:.3g} cm$^{{-2}}$, width at E_F "
                f"{summary.width_at_fermi_nm:.0f} nm")
        if summary.lever_arm is not None:
            sub += f", dU/dV = {summary.lever_meV_per_V:.2f} meV/V (lever {summary.lever_arm:.3f})"
    ax1.set_title(sub, fontsize=8)
    fig.suptitle(title or f"Thomas-Fermi electrostatics ({result.heterostructure.surface} surface)")
    return save_figure(fig, out)


def plot_bare_vs_self_consistent(bare, sc, out, *, swept: str = "Vg"):
    """G(V_g) of the bare-potential sweep (lever arm) beside the self-consistent one.

    Parameters
    ----------
    bare, sc : qpcsim.SweepResult
        1-D sweeps over ``swept`` (V).
    out : str or Path
        PNG path.
    """
    for name, res in (("bare", bare), ("sc", sc)):
        _validate.result_of(name, res, ("data",), "a SweepResult (qpcsim.sweep)")
    fig = new_figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for res, label, style in ((bare, "bare x lever arm 0.1 (qpc_split_gate)", "C0"),
                              (sc, "self-consistent Thomas-Fermi (qpc_split_gate_sc)", "C3")):
        x = np.asarray(res.data[swept].values)
        g = np.asarray(res.data["conductance"].values)
        fig_ = sweep_figures(x, g)
        ax.plot(x, g, style, label=f"{label}: pinch-off {fig_.pinch_off_V:.2f} V, "
                f"spacing {fig_.plateau_spacing_V:.2f} V")
        if np.isfinite(fig_.pinch_off_V):
            ax.axvline(fig_.pinch_off_V, color=style, linestyle=":", linewidth=0.8)
    top = int(np.ceil(ax.get_ylim()[1]))
    for n in range(1, top + 1):
        ax.axhline(n, color="0.85", linewidth=0.6, zorder=0)
    ax.set_xlabel(f"{swept} (V)")
    ax.set_ylabel("G (2e$^2$/h)")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("split-gate QPC: guessed lever arm vs self-consistent electrostatics", fontsize=9)
    return save_figure(fig, out)


def plot_pinchoff(diagram, out=None):
    """The channel state over two gate voltages (a :class:`PinchoffDiagram`): open, gates
    depleted (channel open), pinched; the pinch-off line and each gate's depletion voltage
    (V). Returns the Figure; also written to ``out`` (PNG path) if given."""
    from matplotlib.colors import ListedColormap

    from ..electrostatics.pinchoff import STATE_NAMES
    _validate.result_of("diagram", diagram, ("v1", "v2", "state"),
                        "a PinchoffDiagram (qpcsim.electrostatics.pinchoff_diagram)")
    fig = new_figure(figsize=(5.6, 4.8))
    ax = fig.subplots()
    colours = ["#cfe8ff", "#444444", "#8fc98f"]          # open, pinched, depleted (by state)
    mesh = ax.pcolormesh(diagram.v2, diagram.v1, diagram.state, cmap=ListedColormap(colours),
                         vmin=-0.5, vmax=2.5, shading="nearest")
    bar = colorbar(fig, ax, mesh, "")
    bar.set_ticks([0, 1, 2])
    bar.ax.set_yticklabels([STATE_NAMES[k] for k in (0, 1, 2)], fontsize=7)
    line = diagram.pinchoff_line()
    ax.plot(line, diagram.v1, "r-", linewidth=1.5, label="pinch-off")
    g1, g2 = diagram.gates
    for which, draw in ((0, ax.axhline), (1, ax.axvline)):
        v = diagram.depletion_voltage(which)
        if np.isfinite(v):
            draw(v, color="k", linestyle=":", linewidth=1,
                 label=f"{diagram.gates[which]} depletes: {v:.2f} V")
    ax.set_xlabel(f"V_{g2} (V)")
    ax.set_ylabel(f"V_{g1} (V)")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"channel state ({diagram.heterostructure['surface']} surface, d = "
                 f"{diagram.heterostructure['depth_nm']:g} nm, n_s = "
                 f"{diagram.heterostructure['density_cm2']:.3g} cm$^{{-2}}$)", fontsize=8)
    if out is not None:
        save_figure(fig, out)
    return fig
