"""Two-terminal devices on a square lattice, described in physical units and
built into plain Kwant systems.

A :class:`Device` *describes* a sample: the lattice constant ``a`` (nm), a
rectangular scattering region ``length`` x ``width`` (nm) with an optional
hard-wall ``shape`` mask, a vectorized potential landscape ``V(x, y, **params)``
(meV) and two semi-infinite clean leads, by default as wide as the device;
``lead_width``/``lead_center`` make them narrower and place them anywhere on
the left/right edges (rings, cavities, stubs). :meth:`Device.build`
*finalizes* it into a Kwant system once (cached); everything that changes during a
sweep (gate voltages, the field ``B``, the Zeeman energy ``E_Z``) is a Kwant
parameter, passed by name.

Conventions (see ``ARCHITECTURE.md``):

* Lattice units inside Kwant: site tags ``(i, j)`` with positions ``(i, j)``,
  energies in units of the hopping ``t = hbar^2/(2 m* a^2)``. Onsite energy
  ``4t + V``, so the continuum band bottom is at E = 0.
* Physical coordinates: ``x = -length/2 + i a`` (``i = 0 .. nx-1``), and
  ``y = -width/2 + (j + 1) a`` (``j = 0 .. ny-1``): hard walls sit at
  ``y = +-width/2`` where the wave function vanishes, so the transverse modes are
  ``E_n = 2t (1 - cos(n pi a / width))``.
* Lead 0 is on the left (x < 0), lead 1 on the right; transmission is 1 <- 0.
* Magnetic field: Landau gauge A = (-B y, 0), Peierls phase on x hoppings, the
  same in the leads (which keeps them translation invariant).
* Without Zeeman splitting one orbital per site carries both spins (the factor
  2 of G0 = 2e^2/h); with ``zeeman=True`` two orbitals (spin up, down) with
  onsite +-E_Z/2.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Mapping

import numpy as np

from . import terminals as _terminals
from . import validate as _validate
from .serialize import jsonable
from .validate import GRID_TOL as _GRID_TOL, lattice_count, potential_error
from .units import GAAS, Material, flux_per_plaquette, hopping_meV, zeeman_energy_meV

__all__ = ["Device", "SolverHooks"]

# Parameters every device understands, with units and defaults.
_FIELD_PARAMS = {"B": 0.0}
_ZEEMAN_PARAMS = {"E_Z": 0.0}
_BUILTIN_UNITS = {"B": "T", "E_Z": "meV"}


class SolverHooks:
    """What the solver asks of a device beyond its Kwant system, with the defaults of
    the 2DEG on a square lattice (``None``: the solver's own rule). A device class
    with its own dispersion or observables (:mod:`qpcsim.hamiltonian`,
    :mod:`qpcsim.superconductivity`, :mod:`qpcsim.lattices`) overrides them."""

    #: Whether the fast back ends (:mod:`qpcsim.backends`) model the device: the one-band
    #: square lattice of :class:`Device`; other models run on the ``kwant`` back end.
    fast_path_supported = True
    #: Whether the fast path assembles the device from its Kwant system (any orbitals,
    #: any lattice: ``backends.model_assembly``, Schur back ends only) rather than from the
    #: one-band square-lattice model.
    fast_path_model = False
    #: Kwant's solver for the ``kwant`` back end: ``"default"`` (MUMPS where Kwant has it)
    #: or ``"sparse"`` (SciPy's, where MUMPS is not bit-reproducible: multi-orbital models).
    kwant_solver = "default"

    def check_fermi_energy(self, energy_meV: float, params: dict) -> float | None:
        """The Fermi energy (meV) validated for this device's dispersion (a one-line
        ValueError if it is not resolved), for resolved ``params``; ``None``: the
        solver's parabolic-band rule (lambda_F >= 4a, :func:`qpcsim.scattering.check_energy`)."""
        return None

    def transport_observables(self, smat: np.ndarray, nprop: tuple, energy_meV: float,
                              params: dict) -> tuple | None:
        """``(T, T_reverse, transmission eigenvalues)`` of a zero-temperature solve from its
        S-matrix ``smat`` (modes per lead ``nprop``) at ``energy_meV`` (meV), where they
        are not the Landauer transmissions lead 0 <-> lead 1 (e.g. Andreev reflection);
        ``None``: the Landauer ones."""
        return None

    @property
    def has_own_observables(self) -> bool:
        """Whether :meth:`transport_observables` replaces the Landauer transmissions (its
        conductance is then no transmission: no spectral data, its own thermal average)."""
        return type(self).transport_observables is not SolverHooks.transport_observables

    def lead_thresholds(self, params: dict) -> np.ndarray | None:
        """Energies (meV) where the leads' subbands open or close for resolved ``params``;
        ``None``: the solver's rule for the square-lattice leads (closed form at B = 0,
        else the extrema of the magnetic lead bands)."""
        return None


