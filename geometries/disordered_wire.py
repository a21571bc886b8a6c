"""Disordered quantum wire: the reference system for mean free path,
localization and universal conductance fluctuations.

Physical picture
----------------
A straight channel of width ``W`` and length ``L`` (hard walls at y = +-W/2)
between two clean leads of the same width. Inside the channel a random
potential: Anderson disorder (on-site energies uniform in [-U/2, U/2]) or, with
``correlation_length > 0``, smooth Gaussian-correlated disorder of rms amplitude
``U``. Each landscape is fixed by ``seed`` alone (bit-identical everywhere).

Regimes (N open modes, l the mean free path): ballistic L << l, quasi-ballistic
to diffusive l < L < N l with <T> = N/(1 + L/l), localized L >> N l with
<ln T> = -2L/xi. See docs/disorder_and_lengths.md.

Runtime parameters (change without rebuilding): ``disorder`` (meV), ``seed``,
``correlation_length`` (nm) and ``B`` (T); the values here are their defaults.
Units: lengths nm, energies meV.
"""
import qpcsim
from qpcsim.physics.disorder import with_disorder

DEFAULTS = dict(
    W=100.0,               # wire (and lead) width (nm)
    L=200.0,               # length of the disordered section (nm)
    a=5.0,                 # lattice constant (nm)
    disorder=10.0,         # disorder strength (meV): Anderson U, or the rms if correlated
    seed=0,                # disorder seed (non-negative integer)
    correlation_length=0.0,  # Gaussian correlation length (nm); 0 = Anderson disorder
    zeeman=False,          # resolve spins: adds the Zeeman energy E_Z (meV)
)
#: Working point: Fermi energy (meV) used when none is given (`qpcsim lengths`);
#: a few open modes in the 100 nm wire.
ENERGY = 20.0
STRUCTURAL = ("W", "L", "a", "zeeman")


def make_device(**params) -> qpcsim.Device:
    """Build the disordered wire. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    W, L = v.positive("W", p["W"], "nm"), v.positive("L", p["L"], "nm")
    a = v.positive("a", p["a"], "nm")
    clean = qpcsim.Device(width=W, length=L, a=a, zeeman=p["zeeman"], name="disordered_wire")
    device = with_disorder(clean, p["disorder"], correlation_length=p["correlation_length"],
                           seed=p["seed"])
    device.name = "disordered_wire"
    device.metadata.update({"geometry": "disordered_wire", "make_device": p,
                            "structural_parameters": STRUCTURAL,
                            "working_energy_meV": ENERGY})
    return device
