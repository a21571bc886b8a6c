import numpy as np
import pytest
import scipy.special

import qpcsim
from qpcsim.analysis import (buttiker_conductance, find_plateaus, find_steps, fit_buttiker,
                             optimal_sample_count,
                             plateau_table)


def test_plateaus_of_synthetic_staircase():
    # Büttiker staircase with flat plateaus at 1..4 and a 0.003 offset on the third.
    x = np.linspace(0.0, 14.0, 701)
    g = buttiker_conductance(x, 0.4, 3.0, 13.0)
    g = np.where((g > 2.5) & (g < 3.5), g + 0.003, g)
    plateaus = find_plateaus(x, g)
    assert [p.index for p in plateaus] == [4, 3, 2, 1, 0]
    three = next(p for p in plateaus if p.index == 3)
    assert three.deviation == pytest.approx(0.003, abs=2e-4)
    # plateau 3 lies between the steps at x0 - 2.5 hw_y and x0 - 3.5 hw_y
    assert 2.5 < three.start < three.stop < 5.5
    assert three.width > 1.5
    assert "no plateaus" not in plateau_table(plateaus, "meV")


def test_gentle_steps_next_to_steep_ones_are_not_one_plateau():
    # A split gate opening fully: the first risers are 20x gentler than the last
    # ones. Judged against the steep risers' slope alone, 0 -> 5 looked like one
    # drifting "plateau"; each of 0..5 must come out on its own, flat to 1e-3.
    x = np.linspace(0.0, 10.0, 2001)
    centres = [1.0, 2.5, 3.8, 4.9, 5.8, 6.5, 8.0, 8.3, 8.6]
    widths = [0.04, 0.035, 0.03, 0.025, 0.02, 0.015, 0.003, 0.002, 0.002]
    g = sum(scipy.special.expit((x - c) / w) for c, w in zip(centres, widths))
    plateaus = find_plateaus(x, g)
    assert [p.index for p in plateaus][:7] == [0, 1, 2, 3, 4, 5, 6]
    assert max(p.flatness for p in plateaus) < 0.25
    assert max(abs(p.deviation) for p in plateaus) < 1e-3


def test_steps_positions_and_widths():
    # Step n crosses G = n - 1/2 at x0 - hw_y (n - 1/2); 25-75 % width = ln 3 hw_x / pi.
    x = np.linspace(0.0, 14.0, 2801)
    hw_x, hw_y, x0 = 0.5, 3.0, 13.0
    steps = find_steps(x, buttiker_conductance(x, hw_x, hw_y, x0))
    for s in steps[:4]:
        assert s.position == pytest.approx(x0 - hw_y * (s.n - 0.5), abs=0.01)
        assert s.width == pytest.approx(np.log(3) * hw_x / np.pi, rel=0.02)


def test_plateau_detection_on_simulated_trace():
    result = qpcsim.sweep(qpcsim.load_geometry("qpc_split_gate"), {"Vg": np.linspace(-1.5, -0.7, 81)},
                          energy=8.0, workers=1, progress=False)
    plateaus = find_plateaus(result["Vg"].values, result.conductance.values)
    assert [p.index for p in plateaus][:3] == [0, 1, 2]
    assert all(abs(p.deviation) < 0.01 for p in plateaus)


def test_buttiker_fit_recovers_saddle_frequencies():
    # Simulated saddle QPC (a = 2.5 nm); the fit must return hw_x, hw_y within 5 %.
    hw_x, hw_y = 0.8, 2.5
    dev = qpcsim.load_geometry("qpc_saddle", a=2.5, W=240.0, L=480.0, hw_x=hw_x, hw_y=hw_y)
    gates = np.linspace(1.0, 9.5, 86)
    result = qpcsim.sweep(dev, {"V0": gates}, energy=9.0, workers=2, progress=False)
    fit = fit_buttiker(gates, result.conductance.values, max_conductance=3.5)
    assert fit.hw_x == pytest.approx(hw_x, rel=0.05)
    assert fit.hw_y == pytest.approx(hw_y, rel=0.05)
    assert fit.x0 == pytest.approx(9.0, abs=0.1)      # for a V0 sweep x0 is E_F
    assert fit.hw_x_err < 0.05 and fit.hw_y_err < 0.05


def test_buttiker_fit_refuses_wrong_lever_arm_sign():
    """A synthetic split-gate-like trace, G rising with the gate (lever arm -0.5 meV per
    unit): the right sign recovers hw_x = 0.8, hw_y = 2.5 meV; the wrong one used to
    return hw_x ~ 2e7 meV silently and is now refused."""
    from qpcsim.analysis import buttiker_conductance
    x = np.linspace(5.0, 25.0, 201)
    g = buttiker_conductance(x, 0.8, 2.5, 5.0, lever_arm=-0.5)
    fit = fit_buttiker(x, g, lever_arm=-0.5, max_conductance=3.5,
                       guess={"hw_x": 1.0, "hw_y": 2.0, "x0": 4.0})
    assert fit.hw_x == pytest.approx(0.8, rel=1e-3) and fit.hw_y == pytest.approx(2.5, rel=1e-3)
    with pytest.raises(ValueError, match=r"lever_arm=0.5 has the wrong sign for this sweep: G "
                                         r"rises with the gate .* must be negative"):
        fit_buttiker(x, g, lever_arm=0.5, max_conductance=3.5)


