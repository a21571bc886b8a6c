"""Constant-interaction master equation against Beenakker, PRB 44, 1646 (1991)."""
import numpy as np
import pytest

from qpcsim import coulomb
from qpcsim.units import K_BOLTZMANN_MEV

GAMMA = 1e-5   # meV: sequential regime


def _peak_gate(model, n):
    """Gate (V) of the N = n -> n+1 peak: Delta_n(n) = 0 at zero bias."""
    return (model.levels[n] + model.charging_energy * (n + 0.5)) / (1e3 * model.alpha)


def test_quantum_regime_line_shape():
    # k_B T = 0.01 meV << Delta = 1 meV: cosh^-2(delta / 2kT), within 2 %.
    model = coulomb.DotModel([0.0, 1.0, 2.0], GAMMA, GAMMA, charging_energy=2.0, alpha=0.1)
    T = 0.01 / K_BOLTZMANN_MEV
    v0 = _peak_gate(model, 1)
    delta = np.linspace(-0.08, 0.08, 41)                  # meV
    g = np.array([coulomb.linear_conductance(model, v0 + d / 100.0, T) for d in delta])
    shape = g / g.max()
    assert np.abs(shape - coulomb.beenakker_quantum(delta, T)).max() < 0.02
    assert delta[np.argmax(g)] == pytest.approx(0.0, abs=0.005)


def test_classical_regime_line_shape():
    # Delta = 0.005 meV << k_B T = 0.05 meV << E_C = 2 meV, levels spanning +-6 kT:
    # cosh^-2(delta/2.5kT) within 2 % (measured 0.99 %) and the exact classical x/sinh x,
    # x = delta/kT, within 2 % (measured 0.44 %: the discreteness Delta/kT = 0.1).
    levels = np.arange(120) * 0.005
    model = coulomb.DotModel(levels, GAMMA, GAMMA, charging_energy=2.0, alpha=0.1)
    T = 0.05 / K_BOLTZMANN_MEV
    n = 60
    v0 = (model.charging_energy * (n + 0.5) + levels.mean()) / 100.0
    gates = v0 + np.linspace(-0.6, 0.6, 61) / 100.0
    g = np.array([coulomb.linear_conductance(model, v, T) for v in gates])
    energy = gates * 100.0                                   # meV of dot potential
    # the peak sits between grid points: fit its centre and height, then compare shapes
    from scipy.optimize import curve_fit
    for approximate, tolerance in ((True, 0.02), (False, 0.02)):
        def model_shape(e, centre, height):
            return height * coulomb.beenakker_classical(e - centre, T, approximate=approximate)
        (centre, height), _ = curve_fit(model_shape, energy, g,
                                        p0=[energy[np.argmax(g)], g.max()])
        residual = np.abs(g / height - model_shape(energy, centre, 1.0)).max()
        assert residual < tolerance, (approximate, residual)


@pytest.mark.parametrize("E_C", [1.0, 2.0, 4.0])
def test_peak_spacing_is_charging_plus_level_spacing(E_C):
    # Delta V_g = (E_C + Delta_N) / (e alpha)
    levels = [0.0, 0.3, 0.9]
    model = coulomb.DotModel(levels, GAMMA, GAMMA, charging_energy=E_C, alpha=0.1)
    T = 0.02 / K_BOLTZMANN_MEV
    peaks = []
    for n in (0, 1):
        guess = _peak_gate(model, n)
        gates = guess + np.linspace(-0.003, 0.003, 301)
        g = [coulomb.linear_conductance(model, v, T) for v in gates]
        peaks.append(gates[int(np.argmax(g))])
    assert peaks[1] - peaks[0] == pytest.approx((E_C + 0.3) / (1e3 * 0.1), abs=2e-5)


def test_peak_heights_not_quantized_and_temperature_dependent():
    model = coulomb.DotModel([0.0, 1.0], GAMMA, GAMMA, charging_energy=2.0, alpha=0.1)
    v0 = _peak_gate(model, 0)
    g1 = coulomb.linear_conductance(model, v0, 0.1)
    g2 = coulomb.linear_conductance(model, v0, 0.2)
    kT = 0.1 * K_BOLTZMANN_MEV
    # one non-degenerate level, Gamma << k_B T << Delta (Beenakker 1991):
    # G_max = (e^2/4kT) Gamma_L Gamma_R/(hbar (Gamma_L + Gamma_R)) = (pi/8) (Gamma/kT) G0
    # for Gamma_L = Gamma_R = Gamma (meV); measured to 5e-7 relative.
    assert g1 == pytest.approx(np.pi * GAMMA / (8 * kT), rel=1e-3)
    assert g1 / g2 == pytest.approx(2.0, rel=1e-3) and g1 < 1e-2