class DeviceMetadata(dict):
    """A device's free-form metadata (a plain dict for users, geometry files and records)
    with typed views of the fields qpcsim itself reads, so code never spells a key.

    Geometry files write keys (``make_device``, ``structural_parameters``,
    ``energy_meV``, ``field_T``, ``lattice_error_estimate``, ...); they stay readable
    as ``device.metadata["energy_meV"]``.
    """

    @property
    def geometry_file(self) -> str | None:
        """Path of the geometry file the device was loaded from (None: built in Python)."""
        return self.get("geometry_file")

    @property
    def geometry_sha256(self) -> str | None:
        """SHA-256 of that file's source text (None: built in Python)."""
        return self.get("geometry_sha256") or None

    @property
    def geometry_params(self) -> dict:
        """The arguments the caller gave ``load_geometry`` (the rest are the file's defaults)."""
        return dict(self.get("geometry_params") or {})

    @property
    def make_device(self) -> dict:
        """The ``make_device`` arguments the geometry file used (its resolved defaults)."""
        return dict(self.get("make_device") or {})

    @property
    def structural_parameters(self) -> tuple:
        """Geometry arguments that change the lattice (a new value rebuilds the device)."""
        return tuple(self.get("structural_parameters") or ())

    @property
    def parameter_units(self) -> dict:
        """Units of the geometry's parameters, from its ``DEFAULTS`` comments."""
        return dict(self.get("parameter_units") or {})

    @property
    def parameter_docs(self) -> dict:
        """Descriptions of the geometry's parameters, from its ``DEFAULTS`` comments."""
        return dict(self.get("parameter_docs") or {})

    @property
    def gate_outlines(self) -> list:
        """Gate polygons (nm) to draw over the device, if the geometry has gates."""
        return list(self.get("gate_outlines") or [])

    @property
    def fermi_energy_meV(self) -> float | None:
        """The Fermi energy (meV) a self-consistent potential was computed for, if any."""
        return self.get("fermi_energy_meV")

    @property
    def working_energy_meV(self) -> float | None:
        """A geometry's suggested working energy (meV), if it gives one."""
        return self.get("working_energy_meV")

    @property
    def lattice_error_estimate(self) -> dict | None:
        """The geometry's documented a^2 discretization error (physics/lattice.py), if any."""
        return self.get("lattice_error_estimate")

    @property
    def renamed_parameters(self) -> dict | None:
        """Retired parameter names -> the one-line message naming the replacement."""
        return self.get("renamed_parameters")

    @property
    def zeeman_from_field(self) -> bool:
        """E_Z follows B (``Device(zeeman_from_field=True)``)."""
        return bool(self.get("zeeman_from_field", False))


