"""Transverse magnetic focusing between two point contacts on one edge.

Physical picture
----------------
A ballistic GaAs 2DEG with a straight hard-wall edge at the bottom. Two point
contacts sit on that edge, ``L`` (nm) apart centre to centre: the ``injector``
at x = +L/2 and the ``collector`` at x = -L/2, each a clean lead ``qpc_width``
wide (one open mode at the showcase energy: a QPC on its first plateau). Electrons
injected into the 2DEG move on cyclotron orbits of radius r_c = hbar k_F/(eB) and
reach the collector after n - 1 specular bounces off the edge when L = 2 n r_c,
i.e. at the focusing fields (van Houten et al., PRB 39, 8556 (1989))

    B_n = n 2 hbar k_F / (e L),   n = 1, 2, 3, ...

and never for the other sign of B (the orbits bend away from the collector).
With qpcsim's orientation (B > 0 along +z, Landau gauge A = (-B y, 0) of the
two-terminal devices) electrons curve toward -x, so the collector sits left of
the injector and the peaks are at B > 0.
The rest of the 2DEG drains into absorbing leads: ``left`` and ``right`` (full
height) and ``top`` (full length), so nothing returns from far away. The field
is in the ``edges`` gauge (each lead in its own Landau gauge, see ``qpcsim.terminals``).

Terminals, in Kwant's lead order: 0 ``injector``, 1 ``collector``, 2 ``left``,
3 ``right``, 4 ``top``. The focusing signal is T(collector <- injector) =
-G[1, 0] (``result.transmission``), or the nonlocal resistance
``result.resistance(("injector", "left"), ("collector", "right"))``.

Showcase (``ENERGY``, ``metadata["energy_meV"]``): E_F = 10 meV, lambda_F = 47 nm,
k_F = 0.133 /nm, B_1 = 0.436 T at L = 400 nm.

Units: lengths nm, B in T, energies meV.
"""
import qpcsim

DEFAULTS = dict(
    L=400.0,            # distance between the point contacts, centre to centre (nm)
    qpc_width=30.0,     # width of each point contact (nm): one mode at 10 meV with a = 5 nm
    margin=100.0,       # 2DEG beyond each point contact, to the left/right leads (nm)
    height=250.0,       # height of the 2DEG above the edge, to the top lead (nm); > L/2
    zeeman=False,       # resolve spins: adds the Zeeman energy E_Z (meV) as a parameter
    a=5.0,              # lattice constant (nm)
)
#: Showcase Fermi energy (meV).
ENERGY = 10.0
STRUCTURAL = tuple(DEFAULTS)


def make_device(**params) -> qpcsim.Device:
    """Build the focusing geometry. See the module docstring and ``DEFAULTS``."""
    qpcsim.check_geometry_params(params, DEFAULTS, __name__)
    p = {**DEFAULTS, **params}
    v = qpcsim.validate
    L = v.positive("L", p["L"], "nm")
    width = v.positive("qpc_width", p["qpc_width"], "nm")
    margin = v.positive("margin", p["margin"], "nm")
    height = v.positive("height", p["height"], "nm")
    if not width < L:
        raise ValueError(f"qpc_width={width:g} nm is not allowed: it must be smaller than the "
                         f"distance L={L:g} nm between the point contacts")
    Lead = qpcsim.Lead
    leads = [Lead("injector", "bottom", L / 2, width), Lead("collector", "bottom", -L / 2, width),
             Lead("left", "left"), Lead("right", "right"),
             Lead("top", "top", 0.0, L + 2 * margin)]   # clear of the corner sites
    return qpcsim.Device(
        width=height, length=L + 2 * margin, a=p["a"], leads=leads, zeeman=p["zeeman"],
        name="magnetic_focusing",
        metadata={"geometry": "magnetic_focusing", "make_device": p,
                  "structural_parameters": STRUCTURAL, "energy_meV": ENERGY,
                  "working_energy_meV": ENERGY})
