"""Split-gate quantum point contact in a zigzag graphene ribbon.

Physical picture
----------------
A zigzag graphene ribbon (``qpcsim.GrapheneRibbon``, nearest-neighbour t = 2.7 eV,
a = 0.246 nm, scaled graphene s = 4: a_s = s a, t_s = t/s) of width ``W``. Two
split gates over the middle ``L_gate`` of the ribbon (switched on over
``L_ramp`` along x) cover the ribbon outside a channel of width ``w_qpc`` (their
edges smooth over ``y_ramp``): under them the potential energy ``V_sg`` (meV)
shifts the local Dirac point to ``V_sg``. Energies are measured from the Dirac
point of the ungated ribbon.

With the local Fermi energy under the gates on the ribbon's lowest plateau,
0 < E - V_sg < E_1 (E_1: the first subband edge of the ribbon; the gated ribbon
then carries only its n = 0 channel, the zigzag edge state), the gates confine
the channel between them: as they narrow it (``w_qpc`` decreasing) the
conductance steps down through G = (4e^2/h)(n + 1/2) = 5, 3, 1 G0 (G0 = 2e^2/h),
spin and valley degenerate steps of 4e^2/h above the half-integer zigzag offset
(Brey & Fertig, PRB 73, 235411 (2006); the 4e^2/h steps of graphene constrictions).
Gates that dope the region under them p-type (V_sg > E) do not confine:
Klein tunnelling through the p-n boundaries gives irregular, unquantized G.

The showcase (``metadata``): ``energy_meV`` in the middle of the ungated ribbon's
third plateau (5 G0); ``V_sg`` (default, also ``metadata["V_sg_meV"]``) = E - E_mid1/2
with E_mid1 the middle of the first plateau, so the gated region sits low on its lowest
plateau (measured at the defaults: E = 131.0 meV, V_sg = 114.7 meV).
Units: lengths nm, energies meV.
"""
import qpcsim
from qpcsim.potentials import split_gate_channel

DEFAULTS = dict(
    w_qpc=40.0,     # channel width between the split gates (nm); W = fully open
    W=40.0,         # ribbon width (nm)
    L=80.0,         # length of the scattering region (nm)
    L_gate=50.0,    # length of the gates' flat part along the ribbon (nm)
    L_ramp=5.0,     # switch-on length of the gates along x (nm)
    y_ramp=3.0,     # width of the gates' edges across the ribbon (nm)
    scale=4.0,      # scaled-graphene factor s (dimensionless): a_s = s a, t_s = t/s
)
STRUCTURAL = ("W", "L", "L_gate", "L_ramp", "y_ramp", "scale")
FAST_PATH = False   # a model device: mumps/scipy via backends/model_assembly.py, not the one-band RGF (tests/conftest.py)


def make_device(**params) -> qpcsim.GrapheneRibbon:
    """Build the gated ribbon. See the module docstring and ``DEFAULTS``.

    Runtime parameters: ``V_sg`` (meV; default from the showcase) and ``w_qpc`` (nm).
    """
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    half_gate = 0.5 * v.non_negative("L_gate", p["L_gate"], "nm")
    ramp = v.non_negative("L_ramp", p["L_ramp"], "nm")
    y_ramp = v.non_negative("y_ramp", p["y_ramp"], "nm")
    width = v.positive("W", p["W"], "nm")

    def potential(x, y, V_sg=0.0, w_qpc=p["w_qpc"]):
        return split_gate_channel(x, y, V_sg, w_qpc, half_gate, ramp, y_ramp, width)

    device = qpcsim.GrapheneRibbon(
        width=width, length=p["L"], edge="zigzag", scale=p["scale"], potential=potential,
        units={"V_sg": "meV", "w_qpc": "nm"}, name="graphene_qpc",
        metadata={"geometry": "graphene_qpc", "make_device": p,
                  "structural_parameters": STRUCTURAL,
                  "parameter_docs": {"V_sg": "split-gate potential energy: the local Dirac "
                                             "point under the gates (meV)",
                                     "w_qpc": "channel width between the gates (nm)"}})
    energy = device.plateau_energy(3)
    v_sg = energy - 0.5 * device.plateau_energy(1)
    device.defaults["V_sg"] = v_sg
    device.metadata.update(energy_meV=energy, V_sg_meV=v_sg)
    return device