class DeviceBase(SolverHooks):
    """What every device class (:class:`Device`, :class:`qpcsim.hamiltonian.ModelDevice`)
    shares: runtime parameters by name (``defaults``: name -> value, ``units``: name ->
    unit and the potential's own ``_potential_names``, set by the subclass), the metadata
    (always a :class:`DeviceMetadata`), the built system's site positions (``_positions``,
    set by the subclass's ``build``) and the potential landscape."""

    def site_positions(self) -> np.ndarray:
        """Positions (n_sites, 2) of the built system's sites in Kwant's order (Kwant's
        ``site.pos``: lattice units for :class:`Device`, nm for a model device)."""
        if self._positions is None:
            self.build()
        return self._positions

    def lead_systems(self) -> tuple[list, list]:
        """``(leads, interfaces)``: the finalized system's ``leads`` (Kwant
        ``InfiniteSystem``) and ``lead_interfaces`` (site indices), what the fast path
        and the lead-band search need of the Kwant system."""
        fsyst = self.build()
        return list(fsyst.leads), list(fsyst.lead_interfaces)

    def potential_landscape(self, **params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(x, y, V)``: site positions (nm) and potential (meV) for ``params``."""
        x, y = self.site_positions_nm()
        return x, y, self.potential_at(x, y, params)

    #: The solver layer's state for this device (:func:`qpcsim.backends.solver_context`:
    #: back ends, energy grids, derived systems); never pickled, never shared by a copy.
    solver_state = None

    @property
    def metadata(self) -> DeviceMetadata:
        """Free-form description stored with every result (see :class:`DeviceMetadata`)."""
        return self._metadata

    @metadata.setter
    def metadata(self, value) -> None:
        self._metadata = DeviceMetadata(value or {})

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of all runtime parameters."""
        return tuple(self.defaults)

    @property
    def potential_parameters(self) -> tuple[str, ...]:
        """Parameters of the potential function (the gate voltages etc.), in its order."""
        return self._potential_names

    def resolve_params(self, params: Mapping[str, float] | None = None) -> dict:
        """Merge ``params`` into the defaults after checking names and values.

        Raises
        ------
        ValueError
            Unknown name (the known ones are listed) or a value not allowed.
        """
        params = dict(params or {})
        _validate.known_names(params, self.defaults, "parameter",
                              hint=self._structural_hint(),
                              renamed=self.metadata.renamed_parameters)
        merged = dict(self.defaults)
        merged.update(_validate.mapping_of_numbers("", params, self.units))
        self._check_resolved(merged, params)
        return merged

    def _structural_hint(self) -> str:
        """What to say when an unknown name is a geometry argument ("" for none)."""
        return ""

    def _check_resolved(self, merged: dict, given: dict) -> None:
        """Check (or complete) the merged parameters in place; ``given``: the caller's."""


class Device(DeviceBase):
    """A two-terminal device on a square lattice, in physical units.

    Parameters
    ----------
    width : float
        Width of the leads and of the scattering region's bounding box (nm);
        a multiple of ``a``. The hard walls sit at y = +-width/2.
    length : float
        Length of the scattering region (nm); a multiple of ``a``. Its sites
        span x = -length/2 .. +length/2.
    a : float
        Lattice constant (nm). Must resolve the Fermi wavelength (checked when
        solving).
    potential : callable, optional
        ``potential(x, y, **params) -> V``: electrostatic potential energy (meV)
        at positions ``x``, ``y`` (nm, NumPy arrays of equal shape). Must be
        vectorized. Every argument after ``x, y`` is a device parameter that can
        be changed without rebuilding (e.g. a gate voltage). It should vanish
        toward the leads, which carry V = 0.
    shape : callable, optional
        ``shape(x, y) -> bool array``: which sites of the bounding box belong to
        the scattering region (hard walls elsewhere). The first and last column
        (where the leads attach) must be complete.
    params : mapping, optional
        Default values of the potential's parameters (their units are the
        potential's own, documented in ``units``).
    units : mapping, optional
        Unit of each parameter, e.g. ``{"Vg": "V"}``; used in messages, CLI
        help and result metadata.
    material : Material
        Host material (effective mass, g-factor); GaAs by default.
    zeeman : bool
        Resolve the two spin species and add the parameter ``E_Z`` (meV), the
        Zeeman splitting. Conductances stay in units of G0 = 2e^2/h, so a
        spin-split channel contributes 1/2.
    zeeman_from_field : bool
        With ``zeeman=True``: derive the Zeeman energy from the field,
        E_Z = |g| mu_B B (``units.zeeman_energy_meV``; 0.127 meV at 5 T in
        GaAs), instead of leaving ``E_Z`` an independent parameter (default
        0 whatever B). An explicit ``E_Z`` that disagrees with B is refused.
    name : str
        Label for plots and metadata.
    metadata : mapping, optional
        Free-form description (e.g. the geometry file and the arguments of its
        ``make_device``), stored with every result.
    lead_width : float or (float, float), optional
        Width of the (left, right) lead (nm), a multiple of ``a``, at most
        ``width``; default: the device's width. A narrower lead has its own
        hard walls at ``lead_center +- lead_width/2``.
    lead_center : float or (float, float)
        Transverse position y of each lead's centre (nm); the lead must fit
        inside the device's edge, ``|lead_center| + lead_width/2 <= width/2``,
        on the lattice (its walls on lattice lines).
    leads : sequence of qpcsim.Lead, optional
        Any number (>= 2) of named terminals on the left/right/top/bottom edges
        (:mod:`qpcsim.terminals`), in Kwant's lead order; replaces the two
        default leads (and ``lead_width``/``lead_center``).
    gauge : {None, "landau", "edges", "magnetic"}
        Vector potential of a device with ``leads``: None picks the Landau gauge
        A = (-B y, 0) when every lead runs along x, else ``"edges"`` (each lead in
        its own Landau gauge, joined by a lattice gauge transformation);
        ``"magnetic"``: ``kwant.physics.magnetic_gauge`` (see qpcsim.terminals).
    """

    def __init__(self, *, width: float, length: float, a: float,
                 potential: Callable | None = None, shape: Callable | None = None,
                 params: Mapping[str, float] | None = None,
                 units: Mapping[str, str] | None = None,
                 material: Material = GAAS, zeeman: bool = False,
                 name: str = "device", metadata: Mapping | None = None,
                 zeeman_from_field: bool = False, lead_width=None, lead_center=0.0,
                 leads=None, gauge: str | None = None):
        self.a = _validate.positive("a", a, "nm")
        self.width = _validate.positive("width", width, "nm")
        self.length = _validate.positive("length", length, "nm")
        if not isinstance(material, Material):
            raise ValueError(f"material={material!r} is not allowed: it must be a qpcsim.Material")
        self.material = material
        self.zeeman = _validate.flag("zeeman", zeeman)
        self.name = str(name)
        self.metadata = metadata
        if zeeman_from_field:
            if not self.zeeman:
                raise ValueError("zeeman_from_field=True is not allowed without zeeman=True: "
                                 "E_Z needs resolved spins")
            self.metadata["zeeman_from_field"] = True   # part of the fingerprint
        self.t = hopping_meV(self.a, material)  # meV

        self.ny = lattice_count("width", self.width, self.a) - 1
        self.nx = lattice_count("length", self.length, self.a) + 1
        if self.ny < 1:
            raise ValueError(
                f"width={self.width!r} nm is not allowed with a={self.a!r} nm: "
                f"the lead needs at least one site across, i.e. width >= 2a = {2 * self.a:g} nm")
        self.norbs = 2 if self.zeeman else 1
        from .budget import check_device_size
        check_device_size(self.nx, self.ny, self.norbs, self.a, self.width, self.length)
        self.lead_windows = self._lead_windows(lead_width, lead_center)
        self.leads, self.gauge = None, "landau"
        if leads is not None:   # explicit terminals (qpcsim.terminals); else the default two
            if lead_width is not None:
                raise ValueError("lead_width is not allowed together with leads=: give each "
                                 "Lead its width")
            self.leads = _terminals.check_leads(self, leads)
            self.gauge = _terminals.resolve_gauge(self.leads, gauge)
        elif gauge not in (None, "landau"):
            raise ValueError(f"gauge={gauge!r} is not allowed without leads=: the two default "
                             "leads use the Landau gauge A = (-B y, 0)")

        self.potential = potential
        if shape is not None and not callable(shape):   # (it failed at the build, in Kwant)
            raise ValueError(f"shape={shape!r} is not allowed: it must be callable as "
                             "shape(x, y) -> bool (nm), or None for the full rectangle")
        self.shape = shape
        self._potential_names = self._potential_parameters(potential)
        defaults = dict(_FIELD_PARAMS)
        if self.zeeman:
            defaults.update(_ZEEMAN_PARAMS)
        params = dict(params or {})
        _validate.known_names(params, self._potential_names, "potential parameter",
                              hint="Each must be an argument of the potential function")
        fn_defaults = self._potential_defaults(potential)
        for pname in self._potential_names:
            if pname in params:
                defaults[pname] = params[pname]
            elif pname in fn_defaults:
                defaults[pname] = fn_defaults[pname]
            else:
                raise ValueError(
                    f"potential parameter {pname!r} has no default: give it in params= "
                    "or as a default argument of the potential function")
        self.units = dict(_BUILTIN_UNITS)
        self.units.update(units or {})
        self.defaults = _validate.mapping_of_numbers("", defaults, self.units)
        self._fsyst = None
        self._positions = None
        self._site_index = None
        self._onsite_memo = None
        self._lead_systems = None

    def _lead_windows(self, lead_width, lead_center) -> tuple:
        """``((j0, n), (j0, n))``: first row index and row count of each lead."""
        def pair(name, value):
            if value is None or np.ndim(value) == 0:
                return (value, value)
            if len(value) != 2:
                raise ValueError(f"{name}={value!r} is not allowed: give one value or a "
                                 "(left, right) pair")
            return tuple(value)
        widths, centers = pair("lead_width", lead_width), pair("lead_center", lead_center)
        windows = []
        for side, w, c in zip(("left", "right"), widths, centers):
            w = self.width if w is None else _validate.positive("lead_width", w, "nm")
            c = _validate.real_number("lead_center", c, "nm")
            n = lattice_count("lead_width", w, self.a) - 1
            if n < 1:
                raise ValueError(f"lead_width={w:g} nm is not allowed with a={self.a:g} nm: a "
                                 f"lead needs at least one site across, i.e. >= {2 * self.a:g} nm")
            lower = c - w / 2 + self.width / 2          # wall distance from the device's wall
            if lower < -_GRID_TOL * self.a or c + w / 2 > self.width / 2 * (1 + _GRID_TOL):
                raise ValueError(
                    f"{side} lead (lead_width={w:g} nm, lead_center={c:g} nm) is not allowed: it "
                    f"must fit in the device's edge, |lead_center| + lead_width/2 <= "
                    f"width/2 = {self.width / 2:g} nm")
            j0 = int(round(lower / self.a))
            if abs(lower / self.a - j0) > _GRID_TOL * max(1.0, lower / self.a):
                raise ValueError(
                    f"lead_center={c:g} nm is not allowed with lead_width={w:g} nm and a="
                    f"{self.a:g} nm: the {side} lead's walls must lie on lattice lines "
                    f"(lead_center - lead_width/2 + width/2 = {lower:g} nm must be a multiple "
                    "of a)")
            windows.append((j0, n))
        return tuple(windows)

    @property
    def terminals(self) -> tuple[str, ...]:
        """Names of the leads, in Kwant's lead order (default ``("left", "right")``)."""
        if self.leads is None:
            return ("left", "right")
        return tuple(lead.name for lead in self.leads)

    @property
    def full_width_leads(self) -> bool:
        """Whether both leads span the whole device width (the default)."""
        return all(w == (0, self.ny) for w in self.lead_windows)

    # ------------------------------------------------------------------ parameters
    @staticmethod
    def _potential_parameters(potential) -> tuple[str, ...]:
        if potential is None:
            return ()
        if not callable(potential):
            raise ValueError(f"potential={potential!r} is not allowed: it must be callable "
                             "as potential(x, y, **params)")
        sig = inspect.signature(potential)
        names = [n for n, p in sig.parameters.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if len(names) < 2 or names[:2] != ["x", "y"]:
            raise ValueError("potential must take the positions as its first two arguments, "
                             f"named x and y (nm); its signature is {sig}")
        reserved = (*_FIELD_PARAMS, *_ZEEMAN_PARAMS, *_validate.RESERVED_PARAMETERS)
        clash = set(names[2:]) & set(reserved)
        if clash:
            raise ValueError(f"potential parameter names {sorted(clash)} are reserved by qpcsim "
                             f"({', '.join(reserved)}); rename them")
        return tuple(names[2:])

    @staticmethod
    def _potential_defaults(potential) -> dict:
        if potential is None:
            return {}
        return {n: p.default for n, p in inspect.signature(potential).parameters.items()
                if p.default is not inspect.Parameter.empty}

    @property
    def lead_parameters(self) -> tuple[str, ...]:
        """Parameters that change the leads (and so their modes): ``B`` and ``E_Z``."""
        return tuple(n for n in self.defaults if n in _FIELD_PARAMS or n in _ZEEMAN_PARAMS)

    def _check_resolved(self, merged: dict, given: dict) -> None:
        if self.metadata.zeeman_from_field:
            e_z = zeeman_energy_meV(merged["B"], self.material)
            if "E_Z" in given and not np.isclose(merged["E_Z"], e_z, rtol=1e-12, atol=0.0):
                raise ValueError(
                    f"E_Z={merged['E_Z']!r} meV is not allowed: with zeeman_from_field=True it is "
                    f"set by B={merged['B']!r} T (|g| mu_B B = {e_z:.6g} meV); give B only")
            merged["E_Z"] = e_z

    def _structural_hint(self) -> str:
        structural = self.metadata.structural_parameters
        if structural:
            return ("Geometry parameters (" + ", ".join(structural) +
                    ") change the lattice: pass them to make_device instead")
        return ""

    # ------------------------------------------------------------------ geometry
    def site_tags(self) -> np.ndarray:
        """Integer tags (i, j) of the scattering-region sites, in build order."""
        i, j = np.meshgrid(np.arange(self.nx), np.arange(self.ny), indexing="ij")
        i, j = i.ravel(), j.ravel()
        if self.shape is not None:
            x, y = self.lattice_to_nm(i, j)
            mask = np.broadcast_to(np.asarray(self.shape(x, y), dtype=bool), x.shape)
            (l0, ln), (r0, rn) = self.lead_windows
            edge = (((i == 0) & (j >= l0) & (j < l0 + ln))
                    | ((i == self.nx - 1) & (j >= r0) & (j < r0 + rn)))
            if not np.all(mask[edge]):
                raise ValueError(
                    "shape excludes sites in the first or last column (x = +-length/2) where "
                    "the leads attach; the constriction must end inside the scattering region")
            i, j = i[mask], j[mask]
        return np.column_stack([i, j])

    def lattice_to_nm(self, i, j):
        """Positions in nm of lattice coordinates ``(i, j)`` (arrays or numbers).

        Measured from the centre, ``(i - (nx - 1)/2) a``: a site and its mirror image get
        exactly opposite positions for any ``a`` (``-length/2 + i a`` differed by rounding
        at a non-dyadic ``a``, and a symmetric potential then was not bit-symmetric). The
        end columns, where the leads attach, are exactly at ``+-length/2`` (rounding could
        put them an ulp beyond, outside a sharp ``|x| <= length/2``); ``i`` outside
        ``0 .. nx - 1`` (the leads' cells) is not moved."""
        try:
            ii, jj = np.asarray(i, dtype=float), np.asarray(j, dtype=float)
        except (TypeError, ValueError):
            ii = None
        # (None becomes NaN under dtype=float)
        if ii is None or not (np.all(np.isfinite(ii)) and np.all(np.isfinite(jj))):
            raise ValueError(f"i={i!r}, j={j!r} are not allowed: they must be lattice "
                             "coordinates (finite numbers or arrays of them)")
        i, j = ii, jj
        half = 0.5 * self.length
        x = np.where(i == 0, -half, np.where(i == self.nx - 1, half,
                                             (i - 0.5 * (self.nx - 1)) * self.a))
        y = (j - 0.5 * (self.ny - 1)) * self.a
        return x, y

    def potential_at(self, x, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """Potential energy V (meV) at positions ``x``, ``y`` (nm) for ``params``.

        Raises ValueError if the potential returns non-finite values.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.potential is None:
            return np.zeros(np.broadcast(x, y).shape)
        merged = self.resolve_params(params)
        try:
            values = self.potential(x, y, **{n: merged[n] for n in self._potential_names})
        except Exception as exc:   # noqa: BLE001 - the user's code: say where it failed
            raise potential_error(exc, {n: merged[n] for n in self._potential_names}) from None
        values = np.asarray(values)
        shape = np.broadcast(x, y).shape
        if values.dtype.kind not in "biufc" or values.shape not in ((), shape):
            raise ValueError(
                f"the potential must return a real number or an array shaped like x and y "
                f"{shape} (meV); it returned {type(values.item(0) if values.size == 1 else values).__name__}"
                f" of dtype {values.dtype} and shape {values.shape}: make potential(x, y, ...) "
                "vectorized over the position arrays")
        if np.iscomplexobj(values) and np.any(values.imag != 0):
            k = int(np.flatnonzero(np.ravel(values.imag != 0))[0])
            raise ValueError(
                f"the potential returned complex values, e.g. V={np.ravel(values)[k]} meV; a "
                "potential energy must be real: return a real array (a loss or absorption "
                "is not modelled by an imaginary potential here)")
        values = np.broadcast_to(np.asarray(values.real if np.iscomplexobj(values) else values,
                                            dtype=float), shape)
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.flatnonzero(bad.ravel())[0])
            xb, yb = np.broadcast_to(x, values.shape).ravel()[k], \
                np.broadcast_to(y, values.shape).ravel()[k]
            shown = {n: merged[n] for n in self._potential_names}
            raise ValueError(
                f"the potential is not finite at {int(bad.sum())} site(s), e.g. V={values.ravel()[k]} "
                f"at x={xb:g} nm, y={yb:g} nm, for parameters {shown}")
        return values

    # ------------------------------------------------------------------ Kwant system
    def _onsite_values(self, pos: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
        """Onsite matrix elements (lattice units) at lattice positions ``pos`` (n, 2)."""
        x, y = self.lattice_to_nm(pos[:, 0], pos[:, 1])
        diag = 4.0 + self.potential_at(x, y, params) / self.t
        if not self.zeeman:
            return diag.astype(complex)
        half_split = params["E_Z"] / (2 * self.t)
        out = np.zeros((len(diag), 2, 2), dtype=complex)
        out[:, 0, 0] = diag + half_split
        out[:, 1, 1] = diag - half_split
        return out

    def _lead_onsite_values(self, n: int, params: Mapping[str, float]) -> np.ndarray:
        if not self.zeeman:
            return np.full(n, 4.0, dtype=complex)
        half_split = params["E_Z"] / (2 * self.t)
        out = np.zeros((n, 2, 2), dtype=complex)
        out[:, 0, 0] = 4.0 + half_split
        out[:, 1, 1] = 4.0 - half_split
        return out

    def hopping_values(self, pos_to: np.ndarray, pos_from: np.ndarray, B: float) -> np.ndarray:
        """Hopping -t exp(2 pi i phi y dx) in lattice units (Landau gauge A = (-B y, 0)).

        ``pos_to``, ``pos_from``: lattice positions (sites, 2); ``B`` in T. The
        fast path's assembly and the Kwant value functions share it.
        """
        phi = flux_per_plaquette(B, self.a)
        y_centre = 0.5 * (pos_to[:, 1] + pos_from[:, 1]) - 0.5 * (self.ny - 1)
        dx = pos_to[:, 0] - pos_from[:, 0]
        hop = -np.exp(2j * np.pi * phi * y_centre * dx)
        if not self.zeeman:
            return hop
        out = np.zeros((len(hop), 2, 2), dtype=complex)
        out[:, 0, 0] = hop
        out[:, 1, 1] = hop
        return out

    def value_function(self, kind: str):
        """Kwant value function whose signature names this device's parameters.

        Kwant matches parameters by the names in a value function's signature,
        so each closure is given a signature listing exactly what it uses. Kwant
        1.5 calls onsite functions site by site; the landscape is evaluated for
        all sites at once (vectorized) and memoized per parameter set.
        """
        device = self
        if kind == "onsite":
            names = list(self.defaults)

            def value(site, *args):
                key = tuple(args)
                memo = device._onsite_memo
                if memo is None or memo[0] != key:
                    values = device._onsite_values(device.site_positions(),
                                                   dict(zip(names, args)))
                    memo = device._onsite_memo = (key, values)
                return memo[1][device._site_index[site.tag]]
        elif kind == "lead_onsite":
            names = ["E_Z"] if self.zeeman else []

            def value(site, *args):
                return device._lead_onsite_values(1, dict(zip(names, args)))[0]
        else:  # hopping
            names = ["B"]

            def value(to_site, from_site, B):
                return device.hopping_values(np.array([to_site.pos]),
                                              np.array([from_site.pos]), B)[0]
        site_args = ["site"] if kind != "hopping" else ["to_site", "from_site"]
        value.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
             for n in site_args + names])
        return value

    def builder(self):
        """A new, unfinalized ``kwant.Builder`` of this device with its two leads
        attached (lead 0 left, lead 1 right): start here to add probes or leads."""
        import kwant

        if self.leads is not None:
            return _terminals.builder(self)
        lat = kwant.lattice.square(1, norbs=self.norbs, name="")
        syst = kwant.Builder()
        onsite = self.value_function("onsite")
        for i, j in self.site_tags():
            syst[lat(int(i), int(j))] = onsite
        syst[lat.neighbors()] = self.value_function("hopping")
        for lead, _ in self._lead_builders(lat):
            syst.attach_lead(lead)
        return syst

    def _lead_builders(self, lat) -> list:
        """``(lead Builder, its interface sites)`` of the two leads (left, right): the
        first and last column of the lead windows, which :meth:`site_tags` guarantees."""
        import kwant

        out = []
        lead_onsite = self.value_function("lead_onsite")
        for (j0, n), (direction, column) in zip(self.lead_windows,
                                                (((-1, 0), 0), ((1, 0), self.nx - 1))):
            lead = kwant.Builder(kwant.TranslationalSymmetry(direction))
            for j in range(j0, j0 + n):
                lead[lat(column, j)] = lead_onsite
            lead[lat.neighbors()] = self.value_function("hopping")
            out.append((lead, [lat(column, j) for j in range(j0, j0 + n)]))
        return out

    @property
    def plain_model(self) -> bool:
        """Whether this is :class:`Device`'s own two-lead model (no explicit ``leads``, no
        subclass building otherwise): its Kwant system is then known from its arrays,
        and :meth:`site_positions` and :meth:`lead_systems` need no Builder."""
        cls = type(self)
        return (self.leads is None and cls.builder is Device.builder
                and cls.build is Device.build and cls.site_tags is Device.site_tags)

    def site_positions(self) -> np.ndarray:
        """Positions (n_sites, 2) of the Kwant system's sites in Kwant's order (lattice
        units). For the :attr:`plain_model`, without building it: Kwant's finalized
        system orders its sites by tag, and its lattice puts site (i, j) at (i, j)."""
        if self._positions is None and self.plain_model:
            tags = self.site_tags()
            self._positions = tags.astype(float)   # i-major, then j: sorted
            # The onsite value function of builder() looks sites up by tag (tinyarray tags
            # hash and compare like tuples).
            self._site_index = {tag: k for k, tag in enumerate(map(tuple, tags.tolist()))}
        return super().site_positions()

    def lead_systems(self) -> tuple[list, list]:
        """Kwant's finalized leads and their interfaces (``fsyst.leads``,
        ``fsyst.lead_interfaces`` of :meth:`build`). For the :attr:`plain_model` without
        building the scattering region: each lead's ``BuilderLead`` finalized on its
        interface, the interface's indices in Kwant's site order, as Kwant's
        ``finalized()`` does (``attach_lead`` adds no site: the first and last columns
        hold the lead windows)."""
        if self._fsyst is not None or not self.plain_model:
            return super().lead_systems()
        if getattr(self, "_lead_systems", None) is None:
            import kwant

            tags = self.site_tags()
            index = -np.ones((self.nx, self.ny), dtype=np.int64)
            index[tags[:, 0], tags[:, 1]] = np.arange(len(tags))
            lat = kwant.lattice.square(1, norbs=self.norbs, name="")
            leads, interfaces = [], []
            for lead, interface in self._lead_builders(lat):
                leads.append(kwant.builder.BuilderLead(lead, interface).finalized())
                interfaces.append(np.array([index[s.tag[0], s.tag[1]]
                                            for s in sorted(interface)]))
            self._lead_systems = (leads, interfaces)
        return self._lead_systems

    def build(self):
        """Finalized Kwant system (built once, then cached).

        Returns
        -------
        kwant.system.FiniteSystem
            A plain Kwant system in lattice units: pass
            ``params=device.resolve_params(...)`` and energies divided by
            ``device.t`` to use it with Kwant directly (``kwant.plot``,
            ``kwant.smatrix``, ``kwant.operator`` ...).
        """
        if self._fsyst is not None:
            return self._fsyst
        fsyst = self.builder().finalized()
        self._positions = np.array([s.pos for s in fsyst.sites], dtype=float)
        self._site_index = {s.tag: k for k, s in enumerate(fsyst.sites)}
        self._fsyst = fsyst
        if self.leads is not None and self.gauge == "magnetic":
            try:
                _terminals.fix_magnetic_gauge(self)
            except ValueError:
                self._fsyst = None
                raise
        return fsyst

    def site_positions_nm(self) -> tuple[np.ndarray, np.ndarray]:
        """Physical positions ``(x, y)`` (nm) of the built system's sites."""
        pos = self.site_positions()
        return self.lattice_to_nm(pos[:, 0], pos[:, 1])

    def onsite_diagonal(self, params: Mapping[str, float]) -> np.ndarray:
        """Diagonal of the scattering region's Hamiltonian, per orbital, in Kwant's
        orbital order (lattice units). Used by the fast solver to update a sweep
        point without calling Kwant."""
        values = self._onsite_values(self.site_positions(), params)
        if self.zeeman:
            return np.ascontiguousarray(values[:, [0, 1], [0, 1]]).ravel()
        return values

    # ------------------------------------------------------------------ physics helpers
    def transverse_mode_energies(self, count: int | None = None) -> np.ndarray:
        """Lead subband bottoms E_n = 2t(1 - cos(n pi/(n_y+1))) (meV) at B = 0, E_Z = 0,
        of the narrower lead (n_y its sites across; ``ny`` for full-width leads)."""
        rows = min(n for _, n in self.lead_windows)
        n = np.arange(1, (count or rows) + 1)
        return 2 * self.t * (1 - np.cos(n * np.pi / (rows + 1)))

    def parameter_info(self) -> list[dict]:
        """Every parameter of this device: ``name``, ``default``, ``unit``,
        ``structural`` (True: a geometry argument, changing it rebuilds the
        lattice; False: a Kwant parameter, changed per point without rebuild)
        and ``description`` (from the geometry's ``DEFAULTS`` comments)."""
        meta = self.metadata
        units = {**meta.parameter_units, **self.units}
        docs = meta.parameter_docs
        builtin_docs = {"B": "perpendicular magnetic field (T)",
                        "E_Z": "Zeeman splitting (meV)"}
        rows = [dict(name=k, default=v, unit=units.get(k, ""), structural=False,
                     description=docs.get(k) or builtin_docs.get(k, ""))
                for k, v in self.defaults.items()]
        if "geometry_file" in meta:
            resolved = {**meta.make_device, **meta.geometry_params}
            rows += [dict(name=k, default=v, unit=units.get(k, ""), structural=True,
                          description=docs.get(k, "")) for k, v in resolved.items()
                     if k not in self.defaults]
        return rows

    def describe(self) -> str:
        """A table of every parameter (name, default, unit, structural or not,
        description), the lattice and the leads: what ``qpcsim params`` prints."""
        lines = [f"{self.name}: {self.nx} x {self.ny} sites, a = {self.a:g} nm, "
                 f"t = {self.t:.4g} meV, width {self.width:g} nm, length {self.length:g} nm"]
        for side, (j0, n) in zip(("left", "right"), self.lead_windows if self.leads is None
                                 else ()):
            w = (n + 1) * self.a
            c = -0.5 * self.width + (j0 + 0.5 * (n + 1)) * self.a
            lines.append(f"  {side} lead: width {w:g} nm, centre y = {c:g} nm")
        for k, lead in enumerate(self.leads or ()):
            n = len(_terminals.lead_sites(self, lead))
            lines.append(f"  lead {k} {lead.name!r}: {lead.edge} edge, width {(n + 1) * self.a:g} "
                         f"nm, centre {'y' if lead.along_x else 'x'} = {lead.center:g} nm"
                         + ("" if lead.at is None else
                            f", on the line {'x' if lead.along_x else 'y'} = {lead.at:g} nm"))
        if self.leads is not None:
            lines.append(f"  magnetic field: {self.gauge} gauge")
        lines.append(f"  {'parameter':<20} {'default':>10} {'unit':<6} {'kind':<11} description")
        for row in self.parameter_info():
            value = row["default"]
            shown = "None" if value is None else (f"{value}" if isinstance(value, bool)
                                                  else f"{value:g}" if isinstance(
                                                      value, (int, float)) else str(value))
            kind = "structural" if row["structural"] else "runtime"
            lines.append(f"  {row['name']:<20} {shown:>10} {row['unit'] or '-':<6} "
                         f"{kind:<11} {row['description']}")
        lines.append("  runtime: swept or fixed per point without rebuild; structural: a "
                     "rebuild per value")
        return "\n".join(lines)

    def fingerprint(self) -> str:
        """Content hash of what determines the device's physics (for stores and caches)."""
        spec = {
            "class": type(self).__name__, "a": self.a, "width": self.width,
            "length": self.length, "material": repr(self.material), "zeeman": self.zeeman,
            "defaults": self.defaults, "metadata": jsonable(self.metadata),
        }
        if not self.full_width_leads:
            spec["leads"] = [list(w) for w in self.lead_windows]
        if not self.metadata.geometry_sha256:   # a file's hash already names its code
            spec["functions"] = self._functions_digest()
        if self.leads is not None:
            spec["terminals"] = [[lead.name, lead.edge, lead.center, lead.width]
                                 + ([] if lead.at is None else [lead.at])
                                 for lead in self.leads] + [self.gauge]
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def _functions_digest(self) -> str:
        """Digest of the potential and shape functions of a device defined in Python:
        their code and captured values (:mod:`qpcsim.fingerprint`) and their values on
        the lattice's bounding box at the default parameters, so that a changed
        potential never reuses a store. Cached per (functions, defaults)."""
        from .fingerprint import callable_digest
        key = (id(self.potential), id(self.shape), json.dumps(jsonable(self.defaults)))
        cached = getattr(self, "_functions_memo", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        digest = hashlib.sha256()
        for func in (self.potential, self.shape):
            digest.update(b"none" if func is None else callable_digest(func).encode())
        i, j = np.meshgrid(np.arange(self.nx), np.arange(self.ny), indexing="ij")
        x, y = self.lattice_to_nm(i, j)
        try:
            digest.update(np.ascontiguousarray(self.potential_at(x, y), dtype=float).tobytes())
            if self.shape is not None:
                digest.update(np.broadcast_to(np.asarray(self.shape(x, y), dtype=bool),
                                              x.shape).tobytes())
        except Exception as exc:   # noqa: BLE001 - reported by the solve, not here
            digest.update(f"unsampled:{type(exc).__name__}".encode())
        self._functions_memo = (key, digest.hexdigest())
        return self._functions_memo[1]

    def __repr__(self) -> str:
        return (f"Device({self.name!r}, width={self.width:g} nm, length={self.length:g} nm, "
                f"a={self.a:g} nm, {self.nx}x{self.ny} sites, t={self.t:.4g} meV, "
                f"params={self.defaults})")

    def __getstate__(self):
        # The finalized Kwant system is rebuilt on demand in each worker process rather
        # than pickled (the solver's caches live in backends.solver_context, not here).
        state = dict(self.__dict__)
        state["_fsyst"] = None
        state["_positions"] = None
        state["_site_index"] = None
        state["_onsite_memo"] = None
        state["_lead_systems"] = None
        state.pop("solver_state", None)
        state.pop("_functions_memo", None)   # keyed by ids of this process's objects
        state.pop("_gauge_cache", None)
        return state
