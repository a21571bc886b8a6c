"""Gate electrostatics: from a gate layout and a heterostructure to a self-consistent potential.

* :class:`Gate`, :class:`Layout` (polygons in nm; :meth:`Layout.from_gds` reads GDSII),
* :class:`Heterostructure` (depth nm, density cm^-2, material, pinned or frozen surface;
  :meth:`Heterostructure.from_layers` a stack of :class:`Layer`, :meth:`Heterostructure.calibrate`),
* :func:`polygon_potential` / :func:`layout_potential`: closed-form bare gate potential,
* :func:`solve_thomas_fermi` -> :class:`ElectrostaticsResult`: self-consistent
  Thomas–Fermi density and potential (a convex minimization),
* :class:`SelfConsistentPotential`, :func:`self_consistent_device`: the potential of a
  :class:`qpcsim.Device` at each gate voltage, for sweeps; :func:`device_from_gds`: the
  device of a GDSII layout (window and leads chosen from the gates),
* :func:`pinchoff_diagram`: channel state over two gate voltages (electrostatics only),
* :class:`RemoteDonors`: remote ionized donors, screened landscape, Born lifetimes/mobility,
* :func:`solve_quantum_corrected` (experimental): scattering-state density instead of TF
  inside the device, iterated to self-consistency from the TF seed.

See ``docs/electrostatics.md``.
"""
from .bare import gate_potential, layout_potential, polygon_potential
from .heterostructure import Heterostructure
from .layout import Gate, Layout
from .donors import BornLifetimes, DonorLandscape, RemoteDonors
from .pinchoff import PinchoffDiagram, pinchoff_diagram
from .stack import Layer
from .provider import SelfConsistentPotential, self_consistent_device
from .gds_device import device_from_gds
from .quantum import QuantumResult, quantum_density_nm2, solve_quantum_corrected
from .thomas_fermi import (
                           ConvergenceError,
                           ElectrostaticsResult,
                           ThomasFermiProblem,
                           solve_thomas_fermi,
)

__all__ = ["Gate", "Layout", "Heterostructure", "Layer", "RemoteDonors", "DonorLandscape",
           "BornLifetimes", "pinchoff_diagram", "PinchoffDiagram", "solve_thomas_fermi",
           "ElectrostaticsResult",
           "ThomasFermiProblem", "ConvergenceError", "SelfConsistentPotential",
           "self_consistent_device", "polygon_potential", "gate_potential", "layout_potential",
           "solve_quantum_corrected", "quantum_density_nm2", "QuantumResult", "device_from_gds"]
