"""Spectral data: the transmission eigenvalues T_n(E) on a shared energy grid.

The one mechanism behind every observable beyond the linear conductance at
T = 0: a fixed energy grid per (device, Fermi energy, window) — nested trapezoidal
ladders at zero bias, Gauss-Legendre panels ending at the lead thresholds for a bias
window (:mod:`.grid`), refined where T(E) has narrow features (:mod:`.refine`) — T_n(E)
solved once at its nodes per gate point (:mod:`.compute`), and finite-temperature conductance,
noise, thermopower, thermal conductance and finite-bias current as integrals
over these nodal values (:mod:`.data`; physics in
:mod:`qpcsim.physics.noise`, :mod:`~qpcsim.physics.thermoelectric`,
:mod:`~qpcsim.physics.bias`). Temperature series of sweeps: :mod:`.series`.

Layer: on top of the solver (it calls the solver's back ends node by node);
:func:`qpcsim.solve` imports it for ``temperature > 0``.
"""
from .compute import compute_spectrum, device_grid, spectrum
from .data import Spectrum
from .grid import EnergyGrid, build_grid, fermi, fermi_window

__all__ = [
           "EnergyGrid",
           "Spectrum",
           "build_grid",
           "compute_spectrum",
           "device_grid",
           "fermi",
           "fermi_window",
           "spectrum",
]
