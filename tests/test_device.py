import pickle
import re

import numpy as np
import pytest

import qpcsim
from conftest import clean_wire


def test_lattice_bookkeeping():
    dev = qpcsim.Device(width=100, length=40, a=5)
    assert (dev.nx, dev.ny) == (9, 19)      # 40/5 + 1 columns, 100/5 - 1 rows
    x, y = dev.site_positions_nm()
    assert x.min() == pytest.approx(-20) and x.max() == pytest.approx(20)
    # hard walls at +-W/2: the outermost sites are one lattice constant inside
    assert y.min() == pytest.approx(-45) and y.max() == pytest.approx(45)
    assert dev.t == pytest.approx(qpcsim.units.hopping_meV(5))


def test_build_is_cached_and_kwant_native():
    import kwant
    dev = qpcsim.Device(width=60, length=30, a=5, potential=lambda x, y, Vg=0.0: Vg + 0 * x)
    fsyst = dev.build()
    assert dev.build() is fsyst
    assert isinstance(fsyst, kwant.system.FiniteSystem)
    # users keep Kwant: smatrix with params by name, energies in units of t
    smat = kwant.smatrix(fsyst, 3.0 / dev.t, params=dev.resolve_params({"Vg": 0.5}))
    assert smat.transmission(1, 0) == pytest.approx(
        qpcsim.solve(dev, 3.0, Vg=0.5).transmission, abs=1e-10)


def test_transverse_modes_match_lead_bands():
    import kwant
    dev = clean_wire(width=80, a=4)
    bands = kwant.physics.Bands(dev.build().leads[0], params=dev.resolve_params())
    bottoms = np.sort(bands(0.0)) * dev.t
    np.testing.assert_allclose(bottoms[:5], dev.transverse_mode_energies(5), rtol=1e-12)


def test_unknown_parameter_lists_known_ones():
    dev = qpcsim.Device(width=60, length=30, a=5, potential=lambda x, y, Vg=0.0: Vg + 0 * x)
    with pytest.raises(ValueError, match=r"unknown parameter 'Vgate'; known parameters are: B, Vg"):
        dev.resolve_params({"Vgate": 1.0})


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=-10, length=30, a=5), r"width=-10.0 nm is not allowed: it must be > 0"),
    (dict(width=60, length=30, a=0), r"a=0.0 nm is not allowed"),
    (dict(width=62, length=30, a=5), r"width=62.0 nm is not allowed with a=5.0 nm: it must be an integer"),
    (dict(width=5, length=30, a=5), r"width >= 2a"),
    (dict(width=60, length=30, a=5, shape=lambda x, y: np.abs(x) < 10),
     r"shape excludes sites in the first or last column"),
    (dict(width=60, length=30, a=5, potential=lambda r, y: 0.0), r"named x and y"),
    (dict(width=60, length=30, a=5, potential=lambda x, y, B=1.0: 0.0), r"reserved"),
    (dict(width=60, length=30, a=5, potential=lambda x, y, Vg: 0.0), r"'Vg' has no default"),
])
def test_bad_device_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.Device(**kwargs).build()


def test_non_finite_potential_is_reported():
    dev = qpcsim.Device(width=60, length=30, a=5,
                        potential=lambda x, y, Vg=0.0: np.where(x > 0, Vg * np.inf, 0.0))
    with pytest.raises(ValueError, match=r"potential is not finite at .* for parameters \{'Vg': 1.0\}"):
        qpcsim.solve(dev, 3.0, Vg=1.0)


def potential_for_pickle(x, y, Vg=0.0):
    return Vg * np.exp(-(x / 20) ** 2) + 0 * y


def test_pickle_drops_kwant_state_and_rebuilds():
    dev = qpcsim.Device(width=60, length=40, a=5, potential=potential_for_pickle)
    first = qpcsim.solve(dev, 3.0, Vg=1.0)
    state = dev.__getstate__()
    # the back ends live in the device's solver context, not in its (pickled) state
    assert state["_fsyst"] is None and qpcsim.backends.solver_context(dev).backends
    clone = pickle.loads(pickle.dumps(dev))
    assert clone.fingerprint() == dev.fingerprint()
    assert qpcsim.solve(clone, 3.0, Vg=1.0).conductance == first.conductance


def test_fingerprint_tracks_physics():
    a = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0)
    b = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0)
    c = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_y=2.5)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


