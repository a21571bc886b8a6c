"""Split-gate quantum point contact, self-consistent: the gates' potential screened by
the 2DEG itself (Thomas–Fermi), no lever arm.

Physical picture
----------------
The split gate of ``qpc_split_gate.py`` (gap ``gap``, length ``gate_length`` along
the channel, 2DEG at depth ``d``), now in a heterostructure with ungated sheet
density ``density`` (cm^-2). The gates are finite rectangles reaching
``gate_extent`` (nm) beyond the gap edges (the bare geometry lets them run to
infinity, which no finite electrostatic window can hold). The surface is pinned
(Davies, Larkin & Sukhorukov, J. Appl. Phys. 77, 4504 (1995)) or, with
``frozen=True``, carries its cool-down charge between the gates; at each gate voltage
the density and potential solve the Thomas–Fermi problem of
``qpcsim.electrostatics`` on a ``resolution`` (nm) grid, and the self-consistent U
(meV) is interpolated onto the lattice. No screening factor is guessed: the
voltage axis is a prediction.

Energy: U is measured from the band bottom of the ungated 2DEG, whose Fermi energy
is E_F = n_s/rho (rho = m*/(pi hbar^2)). The transport energy must be that E_F:
``fermi_energy_meV(**params)`` returns it (8.00 meV for the default 2.239e11 cm^-2,
the energy of the bare demo sweep), and it is in ``device.metadata``.

Parameters: ``Vg`` (V) on both gates, or with ``split=True`` ``V_left`` and
``V_right`` (V) separately. Lengths in nm, the potential energy in meV.
"""
import qpcsim
from qpcsim.electrostatics import Gate, Heterostructure, Layout, self_consistent_device

DEFAULTS = dict(
    Vg=-0.5,            # gate voltage on both gates (V); with split=True use V_left, V_right
    split=False,        # one voltage per gate: V_left (y > 0), V_right (y < 0)
    V_left=-0.5,        # voltage of the gate at y > 0 (V), with split=True
    V_right=-0.5,       # voltage of the gate at y < 0 (V), with split=True
    density=2.239e11,   # ungated sheet density n_s (cm^-2): E_F = n_s/rho = 8.00 meV
    d=50.0,             # depth of the 2DEG below the gates (nm)
    gap=200.0,          # gap between the two gates (nm)
    gate_length=100.0,  # length of the gates along the channel (nm)
    gate_extent=300.0,  # how far each gate reaches beyond the gap edge, in y (nm)
    W=320.0,            # lead / device width (nm)
    L=480.0,            # length of the scattering region (nm)
    zeeman=False,       # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=4.0,              # lattice constant (nm)
    L_switch=100.0,     # switch-off ramp toward each lead (nm)
    resolution=4.0,     # Thomas-Fermi cell size (nm)
    margin=400.0,       # electrostatic window beyond the gates and the device (nm)
    frozen=False,       # frozen surface charge instead of a pinned surface (use margin >= 700)
)
VOLTAGES = ("Vg", "V_left", "V_right")
STRUCTURAL = ("split", "density", "d", "gap", "gate_length", "gate_extent", "W", "L",
              "zeeman", "a", "L_switch", "resolution", "margin", "frozen")


def layout(gap=DEFAULTS["gap"], gate_length=DEFAULTS["gate_length"],
           gate_extent=DEFAULTS["gate_extent"]) -> Layout:
    """The two gates (nm): ``left`` at y > 0, ``right`` at y < 0."""
    x0, y0, y1 = gate_length / 2, gap / 2, gap / 2 + gate_extent
    return Layout([Gate("left", [(-x0, y0), (x0, y0), (x0, y1), (-x0, y1)]),
                   Gate("right", [(-x0, -y1), (x0, -y1), (x0, -y0), (-x0, -y0)])])


def heterostructure(density=DEFAULTS["density"], d=DEFAULTS["d"],
                    frozen=DEFAULTS["frozen"]) -> Heterostructure:
    """The heterostructure: depth ``d`` (nm), density (cm^-2), GaAs, pinned or frozen surface."""
    return Heterostructure(depth_nm=d, density_cm2=density,
                           surface="frozen" if frozen else "pinned")


def fermi_energy_meV(**params) -> float:
    """E_F = n_s/rho (meV): the transport energy to use with these parameters."""
    p = {**DEFAULTS, **params}
    return heterostructure(p["density"], p["d"]).fermi_energy_meV


def make_device(**params) -> qpcsim.Device:
    """Build the self-consistent split-gate QPC. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    gap = v.positive("gap", p["gap"], "nm")
    W = v.positive("W", p["W"], "nm")
    if gap >= W:
        raise ValueError(f"gap={gap:g} nm is not allowed: it must be smaller than the device "
                         f"width W={W:g} nm, or the gates do not constrict the channel")
    lay = layout(gap, v.positive("gate_length", p["gate_length"], "nm"),
                 v.positive("gate_extent", p["gate_extent"], "nm"))
    het = heterostructure(p["density"], p["d"], qpcsim.validate.flag("frozen", p["frozen"]))
    split = qpcsim.validate.flag("split", p["split"])
    Vg = v.real_number("Vg", p["Vg"], "V")
    volts = {"left": v.real_number("V_left", p["V_left"], "V"),
             "right": v.real_number("V_right", p["V_right"], "V")} if split else \
        {"left": Vg, "right": Vg}
    ignored = [n for n in (("V_left", "V_right") if not split else ("Vg",)) if n in params]
    if ignored:
        raise ValueError(f"{ignored[0]}={params[ignored[0]]!r} is not allowed with "
                         f"split={split}: use " + ("V_left and V_right with split=True" if split
                                                   else "Vg, or split=True for V_left, V_right"))
    return self_consistent_device(
        lay, het, width_nm=W, length_nm=v.positive("L", p["L"], "nm"), a_nm=p["a"],
        resolution_nm=p["resolution"], voltages=volts,
        common=None if split else "Vg", switch_off_nm=p["L_switch"],
        margin_nm=v.non_negative("margin", p["margin"], "nm"), zeeman=p["zeeman"],
        name="qpc_split_gate_sc",
        metadata={"geometry": "qpc_split_gate_sc", "make_device": p,
                  "structural_parameters": STRUCTURAL})
