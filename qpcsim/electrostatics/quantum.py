"""Quantum (scattering-state) density correction to Thomas–Fermi (stretch of issue 11;
experimental).

The Thomas–Fermi density is semiclassical. Inside the scattering region the quantum
density of the occupied scattering states,

    n_q(r) = 2 * integral_{E_1}^{E_F} LDOS(r, E) dE       (spin 2; Kwant's LDOS from both leads)

replaces it, and the electrostatics is iterated to self-consistency, seeded by the TF
solution. The energy integral runs over the intervals between the lead thresholds E_n with
E = E_n + u^2 and Gauss-Legendre in u (the 1/sqrt(E - E_n) van Hove singularity becomes
smooth); bound states below the lowest lead threshold are not included (a repulsive gate
landscape has none).

Self-consistency: the TF functional is kept as the predictor, with an extra potential W
that makes its density equal to the latest quantum density,

    n = rho (mu - U - W)_+ ,   W_k = mu - U_k - n_q[U_k]/rho   (where n_q > 0),

so a fixed point has n = n_q[U] with U = U_gates + Hartree(n) (the electrostatic potential
the electrons feel, and what transport uses). Each step is a convex TF solve; W is mixed
linearly (``mixing``). Convergence is not guaranteed as for TF; the iteration reports the
residual max |n_q - n| / n_s and refuses to return an unconverged result.

The quantum density is used in the region |x| <= the flat part of the device's switch-off
window and |y| <= W/2 - ``wall_margin_nm`` (away from the artificial hard walls of the
tight-binding strip); TF elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..device import Device
from ..potentials import flat_top_window
from ..units import fermi_wavelength_nm
from .provider import SelfConsistentPotential
from .thomas_fermi import ConvergenceError, ElectrostaticsResult

__all__ = ["quantum_density_nm2", "QuantumResult", "solve_quantum_corrected"]


class _GridPotential:
    """Potential of a helper Device: U (meV) from a TF result, switched off like the provider."""

    def __init__(self, switch_off):
        self.result = None
        self.switch_off = switch_off

    def __call__(self, x, y, it=0):
        u = self.result.potential_meV(x, y)
        if self.switch_off is not None:
            u = u * flat_top_window(x, *self.switch_off)
        return u


def quantum_density_nm2(device, energy_meV: float, params=None, nodes: int = 4) -> np.ndarray:
    """Electron density (nm^-2) of the occupied scattering states on the device's sites.

    Parameters
    ----------
    device : qpcsim.Device
        Spin-degenerate (no Zeeman) device.
    energy_meV : float
        Fermi energy (meV).
    params : mapping, optional
        Device parameters (potential parameters, B).
    nodes : int
        Gauss-Legendre nodes per interval between lead thresholds.

    Returns
    -------
    ndarray
        n per site (nm^-2), in ``device.site_positions()`` order.
    """
    import kwant
    if device.zeeman:
        raise ValueError("zeeman=True is not allowed here: the quantum density is for "
                         "spin-degenerate devices")
    fsyst = device.build()
    t = device.t
    full = device.resolve_params(params)
    thresholds = device.transverse_mode_energies()
    thresholds = thresholds[thresholds < energy_meV]
    if thresholds.size == 0:
        return np.zeros(len(fsyst.sites))
    edges = list(thresholds) + [float(energy_meV)]
    xg, wg = np.polynomial.legendre.leggauss(_validate.positive_int("nodes", nodes))
    n = np.zeros(len(fsyst.sites))
    for lo, hi in zip(edges[:-1], edges[1:]):
        umax = np.sqrt(hi - lo)
        for xx, ww in zip(xg, wg):
            u = 0.5 * umax * (xx + 1)
            ldos = kwant.ldos(fsyst, energy=(lo + u * u) / t, params=full)
            n += (0.5 * umax * ww) * 2 * u * ldos / t
    return 2 * n / device.a**2


@dataclass
class QuantumResult:
    """Quantum-corrected self-consistent solution.

    Attributes
    ----------
    result : ElectrostaticsResult
        The final electrostatics (``potential_meV`` is U = U_gates + Hartree, meV;
        ``density_cm2`` is the self-consistent density, quantum inside the region).
    thomas_fermi : ElectrostaticsResult
        The TF seed.
    quantum_density_cm2 : ndarray
        n_q on the device's sites (cm^-2).
    iterations : int
    residuals : list of float
        max |n_q - n| / n_s over the quantum region, per iteration.
    """

    result: ElectrostaticsResult
    thomas_fermi: ElectrostaticsResult
    quantum_density_cm2: np.ndarray
    iterations: int
    residuals: list


def solve_quantum_corrected(device, *, mixing: float = 0.8, tolerance: float = 0.02,
                            max_iterations: int = 20, nodes: int = 4,
                            wall_margin_nm: float | None = None, **voltages) -> QuantumResult:
    """Iterate TF electrostatics with the scattering-state density to self-consistency.

    Parameters
    ----------
    device : qpcsim.Device
        A device from :func:`self_consistent_device` (its potential a SelfConsistentPotential),
        whose lattice covers the quantum region.
    mixing : float
        Linear mixing of the extra potential W, in (0, 1].
    tolerance : float
        Stop when max |n_q - n| / n_s over the quantum region is below this (dimensionless).
    max_iterations : int
        Iteration budget; beyond it ConvergenceError names the residual.
    nodes : int
        Gauss-Legendre nodes per threshold interval of the energy integral.
    wall_margin_nm : float, optional
        Distance from the hard walls excluded from the quantum region (nm); default lambda_F/2.
    **voltages
        The potential's voltage parameters (V), e.g. ``Vg=-1.5``.

    Returns
    -------
    QuantumResult
    """
    from scipy.interpolate import RegularGridInterpolator


    pot = device.potential
    if not isinstance(pot, SelfConsistentPotential):
        raise ValueError("device is not allowed: its potential must be a SelfConsistentPotential "
                         "(build it with qpcsim.electrostatics.self_consistent_device)")
    if device.shape is not None:
        raise ValueError("device with a shape mask is not allowed: the quantum region needs the "
                         "full rectangular lattice")
    mixing = _validate.in_range("mixing", mixing, 1e-3, 1.0)
    tolerance = _validate.positive("tolerance", tolerance)
    max_iterations = _validate.positive_int("max_iterations", max_iterations)
    het = pot.heterostructure
    ef, rho, ns = het.fermi_energy_meV, het.dos_per_meV_nm2, het.density_nm2
    if wall_margin_nm is None:
        wall_margin_nm = 0.5 * fermi_wavelength_nm(ef, het.material)
    prob = pot.problem()
    volts = pot.voltages_of(**voltages)
    seed = pot.solve(**voltages)
    X, Y = np.meshgrid(prob.x, prob.y, indexing="ij")
    half_flat = pot.switch_off[0] if pot.switch_off else device.length / 2
    region = (np.abs(X) <= half_flat) & (np.abs(Y) <= device.width / 2 - wall_margin_nm)
    if not region.any():
        raise ValueError(f"wall_margin_nm={wall_margin_nm:g} leaves no quantum region inside the "
                         "device")
    helper = _GridPotential(pot.switch_off)
    qdev = Device(width=device.width, length=device.length, a=device.a, potential=helper,
                  material=het.material, name=device.name + "_quantum")
    xs, ys = device.lattice_to_nm(np.arange(device.nx), np.arange(device.ny))
    pos = qdev.site_positions()
    order = (pos[:, 0].astype(int), pos[:, 1].astype(int))
    w = np.zeros(prob.shape)
    current = seed
    residuals = []
    nq_sites = None
    for k in range(1, max_iterations + 1):
        helper.result = current
        nq_sites = quantum_density_nm2(qdev, ef, {"it": k}, nodes=nodes)
        grid = np.zeros((device.nx, device.ny))
        grid[order] = nq_sites
        nq = RegularGridInterpolator((xs, ys), grid, bounds_error=False, fill_value=None)(
            np.column_stack([X[region], Y[region]]))
        n_now = current.density_grid_cm2[region] * 1e-14
        residuals.append(float(np.max(np.abs(nq - n_now)) / ns))
        if residuals[-1] <= tolerance:
            break
        # W that makes the TF density equal n_q at the current U (inside the region)
        w_new = np.zeros(prob.shape)
        u_now = current.potential_grid_meV[region]
        w_new[region] = np.where(nq > 1e-6 * ns, ef - u_now - nq / rho,
                                 np.maximum(ef - u_now, 0.0) + 0.5)
        w = (1 - mixing) * w + mixing * w_new
        extra_saved = prob.extra
        prob.extra = extra_saved + w
        try:
            current = prob.solve(volts, initial=current, tolerance_meV=pot.tolerance_meV,
                                 check_window=False)
        finally:
            prob.extra = extra_saved
        # U excludes W: the electrostatic potential is U_gates + Hartree only
        current.potential_grid_meV = current.potential_grid_meV - w
        current.bare_grid_meV = seed.bare_grid_meV
    else:
        raise ConvergenceError(
            f"quantum-corrected solve did not converge: residual max|n_q - n|/n_s = "
            f"{residuals[-1]:.3g} after {max_iterations} iterations, {residuals[-1] / tolerance:.3g}x "
            f"the tolerance={tolerance:g}; raise max_iterations or lower mixing={mixing:g}")
    return QuantumResult(result=current, thomas_fermi=seed,
                         quantum_density_cm2=nq_sites * 1e14, iterations=len(residuals),
                         residuals=residuals)
