"""Saddle-point quantum point contact (Büttiker, Phys. Rev. B 41, 7906 (1990)).

Physical picture
----------------
Near its narrowest point a gate-defined constriction is a saddle of the
electrostatic potential,

    V(x, y) = V0 - 1/2 m* wx^2 x^2 + 1/2 m* wy^2 y^2,

a barrier along the channel (x) and a harmonic confinement across it (y).
Büttiker solved it exactly: mode n (n = 0, 1, ...) crosses the saddle with
probability T_n = 1 / (1 + exp(-2 pi (E - E_n) / hbar wx)), E_n = V0 + hbar wy (n + 1/2).
The ratio wy/wx sets how flat the plateaus are (flat for wy >~ wx).

Far from the saddle the parabola must give way to the clean leads (V = 0).
The whole landscape is multiplied by a C-infinity flat-top window that is 1
around the saddle and falls to 0 over ``L_switch`` toward each lead: with a
ramp of several Fermi wavelengths the switch-off adds no visible
backscattering (tests: deviation from Büttiker's formula < 0.02 per mode).

Units: energies meV, lengths nm.
"""
import numpy as np

import qpcsim
from qpcsim.potentials import flat_top_window, harmonic_curvature

DEFAULTS = dict(
    V0=5.0,        # saddle-point height (meV); the gate knob of this model
    hw_x=1.0,      # hbar omega_x: curvature of the barrier along x (meV)
    hw_y=2.0,      # hbar omega_y: transverse confinement (meV)
    W=300.0,       # lead width (nm)
    L=600.0,       # length of the scattering region (nm)
    zeeman=False,     # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=2.0,         # lattice constant (nm)
    L_switch=None, # length of each switch-off ramp (nm); default L/3
)
#: Working point: Fermi energy (meV) used when none is given (`qpcsim lengths`);
#: the README's Fermi energy.
ENERGY = 10.0
#: Parameters that change the lattice or the envelope: pass them to make_device.
STRUCTURAL = ("zeeman", "W", "L", "a", "L_switch")


def make_device(**params) -> qpcsim.Device:
    """Build the saddle-point QPC. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    W, L, a = p["W"], p["L"], p["a"]
    ramp = L / 3 if p["L_switch"] is None else qpcsim.validate.positive("L_switch", p["L_switch"], "nm")
    if ramp >= L / 2:
        raise ValueError(f"L_switch={ramp:g} nm is not allowed: it must be < L/2 = {L / 2:g} nm")
    half_flat = L / 2 - ramp
    material = qpcsim.GAAS

    def potential(x, y, V0=p["V0"], hw_x=p["hw_x"], hw_y=p["hw_y"]):
        if hw_x <= 0 or hw_y <= 0:
            raise ValueError(f"hw_x={hw_x!r}, hw_y={hw_y!r} meV are not allowed: both must be > 0")
        saddle = (V0 - harmonic_curvature(hw_x, material) * x**2
                  + harmonic_curvature(hw_y, material) * y**2)
        return flat_top_window(x, half_flat, ramp) * saddle

    return qpcsim.Device(
        width=W, length=L, a=a, potential=potential, material=material,
        units={"V0": "meV", "hw_x": "meV", "hw_y": "meV"}, zeeman=bool(p["zeeman"]), name="qpc_saddle",
        metadata={"geometry": "qpc_saddle", "make_device": p, "structural_parameters": STRUCTURAL,
                  "working_energy_meV": ENERGY})


def buttiker_transmissions(energy, V0, hw_x, hw_y, n_modes=8):
    """Büttiker's per-mode transmissions T_n (n = 0 .. n_modes-1) at ``energy`` (meV)."""
    n = np.arange(n_modes)
    e_n = V0 + hw_y * (n + 0.5)
    return 1.0 / (1.0 + np.exp(-2 * np.pi * (energy - e_n) / hw_x))
