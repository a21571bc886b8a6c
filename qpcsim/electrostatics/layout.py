"""Gate layouts: named polygon gates on the sample surface, in nm, read from code or GDSII.

A :class:`Gate` is one or more simple polygons that share a voltage; its name
``left`` makes the sweep parameter ``V_left``. A :class:`Layout` is a set of
gates that do not overlap. Polygons are checked on construction: at least three
distinct vertices, finite coordinates, non-zero area and no self-intersection;
they are stored counter-clockwise.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["Gate", "Layout"]

_REL_TOL = 1e-12


def _polygon_area(v: np.ndarray) -> float:
    """Signed (shoelace) area of the polygon with vertices ``v`` (nm^2); > 0 counter-clockwise."""
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_intersect(p1, p2, q1, q2, tol: float, proper_only: bool = False) -> bool:
    """Do the closed segments p1-p2 and q1-q2 intersect? (``proper_only``: cross in their interiors.)"""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > tol and d2 < -tol) or (d1 < -tol and d2 > tol)) and \
            ((d3 > tol and d4 < -tol) or (d3 < -tol and d4 > tol)):
        return True
    if proper_only:
        return False

    def on_segment(a, b, c, dc):   # c collinear with a-b and within its box
        return abs(dc) <= tol and min(a[0], b[0]) - 1e-9 <= c[0] <= max(a[0], b[0]) + 1e-9 and \
            min(a[1], b[1]) - 1e-9 <= c[1] <= max(a[1], b[1]) + 1e-9
    return (on_segment(q1, q2, p1, d1) or on_segment(q1, q2, p2, d2)
            or on_segment(p1, p2, q1, d3) or on_segment(p1, p2, q2, d4))


def _points_in_polygon(px, py, v: np.ndarray) -> np.ndarray:
    """Even-odd rule: which points (px, py) lie strictly inside the polygon ``v`` (vectorized)."""
    px = np.asarray(px, dtype=float)
    py = np.asarray(py, dtype=float)
    inside = np.zeros(np.broadcast(px, py).shape, dtype=bool)
    x1, y1 = v[:, 0], v[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    for a, b, c, d in zip(x1, y1, x2, y2):
        crosses = (b > py) != (d > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = a + (py - b) * (c - a) / (d - b)
        inside ^= crosses & (px < xi)
    return inside


def _check_polygon(name: str, vertices) -> np.ndarray:
    """Validate one polygon; return it as a counter-clockwise (n, 2) float array (nm)."""
    try:
        v = np.array(vertices, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"gate {name!r}: vertices_nm={vertices!r} is not allowed: it must be a "
                         "sequence of (x, y) pairs in nm") from None
    if v.ndim != 2 or v.shape[1] != 2:
        raise ValueError(f"gate {name!r}: vertices_nm of shape {v.shape} is not allowed: it must "
                         "be an (n, 2) array of (x, y) in nm with n >= 3")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"gate {name!r}: vertices_nm contains non-finite coordinates; all must "
                         "be finite numbers (nm)")
    if len(v) > 1 and np.allclose(v[0], v[-1]):
        v = v[:-1]                       # a closed ring (GDS style): drop the repeated vertex
    scale = max(float(np.ptp(v[:, 0])), float(np.ptp(v[:, 1])), 1e-300) if len(v) else 1.0
    keep = np.ones(len(v), dtype=bool)
    if len(v) > 1:
        step = np.linalg.norm(v - np.roll(v, 1, axis=0), axis=1)
        keep = step > _REL_TOL * scale
    if len(v) < 3 or keep.sum() < 3:
        raise ValueError(f"gate {name!r}: a polygon with {int(keep.sum()) if len(v) else 0} "
                         "distinct vertices is degenerate: at least 3 are needed")
    if not keep.all():
        raise ValueError(f"gate {name!r}: vertex {int(np.flatnonzero(~keep)[0])} repeats its "
                         "predecessor (a zero-length edge); remove it")
    n = len(v)
    tol = 1e-12 * scale**2
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue               # adjacent edges share a vertex
            if _segments_intersect(v[i], v[(i + 1) % n], v[j], v[(j + 1) % n], tol):
                raise ValueError(
                    f"gate {name!r}: the polygon is self-intersecting (edge {i} "
                    f"{tuple(v[i])}-{tuple(v[(i + 1) % n])} meets edge {j} "
                    f"{tuple(v[j])}-{tuple(v[(j + 1) % n])}); a gate must be a simple polygon")
    area = _polygon_area(v)
    if abs(area) <= 1e-9 * scale**2:
        raise ValueError(f"gate {name!r}: the polygon has zero area (all vertices collinear, "
                         f"area {area:g} nm^2); a gate must enclose a region")
    if area < 0:
        v = v[::-1].copy()
    return v


class Gate:
    """A surface gate: one or more simple polygons at a common voltage.

    Parameters
    ----------
    name : str
        Gate name, a Python identifier; its voltage is the parameter ``V_<name>`` (V).
    vertices_nm : array_like
        The polygon's vertices ``[(x0, y0), (x1, y1), ...]`` in nm (either
        orientation; a repeated closing vertex is dropped), or a list of such
        polygons that together form the gate (e.g. several shapes on one GDS layer).

    Raises
    ------
    ValueError
        A name that is not an identifier, or a degenerate, self-intersecting or
        non-finite polygon, or polygons of one gate that overlap.
    """

    def __init__(self, name: str, vertices_nm):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"gate name {name!r} is not allowed: it must be a Python identifier "
                             "(letters, digits, _), since the voltage parameter is V_<name>")
        self.name = name
        arr = None
        try:
            arr = np.asarray(vertices_nm, dtype=float)
        except (TypeError, ValueError):
            pass
        if arr is not None and arr.ndim == 2:
            polys = [vertices_nm]
        elif arr is not None and arr.ndim == 3 and arr.shape[2] == 2 and len(arr) > 0:
            polys = list(arr)
        elif isinstance(vertices_nm, (list, tuple)) and len(vertices_nm) > 0 and arr is None:
            polys = list(vertices_nm)
        else:
            polys = [vertices_nm]
        self.polygons = tuple(_check_polygon(name, p) for p in polys)
        for i in range(len(self.polygons)):
            for j in range(i + 1, len(self.polygons)):
                if _polygons_overlap(self.polygons[i], self.polygons[j]):
                    raise ValueError(f"gate {name!r}: its polygons {i} and {j} overlap; shapes of "
                                     "one gate must be disjoint (merge them into one polygon)")

    @property
    def parameter(self) -> str:
        """Name of this gate's voltage parameter, ``V_<name>``."""
        return f"V_{self.name}"

    @property
    def area_nm2(self) -> float:
        """Total area of the gate's polygons (nm^2)."""
        return float(sum(_polygon_area(p) for p in self.polygons))

    def bounds_nm(self) -> tuple[float, float, float, float]:
        """Bounding box ``(x0, x1, y0, y1)`` (nm)."""
        allv = np.vstack(self.polygons)
        return (float(allv[:, 0].min()), float(allv[:, 0].max()),
                float(allv[:, 1].min()), float(allv[:, 1].max()))

    def contains(self, x_nm, y_nm) -> np.ndarray:
        """Whether the surface points (x, y) (nm, arrays) lie under the gate."""
        out = np.zeros(np.broadcast(np.asarray(x_nm), np.asarray(y_nm)).shape, dtype=bool)
        for p in self.polygons:
            out |= _points_in_polygon(x_nm, y_nm, p)
        return out

    def __eq__(self, other):
        return isinstance(other, Gate) and other.name == self.name and \
            len(other.polygons) == len(self.polygons) and \
            all(np.array_equal(a, b) for a, b in zip(self.polygons, other.polygons))

    def __hash__(self):
        return hash((self.name, tuple(p.tobytes() for p in self.polygons)))

    def __repr__(self):
        return f"Gate({self.name!r}, {len(self.polygons)} polygon(s), bounds {self.bounds_nm()} nm)"


