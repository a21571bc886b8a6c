"""The fast path on model devices (qpcsim/backends/model_assembly.py): the Schur back
ends on any number of orbitals per site and any lattice, against plain kwant.smatrix."""
from __future__ import annotations

import kwant
import numpy as np
import pytest
import scipy.sparse

import qpcsim
from qpcsim.backends.assembly import single_threaded_blas
from qpcsim.scattering import UNITARITY_TOLERANCE
from qpcsim.solver import scattering_matrix

#: Bundled model geometries and parameters off their defaults (the potential's too, so
#: the potential-free base plus V(x, y) * potential_matrix is exercised).
#: (geometry, parameters, energy / the showcase energy).
CASES = [("rashba_wire", {"alpha": 0.0, "B": 0.3}, 4.0), ("rashba_wire", {"B": "field_T"}, 1.0),
         ("nqpc_s", {}, 1.0), ("nqpc_s", {"V0": 1.5, "phi": 0.7}, 0.5),
         ("graphene_ribbon", {"V_gate": 40.0}, 1.0), ("graphene_qpc", {"V_sg": "V_sg_meV"}, 1.0),
         ("bilayer_graphene_qpc", {"U": 45.0, "w_qpc": 32.0}, 1.0)]


@pytest.fixture(scope="module")
def devices():
    return {}


def _device(devices, name):
    if name not in devices:
        devices[name] = qpcsim.load_geometry(name)
    return devices[name]


def _params(device, params):
    return device.resolve_params({k: device.metadata[v] if isinstance(v, str) else v
                                  for k, v in params.items()})


@pytest.mark.parametrize("method", ["mumps", "scipy", "mumps-sigma"])
@pytest.mark.parametrize("name, params, scale", CASES)
def test_schur_backends_equal_kwant_smatrix_to_1e_10(devices, name, params, scale, method):
    # mumps-sigma is what auto runs on model devices (its leads as self-energies)
    if name in ("graphene_qpc", "bilayer_graphene_qpc") and method == "scipy":
        pytest.skip("SuperLU on 10k sites is slow; mumps covers this geometry")
    device = _device(devices, name)
    resolved = _params(device, params)
    energy = scale * device.metadata["energy_meV"]
    with single_threaded_blas():
        reference = kwant.smatrix(device.build(), energy / device.t, params=resolved)
    smat = scattering_matrix(device, energy, resolved, method)
    assert smat.backend == method
    assert smat.nprop == tuple(reference.num_propagating(i) for i in range(2)) and smat.nprop[0] > 0
    assert np.abs(smat.data - reference.data).max() < KWANT_TOL.get((name, scale), 1e-10)
    other = scattering_matrix(device, energy, resolved, "scipy" if method == "mumps" else "mumps")
    # ours, reproducibly: 4e-14 measured between mumps and scipy (the same linear system;
    # mumps-sigma eliminates the mode variables first: up to 5e-12 on graphene_qpc)
    assert np.abs(smat.data - other.data).max() < (1e-12 if method != "mumps-sigma" else 1e-10)


#: Where Kwant's own S is not reproducible to 1e-10: near the induced gap of nqpc_s (half
#: the metadata energy) kwant.smatrix gives S differing between processes by up to 3e-9 on
#: entries that vanish by symmetry (measured in 4 processes: 4e-13 to 3e-9 from ours, while
#: our mumps and scipy back ends agree to 4e-14 and are bit-identical run to run).
KWANT_TOL = {("nqpc_s", 0.5): 1e-8}


@pytest.mark.parametrize("name", ["rashba_wire", "nqpc_s", "graphene_ribbon"])
def test_auto_runs_the_model_fast_path_bit_reproducibly(devices, name):
    device = _device(devices, name)
    energy = device.metadata["energy_meV"]
    first = qpcsim.solve(device, energy)
    qpcsim.solve(device, 0.9 * energy)          # another point in between
    again = qpcsim.solve(device, energy)
    assert first.solver == "fast-mumps-sigma"
    assert np.array_equal(first.smatrix, again.smatrix)
    assert first.unitarity_error < 1e-10


