"""Finite source-drain bias: I(V_sd), dI/dV and the subband diamonds.

Landauer current with a symmetric drop, mu_L,R = mu +- eV/2:

    I(V) = g_s (e/h) int T(E) [f_L(E) - f_R(E)] dE,
    dI/dV = g_s (e^2/h) int T(E) [-(f_L' + f_R')/2] dE,

(= (T(mu + eV/2) + T(mu - eV/2))/2 in G0 at T = 0). Bias model: the landscape
inside the device stays at the mean of the two electrochemical potentials (the
symmetric drop), so T(E) does not depend on V and every bias value is an
integral over one :class:`~qpcsim.spectral.Spectrum` per gate point (no new
solves). The half plateaus (n + 1/2) G0 appear when eV exceeds a subband
spacing (Patel et al., PRB 44, 13549 (1991)); :func:`diamond_spacings` reads
the spacings off the diamonds' vertices.
"""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from ..spectral.grid import fermi, fermi_window
from ..units import E_CHARGE, H_PLANCK, thermal_energy_meV

__all__ = ["bias_map", "current", "diamond_spacings", "differential_conductance"]

_MEV_J = 1e-3 * E_CHARGE


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


def _bias_point(device, task):
    """Worker: the spectrum of one gate point over the bias window, reduced to dI/dV and I."""
    from ..spectral import compute_spectrum
    grid, params, method, biases, temperature = task
    spec = compute_spectrum(device, grid, device.resolve_params(params), method)
    didv = differential_conductance(spec, biases, temperature)
    cur = np.array([current(spec, v, temperature) for v in biases])
    return {"didv": didv.tolist(), "current": cur.tolist(), "solves": spec.solves,
            "linear": float(spec.interpolate("transmission", [spec.grid.mu])[0] * spec.spin_factor)}


def bias_map(device, over, biases, energy: float, temperature: float = 0.0, *,
             workers: int | None = 1, method: str = "auto", max_panel: float | None = None,
             progress: bool = False, **fixed):
    """dI/dV(V_g, V_sd), I and the transconductance of a gate sweep, one spectrum per gate point.

    Parameters
    ----------
    device : qpcsim.Device
        The device.
    over : mapping
        One swept device parameter -> values (its unit in ``device.units``).
    biases : sequence of float
        Source-drain biases V_sd (mV).
    energy : float
        Fermi energy (meV).
    temperature : float
        Temperature (K); 0 allowed.
    workers : int, optional
        Local processes (1 = serial).
    method : str
        Solver back end.
    max_panel : float, optional
        Resolution of T(E) on the bias window (meV).
    **fixed
        Other device parameters.

    Returns
    -------
    xarray.Dataset
        ``differential_conductance`` (G0), ``current`` (nA), ``transconductance``
        (G0 per unit of the gate), on (gate, bias) with units; attrs: solves per
        point, energy, temperature.
    """
    import xarray as xr

    from ..engine import DeviceRecipe, make_executor
    from ..solver import check_energy
    from ..spectral import device_grid
    if len(over) != 1:
        raise ValueError(f"over={dict(over)!r}: a bias map sweeps exactly one gate parameter")
    (name, values), = over.items()
    values = np.asarray(values, dtype=float)
    biases = np.asarray(biases, dtype=float)
    if biases.ndim != 1 or biases.size < 1 or not np.all(np.isfinite(biases)):
        raise ValueError("biases must be a non-empty 1-D sequence of finite numbers (mV)")
    _validate.known_names([name], device.defaults, "swept parameter")
    base = device.resolve_params(fixed)
    energy = check_energy(device, energy, base)
    temperature = _validate.non_negative("temperature", temperature, "K")
    vmax = float(np.max(np.abs(biases)))
    grid = device_grid(device, energy, [temperature], bias=max(vmax, 1e-9), params=base,
                       max_panel=max_panel)
    tasks = [(grid, {**fixed, name: float(v)}, method, biases, temperature) for v in values]
    for task in tasks:
        device.resolve_params(task[1])
    results = [None] * len(tasks)
    with make_executor(workers) as executor:
        for index, rec in executor.imap_unordered(_bias_point, DeviceRecipe(device), tasks):
            results[index] = rec
    didv = np.array([r["didv"] for r in results])
    cur = np.array([r["current"] for r in results]) * 1e9
    unit = device.units.get(name, "")
    trans = np.gradient(didv, values, axis=0) if values.size > 1 else np.zeros_like(didv)
    data = xr.Dataset(
        {"differential_conductance": ((name, "bias"), didv,
                                      {"units": "G0", "long_name": "differential conductance dI/dV"}),
         "current": ((name, "bias"), cur, {"units": "nA", "long_name": "current I"}),
         "transconductance": ((name, "bias"), trans,
                              {"units": f"G0/{unit}" if unit else "G0",
                               "long_name": f"d(dI/dV)/d{name}"})},
        coords={name: values, "bias": biases})
    data[name].attrs["units"] = unit
    data["bias"].attrs.update(units="mV", long_name="source-drain bias V_sd")
    data.attrs.update(energy_meV=energy, temperature_K=temperature, gate=name,
                      solves_per_point=int(results[0]["solves"]), bias_model="symmetric drop",
                      grid_nodes=grid.size)
    return data


def diamond_spacings(gate, biases, didv) -> list[float]:
    """Subband spacings (meV) read off the diamonds of a dI/dV(gate, bias) map (G0).

    For each integer plateau n >= 1, the gate positions where dI/dV crosses
    n - 1/4 and n + 1/4 (the midpoints of the two half steps bounding the
    plateau) close linearly as |eV| grows; the bias where that width
    extrapolates to zero is the diamond's vertex, eV = the spacing between
    subbands n and n + 1 (independent of the gate's lever arm).
    Only diamonds whose vertex lies inside the bias range are returned.
    """
    gate = np.asarray(gate, dtype=float)
    biases = np.asarray(biases, dtype=float)
    didv = np.asarray(didv, dtype=float)
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
        if vertex <= biases.max():
            spacings.append(float(vertex))
    return spacings


def _crossing(x, y, level):
    """First x where y crosses ``level`` going up (linear interpolation), else None."""
    above = y >= level
    idx = np.flatnonzero(~above[:-1] & above[1:])
    if idx.size == 0:
        return None
    k = idx[0]
    return float(x[k] + (level - y[k]) * (x[k + 1] - x[k]) / (y[k + 1] - y[k]))
