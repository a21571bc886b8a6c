"""Spectral data from the solver: the grid of a device and T_n(E) on it."""
from __future__ import annotations

import numpy as np

from ..scattering import check_energy, check_unitarity, scattering_matrix, smatrix_observables
from .bands import lead_band_edges, lead_thresholds
from .data import Spectrum, lead_energy_check
from .grid import DEFAULT_TOL, EnergyGrid, build_grid

__all__ = ["compute_spectrum", "device_grid", "spectrum"]


def device_grid(device, energy: float, temperatures, *, bias: float = 0.0, params=None,
                order: int | None = None, tol: float = DEFAULT_TOL,
                max_panel: float | None = None, rule: str | None = None,
                resolution: float | None = None) -> EnergyGrid:
    """The shared energy grid of ``device`` around Fermi energy ``energy`` (meV).

    Breakpoints at the lead subband thresholds for ``params`` (at B = 0 the closed formula,
    in a field the magnetic lead bands' extrema), the window cut at the first lead mode (no
    current below it), and a window top the lattice resolves (else a one-line
    ValueError). ``temperatures`` (K), ``bias`` (mV), ``rule``, ``resolution``: see
    :func:`build_grid`; the default rule is ``"trapezoid"`` without a bias (nested uniform
    ladders, the cheapest at a given error) and ``"gauss"`` with one.
    """
    params = device.resolve_params(params or {})
    thresholds = lead_thresholds(device, params)
    first = float(device.transverse_mode_energies(1)[0]) - 0.5 * abs(params.get("E_Z", 0.0))
    if params.get("B", 0.0) != 0.0:     # the magnetic leads' first mode
        first = lead_band_edges(device, params)[1]
    if rule is None:
        rule = "gauss" if bias else "trapezoid"

    def window_check(low, high):
        # on the window's edges, before its nodes: a huge bias is refused at once
        lead_energy_check(device, high)
        if bias and energy - abs(bias) / 2 <= first:
            raise ValueError(
                f"bias={bias:g} mV is not allowed at energy={energy:g} meV: mu - eV/2 = "
                f"{energy - abs(bias) / 2:.4g} meV lies below the first lead mode "
                f"({first:.4g} meV), so the bias window leaves the lead band; use |bias| < "
                f"{2 * (energy - first):.4g} mV")
    return build_grid(energy, temperatures, bias=bias, thresholds=thresholds, lower=first,
                      order=order, tol=tol, max_panel=max_panel, rule=rule,
                      resolution=resolution, window_check=window_check)


def compute_spectrum(device, grid: EnergyGrid, params: dict, method: str = "auto",
                     channels: int | None = None, known=None) -> Spectrum:
    """T(E), T_rev(E) and T_n(E) of ``device`` at every node of ``grid``.

    ``params`` are resolved device parameters. Each node is one S-matrix solve
    on the back end of ``method``; lead modes come from the back end's cache
    (per energy), so a grid shared by many gate points computes them once.
    Unitarity is checked at every node. ``channels`` pads the eigenvalue axis
    (default: the most open modes over the nodes). ``known`` maps a node energy (meV) to
    its already computed ``smatrix_observables`` tuple (e.g. the solve at E_F, a node of
    every trapezoidal grid), which is then not solved again.
    """
    if device.has_own_observables:
        # Its conductance is not a transmission (G_NS of a BdG device): never a silent T(E).
        raise ValueError(f"device {device.name!r} is not allowed here: spectral data (bias, "
                         "noise, series) take transmissions; its conductance comes from its own "
                         "observables: use qpcsim.solve(..., temperature=...)")
    t_lr, t_rl, eigs, worst, solves = _solve_energies(device, grid.nodes, params, method, known)
    return Spectrum(grid, t_lr, t_rl, _eigen_table(eigs, channels),
                    spin_degenerate=not device.zeeman,
                    unitarity_error=worst, solves=solves)


def _eigen_table(eigs, channels=None):
    """Eigenvalue lists as a zero-padded table (nodes, channels); at least ``channels`` wide."""
    table = np.zeros((len(eigs), max([len(v) for v in eigs] + [channels or 0, 1])))
    for k, v in enumerate(eigs):
        table[k, :len(v)] = v
    return table


def _solve_energies(device, energies, params, method, known=None):
    """(T_LR, T_RL, eigenvalue lists, worst unitarity error, solves) at ``energies`` (meV), one
    S-matrix solve each (unitarity checked) unless ``known`` maps the energy to its observables."""
    n = len(energies)
    t_lr, t_rl = np.zeros(n), np.zeros(n)
    eigs, worst, solves = [], 0.0, 0
    known = known or {}
    for k, e in enumerate(energies):
        if float(e) in known:
            a, b, eig, err = known[float(e)]
        else:
            a, b, eig, err = smatrix_observables(
                scattering_matrix(device, float(e), params, method))
            check_unitarity(err, float(e), params)
            solves += 1
        worst = max(worst, err)
        t_lr[k], t_rl[k] = a, b
        eigs.append(eig)
    return t_lr, t_rl, eigs, worst, solves


def node_solver(device, params, method):
    """``solve_nodes(energies) -> (T_LR, T_RL, eigenvalue table, worst unitarity error)`` for
    :func:`qpcsim.spectral.refine.refine_spectrum`."""
    def solve_nodes(energies):
        t_lr, t_rl, eigs, worst, _ = _solve_energies(device, energies, params, method)
        return t_lr, t_rl, _eigen_table(eigs), worst
    return solve_nodes


def spectrum(device, energy: float, temperature=1.0, *, bias: float = 0.0, method: str = "auto",
             order: int | None = None, tol: float = DEFAULT_TOL, max_panel: float | None = None,
             rule: str | None = None, resolution: float | None = None, **params) -> Spectrum:
    """Spectral data of one gate point: T_n(E) on the shared grid around ``energy``.

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    energy : float
        Fermi energy (meV).
    temperature : float or sequence of float
        Temperatures (K) the grid must resolve (a series shares one grid).
    bias : float
        Largest |V_sd| (mV) the window must cover.
    method : str
        Solver back end (see :func:`qpcsim.solve`).
    order, tol, max_panel, rule, resolution
        Grid design, see :func:`device_grid` and :func:`qpcsim.spectral.build_grid`.
    **params
        Device parameters (their units in ``device.units``).

    Returns
    -------
    Spectrum
    """
    resolved = device.resolve_params(params)
    energy = check_energy(device, energy, resolved)
    grid = device_grid(device, energy, temperature, bias=bias, params=resolved, order=order,
                       tol=tol, max_panel=max_panel, rule=rule, resolution=resolution)
    return compute_spectrum(device, grid, resolved, method)
