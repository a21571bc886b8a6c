"""qpcsim/potentials.py: the gate shapes the geometry files share."""
import numpy as np
import pytest

from qpcsim.potentials import flat_top_window, split_gate_channel

GATE = dict(half_gate=20.0, ramp=5.0, edge_ramp=3.0, width=60.0)


def test_split_gate_channel_is_the_gate_energy_outside_the_channel_only():
    """Under the gates' flat part and beyond the channel's edge ramp: exactly the gate
    energy; in the channel, or beyond the gates' ramp along x: exactly 0."""
    u = split_gate_channel(np.array([0.0, 0.0, 0.0, 26.0]), np.array([0.0, 14.0, -25.0, 25.0]),
                           50.0, 20.0, **GATE)
    np.testing.assert_array_equal(u, [0.0, 50.0, 50.0, 0.0])


def test_split_gate_channel_is_the_product_of_its_windows():
    x, y = np.linspace(-30, 30, 13), np.linspace(-30, 30, 13)
    expected = 7.0 * flat_top_window(x, 20.0, 5.0) * (1.0 - flat_top_window(y, 10.0, 3.0))
    np.testing.assert_array_equal(split_gate_channel(x, y, 7.0, 20.0, **GATE), expected)


@pytest.mark.parametrize("channel", [-1.0, 61.0])
def test_a_channel_wider_than_the_ribbon_is_refused(channel):
    with pytest.raises(ValueError, match=rf"w_qpc={channel!r} nm is not allowed: .*"
                                         r"0 <= w_qpc <= W = 60 nm"):
        split_gate_channel(0.0, 0.0, 1.0, channel, **GATE)
