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
    assert result.unitarity_error < 1e-10 and result.solver == "fast-mumps"


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


@pytest.mark.parametrize("edge", ["zigzag", "armchair"])
def test_equals_a_hand_written_kwant_ribbon_to_1e_10(edge):
    """The same ribbon and gate written directly with kwant.lattice (hopping -t, V on site)."""
    import kwant

    def gate(x, y, V_gate=150.0):
        return V_gate * np.exp(-(x / 4.0) ** 2) + 0.0 * y

    ribbon = qpcsim.GrapheneRibbon(width=8.0, length=12.0, edge=edge, scale=4.0, potential=gate)
    t, a = ribbon.t, ribbon.a
    lat = (kwant.lattice.honeycomb(a, norbs=1) if edge == "zigzag" else
           kwant.lattice.general([(0, a), (np.sqrt(3) * a / 2, a / 2)],
                                 [(0, 0), (a / np.sqrt(3), 0)], norbs=1))
    period = a if edge == "zigzag" else np.sqrt(3) * a

    def ribbon_shape(pos):
        return abs(pos[1]) < 4.0 - 1e-9

    syst = kwant.Builder()
    syst[lat.shape(lambda p: ribbon_shape(p) and abs(p[0]) <= 6.0 + 1e-9, (0, 0))] = \
        lambda site: gate(*site.pos) / t
    syst[lat.neighbors()] = -1.0
    syst.eradicate_dangling()
    for direction in (-1, 1):
        lead = kwant.Builder(kwant.TranslationalSymmetry((direction * period, 0)))
        lead[lat.shape(ribbon_shape, (0, 0))] = 0.0
        lead[lat.neighbors()] = -1.0
        lead.eradicate_dangling()
        syst.attach_lead(lead)
    ref = syst.finalized()
    for energy in (40.0, 150.0):
        result = qpcsim.solve(ribbon, energy)
        smat = kwant.smatrix(ref, energy / t)
        assert abs(result.transmission - smat.transmission(1, 0)) < 1e-10
        eig = np.sort(np.linalg.svd(smat.submatrix(1, 0), compute_uv=False) ** 2)[::-1]
        np.testing.assert_allclose(result.transmission_eigenvalues, eig, atol=1e-10)


def test_graphene_split_gate_qpc_steps_by_4e2_over_h_at_n_plus_half():
    """graphene_qpc: with the local Fermi energy under the gates on the ribbon's lowest plateau,
    narrowing the channel steps G through (4e^2/h)(n + 1/2) = 5, 3, 1 G0, each to 0.01 G0
    (measured 4.99990, 3.00020, 1.00220 at w_qpc = 37.5, 25, 2.5 nm). Control: gates that dope
    p-type (V_sg = 1.5 E) leak by Klein tunnelling (G off the plateau by > 0.1 G0)."""
    qpc = qpcsim.load_geometry("graphene_qpc")
    energy, v_sg = qpc.metadata["energy_meV"], qpc.metadata["V_sg_meV"]
    assert 0 < energy - v_sg < qpc.plateau_energy(1)              # gated region: lowest plateau
    assert abs(qpcsim.solve(qpc, energy, V_sg=0.0).conductance - 5.0) < 1e-6  # ungated ribbon
    for w_qpc, expected in ((37.5, 5.0), (25.0, 3.0), (2.5, 1.0)):
        result = qpcsim.solve(qpc, energy, w_qpc=w_qpc)
        assert abs(result.conductance - expected) < 0.01, (w_qpc, result.conductance)
    leaky = qpcsim.solve(qpc, energy, w_qpc=25.0, V_sg=1.5 * energy).conductance
    assert abs(leaky - 3.0) > 0.1
    with pytest.raises(ValueError, match="w_qpc=50.0 nm is not allowed"):
        qpcsim.solve(qpc, energy, w_qpc=50.0)
