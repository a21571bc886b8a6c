"""N-QPC-S: a saddle-point QPC between a normal and a superconducting lead.

Physical picture
----------------
A GaAs-like 2DEG channel (width ``W``) with a saddle-point constriction
(``V0``, ``hw_x``, ``hw_y`` as in ``qpc_saddle``) centred at ``x_qpc``, and a
superconductor (pairing ``Delta``, phase ``phi``) to its right: lead 1 and a
superconducting region in the scattering region whose pairing rises smoothly
(C-infinity, over ``L_ramp`` from x = 0) to ``Delta``. The Bogoliubov-de Gennes
Hamiltonian (``qpcsim.superconductivity.BdGDevice``) is

    H = (hbar^2 k^2/(2 m*) - mu + V(x, y)) tau_z + s(x) Delta (cos phi tau_x - sin phi tau_y).

At E = 0 an electron transmitted by the QPC is Andreev reflected as a hole, and
Beenakker's formula holds, G_NS = (4e^2/h) sum_n T_n^2/(2 - T_n)^2 (PRB 46,
12841 (1992)), with T_n the normal-state (``Delta = 0``) eigenvalues of the
same device: the first plateau is at 4e^2/h (G = 2 G0), and in the tunnelling
regime G_NS ~ G0 T^2/2 << G_N = G0 T.

The formula is the Andreev approximation, Delta << mu. Measured at the
defaults (a V0 sweep 0 .. 12 meV, E = 0): max|G_NS - Beenakker| is linear in
Delta: 2.6e-5 G0 at Delta = 0.1 meV, 1.4e-5 at 0.05 meV; an abrupt interface
(no ramp) gives 1.9e-3 already at Delta = 0.01 meV (normal reflection at the
pairing step, first order in Delta/mu). The default Delta = 1e-3 meV
(Delta/mu = 1e-4) keeps it below 1e-6. A larger Delta (0.2 meV for Al) changes
the plateaus by less than 1e-4 G0.

Units: energies meV (``E`` of ``solve`` from the Fermi level), lengths nm,
``phi`` rad.
"""
import qpcsim
from qpcsim.potentials import flat_top_window, harmonic_curvature, smooth_step
from qpcsim.superconductivity import BdGDevice

DEFAULTS = dict(
    V0=6.75,       # saddle-point height (meV); the gate knob (default: plateau 1)
    Delta=1e-3,    # pairing of the superconductor (meV); 0 = normal state
    phi=0.0,       # superconducting phase (rad)
    mu=10.0,       # Fermi energy from the band bottom (meV)
    hw_x=1.0,      # barrier curvature hbar omega_x (meV)
    hw_y=3.0,      # transverse confinement hbar omega_y (meV)
    W=120.0,       # channel width (nm)
    x_qpc=-200.0,  # position of the saddle (nm)
    L_qpc=400.0,   # length of the saddle's window, ramps included (nm)
    L_ramp=250.0,  # rise length of the pairing from x = 0 (nm)
    a=5.0,         # lattice constant (nm)
)
STRUCTURAL = ("mu", "hw_x", "hw_y", "W", "x_qpc", "L_qpc", "L_ramp", "a")
FAST_PATH = False   # a model device: mumps/scipy via backends/model_assembly.py, not the one-band RGF (tests/conftest.py)
#: Showcase: E = 0 (the Fermi level, inside the gap), where Beenakker's formula holds.
ENERGY = 0.0


def make_device(**params) -> BdGDevice:
    """Build the N-QPC-S device. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    a = v.positive("a", p["a"], "nm")
    ramp = v.positive("L_ramp", p["L_ramp"], "nm")
    half_window = 0.5 * v.positive("L_qpc", p["L_qpc"], "nm")
    x_qpc = v.real_number("x_qpc", p["x_qpc"], "nm")
    if x_qpc + half_window > 0:
        raise ValueError(f"x_qpc={x_qpc:g} nm is not allowed with L_qpc={2 * half_window:g} nm: "
                         "the QPC must end before the superconductor starts at x = 0 "
                         "(x_qpc + L_qpc/2 <= 0)")
    # Region from the QPC's left end to the end of the pairing ramp, one a beyond each.
    left = x_qpc - half_window - a
    half_length = max(-left, ramp + a)
    length = 2 * a * round(half_length / a)
    cx, cy = (harmonic_curvature(v.positive(k, p[k], "meV")) for k in ("hw_x", "hw_y"))

    def potential(x, y, V0=p["V0"]):
        dx = x - x_qpc
        return flat_top_window(dx, half_window / 3, half_window * 2 / 3) * (
            V0 - cx * dx**2 + cy * y**2)

    def pairing(x, y):
        return smooth_step(x / ramp)

    device = BdGDevice(
        width=p["W"], length=length, a=a, mu=p["mu"], Delta=p["Delta"], phi=p["phi"],
        potential=potential, units={"V0": "meV"}, pairing_profile=pairing, name="nqpc_s",
        metadata={"geometry": "nqpc_s", "make_device": p, "structural_parameters": STRUCTURAL,
                  "energy_meV": ENERGY,
                  "parameter_docs": {"V0": "saddle-point height (meV)",
                                     "Delta": "pairing of the superconductor (meV)",
                                     "phi": "superconducting phase (rad)",
                                     "mu": "Fermi energy (meV)"}})
    return device
