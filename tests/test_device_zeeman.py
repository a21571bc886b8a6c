"""Zeeman energy from the field (Device(zeeman=True, zeeman_from_field=True))."""
import pytest

import qpcsim
from qpcsim.units import MU_BOHR_MEV


def test_field_sets_the_zeeman_energy():
    """At 5 T in GaAs E_Z = |g| mu_B B = 0.44 * 0.05788 * 5 = 0.1273 meV (it stayed 0 before);
    the solve equals one with that E_Z given by hand."""
    kw = dict(width=40.0, length=20.0, a=5.0, zeeman=True)
    linked = qpcsim.Device(**kw, zeeman_from_field=True)
    plain = qpcsim.Device(**kw)
    e_z = linked.resolve_params({"B": 5.0})["E_Z"]
    assert e_z == pytest.approx(0.44 * MU_BOHR_MEV * 5.0, rel=1e-12)
    assert e_z == pytest.approx(0.1273, abs=1e-4)
    assert plain.resolve_params({"B": 5.0})["E_Z"] == 0.0          # independent by default
    energy = float(plain.transverse_mode_energies(1)[0]) + 0.02     # inside the spin gap
    g_linked = qpcsim.solve(linked, energy, B=5.0).conductance
    g_plain = qpcsim.solve(plain, energy, B=5.0, E_Z=e_z).conductance
    assert g_linked == pytest.approx(g_plain, abs=1e-12)
    assert linked.fingerprint() != plain.fingerprint()
    with pytest.raises(ValueError, match=r"E_Z=0.5 meV is not allowed: with zeeman_from_field"):
        linked.resolve_params({"B": 5.0, "E_Z": 0.5})
    with pytest.raises(ValueError, match=r"zeeman_from_field=True is not allowed without zeeman"):
        qpcsim.Device(width=40.0, length=20.0, a=5.0, zeeman_from_field=True)
