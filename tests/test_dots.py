"""Non-interacting quantum dot: resonances vs the closed dot, Breit-Wigner widths."""
import subprocess
import sys

import numpy as np
import pytest

import qpcsim
from qpcsim import dots

ENERGY = 8.0   # meV


def _peak(device, centre, half_width, **params):
    """Locate a resonance in Vp: coarse scan, then a fine one around the maximum."""
    vp, g = dots.resonance_scan(device, centre + np.linspace(-half_width, half_width, 61),
                                ENERGY, workers=1, **params)
    step = vp[1] - vp[0]
    vp, g = dots.resonance_scan(device, vp[np.argmax(g)] + np.linspace(-2 * step, 2 * step, 81),
                                ENERGY, workers=1, **params)
    return vp, g


@pytest.mark.parametrize("level", [1, 2])
def test_resonances_sit_at_closed_dot_levels(level):
    # Vp of resonance k: E_k - 1000 alpha Vp = E_F, with E_k from the closed dot.
    device = qpcsim.load_geometry("quantum_dot", V_barrier=16.0)
    levels = dots.closed_dot_levels(device)
    alpha = device.defaults["alpha"]
    predicted = (levels[level] - ENERGY) / (1e3 * alpha)
    spacing = 0.5 * (levels[level + 1] - levels[level - 1])
    vp, g = _peak(device, predicted, 0.3 * spacing / (1e3 * alpha))
    found = vp[np.argmax(g)]
    # measured: 2-3 % of the level spacing (barrier penetration, level shift)
    assert abs(found - predicted) * 1e3 * alpha < 0.05 * spacing
    assert g.max() > 0.95                       # symmetric barriers: the peak reaches G0


def test_peak_height_reaches_G0_only_when_symmetric():
    # Breit-Wigner heights 4 G_L G_R / (G_L + G_R)^2: 1 for symmetric barriers (measured
    # 0.9997-1.0000), 0.74-0.76 with the right barrier 3 meV higher.
    device = qpcsim.load_geometry("quantum_dot")
    plunger = np.linspace(-0.06, 0.06, 41)
    heights = {}
    for asym in (0.0, 3.0):
        scan = dots.find_resonances(device, plunger, ENERGY, workers=1, asymmetry=asym)
        assert len(scan.resonances) == 3 and not scan.warnings
        heights[asym] = np.array([r.height for r in scan.resonances])
        for r in scan.resonances:
            assert r.fit.residual < 0.01 * r.height       # isolated Lorentzian peaks
            assert r.gamma_left_meV + r.gamma_right_meV == pytest.approx(r.width_meV, rel=1e-9)
    np.testing.assert_allclose(heights[0.0], 1.0, atol=0.005)
    assert np.all(heights[3.0] < 0.8) and np.all(heights[3.0] > 0.7)
    # the lever arm of the plunger on the dot's levels: 1000 alpha meV/V within 1 %
    assert scan.lever_meV_per_V == pytest.approx(1e3 * device.defaults["alpha"], rel=0.01)


def test_widths_fall_with_barrier_height_and_feed_the_coulomb_model():
    # Gamma ~ barrier transmission: exponentially smaller for higher barriers; the levels
    # and widths become the constant-interaction model, whose peaks are then spaced by
    # (E_C + Delta)/(e alpha) with the computed Delta (checked to 1 %).
    from qpcsim import coulomb
    device = qpcsim.load_geometry("quantum_dot")
    plunger = np.linspace(-0.03, 0.09, 31)
    widths = {}
    for vb in (16.0, 20.0):
        scan = dots.find_resonances(device, plunger, ENERGY, workers=1, V_barrier=vb)
        widths[vb] = np.array([r.width_meV for r in scan.resonances])
    assert widths[16.0].size == widths[20.0].size == 2
    assert np.all(widths[20.0] < 0.4 * widths[16.0])       # measured ratio 0.31-0.32
    model = dots.coulomb_model(scan, charging_energy=1.5)
    np.testing.assert_allclose(model.gamma_left, model.gamma_right, rtol=0.05)
    T = 0.3                                                  # K: k_B T = 0.026 meV >> Gamma
    assert not model.check_validity(T)
    delta = model.levels[1] - model.levels[0]
    centres = [(model.levels[n] + 1.5 * (n + 0.5)) / (1e3 * model.alpha) for n in (0, 1)]
    peaks = []
    for c in centres:
        gates = c + np.linspace(-2e-4, 2e-4, 81)
        trace = coulomb.conductance_vs_gate(model, gates, T)
        peaks.append(gates[np.argmax(trace.conductance)])
    assert peaks[1] - peaks[0] == pytest.approx((1.5 + delta) / (1e3 * model.alpha), rel=0.01)


def test_open_dot_is_flagged():
    device = qpcsim.load_geometry("quantum_dot")
    with pytest.warns(UserWarning, match="the dot is open"):
        scan = dots.find_resonances(device, np.linspace(-0.01, 0.01, 11), ENERGY, workers=1,
                                    V_barrier=6.0)
    assert any("orthodox" in w for w in scan.warnings)


def test_breit_wigner_width_of_double_barrier_chain():
    # A 1-D chain (one site wide) with two on-site barriers U, 20 sites apart:
    # fitted FWHM vs the exact Fabry-Pérot width, within 3 %.
    a, U, gap = 2.0, 300.0, 20

    def potential(x, y, U=U):
        return np.where(np.isclose(np.abs(x), gap * a / 2), U, 0.0) + 0.0 * y

    chain = qpcsim.Device(width=2 * a, length=(gap + 20) * a, a=a, potential=potential)
    t = chain.t
    centre, width = dots.double_barrier_chain_width(U, gap, t, near_meV=2.25 * t)
    energies = centre + np.linspace(-3 * width, 3 * width, 121)
    trans = [qpcsim.solve(chain, e).transmission for e in energies]
    fit = dots.fit_breit_wigner(energies, trans)
    assert fit.width == pytest.approx(width, rel=0.03)
    assert fit.position == pytest.approx(centre, abs=0.02 * width)
    assert fit.height == pytest.approx(1.0, abs=0.01)
    # leading order: Gamma = hbar v T_barrier / d, with T_barrier = 1/(1 + (U/2t sin k)^2)
    k = np.arccos(1 - (centre - 2 * t) / (2 * t))
    t_barrier = 1 / (1 + (U / (2 * t * np.sin(k))) ** 2)
    assert fit.width == pytest.approx(2 * t * np.sin(k) * t_barrier / gap, rel=0.15)


def test_contrast_command(tmp_path):
    out = subprocess.run([sys.executable, "-m", "qpcsim.cli", "contrast", "--points", "31",
                          "--out", str(tmp_path / "c.png")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "QPC plateaus" in out.stdout and "dot resonance peaks" in out.stdout
    assert (tmp_path / "c.png").stat().st_size > 10_000
