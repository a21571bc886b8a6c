"""Multi-orbital devices from continuum Hamiltonians in physical units.

A :class:`ContinuumDevice` takes a Hamiltonian written as physicists write it,
text with momenta ``k_x, k_y``, positions ``x, y`` and Pauli matrices
``sigma_0, sigma_x, sigma_y, sigma_z`` (``kron(...)`` for products of spaces),
e.g. the Rashba wire::

    hbar**2/(2*m)*(k_x**2 + k_y**2)*sigma_0 + alpha*(k_x*sigma_y - k_y*sigma_x)
        + g*mu_B*B*sigma_x/2

and discretizes it with ``kwant.continuum`` on a square lattice of constant
``a`` (nm). Every symbol is a constant of qpcsim (``hbar``, ``mu_B``, ``m``,
``g``: :func:`qpcsim.units.continuum_constants`), a structural ``constants``
entry (substituted before discretization) or a runtime parameter (``params``,
passed to Kwant by name, sweepable); each carries a unit from
:data:`qpcsim.units.HAMILTONIAN_UNITS`. With k in 1/nm and x, y in nm the
Hamiltonian is in meV; it is divided by the hopping ``t = hbar^2/(2 m* a^2)``
(``units.hopping_meV``) so the Kwant system is in the same lattice units as
:class:`qpcsim.Device`'s (energies in t), and ``solve(energy=E)`` takes meV.

The device shares :class:`qpcsim.Device`'s interface (``resolve_params``,
``build`` -> plain finalized Kwant system, ``parameters``/``defaults``/``units``,
``metadata``, ``describe``, ``fingerprint``, ``potential`` as an onsite term,
``norbs``), so ``solve``/``sweep``/the store take it; the ``mumps``/``scipy`` back
ends run it from its Kwant system (:mod:`qpcsim.backends.model_assembly`).

Geometry conventions as ``Device``: scattering-region sites at
``x = -length/2 + i a``, ``y = -width/2 + j a`` (``j = 1 .. width/a - 1``; hard
walls at ``|y| = width/2``), lead 0 on the left, lead 1 on the right, both as
wide as the device, carrying the Hamiltonian with ``V = 0``.

Conductance: with ``spin_resolved=True`` (spinful Hamiltonians) an open channel
of the transmission counts e^2/h = G0/2, as ``Device(zeeman=True)``.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections.abc import Callable, Mapping
from contextlib import contextmanager

import numpy as np

from . import validate as _validate
from .device import DeviceBase
from .validate import lattice_count, potential_error
from .serialize import jsonable
from .units import GAAS, HAMILTONIAN_UNITS, Material, continuum_constants, hopping_meV

__all__ = ["ModelDevice", "ContinuumDevice", "lead_bands", "MIN_POINTS_PER_WAVELENGTH", "HERMITICITY_TOLERANCE"]

#: Smallest allowed lambda_F / a (as ``solver.MIN_POINTS_PER_WAVELENGTH``).
MIN_POINTS_PER_WAVELENGTH = 4.0
#: Largest allowed max|H - H^dagger| (lattice units) of a built Hamiltonian.
HERMITICITY_TOLERANCE = 1e-12
_COORDINATES = ("x", "y")
#: Per thread: whether the onsite value functions leave the potential out (see
#: ``ModelDevice.potential_free_hamiltonian``).
_POTENTIAL_OFF = threading.local()
_MOMENTA = ("k_x", "k_y")


def carries_potential(value) -> bool:
    """Whether an onsite value function adds the device's potential (made by
    ``ModelDevice._wrap_onsite``, or a wrapper of one that says so)."""
    return bool(getattr(value, "carries_potential", False))


def with_signature(function, first: list, names: list):
    """Give ``function(*args)`` the signature ``first + names`` so Kwant passes
    the parameters ``names`` by name (Kwant reads value functions' signatures)."""
    function.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in first + names])
    return function


def value_parameters(value) -> list:
    """Parameter names of a Kwant value function (after the site arguments)."""
    if not callable(value):
        return []
    names = list(inspect.signature(value).parameters)
    skip = 1 if names and names[0] == "site" else 2
    return names[skip:]


def lead_bands(lead, params: dict, momenta) -> np.ndarray:
    """Band energies (lattice units; rows: momenta in units of 1/period, columns: sorted
    bands) of a finalized Kwant lead, H(k) = h + V e^{-ik} + V^dagger e^{ik} (as
    ``kwant.physics.Bands``), diagonalized for all k at once."""
    return _bands_of(*_cell_matrices(lead, params), momenta)


