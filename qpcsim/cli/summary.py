"""``qpcsim summary RESULT.nc`` (also printed at the end of every ``qpcsim sweep``): what
a physicist reads off a trace, in the swept axis's unit. Plateaus, risers and the
pinch-off are analysed only for gate-like axes (a gate voltage or potential, or the
Fermi energy); a field, a temperature, a position (a scanning tip) or a structural
size gets its values, not a plateau table."""
from __future__ import annotations

import numpy as np

from ..analysis import (find_plateaus, find_steps, overlapping_risers, pinch_off,
                        plateau_resolution, plateau_table)
from ..engine import load_result

__all__ = ["summary_text", "is_gate_like", "trace_by_temperature", "register"]

#: Traces with at most this many points print every value.
SHORT_SWEEP = 12
#: Axes that are never gate-like, whatever their unit (field, Zeeman energy, temperature,
#: disorder realization).
_NOT_GATES = {"B", "E_Z", "T", "temperature", "seed"}


def is_gate_like(name: str, unit: str) -> bool:
    """Whether a trace over ``name`` (in ``unit``) is a gate sweep, where plateaus mean
    quantized conductance: voltages (V) and potential energies or the Fermi energy (meV);
    not a field, a temperature, a position or a length (nm), a seed."""
    return name not in _NOT_GATES and unit in ("V", "mV", "meV")


def summary_text(data) -> str:
    """The summary of a saved sweep (an :class:`xarray.Dataset` from ``qpcsim sweep``):
    its values if short, and for a gate-like 1-D trace the pinch-off, the risers with
    their spacings and the plateau table, in the axis's unit."""
    g = data["conductance"]
    leads = int(data.sizes.get("lead", data.attrs.get("leads", 2)))   # open_modes: one per lead
    if g.ndim == 2 and "temperature" in g.dims:
        return _series_summary(data) if leads <= 2 else _multi_terminal_note(leads)
    if g.ndim != 1:
        return (f"summary: {' x '.join(f'{d} ({data.sizes[d]})' for d in g.dims)} map of G; "
                "the pinch-off and plateau analysis is for 1-D sweeps")
    name = g.dims[0]
    x, values = data[name].values.astype(float), g.values.astype(float)
    unit = str(data[name].attrs.get("units", ""))
    lines = []
    if x.size <= SHORT_SWEEP:
        head = "G (G0)" if leads <= 2 else "G0 T(1<-0)"
        lines.append(f"{name + (f' ({unit})' if unit else ''):>14} {head:>16}")
        lines += [f"{xi:>14.6g} {gi:>16.12f}" for xi, gi in zip(x, values)]
    if leads > 2:   # (its G between leads 0 and 1 was printed and analysed as "G (G0)")
        return "\n".join(lines + [_multi_terminal_note(leads)])
    if not is_gate_like(name, unit):
        lines.append(f"({name} is not a gate axis: no plateau table)")
        return "\n".join(lines)
    if x.size < 5 or not np.isfinite(values).all():
        return "\n".join(lines)
    lines += _risers(x, values, unit)
    diagnosis = plateau_resolution(x, values)
    plateaus = find_plateaus(x, values)
    lines.append(plateau_table(plateaus, unit, diagnosis))
    if plateaus and diagnosis:
        lines.append(f"note: {diagnosis}")
    return "\n".join(lines)


def _multi_terminal_note(leads: int) -> str:
    return (f"(a {leads}-terminal device: conductance is G0 T(lead 1 <- lead 0), not a "
            "two-terminal conductance, so no pinch-off or plateau table; its conductance_matrix "
            "holds every G_ij, and --observable with --current/--voltage a resistance)")


def _series_summary(data) -> str:
    """A temperature series over a gate-like axis: the pinch-off and mean riser spacing
    at each temperature (the table of G per temperature is printed by the sweep)."""
    g = data["conductance"]
    name = [d for d in g.dims if d != "temperature"][0]
    unit = str(data[name].attrs.get("units", ""))
    if not is_gate_like(name, unit) or data.sizes[name] < 5:
        return f"({name} is not a gate axis, or too short: no pinch-off per temperature)"
    x, u = data[name].values.astype(float), f" {unit}" if unit else ""
    lines = []
    for t, trace in zip(data["temperature"].values, trace_by_temperature(g, name).T):
        trace = trace.astype(float)
        start = pinch_off(x, trace)
        steps = sorted(s.position for s in find_steps(x, trace))
        line = f"T = {t:g} K: pinch-off " + (f"{start:.4g}{u}" if start is not None else
                                             "not reached")
        if len(steps) >= 2:
            line += f", mean riser spacing {np.mean(np.abs(np.diff(steps))):.4g}{u}"
        lines.append(line)
    return "\n".join(lines)


def trace_by_temperature(g, name: str) -> np.ndarray:
    """The values of a series variable ``g`` (dims ``name`` and ``temperature``, an
    xarray or :class:`~qpcsim.engine.result_data.Column`) as (``name``, temperature)."""
    if name not in g.dims or "temperature" not in g.dims:
        raise ValueError(f"name={name!r} is not allowed: the variable's dims are "
                         f"{tuple(g.dims)}; a series needs {name!r} and 'temperature'")
    return np.moveaxis(np.asarray(g.values), [g.dims.index(name), g.dims.index("temperature")],
                       [0, 1])


def _risers(x, g, unit: str) -> list[str]:
    """Pinch-off and riser lines (positions and spacings in ``unit``)."""
    u = f" {unit}" if unit else ""
    start = pinch_off(x, g)
    lines = [f"pinch-off (G = 0.5 G0): {start:.4g}{u}" if start is not None else
             "pinch-off: G stays below 0.5 G0 over this range"]
    steps = sorted(find_steps(x, g), key=lambda s: s.position)
    if len(steps) >= 2:
        spacings = np.diff([s.position for s in steps])
        lines.append("risers (G = n - 1/2): " + ", ".join(
            f"{s.n}: {s.position:.4g}" for s in steps) + u)
        lines.append("riser spacings: " + ", ".join(f"{d:.3g}" for d in spacings) + u
                     + f" (mean {np.mean(np.abs(spacings)):.3g}{u})")
    merged = overlapping_risers(x, g)
    if merged:
        lines.append(f"risers {', '.join(map(str, merged))} overlap their predecessors "
                     "(closer than 3.4 riser widths): no plateau there at any resolution")
    return lines


def _summary(args) -> int:
    result = load_result(args.result)
    print(f"{args.result}: G over {' x '.join(result.swept)}")
    print(f"fixed: {result.caption()}")
    print(summary_text(result.data))
    return 0


def register(sub) -> None:
    p = sub.add_parser("summary", help="pinch-off, risers, plateaus (in the axis's unit) of a "
                                       "saved sweep; the values of a short one",
                       description="Print what a saved 1-D sweep shows: its values if it has "
                       f"<= {SHORT_SWEEP} points, and for a gate-like axis (V, meV) the pinch-off "
                       "(G = 0.5 G0), the risers and their spacings and the plateau table, in "
                       "the axis's unit. Fields, temperatures and positions get no plateau "
                       "table.")
    p.add_argument("result", help="result file written by `qpcsim sweep`")
    p.set_defaults(func=_summary)
