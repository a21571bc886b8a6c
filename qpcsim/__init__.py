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
import importlib as _importlib
import warnings as _warnings

# Kwant warns at import that plotly (an optional plotting engine qpcsim does not use) is absent.
_warnings.filterwarnings("ignore", message="plotly is not available", category=RuntimeWarning)

from ._version import __version__  # noqa: E402

#: Where each public name lives; imported on first use (PEP 562), so that ``import qpcsim``
#: costs milliseconds and a solve never loads plotting, xarray, pandas, Dask or tqdm.
_EXPORTS = {
    ".device": ["Device"],
    ".terminals": ["Lead"],
    ".hamiltonian": ["ContinuumDevice"],
    ".lattices": ["BilayerGrapheneRibbon", "GrapheneRibbon"],
    ".superconductivity": ["BdGDevice", "beenakker_conductance"],
    ".geometry": ["check_geometry_params", "load_geometry", "load_geometry_module"],
    ".solver": ["TransportResult", "UnitarityError", "solve", "solver_backend"],
    ".spectral.refine": ["ThermalResolutionError"],
    ".backends": ["SMatrix"],
    ".scattering": ["scattering_matrix"],
    ".engine": ["SweepResult", "SweepSpec", "load_result", "sweep"],
    ".physics.adiabaticity": ["adiabaticity_scan"],
    ".physics.born": ["born_mean_free_path"],
    ".physics.compare": ["compare_disorder"],
    ".physics.dephasing": ["ProbeResult", "dephasing_length", "probe_conductance"],
    ".physics.disorder": ["DisorderField", "with_disorder"],
    ".physics.ensemble": ["EnsembleResult", "ensemble"],
    ".physics.fits": ["fit_localization_length", "fit_mean_free_path",
                      "predicted_localization_length"],
    ".physics.lattice": ["LatticeError", "lattice_error_estimate"],
    ".physics.lengths": ["LengthScales", "length_scales"],
    ".spectral": ["EnergyGrid", "Spectrum", "spectrum"],
    ".physics.bias": ["bias_map", "diamond_spacings", "with_bias_drop"],
    ".physics.bias_ensemble": ["bias_ensemble"],
    ".physics.andreev": ["JosephsonJunction"],
    ".physics.current": ["CurrentMap", "current_density"],
    ".physics.noise": ["noise"],
    ".physics.series": ["temperature_series"],
    ".physics.sgm": ["with_tip"],
    ".physics.thermoelectric": ["thermoelectric"],
    ".units": ["G0_SIEMENS", "GAAS", "RESISTANCE_QUANTUM_OHM", "Material"],
    ".engine.store": ["StoreWarning"],
    ".sanity": ["PhysicsWarning"],
}
#: Modules reachable as attributes: the subpackages and foundation modules, and the
#: physics modules also as ``qpcsim.coulomb``, ``qpcsim.lengths``, ...
_MODULES = {name: f".{name}" for name in [
    "units", "validate", "terminals", "backends", "observables", "analysis", "electrostatics",
    "physics", "plotting", "spectral", "budget", "sanity", "engine"]}
_MODULES.update({name: f".physics.{name}" for name in [
    "coulomb", "dephasing", "disorder", "dots", "lengths", "luttinger"]})
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str):
    """Import a public name or a module (any submodule too: ``qpcsim.solver``) on first
    access and keep it (PEP 562)."""
    if name in _WHERE:
        value = getattr(_importlib.import_module(_WHERE[name], __name__), name)
    elif name in _MODULES:
        value = _importlib.import_module(_MODULES[name], __name__)
    elif name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        try:
            value = _importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise   # the submodule exists and misses a dependency
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE) | set(_MODULES))


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
