"""Graphene: a honeycomb ribbon device with zigzag or armchair edges.

:class:`GrapheneRibbon` is a two-terminal device on the honeycomb lattice
(nearest-neighbour hopping ``t``, lattice constant ``a`` = sqrt(3) a_cc in nm)
with the interface of :class:`qpcsim.Device` (``resolve_params``, ``build``,
``potential`` as an onsite term, ``describe``, ``fingerprint``), so ``solve``,
``sweep`` and the store take it. The ribbon runs along x; ``edge`` says which
edges the lattice has along it: ``"zigzag"`` (Kwant's honeycomb, a
translation period of ``a``) or ``"armchair"`` (the lattice turned by 90
degrees, period sqrt(3) a). Sites with |y| < width/2 and |x| <= length/2 form
the scattering region; leads 0 (left) and 1 (right) continue the ribbon.

Scaled graphene (Liu et al., PRL 114, 036601 (2015)): ``scale`` s > 1 uses
a_s = s a and t_s = t/s, keeping the Fermi velocity v_F = sqrt(3) t a/(2 hbar)
and so the low-energy (Dirac) physics while cutting the sites by s^2; it holds
while the Fermi wavelength and every length of the potential stay >> a_s (the
solver refuses lambda_F < 4 a_s).

Energies (meV) are measured from the Dirac point; one orbital per site carries
both spins (G0 = 2e^2/h per channel), so a zigzag ribbon's plateaus are
G = (4e^2/h)(n + 1/2) = 1, 3, 5, ... G0 (spin and valley; the n = 0 channel is
the edge state's).
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping

import numpy as np

from . import validate as _validate
from .hamiltonian import MIN_POINTS_PER_WAVELENGTH, ModelDevice, lead_bands
from .units import GAAS

__all__ = ["GrapheneRibbon", "BilayerGrapheneRibbon", "GRAPHENE_HOPPING_MEV",
           "GRAPHENE_LATTICE_NM", "BILAYER_GAMMA1_MEV", "EDGES", "armchair_ribbon_bands",
           "bilayer_bands"]

#: Nearest-neighbour hopping of graphene (meV).
GRAPHENE_HOPPING_MEV = 2700.0
#: Lattice constant of graphene, sqrt(3) x the 0.142 nm bond (nm).
GRAPHENE_LATTICE_NM = 0.246
EDGES = ("zigzag", "armchair")
#: Interlayer (dimer) hopping gamma1 of Bernal bilayer graphene (meV).
BILAYER_GAMMA1_MEV = 380.0


def armchair_ribbon_bands(k, rows: int, t: float = 1.0) -> np.ndarray:
    """Analytic bands of an armchair ribbon with ``rows`` dimer lines (Wakabayashi et al.):
    E_p(k) = +-t sqrt(1 + 4 c_p cos(k/2) + 4 c_p^2), c_p = cos(p pi/(rows + 1)), p = 1..rows,
    k in units of 1/(period/2)... here ``k`` is the Bloch phase over one period sqrt(3) a
    (so cos(k/2) = cos(k_x 3 a_cc/2)). Returns the sorted 2*rows energies (units of t)."""
    c = np.cos(np.arange(1, rows + 1) * np.pi / (rows + 1))
    e = t * np.sqrt(np.maximum(1 + 4 * c * np.cos(k / 2) + 4 * c**2, 0.0))
    return np.sort(np.concatenate([-e, e]))


def bilayer_bands(f_abs, gamma1: float, bias: float = 0.0) -> np.ndarray:
    """Analytic bands of Bernal bilayer graphene (McCann & Koshino, Rep. Prog. Phys. 76,
    056503 (2013)) at in-plane coupling |f| (``f_abs``; |f| = hbar v_F k near a valley),
    interlayer hopping ``gamma1`` and interlayer bias U = ``bias`` (layer potentials +-U/2):
    E^2 = |f|^2 + gamma1^2/2 + U^2/4 -+ sqrt(gamma1^4/4 + |f|^2 (gamma1^2 + U^2)),
    the gapped "Mexican hat" for U != 0. Returns the sorted four energies per |f| (last axis)
    in the units of the arguments."""
    gamma1 = _validate.positive("gamma1", gamma1, "meV")
    bias = _validate.real_number("bias", bias, "meV")
    try:
        f2 = np.asarray(f_abs, dtype=float) ** 2
    except (TypeError, ValueError):
        f2 = np.array(np.nan)
    if not np.all(np.isfinite(f2)):
        raise ValueError(f"f_abs={f_abs!r} is not allowed: give |f| = hbar v_F k as finite "
                         "numbers (meV)")
    root = np.sqrt(gamma1**4 / 4 + f2 * (gamma1**2 + bias**2))
    base = f2 + gamma1**2 / 2 + bias**2 / 4
    low, high = np.sqrt(np.maximum(base - root, 0.0)), np.sqrt(base + root)
    return np.sort(np.stack([-high, -low, low, high], axis=-1), axis=-1)


class GrapheneRibbon(ModelDevice):
    """A graphene ribbon with zigzag or armchair edges (module docstring).

    Parameters
    ----------
    width, length : float
        Ribbon width (sites with |y| < width/2) and scattering-region length (nm).
    edge : {"zigzag", "armchair"}
        Edge termination along the ribbon (x).
    a : float
        Lattice constant of the (unscaled) lattice (nm), 0.246 for graphene.
    t : float
        Nearest-neighbour hopping of the unscaled lattice (meV), 2700 for graphene.
    scale : float
        Scaled-graphene factor s >= 1: a_s = s a, t_s = t / s (module docstring).
    potential : callable, optional
        ``potential(x, y, **params)`` (nm in, meV out, vectorized): an onsite
        potential in the scattering region (gates); keyword arguments are runtime
        parameters.
    params, units : mapping, optional
        Defaults and units of the potential's parameters.
    name, metadata
        Label and description.
    """

    #: Energies from the Dirac point: E < 0 is the valence band.
    negative_energies_propagate = True

    def __init__(self, *, width: float, length: float, edge: str = "zigzag",
                 a: float = GRAPHENE_LATTICE_NM, t: float = GRAPHENE_HOPPING_MEV,
                 scale: float = 1.0, potential: Callable | None = None,
                 params: Mapping[str, float] | None = None,
                 units: Mapping[str, str] | None = None, name: str = "graphene ribbon",
                 metadata: Mapping | None = None):
        if edge not in EDGES:
            raise ValueError(f"edge={edge!r} is not allowed: use 'zigzag' or 'armchair'")
        self.edge = edge
        scale = _validate.positive("scale", scale)
        if scale < 1:
            raise ValueError(f"scale={scale:g} is not allowed: scaled graphene needs s >= 1")
        self.scale = scale
        self.a = _validate.positive("a", a, "nm") * scale
        self.t = _validate.positive("t", t, "meV") / scale
        self.width = _validate.positive("width", width, "nm")
        self.length = _validate.positive("length", length, "nm")
        self.material = GAAS          # unused (no effective mass); kept for the interface
        self.norbs = 1
        self.zeeman = False
        self.name = str(name)
        self.metadata = metadata
        self.metadata.setdefault("edge", edge)
        period = self.a if edge == "zigzag" else math.sqrt(3) * self.a
        self.period = period
        if self.width < self.a:
            raise ValueError(f"width={self.width:g} nm is not allowed with a={self.a:g} nm "
                             f"(scale {scale:g}): the ribbon needs width >= a")
        if self.length < 2 * period:
            # shorter than two lead unit cells: the leads' sublattices would not all
            # meet the scattering region (Kwant refuses to attach them)
            raise ValueError(f"length={self.length:g} nm is not allowed with a={self.a:g} nm "
                             f"(scale {scale:g}, {edge} edges): it must be >= two lead periods "
                             f"= {2 * period:.4g} nm")
        # size estimates for memory checks: columns x rows of atoms
        self.nx = int(self.length / period * 2) + 2
        self.ny = int(self.width / self.a * 2) + 1
        self._init_parameters(potential, params, units)

    def hamiltonian_text(self) -> str:
        return (f"graphene {self.edge} ribbon: -t_s sum_<ij> c_i^dagger c_j + V(x, y), "
                f"t_s = {self.t:g} meV, a_s = {self.a:g} nm")

    def lattice(self):
        """The honeycomb lattice (nm) oriented for ``edge``: zigzag or armchair along x."""
        import kwant
        a = self.a
        if self.edge == "zigzag":
            return kwant.lattice.honeycomb(a, norbs=1, name=["A", "B"])
        return kwant.lattice.general([(0.0, a), (math.sqrt(3) * a / 2, a / 2)],
                                     [(0.0, 0.0), (a / math.sqrt(3), 0.0)], norbs=1,
                                     name=["A", "B"])

    def builder(self):
        """A new, unfinalized ``kwant.Builder`` with both leads attached."""
        import kwant
        lat = self.lattice()
        half_w, half_l = 0.5 * self.width, 0.5 * self.length
        eps = 1e-9 * self.a

        def ribbon(pos):
            return abs(pos[1]) < half_w - eps

        def region(pos):
            return ribbon(pos) and abs(pos[0]) <= half_l + eps

        syst = kwant.Builder()
        onsite = self._wrap_onsite(0.0, 1.0) if self.potential else 0.0
        syst[lat.shape(region, (0.0, 0.0))] = onsite
        syst[lat.neighbors()] = -1.0
        # A cut through the lattice leaves atoms with one bond (bearded edges): remove them,
        # so the edges are pure zigzag or armchair.
        syst.eradicate_dangling()
        for direction in (-1, 1):
            lead = kwant.Builder(kwant.TranslationalSymmetry((direction * self.period, 0.0)))
            lead[lat.shape(ribbon, (0.0, 0.0))] = 0.0
            lead[lat.neighbors()] = -1.0
            lead.eradicate_dangling()
            syst.attach_lead(lead)
        return syst

    def check_fermi_energy(self, energy_meV: float, params: dict) -> float:
        """Energy from the Dirac point (meV); lambda_F = 2 pi hbar v_F/|E| >= 4 a_s."""
        energy = _validate.real_number("energy", energy_meV, "meV")
        if energy == 0 and self.edge == "zigzag":     # (Kwant: LinAlgError "Matrix is singular")
            raise ValueError("energy=0 meV is not allowed on a zigzag ribbon: its leads' edge band "
                             "is flat at the Dirac point, where the lead modes are undefined; use "
                             "an energy off it, e.g. 0.01 meV")
        hbar_vf = math.sqrt(3) / 2 * self.t * self.a            # meV nm
        if energy != 0:
            lam = 2 * math.pi * hbar_vf / abs(energy)
            if lam < MIN_POINTS_PER_WAVELENGTH * self.a:
                raise ValueError(
                    f"energy={energy:g} meV is not allowed with a_s={self.a:g} nm: lambda_F = "
                    f"{lam:.3g} nm needs a_s <= lambda_F/{MIN_POINTS_PER_WAVELENGTH:g} (|E| <= "
                    f"{2 * math.pi * hbar_vf / (MIN_POINTS_PER_WAVELENGTH * self.a):.4g} meV); "
                    "lower the energy or the scale")
        return energy

    def mode_counts(self, energies_meV, k_points: int = 1001) -> np.ndarray:
        """Propagating modes of lead 0 at each energy (meV) at the default parameters:
        half the number of times the bands cross E over the Brillouin zone (``k_points``
        momenta)."""
        cached = self.__dict__.get("_band_table")
        if cached is None or cached[0] != k_points:
            energies = lead_bands(self.build().leads[0], self.resolve_params({}),
                                  np.linspace(-np.pi, np.pi, k_points)) * self.t
            cached = self._band_table = (k_points, energies)
        energies = cached[1]
        counts = []
        for e in np.atleast_1d(energies_meV):
            below = (energies < e).sum(axis=1)                  # bands below E at each k
            counts.append(int(np.abs(np.diff(below)).sum()) // 2)
        return np.array(counts)

    def plateau_energy(self, plateau: int, samples: int = 800) -> float:
        """Middle (meV, E > 0) of the ``plateau``-th conductance step of the clean ribbon
        (1 = the lowest open channel), from lead mode counts on a grid up to 0.9 t_s."""
        energies = np.linspace(0.0, 0.9 * self.t, samples + 1)[1:]
        counts = self.mode_counts(energies)
        levels = np.unique(counts[counts > 0])
        if len(levels) <= plateau:
            raise ValueError(f"plateau={plateau} is not allowed: the ribbon has only "
                             f"{len(levels) - 1} complete plateaus below 0.9 t_s = "
                             f"{0.9 * self.t:g} meV")
        on = energies[counts == levels[plateau - 1]]
        return float(0.5 * (on.min() + on.max()))

    def dimer_lines(self) -> int:
        """Rows of atoms across the ribbon (distinct y of lead 0's sites): N dimer lines
        of an armchair ribbon, 2 x the zigzag chains of a zigzag one."""
        y = np.array([s.pos[1] for s in self.build().leads[0].sites])
        return len(np.unique(np.round(y / self.a, 6)))

    def _fingerprint_spec(self) -> dict:
        spec = super()._fingerprint_spec()
        spec.update(edge=self.edge, scale=self.scale, t=self.t)
        return spec


class BilayerGrapheneRibbon(GrapheneRibbon):
    """A Bernal (AB) bilayer-graphene ribbon with armchair edges and an interlayer bias.

    Two armchair honeycomb layers (nearest-neighbour hopping t within each); layer 2 is
    layer 1 shifted by one bond along the ribbon (x), so its A sites sit on layer 1's B
    sites, which they couple to by ``gamma1`` (the dimer bond). The runtime parameter ``U``
    (meV) is the interlayer bias: potential energy +U/2 on layer 1 and -U/2 on layer 2,
    everywhere (scattering region and leads); it opens the gap of the "Mexican hat"
    (:func:`bilayer_bands`). ``potential(x, y, **params)`` (meV) acts on both layers in the
    scattering region (gates). Scaled graphene (see the module docstring) keeps v_F and
    ``gamma1`` and so the bilayer's mass m = gamma1/(2 v_F^2).

    Parameters
    ----------
    width, length : float
        Ribbon width (sites with |y| < width/2) and scattering-region length (nm).
    gamma1 : float
        Interlayer (dimer) hopping (meV), > 0; 380 for graphene.
    U : float
        Default interlayer bias (meV; a runtime parameter).
    a, t, scale, potential, params, units, name, metadata
        As for :class:`GrapheneRibbon` (a in nm, t in meV).
    """

    def __init__(self, *, width: float, length: float, gamma1: float = BILAYER_GAMMA1_MEV,
                 U: float = 0.0, a: float = GRAPHENE_LATTICE_NM, t: float = GRAPHENE_HOPPING_MEV,
                 scale: float = 1.0, potential: Callable | None = None,
                 params: Mapping[str, float] | None = None,
                 units: Mapping[str, str] | None = None, name: str = "bilayer graphene ribbon",
                 metadata: Mapping | None = None):
        self.gamma1 = _validate.positive("gamma1", gamma1, "meV")
        if params is not None and "U" in params:
            raise ValueError(f"params={dict(params)!r} is not allowed: U is the interlayer "
                             "bias, give it as U=")
        if callable(potential) and "U" in inspect.signature(potential).parameters:
            raise ValueError("potential parameter 'U' is not allowed: U is the interlayer bias "
                             "of the bilayer (meV); rename it")
        super().__init__(width=width, length=length, edge="armchair", a=a, t=t, scale=scale,
                         potential=potential, params={"U": U, **dict(params or {})},
                         units={"U": "meV", **dict(units or {})}, name=name, metadata=metadata)
        self.metadata["layers"] = 2
        self.ny *= 2

    def hamiltonian_text(self) -> str:
        return (f"Bernal bilayer graphene armchair ribbon: -t_s sum_<ij> (intralayer) + gamma1 "
                f"(B1 A2 dimers) +- U/2 (layers 1, 2) + V(x, y), t_s = {self.t:g} meV, "
                f"gamma1 = {self.gamma1:g} meV, a_s = {self.a:g} nm")

    def layers(self):
        """The two armchair honeycomb layers (nm): layer 2 shifted by one bond along x."""
        import kwant
        a, bond = self.a, self.a / math.sqrt(3)
        vectors = [(0.0, a), (math.sqrt(3) * a / 2, a / 2)]
        return (kwant.lattice.general(vectors, [(0.0, 0.0), (bond, 0.0)], norbs=1,
                                      name=["A1", "B1"]),
                kwant.lattice.general(vectors, [(bond, 0.0), (2 * bond, 0.0)], norbs=1,
                                      name=["A2", "B2"]))

    def _fill(self, target, shape, onsite_by_layer):
        """Both layers' sites in ``shape`` and their hoppings into ``target``."""
        import kwant
        layer1, layer2 = self.layers()
        for lat, onsite in zip((layer1, layer2), onsite_by_layer):
            target[lat.shape(shape, (0.0, 0.0))] = onsite
            target[lat.neighbors()] = -1.0
        target.eradicate_dangling()      # per layer: pure armchair ends, as the monolayer
        target[kwant.builder.HoppingKind((0, 0), layer2.sublattices[0],
                                         layer1.sublattices[1])] = self.gamma1 / self.t

    def builder(self):
        """A new, unfinalized ``kwant.Builder`` with both leads attached."""
        import kwant
        half_w, half_l = 0.5 * self.width, 0.5 * self.length
        eps = 1e-9 * self.a
        t = self.t

        def bias_top(site, U):
            return 0.5 * U / t

        def bias_bottom(site, U):
            return -0.5 * U / t

        def ribbon(pos):
            return abs(pos[1]) < half_w - eps

        syst = kwant.Builder()
        region = [self._wrap_onsite(f, 1.0) if self.potential else f
                  for f in (bias_top, bias_bottom)]
        self._fill(syst, lambda pos: ribbon(pos) and abs(pos[0]) <= half_l + eps, region)
        for direction in (-1, 1):
            lead = kwant.Builder(kwant.TranslationalSymmetry((direction * self.period, 0.0)))
            self._fill(lead, ribbon, (bias_top, bias_bottom))
            syst.attach_lead(lead)
        return syst

    def check_fermi_energy(self, energy_meV: float, params: dict) -> float:
        """Energy from the midgap (meV); lambda_F = 2 pi/k_F >= 4 a_s, with k_F the larger
        wave vector of the low band at this point's interlayer bias U (the "Mexican hat"):
        |E| may not exceed that band at k = 2 pi/(4 a_s)."""
        energy = _validate.real_number("energy", energy_meV, "meV")
        hbar_vf = math.sqrt(3) / 2 * self.t * self.a            # meV nm
        k_max = 2 * math.pi / (MIN_POINTS_PER_WAVELENGTH * self.a)
        bias = float(params.get("U", self.defaults.get("U", 0.0)))
        if energy == 0 and bias == 0:   # (Kwant found 0 and 1 modes in the two identical leads)
            raise ValueError("energy=0 meV is not allowed at U=0 meV: the bilayer's two low bands "
                             "touch there, where the lead modes are undefined; use an energy off "
                             "it, e.g. 0.01 meV, or an interlayer bias U")
        e_max = float(bilayer_bands(hbar_vf * k_max, self.gamma1, bias)[2])   # the low band
        if abs(energy) > e_max:
            raise ValueError(f"energy={energy:g} meV is not allowed with a_s={self.a:g} nm: the "
                             f"bilayer's lambda_F needs |E| <= {e_max:.4g} meV (lambda_F >= "
                             f"{MIN_POINTS_PER_WAVELENGTH:g} a_s); lower the energy or the scale")
        return energy

    def _fingerprint_spec(self) -> dict:
        spec = super()._fingerprint_spec()
        spec.update(gamma1=self.gamma1, layers=2)
        return spec
