"""Every registered back end against plain ``kwant.smatrix`` (the ``kwant`` back end against
the fast path's MUMPS), against the analytic clean wire, and the registry's contract."""

import dataclasses

import numpy as np
import pytest

import qpcsim
from conftest import fewmode_energy, geometry_case
from qpcsim.backends import (BackendInfo, BackendNotApplicable, choose_backend, register,
                             registered)

from conftest import DEVICE_GEOMETRIES as GEOMETRIES  # noqa: E402
#: Small lattices: the back ends differ only in how they invert one matrix.
SMALL = {"qpc_saddle": dict(a=5.0, W=150.0, L=200.0), "qpc_hardwall": dict(a=5.0, L_taper=60.0),
         "qpc_split_gate": dict(a=8.0), "disordered_wire": dict(a=5.0, W=60.0, L=150.0)}


@pytest.mark.parametrize("name", GEOMETRIES)
@pytest.mark.parametrize("variant", ["B=0", "B=0.7T", "zeeman"])
def test_every_backend_equals_kwant_on_every_geometry(backend, name, variant):
    device, extra = geometry_case(name, variant, SMALL)
    energy = fewmode_energy(device)
    result = qpcsim.solve(device, energy, method=backend, **extra)
    # plain kwant.smatrix is the reference of every other back end; the kwant back end itself
    # is checked against an independent one (the fast path's MUMPS Schur complement), never
    # against itself
    ref = qpcsim.solve(device, energy, method="kwant" if backend != "kwant" else "mumps",
                       **extra)
    assert result.open_modes == ref.open_modes and sum(ref.open_modes) > 0
    # Mode phases are a convention (at B != 0 even Kwant's own depend on BLAS
    # threading), so compare |S_mn| and the gauge-invariant eigenvalues. The reference's own
    # error is part of the bound: Kwant's MUMPS alternates in its last bits between calls,
    # and once (the self-consistent split gate with Zeeman) its S was 1.1e-10 off unitarity
    # and off the fast path's by as much, where it is 1e-12 on other runs.
    assert ref.unitarity_error < 1e-9
    tol = 1e-10 + 2 * ref.unitarity_error
    assert np.abs(np.abs(result.smatrix) - np.abs(ref.smatrix)).max() < tol
    np.testing.assert_allclose(result.transmission_eigenvalues, ref.transmission_eigenvalues,
                               atol=tol)
    assert result.unitarity_error < 1e-10


@pytest.mark.parametrize("B", [0.0, 0.7])
def test_every_backend_on_the_analytic_clean_wire(backend, B):
    """A clean wire transmits every open lead mode with certainty: T_n = 1, G = N (the
    count of band-bottom thresholds below E at B = 0), independent of any back end."""
    wire = qpcsim.Device(width=60.0, length=40.0, a=5.0)
    energy = 9.0
    result = qpcsim.solve(wire, energy, method=backend, B=B)
    n_open = result.open_modes[0]
    if B == 0:
        assert n_open == int(np.sum(wire.transverse_mode_energies() < energy))
    assert n_open > 1
    assert abs(result.conductance - n_open) < 1e-10
    np.testing.assert_allclose(result.transmission_eigenvalues, 1.0, atol=1e-10)


def test_result_names_the_backend_that_ran(backend):
    device = qpcsim.Device(width=60.0, length=100.0, a=5.0)
    result = qpcsim.solve(device, 10.0, method=backend)
    info = qpcsim.backends.backend_info(backend)
    assert result.solver == (f"fast-{backend}" if info.fast_path else backend)
    assert result.conductance == pytest.approx(
        qpcsim.solve(device, 10.0, method="kwant").conductance, abs=1e-10)


def test_unknown_method_lists_the_registered_backends():
    device = qpcsim.Device(width=60.0, length=100.0, a=5.0)
    with pytest.raises(ValueError) as err:
        qpcsim.solve(device, 10.0, method="superlu")
    message = str(err.value)
    assert message.startswith("method='superlu' is not allowed: use one of 'auto', 'fast'")
    for name in registered():
        assert repr(name) in message


def test_backend_that_does_not_apply_says_why():
    device = qpcsim.Device(width=30.0, length=5.0, a=5.0)     # two columns: MUMPS refuses
    with pytest.raises(ValueError, match="backend='mumps' does not apply to this device: a "
                                         "device 2 sites long"):
        qpcsim.solve(device, 10.0, method="mumps")
    assert qpcsim.solve(device, 10.0).solver == "fast-rgf"    # auto picks one that applies


def test_auto_rule_asks_the_registry(monkeypatch):
    """A registered back end with a cheaper cost model becomes the auto choice;
    without a cost model it is never chosen automatically."""
    from qpcsim.backends import registry
    assert choose_backend(100, 50) == "rgf" and choose_backend(400, 200) == "mumps"

    class Reference:
        name = "cheap"

        def __init__(self, device, assembly):
            self._impl = qpcsim.backends.create_backend(device, "mumps", assembly)

        def smatrix(self, energy, params):
            return dataclasses.replace(self._impl.smatrix(energy, params), backend=self.name)

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register(BackendInfo("cheap", Reference, fast_path=True, summary="test", cost=lambda *a: 0.0))
    assert choose_backend(400, 200) == "cheap"
    device = qpcsim.Device(width=60.0, length=100.0, a=5.0)
    assert qpcsim.solve(device, 10.0).solver == "fast-cheap"
    with pytest.raises(ValueError, match="already registered"):
        register(BackendInfo("cheap", Reference, fast_path=True, summary="again"))


def test_backend_not_applicable_is_a_value_error():
    assert issubclass(BackendNotApplicable, ValueError)
