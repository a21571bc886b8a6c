"""Devices with any number of terminals, and the Landauer-Büttiker formalism.

A :class:`Lead` names one terminal and places it on an edge of the device's
bounding box (``left``, ``right``, ``top``, ``bottom``) at a position and width
in nm, or on a straight boundary segment of the shape inside the bounding box
(``Lead.on_segment``: end points in nm, the lead normal to the segment; every
interface site must be in the shape and no site of the shape beyond it);
``Device(..., leads=[Lead(...), ...])`` attaches them in that order
(``device.terminals``: their names). Without ``leads`` a device keeps its two
full-width (or ``lead_width``) leads, built by the unchanged default code.

Magnetic field (``gauge``): a Landau gauge A = (-B y, 0) keeps leads along x
translation invariant but not leads along y. ``"landau"`` (the default when every
lead runs along x) is the gauge of the two-terminal device. ``"edges"`` (the default
otherwise): each lead in its own Landau gauge, A = (-B y, 0) for leads along x and
A = (0, B x) for leads along y, joined inside the scattering region by an exact
lattice gauge transformation (a site phase, vectorized, O(N)). ``"magnetic"``: the
Peierls phases of ``kwant.physics.magnetic_gauge`` (one gauge call per device,
scaled linearly in B; its construction is slow, ~minutes at 40 000 sites). All
three give the same observables to 1e-10 (tests/test_terminals.py; the
hand-written Kwant reference there uses ``magnetic_gauge``).

Observables (``TransportResult.conductance_matrix``, ``.resistance``): the
conductance matrix in Kwant's convention of ``SMatrix.conductance_matrix``,
I_i = sum_j G_ij V_j with G_ij = N_i delta_ij - T_ij, in units of G0 = 2e^2/h
(spin-resolved devices: T counts each spin channel, G = T/2 in G0, i.e. e^2/h
per spin channel), and four-terminal resistances R_ij,kl = (V_k - V_l)/I for a
current I from terminal i to terminal j, by the linear solve of Büttiker,
PRL 57, 1761 (1986) with the sink's voltage fixed to zero.
"""
from __future__ import annotations

import cmath
import warnings
from dataclasses import dataclass

import numpy as np

from . import validate as _validate
from .units import flux_per_plaquette

__all__ = ["Lead", "EDGES", "conductance_matrix", "resistance", "spin_factor_of",
           "terminal_index", "magnetic_hoppings"]

#: Edge -> (translation direction of the lead, axis along which it is placed).
EDGES = {"left": ((-1, 0), "y"), "right": ((1, 0), "y"),
         "top": ((0, 1), "x"), "bottom": ((0, -1), "x")}
_GRID_TOL = 1e-6
#: Field (Kwant units) at which the unit Peierls angles are taken: |angle| << pi.
_PROBE_FIELD = 1e-6
#: Reduced conductance matrices worse conditioned than this give R = NaN (no current path).
_MAX_CONDITION = 1e10


