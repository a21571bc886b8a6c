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

A uniform gate potential ``Vg`` (meV of potential energy) acts under the
narrow part and the tapers, switched off smoothly (C-infinity) over
``L_gate_ramp`` in the wide part where it cannot reflect a conducting mode.

Units: lengths nm, ``Vg`` in meV.
"""
import numpy as np

import qpcsim
from qpcsim.potentials import flat_top_window

DEFAULTS = dict(
    Vg=0.0,           # gate potential energy under the constriction (meV)
    W=200.0,          # lead width (nm)
    w_c=60.0,         # constriction width (nm)
    L_c=100.0,        # length of the narrow part (nm)
    L_taper=200.0,    # taper length (nm): 0 = abrupt
    L_gate_ramp=100.0,  # switch-off length of Vg in the wide part (nm)
    a=2.5,            # lattice constant (nm)
)
STRUCTURAL = ("W", "w_c", "L_c", "L_taper", "L_gate_ramp", "a")


def constriction_width(x, W, w_c, L_c, L_taper):
    """Channel width (nm) at position x (nm): w_c in the middle, cosine taper to W."""
    x = np.abs(np.asarray(x, dtype=float))
    if L_taper <= 0:
        return np.where(x <= L_c / 2, w_c, W)
    s = np.clip((x - L_c / 2) / L_taper, 0.0, 1.0)
    return w_c + (W - w_c) * 0.5 * (1 - np.cos(np.pi * s))


def make_device(**params) -> qpcsim.Device:
    """Build the hard-wall constriction. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    W, w_c, a = v.positive("W", p["W"], "nm"), v.positive("w_c", p["w_c"], "nm"), p["a"]
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
    L = a * np.ceil(L / a - 1e-9)

    def shape(x, y):
        return np.abs(y) < 0.5 * constriction_width(x, W, w_c, L_c, L_taper) + 1e-9

    def potential(x, y, Vg=p["Vg"]):
        return Vg * flat_top_window(x, half_gate, ramp) + 0.0 * y

    return qpcsim.Device(
        width=W, length=L, a=a, potential=potential, shape=shape, units={"Vg": "meV"},
        name="qpc_hardwall",
        metadata={"geometry": "qpc_hardwall", "make_device": p, "structural_parameters": STRUCTURAL})
