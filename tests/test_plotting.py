"""Figures: returned as matplotlib Figures, one short title (device and swept axis), every fixed
parameter in the caption, units on every axis, colour bars as tall as their axes, 2-D maps of
G and dG/dx, the device in nm with gates, 2DEG edge and E_F = U contour."""
import numpy as np
import pytest
from matplotlib.figure import Figure

import qpcsim
from qpcsim.plotting import plot_device, plot_result, save_figure


@pytest.fixture(scope="module")
def trace(small_saddle):
    return qpcsim.sweep(small_saddle, {"V0": np.linspace(0, 8, 41)}, energy=9.0, workers=1,
                        progress=False, B=0.1)


@pytest.fixture(scope="module")
def gate_map(small_saddle):
    return qpcsim.sweep(small_saddle, {"V0": np.linspace(1, 8, 8), "energy": [7.0, 9.0, 11.0]},
                        workers=1, progress=False)


def _caption(fig):
    return " ".join(text.get_text() for text in fig.texts)


def test_trace_is_a_figure_with_units_and_every_fixed_parameter(trace, tmp_path):
    fig = plot_result(trace)
    assert isinstance(fig, Figure)
    ax, ax2 = fig.axes
    assert ax.get_title() == "qpc_saddle: G vs V0"          # one short line
    caption = _caption(fig)
    for part in ("E = 9 meV", "T = 0 K", "B = 0.1 T", "hw_x = 1.5 meV",
                 "hw_y = 3 meV", "W = 200 nm", "a = 4 nm"):
        assert part in caption, part
    assert ax2.get_xlabel() == "V0 (meV)"
    assert "per meV" in ax2.get_ylabel() and "dG/d" in ax2.get_ylabel()
    assert "2e^2/h" in ax.get_ylabel()
    path = save_figure(fig, tmp_path / "t.png")
    assert path.stat().st_size > 10_000
    assert save_figure(fig, tmp_path / "t.pdf").stat().st_size > 1_000   # saving is separate


def test_figures_show_in_jupyter_without_pyplot_and_pickle(trace):
    import pickle
    fig = plot_result(trace)
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"     # what IPython displays
    assert pickle.loads(pickle.dumps(fig)).axes[0].get_title() == "qpc_saddle: G vs V0"


def test_log_scale_option(trace):
    fig = plot_result(trace, logy=True)
    assert fig.axes[0].get_yscale() == "log"
    assert plot_result(trace, logx=True).axes[1].get_xscale() == "log"


def test_map_shows_conductance_and_transconductance(gate_map):
    fig = plot_result(gate_map)
    g_ax, d_ax = [a for a in fig.axes if a.get_label() != "<colorbar>"][:2]
    assert g_ax.get_xlabel() == "V0 (meV)" and g_ax.get_ylabel() == "energy (meV)"
    assert "transconductance" in d_ax.get_title()
    labels = [a.get_ylabel() for a in fig.axes]
    assert any("dG/d" in lab and "per meV" in lab for lab in labels)
    # the derivative panel's data are dG/dV0 of the map
    mesh = d_ax.collections[0]
    g = gate_map.conductance.transpose("energy", "V0").values
    expected = np.gradient(g, gate_map["V0"].values, axis=1)
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(expected.shape), expected)


def test_colour_bars_are_as_tall_as_their_axes_and_the_signed_map_is_fully_used(gate_map):
    fig = plot_result(gate_map)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()
    maps = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    bars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(bars) == 2
    for ax, bar in zip(maps, bars):
        box = ax.get_position()
        bar_box = bar.get_axes_locator()(bar, renderer)     # where the bar is drawn (figure units)
        assert bar_box.y0 == pytest.approx(box.y0, abs=1e-6)
        assert bar_box.height == pytest.approx(box.height, abs=1e-6)
    mesh = maps[1].collections[0]
    dG = np.asarray(mesh.get_array())
    # the colour bar spans the data's range and zero: nothing of it is left unused
    low, high = mesh.norm(np.nanmin(dG)), mesh.norm(np.nanmax(dG))
    zero = mesh.norm(0.0)
    assert min(low, zero) == pytest.approx(0.0) and max(high, zero) == pytest.approx(1.0)