@dataclass(frozen=True)
class Lead:
    """One terminal: a clean semi-infinite lead on an edge of the device.

    Parameters
    ----------
    name : str
        Terminal name (unique in a device), used by ``resistance`` and plots.
    edge : {"left", "right", "top", "bottom"}
        Edge of the device's bounding box the lead attaches to.
    center : float
        Position of the lead's centre along that edge (nm): y for left/right,
        x for top/bottom, measured from the device centre.
    width : float or None
        Distance between the lead's hard walls (nm), a multiple of ``a`` with
        the walls on lattice lines; None: the whole edge.
    at : float or None
        Position (nm) of the lattice line of the lead's interface sites: x for
        left/right, y for top/bottom. None: the bounding-box edge. Elsewhere the
        lead attaches to a boundary segment of the shape inside the bounding box
        (see :meth:`on_segment`): every interface site must be in the shape and
        no site of the shape may lie beyond it, in the lead's direction.
    """

    name: str
    edge: str
    center: float = 0.0
    width: float | None = None
    at: float | None = None

    def __post_init__(self):
        if self.edge not in EDGES:
            raise ValueError(f"edge={self.edge!r} is not allowed for lead {self.name!r}: use one "
                             f"of {', '.join(EDGES)}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name={self.name!r} is not allowed: a lead needs a non-empty name")

    @classmethod
    def on_segment(cls, name: str, start, end, outward: str) -> "Lead":
        """A lead on a straight, lattice-aligned boundary segment of the shape.

        Parameters
        ----------
        name : str
            Terminal name.
        start, end : (float, float)
            End points (x, y) in nm of the segment: the lead's two hard walls, one
            lattice constant beyond its first and last interface sites (the
            convention of ``width``). They share x (a vertical segment) or y.
        outward : {"left", "right", "top", "bottom"}
            Direction in which the lead runs away from the device: normal to the
            segment (left/right for a vertical one, top/bottom for a horizontal one).

        Returns
        -------
        Lead
            ``Lead(name, outward, center, width, at)`` with the segment's midpoint,
            length and line.
        """
        (x0, y0), (x1, y1) = (tuple(_validate.real_number(f"{label}[{k}]", v, "nm")
                                    for k, v in enumerate(point))
                              for label, point in (("start", start), ("end", end)))
        if outward not in EDGES:
            raise ValueError(f"outward={outward!r} is not allowed for lead {name!r}: use one "
                             f"of {', '.join(EDGES)}")
        vertical = outward in ("left", "right")
        line, other = ((x0, x1), (y0, y1)) if vertical else ((y0, y1), (x0, x1))
        if line[0] != line[1] or other[0] == other[1]:
            kind = "vertical (equal x)" if vertical else "horizontal (equal y)"
            raise ValueError(f"lead {name!r}: start={start!r}, end={end!r} is not allowed with "
                             f"outward={outward!r}: the segment must be {kind}, normal to "
                             "the lead, with distinct end points")
        return cls(name, outward, 0.5 * (other[0] + other[1]), abs(other[1] - other[0]),
                   line[0])

    @property
    def along_x(self) -> bool:
        """Whether the lead runs along x (left or right edge)."""
        return self.edge in ("left", "right")


# ---------------------------------------------------------------- geometry
def lead_sites(device, lead: Lead) -> list[tuple[int, int]]:
    """Lattice tags ``(i, j)`` of the lead's unit cell at the device edge."""
    along_y = lead.edge in ("left", "right")
    extent = device.width if along_y else device.length
    count = device.ny if along_y else device.nx
    # Sites along the edge sit at -extent/2 + (k + offset) a, walls one a beyond the last.
    offset = 1.0 if along_y else 0.0
    width = extent + (0.0 if along_y else 2 * device.a) if lead.width is None else \
        _validate.positive("width", lead.width, "nm")
    center = _validate.real_number("center", lead.center, "nm")
    n = int(round(width / device.a)) - 1
    if abs(width / device.a - (n + 1)) > _GRID_TOL * max(1.0, width / device.a) or n < 1:
        raise ValueError(f"lead {lead.name!r}: width={width:g} nm is not allowed with a="
                         f"{device.a:g} nm: it must be a multiple of a and >= 2a = "
                         f"{2 * device.a:g} nm")
    wall = (center - width / 2 + extent / 2) / device.a - offset   # index of the lower wall
    k0 = int(round(wall)) + 1
    if abs(wall - (k0 - 1)) > _GRID_TOL * max(1.0, abs(wall)):
        raise ValueError(
            f"lead {lead.name!r}: center={center:g} nm is not allowed with width={width:g} nm "
            f"and a={device.a:g} nm: the walls must lie on lattice lines (center - width/2 "
            f"must be a multiple of a from the edge's first site)")
    if k0 < 0 or k0 + n > count:
        half = extent / 2 + (0.0 if along_y else device.a)     # where the walls may reach
        raise ValueError(
            f"lead {lead.name!r} (center={center:g} nm, width={width:g} nm) is not allowed: it "
            f"leaves the {lead.edge} edge; its walls must lie within +-{half:g} nm")
    ks = range(k0, k0 + n)
    fixed = {"left": 0, "right": device.nx - 1, "bottom": 0, "top": device.ny - 1}[lead.edge]
    if lead.at is not None:
        at = _validate.real_number("at", lead.at, "nm")
        # The line's lattice index: i = (x + L/2)/a for left/right, j = (y + W/2)/a - 1.
        index = (at + device.length / 2) / device.a if along_y else \
            (at + device.width / 2) / device.a - 1.0
        fixed = int(round(index))
        if abs(index - fixed) > _GRID_TOL * max(1.0, abs(index)):
            raise ValueError(f"lead {lead.name!r}: at={at:g} nm is not allowed with a="
                             f"{device.a:g} nm: the segment must lie on a lattice line "
                             f"({'x' if along_y else 'y'} of a row of sites)")
        last = device.nx - 1 if along_y else device.ny - 1
        if not 0 <= fixed <= last:
            lo, hi = device.lattice_to_nm(0, 0)[0 if along_y else 1], \
                device.lattice_to_nm(last, last)[0 if along_y else 1]
            raise ValueError(f"lead {lead.name!r}: at={at:g} nm is not allowed: it must lie "
                             f"within the lattice, {float(lo):g} .. {float(hi):g} nm")
    return [(fixed, k) if along_y else (k, fixed) for k in ks]


