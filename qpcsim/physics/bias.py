"""Finite source-drain bias: I(V_sd), dI/dV and the subband diamonds.

Landauer current with mu_L,R = mu +- eV/2 (lead 0 on the left is the source
for V > 0):

    I(V) = g_s (e/h) int T(E; V) [f_L(E) - f_R(E)] dE.

Two bias models (``drop_fraction`` eta):

* **symmetric drop** (eta = 0, the default): the landscape inside the device
  stays at the mean of the two electrochemical potentials, so T(E) does not
  depend on V,

      dI/dV = g_s (e^2/h) int T(E) [-(f_L' + f_R')/2] dE

  (= (T(mu + eV/2) + T(mu - eV/2))/2 in G0 at T = 0), and every bias value is
  an integral over one :class:`~qpcsim.spectral.Spectrum` per gate point (no
  new solves).
* **drop inside the device** (0 < eta <= 1, :func:`with_bias_drop`): a part
  eta of the bias drops linearly across the constriction. The potential energy
  of an electron gets the ramp

      U_V(x) = -eta e V clip((x - x_c) / L_drop, -1/2, 1/2),   x_c = 0,

  i.e. +eta eV/2 on the source (left) side, where mu_L = mu + eV/2 is higher,
  and -eta eV/2 on the drain side; the leads stay at the mean (V = 0 there),
  so the rest, (1 - eta) eV, drops at the contacts. T(E; V) now depends on V:
  each (gate, bias) point is re-solved on its own bias window, and

      dI/dV = g_s (e^2/h) { int T(E; V) [-(f_L' + f_R')/2] dE
                            + int dT(E; V)/dV [f_L - f_R] dE },

  the first term exact on the spectrum at V, the second with dT/dV from the
  spectra at V +- delta (central difference, :data:`DIDV_STEP` = 1e-4 mV:
  truncation delta^2/6 d^3T/dV^3 and roundoff ~1e-13/delta, below 1e-8 G0 in
  the tests); I(V) and the first term use (T(V + delta) + T(V - delta))/2 =
  T(V) + O(delta^2). Cost: two spectra per bias point instead of one per
  gate point.

Interpolation bound (symmetric drop): T(E) between the grid's nodes is the Legendre
interpolant of each Gauss panel; its error on a panel is bounded by 4 (|c_(n-1)| + |c_(n-2)|),
its two highest coefficients (:func:`qpcsim.spectral.refine.panel_errors`), and the error of
dI/dV (I) by the sum over panels of that bound times the panel's weight of the kernel
(F_L + F_R)/2 (|f_L - f_R|), in closed form. :func:`bias_map` bisects the panels carrying
the most until every bias is within ``thermal_tolerance`` (dI/dV in G0, I/V in G0) and
returns the bounds (``didv_error_bound``, ``current_error_bound``); a Fano feature narrower
than the node spacing (the README's saddle at a = 4 nm, E = 10 meV) is flagged by its
non-decaying coefficients. A feature that no node sees at all can still hide. With the drop
inside the device the same bound holds per (gate, bias) point for the mean T(E; V), and the
dT/dV term adds the bound of its own interpolant weighted by |f_L - f_R|; the two spectra's
shared panels are bisected together.

The half plateaus (n + 1/2) G0 appear when eV exceeds a subband spacing (Patel
et al., PRB 44, 13549 (1991)); :func:`diamond_spacings` reads the spacings off
the diamonds' vertices. :func:`bias_map` keeps each finished point in the
resumable SQLite store (``store=``) and resumes from it.
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from .. import validate as _validate
from ..budget import BYTES_PER_POINT
from ..device import Device
from ..engine.executors import check_executor_args
from ..engine.kind import Kind, Run, make_header
from ..engine.store import task_key
from ..engine.sweep import run_kind
from ..engine.task import SweepTask
from ..solver import check_energy
from .. import spectral
from ..spectral import Spectrum, device_grid
from ..spectral.compute import node_solver
from ..spectral.grid import fermi, fermi_window
from ..spectral.refine import (DEFAULT_REFINEMENT_BUDGET, DEFAULT_THERMAL_TOLERANCE,
                               bias_bounds, check_thermal_options, drop_bounds,
                               refine_bias_spectrum, refine_drop_spectra)
from ..units import E_CHARGE, H_PLANCK, thermal_energy_meV

__all__ = ["BIAS_PARAM", "DIDV_STEP", "MAP_VARIABLES", "BiasDropPotential", "bias_map",
           "check_drop", "current", "diamond_spacings", "differential_conductance", "drop_point",
           "map_request", "map_variables", "with_bias_drop"]

_MEV_J = 1e-3 * E_CHARGE
#: Runtime parameter of a device from :func:`with_bias_drop`: the source-drain bias (mV).
BIAS_PARAM = "V_sd"
#: Current (nA) of 1 G0 over 1 mV: 2e^2/h x 1e-3 V x 1e9.
G0_NA_PER_MV = 2 * E_CHARGE ** 2 / H_PLANCK * 1e-3 * 1e9
#: Half-step (mV) of the central difference dT(E; V)/dV in the drop model's dI/dV.
DIDV_STEP = 1e-4


def _check_window(spectrum, mu, biases):
    lo, hi = spectrum.grid.window
    half = float(np.max(np.abs(biases))) / 2
    if mu - half < lo - 1e-9 or mu + half > hi + 1e-9:
        raise ValueError(
            f"bias up to {2 * half:g} mV around mu={mu:g} meV leaves the spectrum's energy window "
            f"[{lo:.4g}, {hi:.4g}] meV: build the spectrum with a larger bias")


def current(spectrum, bias: float, temperature: float = 0.0, mu: float | None = None) -> float:
    """Current I (A) at source-drain bias ``bias`` (mV), ``temperature`` (K), Fermi energy ``mu``
    (meV, default the spectrum's) from spectral data."""
    bias = _validate.real_number("bias", bias, "mV")
    kT = thermal_energy_meV(temperature)
    mu = spectrum.grid.mu if mu is None else float(mu)
    _check_window(spectrum, mu, [bias])
    if bias == 0:
        return 0.0
    mu_l, mu_r = mu + bias / 2, mu - bias / 2
    g_s = 2.0 if spectrum.spin_degenerate else 1.0
    value = spectrum.integrate("transmission", lambda e: fermi(e, mu_l, kT) - fermi(e, mu_r, kT),
                               (mu_l, mu_r), kT or None)
    return g_s * E_CHARGE / H_PLANCK * value * _MEV_J


def differential_conductance(spectrum, biases, temperature: float = 0.0,
                             mu: float | None = None) -> np.ndarray:
    """dI/dV (G0) at each bias (mV) for ``temperature`` (K) and Fermi energy ``mu`` (meV)."""
    biases = np.atleast_1d(np.asarray(biases, dtype=float))
    kT = thermal_energy_meV(temperature)
    mu = spectrum.grid.mu if mu is None else float(mu)
    _check_window(spectrum, mu, biases)
    if kT == 0:
        t_l = spectrum.interpolate("transmission", mu + biases / 2)
        t_r = spectrum.interpolate("transmission", mu - biases / 2)
        return spectrum.spin_factor * 0.5 * (t_l + t_r)
    out = np.empty(biases.size)
    for k, v in enumerate(biases):
        mu_l, mu_r = mu + v / 2, mu - v / 2
        def kernel(e, mu_l=mu_l, mu_r=mu_r):
            return 0.5 * (fermi_window(e, mu_l, kT) + fermi_window(e, mu_r, kT))
        out[k] = spectrum.integrate("transmission", kernel, (mu_l, mu_r), kT)
    return spectrum.spin_factor * out


# ---------------------------------------------------------------- the drop inside the device
class BiasDropPotential:
    """The potential of a device plus the bias ramp U_V(x) (meV), V_sd in mV.

    ``U_V(x) = -drop_fraction * V_sd * clip(x / drop_length, -1/2, 1/2)``: x in
    nm (device centre x = 0), V_sd in mV, so eV is in meV. Picklable (the base
    potential travels with it); its signature lists the base potential's
    parameters and :data:`BIAS_PARAM` as keywords, so a :class:`~qpcsim.Device`
    sees them as runtime parameters.
    """

    def __init__(self, base, names, drop_fraction: float, drop_length: float):
        self.base = base
        self.names = tuple(names)
        self.drop_fraction = float(drop_fraction)
        self.drop_length = float(drop_length)
        self.__signature__ = self._signature()

    def _signature(self):
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("x", "y")]
            + [inspect.Parameter(n, kind) for n in self.names + (BIAS_PARAM,)])

    def ramp(self, x, bias):
        """U_V (meV) at positions ``x`` (nm) for the bias ``bias`` (mV)."""
        x = np.asarray(x, dtype=float)
        return -self.drop_fraction * float(bias) * np.clip(x / self.drop_length, -0.5, 0.5)

    def __call__(self, x, y, **params):
        bias = params.pop(BIAS_PARAM)
        ramp = self.ramp(x, bias) + 0.0 * np.asarray(y, dtype=float)
        if self.base is None:
            return ramp
        return self.base(x, y, **params) + ramp

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("__signature__", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__signature__ = self._signature()


def check_drop(device, drop_fraction, drop_length=None) -> tuple[float, float]:
    """``(drop_fraction, drop_length)`` validated for ``device``: 0 <= eta <= 1 and
    0 < L_drop <= the device length (nm, default the length); one-line ValueErrors."""
    eta = _validate.in_range("drop_fraction", drop_fraction, 0.0, 1.0)
    length = float(device.length)
    if drop_length is None:
        return eta, length
    value = _validate.real_number("drop_length", drop_length, "nm")
    if not 0 < value <= length * (1 + 1e-12):
        raise ValueError(f"drop_length={value!r} nm is not allowed: it must lie in (0, {length:g}] "
                         f"nm (0 < drop_length <= the device length)")
    return eta, min(value, length)


def with_bias_drop(device, drop_fraction: float, drop_length: float | None = None):
    """``device`` with a part of the source-drain bias dropping inside it.

    Parameters
    ----------
    device : qpcsim.Device
        A plain :class:`~qpcsim.Device` (not a subclass: its own onsite terms or
        leads could not be carried over).
    drop_fraction : float
        eta, the fraction of eV that drops across the device (0 <= eta <= 1).
    drop_length : float, optional
        L_drop (nm), the length over which it drops, centred on x = 0;
        0 < L_drop <= ``device.length``; default the device length.

    Returns
    -------
    qpcsim.Device
        The same lattice, shape, leads and parameters plus the runtime parameter
        :data:`BIAS_PARAM` (``V_sd``, mV): its potential is the device's plus
        ``U_V(x) = -eta e V_sd clip(x / L_drop, -1/2, 1/2)`` (meV; +eta eV/2 on
        the left, source side, for V_sd > 0). The leads stay at V = 0. Its
        metadata names the base device's fingerprint and the drop model;
        workers receive it pickled by value.
    """
    from .disorder import _pickle_geometry_by_value
    if not isinstance(device, Device):
        raise ValueError(f"device={device!r} is not allowed with drop_fraction > 0: the bias "
                         "ramp is added to a qpcsim.Device's potential")
    if type(device) is not Device:
        raise ValueError(f"drop_fraction={drop_fraction!r} is not allowed on a "
                         f"{type(device).__name__} (a Device subclass): the ramp is added to a "
                         "plain Device's potential(x, y, **params), and the subclass's own "
                         "onsite terms or leads would be lost; use drop_fraction=0")
    if BIAS_PARAM in device.defaults:
        raise ValueError(f"drop_fraction={drop_fraction!r} is not allowed on device "
                         f"{device.name!r}: it already has a parameter {BIAS_PARAM!r} (a bias "
                         "drop of its own, or a potential argument of that name)")
    eta, length = check_drop(device, drop_fraction, drop_length)
    if getattr(device, "leads", None) is not None:
        raise ValueError(f"device {device.name!r} is not allowed: with_bias_drop models a "
                         "source-drain drop along x between two leads, not explicit leads")
    names = device.potential_parameters
    _pickle_geometry_by_value(device.potential)
    potential = BiasDropPotential(device.potential, names, eta, length)
    params = {n: device.defaults[n] for n in names}
    params[BIAS_PARAM] = 0.0
    units = {**device.units, BIAS_PARAM: "mV"}
    meta = {k: v for k, v in device.metadata.items()
            if k not in ("geometry_file", "geometry_sha256", "geometry_params")}
    meta["bias_drop"] = {"base_fingerprint": device.fingerprint(), "drop_fraction": eta,
                         "drop_length_nm": length, "centre_nm": 0.0,
                         "model": "U_V(x) = -eta e V_sd clip(x / L_drop, -1/2, 1/2)"}
    widths = tuple((n + 1) * device.a for _, n in device.lead_windows)
    centres = tuple(-0.5 * device.width + (j0 + 0.5 * (n + 1)) * device.a
                    for j0, n in device.lead_windows)
    return Device(width=device.width, length=device.length, a=device.a, potential=potential,
                  shape=device.shape, params=params, units=units, material=device.material,
                  zeeman=device.zeeman, name=f"{device.name}+bias drop", metadata=meta,
                  lead_width=widths, lead_center=centres)


def drop_point(device, grid, params: dict, bias: float, temperature: float = 0.0,
               method: str = "auto", tolerance: float | None = None,
               budget: int | None = None) -> dict:
    """I (A), dI/dV (G0) and their bounds at one bias (mV) of a device from
    :func:`with_bias_drop`.

    ``grid`` is the energy grid of the window of ``|bias|`` (the same for every
    gate point); ``params`` the other device parameters. The spectra at
    V_sd = bias +- :data:`DIDV_STEP` give T(E; V) (their mean) and dT/dV (their
    central difference); see the module docstring. At bias = 0 one spectrum
    (f_L - f_R vanishes, and with it the dT/dV term). With a ``tolerance`` (G0) the
    panels are bisected until the interpolation bounds (``didv_bound``, G0, and
    ``current_bound``, G0 mV; :func:`qpcsim.spectral.refine.drop_bounds`) are within it
    (I: within ``tolerance`` x |bias|); above it with ``budget`` solves spent,
    :class:`~qpcsim.spectral.refine.ThermalResolutionError` names the window.
    """
    bias = float(bias)
    kT = thermal_energy_meV(temperature)
    refine = tolerance is not None
    budget = budget if budget is not None else DEFAULT_REFINEMENT_BUDGET
    if bias == 0.0:
        resolved = device.resolve_params({**params, BIAS_PARAM: 0.0})
        spec = spectral.compute_spectrum(device, grid, resolved, method)
        if refine:
            spec, b_didv, _ = refine_bias_spectrum(spec, node_solver(device, resolved, method),
                                                   [0.0], temperature, tolerance=tolerance,
                                                   budget=budget)
        else:
            b_didv = bias_bounds(spec, [0.0], temperature)[0]
        didv = float(differential_conductance(spec, [0.0], temperature)[0])
        return {"didv": didv, "current": 0.0, "solves": spec.solves,
                "didv_bound": float(b_didv[0]), "current_bound": 0.0,
                "unitarity_error": spec.unitarity_error}
    resolved = [device.resolve_params({**params, BIAS_PARAM: bias + s * DIDV_STEP})
                for s in (1, -1)]
    plus, minus = (spectral.compute_spectrum(device, grid, r, method) for r in resolved)
    if refine:
        plus, minus, b_didv, b_cur = refine_drop_spectra(
            plus, minus, *(node_solver(device, r, method) for r in resolved), bias,
            temperature, DIDV_STEP, tolerance=tolerance, budget=budget)
    else:
        b_didv, b_cur, _ = drop_bounds(plus, minus, bias, temperature, DIDV_STEP)
    grid = plus.grid
    mean_t = 0.5 * (plus.transmission + minus.transmission)
    slope = (plus.transmission - minus.transmission) / (2 * DIDV_STEP)      # 1/mV
    mean = Spectrum(grid, mean_t, mean_t, mean_t[:, None], spin_degenerate=plus.spin_degenerate)
    mu = grid.mu
    kernel, cuts, scale = mean.bias_window(mu + bias / 2, mu - bias / 2, kT)
    didv = float(differential_conductance(mean, [bias], temperature)[0]) \
        + mean.spin_factor * mean.integrate(slope, kernel, cuts, scale)
    return {"didv": didv, "current": current(mean, bias, temperature),
            "solves": plus.solves + minus.solves, "didv_bound": b_didv, "current_bound": b_cur,
            "unitarity_error": max(plus.unitarity_error, minus.unitarity_error)}


def _drop_task(device, task):
    """Worker: one (gate, bias) point of the drop model."""
    grid, params, method, bias, temperature, tolerance, budget = task
    return drop_point(device, grid, params, bias, temperature, method, tolerance, budget)


def _bias_point(device, task):
    """Worker: the spectrum of one gate point over the bias window, refined until the
    interpolation bounds of dI/dV and I are within the tolerance, reduced to dI/dV, I and
    their bounds (G0, G0 mV)."""
    grid, params, method, biases, temperature, tolerance, budget = task
    resolved = device.resolve_params(params)
    base = spectral.compute_spectrum(device, grid, resolved, method)
    spec, didv_bound, cur_bound = refine_bias_spectrum(
        base, node_solver(device, resolved, method), biases, temperature,
        tolerance=tolerance, budget=budget)
    didv = differential_conductance(spec, biases, temperature)
    cur = np.array([current(spec, v, temperature) for v in biases])
    return {"didv": didv.tolist(), "current": cur.tolist(), "solves": spec.solves,
            "didv_bound": didv_bound.tolist(), "current_bound": cur_bound.tolist(),
            "linear": float(spec.interpolate("transmission", [spec.grid.mu])[0] * spec.spin_factor),
            "spectrum_transmission": base.transmission.tolist(),
            "unitarity_error": spec.unitarity_error}


class MapRequest(NamedTuple):
    """A validated bias map request (the arguments of :func:`bias_map`)."""

    device: object
    name: str
    values: np.ndarray
    biases: np.ndarray
    energy: float
    temperature: float
    method: str
    fixed: dict


class BiasTask(NamedTuple):
    """One bias-map task, as sent to a worker (named fields: the executor prepares the
    back end of ``method`` before its pool forks)."""

    grid: object            # the shared SpectralGrid of the point's bias window
    params: dict            # runtime device parameters (physical units)
    method: str             # back end (``qpcsim.solve``'s ``method``)
    bias: object            # V_sd (mV) of the drop model; the symmetric map's biases (mV)
    temperature: float      # K
    tolerance: float        # thermal tolerance
    budget: int             # refinement budget (solves)


class _BiasKind(Kind):
    """What both bias models share: the header (the map's description) and the name."""

    name = "bias_map"
    label = "bias map"

    def body(self) -> dict:
        req = self.request
        return {"gate": req.name, "values": [float(v) for v in req.values],
                "biases": [float(v) for v in req.biases], "energy": float(req.energy),
                "temperature": float(req.temperature), "method": req.method,
                "fixed": {k: float(v) for k, v in sorted(req.fixed.items())},
                "bias_model": self.model, "grids": [g.describe() for g in self.grids]}

    def header(self) -> dict:
        if getattr(self, "_header", None) is None:   # the base device's fingerprint
            self._header = make_header(self.name, self.request.device, self.body())
        return self._header


class SymmetricBiasKind(_BiasKind):
    """The symmetric drop: one refined spectrum per gate point (:func:`_bias_point`)."""

    def __init__(self, request: MapRequest, grid, tolerance: float, budget: int):
        self.request, self.grid, self.grids = request, grid, [grid]
        self.model = {"name": "symmetric drop", "drop_fraction": 0.0,
                      "thermal_tolerance": tolerance, "refinement_budget": budget}
        self.recipe_device = request.device
        self.tasks = [BiasTask(grid, {**request.fixed, request.name: float(v)}, request.method,
                               request.biases, request.temperature, tolerance, budget)
                      for v in request.values]
        self.bytes_per_point = BYTES_PER_POINT + 8 * (5 * request.biases.size + grid.size)

    @property
    def worker(self):
        return _bias_point

    def key(self, task) -> str:        # the biases, tolerance and grid are in the header
        return task_key(SweepTask(self.request.energy, self.request.temperature, task[2], task[1],
                                  {}))

    def result(self, run: Run):
        req, records, grid = self.request, self.records, self.grid
        data = _map_dataset(req, self.model, {f: np.array([r[f] for r in records])
                                              for f in _MAP_FIELDS})
        data = data.assign_coords(energy_node=grid.nodes)
        data["spectrum_transmission"] = (
            (req.name, "energy_node"), np.array([r["spectrum_transmission"] for r in records]),
            {"units": "", "long_name": "T(E) at the bias window's grid nodes"})
        data["quadrature_weight"] = (("energy_node",), grid.weights,
                                     {"units": "meV", "long_name": grid.weight_name})
        data["energy_node"].attrs["units"] = "meV"
        data.attrs.update(solves_per_point=int(max(r["solves"] for r in records)),
                          bias_model="symmetric drop", drop_fraction=0.0,
                          grid_nodes=grid.size, points_from_store=run.reused)
        return data


class DropBiasKind(_BiasKind):
    """A part eta of the bias dropping inside the device: one (gate, bias) point per task
    (:func:`_drop_task`), run bias-major (the points of one bias window together: the lead
    modes per energy are cached per worker and shared by every gate point on it)."""

    def __init__(self, request: MapRequest, eta: float, length: float, max_panel,
                 tolerance: float, budget: int):
        self.request, self.eta, self.length = request, eta, length
        self.model = {"name": "linear drop inside the device", "drop_fraction": eta,
                      "drop_length_nm": length, "centre_nm": 0.0, "didv_step_mV": DIDV_STEP,
                      "thermal_tolerance": tolerance, "refinement_budget": budget}
        self.recipe_device = with_bias_drop(request.device, eta, length)
        base = request.device.resolve_params(request.fixed)
        by_size = {v: device_grid(request.device, request.energy, [request.temperature],
                                  bias=max(v, 1e-9), params=base, max_panel=max_panel)
                   for v in sorted({abs(float(b)) for b in request.biases})}
        self.grids = list(by_size.values())
        order = sorted({(abs(float(b)), float(b), float(v))
                        for b in request.biases for v in request.values})
        self.points = [(v, b) for _, b, v in order]
        self.tasks = [BiasTask(by_size[abs(b)], {**request.fixed, request.name: v},
                               request.method, b, request.temperature, tolerance, budget)
                      for v, b in self.points]

    @property
    def worker(self):
        return _drop_task

    def key(self, task) -> str:        # the bias is the drop device's runtime V_sd
        return task_key(SweepTask(self.request.energy, self.request.temperature, task[2],
                                  {**task[1], BIAS_PARAM: task[3]}, {}))

    def result(self, run: Run):
        req = self.request
        by_point = dict(zip(self.points, self.records))
        tables = {f: np.array([[by_point[(float(v), float(b))][f] for b in req.biases]
                               for v in req.values]) for f in _MAP_FIELDS}
        data = _map_dataset(req, self.model, tables)
        solves = int(sum(by_point[(float(req.values[0]), float(b))]["solves"]
                         for b in req.biases))
        data.attrs.update(
            solves_per_point=solves, drop_fraction=self.eta,
            bias_model=(f"drop_fraction={self.eta:g} of V_sd inside the device, linear over "
                        f"drop_length={self.length:g} nm about x=0 (re-solved per bias point)"),
            grid_nodes=int(sum(g.size for g in self.grids)), points_from_store=run.reused,
            drop_length_nm=self.length, drop_centre_nm=0.0,
            didv_method=f"T(E;V) term exact + dT/dV by central difference at V +- "
                        f"{DIDV_STEP:g} mV")
        return data


#: The record fields of a bias map point that become arrays -> (Dataset variable, unit, scale
#: from the record's unit (G0; G0 mV, written A for the current) to that unit, long name).
MAP_VARIABLES = {
    "didv": ("differential_conductance", "G0", 1.0, "differential conductance dI/dV"),
    "current": ("current", "nA", 1e9, "current I"),
    "didv_bound": ("didv_error_bound", "G0", 1.0, "interpolation bound of dI/dV"),
    "current_bound": ("current_error_bound", "nA", G0_NA_PER_MV, "interpolation bound of I")}
_MAP_FIELDS = tuple(MAP_VARIABLES)


def map_variables(dims: tuple, arrays: dict) -> dict:
    """``{variable: (dims, values, attrs)}`` of :data:`MAP_VARIABLES` from the records'
    ``arrays`` (field -> array of shape ``dims``), scaled to their units."""
    return {var: (dims, arrays[field] * scale, {"units": unit, "long_name": long_name})
            for field, (var, unit, scale, long_name) in MAP_VARIABLES.items()}


def _map_dataset(req: MapRequest, model: dict, arrays: dict):
    """dI/dV (G0), I (nA), the transconductance and the interpolation bounds of dI/dV and I
    on (gate, bias), from the records' ``arrays`` (:data:`_MAP_FIELDS`)."""
    import xarray as xr   # as in engine/result.py: `import qpcsim` stays free of xarray
    name, values, tolerance = req.name, req.values, model["thermal_tolerance"]
    didv = arrays["didv"]
    unit = req.device.units.get(name, "")
    trans = np.gradient(didv, values, axis=0) if values.size > 1 else np.zeros_like(didv)
    dims = (name, "bias")
    variables = map_variables(dims, arrays)
    variables["didv_error_bound"][2]["tolerance"] = tolerance
    variables["current_error_bound"][2]["tolerance_G0"] = tolerance
    data = xr.Dataset(variables, coords={name: values, "bias": req.biases})
    data["transconductance"] = (dims, trans, {"units": f"G0/{unit}" if unit else "G0",
                                              "long_name": f"d(dI/dV)/d{name}"})
    data[name].attrs["units"] = unit
    data["bias"].attrs.update(units="mV", long_name="source-drain bias V_sd")
    data.attrs.update(energy_meV=req.energy, temperature_K=req.temperature, gate=name)
    return data


def _checked_axes(device, over, biases):
    """``(name, values, biases)``: one swept gate parameter and finite biases (mV)."""
    if not isinstance(over, Mapping):
        raise ValueError(f"over={over!r} is not allowed: give a mapping of one gate parameter "
                         "to its values, e.g. over={'Vg': [-0.5, -0.4]}")
    if len(over) != 1:
        raise ValueError(f"over={dict(over)!r}: a bias map sweeps exactly one gate parameter")
    (name, values), = over.items()
    values = _validate.finite_sequence(f"over[{name!r}]", values,
                                       device.units.get(name) or "its unit")
    biases = _validate.finite_sequence("biases", biases, "mV")
    _validate.known_names([name], device.defaults, "swept parameter")
    return name, values, biases


def map_request(device, over, biases, energy: float, temperature: float = 0.0, *,
                method: str = "auto", max_panel: float | None = None,
                thermal_tolerance: float = DEFAULT_THERMAL_TOLERANCE,
                refinement_budget: int | None = None, fixed: dict | None = None):
    """The validated request of a symmetric-drop map, its bias-window energy grid and its
    refinement options (the arguments as for :func:`bias_map`; one-line ValueErrors).

    Returns
    -------
    tuple
        ``(MapRequest, EnergyGrid, tolerance (G0), budget (solves))``.
    """
    fixed = dict(fixed or {})
    name, values, biases = _checked_axes(device, over, biases)
    terminals = tuple(getattr(device, "terminals", ("left", "right")))
    if len(terminals) != 2:
        # mu_L,R = E_F +- eV/2 fixes a source and a drain; the other terminals' potentials
        # (voltage probes? grounded?) are not given, so T_01 alone would be a wrong current.
        raise ValueError(f"device {device.name!r} is not allowed with a bias: it has "
                         f"{len(terminals)} terminals {terminals}, and a source-drain bias "
                         "(mu = E_F +- eV/2) is defined between exactly two leads; use a "
                         "two-terminal device")
    base = device.resolve_params(fixed)
    energy = check_energy(device, energy, base)
    temperature = _validate.non_negative("temperature", temperature, "K")
    request = MapRequest(device, name, values, biases, energy, temperature, method, fixed)
    grid = device_grid(device, energy, [temperature], bias=max(float(np.max(np.abs(biases))),
                                                               1e-9),
                       params=base, max_panel=max_panel)
    if refinement_budget is None:
        refinement_budget = max(DEFAULT_REFINEMENT_BUDGET, 4 * grid.size)
    tolerance, budget = check_thermal_options(thermal_tolerance, refinement_budget, grid.size)
    for v in values:
        device.resolve_params({**fixed, name: float(v)})
    return request, grid, tolerance, budget


def bias_map(device, over, biases, energy: float, temperature: float = 0.0, *,
             workers: int | None = 1, method: str = "auto", max_panel: float | None = None,
             progress: bool = False, drop_fraction: float = 0.0, scheduler: str | None = None,
             drop_length: float | None = None, store=None,
             thermal_tolerance: float = DEFAULT_THERMAL_TOLERANCE,
             refinement_budget: int | None = None, fresh: bool = False,
             report=None, **fixed):
    """dI/dV(V_g, V_sd), I and the transconductance of a gate sweep.

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    over : mapping
        One swept device parameter -> values (its unit in ``device.units``).
    biases : sequence of float
        Source-drain biases V_sd (mV); mu_L,R = mu +- eV/2 (lead 0, left, is
        the source for V_sd > 0).
    energy : float
        Fermi energy (meV).
    temperature : float
        Temperature (K); 0 allowed.
    workers : int, optional
        Local processes (1 = serial).
    method : str
        Solver back end.
    scheduler : str, optional
        Dask scheduler address ``tcp://host:port`` or ``"local"`` (as for :func:`qpcsim.sweep`).
    max_panel : float, optional
        Resolution of T(E) on the bias window (meV).
    progress : bool
        Progress bar.
    drop_fraction : float
        eta, the part of eV that drops inside the device as a linear ramp
        (0 <= eta <= 1). 0 (default): the symmetric drop, T(E) independent of
        V, one spectrum per gate point. > 0: :func:`with_bias_drop`, two
        spectra per (gate, bias) point (see the module docstring).
    drop_length : float, optional
        L_drop (nm), the length of the ramp about the device centre;
        0 < L_drop <= the device length (default).
    store : path, optional
        Resumable SQLite store (:mod:`qpcsim.engine.store`): each finished
        point (eta = 0: a gate point's dI/dV and I rows and T(E) at the grid's
        nodes; eta > 0: one (gate, bias) point) is committed as it finishes, and
        a rerun computes only the missing ones. A store written for another map
        (device, gate values, biases, energy, temperature, method, fixed
        parameters, drop model, grid, tolerance or code) is refused.
    thermal_tolerance : float
        Symmetric drop: the largest allowed interpolation bound of dI/dV (G0) and of the mean
        conductance I/V (G0) at every (gate, bias) point (default 1e-4, as ``solve``'s). The
        bound of each gate point's T(E) interpolant is the Legendre tail of each Gauss panel
        (:func:`qpcsim.spectral.refine.panel_errors`) weighted by the bias kernels; panels are
        bisected (new solves) until every bias is within it. With ``drop_fraction > 0`` the
        same per (gate, bias) point, on the two spectra at V_sd +- delta together (the bound
        of dI/dV adds that of dT/dV weighted by |f_L - f_R|;
        :func:`qpcsim.spectral.refine.drop_bounds`).
    fresh : bool
        Delete ``store`` first (a qpcsim store not in use only) and start over.
    report : callable, optional
        ``report(line)`` receives notes for the user (a ``fresh`` start's deleted store,
        a long run's ETA), as for :func:`qpcsim.sweep`.
    refinement_budget : int, optional
        Most S-matrix solves of one gate point (``drop_fraction > 0``: of each of the two
        spectra of one (gate, bias) point) including the initial grid (default
        max(400, 4 x the grid's nodes)); a point still above the tolerance then raises
        :class:`~qpcsim.spectral.refine.ThermalResolutionError` naming the bias and the energy
        window.
    **fixed
        Other device parameters.

    Returns
    -------
    xarray.Dataset
        ``differential_conductance`` (G0), ``current`` (nA), ``transconductance``
        (G0 per unit of the gate), ``didv_error_bound`` (G0) and ``current_error_bound``
        (nA), the interpolation bounds of dI/dV and I (each <= ``thermal_tolerance``, resp.
        its x G0 |V|), on (gate, bias) with units; for eta = 0 also
        ``spectrum_transmission`` (gate x ``energy_node``) and
        ``quadrature_weight`` (meV). Attrs: the bias model (``bias_model``,
        ``drop_fraction``, ``drop_length_nm``), solves per gate point, energy,
        temperature, points taken from the store.
    """
    eta, length = check_drop(device, drop_fraction, drop_length)
    workers = check_executor_args(workers, scheduler)
    request, grid, tolerance, budget = map_request(
        device, over, biases, energy, temperature, method=method, max_panel=max_panel,
        thermal_tolerance=thermal_tolerance, refinement_budget=refinement_budget, fixed=fixed)
    kind = (SymmetricBiasKind(request, grid, tolerance, budget) if eta == 0 else
            DropBiasKind(request, eta, length, max_panel, tolerance, budget))
    return run_kind(kind, workers=workers, scheduler=scheduler, store=store, progress=progress,
                    fresh=fresh, report=report)


def diamond_spacings(gate, biases, didv) -> list[float]:
    """Subband spacings (meV) read off the diamonds of a dI/dV(gate, bias) map (G0).

    For each integer plateau n >= 1, the gate positions where dI/dV crosses
    n - 1/4 and n + 1/4 (the midpoints of the two half steps bounding the
    plateau) close as |eV| grows, to their narrowest at the diamond's vertex,
    eV = the spacing between subbands n and n + 1 (independent of the gate's
    lever arm): where the map reaches past it, the vertex is that minimum of the
    width (a parabola through its neighbourhood; exact Büttiker data read to
    1e-4 at 33 x 33 points), else the linear extrapolation of the width to zero.
    Only diamonds whose vertex lies inside the bias range are returned.
    """
    gate = np.asarray(gate, dtype=float)
    biases = np.asarray(biases, dtype=float)
    didv = np.asarray(didv, dtype=float)
    if gate.ndim != 1 or biases.ndim != 1 or didv.shape != (gate.size, biases.size) or \
            gate.size < 2:      # (an empty map raised IndexError)
        raise ValueError(f"didv of shape {didv.shape} is not allowed: it must be (len(gate), "
                         f"len(biases)) = ({gate.size}, {biases.size}), gate and biases 1-D, "
                         "at least 2 gate points")
    order = np.argsort(gate)
    gate, didv = gate[order], didv[order]
    if np.nanmean(didv[-1]) < np.nanmean(didv[0]):     # conductance falls with the gate
        gate, didv = gate[::-1], didv[::-1]
    pos = biases > 0
    if not pos.any():
        raise ValueError("diamond_spacings needs positive biases")
    spacings = []
    top = int(np.floor(np.nanmax(didv) + 0.25))
    for n in range(1, top + 1):
        vs, widths = [], []
        for j in np.flatnonzero(pos):
            trace = didv[:, j]
            a, b = _crossing(gate, trace, n - 0.25), _crossing(gate, trace, n + 0.25)
            if a is None or b is None:
                continue
            vs.append(biases[j])
            widths.append(abs(b - a))
        if len(vs) < 4:
            continue
        vs, widths = np.array(vs), np.array(widths)
        # the width shrinks linearly while the plateau exists; fit where it is clearly open
        w0 = widths[np.argmin(vs)]
        # beyond the vertex the width grows again (the inverted diamond): fit before it
        sel = (vs <= vs[np.argmin(widths)]) & (widths > 0.45 * w0) & (widths < 0.9 * w0)
        if sel.sum() < 3:
            continue
        slope, intercept = np.polyfit(vs[sel], widths[sel], 1)
        if slope >= 0:
            continue
        vertex = -intercept / slope
        # With smooth steps the width is not a straight line: it is an S-curve, mirror
        # symmetric about its minimum at eV = the spacing (there the inverted diamond begins:
        # the kernel's edges sit on the same two thresholds with their roles swapped), and its
        # straight middle extrapolates ~3 % high (2.061 for 2.000 on exact Büttiker data with
        # hbar w_x / hbar w_y = 1/2). Where the map reaches past the minimum, the vertex is the
        # minimum itself: a parabola through the widths within _DIAMOND_WINDOW of it.
        k = int(np.argmin(widths))
        if 0 < k < len(vs) - 1:
            near = np.abs(vs - vs[k]) <= _DIAMOND_WINDOW * vs[k]
            if near.sum() < 3:
                near = np.abs(np.arange(len(vs)) - k) <= 1
            curve = np.polyfit(vs[near], widths[near], 2)
            if curve[0] > 0:
                vertex = -curve[1] / (2 * curve[0])
        if vertex <= biases.max():
            spacings.append(float(vertex))
    return spacings


#: Half-width of the diamond read-out's parabola around the width's minimum (fraction of its bias).
_DIAMOND_WINDOW = 0.1


def _crossing(x, y, level):
    """First x where y crosses ``level`` going up (linear interpolation), else None."""
    above = y >= level
    idx = np.flatnonzero(~above[:-1] & above[1:])
    if idx.size == 0:
        return None
    k = idx[0]
    return float(x[k] + (level - y[k]) * (x[k + 1] - x[k]) / (y[k + 1] - y[k]))
