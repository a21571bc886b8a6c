"""qpcsim: quantum transport through point contacts, wires and dots, on Kwant.

Layers (see ARCHITECTURE.md): ``geometries/`` files build a :class:`Device`
(physical units) -> ``Device.build()`` gives a plain Kwant system (lattice
units) -> :func:`solve` (S-matrix, conductance, transmission eigenvalues) ->
sweeps, analysis, plots and the ``qpcsim`` command line.
"""
from . import units, validate
from .device import Device
from .geometry import check_geometry_params, load_geometry, load_geometry_module
from .solver import TransportResult, UnitarityError, solve, solver_backend
from .sweep import SweepResult, load_result, sweep
from . import analysis
from .units import G0_SIEMENS, GAAS, RESISTANCE_QUANTUM_OHM, Material

__version__ = "0.1.0"

__all__ = [
    "Device", "Material", "GAAS", "G0_SIEMENS", "RESISTANCE_QUANTUM_OHM",
    "load_geometry", "load_geometry_module", "check_geometry_params",
    "solve", "TransportResult", "UnitarityError", "solver_backend",
    "sweep", "SweepResult", "load_result", "analysis",
    "units", "validate", "__version__",
]
