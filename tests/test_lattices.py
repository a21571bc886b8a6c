"""GrapheneRibbon (qpcsim/lattices.py) and the graphene_ribbon geometry: lead bands against
graphene's analytic dispersion, zigzag plateaus (4e^2/h)(n + 1/2), armchair metal or insulator."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.hamiltonian import lead_bands
from qpcsim.lattices import armchair_ribbon_bands, bilayer_bands


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
    assert result.unitarity_error < 1e-10 and result.solver == "fast-mumps-sigma"


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
    with pytest.raises(ValueError, match=r"energy=0 meV is not allowed on a zigzag ribbon"):
        qpcsim.solve(zigzag, 0.0)                      # was Kwant's "Matrix is singular"


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


# ---------------------------------------------------------------- Bernal bilayer graphene
@pytest.fixture(scope="module")
def bilayer():
    return qpcsim.BilayerGrapheneRibbon(width=10.0, length=5.0, scale=4.0, U=60.0)


@pytest.fixture(scope="module")
def bilayer_qpc():
    return qpcsim.load_geometry("bilayer_graphene_qpc")


@pytest.mark.parametrize("U", [0.0, 60.0, -25.0])
def test_bilayer_lead_bands_are_the_analytic_mexican_hat(bilayer, U):
    """Each armchair transverse mode p (|f_p(k)| = t sqrt(1 + 4 c_p cos(k/2) + 4 c_p^2)) gives
    the bilayer's E^2 = |f|^2 + gamma1^2/2 + U^2/4 -+ sqrt(gamma1^4/4 + |f|^2 (gamma1^2 + U^2)),
    with U a runtime parameter: all 4N bands to 1e-9 meV (measured 6.5e-12 meV)."""
    rows = bilayer.dimer_lines()
    c = np.cos(np.arange(1, rows + 1) * np.pi / (rows + 1))
    k = np.linspace(-np.pi, np.pi, 41)
    ours = lead_bands(bilayer.build().leads[0], bilayer.resolve_params({"U": U}), k) * bilayer.t
    f_abs = bilayer.t * np.sqrt(np.maximum(1 + 4 * c * np.cos(k[:, None] / 2) + 4 * c**2, 0))
    analytic = np.sort(bilayer_bands(f_abs, bilayer.gamma1, U).reshape(len(k), -1), axis=1)
    assert ours.shape == analytic.shape == (len(k), 4 * rows)
    assert np.abs(ours - analytic).max() < 1e-9


@pytest.mark.parametrize("U", [20.0, 60.0, 200.0])
def test_bilayer_gap_is_the_mexican_hat_minimum_and_the_lead_is_closed_inside(bilayer, U):
    """Band edge of the biased bilayer U gamma1 / (2 sqrt(gamma1^2 + U^2)) (McCann & Koshino)
    is the minimum of the analytic conduction band (to 1e-6 meV on a 1e-3 meV grid of |f|);
    the ungated ribbon carries G = 0 below it (0.9 x the edge, < 1e-9 G0)."""
    gamma1 = bilayer.gamma1
    edge = U * gamma1 / (2 * np.hypot(gamma1, U))
    f_abs = np.arange(0.0, U, 1e-3)
    assert abs(bilayer_bands(f_abs, gamma1, U)[:, 2].min() - edge) < 1e-6
    assert qpcsim.solve(bilayer, 0.9 * edge, U=U).conductance < 1e-9


def test_bilayer_equals_a_hand_written_kwant_bilayer_to_1e_10():
    """The same Bernal armchair bilayer (layer 2 shifted by one bond along x, gamma1 on the
    B1-A2 dimers, +-U/2 per layer, a gate on both layers) written directly with Kwant."""
    import kwant

    def gate(x, y, V_gate=80.0):
        return V_gate * np.exp(-(x / 4.0) ** 2) + 0.0 * y

    ribbon = qpcsim.BilayerGrapheneRibbon(width=8.0, length=12.0, scale=4.0, potential=gate,
                                          gamma1=350.0)
    t, a, U = ribbon.t, ribbon.a, 45.0
    prim = [(0, a), (np.sqrt(3) * a / 2, a / 2)]
    top = kwant.lattice.general(prim, [(0, 0), (a / np.sqrt(3), 0)], norbs=1)
    bottom = kwant.lattice.general(prim, [(a / np.sqrt(3), 0), (2 * a / np.sqrt(3), 0)], norbs=1)

    def fill(builder, shape, gated):
        for lat, sign in ((top, 1), (bottom, -1)):
            builder[lat.shape(shape, (0, 0))] = (
                lambda site, s=sign: (s * U / 2 + gated * gate(*site.pos)) / t)
            builder[lat.neighbors()] = -1.0
        builder.eradicate_dangling()
        builder[kwant.builder.HoppingKind((0, 0), bottom.sublattices[0], top.sublattices[1])] \
            = 350.0 / t

    def ribbon_shape(pos):
        return abs(pos[1]) < 4.0 - 1e-9

    syst = kwant.Builder()
    fill(syst, lambda p: ribbon_shape(p) and abs(p[0]) <= 6.0 + 1e-9, 1.0)
    for direction in (-1, 1):
        lead = kwant.Builder(kwant.TranslationalSymmetry((direction * np.sqrt(3) * a, 0)))
        fill(lead, ribbon_shape, 0.0)
        syst.attach_lead(lead)
    ref = syst.finalized()
    assert len(ref.sites) == len(ribbon.build().sites)
    for energy in (40.0, 150.0):
        result = qpcsim.solve(ribbon, energy, U=U)
        smat = kwant.smatrix(ref, energy / t)
        assert abs(result.transmission - smat.transmission(1, 0)) < 1e-10
        eig = np.sort(np.linalg.svd(smat.submatrix(1, 0), compute_uv=False) ** 2)[::-1]
        np.testing.assert_allclose(result.transmission_eigenvalues, eig, atol=1e-10)
        assert result.solver == "fast-mumps-sigma" and result.unitarity_error < 1e-10


def test_bilayer_graphene_qpc_steps_by_4e2_over_h(bilayer_qpc):
    """bilayer_graphene_qpc (U = 60 meV, E = 40 meV, V_sg = E: the Fermi energy midgap under
    the gates): pinched off at w_qpc = 0 (< 1e-4 G0; measured 1.8e-6), then plateaus
    G = 2, 4, 6 G0 (steps of 4e^2/h) to 0.02 G0 (measured 2.00002, 3.99210, 5.99373 at
    w_qpc = 20, 32, 52 nm). Control: without the bias (U = 0, no gap under the gates) the
    gates do not pinch off (measured G = 1.20 at w_qpc = 0)."""
    qpc = bilayer_qpc
    energy = qpc.metadata["energy_meV"]
    assert abs(qpcsim.solve(qpc, energy, V_sg=0.0).conductance - 7.0) < 1e-6   # ungated: 7 modes
    assert qpcsim.solve(qpc, energy, w_qpc=0.0).conductance < 1e-4
    for w_qpc, expected in ((20.0, 2.0), (32.0, 4.0), (52.0, 6.0)):
        result = qpcsim.solve(qpc, energy, w_qpc=w_qpc)
        assert abs(result.conductance - expected) < 0.02, (w_qpc, result.conductance)
        assert result.unitarity_error < 1e-10
    assert qpcsim.solve(qpc, energy, w_qpc=0.0, U=0.0).conductance > 0.5


@pytest.mark.parametrize("kwargs, message", [
    ({"gamma1": -380.0}, r"gamma1=-380.0 meV is not allowed: it must be > 0"),
    ({"gamma1": 0.0}, r"gamma1=0.0 meV is not allowed: it must be > 0"),
    ({"U": float("nan")}, r"U=nan meV is not allowed: it must be finite"),
    ({"scale": 0.5}, r"scale=0.5 is not allowed"),
    ({"potential": lambda x, y, U=1.0: U + 0 * x},
     r"potential parameter 'U' is not allowed: U is the interlayer bias"),
])
def test_bad_bilayer_input_is_a_one_line_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        qpcsim.BilayerGrapheneRibbon(width=8.0, length=8.0, **kwargs)


def test_bad_bilayer_runtime_input_is_a_one_line_error(bilayer, bilayer_qpc):
    with pytest.raises(ValueError, match=r"U=inf meV is not allowed: it must be finite"):
        qpcsim.solve(bilayer, 40.0, U=float("inf"))
    with pytest.raises(ValueError, match=r"energy=5000 meV is not allowed with a_s=0.984 nm"):
        qpcsim.solve(bilayer, 5000.0)
    with pytest.raises(ValueError, match=r"w_qpc=70.0 nm is not allowed"):
        qpcsim.solve(bilayer_qpc, 40.0, w_qpc=70.0)
    with pytest.raises(ValueError, match=r"energy=0 meV is not allowed at U=0 meV: the bilayer's "
                                         "two low bands touch there"):
        qpcsim.solve(bilayer, 0.0, U=0.0)      # was G = 0 with 0 and 1 modes in equal leads


@pytest.mark.parametrize("make", [
    lambda: qpcsim.BilayerGrapheneRibbon(width=20.0, length=1.0, scale=6),
    lambda: qpcsim.GrapheneRibbon(width=20.0, length=1.0, scale=6),
    lambda: qpcsim.GrapheneRibbon(width=20.0, length=0.5, scale=6, edge="zigzag"),
])
def test_ribbon_shorter_than_two_lead_periods_is_a_one_line_error(make):
    """Kwant would refuse to attach the leads (its traceback names lattice families)."""
    with pytest.raises(ValueError, match=r"length=.* nm is not allowed .* two lead periods"):
        make()


@pytest.mark.parametrize("U", [0.0, 380.0, 1000.0])
def test_bilayer_energy_bound_is_lambda_f_of_four_sites_at_the_points_bias(bilayer, U):
    """|E| is allowed up to the low band at k = 2 pi/(4 a_s) at this U (McCann & Koshino's
    E^2 = f^2 + g^2/2 + U^2/4 - sqrt(g^4/4 + f^2 (g^2 + U^2)), f = hbar v_F k): the biased
    band is lower there, so the unbiased bound let lambda_F fall to 2.9 a_s at U = 1 eV."""
    g, a = bilayer.gamma1, bilayer.a
    f = np.sqrt(3) / 2 * bilayer.t * a * 2 * np.pi / (4 * a)
    e_max = np.sqrt(f**2 + g**2 / 2 + U**2 / 4 - np.sqrt(g**4 / 4 + f**2 * (g**2 + U**2)))
    assert bilayer.check_fermi_energy(e_max * (1 - 1e-9), {"U": U}) == e_max * (1 - 1e-9)
    with pytest.raises(ValueError, match="lambda_F needs"):
        bilayer.check_fermi_energy(e_max * (1 + 1e-9), {"U": U})
    unbiased = 0.5 * (np.sqrt(g**2 + 4 * f**2) - g)
    assert e_max == pytest.approx(unbiased, rel=1e-12) if U == 0 else e_max < 0.95 * unbiased


@pytest.mark.parametrize("call, message", [
    (lambda: qpcsim.lattices.bilayer_bands([1.0], "x"), "gamma1='x' is not allowed"),
    (lambda: qpcsim.lattices.bilayer_bands([1.0], -380.0), "gamma1=-380.0 meV is not allowed"),
    (lambda: qpcsim.lattices.bilayer_bands("a", 380.0), "f_abs='a' is not allowed"),
    (lambda: qpcsim.lattices.bilayer_bands([np.nan], 380.0), r"f_abs=\[nan\] is not allowed"),
    (lambda: qpcsim.BilayerGrapheneRibbon(width=8.0, length=8.0, U=5.0, params={"U": 7.0}),
     r"params=\{'U': 7.0\} is not allowed: U is the interlayer bias, give it as U="),
])
def test_bilayer_bands_and_bias_refuse_bad_input_in_one_line(call, message):
    with pytest.raises(ValueError, match=message):
        call()