def _cell_matrices(lead, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """(h, V) of a finalized Kwant lead: its unit cell and inter-cell hopping (padded)."""
    h = lead.cell_hamiltonian(params=params)
    v = lead.inter_cell_hopping(params=params)
    return h, np.pad(v, ((0, 0), (0, h.shape[0] - v.shape[1])))


def _bands_of(h: np.ndarray, v: np.ndarray, momenta) -> np.ndarray:
    """Sorted bands of H(k) = h + V e^{-ik} + V^dagger e^{ik} at ``momenta``."""
    phase = np.exp(-1j * np.asarray(momenta, dtype=float))[:, None, None]
    with one_blas_thread():
        return np.linalg.eigvalsh(h + v * phase + v.conj().T * phase.conj())


_BLAS = None


def one_blas_thread():
    """One BLAS thread for the small dense problems here (as the solver's back ends):
    threaded BLAS on small matrices is slower on a shared machine and rounds differently."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class ModelDevice(DeviceBase):
    """What every non-square-lattice or multi-orbital device shares with
    :class:`qpcsim.Device`: runtime parameters with units, the potential as an
    onsite term (memoized, vectorized per parameter set), the cached build,
    description, fingerprint and pickling. Subclasses implement
    :meth:`builder` (an unfinalized ``kwant.Builder`` with its leads, whose
    onsite values come from :meth:`_wrap_onsite`) and ``check_fermi_energy``.

    The solver reads these attributes: ``a`` (nm), ``t`` (meV: the energy unit
    of the Kwant system), ``material``, ``norbs``, ``zeeman`` (spin resolved:
    an open channel counts G0/2), ``width``, ``length``, ``nx``, ``ny`` (size
    estimates), ``lead_parameters``.
    """

    #: The Schur back ends (``mumps``, ``scipy``) run on the finalized Kwant system
    #: (``backends.model_assembly``); the RGF recursions model the one-band Device only.
    fast_path_supported = True
    fast_path_model = True
    #: Kwant's SciPy sparse solver for the ``kwant`` back end: bit-reproducible here, where
    #: Kwant's MUMPS alternates in the last bits between calls (measured on all three
    #: bundled model geometries), at the same speed.
    kwant_solver = "sparse"
    shape = None

    def _init_parameters(self, potential, params, units, reserved=()):
        """Defaults from ``params`` and the potential's own defaults; units checked."""
        self.potential = potential
        self._potential_names = _potential_parameters(potential, reserved)
        fn_defaults = {n: p.default for n, p in (inspect.signature(potential).parameters.items()
                                                 if potential is not None else ())
                       if p.default is not inspect.Parameter.empty}
        defaults = dict(params or {})
        for pname in self._potential_names:
            if pname not in defaults:
                if pname not in fn_defaults:
                    raise ValueError(f"potential parameter {pname!r} has no default: give it in "
                                     "params= or as a default argument of the potential")
                defaults[pname] = fn_defaults[pname]
        self.units = dict(units or {})
        self.defaults = _validate.mapping_of_numbers("", defaults, self.units)
        self._fsyst = None
        self._positions = None
        self._site_index = None
        self._onsite_memo = None
        self._hamiltonian_memo = None
        self._modes_memo = {}

    #: Lead names, in Kwant's lead order (``device.terminals``, as for :class:`qpcsim.Device`).
    terminals: tuple = ("left", "right")

    # ------------------------------------------------------------------ parameters
    @property
    def lead_parameters(self) -> tuple[str, ...]:
        """Parameters that change the leads (everything but the potential's)."""
        return tuple(n for n in self.defaults if n not in self._potential_names)

    #: Parameters that must be >= 0 (e.g. a pairing potential Delta).
    non_negative_parameters: tuple = ()

    def _check_resolved(self, merged: dict, given: dict) -> None:
        for name in self.non_negative_parameters:
            _validate.non_negative(name, merged[name], self.units.get(name, ""))

    # ------------------------------------------------------------------ potential
    def potential_at(self, x, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """Potential energy V (meV) at positions ``x``, ``y`` (nm) for ``params``."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        shape = np.broadcast(x, y).shape
        if self.potential is None:
            return np.zeros(shape)
        merged = self.resolve_params(params)
        used = {n: merged[n] for n in self._potential_names}
        try:
            values = np.asarray(self.potential(x, y, **used))
        except Exception as exc:   # noqa: BLE001 - the user's code: one line naming file:line
            raise potential_error(exc, used) from None
        if values.dtype.kind not in "biuf" or values.shape not in ((), shape):
            raise ValueError(f"the potential must return real numbers shaped like x and y {shape} "
                             f"(meV); it returned dtype {values.dtype}, shape {values.shape}")
        values = np.broadcast_to(values.astype(float), shape)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"the potential is not finite at {int((~np.isfinite(values)).sum())}"
                             f" site(s) for parameters {dict(merged)}")
        return values

    def _wrap_onsite(self, value, matrix: np.ndarray):
        """Onsite value function: ``value`` (a constant or a Kwant value function)
        plus ``V(x, y)/t * matrix`` (the potential, all sites at once per parameter set)."""
        device = self
        inner = value_parameters(value)
        names = list(dict.fromkeys(inner + list(self._potential_names)))
        pot_names = list(self._potential_names)

        def onsite(site, *args):
            kw = dict(zip(names, args))
            base = value(site, *[kw[n] for n in inner]) if callable(value) else value
            if not pot_names or getattr(_POTENTIAL_OFF, "active", False):
                return base
            key = tuple(kw[n] for n in pot_names)
            memo = device._onsite_memo
            if memo is None or memo[0] != key:
                x, y = device.site_positions_nm()
                memo = device._onsite_memo = (key, device.potential_at(x, y, kw) / device.t)
            return base + memo[1][device._site_index[site]] * matrix
        onsite.carries_potential = True
        return with_signature(onsite, ["site"], names)

    # ------------------------------------------------------------------ Kwant system
    def builder(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def build(self):
        """Finalized Kwant system (built once, cached), energies in units of ``t``;
        its Hamiltonian is checked Hermitian at the defaults and at all parameters 1."""
        if self._fsyst is not None:
            return self._fsyst
        fsyst = self.builder().finalized()
        self._positions = np.array([s.pos for s in fsyst.sites], dtype=float)
        self._site_index = {s: k for k, s in enumerate(fsyst.sites)}
        self._fsyst = fsyst
        try:
            # Kwant calls the potential inside its own stack (a UserCodeError traceback):
            # evaluate it here first so a failing potential is one line naming file:line.
            self.potential_at(self._positions[:, 0], self._positions[:, 1], self.defaults)
            self._check_hermitian(fsyst)
            self._check_lead_symmetries(fsyst)
        except ValueError:
            self._fsyst = None
            raise
        return fsyst

    def _check_lead_symmetries(self, fsyst):
        """A lead's conservation law must commute with its Hamiltonian (a superconducting
        lead mixes electrons and holes: it cannot have the electron-hole conservation law)."""
        params = {**self.defaults, **{n: 1.0 for n in self.defaults}}
        for i, (lead, (law, _)) in enumerate(zip(fsyst.leads,
                                                  getattr(self, "lead_symmetries", ()))):
            if law is None:
                continue
            law_full = np.kron(np.eye(lead.cell_size), law)
            for h in (lead.cell_hamiltonian(params=params),
                      lead.inter_cell_hopping(params=params)):
                h = np.pad(h, ((0, 0), (0, h.shape[0] - h.shape[1])))
                error = float(np.abs(law_full @ h - h @ law_full).max())
                if error > HERMITICITY_TOLERANCE:
                    self._fsyst = None
                    raise ValueError(
                        f"conservation_law of lead {i} is not allowed: the lead's Hamiltonian "
                        f"mixes its blocks (max|[C, H]| = {error * self.t:.3g} meV); a "
                        "superconducting lead has no electron-hole conservation law: give it "
                        "particle_hole only")

    def potential_free_hamiltonian(self, params: Mapping[str, float]):
        """The scattering region's Hamiltonian without the potential term ``V *
        potential_matrix``, at resolved ``params`` (sparse COO, lattice units).

        Evaluated once per set of lead parameters (the last one kept): the Hermiticity
        check at build and the fast path's assembly (``backends.model_assembly``), which
        adds the potential per point, share it. Without the potential, every point's
        entries are ``H0 + V * matrix`` whatever point came first (subtracting the
        potential from a full evaluation left the first point's rounding in every
        later one, so results depended on the order a worker met the points)."""
        key = tuple(float(params[n]) for n in self.lead_parameters)
        memo = self._hamiltonian_memo
        if memo is None or memo[0] != key:
            with _potential_off():
                h = self.build().hamiltonian_submatrix(params=dict(params), sparse=True)
            memo = self._hamiltonian_memo = (key, h.tocoo())
        return memo[1]

    def potential_sites(self) -> np.ndarray:
        """Mask of the finalized system's sites whose onsite value adds the potential
        (Kwant's ``attach_lead`` may add lead cells to the region, with the lead's
        potential-free values)."""
        return np.array([carries_potential(value) for value, _ in self.build().onsites],
                        dtype=bool)

    def _check_hermitian(self, fsyst):
        """H = H^dagger at the defaults (the potential-free part, shared with the
        assembly: ``V * potential_matrix`` is Hermitian with the matrix, checked by the
        constructor) and with the potential at all parameters 1."""
        for values in (self.defaults, {n: 1.0 for n in self.defaults}):
            params = {**self.defaults, **values}
            region = (self.potential_free_hamiltonian(params) if values is self.defaults
                      else fsyst.hamiltonian_submatrix(params=params, sparse=True))
            matrices = [("the scattering region", region.tocsr())]
            matrices += [(f"lead {i}", lead.cell_hamiltonian(params=params, sparse=True).tocsr())
                         for i, lead in enumerate(fsyst.leads)]
            for where, h in matrices:
                diff = abs(h - h.conj().T)
                error = float(diff.max()) if diff.nnz else 0.0
                if error > HERMITICITY_TOLERANCE:
                    self._fsyst = None
                    raise ValueError(
                        f"hamiltonian={self.hamiltonian_text()!r} is not allowed: it is not "
                        f"Hermitian (max|H - H^dagger| = {error * self.t:.3g} meV in {where} at "
                        f"parameters {params}); a Hamiltonian must equal its conjugate transpose")

    def hamiltonian_text(self) -> str:
        return getattr(self, "hamiltonian", type(self).__name__)

    def site_positions_nm(self) -> tuple[np.ndarray, np.ndarray]:
        """Physical positions ``(x, y)`` (nm) of the built system's sites."""
        pos = self.site_positions()
        return pos[:, 0], pos[:, 1]

    def lead_modes(self, energy_meV: float, params: dict, lead: int = 0):
        """Kwant's propagating modes of ``lead`` at ``energy_meV`` (cached per point)."""
        key = (lead, float(energy_meV)) + tuple(float(params[n]) for n in self.lead_parameters)
        modes = self._modes_memo.get(key)
        if modes is None:
            if len(self._modes_memo) > 64:
                self._modes_memo.clear()
            with one_blas_thread():
                modes = self.build().leads[lead].modes(energy_meV / self.t, params=params)[0]
            self._modes_memo[key] = modes
        return modes

    def lead_thresholds(self, params: dict, points: int = 801) -> np.ndarray:
        """Energies (meV) where lead 0 opens or closes a mode at ``params``: every local
        minimum and maximum of its bands (steps of a clean wire's G(E)), from ``points``
        momenta refined by Brent's method; the solver's finite-T grid puts its steps there."""
        import scipy.optimize
        params = self.resolve_params(params)
        key = tuple(float(params[n]) for n in self.lead_parameters)
        cached = self.__dict__.setdefault("_thresholds", {})
        if key not in cached:
            # h and V do not depend on k: evaluated once, not at every Brent step
            h, v = _cell_matrices(self.build().leads[0], params)
            k = np.linspace(-np.pi, np.pi, points, endpoint=False)
            bands = _bands_of(h, v, k)
            found = []
            for b in range(bands.shape[1]):
                e = bands[:, b]
                for sign in (1.0, -1.0):      # minima, then maxima
                    f = sign * e
                    for i in np.flatnonzero((f < np.roll(f, 1)) & (f <= np.roll(f, -1))):
                        step = k[1] - k[0]
                        res = scipy.optimize.minimize_scalar(
                            lambda q: sign * _bands_of(h, v, [q])[0, b],
                            bounds=(k[i] - step, k[i] + step), method="bounded",
                            options={"xatol": 1e-10})
                        found.append(sign * min(res.fun, f[i]))
            if len(cached) > 64:
                cached.clear()
            cached[key] = np.unique(np.round(np.array(found) * self.t, 12))
        thresholds = cached[key]
        self._last_thresholds = thresholds
        return thresholds

    def transverse_mode_energies(self, count: int | None = None) -> np.ndarray:
        """Lead band bottoms (meV): of the parameters of the last :meth:`lead_thresholds`
        call (the finite-T grid asks for those first), else of the defaults."""
        last = self.__dict__.get("_last_thresholds")
        if last is None:
            last = self.lead_thresholds(self.defaults)
        bottoms = np.sort(last)
        return bottoms[:count] if count else bottoms

    def _check_wavelength(self, energy_meV: float, params: dict):
        """Refuse an energy whose shortest propagating wavelength (lead 0's largest
        |k|) is below MIN_POINTS_PER_WAVELENGTH lattice constants."""
        momenta = np.asarray(self.lead_modes(energy_meV, params).momenta)
        if momenta.size == 0:
            return
        k_max = float(np.abs(momenta).max())   # 1/a
        lam = 2 * np.pi / k_max * self.a if k_max > 0 else np.inf
        if lam < MIN_POINTS_PER_WAVELENGTH * self.a:
            raise ValueError(
                f"energy={energy_meV:g} meV is not allowed with a={self.a:g} nm: the shortest "
                f"propagating wavelength {lam:.3g} nm needs a <= lambda/"
                f"{MIN_POINTS_PER_WAVELENGTH:g} = {lam / MIN_POINTS_PER_WAVELENGTH:.3g} nm; reduce "
                "a or the energy")

    # ------------------------------------------------------------------ description
    def parameter_info(self) -> list[dict]:
        docs = self.metadata.parameter_docs
        return [dict(name=k, default=v, unit=self.units.get(k, ""), structural=False,
                     description=docs.get(k, "")) for k, v in self.defaults.items()]

    def describe(self) -> str:
        """The model, the lattice and every runtime parameter."""
        lines = [f"{self.name}: {type(self).__name__}, {self.norbs} orbital(s) per site, "
                 f"a = {self.a:g} nm, t = {self.t:.4g} meV, width {self.width:g} nm, "
                 f"length {self.length:g} nm",
                 f"  H = {self.hamiltonian_text()}"]
        for row in self.parameter_info():
            lines.append(f"  {row['name']:<20} {row['default']:>10g} {row['unit'] or '-':<8} "
                         f"{row['description']}")
        return "\n".join(lines)

    def _fingerprint_spec(self) -> dict:
        spec = {"class": type(self).__name__, "a": self.a, "width": self.width,
                "length": self.length, "material": repr(self.material),
                "hamiltonian": self.hamiltonian_text(), "defaults": self.defaults,
                "metadata": jsonable(self.metadata)}
        if not self.metadata.geometry_sha256:
            # Defined in Python: a changed potential or shape must never reuse a store
            # (a geometry file's hash already names its code).
            from .fingerprint import callable_digest
            spec["functions"] = [None if f is None else callable_digest(f)
                                 for f in (self.potential, getattr(self, "shape", None))]
        return spec

    def fingerprint(self) -> str:
        """Content hash of what determines the device's physics."""
        return hashlib.sha256(json.dumps(self._fingerprint_spec(), sort_keys=True,
                                         default=str).encode()).hexdigest()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, width={self.width:g} nm, "
                f"length={self.length:g} nm, a={self.a:g} nm, norbs={self.norbs}, "
                f"params={self.defaults})")

    def __getstate__(self):
        # Kwant systems (and kwant.continuum's generated functions) are rebuilt per process.
        state = dict(self.__dict__)
        for key in ("_fsyst", "_positions", "_site_index", "_onsite_memo", "_hamiltonian_memo"):
            state[key] = None
        state["_modes_memo"] = {}
        for key in ("solver_state", "_band_table", "_thresholds", "_last_thresholds"):
            state.pop(key, None)
        return state


