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
                                ENERGY, workers=2, **params)
    step = vp[1] - vp[0]
    vp, g = dots.resonance_scan(device, vp[np.argmax(g)] + np.linspace(-2 * step, 2 * step, 81),
                                ENERGY, workers=2, **params)
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
    heights = {}
    for asym in (0.0, 3.0):
        device = qpcsim.load_geometry("quantum_dot", asymmetry=asym)
        levels = dots.closed_dot_levels(device, asymmetry=asym)
        predicted = (levels[2] - ENERGY) / (1e3 * device.defaults["alpha"])
        vp, g = _peak(device, predicted, 0.01, asymmetry=asym)
        heights[asym] = dots.fit_breit_wigner(vp, g).height
    assert heights[0.0] == pytest.approx(1.0, abs=0.02)
    assert heights[3.0] < 0.8                   # 4 G_L G_R / (G_L + G_R)^2 < 1


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
