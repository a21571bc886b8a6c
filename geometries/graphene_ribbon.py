"""Graphene nanoribbon with zigzag or armchair edges, and an optional gate.

Physical picture
----------------
A graphene ribbon (nearest-neighbour tight binding, t = 2.7 eV, a = 0.246 nm;
``qpcsim.GrapheneRibbon``) of width ``W`` along x, in scaled-graphene form
(a_s = s a, t_s = t/s, same Fermi velocity; Liu et al., PRL 114, 036601 (2015)):
the default s = 4 resolves lambda_F >= 20 a_s on the first three plateaus.
Energies are measured from the Dirac point.

* ``edge="zigzag"``: the conductance is quantized at G = (4e^2/h)(n + 1/2) =
  1, 3, 5, ... G0 (spin and valley degenerate channels plus the single edge-state
  channel; Brey & Fertig, PRB 73, 235411 (2006)).
* ``edge="armchair"``: the bands are graphene's dispersion at the quantized
  transverse momenta, E = +-t sqrt(1 + 4 c_p cos(k/2) + 4 c_p^2), c_p =
  cos(p pi/(N + 1)) for N dimer lines across: metallic when N + 1 is a multiple
  of 3, gapped otherwise (the gap shrinks as 1/W).

A gate (``V_gate``, meV of potential energy) under the middle ``L_gate`` of the
ribbon, switched on smoothly over ``L_ramp``, shifts the local Dirac point (a
p-n-p or n-n'-n junction; a graphene constriction's knob). Units: lengths nm,
energies meV.
"""
import qpcsim
from qpcsim.potentials import flat_top_window

DEFAULTS = dict(
    V_gate=0.0,     # gate potential energy under the middle of the ribbon (meV)
    edge="zigzag",  # edges along the ribbon: "zigzag" or "armchair"
    W=20.0,         # ribbon width (nm)
    L=30.0,         # length of the scattering region (nm)
    L_gate=10.0,    # length of the gate's flat part (nm)
    L_ramp=5.0,     # switch-on length of the gate on each side (nm)
    scale=4.0,      # scaled-graphene factor s (dimensionless): a_s = s a, t_s = t/s
)
STRUCTURAL = ("edge", "W", "L", "L_gate", "L_ramp", "scale")
FAST_PATH = False   # a model device: mumps/scipy via backends/model_assembly.py, not the one-band RGF (tests/conftest.py)


def make_device(**params) -> qpcsim.GrapheneRibbon:
    """Build the ribbon. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    half_gate = 0.5 * v.non_negative("L_gate", p["L_gate"], "nm")
    ramp = v.non_negative("L_ramp", p["L_ramp"], "nm")

    def potential(x, y, V_gate=p["V_gate"]):
        return V_gate * flat_top_window(x, half_gate, ramp) + 0.0 * y

    device = qpcsim.GrapheneRibbon(
        width=p["W"], length=p["L"], edge=p["edge"], scale=p["scale"], potential=potential,
        units={"V_gate": "meV"}, name="graphene_ribbon",
        metadata={"geometry": "graphene_ribbon", "make_device": p,
                  "structural_parameters": STRUCTURAL,
                  "parameter_docs": {"V_gate": "gate potential energy (meV)"}})
    # Showcase: the middle of the second plateau of the clean ribbon (3 G0 for zigzag).
    device.metadata["energy_meV"] = device.plateau_energy(2)
    return device