@contextmanager
def _potential_off():
    """Onsite value functions of this thread leave the potential out (the
    potential-free Hamiltonian)."""
    _POTENTIAL_OFF.active = True
    try:
        yield
    finally:
        _POTENTIAL_OFF.active = False


def _potential_parameters(potential, reserved=()) -> tuple[str, ...]:
    if potential is None:
        return ()
    if not callable(potential):
        raise ValueError(f"potential={potential!r} is not allowed: it must be callable as "
                         "potential(x, y, **params)")
    sig = inspect.signature(potential)
    names = [n for n, p in sig.parameters.items()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if names[:2] != ["x", "y"]:
        raise ValueError("potential must take the positions as its first two arguments, named "
                         f"x and y (nm); its signature is {sig}")
    taken = set(names[2:]) & set(_validate.RESERVED_PARAMETERS)
    if taken:
        raise ValueError(f"potential parameter names {sorted(taken)} are reserved by qpcsim "
                         f"({', '.join(_validate.RESERVED_PARAMETERS)}); rename them")
    clash = set(names[2:]) & set(reserved)
    if clash:
        raise ValueError(f"potential parameter names {sorted(clash)} are symbols of the "
                         "Hamiltonian (constants or runtime parameters), which is not allowed: "
                         "the leads carry the Hamiltonian's symbols and not the potential, so "
                         "rename them in the potential")
    return tuple(names[2:])


def discretize(hamiltonian: str, t: float, values: Mapping[str, float],
               runtime: Mapping[str, str], lattice: Callable):
    """``kwant.continuum`` template of ``hamiltonian`` in units of ``t``.

    Parameters
    ----------
    hamiltonian : str
        Continuum Hamiltonian (meV with k in 1/nm, x and y in nm).
    t : float
        Energy unit of the result (meV).
    values : mapping
        Structural symbols and their values, substituted before discretization.
    runtime : mapping
        Runtime symbols (left to Kwant) and their units.
    lattice : callable
        ``lattice(norbs)`` -> the square grid (``kwant.lattice.Monatomic``, nm).

    Returns
    -------
    (template, norbs)
    """
    import kwant.continuum
    import sympy

    try:
        expr = kwant.continuum.sympify(hamiltonian)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"hamiltonian={hamiltonian!r} is not allowed: it does not parse "
                         f"({reason}); write it with k_x, k_y, x, y, "
                         "sigma_0/x/y/z, kron(...) and named parameters") from None
    if not isinstance(expr, sympy.MatrixBase):
        expr = sympy.Matrix([[expr]])
    functions = sorted({str(f.func) for f in expr.atoms(sympy.Function)
                        if isinstance(f, sympy.core.function.AppliedUndef)})
    if functions:
        raise ValueError(f"hamiltonian={hamiltonian!r} is not allowed: it uses the unknown "
                         f"function(s) {', '.join(functions)}; give a position-dependent "
                         "potential as potential=V(x, y, ...) (meV)")
    known = set(_COORDINATES) | set(_MOMENTA) | set(values) | set(runtime)
    unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in known)
    if unknown:
        raise ValueError(
            f"hamiltonian={hamiltonian!r} is not allowed: unknown symbol(s) {', '.join(unknown)}; "
            f"known: k_x, k_y, x, y, {', '.join(sorted(set(values) | set(runtime)))} (declare a "
            "parameter in params= or constants= with its unit in units=)")
    expr = expr.subs({sympy.Symbol(n): sympy.Float(v, 17) for n, v in values.items()})
    expr = expr * sympy.Float(1.0 / t, 17)
    template = kwant.continuum.discretize(expr, coords=list(_COORDINATES), grid=lattice(expr.shape[0]))
    return template, expr.shape[0]