def test_rgf_on_a_model_device_is_a_one_line_error(devices):
    device = _device(devices, "rashba_wire")
    with pytest.raises(ValueError, match="backend='rgf' does not apply.*'mumps', 'scipy' or 'kwant'"):
        qpcsim.solve(device, device.metadata["energy_meV"], method="rgf")


#: Model geometries and their gate (a potential parameter).
GATED = [("nqpc_s", "V0", (0.0, 1.3)), ("graphene_ribbon", "V_gate", (20.0, 40.0))]


@pytest.mark.parametrize("name, gate, values", GATED)
def test_a_point_is_bit_identical_whichever_point_came_first(name, gate, values):
    """The potential is added to the potential-free Hamiltonian, never subtracted from a
    full evaluation (which left the first point's rounding in the later ones): a worker
    gives the same bits whatever it solved before, as 1 or N workers must."""
    runs = []
    for order in (values, values[::-1]):
        device = qpcsim.load_geometry(name)
        energy = device.metadata["energy_meV"]
        runs.append({v: scattering_matrix(device, energy, device.resolve_params({gate: v}),
                                          "mumps").data for v in order})
    for v in values:
        assert np.array_equal(runs[0][v], runs[1][v]), v


def _gated_zigzag_ribbon():
    """Kwant's attach_lead adds lead cells to this ribbon's region: sites with the lead's
    potential-free onsite value."""
    return qpcsim.GrapheneRibbon(width=8.0, length=12.0, edge="zigzag", scale=4.0,
                                 potential=lambda x, y, V_gate=150.0:
                                 V_gate * np.exp(-(x / 4.0) ** 2) + 0.0 * y)


@pytest.mark.parametrize("make, gate, values", [
    (lambda: qpcsim.load_geometry("nqpc_s"), "V0", (0.0, 1.3)),
    (_gated_zigzag_ribbon, "V_gate", (150.0, 40.0))])
def test_assembled_entries_are_kwants_hamiltonian(make, gate, values):
    from qpcsim.backends.model_assembly import ModelAssembly
    device = make()
    assembly = ModelAssembly(device)
    assert device.potential_sites().any()
    for v in values:
        params = device.resolve_params({gate: v})
        reference = device.build().hamiltonian_submatrix(params=params, sparse=True).tocsr()
        n = len(assembly.sys_row) - assembly.n_sys
        entries = assembly.system_values(0.0, params)[:n]
        ours = scipy.sparse.coo_matrix((entries, (assembly.sys_row[:n], assembly.sys_col[:n])),
                                       shape=reference.shape).tocsr()
        # the same sum of the same terms, possibly in another order (BdG pairing): 1 ulp
        assert abs(ours - reference).max() <= 4e-16 * abs(reference).max()


def test_the_region_hamiltonian_is_evaluated_twice_for_a_build_and_a_sweep(monkeypatch):
    """Build (Hermiticity at the defaults, shared with the assembly, and at all
    parameters 1) and a gate sweep at the default lead parameters: two evaluations."""
    calls = []
    original = kwant.builder.FiniteSystem.hamiltonian_submatrix
    monkeypatch.setattr(kwant.builder.FiniteSystem, "hamiltonian_submatrix",
                        lambda self, *a, **k: calls.append(k.get("params")) or original(self, *a, **k))
    device = qpcsim.load_geometry("nqpc_s")
    energy = device.metadata["energy_meV"]
    for v0 in (0.0, 0.5, 1.0):
        smat = scattering_matrix(device, energy, device.resolve_params({"V0": v0}), "mumps")
        assert smat.unitarity_error < UNITARITY_TOLERANCE      # 7.8e-10 here, as before
    assert len(calls) == 2