# ------------------------------------------------- leads narrower than the device (issue 14)
def _bump(x, y, V=1.0):
    return V * np.exp(-(x ** 2 + y ** 2) / 400.0)


def _ring(x, y):
    return (x ** 2 + y ** 2 > 15.0 ** 2) | (np.abs(x) > 35.0)


@pytest.mark.parametrize("kwargs", [
    dict(lead_width=40.0, lead_center=(20.0, -20.0)),           # offset, on opposite sides
    dict(lead_width=(30.0, 50.0), lead_center=(-25.0, 15.0), shape=_ring),   # a ring
    dict(lead_width=(None, 40.0), lead_center=(0.0, 30.0), zeeman=True),     # one full-width
])
@pytest.mark.parametrize("method", ["mumps", "rgf"])
def test_narrow_leads_match_kwant_smatrix(kwargs, method):
    import kwant
    dev = qpcsim.Device(width=100.0, length=80.0, a=5.0, potential=_bump, **kwargs)
    params = dict(V=2.0, B=0.5)
    if dev.zeeman:
        params["E_Z"] = 0.3
    energy = 15.0
    ref = kwant.smatrix(dev.build(), energy / dev.t, params=dev.resolve_params(params))
    res = qpcsim.solve(dev, energy, method=method, **params)
    assert res.solver == f"fast-{method}"
    assert tuple(res.open_modes) == tuple(ref.num_propagating(i) for i in range(2))
    np.testing.assert_allclose(np.abs(res.smatrix), np.abs(ref.data), rtol=0, atol=1e-10)
    expected = ref.transmission(1, 0) * (0.5 if dev.zeeman else 1.0)
    assert res.conductance == pytest.approx(expected, abs=1e-10)


def test_narrow_lead_modes_and_geometry():
    dev = qpcsim.Device(width=100.0, length=40.0, a=5.0, lead_width=40.0, lead_center=10.0)
    assert dev.lead_windows == ((8, 7), (8, 7))
    # subbands of the 40 nm lead: a clean device with a narrow lead passes its mode count
    e = dev.transverse_mode_energies(3)
    np.testing.assert_allclose(e, 2 * dev.t * (1 - np.cos(np.arange(1, 4) * np.pi / 8)))
    assert qpcsim.solve(dev, 0.5 * (e[1] + e[2])).open_modes == (2, 2)
    desc = dev.describe()
    assert "left lead: width 40 nm, centre y = 10 nm" in desc


