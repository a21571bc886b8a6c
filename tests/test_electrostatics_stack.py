"""The wafer as a layer stack (issue 23): Layer, Heterostructure.from_layers, calibrate, the
ungated density from the donors, the layered uniform-gate capacitance for both surfaces.
Numbers and tolerances are in each test."""
import math

import numpy as np
import pytest

from qpcsim.electrostatics import Gate, Heterostructure, Layer, Layout, ThomasFermiProblem
from qpcsim.units import E_CHARGE, EPSILON_0, HBAR, M_ELECTRON

#: cap, barrier, Si delta layer (2 nm at 1e19 cm^-3 = 2e12 cm^-2), spacer; 2DEG 62 nm deep
WAFER = [Layer("cap", 10, 12.9), Layer("barrier", 30, 12.2),
         Layer("delta", 2, 12.2, 1e19), Layer("spacer", 20, 12.2)]
#: a gate oxide on a shallow barrier: very different permittivities, the series sum matters
OXIDE = [Layer("oxide", 20, 4.0), Layer("barrier", 25, 12.2)]


def inverse_capacitance_m2_per_F(layers, mass=0.067):
    """1/C = sum d_i/eps_i + 1/(e^2 rho) (m^2/F), rho = m*/(pi hbar^2), from SI constants."""
    geometric = sum(lay.thickness_nm * 1e-9 / (EPSILON_0 * lay.eps_r) for lay in layers)
    rho = mass * M_ELECTRON / (math.pi * HBAR**2)              # J^-1 m^-2
    return geometric + 1 / (E_CHARGE**2 * rho)


def test_default_model_is_unchanged():
    het = Heterostructure(50, 2e11)
    assert (het.surface, het.layers, het.material.dielectric_constant) == ("pinned", (), 12.9)
    one = Heterostructure.from_layers([Layer("GaAs", 50, 12.9)], 2e11)
    assert (one.depth_nm, one.material, one.capacitance_per_e_nm2_per_V()) == \
        (het.depth_nm, het.material, het.capacitance_per_e_nm2_per_V())
    assert het.record() == {"depth_nm": 50.0, "density_cm2": 2e11, "eps_r": 12.9,
                            "effective_mass": 0.067, "surface": "pinned"}


@pytest.mark.parametrize("layers", [WAFER, OXIDE], ids=["wafer", "oxide"])
@pytest.mark.parametrize("surface", ["pinned", "frozen"])
def test_layered_uniform_gate_capacitance(layers, surface):
    # Under the middle of a 3 um gate (>> d): n - n_s = C V/e with the layered
    # 1/C = sum d_i/eps_i + 1/(e^2 rho) from SI constants, within 0.5 % (measured 0.03-0.14 %);
    # with the thickness-weighted mean permittivity the oxide stack's 1/C is off by 33 %.
    het = Heterostructure.from_layers(layers, 2e11, surface)
    half = 1500.0
    lay = Layout([Gate("g", [(-half, -half), (half, -half), (half, half), (-half, half)])])
    prob = ThomasFermiProblem(lay, het, (-half - 300, half + 300, -half - 300, half + 300), 50.0)
    volts = -0.05
    res = prob.solve({"g": volts})
    dn_cm2 = res.density_cm2(0.0, 0.0) - het.density_cm2
    expected_cm2 = volts / inverse_capacitance_m2_per_F(layers) / E_CHARGE * 1e-4
    np.testing.assert_allclose(dn_cm2, expected_cm2, rtol=0.005)


def test_frozen_and_pinned_agree_under_a_gate_covering_the_window():
    # The whole window under one gate: the frozen surface has no free part there, so both
    # models give the same density under the middle, within 0.5 % of the change
    # (measured 0.04 %), also in the nonlinear regime (n down to 30 % of n_s).
    half = 1500.0
    lay = Layout([Gate("g", [(-half, -half), (half, -half), (half, half), (-half, half)])])
    n = {}
    for surface in ("pinned", "frozen"):
        het = Heterostructure.from_layers(WAFER, 2e11, surface)
        prob = ThomasFermiProblem(lay, het, (-half - 300, half + 300, -half - 300, half + 300),
                                  50.0)
        n[surface] = prob.solve({"g": 0.7 * het.depletion_voltage_V()}).density_cm2(0.0, 0.0)
    np.testing.assert_allclose(n["frozen"] - 2e11, n["pinned"] - 2e11, rtol=0.005)


