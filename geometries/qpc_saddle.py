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
around the saddle and falls to 0 over ``L_switch`` toward each lead. Where it
holds: for a closed or nearly closed saddle (V0 near or above E_F - hbar wy/2)
the ramp of several Fermi wavelengths adds no visible backscattering. For a
wide-open saddle (V0 well below E_F, e.g. V0 = 1 meV at E = 10 meV) the window
multiplies the negative part of the parabola too and digs wells (down to
about -8 meV) beside the barrier: their quasi-bound states give narrow Fano
features in G(E) (e.g. 4.5533 vs 4.5686 G0 between neighbouring energies at
a = 4 nm, E = 10 meV, V0 = 1 meV; plain Kwant confirms them). Use V0 near the
steps being studied, or compare with Büttiker's formula only there.

Flatness at the defaults (hbar wy / hbar wx = 2; test_geometries.py): over
the central 60 % of plateaus 1-3 of a V0 sweep at E = 10 meV, G follows
Büttiker's formula within 0.02 (measured 8e-4, 2.4e-3, 4.7e-3); the plateaus
are only as flat as that formula allows (|G - n| up to 0.075 at the 20 %
points; flatter for larger wy/wx). Lattice error (a^2, from a = 2, 1.5, 1 nm;
:func:`qpcsim.lattice_error_estimate`): at E = 10, V0 = 3.5 meV G = 3.04419
(a = 2) against Büttiker's 3.04134, error 2.8e-3 ~ a^2; the a -> 0
extrapolation gives 3.04133.

Units: energies meV, lengths nm.
"""
import numpy as np

import qpcsim
from qpcsim.physics.lattice import documented_lattice_error
from qpcsim.potentials import flat_top_window, harmonic_curvature

#: |G(a) - G(0)| / a^2 (G0/nm^2), measured by a^2 extrapolation (a = 2, 1.5, 1 nm) at the
#: defaults, E = 10 meV, V0 = 3.5 meV (one tunnelling mode); ~13x larger on a sharp step
#: (hbar w_y / hbar w_x = 4: 0.037 G0 at a = 2 nm) and at B = 2 T (0.086 G0).
LATTICE_ERROR_PER_NM2 = 7.2e-4

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
    W = qpcsim.validate.positive("W", p["W"], "nm")
    L = qpcsim.validate.positive("L", p["L"], "nm")
    a = p["a"]
    ramp = L / 3 if p["L_switch"] is None else qpcsim.validate.positive("L_switch", p["L_switch"], "nm")
    if ramp >= L / 2:
        raise ValueError(f"L_switch={ramp:g} nm is not allowed: it must be < L/2 = {L / 2:g} nm")
    half_flat = L / 2 - ramp
    material = qpcsim.GAAS
    for name in ("hw_x", "hw_y"):   # curvatures: a negative one is no saddle (and NaN below)
        qpcsim.validate.positive(name, p[name], "meV")
    fit = modes_inside_walls(W, p["hw_y"], material)
    if fit < MIN_MODES_INSIDE_WALLS:
        import warnings

        from qpcsim.sanity import PhysicsWarning
        l_y = oscillator_length_nm(p["hw_y"], material)
        warnings.warn(
            f"W={W:g} nm with hw_y={p['hw_y']:g} meV: the hard walls at y = +-{W / 2:g} nm cut "
            f"the saddle's parabola (oscillator length l_y = {l_y:.3g} nm); only {fit} mode(s) "
            f"fit inside, so conductance above {fit} G0 deviates from Buttiker's formula; "
            "widen W or raise hw_y", PhysicsWarning, stacklevel=3)

    def potential(x, y, V0=p["V0"], hw_x=p["hw_x"], hw_y=p["hw_y"]):
        if hw_x <= 0 or hw_y <= 0:
            raise ValueError(f"hw_x={hw_x!r}, hw_y={hw_y!r} meV are not allowed: both must be > 0")
        saddle = (V0 - harmonic_curvature(hw_x, material) * x**2
                  + harmonic_curvature(hw_y, material) * y**2)
        return flat_top_window(x, half_flat, ramp) * saddle

    return qpcsim.Device(
        width=W, length=L, a=a, potential=potential, material=material,
        units={"V0": "meV", "hw_x": "meV", "hw_y": "meV"}, zeeman=p["zeeman"], name="qpc_saddle",
        metadata={"geometry": "qpc_saddle", "make_device": p, "structural_parameters": STRUCTURAL,
                  "lattice_error_estimate": documented_lattice_error(
                      LATTICE_ERROR_PER_NM2, a, "hw_x=1, hw_y=2 meV, E=10, V0=3.5 meV"),
                  "working_energy_meV": ENERGY})


#: Fewer Büttiker modes than this inside the walls: make_device warns.
MIN_MODES_INSIDE_WALLS = 3


def oscillator_length_nm(hw_y, material=qpcsim.GAAS):
    """Transverse oscillator length l_y = sqrt(hbar / (m* omega_y)) (nm) for hbar omega_y (meV)."""
    return float(np.sqrt(hw_y / (2 * harmonic_curvature(hw_y, material))))


def modes_inside_walls(W, hw_y, material=qpcsim.GAAS):
    """How many transverse modes n of the saddle's parabola fit between the hard
    walls at +-W/2 (nm): those whose classical turning point l_y sqrt(2n + 1)
    plus one oscillator length l_y (the wave function's tail) lies inside.

    Measured (a = 2 nm, L = 600 nm, hw_x = 1, hw_y = 2 meV, E = 9 meV, V0 swept):
    W = 100 nm fits 1 mode, max|G - Buttiker| = 0.08 G0 below 1 G0 but 0.54 G0 up to
    2 G0; W = 140 nm fits 2: 0.022 G0 up to 2 G0, 0.15 G0 up to 3 G0; W = 300 nm
    fits 14: 0.008 G0 up to 3 G0."""
    l_y = oscillator_length_nm(hw_y, material)
    room = (W / 2) / l_y - 1.0
    return 0 if room <= 1.0 else int(np.floor((room**2 - 1) / 2)) + 1


def buttiker_transmissions(energy, V0, hw_x, hw_y, n_modes=8):
    """Büttiker's per-mode transmissions T_n (n = 0 .. n_modes-1) at ``energy`` (meV)."""
    n = np.arange(n_modes)
    e_n = V0 + hw_y * (n + 0.5)
    return 1.0 / (1.0 + np.exp(-2 * np.pi * (energy - e_n) / hw_x))
