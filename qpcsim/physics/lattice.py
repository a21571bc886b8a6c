"""Lattice (discretization) error of a conductance, by a^2 extrapolation.

The tight-binding lattice replaces the kinetic energy -hbar^2/2m* d^2/dx^2 by
a finite difference whose dispersion 2t(1 - cos ka) deviates from
hbar^2 k^2/2m* by O((ka)^2); smooth potentials sampled on the lattice err by
O(a^2) too. So a conductance computed at lattice constant a is
G(a) = G(0) + c a^2 + O(a^4) away from steps and resonances, and two (or
more) lattices give both the continuum value and the error of the coarse one
(Richardson extrapolation):

    G(0) ~ (a1^2 G(a2) - a2^2 G(a1)) / (a1^2 - a2^2),   error(a1) = G(a1) - G(0).

Measured (qpc_saddle, hbar w_x = 1, hbar w_y = 2 meV, E = 10, V0 = 3.5 meV):
G = 3.04419, 3.04292, 3.04204 at a = 2, 1.5, 1 nm, against Büttiker's
3.04134; the a^2 fit gives G(0) = 3.04133 and error(2 nm) = 2.9e-3. Near a
sharp step the error is larger (issue 17: 0.037 G0 at hbar w_y/hbar w_x = 4
and 0.086 at B = 2 T, a = 2 nm), both ~a^2 and vanishing on extrapolation.
The bundled geometries record a documented estimate of this error at their
lattice constant in ``device.metadata["lattice_error_estimate"]``, which the
sweep engine copies into its results' attributes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..geometry import load_geometry

__all__ = ["LatticeError", "lattice_error_estimate", "documented_lattice_error"]


@dataclass
class LatticeError:
    """Conductances on several lattices and their a -> 0 extrapolation.

    ``a`` (nm) and ``conductance`` (G0) per lattice, coarsest first;
    ``extrapolated`` G(0) (G0) from G = G(0) + c a^2 (least squares);
    ``coefficient`` c (G0/nm^2); ``error`` = G(a[0]) - G(0) (G0), the error of
    the coarsest lattice; ``residual`` the largest misfit of the a^2 law (G0;
    0 with two lattices): large values mean the a^2 regime is not reached.
    """

    a: np.ndarray
    conductance: np.ndarray
    extrapolated: float
    coefficient: float
    error: float
    residual: float

    def as_dict(self) -> dict:
        return {"a_nm": [float(v) for v in self.a],
                "conductance_G0": [float(v) for v in self.conductance],
                "extrapolated_G0": self.extrapolated, "error_G0": self.error,
                "coefficient_G0_per_nm2": self.coefficient, "residual_G0": self.residual,
                "method": "a^2 extrapolation"}


def lattice_error_estimate(geometry, energy: float, *, lattice_constants=None,
                           geometry_params=None, params=None,
                           temperature: float = 0.0) -> LatticeError:
    """Estimate the lattice error of G by solving on two or more lattices.

    Parameters
    ----------
    geometry : str, Path or qpcsim.Device
        A geometry file or bundled name, or a device built by
        :func:`qpcsim.load_geometry` (its file and parameters are reused).
    energy : float
        Fermi energy (meV).
    lattice_constants : sequence of float, optional
        Lattice constants (nm), at least two, all dividing the geometry's
        lengths; default (a, 0.75 a) with a the geometry's own.
    geometry_params : dict, optional
        Arguments of ``make_device`` (nm, meV, ...), except ``a``.
    params : dict, optional
        Runtime parameters for :func:`qpcsim.solve` (their own units).
    temperature : float
        Temperature (K).
    """
    from ..solver import solve   # here: geometry files import this module, a solver they need not

    energy = _validate.positive("energy", energy, "meV")
    if hasattr(geometry, "metadata"):
        meta = geometry.metadata
        if meta.geometry_file is None:
            raise ValueError("geometry is a Device not built by load_geometry: pass the "
                             "geometry file or name instead, so it can be rebuilt on other lattices")
        source = meta.geometry_file
        base = meta.geometry_params
        a0 = float(geometry.a)
    else:
        source = geometry
        base = {}
        a0 = None
    base.update(geometry_params or {})
    if "a" in base:
        a0 = float(base.pop("a"))
    if lattice_constants is None:
        if a0 is None:
            a0 = float(load_geometry(source, **base).a)
        lattice_constants = (a0, 0.75 * a0)
    a_values = np.array(sorted((_validate.positive("lattice_constants", v, "nm")
                                for v in lattice_constants), reverse=True))
    if len(a_values) < 2 or len(np.unique(a_values)) < len(a_values):
        raise ValueError(f"lattice_constants={list(lattice_constants)!r} is not allowed: give at "
                         "least two different lattice constants (nm)")
    g = np.array([solve(load_geometry(source, **base, a=float(a)), energy,
                        temperature=temperature, **(params or {})).conductance
                  for a in a_values])
    design = np.column_stack([np.ones_like(a_values), a_values**2])
    (g0, c), *_ = np.linalg.lstsq(design, g, rcond=None)
    residual = float(np.abs(design @ np.array([g0, c]) - g).max()) if len(g) > 2 else 0.0
    return LatticeError(a=a_values, conductance=g, extrapolated=float(g0), coefficient=float(c),
                        error=float(g[0] - g0), residual=residual)


def documented_lattice_error(coefficient: float, a: float, where: str) -> dict:
    """The metadata entry a geometry records: ``|error| ~ coefficient a^2``.

    Parameters
    ----------
    coefficient : float
        Measured |c| of G(a) = G(0) + c a^2 (G0/nm^2).
    a : float
        The device's lattice constant (nm).
    where : str
        Where it was measured (parameters, energy), for the record.
    """
    a = _validate.positive("a", a, "nm")
    return {"error_G0": float(abs(coefficient) * a * a), "a_nm": a,
            "coefficient_G0_per_nm2": float(abs(coefficient)), "measured_at": where,
            "method": "a^2 extrapolation (qpcsim.lattice_error_estimate)",
            "valid": ("at the calibration point (measured_at) only: the a^2 coefficient grows "
                      "with the step index and near sharp steps, resonances and in a field "
                      "(6-8x on higher steps: 0.09 G0 at the fifth step of qpc_saddle at "
                      "a = 4 nm); measure your own point with qpcsim.lattice_error_estimate")}