@pytest.mark.parametrize("values, zero_at", [([-3.0, 1.0], 0.5), ([-2.0, -0.5], 1.0), ([0.5, 4.0], 0.0)])
def test_signed_colours_centre_zero_and_use_the_whole_map(values, zero_at):
    from qpcsim.plotting.figure import signed_colours as _signed_colours
    norm = _signed_colours(np.array(values))["norm"]
    assert norm(0.0) == pytest.approx(zero_at)
    # the most negative value is the map's low end, the largest positive its high end
    if min(values) < 0:
        assert norm(min(values)) == pytest.approx(0.0)
    if max(values) > 0:
        assert norm(max(values)) == pytest.approx(1.0)


def test_device_figure_in_nm_with_gates_edge_and_fermi_contour():
    dev = qpcsim.load_geometry("qpc_split_gate")
    fig = plot_device(dev, energy=8.0, Vg=-1.0)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "gates" in legend and "2DEG edge" in legend and any("E_F = U" in t for t in legend)
    from matplotlib.patches import Polygon
    gates = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(gates) == 2
    xy = gates[0].get_xy()
    assert xy[:, 0].min() == pytest.approx(-50.0) and xy[:, 1].min() == pytest.approx(100.0)
    assert ax.get_title() == "qpc_split_gate: potential U(x, y)"
    assert "Vg = -1 V" in _caption(fig)
    # the legend sits under the axes, clear of the map and the lead labels
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().y1 < ax.get_window_extent().y0


