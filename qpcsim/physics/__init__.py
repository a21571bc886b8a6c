"""The physics layer: what qpcsim computes on top of the solver and the engine.

One job per module:

* :mod:`.disorder` — seeded disorder landscapes, ``with_disorder``;
* :mod:`.ensemble` — disorder ensembles on the sweep engine;
* :mod:`.born` — Born mean free path on the lattice;
* :mod:`.fits` — mean free path / localization fits, UCF reference;
* :mod:`.dephasing` — Büttiker probes, dephasing length;
* :mod:`.lengths` — the length-scale hierarchy and its verdicts;
* :mod:`.lattice` — lattice (discretization) error by a^2 extrapolation;
* :mod:`.adiabaticity` — plateau deviation vs taper length;
* :mod:`.compare` — clean vs disordered gate sweeps;
* :mod:`.dots` — non-interacting quantum dots (resonances, levels, widths);
* :mod:`.coulomb` — Coulomb blockade (constant-interaction master equation);
* :mod:`.luttinger` — Luttinger-liquid wires.
"""
import importlib as _importlib

__all__ = ["adiabaticity", "born", "compare", "coulomb", "dephasing", "disorder", "dots",
           "ensemble", "fits", "lattice", "lengths", "luttinger"]


def __getattr__(name: str):
    """Each module on first use (PEP 562): a geometry file importing ``physics.lattice``
    does not pay for the solver, the sweep engine and every other physics module."""
    try:
        if name.startswith("__"):
            raise ModuleNotFoundError(name=f"{__name__}.{name}")
        return _importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise   # the module exists and misses a dependency
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(__all__))