def check_leads(device, leads) -> tuple[Lead, ...]:
    """Validate a list of leads on ``device``: at least two, unique names, each on the
    lattice inside its edge, no two sharing a site."""
    leads = tuple(leads)
    if len(leads) < 2 or not all(isinstance(lead, Lead) for lead in leads):
        raise ValueError(f"leads={leads!r} is not allowed: give a list of at least two "
                         "qpcsim.Lead")
    names = [lead.name for lead in leads]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"leads: names {repeated} are repeated; each terminal needs its own name")
    owner = {}
    for lead in leads:
        for tag in lead_sites(device, lead):
            if tag in owner:
                raise ValueError(f"leads {owner[tag]!r} and {lead.name!r} overlap (both attach "
                                 f"at lattice site {tag}); move or narrow one of them")
            owner[tag] = lead.name
    return leads


def region_tags(device) -> np.ndarray:
    """Tags of the scattering region (shape mask), checking that every lead's interface
    sites belong to it."""
    i, j = np.meshgrid(np.arange(device.nx), np.arange(device.ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    if device.shape is None and all(lead.at is None for lead in device.leads):
        return np.column_stack([i, j])
    x, y = device.lattice_to_nm(i, j)
    mask = np.ones(x.shape, dtype=bool) if device.shape is None else \
        np.broadcast_to(np.asarray(device.shape(x, y), dtype=bool), x.shape)
    inside = set(zip(i[mask].tolist(), j[mask].tolist()))
    for lead in device.leads:
        sites = lead_sites(device, lead)
        missing = [t for t in sites if t not in inside]
        if missing:
            mx, my = device.lattice_to_nm(*missing[0])
            raise ValueError(
                f"lead {lead.name!r} is not allowed where it is: the shape excludes "
                f"{len(missing)} of its interface sites (e.g. x={float(mx):g} nm, y={float(my):g} "
                "nm); place the lead on the shape's boundary")
        (di, dj), _ = EDGES[lead.edge]
        for si, sj in sites:     # the lead's half-strip beyond the segment must be outside
            k = 1
            while 0 <= si + k * di < device.nx and 0 <= sj + k * dj < device.ny:
                if (si + k * di, sj + k * dj) in inside:
                    mx, my = device.lattice_to_nm(si + k * di, sj + k * dj)
                    raise ValueError(
                        f"lead {lead.name!r} is not allowed where it is: it is not on the "
                        f"shape's boundary; the shape has a site beyond it toward "
                        f"{lead.edge} (x={float(mx):g} nm, y={float(my):g} nm)")
                k += 1
    return np.column_stack([i[mask], j[mask]])


#: Gauges of a device with explicit leads (see the module docstring).
GAUGES = ("landau", "edges", "magnetic")


def resolve_gauge(leads, gauge) -> str:
    """The gauge of a device with ``leads``; ``gauge=None`` picks ``"landau"`` when every
    lead runs along x, else ``"edges"``."""
    along_y = [lead.name for lead in leads if not lead.along_x]
    if gauge is None:
        return "edges" if along_y else "landau"
    if gauge not in GAUGES:
        raise ValueError(f"gauge={gauge!r} is not allowed: use one of {', '.join(GAUGES)} or "
                         "None")
    if gauge == "landau" and along_y:
        raise ValueError(
            f"gauge='landau' is not allowed with leads {along_y} on the top/bottom edge: "
            "A = (-B y, 0) breaks their translation invariance; use 'edges', 'magnetic' or None")
    return gauge


def builder(device):
    """Unfinalized ``kwant.Builder`` of a device with explicit ``leads``."""
    import kwant

    lat = kwant.lattice.square(1, norbs=device.norbs, name="")
    syst = kwant.Builder()
    onsite = device.value_function("onsite")
    for i, j in region_tags(device):
        syst[lat(int(i), int(j))] = onsite
    syst[lat.neighbors()] = _hopping_function(device, 0)
    lead_onsite = device.value_function("lead_onsite")
    for k, lead in enumerate(device.leads):
        direction, _ = EDGES[lead.edge]
        kwant_lead = kwant.Builder(kwant.TranslationalSymmetry(direction))
        for i, j in lead_sites(device, lead):
            kwant_lead[lat(i, j)] = lead_onsite
        kwant_lead[lat.neighbors()] = _hopping_function(device, k + 1)
        syst.attach_lead(kwant_lead)
    return syst


def _hopping_function(device, part: int):
    """Hopping value function of the scattering region (``part=0``) or lead
    ``part - 1``: the device's Landau-gauge hopping, or -t times the Peierls phase
    of ``kwant.physics.magnetic_gauge`` for the field B (T)."""
    if device.gauge == "landau":
        return device.value_function("hopping")
    if device.gauge == "edges":
        # Scalar arithmetic (Kwant calls this once per hopping): the formula of _edge_gauge.
        weight = None if part == 0 else float(not device.leads[part - 1].along_x)
        centre, eye = 0.5 * (device.ny - 1), np.eye(2)

        def value(to_site, from_site, B):
            (i1, j1), (i2, j2) = to_site.pos, from_site.pos
            if weight is None:
                x_sites = _x_lead_sites(device)
                w1, w2 = float(to_site.tag not in x_sites), float(from_site.tag not in x_sites)
            else:
                w1 = w2 = weight
            phi = 2 * np.pi * flux_per_plaquette(B, device.a)
            theta = phi * (0.5 * (j1 + j2) - centre) * (i1 - i2) \
                - phi * (i1 * (j1 - centre) * w1 - i2 * (j2 - centre) * w2)
            hop = -cmath.exp(1j * theta)
            return hop * eye if device.zeeman else hop
    else:
        def value(to_site, from_site, B):
            hop = -np.exp(1j * _unit_angle(device, part, to_site, from_site)
                          * _kwant_field(device, B))
            return hop * np.eye(2) if device.zeeman else hop
    return value


def _x_lead_sites(device) -> set:
    """Tags of the interface sites of the leads along x (where the ``edges`` gauge is
    the Landau gauge A = (-B y, 0))."""
    cache = device.__dict__.setdefault("_gauge_cache", {})
    x_sites = cache.get("x_lead_sites")
    if x_sites is None:
        x_sites = cache["x_lead_sites"] = {t for lead in device.leads if lead.along_x
                                           for t in lead_sites(device, lead)}
    return x_sites


def _edge_weights(device, pos: np.ndarray) -> np.ndarray:
    """w = 0 on the interface sites of leads along x, 1 elsewhere (lattice positions)."""
    x_sites = _x_lead_sites(device)
    return np.array([0.0 if (int(round(i)), int(round(j))) in x_sites else 1.0
                     for i, j in pos])


def _edge_gauge(device, pos_to, pos_from, w_to, w_from, B: float) -> np.ndarray:
    """Hoppings -t exp(i theta) in the ``edges`` gauge: the Landau gauge A = (-B y, 0) of
    ``Device.hopping_values`` transformed by the site function
    chi(i, j) = -2 pi phi i (j - c) w(i, j), theta' = theta + chi(to) - chi(from). With
    w = 1 this is A = (0, B x) (phases independent of y: leads along y stay translation
    invariant); w = 0 on the interfaces of leads along x keeps theirs. A gauge
    transformation by any site function leaves every plaquette flux, hence all
    observables, unchanged."""
    hop = device.hopping_values(pos_to, pos_from, B)
    phi = 2 * np.pi * flux_per_plaquette(B, device.a)
    centre = 0.5 * (device.ny - 1)

    def chi(pos, w):
        return -phi * pos[:, 0] * (pos[:, 1] - centre) * w
    phase = np.exp(1j * (chi(pos_to, w_to) - chi(pos_from, w_from)))
    return hop * (phase[:, None, None] if device.zeeman else phase)


def _kwant_field(device, B: float) -> float:
    """Kwant's field unit is phi_0 = h/(2e) per unit area (its phase is exp(i pi flux)):
    2 phi, phi in h/e per plaquette. Same orientation as the Landau gauge of
    ``Device.hopping_values`` (checked to 1e-10 in the tests)."""
    return 2 * flux_per_plaquette(B, device.a)


def fix_magnetic_gauge(device) -> None:
    """Fix Kwant's ``magnetic_gauge`` of a device once (``gauge="magnetic"``): the
    build calls it right after finalizing, outside Kwant's value functions, so a lead
    arrangement Kwant cannot gauge is a one-line error, not a traceback from inside one."""
    cache = device.__dict__.setdefault("_gauge_cache", {})
    if "unit" in cache:
        return
    import kwant.physics
    with warnings.catch_warnings():   # Kwant 1.5's np.cross of 2-D vectors (NumPy 2)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            gauge = kwant.physics.magnetic_gauge(device.build())
            cache["phases"] = gauge(*[_PROBE_FIELD] * (1 + len(device.leads)))
        # Kwant raises ValueError for a gauge it cannot fix; with SciPy >= 1.14 (Python
        # 3.13) building that message fails with AttributeError instead.
        except (ValueError, AttributeError) as exc:
            raise ValueError(
                f"gauge='magnetic' is not allowed for this device: Kwant cannot fix a "
                f"magnetic gauge for its leads ({type(exc).__name__}: {exc}); use "
                f"gauge='edges'") from None
    cache["unit"] = [{} for _ in cache["phases"]]


def _unit_angle(device, part: int, to_site, from_site) -> float:
    """Peierls angle of one hopping per unit of Kwant's field. The phases of a uniform
    field are linear in it: they are taken at a tiny field (no wrapping, relative
    precision ~1e-16) from one ``magnetic_gauge`` call per device, then scaled."""
    fix_magnetic_gauge(device)
    cache = device.__dict__["_gauge_cache"]
    unit, key = cache["unit"][part], (to_site.tag, from_site.tag)
    angle = unit.get(key)
    if angle is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            phase = cache["phases"][part](to_site, from_site)
        angle = unit[key] = float(np.angle(phase)) / _PROBE_FIELD
    return angle


def magnetic_hoppings(device, to_index: np.ndarray, from_index: np.ndarray,
                      B: float) -> np.ndarray:
    """Hoppings of the scattering region (lattice units) in the device's ``edges`` or
    ``magnetic`` gauge, for site indices in Kwant's order: the Kwant value function's
    numbers, vectorized (the fast path's assembly uses them; shaped like
    ``Device.hopping_values``)."""
    cache = device.__dict__.setdefault("_gauge_cache", {})
    if device.gauge == "edges":
        pos = device.site_positions()
        weights = cache.get("system_weights")
        if weights is None or len(weights) != len(pos):
            weights = cache["system_weights"] = _edge_weights(device, pos)
        return _edge_gauge(device, pos[to_index], pos[from_index], weights[to_index],
                           weights[from_index], B)
    stored = cache.get("system_angles")
    if stored is None or not (np.array_equal(stored[0], to_index)
                              and np.array_equal(stored[1], from_index)):
        sites = device.build().sites
        angles = np.array([_unit_angle(device, 0, sites[a], sites[b])
                           for a, b in zip(to_index.tolist(), from_index.tolist())])
        stored = cache["system_angles"] = (np.array(to_index), np.array(from_index), angles)
    hop = -np.exp(1j * stored[2] * _kwant_field(device, B))
    if not device.zeeman:
        return hop
    out = np.zeros((len(hop), 2, 2), dtype=complex)
    out[:, 0, 0] = out[:, 1, 1] = hop
    return out


# ---------------------------------------------------------------- observables
def spin_factor_of(device) -> float:
    """Conductance per unit transmission of ``device`` in G0 = 2e^2/h: G = spin_factor T.

    Parameters
    ----------
    device : qpcsim.Device
        Any device (its ``zeeman`` flag: spins resolved or not).

    Returns
    -------
    float
        1 when one orbital carries both spins, 1/2 when the spins are resolved.
    """
    return 0.5 if _validate.device("device", device).zeeman else 1.0


def conductance_matrix(smat: np.ndarray, nprop, spin_factor: float = 1.0) -> np.ndarray:
    """G_ij = spin_factor (N_i delta_ij - T_ij) from a full S-matrix (Kwant's mode
    order) and the propagating modes per lead: Kwant's ``SMatrix.conductance_matrix``
    times ``spin_factor`` (1: G0 units of a spin-degenerate device; 1/2: G0 units
    when each spin is a channel)."""
    nprop = np.asarray(nprop, dtype=int)
    spin_factor = _validate.positive("spin_factor", spin_factor)
    total = int(nprop.sum())
    if np.size(smat) and np.shape(smat) != (total, total):
        raise ValueError(f"smat of shape {np.shape(smat)} is not allowed with "
                         f"nprop={tuple(nprop.tolist())}: the S-matrix must be ({total}, {total})")
    edges = np.concatenate([[0], np.cumsum(nprop)])
    n = len(nprop)
    weights = np.abs(np.asarray(smat)) ** 2 if np.size(smat) else np.zeros((0, 0))
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = -weights[edges[i]:edges[i + 1], edges[j]:edges[j + 1]].sum()
        out[i, i] += nprop[i]
    return spin_factor * out


def terminal_index(terminal, names) -> int:
    """Index of ``terminal`` (a name or an index) among ``names``."""
    names = list(names)
    if isinstance(terminal, (int, np.integer)) and not isinstance(terminal, bool):
        if -len(names) <= terminal < len(names):
            return int(terminal) % len(names)
    elif terminal in names:
        return names.index(terminal)
    raise ValueError(f"terminal={terminal!r} is not allowed: use one of {names} or an index "
                     f"0..{len(names) - 1}")


def resistance(G: np.ndarray, current, voltage, names=None) -> np.ndarray:
    """Four-terminal resistance R_ij,kl = (V_k - V_l)/I (units of h/e^2).

    Parameters
    ----------
    G : array (..., N, N)
        Conductance matrices in G0 = 2e^2/h (Kwant's convention, I = G V).
    current : (src, snk)
        Terminals (names or indices) through which the current I enters and leaves.
    voltage : (a, b)
        Terminals between which the voltage V_a - V_b is measured.
    names : sequence of str, optional
        Terminal names (default ``0..N-1`` as strings).

    Returns
    -------
    ndarray (...)
        R in units of h/e^2; NaN where the reduced matrix is singular (condition
        number above 1e10: no current path from source to sink).

    Notes
    -----
    Büttiker, PRL 57, 1761 (1986): with V_snk = 0, solve the remaining N - 1
    equations I_m = sum_n G_mn V_n for I_src = I, I_others = 0 (current
    conservation fixes I_snk = -I).
    """
    G = np.asarray(G, dtype=float)
    n = G.shape[-1]
    names = [str(k) for k in range(n)] if names is None else list(names)
    src, snk = (terminal_index(t, names) for t in _pair("current", current))
    a, b = (terminal_index(t, names) for t in _pair("voltage", voltage))
    if src == snk:
        raise ValueError(f"current={current!r} is not allowed: the source and the sink "
                         "must be different terminals")
    if a == b:
        raise ValueError(f"voltage={voltage!r} is not allowed: measure between two "
                         "different terminals")
    keep = [k for k in range(n) if k != snk]
    reduced = G[..., keep, :][..., :, keep]
    rhs = np.zeros(G.shape[:-2] + (n - 1,))
    rhs[..., keep.index(src)] = 1.0
    with np.errstate(all="ignore"):
        # Singular when the source cannot reach the sink (a pinched-off QPC): R is undefined.
        ok = np.isfinite(reduced).all(axis=(-1, -2))
        ok &= np.linalg.cond(np.where(ok[..., None, None], reduced, 1.0)) < _MAX_CONDITION
        safe = np.where(ok[..., None, None], reduced, np.eye(n - 1))
        volts = np.linalg.solve(safe, rhs[..., None])[..., 0]      # in units of 1/G0 = h/(2e^2)
    full = np.zeros(G.shape[:-2] + (n,))
    full[..., keep] = volts
    r = 0.5 * (full[..., a] - full[..., b])                        # h/(2e^2) -> h/e^2
    return np.where(ok, r, np.nan)


def _pair(name, value):
    if isinstance(value, str) and ":" in value:
        value = value.split(":")
    try:
        first, second = value
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} is not allowed: give two terminals (names or "
                         "indices), e.g. (0, 3) or '0:3'") from None
    return tuple(int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v
                 for v in (first, second))