def test_donors_set_the_ungated_density():
    # Uniform permittivity, one doped slab: W = e N (depth of the slab's middle)/eps exactly,
    # and n_s = C (W - V_pin)/e; the frozen surface charge is n_s - N by neutrality.
    eps = 12.9
    layers = [Layer("top", 30, eps), Layer("doped", 10, eps, 2e18), Layer("spacer", 25, eps)]
    het = Heterostructure.from_layers(layers, surface="frozen", surface_barrier_V=0.7)
    sheet = 2e18 * 1e6 * 10e-9                                   # m^-2
    lift = E_CHARGE * sheet * 35e-9 / (EPSILON_0 * eps)          # V
    n_s = (lift - 0.7) / inverse_capacitance_m2_per_F(layers) / E_CHARGE * 1e-4
    np.testing.assert_allclose(het.density_cm2, n_s, rtol=1e-12)
    np.testing.assert_allclose(het.surface_charge_cm2, n_s - 2e12, rtol=1e-12)
    # a measured density overrides the donors' prediction; the barrier it implies is recorded
    measured = Heterostructure.from_layers(layers, 3e11)
    assert measured.density_cm2 == 3e11
    np.testing.assert_allclose(het.implied_surface_barrier_V, 0.7, rtol=1e-12)
    assert measured.implied_surface_barrier_V < 0.7
    assert measured.record()["implied_surface_barrier_V"] == measured.implied_surface_barrier_V


def test_calibration_round_trips_and_is_recorded():
    het = Heterostructure.calibrate(WAFER, density_cm2=2.5e11, fit="donors")
    np.testing.assert_allclose(het.density_cm2, 2.5e11, rtol=1e-12)
    fitted = dict(het.provenance)["charge_cm3"]
    assert dict(het.provenance)["doped_layer"] == "delta" and 0 < fitted < 1e19
    # the calibrated stack alone (donors only) predicts the same density
    again = Heterostructure.from_layers(het.layers, surface="frozen")
    np.testing.assert_allclose(again.density_cm2, 2.5e11, rtol=1e-12)
    # one large-gate depletion voltage fixes n_s, whichever parameter absorbs it
    het = Heterostructure.calibrate(WAFER, depletion_voltage_V=-0.4, fit="surface")
    np.testing.assert_allclose(het.depletion_voltage_V(), -0.4, rtol=1e-12)
    assert 0 < het.surface_barrier_V < 1.519
    record = het.record()
    assert record["calibration"]["measurement"] == "depletion_voltage_V"
    assert record["calibration"]["surface_barrier_V"] == het.surface_barrier_V
    assert record["layers"][2] == {"name": "delta", "thickness_nm": 2.0, "eps_r": 12.2,
                                   "charge_cm3": 1e19}


@pytest.mark.parametrize("make, message", [
    (lambda: Layer("cap", 0, 12.9),
     "layer 'cap' thickness_nm=0.0 nm is not allowed: it must be > 0"),
    (lambda: Layer("cap", 10, -1), "layer 'cap' eps_r=-1.0 is not allowed: it must be > 0"),
    (lambda: Layer("cap", 10, 12.9, float("nan")), "charge_cm3=nan is not allowed"),
    (lambda: Heterostructure.from_layers([]), "must be a non-empty list"),
    (lambda: Heterostructure.from_layers(WAFER, interface="channel"),
     "interface='channel' is not allowed: the 2DEG must sit at the bottom of a layer of the "
     "stack, one of cap, barrier, delta, spacer"),
    (lambda: Heterostructure.from_layers([Layer("a", 10, 12.9), Layer("a", 5, 12.9)]),
     "layer names must be unique"),
    (lambda: Heterostructure.from_layers([Layer("d", 2, 12.2, 1e18), Layer("s", 40, 12.2)]),
     "leave the 2DEG depleted at zero gate voltage (donor lift W = "),
    (lambda: Heterostructure.calibrate(WAFER, density_cm2=4e12, fit="surface"),
     "density_cm2=4e+12 is not reachable with fit='surface': it needs n_s = 4e+12 cm^-2, while "
     "surface_barrier_V in [0, 1.519] V gives n_s in ("),
    (lambda: Heterostructure.calibrate(WAFER, density_cm2=5e13, fit="donors"),
     "charge_cm3 of 'delta' in [0, 1e+20] e cm^-3 gives n_s in ("),
    (lambda: Heterostructure.calibrate(WAFER, depletion_voltage_V=0.3),
     "depletion_voltage_V=0.3 V is not allowed"),
    (lambda: Heterostructure.calibrate(WAFER, density_cm2=2e11, depletion_voltage_V=-0.4),
     "exactly one measurement"),
    (lambda: Heterostructure.calibrate(OXIDE, density_cm2=2e11),
     "doped_layer=None is not allowed"),
    (lambda: Heterostructure.calibrate(WAFER, density_cm2=2e11, fit="mobility"),
     "fit='mobility' is not allowed"),
])
def test_bad_stack_input_is_a_one_line_value_error(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_calibrated_model_is_in_the_device_metadata():
    from qpcsim.electrostatics import self_consistent_device
    het = Heterostructure.calibrate(WAFER, density_cm2=2.5e11)
    lay = Layout([Gate("left", [(-50, 100), (50, 100), (50, 400), (-50, 400)]),
                  Gate("right", [(-50, -400), (50, -400), (50, -100), (-50, -100)])])
    dev = self_consistent_device(lay, het, width_nm=320, length_nm=480, a_nm=8.0,
                                 resolution_nm=8.0)
    record = dev.metadata["electrostatics"]["heterostructure"]
    assert record == het.record() and record["calibration"]["fit"] == "donors"
    assert record["surface"] == "frozen" and len(record["layers"]) == 4