def _polygons_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two simple polygons share interior area? (edges crossing, or one inside the other)."""
    ax0, ay0 = a.min(axis=0)
    ax1, ay1 = a.max(axis=0)
    bx0, by0 = b.min(axis=0)
    bx1, by1 = b.max(axis=0)
    if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:
        return False
    scale = max(ax1 - ax0, ay1 - ay0, bx1 - bx0, by1 - by0)
    tol = 1e-12 * scale**2
    for i in range(len(a)):
        for j in range(len(b)):
            if _segments_intersect(a[i], a[(i + 1) % len(a)], b[j], b[(j + 1) % len(b)], tol,
                                   proper_only=True):
                return True
    # no proper crossing: overlap iff an interior point of one lies inside the other
    for p, q in ((a, b), (b, a)):
        probe = _interior_point(p)
        if _points_in_polygon(probe[0], probe[1], q):
            return True
    return False


def _interior_point(v: np.ndarray) -> np.ndarray:
    """A point strictly inside a simple counter-clockwise polygon (ear of a convex vertex)."""
    n = len(v)
    for i in range(n):
        prev, cur, nxt = v[i - 1], v[i], v[(i + 1) % n]
        if _cross(prev, cur, nxt) > 0:          # convex vertex
            for t in (1e-3, 1e-6):
                c = cur + t * ((prev - cur) + (nxt - cur))
                if _points_in_polygon(c[0], c[1], v):
                    return c
    return v.mean(axis=0)


class Layout:
    """A set of non-overlapping surface gates.

    Parameters
    ----------
    gates : iterable of Gate
        The gates; names must be unique.

    Raises
    ------
    ValueError
        No gates, a non-Gate entry, duplicate names, or gates that overlap.
    """

    def __init__(self, gates: Iterable[Gate]):
        try:
            gates = list(gates)
        except TypeError:       # (a TypeError from list() before)
            raise ValueError(f"gates={gates!r} is not allowed: give a list of Gate") from None
        if not gates:
            raise ValueError("gates=[] is not allowed: a layout needs at least one Gate")
        for g in gates:
            if not isinstance(g, Gate):
                raise ValueError(f"gates entry {g!r} is not allowed: each must be a "
                                 "qpcsim.electrostatics.Gate")
        names = [g.name for g in gates]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"gate names {dup} appear more than once: each gate needs its own name")
        for i in range(len(gates)):
            for j in range(i + 1, len(gates)):
                for pa in gates[i].polygons:
                    for pb in gates[j].polygons:
                        if _polygons_overlap(pa, pb):
                            raise ValueError(
                                f"gates {gates[i].name!r} and {gates[j].name!r} overlap: gates "
                                "at different voltages must not share area")
        self.gates = tuple(gates)

    @property
    def names(self) -> tuple[str, ...]:
        """Gate names, in layout order."""
        return tuple(g.name for g in self.gates)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Voltage parameters ``V_<name>`` (V), in layout order."""
        return tuple(g.parameter for g in self.gates)

    def __getitem__(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise KeyError(f"no gate named {name!r}; gates are: {', '.join(self.names)}")

    def __iter__(self):
        return iter(self.gates)

    def __len__(self):
        return len(self.gates)

    def bounds_nm(self) -> tuple[float, float, float, float]:
        """Bounding box of all gates ``(x0, x1, y0, y1)`` (nm)."""
        b = np.array([g.bounds_nm() for g in self.gates])
        return (float(b[:, 0].min()), float(b[:, 1].max()), float(b[:, 2].min()),
                float(b[:, 3].max()))

    def check_voltages(self, voltages: Mapping[str, float] | None) -> dict[str, float]:
        """``{gate name: V}`` for every gate (missing ones at 0 V); unknown names refused.

        Accepts keys ``left`` or ``V_left``. Voltages in V.
        """
        out = {n: 0.0 for n in self.names}
        if voltages is not None and not isinstance(voltages, Mapping):   # (solve(-0.5))
            raise ValueError(f"voltages={voltages!r} is not allowed: give {{gate name: V}}, "
                             f"gates: {', '.join(self.names)}")
        for key, value in dict(voltages or {}).items():
            name = key[2:] if isinstance(key, str) and key.startswith("V_") and \
                key[2:] in out else key
            if name not in out:
                raise ValueError(f"voltages has unknown gate {key!r}; gates are: "
                                 + ", ".join(self.names))
            try:
                v = float(value)
            except (TypeError, ValueError):
                v = float("nan")
            if not np.isfinite(v):
                raise ValueError(f"voltages[{key!r}]={value!r} is not allowed: it must be a "
                                 "finite number of volts")
            out[name] = v
        return out

    def __eq__(self, other):
        return isinstance(other, Layout) and self.gates == other.gates

    def __hash__(self):
        return hash(self.gates)

    def __repr__(self):
        return f"Layout({', '.join(self.names)})"

    # ------------------------------------------------------------------ GDSII
    @classmethod
    def from_gds(cls, path, layers: Mapping, cell: str | None = None,
                 unit_nm: float | None = None) -> Layout:
        """Read a layout from a GDSII file with ``gdstk``.

        Parameters
        ----------
        path : str or Path
            The ``.gds`` file.
        layers : mapping
            ``{layer: gate name}``, e.g. ``{1: "left", 2: "right"}``; a key may also
            be ``(layer, datatype)``. All polygons (and paths) of a layer form one gate.
        cell : str, optional
            Cell to read; default: the file's only top-level cell.
        unit_nm : float, optional
            Size of one GDS user unit in nm; default: the file's own unit
            (e.g. 1000 for the usual micrometre user unit).

        Returns
        -------
        Layout

        Raises
        ------
        ValueError
            Missing file, no such cell (the cells are listed), ambiguous top cell,
            a named layer with no polygons (the layers present are listed), bad polygons.
        """
        import gdstk

        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"path={path!r} is not allowed: give the GDS file's path")
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"path={str(path)!r} is not allowed: no such GDS file")
        if not isinstance(layers, Mapping) or not layers:
            raise ValueError(f"layers={layers!r} is not allowed: give a non-empty mapping "
                             "{layer number: gate name}, e.g. {1: 'left', 2: 'right'}")
        try:
            lib = gdstk.read_gds(str(path))
        except Exception as exc:   # gdstk raises a bare RuntimeError/OSError on bad files
            raise ValueError(f"path={str(path)!r} could not be read as GDSII: {exc}") from None
        if unit_nm is None:
            unit_nm = lib.unit * 1e9
        unit_nm = float(unit_nm)
        if not (np.isfinite(unit_nm) and unit_nm > 0):
            raise ValueError(f"unit_nm={unit_nm!r} is not allowed: it must be > 0 (nm per GDS "
                             "user unit)")
        cells = {c.name: c for c in lib.cells}
        if cell is None:
            top = lib.top_level()
            if len(top) != 1:
                raise ValueError(f"cell=None is ambiguous in {path.name}: it has {len(top)} "
                                 "top-level cells (" + ", ".join(c.name for c in top)
                                 + "); name one with cell=")
            chosen = top[0]
        elif cell in cells:
            chosen = cells[cell]
        else:
            raise ValueError(f"cell={cell!r} is not in {path.name}; its cells are: "
                             + (", ".join(sorted(cells)) or "(none)"))
        polys = chosen.get_polygons(include_paths=True)
        present = sorted({(p.layer, p.datatype) for p in polys})
        gates = []
        for key in layers:
            pair = isinstance(key, tuple) and len(key) == 2 and all(
                isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in key)
            single = isinstance(key, (int, np.integer)) and not isinstance(key, bool)
            if not (pair or single):
                raise ValueError(f"layers key {key!r} is not allowed: use a GDS layer number "
                                 "(int) or a (layer, datatype) pair of ints")
        for key, name in layers.items():
            if isinstance(key, tuple):
                layer, datatype = int(key[0]), int(key[1])
                sel = [p for p in polys if p.layer == layer and p.datatype == datatype]
            else:
                layer, datatype = int(key), None
                sel = [p for p in polys if p.layer == layer]
            if not sel:
                shown = ", ".join(f"{la}/{dt}" for la, dt in present) or "(none)"
                raise ValueError(
                    f"layers: layer {key!r} (gate {name!r}) has no polygons in cell "
                    f"{chosen.name!r} of {path.name}; layer/datatype present: {shown}")
            gates.append(Gate(str(name), [np.asarray(p.points) * unit_nm for p in sel]))
        return cls(gates)