class ContinuumDevice(ModelDevice):
    """A two-terminal device from a continuum Hamiltonian in physical units.

    Parameters
    ----------
    hamiltonian : str
        The Hamiltonian (meV) in ``kwant.continuum`` syntax (module docstring):
        ``k_x, k_y`` (1/nm), ``x, y`` (nm), ``sigma_*``, ``kron``, constants
        ``hbar`` and ``mu_B`` (meV/T), ``m`` (m_e) and ``g`` (the material's).
    width, length : float
        Width of the leads and the scattering region, length of the scattering
        region (nm); multiples of ``a``.
    a : float
        Lattice constant (nm): must resolve the Fermi wavelength (checked per solve).
    params : mapping
        Runtime parameters and their defaults (units in ``units``).
    units : mapping
        Unit of every parameter and constant, one of
        :data:`qpcsim.units.HAMILTONIAN_UNITS` (e.g. ``{"alpha": "meV nm"}``).
    constants : mapping, optional
        Structural symbols and their values (substituted; units in ``units``).
    material : Material
        Effective mass (sets ``m`` and the energy unit t) and g-factor (``g``).
    potential : callable, optional
        ``potential(x, y, **params)`` (nm in, meV out, vectorized), added in the
        scattering region as ``V * potential_matrix``; its keyword arguments are
        runtime parameters.
    potential_matrix : array, optional
        Orbital structure of the potential (identity by default; ``tau_z`` for
        Bogoliubov-de Gennes Hamiltonians).
    shape : callable, optional
        ``shape(x, y) -> bool``: sites kept in the scattering region.
    lead_hamiltonians : (str, str), optional
        Hamiltonians of lead 0 and lead 1 (default: ``hamiltonian``).
    conservation_law, particle_hole : array, optional
        Passed to both leads' ``kwant.Builder`` (Kwant resolves the S-matrix
        per block of the conservation law).
    spin_resolved : bool
        The orbitals resolve spin: an open channel counts e^2/h = G0/2.
    name, metadata
        Label and free-form description stored with every result.
    """

    def __init__(self, hamiltonian: str, *, width: float, length: float, a: float,
                 params: Mapping[str, float] | None = None,
                 units: Mapping[str, str] | None = None,
                 constants: Mapping[str, float] | None = None, material: Material = GAAS,
                 potential: Callable | None = None, potential_matrix=None,
                 shape: Callable | None = None, lead_hamiltonians=None,
                 conservation_law=None, particle_hole=None, spin_resolved: bool = True,
                 name: str = "continuum device", metadata: Mapping | None = None):
        if not isinstance(hamiltonian, str) or not hamiltonian.strip():
            raise ValueError(f"hamiltonian={hamiltonian!r} is not allowed: give the Hamiltonian "
                             "as text, e.g. 'hbar**2/(2*m)*(k_x**2 + k_y**2)'")
        if not isinstance(material, Material):
            raise ValueError(f"material={material!r} is not allowed: it must be a qpcsim.Material")
        self.hamiltonian = hamiltonian
        self.lead_hamiltonians = tuple(lead_hamiltonians or (hamiltonian, hamiltonian))
        if len(self.lead_hamiltonians) != 2:
            raise ValueError(f"lead_hamiltonians={lead_hamiltonians!r} is not allowed: give two "
                             "(lead 0, lead 1)")
        self.a = _validate.positive("a", a, "nm")
        self.width = _validate.positive("width", width, "nm")
        self.length = _validate.positive("length", length, "nm")
        self.material = material
        self.t = hopping_meV(self.a, material)
        self.nx = lattice_count("length", self.length, self.a) + 1
        self.ny = lattice_count("width", self.width, self.a) - 1
        if self.ny < 1:
            raise ValueError(f"width={self.width!r} nm is not allowed with a={self.a!r} nm: it "
                             f"must be >= 2a = {2 * self.a:g} nm")
        self.shape = shape
        self.zeeman = _validate.flag("spin_resolved", spin_resolved)
        self.name = str(name)
        self.metadata = metadata
        params = dict(params or {})
        constants = dict(constants or {})
        units = dict(units or {})
        taken = (set(params) | set(constants)) & set(_validate.RESERVED_PARAMETERS)
        if taken:
            raise ValueError(f"Hamiltonian symbols {sorted(taken)} are reserved by qpcsim "
                             f"({', '.join(_validate.RESERVED_PARAMETERS)}): solve and sweep take "
                             "them for themselves; rename them")
        both = set(params) & set(constants)
        if both:
            raise ValueError(f"{sorted(both)} given both as params and constants: a symbol is "
                             "either a runtime parameter or a structural constant")
        # A potential argument named like a Hamiltonian symbol would leave the leads without it.
        self._init_parameters(potential, params, units,
                              reserved=set(constants) | set(params) | {"energy"})
        runtime = {n: units.get(n) for n in params}
        for name_, unit in {**runtime, **{n: units.get(n) for n in constants}}.items():
            if unit not in HAMILTONIAN_UNITS:
                raise ValueError(
                    f"parameter {name_!r} has unit {unit!r}, which is not allowed: give every "
                    "parameter of the Hamiltonian a unit in units=, one of "
                    + ", ".join(repr(u) for u in HAMILTONIAN_UNITS))
        self.constants = {**continuum_constants(material),
                          **_validate.mapping_of_numbers("", constants, units)}
        for n in runtime:
            self.constants.pop(n, None)   # a runtime parameter overrides a built-in constant
        self._runtime_symbols = runtime
        law = None if conservation_law is None else np.asarray(conservation_law)
        phs = None if particle_hole is None else np.asarray(particle_hole)
        #: (conservation law, particle-hole symmetry) of lead 0 and lead 1.
        self.lead_symmetries = ((law, phs), (law, phs))
        # Discretize once now: bad input fails here, with the Hamiltonian named.
        self._templates()
        self.potential_matrix = (np.eye(self.norbs) if potential_matrix is None
                                 else np.asarray(potential_matrix, dtype=complex))
        if self.potential_matrix.shape != (self.norbs, self.norbs):
            raise ValueError(f"potential_matrix of shape {self.potential_matrix.shape} is not "
                             f"allowed: the Hamiltonian has {self.norbs} orbitals")
        skew = float(np.abs(self.potential_matrix - self.potential_matrix.conj().T).max())
        if skew > HERMITICITY_TOLERANCE:
            raise ValueError(f"potential_matrix={self.potential_matrix.tolist()} is not allowed: "
                             f"it is not Hermitian (max|M - M^dagger| = {skew:.3g}); the "
                             "potential enters as V(x, y) * potential_matrix")
        for label, matrix in (("conservation_law", law), ("particle_hole", phs)):
            if matrix is not None and matrix.shape != (self.norbs, self.norbs):
                raise ValueError(f"{label} of shape {matrix.shape} is not allowed: the "
                                 f"Hamiltonian has {self.norbs} orbitals")

    def _lattice(self, norbs: int):
        import kwant
        return kwant.lattice.Monatomic([[self.a, 0.0], [0.0, self.a]],
                                       offset=(-0.5 * self.length, -0.5 * self.width),
                                       name="", norbs=norbs)

    def _templates(self):
        templates = []
        norbs = set()
        for text in (self.hamiltonian,) + self.lead_hamiltonians:
            template, n = discretize(text, self.t, self.constants, self._runtime_symbols,
                                     self._lattice)
            templates.append(template)
            norbs.add(n)
        if len(norbs) != 1:
            raise ValueError(f"lead_hamiltonians={self.lead_hamiltonians!r} are not allowed: "
                             f"their orbital counts {sorted(norbs)} differ from the device's")
        self.norbs = norbs.pop()
        return templates

    def hamiltonian_text(self) -> str:
        if self.lead_hamiltonians == (self.hamiltonian, self.hamiltonian):
            return self.hamiltonian
        return (f"{self.hamiltonian}; lead 0: {self.lead_hamiltonians[0]}; "
                f"lead 1: {self.lead_hamiltonians[1]}")

    def _inside(self, x, y) -> bool:
        half = 0.5 * self.a
        inside = (-0.5 * self.length - half < x < 0.5 * self.length + half
                  and abs(y) < 0.5 * self.width - half)
        if inside and self.shape is not None:
            inside = bool(self.shape(x, y))
        return inside

    def builder(self):
        """A new, unfinalized ``kwant.Builder`` with both leads attached."""
        import kwant
        region, *leads = self._templates()
        syst = kwant.Builder()
        start = (-0.5 * self.length, -0.5 * self.width + self.a)
        syst.fill(region, lambda site: self._inside(*site.pos), start)
        wrapped = {}
        for site, value in list(syst.site_value_pairs()):
            key = id(value)
            if key not in wrapped:
                wrapped[key] = self._wrap_onsite(value, self.potential_matrix / 1.0)
            syst[site] = wrapped[key]
        for template, direction, (law, phs) in zip(leads, (-1, 1), self.lead_symmetries):
            lead = kwant.Builder(kwant.TranslationalSymmetry((direction * self.a, 0.0)),
                                 conservation_law=law, particle_hole=phs)
            lead.fill(template, lambda site: abs(site.pos[1]) < 0.5 * self.width - 0.5 * self.a,
                      start)
            syst.attach_lead(lead)
        return syst

    def check_fermi_energy(self, energy_meV: float, params: dict) -> float:
        """The solver's energy check: lambda_F >= 4a from the lead's own modes."""
        energy = _validate.real_number("energy", energy_meV, "meV")
        self._check_wavelength(energy, params)
        return energy

    def _fingerprint_spec(self) -> dict:
        spec = super()._fingerprint_spec()
        spec.update(constants=self.constants, norbs=self.norbs, spin_resolved=self.zeeman,
                    potential_matrix=self.potential_matrix.tolist().__repr__(),
                    lead_symmetries=repr(self.lead_symmetries))
        return spec
