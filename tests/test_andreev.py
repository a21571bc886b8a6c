"""Short S-N-S junction (qpcsim/physics/andreev.py): Andreev bound states and the critical
current quantized in steps of e Delta/hbar per open channel (Beenakker & van Houten 1991)."""
from __future__ import annotations

import numpy as np
import pytest

from qpcsim.physics.andreev import JosephsonJunction

#: mu = 40 meV, Delta = 1 meV (Delta/mu = 0.025), xi = 302 nm; superconductors 3 xi long.
JUNCTION = dict(length=0.0, a=4.0, mu=40.0, Delta=1.0, superconductor_length=900.0)
#: Widths (nm) with 1, 2, 3 open channels at mu on this lattice (a = 4 nm).
WIDTHS = {1: 20.0, 2: 32.0, 3: 44.0}
#: The maximum of I(phi) lies near 0.9 pi here (avoided crossing at pi); I is flat there.
PHASES = np.linspace(0.84, 0.96, 4) * np.pi


@pytest.fixture(scope="module")
def critical_currents():
    return {n: JosephsonJunction(width=w, **JUNCTION).critical_current(PHASES)
            for n, w in WIDTHS.items()}


def test_critical_current_is_e_delta_over_hbar_per_open_channel(critical_currents):
    """I_c = N e Delta/hbar within 5 % (measured 0.967, 1.93, 2.88 for N = 1, 2, 3: the
    Andreev approximation's Delta/mu_n corrections)."""
    for n, ic in critical_currents.items():
        assert abs(ic / n - 1.0) < 0.05, (n, ic)
    steps = np.diff([0.0] + [critical_currents[n] for n in sorted(critical_currents)])
    assert np.all(np.abs(steps - 1.0) < 0.05), steps


def test_bound_state_follows_delta_cos_half_phi_for_a_ballistic_channel():
    """One open channel, T = 1: E = Delta sqrt(1 - T sin^2(phi/2)) = Delta cos(phi/2) (3 %)."""
    junction = JosephsonJunction(width=WIDTHS[1], **JUNCTION)
    for phi in (0.5 * np.pi, 0.8 * np.pi):
        energies, slopes = junction.bound_states(phi)
        assert len(energies) == 1
        assert energies[0] == pytest.approx(np.cos(phi / 2), rel=0.03)
        assert -2 * slopes[0] == pytest.approx(np.sin(phi / 2), rel=0.03)
    assert junction.current_nA(1.0) == pytest.approx(243.4, rel=1e-3)   # e Delta/hbar at 1 meV


def test_unresolved_coherence_length_is_refused():
    with pytest.raises(ValueError, match=r"Delta=30 meV is not allowed with a=4 nm"):
        JosephsonJunction(width=20.0, length=0.0, a=4.0, mu=40.0, Delta=30.0)


@pytest.mark.parametrize("kwargs, match", [
    # a negative superconductor left none: I = -0.0, or an IndexError
    (dict(superconductor_length=-5.0), "superconductor_length=-5.0 nm is not allowed"),
    (dict(width=22.0), "width=22.0 nm is not allowed with a=4.0 nm: it must be an integer"),
    (dict(potential=5), "potential=5 is not allowed: it must be callable"),
    (dict(material="GaAs"), "material='GaAs' is not allowed: give a qpcsim.Material"),
])
def test_bad_junction_input_is_a_one_line_error(kwargs, match):
    options = dict(JUNCTION, width=WIDTHS[1])
    options.update(kwargs)
    with pytest.raises(ValueError, match=match):
        JosephsonJunction(**options)