def test_fit_bad_input():
    with pytest.raises(ValueError, match="at least two conductance steps"):
        fit_buttiker(np.linspace(0, 1, 20), np.ones(20))
    with pytest.raises(ValueError, match="at least 5 are needed"):
        find_plateaus([0, 1, 2], [0, 1, 2])


@pytest.mark.parametrize("error, expected", [(0.0101, 6), (0.0026, 11), (0.0401, 4)])
def test_optimal_sample_count_of_a_parabola(error, expected):
    # g = x^2 on [0, 1]: a chord over width h deviates by at most h^2 / 4, so the
    # fewest samples are ceil(1 / sqrt(4 error)) + 1 (h = 0.2, 0.1, 0.33 here).
    x = np.linspace(0.0, 1.0, 1201)
    assert optimal_sample_count(x, x**2, error) == expected
    assert optimal_sample_count(x, 3.0 * x - 1.0, error) == 2     # a line: its end points


def test_optimal_sample_count_bad_input():
    x = np.linspace(0.0, 1.0, 11)
    with pytest.raises(ValueError, match=r"error=0.0 G0 is not allowed: it must be > 0"):
        optimal_sample_count(x, x, 0)
    with pytest.raises(ValueError, match="x has repeated values"):
        optimal_sample_count(np.r_[x, 0.5], np.r_[x, 0.5], 0.1)
    with pytest.raises(ValueError, match=r"conductance contains non-finite values \(NaN or inf\) "
                                         r"at \[3\]"):
        optimal_sample_count(x, np.where(np.arange(11) == 3, np.nan, x), 0.1)
    with pytest.raises(ValueError, match="x has 1 points: at least 2 are needed for a trace"):
        optimal_sample_count([0.0], [0.0], 0.1)


# ------------------------------------------------- analysis that says why (issue 14)
def _staircase(n_points, steps=4):
    x = np.linspace(0, steps + 1, n_points)
    return x, sum(1 / (1 + np.exp(-(x - k - 0.5) / 0.03)) for k in range(1, steps + 1))


def test_plateau_resolution_says_points_per_plateau_at_low_resolution():
    x, g = _staircase(14)
    assert not [p for p in qpcsim.analysis.find_plateaus(x, g) if p.index >= 1]
    msg = qpcsim.analysis.plateau_resolution(x, g)
    assert msg.startswith("G rises through 4 step(s) over 14 points: 2 point(s) per plateau "
                          "(fewest between two risers), need >= 8; use >= 56 points")
    suggested = int(msg.rsplit(">= ", 1)[1].split()[0])
    xs, gs = _staircase(suggested)
    assert qpcsim.analysis.plateau_resolution(xs, gs) == ""   # the advice is enough
    assert {1, 2, 3} <= {p.index for p in qpcsim.analysis.find_plateaus(xs, gs)}
    table = qpcsim.analysis.plateau_table([], "V", msg)
    assert "(no plateaus found: G rises through 4 step(s)" in table


def test_compare_says_too_few_points_instead_of_a_nan_table(small_saddle):
    from qpcsim.physics.compare import compare_disorder
    with pytest.raises(ValueError, match=r"shows no quantized plateau with G >= 1 G0, so plateau "
                                         r"quality cannot be measured: G rises through .* point\(s\) "
                                         r"per plateau"):
        compare_disorder(small_saddle, [1.0], 2, {"V0": np.linspace(0, 8, 6)}, 9.0, workers=1)


# ------------------------------------------- risers too close for a plateau (issue 26)
def _buttiker_staircase(ratio, n_points=4001):
    """Three Büttiker risers T = 1/(1 + exp(-k x)) spaced ``ratio`` 25-75 % widths."""
    k = 2 * np.pi
    s = ratio * 2 * np.log(3) / k
    x = np.linspace(-1.5 * s, 2.5 * s, n_points)
    return x, sum(1 / (1 + np.exp(-k * (x - j * s))) for j in range(3))


@pytest.mark.parametrize("ratio, plateaus, overlapping", [
    (3.3, [0, 3], [2, 3]), (3.45, [0, 1, 2, 3], [])])
def test_riser_overlap_ratio_is_the_buttiker_bound(ratio, plateaus, overlapping):
    # 2 ln 40 / (2 ln 3) = 3.358: below it no point between two risers is flat by
    # find_plateaus' slope criterion, at any resolution (here 4001 points).
    assert abs(qpcsim.analysis.RISER_OVERLAP_RATIO - 3.3578) < 1e-4
    x, g = _buttiker_staircase(ratio)
    assert [p.index for p in qpcsim.analysis.find_plateaus(x, g)] == plateaus
    assert qpcsim.analysis.overlapping_risers(x, g) == overlapping
    assert qpcsim.analysis.plateau_resolution(x, g) == ""     # no "use more points" advice


def test_pinch_off_is_the_half_crossing():
    x, g = _staircase(201)
    assert abs(qpcsim.analysis.pinch_off(x, g) - 1.5) < 1e-3   # first riser at x = 1.5
    assert qpcsim.analysis.pinch_off(x, 0.1 * np.ones_like(x)) is None
