"""Figures: returned as matplotlib Figures, titles with every fixed parameter, units on every
axis, 2-D maps of G and dG/dx, the device in nm with gates, 2DEG edge and E_F = U contour."""
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


def test_trace_is_a_figure_with_units_and_every_fixed_parameter(trace, tmp_path):
    fig = plot_result(trace)
    assert isinstance(fig, Figure)
    ax, ax2 = fig.axes
    title = ax.get_title()
    for part in ("qpc_saddle", "E = 9 meV", "T = 0 K", "B = 0.1 T", "hw_x = 1.5 meV",
                 "hw_y = 3 meV", "W = 200 nm", "a = 4 nm"):
        assert part in title, part
    assert ax2.get_xlabel() == "V0 (meV)"
    assert "per meV" in ax2.get_ylabel() and "dG/d" in ax2.get_ylabel()
    assert "2e^2/h" in ax.get_ylabel()
    path = save_figure(fig, tmp_path / "t.png")
    assert path.stat().st_size > 10_000
    assert save_figure(fig, tmp_path / "t.pdf").stat().st_size > 1_000   # saving is separate


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
    assert "Vg = -1 V" in ax.get_title()


def test_current_figure_in_nm_with_gates_and_the_2deg_edge():
    from matplotlib.patches import Polygon

    from qpcsim.plotting.spectral import current_figure
    dev = qpcsim.load_geometry("qpc_split_gate", a=8.0, W=240.0, L=320.0)
    cmap = qpcsim.current_density(dev, 8.0, Vg=-0.6)
    fig = current_figure(dev, cmap, {"Vg": -0.6})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    assert "|current density|" in fig.axes[1].get_ylabel()
    gates = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(gates) == 2
    assert gates[0].get_xy()[:, 0].min() == pytest.approx(-50.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["V = E_F (8 meV): 2DEG edge", "gates"]
    jx, jy = cmap.site_current()
    shown = np.asarray(ax.collections[0].get_array())
    np.testing.assert_allclose(shown, np.hypot(jx, jy), atol=1e-15)
    assert "lead 0 (all modes)" in ax.get_title() and "E = 8 meV" in ax.get_title()


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
