"""Fits of ensemble data: mean free path, localization length, UCF reference.

:func:`fit_mean_free_path` (``<T>(L) = N / (1 + L/l)``, ``l = (pi/2) l_tr`` in 2-D),
:func:`fit_localization_length` (``<ln T> = c - 2L/xi``) and
:func:`predicted_localization_length` (``xi = (beta N + 2 - beta) l``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import validate as _validate

__all__ = ["MeanFreePathFit", "fit_mean_free_path", "LocalizationFit", "fit_localization_length",
           "predicted_localization_length", "UCF_VARIANCE"]


#: Universal conductance fluctuations of a quasi-1-D diffusive wire, var(T):
#: 2/15 for beta = 1 (time-reversal symmetric), 1/15 for beta = 2 (broken by B).
UCF_VARIANCE = {1: 2.0 / 15.0, 2: 1.0 / 15.0}


@dataclass
class MeanFreePathFit:
    """Fit of <T>(L) = N / (1 + L/l).

    Attributes
    ----------
    l : float
        Fitted quasi-1-D mean free path (nm).
    l_stderr : float
        Its standard error (nm), including model misfit: with given standard
        errors the statistical error is scaled by sqrt(chi2_reduced) when the
        data scatter about the model more than their errors allow (Birge ratio).
    l_stderr_stat : float
        The purely statistical error from ``sem_T`` (nm).
    chi2_reduced : float
        sum(((<T> - model) / sem)^2) / (n - 1); ~1 for a good fit.
    max_pull : float
        Largest |<T> - model| / sem (in standard errors).
    l_tr : float
        Transport mean free path 2 l / pi (nm) (2-D relation).
    modes : int
        N, open channels.
    lengths, mean_T, sem_T : ndarray
        The data (nm, -, -).
    """

    l: float
    l_stderr: float
    l_tr: float
    modes: int
    lengths: np.ndarray
    mean_T: np.ndarray
    sem_T: np.ndarray
    l_stderr_stat: float = float("nan")
    chi2_reduced: float = float("nan")
    max_pull: float = float("nan")

    def model(self, lengths) -> np.ndarray:
        """N / (1 + L/l) at ``lengths`` (nm)."""
        return self.modes / (1.0 + np.asarray(lengths, dtype=float) / self.l)


def fit_mean_free_path(lengths, mean_T, modes: int, sem_T=None) -> MeanFreePathFit:
    """Fit ``<T>(L) = N/(1 + L/l)`` (one parameter, l in the units of ``lengths``).

    Uses the linear form ``N/<T> - 1 = L/l`` weighted by the standard errors,
    then ``scipy.optimize.curve_fit`` on the original form. With ``sem_T`` the
    reported error includes the model misfit (scaled by sqrt(chi2_reduced)
    when that exceeds 1); ``max_pull`` flags single points off the model.

    Parameters
    ----------
    lengths : array_like
        Wire lengths (nm).
    mean_T : array_like
        Ensemble-mean transmissions (dimensionless).
    modes : int
        Open channels N.
    sem_T : array_like, optional
        Standard errors of ``mean_T``.
    """
    import scipy.optimize
    L, T = _lengths_and_values(lengths, "mean_T", mean_T, "<T>")
    N = _validate.positive_int("modes", modes)
    if np.any(T <= 0) or np.any(T > N):
        raise ValueError(f"<T> must lie in (0, N={N}] for the fit; got {T}")
    sem = np.full_like(T, 1e-3) if sem_T is None else _standard_errors("sem_T", sem_T, L.shape)
    guess = float(np.sum(L**2) / np.sum(L * (N / T - 1.0)))
    popt, pcov = scipy.optimize.curve_fit(lambda x, l: N / (1.0 + x / l), L, T, p0=[guess],
                                          sigma=sem, absolute_sigma=sem_T is not None)
    l = float(popt[0])
    stat = float(np.sqrt(pcov[0, 0]))
    pulls = (T - N / (1.0 + L / l)) / sem
    chi2 = float(np.sum(pulls**2) / (L.size - 1)) if L.size > 1 else float("nan")
    # absolute errors: the misfit widens the error (never narrows it); without errors
    # curve_fit has already scaled the covariance by the residuals
    err = stat * math.sqrt(max(chi2, 1.0)) if sem_T is not None else stat
    return MeanFreePathFit(l=l, l_stderr=err, l_tr=2 * l / math.pi,
                           modes=N, lengths=L, mean_T=T, sem_T=np.asarray(sem),
                           l_stderr_stat=stat, chi2_reduced=chi2,
                           max_pull=float(np.abs(pulls).max()))


@dataclass
class LocalizationFit:
    """Fit of <ln T>(L) = c - 2 L / xi.

    Attributes
    ----------
    xi, xi_stderr : float
        Localization length and its standard error (units of the lengths).
    intercept : float
        c (dimensionless).
    """

    xi: float
    xi_stderr: float
    intercept: float
    lengths: np.ndarray
    mean_lnT: np.ndarray


def fit_localization_length(lengths, mean_lnT, sem_lnT=None) -> LocalizationFit:
    """Linear fit of ``<ln T>`` vs L in the localized regime: slope = -2/xi."""
    L, y = _lengths_and_values(lengths, "mean_lnT", mean_lnT, "<ln T>")
    w = None if sem_lnT is None else 1.0 / _standard_errors("sem_lnT", sem_lnT, L.shape)
    if w is not None:              # the given errors set the covariance, at any point count
        (slope, c), cov = np.polyfit(L, y, 1, w=w, cov="unscaled")
    elif L.size > 2:               # scaled by the residuals
        (slope, c), cov = np.polyfit(L, y, 1, cov=True)
    else:                          # two points and no errors: the error is not known
        (slope, c), cov = np.polyfit(L, y, 1), np.full((2, 2), np.nan)
    if slope >= 0:
        raise ValueError(f"<ln T> does not decrease with L (slope {slope:.3g}): the wire is not "
                         "localized; make it longer or the disorder stronger")
    xi = -2.0 / slope
    return LocalizationFit(xi=xi, xi_stderr=float(2 * math.sqrt(abs(cov[0, 0])) / slope**2),
                           intercept=float(c), lengths=L, mean_lnT=y)


def _lengths_and_values(lengths, name: str, values, what: str):
    """``lengths`` (nm) and ``values`` as finite 1-D float arrays of one shape, with at least
    two distinct lengths (a fit against L needs them), else a one-line ValueError."""
    L = _validate.finite_sequence("lengths", lengths, "nm")
    y = _validate.finite_sequence(name, values, what)
    if L.shape != y.shape:
        raise ValueError(f"{name} of shape {y.shape} is not allowed: give one {what} per length, "
                         f"shape {L.shape}")
    if np.unique(L).size < 2:
        raise ValueError(f"lengths={lengths!r} is not allowed: a fit against L needs at least 2 "
                         "different lengths")
    return L, y


def _standard_errors(name: str, given, shape) -> np.ndarray:
    """Standard errors ``given``: finite, > 0, one per length, else a one-line ValueError (a
    negative one was clipped to 1e-9 and shrank the error bar by 1e7)."""
    sem = _validate.finite_sequence(name, given, "same unit as the values")
    if sem.shape != shape or np.any(sem <= 0):
        raise ValueError(f"{name}={given!r} is not allowed: give one standard error > 0 per "
                         f"length ({shape[0]})")
    return sem


def predicted_localization_length(modes: int, l: float, beta: int = 1) -> float:
    """xi = (beta N + 2 - beta) l, with l the quasi-1-D mean free path of
    <T> = N/(1 + L/l) (Beenakker, Rev. Mod. Phys. 69, 731 (1997))."""
    if beta not in (1, 2, 4):
        raise ValueError(f"beta={beta!r} is not allowed: use 1, 2 or 4")
    modes = _validate.positive_int("modes", modes)
    return (beta * modes + 2 - beta) * _validate.positive("l", l)

