"""Ensemble fits (qpcsim.physics.fits)."""
import math

import numpy as np
import pytest

import qpcsim


def test_mean_free_path_error_includes_model_misfit():
    """<T> = N/(1 + L/l), N = 6, l = 50 nm, sem 0.01 at L = 100..400 nm, with the L = 300 point
    moved 4.7 sigma off the model (as in the issue's ensemble): the error is scaled by
    sqrt(chi2_reduced) (Birge ratio) and the outlier reported; on exact data it stays the
    statistical one."""
    L = np.array([100.0, 200.0, 300.0, 400.0])
    sem = np.full(4, 0.01)
    exact = 6 / (1 + L / 50.0)
    clean = qpcsim.fit_mean_free_path(L, exact, 6, sem)
    assert clean.l == pytest.approx(50.0, rel=1e-9)
    assert clean.l_stderr == pytest.approx(clean.l_stderr_stat) and clean.chi2_reduced < 1e-12
    off = exact.copy()
    off[2] += 4.7 * sem[2]
    fit = qpcsim.fit_mean_free_path(L, off, 6, sem)
    assert fit.max_pull > 3.0
    assert fit.chi2_reduced > 4.0
    assert fit.l_stderr == pytest.approx(fit.l_stderr_stat * math.sqrt(fit.chi2_reduced))
    assert fit.l_stderr > 2 * fit.l_stderr_stat
    # the misfit-inclusive error covers the bias of the fitted l
    assert abs(fit.l - 50.0) < 2 * fit.l_stderr


@pytest.mark.parametrize("call, match", [
    (lambda: qpcsim.fit_localization_length([100.0, 200.0], [-1.0, -2.0, -3.0]),
     r"mean_lnT of shape \(3,\) is not allowed: give one <ln T> per length, shape \(2,\)"),
    # a non-integer N was truncated (2.7 -> 2: l = 300 nm without a word)
    (lambda: qpcsim.fit_mean_free_path([100, 200, 300], [1.5, 1.2, 1.0], 2.7),
     "modes=2.7 is not allowed: it must be a whole number"),
    # a negative standard error was clipped to 1e-9: the error bar shrank by 1e7
    (lambda: qpcsim.fit_mean_free_path([100, 200, 300], [1.5, 1.2, 1.0], 2, [-0.01] * 3),
     r"sem_T=\[-0.01, -0.01, -0.01\] is not allowed: give one standard error > 0 per length"),
    (lambda: qpcsim.fit_localization_length([100, 200, 300], [-1, -2, -3], [-0.1] * 3),
     r"sem_lnT=\[-0.1, -0.1, -0.1\] is not allowed: give one standard error > 0"),
    (lambda: qpcsim.fit_mean_free_path([100, 200, 300], [1.5, 1.2, 1.0], 2, [0.01] * 2),
     "sem_T=.* is not allowed: give one standard error > 0 per length \\(3\\)"),
    # NumPy's LinAlgError and "array must not contain infs or NaNs" before
    (lambda: qpcsim.fit_localization_length([100, 100, 100], [-1, -2, -3]),
     "a fit against L needs at least 2 different lengths"),
    (lambda: qpcsim.fit_mean_free_path([100, float("nan"), 300], [1.5, 1.2, 1.0], 2),
     "lengths=.* is not allowed: give a non-empty 1-D sequence of finite numbers"),
    (lambda: qpcsim.fit_mean_free_path([100, 200, 300], [1.5, float("inf"), 1.0], 2),
     "mean_T=.* is not allowed: give a non-empty 1-D sequence of finite numbers"),
    (lambda: qpcsim.predicted_localization_length(0, 100.0), "modes=0 is not allowed"),
    (lambda: qpcsim.predicted_localization_length(3, -1.0), "l=-1.0 is not allowed"),
])
def test_fits_refuse_inconsistent_input_in_one_line(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_localization_length_error_of_two_points():
    """Two lengths: with standard errors the slope's error is theirs, sqrt(2) sigma / dL, so
    xi_stderr = 2 sqrt(2) sigma / (dL slope^2) (1e-12); without them it is not known: NaN (it
    was 0)."""
    L, y, sigma = [100.0, 200.0], [-1.0, -2.2], 0.1
    slope = (y[1] - y[0]) / (L[1] - L[0])
    fit = qpcsim.fit_localization_length(L, y, [sigma, sigma])
    assert fit.xi == pytest.approx(-2 / slope, rel=1e-12)
    assert fit.xi_stderr == pytest.approx(2 * math.sqrt(2) * sigma / (100.0 * slope**2),
                                          rel=1e-12)
    assert math.isnan(qpcsim.fit_localization_length(L, y).xi_stderr)
