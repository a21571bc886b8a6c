"""The region's mirror check once per parameter set (``backends/mirror_check.py``):
the cached deviation equals the full per-energy check bit for bit (so the decision and
the S-matrix are unchanged, also where the decision changes with the energy), a thermal
sweep is bit-identical with the cache disabled, and a parameter set is checked once."""
import numpy as np
import pytest

import qpcsim
from qpcsim.backends import FastSolver, mirror_check, solver_context
from qpcsim.backends.rgf_mirror import MIRROR_RTOL

#: x-asymmetry of the potential (lattice units): relative to the right half's entries of
#: H - E (4 + 0 - E, 3.5..3.9) it straddles the per-entry bound ENTRY_RTOL_FACTOR x
#: MIRROR_RTOL across the energies below, so the decision depends on E.
EDGE_ASYMMETRY = 9.0e-15
ENERGIES = np.linspace(0.1, 0.5, 9)


def _edge_device():
    """A wire whose right half sits EDGE_ASYMMETRY (relative) above its left half."""
    t = qpcsim.Device(width=60.0, length=100.0, a=5.0).t
    return qpcsim.Device(width=60.0, length=100.0, a=5.0,
                         potential=lambda x, y, Vg=0.0: Vg + np.where(x > 0, EDGE_ASYMMETRY * t, 0))


def _split_gate():
    """Mirror symmetric to the rounding of its x grid (~1e-16 relative)."""
    return qpcsim.load_geometry("qpc_split_gate", a=8.0)


def _full_deviation(check, values, leads):
    """The region's deviation as the uncached check computes it, written out: the absolute
    one over max|A|, and each entry's against its own size (the hopping scale below) over
    ENTRY_RTOL_FACTOR."""
    _, intra, c_l, c_r = check.rgf.prepare(values, leads)[:4]
    image, couplings = intra[check.image], check.couplings(c_l, c_r)
    rows, cols = check.rgf.intra_rc
    hop = max(np.abs(intra[rows != cols]).max(), np.abs(c_l).max(), np.abs(c_r).max())
    size = np.maximum(np.maximum(np.abs(intra), np.abs(image)), hop)
    entry = max(float(np.max(np.abs(intra - image) / size)), couplings / hop)
    whole = max(mirror_check.entry_deviation(intra, image), couplings) / np.abs(values).max()
    return max(whole, entry / mirror_check.ENTRY_RTOL_FACTOR)


@pytest.mark.parametrize("make", [_edge_device, _split_gate])
@pytest.mark.parametrize("method", ["rgf-mirror", "rgf-parity"])
def test_cached_deviation_is_the_full_check_bit_for_bit(make, method):
    device = make()
    backend = FastSolver(device, method)._impl
    checks = [c.region for c in (backend._mirror, getattr(backend, "_parity", None)
                                 and backend._parity.split) if c]
    context, assembly = solver_context(device), backend.assembly
    for gate in (0.0, 0.2):
        params = device.resolve_params({"Vg": gate} if make is _edge_device else {"Vg": -0.5 + gate})
        for energy in ENERGIES:
            leads = assembly.leads(energy, params)
            values = assembly.system_values(energy, params)
            for check in checks:
                cached = check.relative(context, assembly, energy, params, leads)
                assert cached == _full_deviation(check, values, leads)
    assert [c.checks for c in checks if c.name == "y-mirror"] in ([], [2])


def test_the_decision_depends_on_the_energy_and_the_cache_keeps_it(monkeypatch):
    """Why the decision is not cached: at one parameter set the x-mirror holds to the
    per-entry bound at some energies only (the entries of H - E move with E)."""
    runs = {}
    for kept in (mirror_check.MIRROR_CHECKS_KEPT, 0):
        monkeypatch.setattr(mirror_check, "MIRROR_CHECKS_KEPT", kept)
        device = _edge_device()
        solver = FastSolver(device, "rgf-mirror")
        params = device.resolve_params({})
        runs[kept] = [solver.smatrix(e, params) for e in ENERGIES]
        assert solver._impl._mirror.region.checks == (1 if kept else 0)
    cached, full = runs.values()
    assert {s.backend for s in cached} == {"rgf-mirror", "rgf"}
    assert [s.backend for s in cached] == [s.backend for s in full]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(cached, full))
    # the fallback points really are outside the bound, the mirror ones inside (the
    # deviation written out; the asymmetry is rounded to ulps of the entries ~3.5-3.9)
    check, assembly = solver._impl._mirror.region, solver._impl.assembly
    for energy, smat in zip(ENERGIES, cached):
        leads = assembly.leads(energy, params)
        deviation = _full_deviation(check, assembly.system_values(energy, params), leads)
        assert smat.backend == ("rgf-mirror" if deviation <= MIRROR_RTOL else "rgf")


@pytest.mark.parametrize("method", ["rgf-mirror", "rgf-parity"])
def test_thermal_sweep_bit_identical_without_the_cache_and_one_check_per_gate(monkeypatch,
                                                                              method):
    gates = np.array([-0.55, -0.5, -0.45])
    results = []
    for kept in (mirror_check.MIRROR_CHECKS_KEPT, 0):
        monkeypatch.setattr(mirror_check, "MIRROR_CHECKS_KEPT", kept)
        sweep = qpcsim.sweep(_split_gate(), over={"Vg": gates}, energy=5.0, temperature=0.1,
                             workers=1, progress=False, method=method)
        results.append(sweep.data)
    cached, full = results
    assert cached.attrs["solver"] == f"fast-{method}"
    for name in cached.data_vars:
        assert np.array_equal(cached[name].values, full[name].values), name
    # one energy-free check per gate point and mirror, however many energies
    device = _split_gate()
    monkeypatch.setattr(mirror_check, "MIRROR_CHECKS_KEPT", 64)
    for gate in gates:
        qpcsim.solve(device, 5.0, temperature=0.1, Vg=gate, method=method)
    backend = solver_context(device).backends[method]._impl
    assert sum(backend.counts.values()) > 5 * len(gates)
    checks = [backend._mirror.region.checks]
    if method == "rgf-parity":
        checks.append(backend._parity.split.region.checks)
    assert checks == [len(gates)] * len(checks)
