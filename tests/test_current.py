"""Current density of scattering states: conservation, cross-sections = transmission, errors."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim
from qpcsim.cli import main


@pytest.fixture(scope="module")
def saddle():
    return qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


@pytest.fixture(scope="module")
def cmap(saddle):
    return qpcsim.current_density(saddle, 8.0, V0=4.0)


def test_divergence_free_at_interior_sites(cmap):
    x = cmap.x
    interior = (x > x.min() + 1e-9) & (x < x.max() - 1e-9)
    assert np.abs(cmap.divergence()[interior]).max() < 1e-10
    assert np.abs(cmap.divergence(per_mode=True)[:, interior]).max() < 1e-10
    # the lead interfaces are where the current enters and leaves: not zero there
    assert np.abs(cmap.divergence()[~interior]).max() > 1e-3


def test_cross_sections_carry_the_transmission(saddle, cmap):
    t = qpcsim.solve(saddle, 8.0, V0=4.0).transmission
    assert 0.5 < t < 3.5
    assert cmap.transmission.sum() == pytest.approx(t, abs=1e-10)
    for x_cut in (-97.5, -42.5, 2.5, 57.5, 97.5):
        assert cmap.through(x_cut) == pytest.approx(t, abs=1e-10)
    to, frm = cmap.bonds[:, 0], cmap.bonds[:, 1]
    crossing = (cmap.x[frm] < 2.5) & (cmap.x[to] > 2.5)
    for m in cmap.modes:        # mode by mode: sum_n |t_nm|^2
        assert cmap.bond_current[m][crossing].sum() == pytest.approx(cmap.transmission[m], abs=1e-10)
    back = qpcsim.current_density(saddle, 8.0, lead=1, V0=4.0)
    assert back.through(2.5) == pytest.approx(-t, abs=1e-10)     # from the right lead: flows left
    jx, jy = cmap.site_current()
    assert jx.shape == cmap.x.shape and np.all(np.isfinite(jy))
    assert np.all(cmap.density >= 0)


def test_current_bad_input(saddle, monkeypatch):
    with pytest.raises(ValueError, match=r"mode=99 is not allowed: lead 0 has \d+ open mode"):
        qpcsim.current_density(saddle, 8.0, mode=99, V0=4.0)
    with pytest.raises(ValueError, match="lead=2 is not allowed: use 0 .left. or 1 .right."):
        qpcsim.current_density(saddle, 8.0, lead=2)
    with pytest.raises(ValueError, match=r"lead=1.0 is not allowed"):   # was a TypeError in Kwant
        qpcsim.current_density(saddle, 8.0, lead=1.0)
    with pytest.raises(ValueError, match="energy=0.1 meV is not allowed"):
        qpcsim.current_density(saddle, 0.1)
    other = qpcsim.load_geometry("qpc_saddle", a=5.0, W=150.0, L=200.0)
    monkeypatch.setattr(qpcsim.backends.solver_context(other), "fast_path", False)
    with pytest.raises(ValueError, match="no fast-path system"):
        qpcsim.current_density(other, 8.0)


def test_cli_current(tmp_path, capsys):
    out = tmp_path / "current.png"
    code = main(["current", "qpc_saddle", "--set", "a=10", "--set", "W=150", "--set", "L=200",
                 "--param", "V0=4", "--energy", "8", "--mode", "0", "--out", str(out)])
    assert code == 0 and out.exists()
    assert "current through x = 0" in capsys.readouterr().out
    assert main(["current", "qpc_saddle", "--set", "a=10", "--set", "W=150", "--set", "L=200",
                 "--energy", "8", "--mode", "50", "--out", str(out)]) == 2


def test_rashba_wire_current_map_carries_the_transmission():
    """A 2-orbital ContinuumDevice (Rashba + Zeeman + Anderson disorder): Kwant's Current sums
    the orbitals with the spin-orbit hoppings; two cross-sections and every mode carry the
    transmission to 1e-10, the interior is divergence-free to 1e-10."""
    wire = qpcsim.with_disorder(qpcsim.load_geometry("rashba_wire", W=40.0, L=60.0), 30.0,
                                seed=2)
    cmap = qpcsim.current_density(wire, 20.0, B=0.5)
    t = qpcsim.solve(wire, 20.0, B=0.5).transmission
    assert 1.0 < t < 1.95                                    # disorder backscatters
    assert cmap.transmission.sum() == pytest.approx(t, abs=1e-10)
    for x_cut in (-17.5, 2.5):
        assert cmap.through(x_cut) == pytest.approx(t, abs=1e-10)
    interior = (cmap.x > cmap.x.min() + 1e-9) & (cmap.x < cmap.x.max() - 1e-9)
    assert np.abs(cmap.divergence()[interior]).max() < 1e-10
    assert cmap.density.shape == (len(cmap.modes), cmap.x.size)      # summed over orbitals
    bdg = qpcsim.load_geometry("nqpc_s")
    with pytest.raises(ValueError, match="lead=1 is not allowed for a Bogoliubov-de Gennes "
                                         "device: electrons are injected from its normal lead 0"):
        qpcsim.current_density(bdg, bdg.metadata["energy_meV"], lead=1)


def _ns_barrier(x, y, V0=4.0):
    return V0 * np.exp(-(x / 15.0) ** 2) + 0.0 * y


def test_bdg_current_map_carries_the_andreev_conductance():
    """Electrons injected from the normal lead of an N-S wire: through every cut the
    electron current is 1 - R_ee, the hole current -R_he (reflected holes run left) and
    the charge current (tau_z) G_NS/G0 = N_e - R_ee + R_he of solve(), all from the
    S-matrix, to 1e-10; divergence free (no pairing in the scattering region)."""
    import dataclasses

    from qpcsim.superconductivity import BdGDevice
    device = BdGDevice(width=30.0, length=50.0, a=5.0, mu=10.0, Delta=1.0, potential=_ns_barrier)
    cmap = qpcsim.current_density(device, 0.0)
    result = qpcsim.solve(device, 0.0)
    n0, n_e = result.open_modes[0], len(cmap.modes)
    r = result.smatrix[:n0, :n0]
    r_ee, r_he = np.sum(np.abs(r[:n_e, :n_e]) ** 2), np.sum(np.abs(r[n_e:, :n_e]) ** 2)
    assert 0.05 < result.conductance < 1.9 and n_e == n0 // 2
    electrons = dataclasses.replace(cmap, bond_current=cmap.electron_current)
    holes = dataclasses.replace(cmap, bond_current=cmap.hole_current)
    for x_cut in (-22.0, 2.0, 22.0):
        assert cmap.through(x_cut) == pytest.approx(result.conductance, abs=1e-10)
        assert electrons.through(x_cut) == pytest.approx(n_e - r_ee, abs=1e-10)
        assert holes.through(x_cut) == pytest.approx(-r_he, abs=1e-10)
    assert cmap.transmission.sum() == pytest.approx(result.conductance, abs=1e-12)
    interior = (cmap.x > cmap.x.min() + 1e-9) & (cmap.x < cmap.x.max() - 1e-9)
    assert np.abs(cmap.divergence()[interior]).max() < 1e-10
    with pytest.raises(ValueError, match=f"mode={n_e} is not allowed: lead 0 injects {n_e} "
                                         "electron mode"):
        qpcsim.current_density(device, 0.0, mode=n_e)
