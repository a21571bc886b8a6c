"""Lattice error by a^2 extrapolation (qpcsim.physics.lattice)."""
import json

import numpy as np
import pytest

import qpcsim


def test_a2_extrapolation_recovers_buttiker():
    """Small saddle (W = 192, L = 480 nm; hbar w_x = 1, hbar w_y = 2 meV, E = 10, V0 = 3.5 meV,
    one tunnelling mode): the a^2 law holds (misfit < 2e-4 G0 over a = 4, 3, 2 nm), the
    a -> 0 value is within 2e-3 of Büttiker's 3.04134 and the estimated error of the
    coarsest lattice matches the actual one to 20 %."""
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    exact = saddle.buttiker_transmissions(10.0, 3.5, 1.0, 2.0).sum()
    est = qpcsim.lattice_error_estimate("qpc_saddle", 10.0, lattice_constants=(4.0, 3.0, 2.0),
                                        geometry_params=dict(W=192.0, L=480.0),
                                        params=dict(V0=3.5))
    assert list(est.a) == [4.0, 3.0, 2.0]
    assert est.residual < 2e-4
    assert est.extrapolated == pytest.approx(exact, abs=2e-3)
    actual = est.conductance[0] - exact
    assert abs(actual) > 5e-3                                  # the coarse lattice is off
    assert est.error == pytest.approx(actual, rel=0.2)
    assert json.loads(json.dumps(est.as_dict()))["method"] == "a^2 extrapolation"


def test_documented_estimate_in_sweep_metadata():
    dev = qpcsim.load_geometry("qpc_hardwall", a=5.0)
    est = dev.metadata["lattice_error_estimate"]
    assert est["a_nm"] == 5.0 and est["error_G0"] == pytest.approx(3.5e-5 * 25)
    r = qpcsim.sweep(dev, over={"U_gate": np.array([0.0, 1.0])}, energy=15.0, workers=1)
    assert json.loads(r.data.attrs["lattice_error_estimate"]) == est
    wire = qpcsim.Device(width=100.0, length=50.0, a=5.0)
    r = qpcsim.sweep(wire, over={"energy": np.array([5.0, 6.0])}, workers=1)
    assert "not estimated" in json.loads(r.data.attrs["lattice_error_estimate"])


def test_lattice_error_bad_input():
    with pytest.raises(ValueError, match=r"give at least two different lattice constants"):
        qpcsim.lattice_error_estimate("qpc_saddle", 10.0, lattice_constants=(2.0,))
    with pytest.raises(ValueError, match=r"not built by load_geometry"):
        qpcsim.lattice_error_estimate(qpcsim.Device(width=50.0, length=50.0, a=5.0), 10.0)


def test_readme_saddle_and_its_extrapolation():
    """The README's saddle (defaults, a = 2 nm: hbar w_x = 1, hbar w_y = 2 meV, E = 10,
    V0 = 3.5 meV) gives G = 3.04419 against Büttiker's 3.04134 (2.8e-3, the a^2 error);
    the a^2 extrapolation over a = 4, 3, 2 nm comes within 5e-4 of Büttiker (measured
    4.9e-4, the C-infinity switch-off's own bound), at most a quarter of the a = 2 nm error
    (measured 0.17)."""
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    exact = saddle.buttiker_transmissions(10.0, 3.5, 1.0, 2.0).sum()
    assert exact == pytest.approx(3.04134, abs=1e-5)
    readme = qpcsim.solve(qpcsim.load_geometry("qpc_saddle", hw_x=1.0, hw_y=2.0), 10.0, V0=3.5)
    assert readme.conductance == pytest.approx(3.04419, abs=1e-4)
    est = qpcsim.lattice_error_estimate("qpc_saddle", 10.0, lattice_constants=(4.0, 3.0, 2.0),
                                        params=dict(V0=3.5))
    assert est.conductance[-1] == readme.conductance
    assert abs(est.extrapolated - exact) < 5e-4
    assert abs(est.extrapolated - exact) < 0.25 * abs(readme.conductance - exact)


@pytest.mark.slow
def test_readme_saddle_extrapolates_to_buttiker_on_fine_lattices():
    """The documented fine-lattice extrapolation (a = 2, 1.5, 1 nm: 3.04419, 3.04292,
    3.04204) gives G(0) = 3.04133 against Büttiker's 3.04134."""
    saddle = qpcsim.load_geometry_module("qpc_saddle")
    exact = saddle.buttiker_transmissions(10.0, 3.5, 1.0, 2.0).sum()
    est = qpcsim.lattice_error_estimate("qpc_saddle", 10.0, lattice_constants=(2.0, 1.5, 1.0),
                                        params=dict(V0=3.5))
    np.testing.assert_allclose(est.conductance, [3.04419, 3.04292, 3.04204], atol=2e-5)
    assert est.extrapolated == pytest.approx(exact, abs=1e-4)


@pytest.mark.parametrize("name", ["qpc_saddle", "qpc_split_gate", "qpc_hardwall"])
def test_documented_lattice_error_states_where_it_holds(name):
    """The documented a^2 coefficient is right at its calibration point and 6-8x too small on
    higher steps: the record says it holds at that point only."""
    record = qpcsim.load_geometry(name).metadata["lattice_error_estimate"]
    assert "calibration point" in record["valid"] and "only" in record["valid"]
    assert record["measured_at"]
