"""The solver layer: conductance, transmission eigenvalues and S-matrix checks.

``solve(device, energy, **params)`` is the one entry point. It validates the
input in physical units, picks a back end from :mod:`qpcsim.backends` and
returns a :class:`TransportResult`:

* ``"auto"`` (default): the fast path where it applies (the Device's own
  two-lead lattice model), with the back end of the fixed size rule
  :func:`qpcsim.backends.choose_backend` (``mumps`` Schur complement or
  ``rgf``), otherwise ``kwant``;
* ``"fast"``: the fast path's choice, never Kwant;
* any registered back end by name (``qpcsim.backends.registered()``:
  ``mumps``, ``rgf``, ``rgf-mirror``, ``scipy``, ``kwant``); ``kwant`` is plain
  ``kwant.smatrix`` on ``device.build()``, the reference.

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

from dataclasses import dataclass, field

import numpy as np
import scipy.integrate

from . import validate as _validate
from .backends import (
    AUTO_METHODS,
    FastSolver,
    backend_info,
    create_backend,
    fast_path_applies,
)
from .observables import OBSERVABLES
from .spectral.refine import (
    DEFAULT_REFINEMENT_BUDGET,
    DEFAULT_THERMAL_TOLERANCE,
    ThermalResolutionError,
    check_thermal_options,
)
from .superconductivity import ANDREEV_THERMAL_TOLERANCE
from .terminals import conductance_matrix
from .units import G0_SIEMENS, fermi_wavelength_nm, thermal_energy_meV

__all__ = ["solve", "TransportResult", "UnitarityError", "solver_backend", "UNITARITY_TOLERANCE",
           "scattering_matrix", "smatrix_observables", "check_unitarity", "check_energy",
           "lead_thresholds",
           "MIN_POINTS_PER_WAVELENGTH"]

#: Largest allowed max|S^dagger S - 1|.
UNITARITY_TOLERANCE = 1e-8
#: Smallest allowed lambda_F / a: below it the lattice dispersion deviates from
#: the parabolic band by more than ~20 % and results no longer describe a 2DEG.
MIN_POINTS_PER_WAVELENGTH = 4.0
#: Thermal window: the Fermi window's weight beyond |E - mu| = 25 kT is 2e-11.
_THERMAL_WINDOW_KT = 25.0
#: Absolute error target of the thermal quadrature (in units of e^2/h per spin
#: channel); the tests hold the true error below 1e-4 G0.
THERMAL_QUADRATURE_TOL = 1e-5


#: k_B T below this fraction of the Fermi energy is the zero-temperature limit: the Fermi
#: window's width is then below the rounding of E itself.
_NEGLIGIBLE_KT = 1e-12


class UnitarityError(RuntimeError):
    """The S-matrix is not unitary within tolerance (a numerical failure)."""


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
        Back end that ran: ``fast-mumps``, ``fast-scipy``, ``fast-rgf``, ``fast-rgf-mirror``, ``kwant``.
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
        from .terminals import resistance
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
    import kwant.solvers.default as default
    module = type(default.smatrix.__self__).__module__
    return "MUMPS" if module.endswith("mumps") else "SciPy"


def _backend(device, method: str):
    """The back end for ``method`` on ``device``, created once and cached on it.

    ``auto`` takes the fast path when it applies (two leads defined by modes,
    the Device's own lattice model) and Kwant's solver otherwise.
    """
    if method == "auto":
        method = "fast" if fast_path_applies(device) else "kwant"
    cache = device.__dict__.setdefault("_solver_cache", {})
    backend = cache.get(method)
    if backend is None:
        if method == "fast":
            backend = FastSolver(device)
        elif backend_info(method).fast_path:
            backend = FastSolver(device, method)
        else:
            backend = create_backend(device, method)
        cache[method] = backend
    return backend


def scattering_matrix(device, energy_meV: float, params: dict, method: str):
    """(S, nprop, solver_name) at one energy; the name of the path that ran is
    stored with every result."""
    backend = _backend(device, method)
    smat, nprop = backend.smatrix(energy_meV / device.t, params)
    return smat, nprop, backend.name


def smatrix_observables(smat: np.ndarray, nprop: tuple):
    """T(1 <- 0), T(0 <- 1), eigenvalues of t^dagger t (t: lead 0 -> lead 1),
    max|S^dagger S - 1| of the full S-matrix (all leads)."""
    n0, n1 = nprop[0], nprop[1]
    if smat.size == 0:
        return 0.0, 0.0, np.zeros(0), 0.0
    t = smat[n0:n0 + n1, :n0]
    t_rev = smat[:n0, n0:n0 + n1]
    unitarity = float(np.abs(smat.conj().T @ smat - np.eye(smat.shape[1])).max())
    if t.size:
        eig = np.sort(np.linalg.svd(t, compute_uv=False) ** 2)[::-1]
    else:
        eig = np.zeros(0)
    return float(np.sum(np.abs(t) ** 2)), float(np.sum(np.abs(t_rev) ** 2)), eig, unitarity


def check_unitarity(error: float, energy: float, params: dict):
    if not error <= UNITARITY_TOLERANCE:
        raise UnitarityError(
            f"S-matrix not unitary: max|S^dagger S - 1| = {error:.3g} > {UNITARITY_TOLERANCE:g} "
            f"at E = {energy:g} meV, params {params}. The system may be ill-conditioned "
            "(e.g. an energy exactly at a lead band edge); try a slightly different energy.")


def check_energy(device, energy_meV: float, params: dict | None = None) -> float:
    """Validate a Fermi energy (meV) for ``device``; return it as a float.

    It must resolve the Fermi wavelength on the lattice (lambda_F >= 4a).
    Energies at or below the first lead subband are allowed: no channel is
    open there and the solve returns G = 0 with ``open_modes = (0, 0)``
    (Kwant gives the same), so an energy sweep may start at the band bottom.
    """
    custom = getattr(device, "check_fermi_energy", None)
    if custom is not None:   # a device with its own dispersion (hamiltonian.ContinuumDevice)
        return custom(energy_meV, device.resolve_params(params))
    energy = _validate.real_number("energy", energy_meV, "meV")
    if energy <= 0:
        return energy   # below the 2DEG band bottom: no propagating state, nothing to resolve
    lam = fermi_wavelength_nm(energy, device.material)
    if lam < MIN_POINTS_PER_WAVELENGTH * device.a:
        a_max = lam / MIN_POINTS_PER_WAVELENGTH
        raise ValueError(
            f"energy={energy:g} meV is not allowed with a={device.a:g} nm: the Fermi wavelength "
            f"lambda_F = {lam:.3g} nm needs a <= lambda_F/{MIN_POINTS_PER_WAVELENGTH:g} = "
            f"{a_max:.3g} nm (a is {device.a / a_max:.2f}x too coarse); reduce a or the energy "
            f"(band top of this lattice: {8 * device.t:.4g} meV)")
    return energy


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
        (``qpcsim.backends.registered()``: ``mumps``, ``rgf``, ``scipy``,
        ``kwant``); see the module docstring.
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
    if method not in AUTO_METHODS:
        backend_info(method)   # unknown names: a ValueError listing the registered ones
    resolved = device.resolve_params(params)
    energy = check_energy(device, energy, resolved)
    temperature = _validate.non_negative("temperature", temperature, "K")
    if thermal not in ("grid", "adaptive"):
        raise ValueError(f"thermal={thermal!r} is not allowed: use 'grid' or 'adaptive'")
    thermal_tolerance, refinement_budget = check_thermal_options(thermal_tolerance,
                                                                 refinement_budget)
    from .sanity import check_parameter_magnitudes, warn_inputs
    check_parameter_magnitudes(resolved, device.units)
    warn_inputs(device, energy, temperature, resolved)
    if not _runs_fast_path(device, method):
        # Kwant evaluates the potential inside its own call stack: check it here
        # first so a non-finite landscape gives a clear error. (The fast path's
        # one vectorized evaluation per point does this check itself.)
        device.potential_at(*device.site_positions_nm(), resolved)

    smat, nprop, solver_name = scattering_matrix(device, energy, resolved, method)
    transmission, transmission_rev, eig, unitarity = smatrix_observables(smat, nprop)
    check_unitarity(unitarity, energy, resolved)

    own = getattr(device, "transport_observables", None)
    if own is not None:   # a device with its own observables (superconductivity.BdGDevice)
        transmission, transmission_rev, eig = own(smat, nprop, energy, resolved)

    kT = thermal_energy_meV(temperature)
    if kT < _NEGLIGIBLE_KT * max(abs(energy), 1.0):
        # A Fermi window narrower than float rounding of E is the T = 0 limit (a grid
        # over it would have zero width).
        kT = 0.0
    thermal_error, spec = 0.0, None
    spin_factor = 0.5 if device.zeeman else 1.0
    if own is not None:
        # Quasiparticle blocks are not currents: the two-terminal G_NS with I = G (V_N - V_S).
        gmat = spin_factor * transmission * np.array([[1.0, -1.0], [-1.0, 1.0]])
    else:
        gmat = conductance_matrix(smat, nprop, spin_factor)
    if kT > 0 and own is not None:
        # A BdG device averages its own observables over +-E (superconductivity.py).
        transmission, transmission_rev, worst, thermal_error = _andreev_thermal_average(
            device, energy, kT, resolved, method)
        unitarity = max(unitarity, worst)
        gmat = spin_factor * transmission * np.array([[1.0, -1.0], [-1.0, 1.0]])
    elif kT > 0 and len(nprop) > 2:
        # Several terminals: every G_ij averaged over the Fermi window (adaptive quadrature).
        gmat, unitarity, gmat_error = _thermal_conductance_matrix(
            device, energy, kT, resolved, method, unitarity, spin_factor)
        transmission, transmission_rev = -gmat[1, 0] / spin_factor, -gmat[0, 1] / spin_factor
        thermal_error = gmat_error / spin_factor   # the quadrature's own estimate (transmission)
    elif kT > 0 and thermal == "adaptive":
        transmission, transmission_rev, unitarity = _thermal_average(
            device, energy, kT, resolved, method, unitarity)
        thermal_error = THERMAL_QUADRATURE_TOL
    elif kT > 0:
        spec = _spectral_average(device, energy, temperature, resolved, method,
                                 known={float(energy): (transmission, transmission_rev, eig,
                                                        unitarity)},
                                 tolerance=thermal_tolerance, budget=refinement_budget)
        transmission = spec.thermal("transmission", temperature)
        transmission_rev = spec.thermal("transmission_reverse", temperature)
        thermal_error = spec.thermal_error("transmission", temperature)
        unitarity = max(unitarity, spec.unitarity_error)
    if kT > 0 and len(nprop) == 2 and own is None:
        # Two leads: G_00 = T(1 <- 0), G_11 = T(0 <- 1) at every energy (unitarity).
        gmat = spin_factor * np.array([[transmission, -transmission_rev],
                                       [-transmission, transmission_rev]])

    return TransportResult(
        energy=energy, temperature=temperature, params=resolved,
        transmission=transmission, transmission_reverse=transmission_rev,
        conductance=spin_factor * transmission, transmission_eigenvalues=eig,
        open_modes=nprop, unitarity_error=unitarity, solver=solver_name,
        smatrix=smat, spin_degenerate=not device.zeeman, thermal_error=thermal_error,
        spectrum=spec, conductance_matrix=gmat, terminals=tuple(device.terminals))


def _spectral_average(device, energy: float, temperature: float, params: dict, method: str,
                      known=None, tolerance: float = DEFAULT_THERMAL_TOLERANCE,
                      budget: int = DEFAULT_REFINEMENT_BUDGET):
    """Spectral data on the shared grid of (energy, temperature, lead parameters), the
    grid cached on the device so every gate point of a sweep uses the same nodes, refined
    where it does not resolve T(E) to ``tolerance`` (:func:`refine_thermal`). ``known``:
    the solve at E_F (a node of the trapezoidal grid), not repeated."""
    from .spectral import compute_spectrum, device_grid
    cache = device.__dict__.setdefault("_solver_cache", {})
    key = ("grid", energy, temperature) + tuple(float(params[k]) for k in device.lead_parameters)
    grid = cache.get(key)
    if grid is None:
        grid = cache[key] = device_grid(device, energy, [temperature], params=params)
    check_thermal_options(tolerance, budget, grid.size)
    spec = compute_spectrum(device, grid, params, method, known=known)
    return refine_thermal(device, spec, params, method, tolerance, budget)


def refine_thermal(device, spec, params: dict, method: str, tolerance: float, budget: int):
    """``spec`` refined where its nodes do not resolve T(E) to ``tolerance`` (transmission
    units; see :mod:`qpcsim.spectral.refine`); a ladder kept as it is reports the sum of its
    own error estimate, the three-level convergence test and the kink term of the lead
    thresholds inside it (three solves each, counted in ``solves``) as ``thermal_error``."""
    from .spectral.compute import node_solver
    from .spectral.refine import (kink_error, kinks_counted, ladder_error, ladder_resolves,
                                  refine_spectrum, threshold_kinks)
    solve_nodes = node_solver(device, params, method)
    # the kink samples only where the ladder may be kept: a refined grid has no ladder
    kinks = threshold_kinks(spec, solve_nodes, tolerance) if ladder_resolves(spec,
                                                                             tolerance) else None
    refined = refine_spectrum(spec, solve_nodes, tolerance=tolerance, budget=budget, kinks=kinks)
    if refined is spec and spec.grid.rule == "trapezoid":
        own = spec.thermal_error
        if kinks is not None:   # the kink samples count as solves of the kept ladder
            refined = kinks_counted(spec, kinks)

        def thermal_error(quantity="transmission", temperature=1.0, moment=0):
            return (own(quantity, temperature, moment)
                    + ladder_error(spec, quantity, temperature, moment)
                    + kink_error(spec, kinks, quantity, temperature, moment))
        refined.thermal_error = thermal_error
    return refined


def _runs_fast_path(device, method: str) -> bool:
    if method == "auto":
        return fast_path_applies(device)
    return method == "fast" or backend_info(method).fast_path


def lead_thresholds(device, params: dict) -> np.ndarray:
    """Energies (meV) where lead subbands open (or close): kinks and steps of G(E) that the
    thermal quadrature must not straddle. At B = 0 the closed formula (+- E_Z/2); in a
    field the extrema of the magnetic lead bands at this B and E_Z
    (:func:`qpcsim.spectral.bands.lead_band_edges`)."""
    own = getattr(device, "lead_thresholds", None)
    if own is not None:   # a device that knows its lead's band edges (hamiltonian.ModelDevice)
        return own(params)
    if params.get("B", 0.0) != 0.0:
        from .spectral.bands import lead_band_edges
        return lead_band_edges(device, params)[0]
    bottoms = device.transverse_mode_energies()
    split = 0.5 * abs(params.get("E_Z", 0.0))
    return np.unique(np.concatenate([bottoms - split, bottoms + split]))


def _thermal_conductance_matrix(device, mu: float, kT: float, params: dict, method: str,
                                unitarity: float, spin_factor: float):
    """Fermi-window average of the whole conductance matrix, int G_ij(E) (-df/dE) dE,
    by the adaptive quadrature of :func:`_thermal_average` (no thresholds known for
    several leads in a field: plain adaptive refinement)."""
    worst = [unitarity]
    n = len(device.build().leads)

    def integrand(energy):
        weight = 1.0 / (4.0 * kT * np.cosh((energy - mu) / (2.0 * kT)) ** 2)
        if energy <= 0 or weight == 0.0:
            return np.zeros((n, n))
        smat, nprop, _ = scattering_matrix(device, energy, params, method)
        err = smatrix_observables(smat, nprop)[3]
        check_unitarity(err, energy, params)
        worst[0] = max(worst[0], err)
        return weight * conductance_matrix(smat, nprop, spin_factor)

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
        weight = 1.0 / (4.0 * kT * np.cosh((energy - mu) / (2.0 * kT)) ** 2)
        if energy <= 0 or weight == 0.0:
            return np.zeros(2)
        smat, nprop, _ = scattering_matrix(device, energy, params, method)
        t_lr, t_rl, _, err = smatrix_observables(smat, nprop)
        check_unitarity(err, energy, params)
        worst[0] = max(worst[0], err)
        return weight * np.array([t_lr, t_rl])

    value, _ = scipy.integrate.quad_vec(integrand, lo, hi, epsabs=THERMAL_QUADRATURE_TOL,
                                        epsrel=0, norm="max", points=points or None, limit=4000,
                                        quadrature="gk15")
    return float(value[0]), float(value[1]), worst[0]


def _andreev_thermal_average(device, energy_meV: float, kT: float, params: dict, method: str):
    """(G_NS/G0, quasiparticle T(0 <- 1), worst unitarity error, error estimate) of a BdG
    device averaged over its Fermi window, int dE (-df/dE)(E - energy) X(E) at ``kT``
    (meV): one solve per E (Gauss-Kronrod, adaptive, breakpoints from the device's
    ``thermal_breakpoints``). Raises ThermalResolutionError when the estimate exceeds
    :data:`~qpcsim.superconductivity.ANDREEV_THERMAL_TOLERANCE`."""
    lo, hi, points = device.thermal_breakpoints(energy_meV, kT, params)
    worst = [0.0]

    def integrand(energy):
        weight = 1.0 / (4.0 * kT * np.cosh((energy - energy_meV) / (2.0 * kT)) ** 2)
        smat, nprop, _ = scattering_matrix(device, energy, params, method)
        error = smatrix_observables(smat, nprop)[3]
        check_unitarity(error, energy, params)
        worst[0] = max(worst[0], error)
        g_ns, t_rev, _ = device.transport_observables(smat, nprop, energy, params)
        return weight * np.array([g_ns, t_rev])

    value, error, info = scipy.integrate.quad_vec(
        integrand, lo, hi, epsabs=0.5 * ANDREEV_THERMAL_TOLERANCE, epsrel=0, norm="max",
        points=points, limit=2000, quadrature="gk15", full_output=True)
    if not info.success or not error <= ANDREEV_THERMAL_TOLERANCE:
        raise ThermalResolutionError(
            f"the Fermi window [{lo:.6g}, {hi:.6g}] meV (kT = {kT:.3g} meV) of the Andreev "
            f"conductance is not resolved: quadrature error estimate {error:.2g} G0 > "
            f"{ANDREEV_THERMAL_TOLERANCE:g} after {info.neval} solves")
    return float(value[0]), float(value[1]), worst[0], float(error)
