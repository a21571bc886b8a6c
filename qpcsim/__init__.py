"""qpcsim: quantum transport through point contacts, wires and dots, on Kwant.

Layers (see ARCHITECTURE.md): ``geometries/`` files build a :class:`Device`
(physical units) -> ``Device.build()`` gives a plain Kwant system (lattice
units) -> :func:`solve` (S-matrix, conductance, transmission eigenvalues) ->
sweeps, analysis, plots and the ``qpcsim`` command line.
"""
import warnings as _warnings

# Kwant warns at import that plotly (an optional plotting engine qpcsim does not use) is absent.
_warnings.filterwarnings("ignore", message="plotly is not available", category=RuntimeWarning)

from . import units, validate  # noqa: E402
from .device import Device
from .geometry import check_geometry_params, load_geometry, load_geometry_module
from .solver import TransportResult, UnitarityError, solve, solver_backend
from .sweep import SweepResult, load_result, sweep
from . import analysis, coulomb, dephasing, disorder, dots, lengths, luttinger
from . import electrostatics  # noqa: E402  (issue 11: gate layouts, Thomas-Fermi)
from .dephasing import ProbeResult, dephasing_length, probe_conductance
from .disorder import (DisorderField, EnsembleResult, born_mean_free_path, ensemble,
                       fit_localization_length, fit_mean_free_path,
                       predicted_localization_length, with_disorder)
from .lengths import LengthScales, adiabaticity_scan, compare_disorder, length_scales
from .units import G0_SIEMENS, GAAS, RESISTANCE_QUANTUM_OHM, Material

__version__ = "0.1.0"

__all__ = [
    "Device", "Material", "GAAS", "G0_SIEMENS", "RESISTANCE_QUANTUM_OHM",
    "load_geometry", "load_geometry_module", "check_geometry_params",
    "solve", "TransportResult", "UnitarityError", "solver_backend",
    "sweep", "SweepResult", "load_result", "analysis",
    "disorder", "dephasing", "lengths", "coulomb", "dots", "luttinger", "with_disorder", "ensemble", "EnsembleResult",
    "DisorderField", "born_mean_free_path", "fit_mean_free_path", "fit_localization_length",
    "predicted_localization_length", "probe_conductance", "ProbeResult", "dephasing_length",
    "length_scales", "LengthScales", "adiabaticity_scan", "compare_disorder",
    "units", "validate", "__version__",
]
