"""The solver layer: conductance, transmission eigenvalues and S-matrix checks.

``solve(device, energy, **params)`` is the one entry point. It validates the
input in physical units, picks a back end from :mod:`qpcsim.backends` and
returns a :class:`TransportResult`:

* ``"auto"`` (default): the fast path where it applies, with the back end of
  the fixed size rule :func:`qpcsim.backends.choose_backend` (``rgf`` or the
  MUMPS Schur complements, ``mumps-sigma`` wherever it is cheaper; the mirror
  back ends at symmetric points: ``FastSolver``), otherwise ``kwant``;
* ``"fast"``: the fast path's choice, never Kwant;
* any registered back end by name (``qpcsim.backends.registered()``:
  ``mumps``, ``mumps-sigma``, ``rgf``, ``rgf-mirror``, ``rgf-parity``,
  ``rgf-sigma``, ``scipy``, ``kwant``); ``kwant`` is plain ``kwant.smatrix`` on
  ``device.build()``, the reference.

Every solve checks unitarity of the full S-matrix, max|S^dagger S - 1|, and
raises :class:`UnitarityError` above 1e-8.

Finite temperature: ``G(T, mu) = int G(E) (-df/dE) dE``. Default
(``thermal="grid"``): the shared energy grid of :mod:`qpcsim.spectral`, nested
uniform (trapezoidal) ladders through E_F (17 energies at 1 K, the same nodes at
every gate point so the lead modes are computed once per energy), checked for
convergence on three nested levels and refined adaptively where T(E) has
features narrower than the node spacing (resonances; :mod:`qpcsim.spectral.refine`)
until the error estimate ``result.thermal_error`` is below ``thermal_tolerance``;
the spectral data in ``result.spectrum`` (noise, thermopower, ... without new
solves). ``thermal="adaptive"``: adaptive Gauss-Kronrod quadrature
(``scipy.integrate.quad_vec``) over mu +- 25 kT with breakpoints at the lead
subband thresholds; error target 1e-5, tested below 1e-4 G0 against the exact
Fermi-smeared staircase of a clean wire (kept for validation).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import kwant.solvers.default
import numpy as np
import scipy.integrate

from . import validate as _validate
from .backends import solver_context
from .observables import OBSERVABLES
from .sanity import check_parameter_magnitudes, warn_inputs
from .scattering import (
    MIN_POINTS_PER_WAVELENGTH,
    UNITARITY_TOLERANCE,
    UnitarityError,
    check_energy,
    check_method,
    check_unitarity,
    runs_fast_path,
    scattering_matrix,
    smatrix_observables,
    solver_label,
)
from .spectral.bands import lead_thresholds
from .spectral.compute import compute_spectrum, device_grid, node_solver
from .spectral.refine import (
    DEFAULT_REFINEMENT_BUDGET,
    DEFAULT_THERMAL_TOLERANCE,
    ThermalResolutionError,
    check_thermal_options,
    kinks_counted,
    ladder_resolves,
    refine_spectrum,
    threshold_kinks,
)
from .superconductivity import ANDREEV_THERMAL_TOLERANCE
from .terminals import resistance, spin_factor_of
from .units import G0_SIEMENS, thermal_energy_meV

# scattering_matrix, smatrix_observables, check_unitarity, check_energy, lead_thresholds,
# UnitarityError and the two constants live in .scattering / .spectral.bands (under both
# this module and the spectral layer) and are re-exported here, their public home.
__all__ = ["solve", "TransportResult", "UnitarityError", "solver_backend", "UNITARITY_TOLERANCE",
           "scattering_matrix", "smatrix_observables", "check_unitarity", "check_energy",
           "lead_thresholds", "refine_thermal",
           "MIN_POINTS_PER_WAVELENGTH"]

#: Thermal window: the Fermi window's weight beyond |E - mu| = 25 kT is 2e-11.
_THERMAL_WINDOW_KT = 25.0
#: Absolute error target of the thermal quadrature (in units of e^2/h per spin
#: channel); the tests hold the true error below 1e-4 G0.
THERMAL_QUADRATURE_TOL = 1e-5


#: k_B T below this fraction of the Fermi energy is the zero-temperature limit: the Fermi
#: window's width is then below the rounding of E itself.
_NEGLIGIBLE_KT = 1e-12


@dataclass
class TransportResult:
    """Result of one solve.

    Attributes
    ----------
    energy : float
        Fermi energy (meV), measured from the band bottom of the 2DEG.
    temperature : float
        Temperature (K).
    params : dict
        Every device parameter used (physical units).
    transmission : float
        Total transmission from lead 0 (left) into lead 1 (right), summed over
        modes (and spins when resolved). Thermally averaged when T > 0.
    transmission_reverse : float
        Same from lead 1 into lead 0 (equal to ``transmission`` at B = 0).
    conductance : float
        Two-terminal conductance in units of G0 = 2e^2/h.
    transmission_eigenvalues : ndarray
        Eigenvalues of t^dagger t at the Fermi energy, sorted descending
        (spin-resolved when the device has Zeeman splitting).
    open_modes : tuple of int
        Propagating modes in (lead 0, lead 1) at the Fermi energy.
    unitarity_error : float
        max|S^dagger S - 1| (largest over the thermal quadrature nodes at T > 0).
    solver : str
        Back end that ran: ``fast-<name>`` for a fast-path back end (``fast-mumps-sigma``,
        ``fast-rgf``, ``fast-rgf-sigma``, ...), or ``kwant``.
    smatrix : ndarray
        Full S-matrix at the Fermi energy (Kwant's mode order and normalization).
    conductance_matrix : ndarray (N, N)
        Landauer-Büttiker conductance matrix of the N leads in units of
        G0 = 2e^2/h, Kwant's convention (``SMatrix.conductance_matrix``): I = G V,
        G_ij = N_i delta_ij - T_ij; with resolved spins each spin channel
        counts e^2/h = G0/2. Thermally averaged entry by entry when T > 0.
    terminals : tuple of str
        Lead names, in the order of the matrix (``device.terminals``).
    """

    energy: float
    temperature: float
    params: dict
    transmission: float
    transmission_reverse: float
    conductance: float
    transmission_eigenvalues: np.ndarray
    open_modes: tuple
    unitarity_error: float
    solver: str
    smatrix: np.ndarray = field(repr=False)
    spin_degenerate: bool = True
    #: Error estimate of the thermal average (transmission units; 0 at T = 0).
    thermal_error: float = 0.0
    #: Spectral data on the shared energy grid (``thermal="grid"``, T > 0), else None.
    spectrum: object = field(default=None, repr=False)
    conductance_matrix: np.ndarray = field(default=None, repr=False)
    terminals: tuple = ()

    def resistance(self, current, voltage) -> float:
        """Four-terminal resistance R = (V_a - V_b)/I in units of h/e^2 for a current
        from ``current[0]`` to ``current[1]``, voltage between ``voltage = (a, b)``;
        terminals by name or index (Büttiker, PRL 57, 1761 (1986); see
        :func:`qpcsim.terminals.resistance`)."""
        return float(resistance(self.conductance_matrix, current, voltage,
                                self.terminals or None))

    @property
    def conductance_siemens(self) -> float:
        """Conductance in siemens."""
        return self.conductance * G0_SIEMENS

    def __getattr__(self, name):
        # Any entry of the observables table is an attribute (computed on access).
        if not name.startswith("_"):
            for entry in OBSERVABLES:
                if entry.name == name:
                    return entry.extract(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def observables(self) -> dict:
        """Every entry of :data:`qpcsim.observables.OBSERVABLES` for this solve."""
        return {entry.name: entry.extract(self) for entry in OBSERVABLES}


def solver_backend() -> str:
    """Which sparse solver Kwant's default solver uses here: ``"MUMPS"`` or ``"SciPy"``."""
    module = type(kwant.solvers.default.smatrix.__self__).__module__
    return "MUMPS" if module.endswith("mumps") else "SciPy"


def solve(device, energy: float, *, temperature: float = 0.0, method: str = "auto",
          thermal: str = "grid", thermal_tolerance: float = DEFAULT_THERMAL_TOLERANCE,
          refinement_budget: int = DEFAULT_REFINEMENT_BUDGET, **params) -> TransportResult:
    """Conductance and transmission of ``device`` at Fermi energy ``energy``.

    Parameters
    ----------
    device : qpcsim.Device
        The device (built on first use, then cached).
    energy : float
        Fermi energy (meV), measured from the 2DEG band bottom; must resolve
        lambda_F on the lattice. Below the first lead mode no channel is open:
        G = 0 and ``open_modes == (0, 0)``.
    temperature : float
        Temperature (K); 0 for the zero-temperature Landauer formula.
    method : str
        ``"auto"``, ``"fast"`` or a registered back end
        (``qpcsim.backends.registered()``); see the module docstring.
    thermal : {"grid", "adaptive"}
        Finite-temperature quadrature: the shared spectral grid (default) or
        adaptive Gauss-Kronrod (validation).
    thermal_tolerance : float
        Target error of the thermal average (G0 per spin-degenerate channel; default
        1e-4): where the grid's nodes do not resolve T(E) to it (a resonance narrower
        than the node spacing), the grid is refined (:mod:`qpcsim.spectral.refine`).
    refinement_budget : int
        Most S-matrix solves of one finite-T point (default 400; at least the initial
        grid's size). A point not resolved within it raises
        :class:`~qpcsim.spectral.refine.ThermalResolutionError` naming the energy window.
    **params
        Device parameters by name (their units are in ``device.units``);
        unknown names raise ValueError listing the known ones.

    Returns
    -------
    TransportResult

    Examples
    --------
    >>> import qpcsim
    >>> dev = qpcsim.load_geometry("geometries/qpc_saddle.py")
    >>> qpcsim.solve(dev, energy=10.0, V0=5.0).conductance   # doctest: +SKIP
    """
    check_method(method)
    resolved = _validate.device("device", device).resolve_params(params)
    energy = check_energy(device, energy, resolved)
    temperature = _validate.non_negative("temperature", temperature, "K")
    if thermal not in ("grid", "adaptive"):
        raise ValueError(f"thermal={thermal!r} is not allowed: use 'grid' or 'adaptive'")
    thermal_tolerance, refinement_budget = check_thermal_options(thermal_tolerance,
                                                                 refinement_budget)
    check_parameter_magnitudes(resolved, device.units)
    warn_inputs(device, energy, temperature, resolved)
    if not runs_fast_path(device, method):
        # Kwant evaluates the potential inside its own call stack: check it here
        # first so a non-finite landscape gives a clear error. (The fast path's
        # one vectorized evaluation per point does this check itself.)
        device.potential_at(*device.site_positions_nm(), resolved)

    smat = scattering_matrix(device, energy, resolved, method)
    result = _zero_temperature(device, smat, energy, resolved, temperature)
    kT = thermal_energy_meV(temperature)
    if kT < _NEGLIGIBLE_KT * max(abs(energy), 1.0):
        # A Fermi window narrower than float rounding of E is the T = 0 limit (a grid
        # over it would have zero width).
        return result
    return _finite_temperature(device, result, kT, method, thermal, thermal_tolerance,
                               refinement_budget)


def _zero_temperature(device, smat, energy: float, params: dict,
                      temperature: float) -> TransportResult:
    """The result of the solve at E_F (the answer at T = 0), unitarity checked."""
    transmission, transmission_rev, eig, unitarity = smatrix_observables(smat)
    check_unitarity(unitarity, energy, params)
    spin_factor = spin_factor_of(device)
    own = device.transport_observables(smat.data, smat.nprop, energy, params)
    if own is not None:   # a device with its own observables (superconductivity.BdGDevice)
        transmission, transmission_rev, eig = own
        # Quasiparticle blocks are not currents: the two-terminal G_NS with I = G (V_N - V_S).
        gmat = spin_factor * transmission * np.array([[1.0, -1.0], [-1.0, 1.0]])
    else:
        gmat = smat.conductance_matrix(spin_factor)
    return TransportResult(
        energy=energy, temperature=temperature, params=params,
        transmission=transmission, transmission_reverse=transmission_rev,
        conductance=spin_factor * transmission, transmission_eigenvalues=eig,
        open_modes=smat.nprop, unitarity_error=unitarity, solver=solver_label(smat),
        smatrix=smat.data, spin_degenerate=not device.zeeman,
        conductance_matrix=gmat, terminals=tuple(device.terminals))


def _finite_temperature(device, result: TransportResult, kT: float, method: str,
                        thermal: str, tolerance: float, budget: int) -> TransportResult:
    """``result`` (the solve at E_F) averaged over the Fermi window of width ``kT`` (meV)."""
    energy, temperature, params = result.energy, result.temperature, result.params
    unitarity, spin_factor = result.unitarity_error, spin_factor_of(device)
    spec = None
    if device.has_own_observables:
        # A BdG device: its own observables averaged over +-E (superconductivity.py).
        transmission, transmission_rev, worst, thermal_error = _andreev_thermal_average(
            device, energy, kT, params, method, min(tolerance, ANDREEV_THERMAL_TOLERANCE),
            budget)
        return dataclasses.replace(
            result, transmission=transmission, transmission_reverse=transmission_rev,
            conductance=spin_factor * transmission, unitarity_error=max(unitarity, worst),
            thermal_error=thermal_error,
            conductance_matrix=spin_factor * transmission * np.array([[1.0, -1.0], [-1.0, 1.0]]))
    if len(result.open_modes) > 2:
        # Several terminals: every G_ij averaged over the Fermi window (adaptive quadrature).
        gmat, unitarity, gmat_error = _thermal_conductance_matrix(
            device, energy, kT, params, method, unitarity, spin_factor)
        transmission = -gmat[1, 0] / spin_factor
        return dataclasses.replace(
            result, transmission=transmission, transmission_reverse=-gmat[0, 1] / spin_factor,
            conductance=spin_factor * transmission, unitarity_error=unitarity,
            thermal_error=gmat_error / spin_factor,   # the quadrature's own estimate
            conductance_matrix=gmat)
    if thermal == "adaptive":
        transmission, transmission_rev, unitarity = _thermal_average(
            device, energy, kT, params, method, unitarity)
        thermal_error = THERMAL_QUADRATURE_TOL
    else:
        known = {float(energy): (result.transmission, result.transmission_reverse,
                                 result.transmission_eigenvalues, unitarity)}
        spec = _spectral_average(device, energy, temperature, params, method, known=known,
                                 tolerance=tolerance, budget=budget)
        transmission = spec.thermal("transmission", temperature)
        transmission_rev = spec.thermal("transmission_reverse", temperature)
        thermal_error = spec.thermal_error("transmission", temperature)
        unitarity = max(unitarity, spec.unitarity_error)
    # Two leads: G_00 = T(1 <- 0), G_11 = T(0 <- 1) at every energy (unitarity).
    gmat = spin_factor * np.array([[transmission, -transmission_rev],
                                   [-transmission, transmission_rev]])
    return dataclasses.replace(
        result, transmission=transmission, transmission_reverse=transmission_rev,
        conductance=spin_factor * transmission, unitarity_error=unitarity,
        thermal_error=thermal_error, spectrum=spec, conductance_matrix=gmat)


def _spectral_average(device, energy: float, temperature: float, params: dict, method: str,
                      known=None, tolerance: float = DEFAULT_THERMAL_TOLERANCE,
                      budget: int = DEFAULT_REFINEMENT_BUDGET):
    """Spectral data on the shared grid of (energy, temperature, lead parameters), the
    grid kept in the device's solver context so every gate point of a sweep uses the same
    nodes, refined where it does not resolve T(E) to ``tolerance`` (:func:`refine_thermal`).
    ``known``: the solve at E_F (a node of the trapezoidal grid), not repeated."""
    grids = solver_context(device).grids
    key = (energy, temperature) + tuple(float(params[k]) for k in device.lead_parameters)
    grid = grids.get(key)
    if grid is None:
        grid = grids[key] = device_grid(device, energy, [temperature], params=params)
    check_thermal_options(tolerance, budget, grid.size)
    spec = compute_spectrum(device, grid, params, method, known=known)
    return refine_thermal(device, spec, params, method, tolerance, budget)


def refine_thermal(device, spec, params: dict, method: str, tolerance: float, budget: int):
    """``spec`` refined where its nodes do not resolve T(E) to ``tolerance`` (transmission
    units; see :mod:`qpcsim.spectral.refine`). A ladder kept as it is comes back as a copy
    marked ``ladder_tested`` (with its lead-threshold kink samples, three solves each,
    counted in ``solves``): its ``thermal_error`` is then the sum of its own error
    estimate, the three-level convergence test and the kink term of the lead thresholds
    inside it."""
    solve_nodes = node_solver(device, params, method)
    # the kink samples only where the ladder may be kept: a refined grid has no ladder
    kinks = threshold_kinks(spec, solve_nodes, tolerance) if ladder_resolves(spec,
                                                                             tolerance) else None
    refined = refine_spectrum(spec, solve_nodes, tolerance=tolerance, budget=budget, kinks=kinks)
    if refined is spec and spec.grid.rule == "trapezoid":
        kept = spec if kinks is None else kinks_counted(spec, kinks)
        return dataclasses.replace(kept, ladder_tested=True, kinks=kinks)
    return refined


def _checked_smatrix(device, energy: float, params: dict, method: str):
    """The S-matrix at ``energy`` (meV), unitarity checked."""
    smat = scattering_matrix(device, energy, params, method)
    check_unitarity(smat.unitarity_error, energy, params)
    return smat


def _fermi_window_weight(energy: float, mu: float, kT: float) -> float:
    """-df/dE at ``energy`` for chemical potential ``mu`` and ``kT`` (meV)."""
    return 1.0 / (4.0 * kT * np.cosh((energy - mu) / (2.0 * kT)) ** 2)


def _thermal_conductance_matrix(device, mu: float, kT: float, params: dict, method: str,
                                unitarity: float, spin_factor: float):
    """Fermi-window average of the whole conductance matrix, int G_ij(E) (-df/dE) dE,
    by the adaptive quadrature of :func:`_thermal_average` (no thresholds known for
    several leads in a field: plain adaptive refinement)."""
    worst = [unitarity]
    n = len(device.lead_systems()[0])

    def integrand(energy):
        weight = _fermi_window_weight(energy, mu, kT)
        if energy <= 0 or weight == 0.0:
            return np.zeros((n, n))
        smat = _checked_smatrix(device, energy, params, method)
        worst[0] = max(worst[0], smat.unitarity_error)
        return weight * smat.conductance_matrix(spin_factor)

    lo, hi = mu - _THERMAL_WINDOW_KT * kT, mu + _THERMAL_WINDOW_KT * kT
    value, error, info = scipy.integrate.quad_vec(
        integrand, lo, hi, epsabs=THERMAL_QUADRATURE_TOL, epsrel=0, norm="max", limit=4000,
        quadrature="gk15", full_output=True)
    if not info.success or not error <= THERMAL_QUADRATURE_TOL:
        # Never a number outside its tolerance: say which window was not resolved.
        raise ThermalResolutionError(
            f"the Fermi window [{lo:.6g}, {hi:.6g}] meV (mu = {mu:g} meV, kT = {kT:.3g} meV) of "
            f"the conductance matrix is not resolved: quadrature error estimate {error:.2g} G0 "
            f"> {THERMAL_QUADRATURE_TOL:g} after {info.neval} solves")
    return np.asarray(value), worst[0], float(error)


def _thermal_average(device, mu: float, kT: float, params: dict, method: str,
                     unitarity: float):
    """Fermi-window average of (T_LR, T_RL): int T(E) (-df/dE) dE.

    Adaptive Gauss-Kronrod (``scipy.integrate.quad_vec``) over mu +- 25 kT (the
    window's weight beyond is 2e-11), with breakpoints at the lead subband
    thresholds, where T(E) has steps or square-root kinks and would otherwise
    stall the quadrature. Energies below the first lead mode carry no current.
    """
    lo, hi = mu - _THERMAL_WINDOW_KT * kT, mu + _THERMAL_WINDOW_KT * kT
    points = [e for e in lead_thresholds(device, params) if lo < e < hi]
    worst = [unitarity]

    def integrand(energy):
        weight = _fermi_window_weight(energy, mu, kT)
        if energy <= 0 or weight == 0.0:
            return np.zeros(2)
        t_lr, t_rl, _, err = smatrix_observables(_checked_smatrix(device, energy, params,
                                                                  method))
        worst[0] = max(worst[0], err)
        return weight * np.array([t_lr, t_rl])

    value, _ = scipy.integrate.quad_vec(integrand, lo, hi, epsabs=THERMAL_QUADRATURE_TOL,
                                        epsrel=0, norm="max", points=points or None, limit=4000,
                                        quadrature="gk15")
    return float(value[0]), float(value[1]), worst[0]


def _andreev_thermal_average(device, energy_meV: float, kT: float, params: dict, method: str,
                             tolerance: float, budget: int):
    """(G_NS/G0, quasiparticle T(0 <- 1), worst unitarity error, error estimate) of a BdG
    device averaged over its Fermi window, int dE (-df/dE)(E - energy) X(E) at ``kT``
    (meV): one solve per E (Gauss-Kronrod, adaptive, breakpoints from the device's
    ``thermal_breakpoints``). Raises ThermalResolutionError when the estimate exceeds
    ``tolerance`` (G0; the solver passes the user's, at most
    :data:`~qpcsim.superconductivity.ANDREEV_THERMAL_TOLERANCE`) or the quadrature needs
    more than ``budget`` solves."""
    lo, hi, points = device.thermal_breakpoints(energy_meV, kT, params)
    worst = [0.0]

    def integrand(energy):
        weight = _fermi_window_weight(energy, energy_meV, kT)
        smat = _checked_smatrix(device, energy, params, method)
        worst[0] = max(worst[0], smat.unitarity_error)
        g_ns, t_rev, _ = device.transport_observables(smat.data, smat.nprop, energy, params)
        return weight * np.array([g_ns, t_rev])

    value, error, info = scipy.integrate.quad_vec(
        integrand, lo, hi, epsabs=0.5 * tolerance, epsrel=0, norm="max",
        points=points, limit=2000, quadrature="gk15", full_output=True)
    if not info.success or not error <= tolerance or info.neval > budget:
        raise ThermalResolutionError(
            f"the Fermi window [{lo:.6g}, {hi:.6g}] meV (kT = {kT:.3g} meV) of the Andreev "
            f"conductance is not resolved within thermal_tolerance={tolerance:g} G0 and "
            f"refinement_budget={budget} solves: error estimate {error:.2g} G0 after "
            f"{info.neval} solves")
    return float(value[0]), float(value[1]), worst[0], float(error)
