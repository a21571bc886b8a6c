"""Rashba nanowire in a field along the wire: the helical gap.

Physical picture
----------------
A clean quasi-one-dimensional wire (InSb-like: m* = 0.014 m_e, g = -50) of
width ``W`` with Rashba spin-orbit coupling ``alpha`` (meV nm) and a magnetic
field ``B`` (T) along the wire axis x, perpendicular to the spin-orbit field
(along y for a wire along x):

    H = hbar^2 (k_x^2 + k_y^2)/(2 m*) + alpha (k_x sigma_y - k_y sigma_x)
        + 1/2 g mu_B B sigma_x

(``qpcsim.ContinuumDevice``, discretized by ``kwant.continuum``). The field
has no orbital effect (in plane). At B = 0 each subband is a pair of spin
branches shifted by +-k_so = +-m* alpha/hbar^2: the first plateau is 2e^2/h.
The field opens a gap of E_Z = |g| mu_B B at k = 0 in the middle of the first
subband: there one spinful channel is open, G = e^2/h, and G re-enters 2e^2/h
below the gap (the lower band's two minima at +-k_so) and above it (Quay et
al., Nat. Phys. 6, 336 (2010)). The dip from 2e^2/h to e^2/h is re-entrant only
while the lower band keeps two minima, E_Z < 4 E_so with E_so =
m* alpha^2/(2 hbar^2): the window of fields is 0 < B < 4 E_so/(|g| mu_B),
set by alpha and g.

On the lattice the k = 0 gap is centred exactly at
E_c = 2t - 2 sqrt(t^2 + (alpha/2a)^2) cos(pi a/W) (sigma_x is conserved there:
the lattice's -alpha k_y sigma_x term only renormalizes the transverse hopping),
with edges E_c +- E_Z/2. Units: lengths nm, ``alpha`` meV nm, ``B`` T, energies
meV from the bulk band bottom.
"""
import math

import qpcsim
from qpcsim.units import MU_BOHR_MEV

HAMILTONIAN = ("hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)"
               " + g*mu_B*B*sigma_x/2")

DEFAULTS = dict(
    alpha=100.0,      # Rashba coupling (meV nm)
    B=0.0,            # field along the wire (T); Zeeman only
    W=60.0,           # wire width (nm)
    L=100.0,          # length of the scattering region (nm)
    m=0.014,          # effective mass (m_e)
    g=-50.0,          # g-factor (dimensionless)
    a=5.0,            # lattice constant (nm)
)
STRUCTURAL = ("W", "L", "m", "g", "a")

FAST_PATH = False   # a model device: mumps/scipy via backends/model_assembly.py, not the one-band RGF (tests/conftest.py)
#: Showcase field (T): E_Z = 1.45 meV, inside the re-entrant window (B < 1.27 T at the defaults).
FIELD_T = 0.5


def gap_centre_meV(alpha, W, a, t):
    """Centre E_c (meV) of the k = 0 helical gap of the lattice wire (module docstring)."""
    return 2 * t - 2 * math.sqrt(t**2 + (alpha / (2 * a)) ** 2) * math.cos(math.pi * a / W)


def spin_orbit_energy_meV(alpha, m):
    """E_so = m* alpha^2 / (2 hbar^2) (meV)."""
    hbar2_over_me = qpcsim.units.continuum_constants()["hbar"] ** 2
    return alpha**2 * m / (2 * hbar2_over_me)


def reentrant_field_T(alpha, m, g):
    """Largest field (T) with a re-entrant dip: E_Z = |g| mu_B B < 4 E_so."""
    return 4 * spin_orbit_energy_meV(alpha, m) / (abs(g) * MU_BOHR_MEV)


def make_device(**params) -> qpcsim.ContinuumDevice:
    """Build the Rashba wire. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    material = qpcsim.Material("InSb", v.positive("m", p["m"], "m_e"),
                               v.real_number("g", p["g"]), 16.8)
    device = qpcsim.ContinuumDevice(
        HAMILTONIAN, width=p["W"], length=p["L"], a=p["a"], material=material,
        params={"alpha": p["alpha"], "B": p["B"]}, units={"alpha": "meV nm", "B": "T"},
        name="rashba_wire",
        metadata={"geometry": "rashba_wire", "make_device": p,
                  "structural_parameters": STRUCTURAL,
                  "parameter_docs": {"alpha": "Rashba coupling (meV nm)",
                                     "B": "field along the wire, Zeeman only (T)"}})
    E_c = gap_centre_meV(p["alpha"], p["W"], p["a"], device.t)
    device.metadata.update(energy_meV=E_c, field_T=FIELD_T,
                           reentrant_field_T=reentrant_field_T(p["alpha"], p["m"], p["g"]))
    return device