def test_current_figure_in_nm_with_gates_and_the_2deg_edge():
    from matplotlib.patches import Polygon

    from qpcsim.plotting.spectral import current_figure
    dev = qpcsim.load_geometry("qpc_split_gate", a=8.0, W=240.0, L=320.0)
    cmap = qpcsim.current_density(dev, 8.0, Vg=-0.6)
    fig = current_figure(dev, cmap, {"Vg": -0.6})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    assert "|current density| (nA/nm per meV bias, one spin)" in fig.axes[1].get_ylabel()
    gates = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(gates) == 2
    assert gates[0].get_xy()[:, 0].min() == pytest.approx(-50.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["V = E_F (8 meV): 2DEG edge", "gates"]
    # in nA/nm per meV of bias: e^2/h x 1 mV = 38.74 nA per unit transmission, over a = 8 nm;
    # zero (black) where the 2DEG is depleted (V >= E_F) or the states' density vanishes
    from qpcsim.plotting.spectral import DEPLETED_DENSITY_FRACTION
    jx, jy = cmap.site_current()
    shown = np.asarray(ax.collections[0].get_array())
    density = cmap.density.sum(axis=0)
    beyond_edge = dev.potential_at(cmap.x, cmap.y, {"Vg": -0.6}) >= 8.0
    depleted = beyond_edge | (density < DEPLETED_DENSITY_FRACTION * density.max())
    assert 0 < beyond_edge.sum() < depleted.sum() < 0.5 * depleted.size
    expected = np.where(depleted, 0.0, np.hypot(jx, jy) * NA_PER_MEV_PER_UNIT_T / 8.0)
    np.testing.assert_allclose(shown, expected, rtol=1e-9, atol=1e-15)
    assert ax.get_title() == "qpc_split_gate: current from lead 0 (all modes)"
    assert "E = 8 meV" in _caption(fig) and "Vg = -0.6 V" in _caption(fig)


#: e^2/h x 1 mV in nA, from the von Klitzing constant R_K = h/e^2 = 25812.80745... ohm (exact).
NA_PER_MEV_PER_UNIT_T = 1e-3 / 25812.807459304513 * 1e9


@pytest.mark.parametrize("a_nm", [1.0, 8.0])
def test_current_density_unit_is_e2_over_h_per_mV_over_a(a_nm):
    converted = qpcsim.units.current_density_nA_per_nm(np.array([1.0, 0.5]), a_nm)
    np.testing.assert_allclose(converted, np.array([1.0, 0.5]) * NA_PER_MEV_PER_UNIT_T / a_nm, rtol=1e-12)
    with pytest.raises(ValueError, match="a_nm=0.0 is not allowed"):
        qpcsim.units.current_density_nA_per_nm(1.0, 0.0)


def test_temperature_series_figure_needs_one_swept_axis():
    import xarray as xr

    from qpcsim.plotting.spectral import plot_temperature_series
    data = xr.Dataset({"conductance": (("V0", "B", "temperature"), np.zeros((2, 2, 2)))},
                      coords={"V0": [1.0, 2.0], "B": [0.0, 1.0], "temperature": [1.0, 2.0]},
                      attrs={"swept": '["V0", "B"]'})
    with pytest.raises(ValueError, match=r"has dims \('V0', 'B', 'temperature'\)"):
        plot_temperature_series(data)


def test_trace_of_another_variable_is_labelled_in_its_unit(trace):
    """``plot_result(variable=...)`` draws e.g. a four-terminal resistance (``qpcsim sweep
    --observable``): its own values and unit, no G0 gridlines; an unknown name is refused."""
    data = trace.data
    data["R_test"] = (data["conductance"].dims, 1.0 / (1.0 + data["conductance"].values),
                      {"units": "h/e^2"})
    fig = plot_result(trace, variable="R_test")
    ax, ax2 = fig.axes
    assert ax.get_ylabel() == "R_test (h/e^2)" and ax2.get_ylabel() == "dR_test/dV0"
    np.testing.assert_allclose(np.sort(ax.lines[0].get_ydata()),
                               np.sort(data["R_test"].values), rtol=0, atol=0)
    del data["R_test"]
    with pytest.raises(ValueError, match="variable='R_nope' is not allowed"):
        plot_result(trace, variable="R_nope")


@pytest.mark.parametrize("name", ["plot_compare_temperatures", "plot_compare_biases"])
def test_compare_figures_refuse_what_is_not_a_comparison(name):
    with pytest.raises(ValueError, match=r"comparison='x' is not allowed: give a"):
        getattr(qpcsim.plotting, name)("x")


@pytest.mark.parametrize("module, name, args, parameter", [
    ("", "plot_device", (5,), "device"),
    ("", "plot_result", (5,), "result"),
    ("spectral", "plot_bias_map", (5, "x.png"), "data"),
    ("spectral", "current_figure", (5, None), "device"),
    ("spectral", "plot_temperature_series", (5,), "result"),
    ("physics", "plot_mean_free_path", (5,), "fit"),
    ("physics", "plot_adiabaticity", (5,), "result"),
    ("physics", "plot_compare", (5,), "result"),
    ("electrostatics", "plot_electrostatics", (5, "x.png"), "result"),
    ("electrostatics", "plot_pinchoff", (5,), "diagram"),
    ("electrostatics", "plot_bare_vs_self_consistent", (5, 5, "x.png"), "bare"),
])
def test_public_figures_refuse_a_wrong_object_in_one_line(module, name, args, parameter,
                                                           tmp_path, monkeypatch):
    """A wrong object is a one-line ValueError naming the parameter and what to give, not
    an AttributeError from inside the figure; nothing is written."""
    import importlib
    monkeypatch.chdir(tmp_path)
    func = getattr(importlib.import_module("qpcsim.plotting" + (f".{module}" if module else "")),
                   name)
    with pytest.raises(ValueError, match=rf"^{parameter}=5 is not allowed: give ") as info:
        func(*args)
    assert "\n" not in str(info.value)
    assert not list(tmp_path.iterdir())


def test_current_figure_refuses_what_is_not_a_current_map():
    device = qpcsim.load_geometry("qpc_saddle")
    with pytest.raises(ValueError, match=r"^cmap='m' is not allowed: give a CurrentMap"):
        qpcsim.plotting.spectral.current_figure(device, "m")
