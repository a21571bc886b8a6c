import pickle

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
    assert state["_fsyst"] is None and "_solver_cache" not in state
    clone = pickle.loads(pickle.dumps(dev))
    assert clone.fingerprint() == dev.fingerprint()
    assert qpcsim.solve(clone, 3.0, Vg=1.0).conductance == first.conductance


def test_fingerprint_tracks_physics():
    a = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0)
    b = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0)
    c = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_y=2.5)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
