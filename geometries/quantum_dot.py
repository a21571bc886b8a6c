"""Quantum dot: a stretch of channel between two tunnel barriers.

Physical picture
----------------
A single-mode channel of width ``W`` is pinched at x = -D/2 and x = +D/2 by two
QPC-like gates driven past pinch-off: smooth potential ridges (Gaussian profile
of width ``barrier_width``) of heights ``V_barrier`` and ``V_barrier +
asymmetry`` (meV) above the Fermi energy, through which electrons tunnel. The
region between them, of size ``D``, is the dot; a plunger gate at ``Vp`` (V)
shifts its potential by -1000 meV/V * alpha * Vp (lever arm ``alpha``), moving
its discrete levels through the Fermi energy: resonant-tunnelling peaks, not
plateaus. The plunger acts on |x| < D/2 with a C-infinity edge of one barrier
width, so it does not change the barriers themselves.

Units: lengths nm, V_barrier in meV, Vp in V, alpha dimensionless.
"""
import numpy as np

import qpcsim
from qpcsim.potentials import flat_top_window

DEFAULTS = dict(
    Vp=0.0,            # plunger gate voltage (V)
    V_barrier=12.0,    # height of the left barrier (meV)
    asymmetry=0.0,     # right barrier is higher by this (meV)
    alpha=0.05,        # plunger lever arm (dimensionless)
    D=120.0,           # dot size: distance between the barriers (nm)
    barrier_width=8.0,  # Gaussian width sigma of each barrier (nm)
    W=40.0,            # channel width (nm): one transverse mode up to ~14 meV
    L_lead=60.0,       # channel length outside each barrier (nm)
    a=2.0,             # lattice constant (nm)
)
#: Working point: Fermi energy (meV) used when none is given (`qpcsim lengths`);
#: one open channel in the leads, as in `qpcsim dots`.
ENERGY = 8.0
STRUCTURAL = ("D", "barrier_width", "W", "L_lead", "a")


def make_device(**params) -> qpcsim.Device:
    """Build the double-barrier dot. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    D = v.positive("D", p["D"], "nm")
    sigma = v.positive("barrier_width", p["barrier_width"], "nm")
    L = D + 2 * v.positive("L_lead", p["L_lead"], "nm")
    a = v.positive("a", p["a"], "nm")
    L = a * np.ceil(L / a - 1e-9)

    def potential(x, y, Vp=p["Vp"], V_barrier=p["V_barrier"], asymmetry=p["asymmetry"],
                  alpha=p["alpha"]):
        barriers = (V_barrier * np.exp(-0.5 * ((x + D / 2) / sigma) ** 2)
                    + (V_barrier + asymmetry) * np.exp(-0.5 * ((x - D / 2) / sigma) ** 2))
        plunger = -1000.0 * alpha * Vp * flat_top_window(x, D / 2 - sigma, sigma)
        return barriers + plunger + 0.0 * y

    return qpcsim.Device(
        width=p["W"], length=L, a=p["a"], potential=potential,
        units={"Vp": "V", "V_barrier": "meV", "asymmetry": "meV", "alpha": ""},
        name="quantum_dot",
        metadata={"geometry": "quantum_dot", "make_device": p, "structural_parameters": STRUCTURAL,
                  "working_energy_meV": ENERGY})
