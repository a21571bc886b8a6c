"""Split-gate quantum point contact in biased bilayer graphene.

Physical picture
----------------
A Bernal bilayer-graphene ribbon (``qpcsim.BilayerGrapheneRibbon``: armchair edges,
t = 2.7 eV, gamma1 = 380 meV, a = 0.246 nm, scaled graphene s = 6: a_s = s a, t_s = t/s,
v_F and gamma1 kept) of width ``W``. The interlayer bias ``U`` (meV, runtime; layer
potentials +-U/2 over the whole device and leads) opens the band gap of the "Mexican hat",
edges +-U gamma1/(2 sqrt(gamma1^2 + U^2)) (29.6 meV at U = 60 meV). Two split gates over
the middle of the ribbon (flat over ``L_gate``, switched on over ``L_ramp`` along x; edges
smoothed over ``y_ramp``) cover the ribbon outside a channel of width ``w_qpc`` and shift
the potential energy under them by ``V_sg`` (meV). With ``V_sg`` = E (the default) the
Fermi energy sits in the middle of the gap under the gates: only the channel between them
conducts, as in the gate-defined bilayer QPCs of Overweg et al., Nano Lett. 18, 553 (2018).
As the channel widens, G rises in steps of 4e^2/h (spin and valley), G = 2, 4, 6 G0
(G0 = 2e^2/h); the smooth, electrostatic confinement keeps the valleys degenerate.

The showcase (``metadata["energy_meV"]``): E = 40 meV above midgap at U = 60 meV (the leads
carry 7 channels); sweep ``w_qpc`` from 0 to W.
Units: lengths nm, energies meV.
"""
import qpcsim
from qpcsim.potentials import split_gate_channel

DEFAULTS = dict(
    w_qpc=20.0,     # channel width between the split gates (nm); W = fully open
    W=60.0,         # ribbon width (nm)
    L=100.0,        # length of the scattering region (nm)
    L_gate=40.0,    # length of the gates' flat part along the ribbon (nm)
    L_ramp=15.0,    # switch-on length of the gates along x (nm)
    y_ramp=4.0,     # width of the gates' edges across the ribbon (nm)
    U=60.0,         # interlayer bias: layer potentials +-U/2 (meV; runtime)
    gamma1=380.0,   # interlayer hopping between the dimer sites B1, A2 (meV)
    scale=6.0,      # scaled-graphene factor s (dimensionless): a_s = s a, t_s = t/s
)
STRUCTURAL = ("W", "L", "L_gate", "L_ramp", "y_ramp", "gamma1", "scale")
FAST_PATH = False   # a model device: fast path via backends/model_assembly.py (tests/conftest.py)
ENERGY_MEV = 40.0   # showcase energy (meV above midgap)


def make_device(**params) -> qpcsim.BilayerGrapheneRibbon:
    """Build the gated bilayer ribbon. See the module docstring and ``DEFAULTS``.

    Runtime parameters: ``U`` (meV), ``V_sg`` (meV; default the showcase energy) and
    ``w_qpc`` (nm).
    """
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    half_gate = 0.5 * v.non_negative("L_gate", p["L_gate"], "nm")
    ramp = v.non_negative("L_ramp", p["L_ramp"], "nm")
    y_ramp = v.non_negative("y_ramp", p["y_ramp"], "nm")
    width = v.positive("W", p["W"], "nm")

    def potential(x, y, V_sg=ENERGY_MEV, w_qpc=p["w_qpc"]):
        return split_gate_channel(x, y, V_sg, w_qpc, half_gate, ramp, y_ramp, width)

    return qpcsim.BilayerGrapheneRibbon(
        width=width, length=p["L"], gamma1=p["gamma1"], U=p["U"], scale=p["scale"],
        potential=potential, units={"V_sg": "meV", "w_qpc": "nm"}, name="bilayer_graphene_qpc",
        metadata={"geometry": "bilayer_graphene_qpc", "make_device": p,
                  "structural_parameters": STRUCTURAL, "energy_meV": ENERGY_MEV,
                  "parameter_docs": {"U": "interlayer bias: potential +U/2 on layer 1, -U/2 "
                                          "on layer 2 (meV)",
                                     "V_sg": "split-gate potential energy under the gates (meV)",
                                     "w_qpc": "channel width between the gates (nm)"}})