def test_current_conserved_and_detailed_balance():
    model = coulomb.DotModel([0.0, 0.4, 1.1], [GAMMA, 2 * GAMMA, 0.5 * GAMMA], GAMMA,
                             charging_energy=1.5, alpha=0.1, beta_left=0.4)
    for gate, bias in [(0.01, 0.7), (0.012, -1.3), (0.02, 2.0)]:
        i_left = coulomb.current(model, gate, bias, 0.3, lead="L")
        i_right = coulomb.current(model, gate, bias, 0.3, lead="R")
        assert abs(i_left + i_right) <= 1e-10 * max(abs(i_left), 1e-30)
    p, up, down = coulomb.stationary_state(model, 0.015, 0.0, 0.3)
    for r in ("L", "R"):       # each lead separately balanced at V = 0
        flux = p[:-1] * up[r]
        np.testing.assert_allclose(flux, p[1:] * down[r], rtol=1e-9, atol=1e-12 * flux.max())
    assert coulomb.current(model, 0.015, 0.0, 0.3) == pytest.approx(0.0, abs=1e-25)


def test_diamond_edges_follow_the_capacitances():
    # Positive-bias onset inside a diamond: current starts where a level meets mu_L
    # (slope dV/dVg = e alpha / (1 - beta_L)) or mu_R (slope -alpha/beta_L).
    alpha, beta = 0.1, 0.3
    model = coulomb.DotModel([0.0, 0.5], GAMMA, GAMMA, charging_energy=2.0, alpha=alpha,
                             beta_left=beta)
    T = 0.02 / K_BOLTZMANN_MEV
    v0 = _peak_gate(model, 0)
    biases = np.linspace(0.0, 3.0, 3001)

    def onset(gate):
        currents = np.array([abs(coulomb.current(model, gate, b, T)) for b in biases])
        return biases[np.argmax(currents > 1e-3 * currents.max())]

    # below the first peak (dot empty) the left lead fills level 0 once
    # Delta_0 + beta eV = eV: eV_onset = e alpha (V_peak - V_g) / (1 - beta).
    gates = v0 - np.array([0.002, 0.004])
    slope = np.diff([onset(g) for g in gates])[0] / np.diff(gates)[0]
    assert slope == pytest.approx(-1e3 * alpha / (1 - beta), rel=0.03)
    # above it (one electron) the electron escapes to the right lead once
    # Delta_0 + beta eV >= 0: eV_onset = e alpha (V_g - V_peak) / beta.
    gates = v0 + np.array([0.002, 0.004])
    slope = np.diff([onset(g) for g in gates])[0] / np.diff(gates)[0]
    assert slope == pytest.approx(1e3 * alpha / beta, rel=0.03)


