"""Hard-wall constriction: from abrupt to adiabatic.

Physical picture
----------------
A wide channel of width ``W`` narrows to ``w_c`` over a taper of length
``L_taper`` (cosine profile), stays narrow for ``L_c``, and widens again.
With ``L_taper = 0`` the constriction is abrupt: the mismatch of transverse
modes at its mouths reflects electrons and the plateaus carry resonances and
deviate from integers (Szafer & Stone, PRL 62, 300 (1989)). With a taper of
many Fermi wavelengths the modes follow the width adiabatically and the
plateaus are flat (Glazman et al., JETP Lett. 48, 238 (1988)).

A uniform gate potential energy ``U_gate`` (meV; > 0 raises the band, like a
negative gate voltage) acts under the
narrow part and the tapers, switched off smoothly (C-infinity) over
``L_gate_ramp`` in the wide part. The ramp must be long: near pinch-off the
gate lifts the wide part's highest open modes close to their thresholds, and
a 100 nm ramp reflected them (G = 0.838 at E = 15 meV, U_gate = 13.26 meV); the
default 300 nm gives 0.992 there.

Walls on a lattice: masking out sites would move the wall in steps of a whole
lattice constant, and each step is a small abrupt constriction that reflects
(measured: a 300 nm cosine taper built that way deviates from integer plateaus
by up to 0.06, worse than the abrupt one). So the walls are a potential of
height ``V_wall`` (far above the Fermi energy) that rises over ``wall_width``
around |y| = w(x)/2, as a C-infinity step (``smooth_wall=True``, default,
over 10 nm = 4 a) or linearly (``smooth_wall=False``; ``wall_width=None`` =
one lattice constant, the old wall). The wall position then moves
continuously with x and a long taper is truly adiabatic. A one-lattice-constant
wall leaves lattice roughness (plateau 3 off by 0.021 at a = 2.5 nm); the
smooth 10 nm wall removes it.

Flatness at the defaults (test_geometries.py): over the central 60 % of
plateaus 1-3 of a U_gate sweep at E = 15 meV every point is within 5e-3 of n
(measured 1e-4, 5e-4, 2.8e-3); at the plateau centres of an energy sweep
(U_gate = 0) within 1e-3 (measured 2e-5, 3e-4, 5.6e-4).

Units: lengths nm, ``U_gate`` in meV. It is an energy, not a voltage (every other
geometry's ``Vg`` is in V); it was called ``Vg`` before issue 26, with the same numbers
and sign, and ``Vg`` is now refused with a message naming ``U_gate``.
"""
import numpy as np

import qpcsim
from qpcsim.physics.lattice import documented_lattice_error
from qpcsim.potentials import flat_top_window, smooth_step

#: |G(a) - G(0)| / a^2 (G0/nm^2), a^2 extrapolation from a = 2.5, 1.875 nm at the defaults,
#: E = 15 meV on plateau 3 (U_gate = -2.7 meV; plateau 1: 3.5e-6).
LATTICE_ERROR_PER_NM2 = 3.5e-5

DEFAULTS = dict(
    U_gate=0.0,       # gate potential energy under the constriction (meV)
    W=120.0,          # lead width (nm)
    w_c=60.0,         # constriction width (nm)
    L_c=100.0,        # length of the narrow part (nm)
    L_taper=300.0,    # taper length (nm): 0 = abrupt
    L_gate_ramp=300.0,  # switch-off length of U_gate in the wide part (nm)
    V_wall=250.0,     # height of the confining walls (meV); >> Fermi energy
    wall_width=10.0,  # rise length of the walls (nm); None = one lattice constant
    smooth_wall=True,   # wall rises as a C-infinity step (False: linearly)
    zeeman=False,     # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=2.5,            # lattice constant (nm)
)
#: Working point: Fermi energy (meV) used when none is given (`qpcsim lengths`);
#: Fermi energy of the README sweeps (lambda_F ~ 54 nm).
ENERGY = 8.0
#: The gate parameter's old name (before issue 26): refused with this one-line message.
RENAMED = {"Vg": "Vg is not a parameter of qpc_hardwall: its gate is U_gate, a potential energy in "
                 "meV (same numbers and sign as its old Vg); every other geometry's Vg is in V"}
