"""qpcsim: quantum transport through point contacts, wires and dots, on Kwant.

Layers (see ARCHITECTURE.md), each importing only downward:

* foundation — :mod:`.units`, :mod:`.validate`, :class:`Device` (physical units ->
  a plain Kwant system), :mod:`.geometry` (``geometries/`` files),
  :mod:`.potentials`, :mod:`.observables` (the per-point observables table);
* solver — :func:`solve` -> :class:`TransportResult`, on the back ends of
  :mod:`.backends` (registry: ``mumps``, ``rgf``, ``scipy``, ``kwant``);
* engine — :func:`sweep` (:mod:`.engine`: spec, sampling, executors, store, result);
* physics — :mod:`.physics` (disorder, ensembles, lengths, dots, Coulomb, Luttinger),
  :mod:`.electrostatics` (gate layouts, self-consistent Thomas-Fermi potentials);
* presentation — :mod:`.analysis`, :mod:`.plotting`, :mod:`.cli`.
"""
import warnings as _warnings

# Kwant warns at import that plotly (an optional plotting engine qpcsim does not use) is absent.
_warnings.filterwarnings("ignore", message="plotly is not available", category=RuntimeWarning)

from ._version import __version__  # noqa: E402
from . import units, validate  # noqa: E402
from .device import Device  # noqa: E402
from . import terminals  # noqa: E402
from .terminals import Lead  # noqa: E402
from .hamiltonian import ContinuumDevice  # noqa: E402
from .lattices import BilayerGrapheneRibbon, GrapheneRibbon  # noqa: E402
from .superconductivity import BdGDevice, beenakker_conductance  # noqa: E402
from .geometry import check_geometry_params, load_geometry, load_geometry_module  # noqa: E402
from .solver import TransportResult, UnitarityError, solve, solver_backend  # noqa: E402
from .spectral.refine import ThermalResolutionError  # noqa: E402
from . import backends, observables  # noqa: E402
from .backends import SMatrix  # noqa: E402
from .scattering import scattering_matrix  # noqa: E402
from .engine import SweepResult, SweepSpec, load_result, sweep  # noqa: E402
from . import analysis, electrostatics, physics, plotting  # noqa: E402
# The physics modules, also as attributes of the package (qpcsim.coulomb.DotModel, ...).
from .physics import coulomb, dephasing, disorder, dots, lengths, luttinger  # noqa: E402
from .physics.adiabaticity import adiabaticity_scan  # noqa: E402
from .physics.born import born_mean_free_path  # noqa: E402
from .physics.compare import compare_disorder  # noqa: E402
from .physics.dephasing import ProbeResult, dephasing_length, probe_conductance  # noqa: E402
from .physics.disorder import DisorderField, with_disorder  # noqa: E402
from .physics.ensemble import EnsembleResult, ensemble  # noqa: E402
from .physics.fits import (fit_localization_length, fit_mean_free_path,  # noqa: E402
                           predicted_localization_length)
from .physics.lattice import LatticeError, lattice_error_estimate  # noqa: E402
from .physics.lengths import LengthScales, length_scales  # noqa: E402
from . import spectral  # noqa: E402
from .spectral import EnergyGrid, Spectrum, spectrum  # noqa: E402
from .physics.bias import bias_map, diamond_spacings, with_bias_drop  # noqa: E402
from .physics.bias_ensemble import bias_ensemble  # noqa: E402
from .physics.andreev import JosephsonJunction  # noqa: E402
from .physics.current import CurrentMap, current_density  # noqa: E402
from .physics.noise import noise  # noqa: E402
from .physics.series import temperature_series  # noqa: E402
from .physics.sgm import with_tip  # noqa: E402
from .physics.thermoelectric import thermoelectric  # noqa: E402
from .units import G0_SIEMENS, GAAS, RESISTANCE_QUANTUM_OHM, Material  # noqa: E402
from . import budget, sanity  # noqa: E402
from .engine.store import StoreWarning  # noqa: E402
from .sanity import PhysicsWarning  # noqa: E402

__all__ = [
    "Device", "Lead", "terminals", "ContinuumDevice", "BdGDevice", "GrapheneRibbon",
    "BilayerGrapheneRibbon",
    "beenakker_conductance", "JosephsonJunction",
    "Material", "GAAS", "G0_SIEMENS", "RESISTANCE_QUANTUM_OHM",
    "load_geometry", "load_geometry_module", "check_geometry_params",
    "solve", "TransportResult", "UnitarityError", "ThermalResolutionError", "solver_backend",
    "backends", "observables",
    "sweep", "SweepResult", "SweepSpec", "load_result", "analysis", "physics", "electrostatics",
    "plotting",
    "disorder", "dephasing", "lengths", "coulomb", "dots", "luttinger", "with_disorder", "ensemble",
    "EnsembleResult", "DisorderField", "born_mean_free_path", "fit_mean_free_path",
    "fit_localization_length", "predicted_localization_length", "probe_conductance",
    "ProbeResult", "dephasing_length", "length_scales", "LengthScales", "adiabaticity_scan",
    "compare_disorder", "units", "validate", "__version__",
    "lattice_error_estimate", "LatticeError",
    "budget", "sanity", "PhysicsWarning", "StoreWarning",
    "spectral", "spectrum", "Spectrum", "EnergyGrid", "noise", "thermoelectric", "bias_map",
    "diamond_spacings", "with_bias_drop", "current_density", "CurrentMap", "temperature_series",
    "with_tip", "SMatrix", "scattering_matrix",
    "bias_ensemble",
]
