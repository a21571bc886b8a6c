"""One S-matrix solve: the device's back end, the checks every solve makes.

The layer under :mod:`qpcsim.solver` (results, thermal averages) and
:mod:`qpcsim.spectral` (T(E) on energy grids): both ask it for the
:class:`~qpcsim.backends.SMatrix` of a device at one energy and check it here, so
neither imports the other's internals.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import validate as _validate
from .backends import (
    AUTO_METHODS,
    FastSolver,
    SMatrix,
    backend_info,
    create_backend,
    fast_path_applies,
    solver_context,
)
from .units import fermi_wavelength_nm

__all__ = ["UNITARITY_TOLERANCE", "MIN_POINTS_PER_WAVELENGTH", "UnitarityError",
           "scattering_matrix", "solver_label", "smatrix_observables", "check_unitarity",
           "check_energy", "runs_fast_path", "check_method", "prepare_backend"]

#: Largest allowed max|S^dagger S - 1|.
UNITARITY_TOLERANCE = 1e-8
#: Smallest allowed lambda_F / a: below it the lattice dispersion deviates from
#: the parabolic band by more than ~20 % and results no longer describe a 2DEG.
MIN_POINTS_PER_WAVELENGTH = 4.0


#: Kwant's RuntimeError for lead modes it cannot pair (kwant.physics.leads).
_UNSTABLE_MODES = "Numbers of left- and right-propagating modes differ"


class UnitarityError(RuntimeError):
    """The S-matrix is not unitary within tolerance (a numerical failure)."""


def check_method(method: str) -> None:
    """A one-line ValueError listing the registered back ends for an unknown ``method``."""
    if method not in AUTO_METHODS:
        backend_info(method)


def _backend(device, method: str):
    """The back end for ``method`` on ``device``, created once per device (kept in its
    :class:`~qpcsim.backends.SolverContext`).

    ``auto`` takes the fast path when it applies (two leads defined by modes,
    the Device's own lattice model) and Kwant's solver otherwise.
    """
    if method == "auto":
        method = "fast" if fast_path_applies(device) else "kwant"
    cache = solver_context(device).backends
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


def prepare_backend(device, method: str) -> None:
    """Create ``device``'s back end for ``method`` now, as its first solve would.

    Called before a process pool forks its workers: each inherits the back end and
    its structural analysis (site order, hopping pattern, lead systems and interfaces,
    RGF columns, mirror checks) instead of repeating them. The Kwant system is built
    only where the back end needs it (``method="kwant"``, a device other than
    :class:`~qpcsim.Device`'s own two-lead model, a model device). A fast back end also
    derives its structure's lattice mirrors here, which it would find at its first point.

    Parameters
    ----------
    device : qpcsim.Device or qpcsim.hamiltonian.ModelDevice
        The device.
    method : str
        A registered back end, ``"auto"`` or ``"fast"``.
    """
    backend = _backend(device, method)
    prepare = getattr(backend, "prepare_structure", None)   # a fast back end's
    if prepare is not None:
        prepare()


def scattering_matrix(device, energy_meV: float, params: dict, method: str) -> SMatrix:
    """The S-matrix of ``device`` at ``energy_meV`` (meV) for resolved ``params`` on the
    back end of ``method``; it names the back end that ran (:func:`solver_label`).

    Parameters
    ----------
    device : qpcsim.Device or qpcsim.hamiltonian.ModelDevice
        The device.
    energy_meV : float
        Fermi energy (meV), measured from the ungated band bottom.
    params : dict
        The device's fully resolved parameters (``device.resolve_params``), in their
        physical units (V, meV, T).
    method : str
        A registered back end, ``"auto"`` or ``"fast"``.

    Returns
    -------
    SMatrix

    Raises
    ------
    ValueError
        ``energy_meV`` is not a finite number or lies within rounding of a lead band edge
        (Kwant's lead modes fail there), or ``params`` is not a mapping holding every
        parameter of the device.
    """
    device = _validate.device("device", device)
    energy_meV = _validate.real_number("energy_meV", energy_meV, "meV")
    _check_resolved_params(device, params)
    try:
        return _backend(device, method).smatrix(energy_meV / device.t, params)
    except RuntimeError as err:
        if _UNSTABLE_MODES not in str(err):
            raise
        # Kwant's lead-mode solver at an energy within rounding of a band edge (seen in a
        # field with Zeeman, ~1e-6 meV from the edge): one line, not Kwant's traceback
        raise ValueError(
            f"energy_meV={energy_meV!r} is not allowed with params {dict(params)}: it lies "
            "within rounding of a lead band edge, where Kwant's lead modes are numerically "
            "unstable; move it off the edge (by ~1e-5 meV)") from None


def _check_resolved_params(device, params) -> None:
    """One line instead of a KeyError deep in a back end: ``params`` must be resolved."""
    if not isinstance(params, Mapping):
        problem = "not a mapping"
    else:
        missing = [name for name in device.defaults if name not in params]
        if not missing:     # and each a finite number, named (not NaN deep in Kwant)
            _validate.mapping_of_numbers("params", {k: params[k] for k in device.defaults},
                                         device.units)
            return
        problem = "missing " + ", ".join(map(repr, missing))
    raise ValueError(f"params={params!r} is not allowed ({problem}): give the device's "
                     "resolved parameters, device.resolve_params({...})")


def solver_label(smatrix: SMatrix) -> str:
    """A result's ``solver`` label: ``fast-<backend>`` on the fast path, else the name."""
    fast = backend_info(smatrix.backend).fast_path
    return f"fast-{smatrix.backend}" if fast else smatrix.backend


def smatrix_observables(smatrix: SMatrix):
    """T(1 <- 0), T(0 <- 1), eigenvalues of t^dagger t (t: lead 0 -> lead 1, descending),
    max|S^dagger S - 1| of the full S-matrix (all leads)."""
    if smatrix.data.size == 0:
        return 0.0, 0.0, np.zeros(0), 0.0
    t = smatrix.submatrix(1, 0)
    if t.size:
        eig = np.sort(np.linalg.svd(t, compute_uv=False) ** 2)[::-1]
    else:
        eig = np.zeros(0)
    return (smatrix.transmission(1, 0), smatrix.transmission(0, 1), eig,
            smatrix.unitarity_error)


def check_unitarity(error: float, energy: float, params: dict):
    """Raise :class:`UnitarityError` if ``error`` = max|S^dagger S - 1| exceeds
    :data:`UNITARITY_TOLERANCE` (``energy`` in meV and ``params`` for the message)."""
    if not error <= UNITARITY_TOLERANCE:
        raise UnitarityError(
            f"S-matrix not unitary: max|S^dagger S - 1| = {error:.3g} > {UNITARITY_TOLERANCE:g} "
            f"at E = {energy:g} meV, params {params}. The system may be ill-conditioned "
            "(e.g. an energy exactly at a lead band edge); try a slightly different energy.")


def check_energy(device, energy_meV: float, params: dict | None = None) -> float:
    """Validate a Fermi energy (meV) for ``device``; return it as a float.

    A device with its own dispersion answers :meth:`check_fermi_energy` itself;
    otherwise the energy must resolve the Fermi wavelength on the lattice
    (lambda_F >= 4a). Energies at or below the first lead subband are allowed: no
    channel is open there and the solve returns G = 0 with ``open_modes = (0, 0)``
    (Kwant gives the same), so an energy sweep may start at the band bottom.
    """
    own = device.check_fermi_energy(energy_meV, device.resolve_params(params))
    if own is not None:
        return own
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


def runs_fast_path(device, method: str) -> bool:
    """Whether ``method`` solves ``device`` on the fast path (the Device's own lattice
    model assembled with NumPy) rather than through Kwant's value functions."""
    if method == "auto":
        return fast_path_applies(device)
    return method == "fast" or backend_info(method).fast_path