STRUCTURAL = ("zeeman", "W", "w_c", "L_c", "L_taper", "L_gate_ramp", "V_wall", "wall_width",
              "smooth_wall", "a")


def constriction_width(x, W, w_c, L_c, L_taper):
    """Channel width (nm) at position x (nm): w_c in the middle, cosine taper to W."""
    x = np.abs(np.asarray(x, dtype=float))
    if L_taper <= 0:
        return np.where(x <= L_c / 2, w_c, W)
    s = np.clip((x - L_c / 2) / L_taper, 0.0, 1.0)
    return w_c + (W - w_c) * 0.5 * (1 - np.cos(np.pi * s))


def transverse_thresholds(device, count=8):
    """Subband bottoms (meV) of the narrowest cross-section (x = 0), from the
    lattice Hamiltonian of that column: the exact thresholds of a long constriction."""
    x, y = device.site_positions_nm()
    column = np.isclose(x, 0.0)
    onsite = 2.0 + device.potential_at(x[column], y[column], {"U_gate": 0.0}) / device.t
    n = int(column.sum())
    hamiltonian = np.diag(onsite) - np.eye(n, k=1) - np.eye(n, k=-1)
    return np.linalg.eigvalsh(hamiltonian)[:count] * device.t


def make_device(**params) -> qpcsim.Device:
    """Build the hard-wall constriction. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__, renamed=RENAMED)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    W, w_c = v.positive("W", p["W"], "nm"), v.positive("w_c", p["w_c"], "nm")
    a = v.positive("a", p["a"], "nm")
    L_c = v.positive("L_c", p["L_c"], "nm")
    L_taper = v.non_negative("L_taper", p["L_taper"], "nm")
    ramp = v.non_negative("L_gate_ramp", p["L_gate_ramp"], "nm")
    if w_c > W:
        raise ValueError(f"w_c={w_c:g} nm is not allowed: the constriction cannot be wider than "
                         f"the leads (W={W:g} nm)")
    if w_c < 2 * a:
        raise ValueError(f"w_c={w_c:g} nm is not allowed with a={a:g} nm: it must be >= 2a")
    half_gate = L_c / 2 + L_taper
    # Room for the gate ramp plus one lattice spacing of clean wide channel at each end.
    L = 2 * (half_gate + ramp) + 2 * a
    # an even number of lattice constants: a column sits at x = 0 (transverse_thresholds)
    L = 2 * a * np.ceil(L / (2 * a) - 1e-9)

    V_wall = v.positive("V_wall", p["V_wall"], "meV")
    rise = a if p["wall_width"] is None else v.positive("wall_width", p["wall_width"], "nm")
    profile = smooth_step if v.flag("smooth_wall", p["smooth_wall"]) else (lambda s: np.clip(s, 0.0, 1.0))

    def potential(x, y, U_gate=p["U_gate"]):
        half_width = 0.5 * constriction_width(x, W, w_c, L_c, L_taper)
        wall = V_wall * profile((np.abs(y) - half_width) / rise + 0.5)
        return wall + U_gate * flat_top_window(x, half_gate, ramp)

    return qpcsim.Device(
        width=W, length=L, a=a, potential=potential, units={"U_gate": "meV"},
        zeeman=p["zeeman"], name="qpc_hardwall",
        metadata={"geometry": "qpc_hardwall", "make_device": p, "structural_parameters": STRUCTURAL,
                  "renamed_parameters": RENAMED,
                  "lattice_error_estimate": documented_lattice_error(
                      LATTICE_ERROR_PER_NM2, a, "defaults, E=15 meV, plateau 3 (U_gate=-2.7 meV)"),
                  # the gate under the constriction and tapers (nm), for plot_device
                  "gate_outlines": [[(-half_gate, -W / 2), (half_gate, -W / 2),
                                     (half_gate, W / 2), (-half_gate, W / 2)]],
                  "working_energy_meV": ENERGY})
