"""Shared fixtures: small devices that every test module reuses."""
from __future__ import annotations

import numpy as np
import pytest

import qpcsim


@pytest.fixture(scope="session")
def saddle_module():
    return qpcsim.load_geometry_module("qpc_saddle")


@pytest.fixture(scope="session")
def hardwall_module():
    return qpcsim.load_geometry_module("qpc_hardwall")


@pytest.fixture(scope="session")
def saddle_device():
    """Saddle-point QPC fine enough for Büttiker's formula (a = 2 nm, 45k sites)."""
    return qpcsim.load_geometry("qpc_saddle")


@pytest.fixture(scope="session")
def small_saddle():
    """A coarse, fast saddle QPC (a = 4 nm) for API and bookkeeping tests."""
    return qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=1.5, hw_y=3.0)


def clean_wire(width=100.0, length=40.0, a=5.0, zeeman=False):
    return qpcsim.Device(width=width, length=length, a=a, zeeman=zeeman, name="clean wire")


def lead_mode_count(device, energy_meV, **params):
    """Open modes counted from the lead band structure (kwant.physics.Bands)."""
    import kwant
    fsyst = device.build()
    bands = kwant.physics.Bands(fsyst.leads[0], params=device.resolve_params(params))
    k = np.linspace(-np.pi, np.pi, 4001)
    energies = np.array([bands(kk) for kk in k]) * device.t      # (nk, nbands)
    # each band is a cosine in k: it is open if E lies between its min and max
    return int(np.sum((energies.min(axis=0) < energy_meV) & (energies.max(axis=0) > energy_meV)))
