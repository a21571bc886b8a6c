"""GrapheneRibbon (qpcsim/lattices.py) and the graphene_ribbon geometry: lead bands against
graphene's analytic dispersion, zigzag plateaus (4e^2/h)(n + 1/2), armchair metal or insulator."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.hamiltonian import lead_bands
from qpcsim.lattices import armchair_ribbon_bands


@pytest.fixture(scope="module")
def zigzag():
    return qpcsim.load_geometry("graphene_ribbon", edge="zigzag")


@pytest.mark.parametrize("W", [19.0, 20.0])
def test_armchair_lead_bands_are_the_analytic_graphene_dispersion(W):
    """E_p(k) = +-t sqrt(1 + 4 c_p cos(k/2) + 4 c_p^2), c_p = cos(p pi/(N+1)): graphene's
    dispersion at the N quantized transverse momenta, to 1e-10 t."""
    ribbon = qpcsim.GrapheneRibbon(width=W, length=5.0, edge="armchair", scale=4.0)
    rows = ribbon.dimer_lines()
    k = np.linspace(-np.pi, np.pi, 41)
    ours = lead_bands(ribbon.build().leads[0], {}, k)
    analytic = np.array([armchair_ribbon_bands(kk, rows) for kk in k])
    assert ours.shape == analytic.shape
    assert np.abs(ours - analytic).max() < 1e-10


@pytest.mark.parametrize("plateau, expected", [(1, 1.0), (2, 3.0), (3, 5.0)])
def test_zigzag_ribbon_plateaus_are_4e2_over_h_times_n_plus_half(zigzag, plateau, expected):
    """G = (4e^2/h)(n + 1/2) = 1, 3, 5 G0 (G0 = 2e^2/h) to 1e-6 at each plateau's middle."""
    energy = zigzag.plateau_energy(plateau)
    result = qpcsim.solve(zigzag, energy)
    assert abs(result.conductance - expected) < 1e-6
    assert result.unitarity_error < 1e-10 and result.solver == "kwant"


def test_showcase_energy_is_on_the_second_plateau(zigzag):
    energy = zigzag.metadata["energy_meV"]
    assert abs(qpcsim.solve(zigzag, energy).conductance - 3.0) < 1e-6
    # the gate pulls the local Dirac point to E: transmission drops well below the plateau
    assert qpcsim.solve(zigzag, energy, V_gate=energy).conductance < 2.5


@pytest.mark.parametrize("W", [19.0, 20.0, 21.0])
def test_armchair_ribbon_is_metallic_or_gapped_by_width(W):
    """Metallic iff N + 1 is a multiple of 3; otherwise G = 0 below the analytic gap edge
    E_g/2 = t min_p |1 + 2 c_p| and G = 1 just above it."""
    ribbon = qpcsim.load_geometry("graphene_ribbon", edge="armchair", W=W)
    rows = ribbon.dimer_lines()
    c = np.cos(np.arange(1, rows + 1) * np.pi / (rows + 1))
    edge_meV = ribbon.t * np.abs(1 + 2 * c).min()
    metallic = (rows + 1) % 3 == 0
    assert metallic == (edge_meV < 1e-9 * ribbon.t)
    if metallic:
        assert abs(qpcsim.solve(ribbon, 5.0).conductance - 1.0) < 1e-9
    else:
        assert qpcsim.solve(ribbon, 0.9 * edge_meV).conductance < 1e-9
        assert abs(qpcsim.solve(ribbon, 1.1 * edge_meV).conductance - 1.0) < 1e-9
    assert metallic == (W == 20.0)


def test_bad_graphene_input_is_a_one_line_error(zigzag):
    with pytest.raises(ValueError, match=r"edge='chiral' is not allowed: use 'zigzag' or 'armchair'"):
        qpcsim.GrapheneRibbon(width=10.0, length=10.0, edge="chiral")
    with pytest.raises(ValueError, match=r"energy=2000 meV is not allowed with a_s=0.984 nm"):
        qpcsim.solve(zigzag, 2000.0)
    with pytest.raises(ValueError, match=r"scale=0.5 is not allowed"):
        qpcsim.GrapheneRibbon(width=10.0, length=10.0, scale=0.5)
