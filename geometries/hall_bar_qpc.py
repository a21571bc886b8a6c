"""Six-terminal Hall bar with a split-gate quantum point contact across it.

Physical picture
----------------
A GaAs 2DEG etched into a bar ``W`` wide, with a current source on the left
and a drain on the right (full bar width) and four voltage probes, two on each
side, at x = -``probe_x`` and +``probe_x``, each ``probe_width`` wide and ending
in a clean lead after an arm ``arm_length`` long. Across the middle of the bar
(x = 0) a split gate (two rectangular gates ``gate_length`` long with a gap
``gap``, ``d`` below the surface; the Davies-Larkin-Sukhorukov bare potential
times a screening ``lever_arm``, as in ``qpc_split_gate``) at voltage ``Vg`` (V)
forms a QPC. In a perpendicular field ``B`` (T) the current flows in edge
channels; if the QPC transmits K of the N bulk channels the four-terminal
resistances are (van Wees et al., PRL 62, 1181 (1989); Büttiker, PRB 38,
9375 (1988)), in h/e^2 with N, K counting spin-resolved channels:

* Hall, beside the QPC:        R_xy = (V_top_left - V_bottom_left)/I = 1/N
* longitudinal, across it:     R_L  = (V_top_left - V_top_right)/I = 1/K - 1/N
* diagonal, across it:         R_D  = (V_top_left - V_bottom_right)/I = 1/K
* two-terminal:                G = K e^2/h

Terminals, in Kwant's lead order (names for ``result.resistance``):
0 ``source`` (left), 1 ``top_left``, 2 ``top_right``, 3 ``drain`` (right),
4 ``bottom_right``, 5 ``bottom_left``. The gate potential is switched off
(C-infinity window) before the probes, so all leads are clean; the field is in
the ``edges`` gauge (each lead in its own Landau gauge, see ``qpcsim.terminals``).

Showcase (``ENERGY``, ``metadata["energy_meV"]``): E_F = 10 meV at B = 3 T:
hbar omega_c = 5.2 meV, two spin-degenerate Landau levels below E_F (nu = 4).

Units: Vg in V, lengths nm, B in T; the potential energy is in meV.
"""
import qpcsim
from qpcsim.potentials import flat_top_window, rectangular_gate

DEFAULTS = dict(
    Vg=0.0,             # split-gate voltage (V); 0: open bar
    lever_arm=0.1,      # screening factor of the bare gate potential (dimensionless)
    d=50.0,             # depth of the 2DEG below the gates (nm)
    gap=100.0,          # gap between the two gates (nm)
    gate_length=60.0,   # length of the gates along the bar (nm)
    W=200.0,            # width of the bar and of source/drain leads (nm)
    L=1000.0,           # length of the scattering region (nm)
    probe_x=300.0,      # probes at x = -probe_x, +probe_x (nm)
    probe_width=100.0,  # width of each voltage probe (nm)
    arm_length=100.0,   # length of each probe arm, bar edge to lead (nm)
    zeeman=False,       # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=5.0,              # lattice constant (nm)
)
#: Showcase Fermi energy (meV): nu = 4 at B = 3 T (two spin-degenerate Landau levels).
ENERGY = 10.0
STRUCTURAL = ("zeeman", "d", "gap", "gate_length", "W", "L", "probe_x", "probe_width",
              "arm_length", "a")
_FAR = 1e6  # the gates extend far beyond the bar in y (nm)


def make_device(**params) -> qpcsim.Device:
    """Build the Hall bar with its QPC. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    d, gap = v.positive("d", p["d"], "nm"), v.positive("gap", p["gap"], "nm")
    gate_length = v.positive("gate_length", p["gate_length"], "nm")
    W, L = v.positive("W", p["W"], "nm"), v.positive("L", p["L"], "nm")
    xp, wp = v.positive("probe_x", p["probe_x"], "nm"), v.positive("probe_width",
                                                                      p["probe_width"], "nm")
    arm = v.positive("arm_length", p["arm_length"], "nm")
    if not gap < W:
        raise ValueError(f"gap={gap:g} nm is not allowed: it must be smaller than the bar "
                         f"width W={W:g} nm, or the gates do not constrict the bar")
    free = xp - wp / 2 - gate_length / 2          # room between the gates and the probes
    if not 0 < free or xp + wp / 2 >= L / 2:
        raise ValueError(f"probe_x={xp:g} nm is not allowed with probe_width={wp:g} nm, "
                         f"gate_length={gate_length:g} nm and L={L:g} nm: the probes must lie "
                         "between the gates and the ends of the bar")

    def shape(x, y):
        arms = (abs(abs(x) - xp) < wp / 2)
        return (abs(y) < W / 2) | arms

    def potential(x, y, Vg=p["Vg"], lever_arm=p["lever_arm"]):
        phi = (rectangular_gate(x, y, d, -gate_length / 2, gate_length / 2, gap / 2, _FAR)
               + rectangular_gate(x, y, d, -gate_length / 2, gate_length / 2, -_FAR, -gap / 2))
        # Potential energy of an electron (charge -e) in meV, off before the probes.
        return -1000.0 * lever_arm * Vg * phi * flat_top_window(x, gate_length / 2, free)

    Lead = qpcsim.Lead
    leads = [Lead("source", "left", 0.0, W), Lead("top_left", "top", -xp, wp),
             Lead("top_right", "top", xp, wp), Lead("drain", "right", 0.0, W),
             Lead("bottom_right", "bottom", xp, wp), Lead("bottom_left", "bottom", -xp, wp)]
    x0 = gate_length / 2
    return qpcsim.Device(
        width=W + 2 * arm, length=L, a=p["a"], potential=potential, shape=shape, leads=leads,
        units={"Vg": "V", "lever_arm": ""}, zeeman=p["zeeman"], name="hall_bar_qpc",
        metadata={"geometry": "hall_bar_qpc", "make_device": p,
                  "structural_parameters": STRUCTURAL, "energy_meV": ENERGY,
                  "working_energy_meV": ENERGY,
                  "gate_outlines": [[(-x0, s * gap / 2), (x0, s * gap / 2), (x0, s * W / 2),
                                     (-x0, s * W / 2)] for s in (1, -1)]})