@pytest.mark.parametrize("kwargs, message", [
    (dict(lead_width=120.0), r"left lead \(lead_width=120 nm, lead_center=0 nm\) is not allowed: "
                             r"it must fit in the device's edge"),
    (dict(lead_width=40.0, lead_center=35.0), r"must fit in the device's edge"),
    (dict(lead_width=40.0, lead_center=2.0), r"lead_center=2 nm is not allowed .* walls must lie "
                                             r"on lattice lines"),
    (dict(lead_width=42.0), r"lead_width=42.0 nm is not allowed with a=5.0 nm: it must be an integer"),
    (dict(lead_width=(40.0, 40.0, 40.0)), r"lead_width=.* give one value or a \(left, right\) pair"),
])
def test_bad_leads(kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.Device(width=100.0, length=40.0, a=5.0, **kwargs)


def test_describe_lists_every_parameter_unit_and_kind():
    dev = qpcsim.load_geometry("qpc_split_gate")
    rows = {r["name"]: r for r in dev.parameter_info()}
    assert set(rows) == {"B", "Vg", "lever_arm", "d", "gap", "gate_length", "W", "L", "zeeman",
                         "a", "L_switch"}
    assert (rows["Vg"]["unit"], rows["Vg"]["structural"], rows["Vg"]["default"]) == ("V", False, -0.5)
    assert (rows["gap"]["unit"], rows["gap"]["structural"]) == ("nm", True)
    assert rows["B"]["unit"] == "T" and not rows["B"]["structural"]
    hw = {r["name"]: r for r in qpcsim.load_geometry("qpc_hardwall").parameter_info()}
    assert hw["U_gate"]["unit"] == "meV"      # an energy, named so (Vg is a voltage elsewhere)
    text = dev.describe()
    assert "gap" in text and "structural" in text and "runtime" in text


@pytest.mark.parametrize("bad, shown", [
    (lambda x, y: np.ones(3), "shape (3,)"),
    (lambda x, y: None, "NoneType"),
    (lambda x, y: "flat", "str"),
    (lambda x, y: np.ones((2, 2, 2)), "shape (2, 2, 2)"),
])
def test_potential_of_the_wrong_kind_is_refused_by_name(bad, shown):
    device = qpcsim.Device(width=60.0, length=100.0, a=5.0, potential=bad)
    for method in ("auto", "kwant"):
        with pytest.raises(ValueError, match="the potential must return a real number or an "
                                             r"array shaped like x and y .*" + re.escape(shown)):
            qpcsim.solve(device, 10.0, method=method)


@pytest.mark.parametrize("value", [0.5, "maybe", 2])
def test_yes_no_options_are_not_read_as_true(value):
    with pytest.raises(ValueError, match=r"zeeman=.* is not allowed: it is a yes/no option"):
        qpcsim.Device(width=60.0, length=100.0, a=5.0, zeeman=value)
    with pytest.raises(ValueError, match=r"zeeman=.* is not allowed: it is a yes/no option"):
        qpcsim.load_geometry("qpc_saddle", a=10.0, zeeman=value)
    assert qpcsim.Device(width=60.0, length=100.0, a=5.0, zeeman=1.0).zeeman is True


@pytest.mark.parametrize("width, length, a", [(320.0, 480.0, 4.0), (323.4, 475.2, 3.3),
                                              (321.2, 479.6, 4.4)])
def test_positions_are_measured_from_the_centre(width, length, a):
    # Mirror-image sites have exactly opposite positions at any lattice constant (the mirror
    # back ends accept only ~11 ulps of asymmetry), the end columns sit exactly at
    # +-length/2 where the leads attach, spacing a to rounding; a lead's cell beyond the
    # region (i = -1, nx) is one lattice constant further out, not moved onto the edge.
    dev = qpcsim.Device(width=width, length=length, a=a)
    x, _ = dev.lattice_to_nm(np.arange(dev.nx), np.zeros(dev.nx))
    _, y = dev.lattice_to_nm(np.zeros(dev.ny), np.arange(dev.ny))
    assert np.array_equal(x, -x[::-1]) and np.array_equal(y, -y[::-1])
    assert (x[0], x[-1]) == (-length / 2, length / 2)
    np.testing.assert_allclose(np.diff(x), a, rtol=1e-12)
    assert abs(y[0] + width / 2 - a) < 1e-12 * width
    beyond = [float(dev.lattice_to_nm(i, 0)[0]) for i in (-1, dev.nx)]
    np.testing.assert_allclose(beyond, [-length / 2 - a, length / 2 + a], rtol=1e-12)


@pytest.mark.parametrize("name", ["E", "energy", "T", "temperature", "method", "B", "E_Z"])
def test_potential_parameters_named_like_solve_and_sweep_arguments_are_refused(name):
    """solve and sweep take these names for themselves: a potential parameter ``E`` was swept
    as the Fermi energy ([0, 2] G0 instead of [3, 1.63]), ``temperature`` was the thermal
    average's, without an error."""
    potential = eval(f"lambda x, y, {name}=0.0: {name} + 0 * x")
    with pytest.raises(ValueError, match=rf"potential parameter names \['{name}'\] are reserved "
                                         r"by qpcsim \(B, E_Z, energy, E, temperature, T, method"):
        qpcsim.Device(width=60.0, length=100.0, a=5.0, potential=potential)


def test_shape_must_be_callable():
    with pytest.raises(ValueError, match=r"shape=5 is not allowed: it must be callable"):
        qpcsim.Device(width=60.0, length=100.0, a=5.0, shape=5)   # was a TypeError at the build


def test_lattice_to_nm_bad_input_is_a_one_line_value_error():
    dev = qpcsim.Device(width=40.0, length=60.0, a=4.0)
    with pytest.raises(ValueError, match="i='a', j=0 are not allowed: they must be lattice "
                                         "coordinates") as info:
        dev.lattice_to_nm("a", 0)
    assert "\n" not in str(info.value)
    for i, j in [(None, 0), (float("nan"), 0), (0, [1, np.inf])]:    # None was NaN
        with pytest.raises(ValueError, match="are not allowed: they must be lattice coordinates"):
            dev.lattice_to_nm(i, j)