def test_stability_diagram_and_capacitances():
    # C_L = 30, C_R = 40, C_g = 10 aF: E_C = e^2/80 aF = 2.0 meV, alpha = 1/8, beta_L = 3/8.
    model = coulomb.DotModel.from_capacitances([0.0, 0.5], GAMMA, GAMMA, 30.0, 40.0, 10.0)
    assert model.charging_energy == pytest.approx(2.003, rel=1e-3)
    assert (model.alpha, model.beta_left) == pytest.approx((0.125, 0.375))
    v0 = _peak_gate(model, 0)
    gates = v0 + np.linspace(-0.01, 0.01, 7)          # +-1.25 meV of dot potential
    diagram = coulomb.stability_diagram(model, gates, np.linspace(-6, 6, 13), 0.2)
    assert diagram.current_A.shape == (7, 13) and not diagram.warnings
    # 1.25 meV below the peak: blocked for -3.3 mV < V < 2 mV, current (~e Gamma/hbar) at +-6 mV
    assert abs(diagram.current_A[0, 6]) < 1e-25 and abs(diagram.current_A[0, 0]) > 1e-13
    assert np.all(diagram.current_A[:, 12] * diagram.current_A[:, 0] <= 0)
    for bad in [dict(C_left_aF=-1.0), dict(C_gate_aF=0.0)]:
        kwargs = {**dict(C_left_aF=30.0, C_right_aF=40.0, C_gate_aF=10.0), **bad}
        with pytest.raises(ValueError, match="is not allowed"):
            coulomb.DotModel.from_capacitances([0.0], GAMMA, GAMMA, **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(charging_energy=-1.0), r"charging_energy=-1.0 meV is not allowed: it must be > 0"),
    (dict(charging_energy=1.0, alpha=1.5), r"alpha=1.5 is not allowed"),
    (dict(charging_energy=1.0, alpha=0.5, beta_left=0.7), r"beta_left=0.7 is not allowed"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        coulomb.DotModel([0.0], GAMMA, GAMMA, **kwargs)
    with pytest.raises(ValueError, match=r"capacitance=-2.0 aF is not allowed"):
        coulomb.charging_energy_meV(-2.0)


def test_validity_is_reported():
    hot = coulomb.DotModel([0.0, 0.1], GAMMA, GAMMA, charging_energy=0.1)
    with pytest.warns(UserWarning, match="blockade is washed out"):
        trace = coulomb.conductance_vs_gate(hot, [0.0, 0.001], 10.0)
    assert any("washed out" in w for w in trace.warnings)
    with pytest.warns(UserWarning, match="washed out"):
        cmap = coulomb.conductance_vs_gate_and_temperature(hot, [0.0, 0.001], [0.05, 10.0])
    assert cmap.conductance.shape == (2, 2)
    assert len(cmap.warnings) == 1 and cmap.warnings[0].startswith("T = 10 K")
    opened = coulomb.DotModel([0.0, 0.1], 0.5, 0.5, charging_energy=1.0)
    with pytest.warns(UserWarning, match="orthodox theory does not apply"):
        coulomb.conductance_vs_gate(opened, [0.0], 0.1)
    assert coulomb.capacitance_aF(coulomb.charging_energy_meV(80.0)) == pytest.approx(80.0)


def test_peaks_are_resolved_and_equal():
    """The CLI's model (E_C = 1 meV, Delta = 0.2 meV, Gamma = 1e-4 meV, T = 0.1 K): every
    peak 0.004557 G0 on the peak-resolving grid; on the old 400-point grid (step
    0.118 mV vs FWHM 0.30 mV) they fell 0.00453 -> 0.00408."""
    model = coulomb.DotModel(np.arange(4) * 0.2, 1e-4, 1e-4, 1.0, alpha=0.1)
    peaks = coulomb.coulomb_peaks(model, 0.1)
    np.testing.assert_allclose(peaks.height, 0.004557, atol=2e-6)
    old = np.linspace(-0.005, 3.5 * 1.2 / 100, 400)
    g_old = coulomb.conductance_vs_gate(model, old, 0.1).conductance
    assert g_old.max() < 0.00454                         # the artefact the grid made
    grid = coulomb.peak_resolving_gates(peaks, old, 0.1, 0.1)
    trace = coulomb.conductance_vs_gate(model, grid, 0.1)
    for v, h in zip(peaks.gate_V, peaks.height):
        near = np.abs(trace.gate_V - v) < 0.3 * 0.2 / 100
        assert trace.conductance[near].max() == pytest.approx(h, rel=1e-9)
    with pytest.raises(ValueError, match=r"transitions contains 7: allowed are 0 .. 3"):
        coulomb.coulomb_peaks(model, 0.1, transitions=[7])


@pytest.mark.slow
def test_cli_peaks_are_resolved_and_equal(tmp_path, capsys):
    """Equal levels couplings: every peak 0.004557 G0 (E_C = 1 meV, Delta = 0.2 meV,
    Gamma = 1e-4 meV, T = 0.1 K). The old 400-point grid (step 0.118 mV vs FWHM 0.30 mV)
    drew them falling 0.00453 -> 0.00408."""
    from qpcsim.cli import main
    assert main(["coulomb", "--levels", "3", "--out", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if "->" in line and "G0" not in line]
    heights = np.array([float(r[-1]) for r in rows])
    assert len(heights) == 3
    np.testing.assert_allclose(heights, 0.004557, atol=2e-6)
    assert "peak height 0.004557" in out
    model = coulomb.DotModel(np.arange(6) * 0.2, 1e-4, 1e-4, 1.0, alpha=0.1)
    peaks = coulomb.coulomb_peaks(model, 0.1)
    # positions: (E_n + E_C (n + 1/2)) / (e alpha) to a small fraction of kT
    expected = (model.levels + 1.0 * (np.arange(6) + 0.5)) / 100.0
    np.testing.assert_allclose(peaks.gate_V, expected, atol=0.05 * K_BOLTZMANN_MEV * 0.1 / 100)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("nan")])
def test_line_shapes_refuse_a_temperature_that_is_not_positive(temperature):
    """cosh^-2(delta/2kT) at T < 0 is the same curve: a sign error passed unnoticed."""
    for shape in (coulomb.beenakker_quantum, coulomb.beenakker_classical):
        with pytest.raises(ValueError, match="temperature=.* is not allowed"):
            shape(np.array([0.0, 0.1]), temperature)


def test_tunnel_widths_must_be_finite():
    """gamma = NaN gave peaks of 0 G0 (inf: NaN), without an error."""
    for gamma in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="must be finite and >= 0 meV"):
            coulomb.DotModel(np.arange(3) * 0.2, gamma, gamma, 1.0)
