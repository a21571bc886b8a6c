"""The figure helpers every plot shares: a pyplot-free Figure that shows inline, an atomic
save, axis labels with units, colour bars as tall as their axes, signed colour maps centred
on zero, and the caption of a sweep's fixed parameters under the axes."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..engine.result import atomic_write

__all__ = ["G_LABEL", "new_figure", "save_figure", "axis_label", "colorbar", "signed_colours",
           "layout", "derivative_label", "short_title", "sweep_caption", "finish_trace"]

G_LABEL = r"$G$ ($2e^2/h$)"


def new_figure(**kwargs):
    """A new Figure not registered with pyplot (no global state, no leak). It shows inline in
    Jupyter through its ``_repr_png_`` (a bare Figure has none: without pyplot's inline
    backend a notebook would print ``<Figure size ...>``)."""
    from matplotlib.figure import Figure
    fig = Figure(**kwargs)
    fig._repr_png_ = _PngRepr(fig)
    return fig


class _PngRepr:
    """``fig._repr_png_``: the figure as PNG bytes (a class, not a lambda: figures pickle)."""

    def __init__(self, fig):
        self.fig = fig

    def __call__(self) -> bytes:
        from io import BytesIO
        buffer = BytesIO()
        self.fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def save_figure(fig, path, dpi: int = 130) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: png, pdf, svg ...).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        The file; an interrupted save leaves the old file or the new one, never half.
    dpi : int
        Resolution of raster formats (dots per inch).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        Naming the path, if it cannot be written.
    """
    # Atomically (temporary file in the same folder, fsync, rename): an interrupted
    # save leaves the old figure or the new one, never half of one.
    return atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=dpi, bbox_inches="tight"))


def axis_label(name: str, unit: str) -> str:
    """An axis label with its unit: ``"Vg (V)"``, or just the name for a dimensionless quantity.

    Parameters
    ----------
    name : str
        The quantity, e.g. ``"Vg"``.
    unit : str
        Its unit, e.g. ``"V"``; empty for a dimensionless quantity.

    Returns
    -------
    str
    """
    return f"{name} ({unit})" if unit else name


def colorbar(fig, ax, mappable, label: str, *, location: str = "right"):
    """A colour bar exactly as long as ``ax`` is tall (right) or wide (bottom), whatever the
    aspect ratio (``fig.colorbar(ax=...)`` spans the figure's cell, taller than an
    equal-aspect map)."""
    from mpl_toolkits.axes_grid1 import make_axes_locatable
    cax = make_axes_locatable(ax).append_axes(location, size="4%" if location == "right" else "6%",
                                              pad=0.08 if location == "right" else 0.45)
    cax.set_label("<colorbar>")
    orientation = "vertical" if location == "right" else "horizontal"
    return fig.colorbar(mappable, cax=cax, label=label, orientation=orientation)


def signed_colours(values) -> dict:
    """``cmap`` and ``norm`` for a signed quantity (a transconductance): a diverging map
    centred on 0 whose two halves each span their sign's full range (most negative = darkest
    blue, largest = darkest red); data of one sign get the matching half as a sequential map
    from 0, so no half of the colour bar is left unused."""
    from matplotlib.colors import Normalize, TwoSlopeNorm
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    if low < 0 < high:
        return {"cmap": "RdBu_r", "norm": TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=high)}
    if high <= 0:
        return {"cmap": "Blues_r", "norm": Normalize(vmin=min(low, -1e-300), vmax=0.0)}
    return {"cmap": "Reds", "norm": Normalize(vmin=0.0, vmax=high)}


def layout(fig, caption: str | None = None, fontsize: float = 7.5):
    """Tight layout with ``caption`` (the fixed parameters) in small grey type under the axes."""
    if not caption:
        fig.tight_layout()
        return fig
    lines = caption.count("\n") + 1
    bottom = (lines * fontsize * 1.4 / 72 + 0.1) / fig.get_figheight()
    fig.text(0.01, 0.01, caption, ha="left", va="bottom", fontsize=fontsize, color="0.3")
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def derivative_label(name: str, unit: str) -> str:
    return rf"$dG/d${name} ($2e^2/h$" + (f" per {unit})" if unit else ")")


def short_title(result, title, quantity: str = "G"):
    """One short line: the device and the swept axes (``qpc_saddle: G vs V0``)."""
    if title is not None:
        return title
    attrs = result.data.attrs
    name = attrs.get("geometry") or attrs.get("title", "")
    swept = ", ".join(result.swept)
    return f"{name}: {quantity} vs {swept}" if name else f"{quantity} vs {swept}"


def sweep_caption(result, width: int = 105) -> str:
    """The sweep's fixed parameters with units, wrapped, for :func:`layout`."""
    return textwrap.fill(result.caption(), width)


def finish_trace(fig, ax, ax2, name: str, unit: str, logx: bool, logy: bool,
                  caption: str | None = None):
    """Shared finish of a G trace over one axis with its derivative panel below: labels in
    units, log axes on request, layout with the fixed parameters as a caption."""
    ax2.set_ylabel(derivative_label(name, unit), fontsize=9)
    ax2.set_xlabel(axis_label(name, unit))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    return layout(fig, caption)
