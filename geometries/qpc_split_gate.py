"""Split-gate quantum point contact in a GaAs/AlGaAs 2DEG.

Physical picture
----------------
Two rectangular metal gates on the surface, separated by a gap ``gap`` and
``gate_length`` long, at voltage ``Vg``; the 2DEG lies ``d`` below. A negative
``Vg`` depletes the 2DEG under and around the gates and leaves a channel in the
gap whose width shrinks as ``Vg`` goes down: the conductance falls in steps of
G0 until pinch-off (van Wees et al., PRL 60, 848 (1988); Wharam et al.,
J. Phys. C 21, L209 (1988)).

The potential of each gate is the analytic result for a rectangular gate with a
pinned surface, Davies, Larkin & Sukhorukov, J. Appl. Phys. 77, 4504 (1995)
(``qpcsim.potentials.rectangular_gate``). The 2DEG screens the bare gate
potential; ``lever_arm`` (dimensionless) lumps that screening into one factor,
U = -e lever_arm Vg phi(x, y) (1 = the unscreened pinned-surface potential of
``rectangular_gate``; the frozen-surface model is a different phi, not this one).
The landscape is brought to zero toward the leads by a C-infinity window.

Flatness at the defaults (test_geometries.py): a 100 nm gate makes a short,
smooth saddle, so the plateaus are sloped, not flat: between the gate voltages
where the saddle's subband bottoms cross E = 8 meV, the central 60 % of
plateaus 1-3 lies within 0.15 of n (measured 0.10, 0.12, 0.13) and the
plateau centres within 5e-3. Longer gates (``gate_length``) flatten them.

Units: Vg in V, lengths nm; the potential energy is in meV.
"""
import qpcsim
from qpcsim.physics.lattice import documented_lattice_error
from qpcsim.potentials import flat_top_window, rectangular_gate

#: |G(a) - G(0)| / a^2 (G0/nm^2), a^2 extrapolation from a = 4, 2 nm at the defaults,
#: E = 8 meV, on the 1 -> 2 step (Vg = -0.87 V, G = 1.5); 4.2e-5 on plateau 2 (Vg = -0.77 V).
LATTICE_ERROR_PER_NM2 = 6.1e-4

DEFAULTS = dict(
    Vg=-0.5,          # gate voltage (V)
    lever_arm=0.1,    # screening factor of the bare gate potential (dimensionless)
    d=50.0,           # depth of the 2DEG below the gates (nm)
    gap=200.0,        # gap between the two gates (nm)
    gate_length=100.0,  # length of the gates along the channel (nm)
    W=320.0,          # lead / device width (nm)
    L=480.0,          # length of the scattering region (nm)
    zeeman=False,     # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=4.0,            # lattice constant (nm)
    L_switch=100.0,   # switch-off ramp toward each lead (nm)
)
#: Working point: Fermi energy (meV) used when none is given (`qpcsim lengths`);
#: the demo's and README's Fermi energy: 4-5 open lead modes.
ENERGY = 8.0
STRUCTURAL = ("zeeman", "d", "gap", "gate_length", "W", "L", "a", "L_switch")
_FAR = 1e6  # the gates extend far beyond the device in y (nm)


def make_device(**params) -> qpcsim.Device:
    """Build the split-gate QPC. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    d = v.positive("d", p["d"], "nm")
    gap = v.positive("gap", p["gap"], "nm")
    length = v.positive("gate_length", p["gate_length"], "nm")
    W, L = v.positive("W", p["W"], "nm"), v.positive("L", p["L"], "nm")
    ramp = v.non_negative("L_switch", p["L_switch"], "nm")
    if gap >= W:
        raise ValueError(f"gap={gap:g} nm is not allowed: it must be smaller than the device "
                         f"width W={W:g} nm, or the gates do not constrict the channel")
    if 2 * ramp >= L:
        raise ValueError(f"L_switch={ramp:g} nm is not allowed: it must be < L/2 = {L / 2:g} nm")
    half_flat = L / 2 - ramp
    x0 = length / 2

    def potential(x, y, Vg=p["Vg"], lever_arm=p["lever_arm"]):
        phi = (rectangular_gate(x, y, d, -x0, x0, gap / 2, _FAR)
               + rectangular_gate(x, y, d, -x0, x0, -_FAR, -gap / 2))
        # Potential energy of an electron (charge -e) in meV: -1000 meV/V * Vg.
        return -1000.0 * lever_arm * Vg * phi * flat_top_window(x, half_flat, ramp)

    return qpcsim.Device(
        width=W, length=L, a=p["a"], potential=potential, units={"Vg": "V", "lever_arm": ""},
        zeeman=p["zeeman"], name="qpc_split_gate",
        metadata={"geometry": "qpc_split_gate", "make_device": p, "structural_parameters": STRUCTURAL,
                  "lattice_error_estimate": documented_lattice_error(
                      LATTICE_ERROR_PER_NM2, p["a"], "defaults, E=8 meV, step at Vg=-0.87 V"),
                  # the two gates' outlines inside the device (nm), for plot_device
                  "gate_outlines": [[(-x0, s * gap / 2), (x0, s * gap / 2), (x0, s * W / 2),
                                     (-x0, s * W / 2)] for s in (1, -1)],
                  "working_energy_meV": ENERGY})
