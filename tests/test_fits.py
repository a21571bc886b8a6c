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
    (lambda: qpcsim.predicted_localization_length(0, 100.0), "modes=0 is not allowed"),
    (lambda: qpcsim.predicted_localization_length(3, -1.0), "l=-1.0 is not allowed"),
])
def test_fits_refuse_inconsistent_input_in_one_line(call, match):
    with pytest.raises(ValueError, match=match):
        call()
