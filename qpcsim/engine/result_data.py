"""A result's one description, before xarray: NumPy arrays with their dimensions and
attributes, and the result's attributes.

Both faces of a result are built from it, so they cannot drift apart:
:meth:`ResultData.to_dataset` gives the :class:`xarray.Dataset` of the Python API, and
:meth:`ResultData.write_netcdf` writes the NetCDF-4 file through h5netcdf's own API, the
bytes that ``Dataset.to_netcdf(engine="h5netcdf")`` writes (tests/test_result_data.py),
without importing xarray, pandas or the Dask that xarray probes (0.4 s of a CLI sweep's
fixed cost). Only what qpcsim's results hold is written directly: float and integer
arrays, string and numeric attributes; :meth:`ResultData.from_dataset` returns None for
anything else, and the caller keeps xarray's own writer.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Number

import numpy as np

__all__ = ["ResultData", "Column"]

#: dtypes written directly (what qpcsim's results hold); xarray's CF encoding leaves these
#: arrays as they are, adding only a NaN ``_FillValue`` to floats (``DefaultFillvalueCoder``).
_DIRECT_DTYPES = (np.dtype(np.float64), np.dtype(np.int64))


@dataclass
class Column:
    """One variable or coordinate: ``dims`` (names), ``values`` (a NumPy array), ``attrs``."""

    dims: tuple
    values: np.ndarray
    attrs: dict = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        return self.values.ndim

    @property
    def size(self) -> int:
        return int(self.values.size)


def _column(name: str, spec) -> Column:
    """A :class:`Column` from xarray's forms: ``(dims, values[, attrs])``, or bare values
    of a dimension coordinate named ``name``."""
    if isinstance(spec, tuple):
        dims, values, *attrs = spec
        dims = (dims,) if isinstance(dims, str) else tuple(dims)
        column = Column(dims, np.asarray(values), dict(attrs[0]) if attrs else {})
    else:
        column = Column((name,), np.asarray(spec), {})
    if column.values.ndim != len(column.dims):
        raise ValueError(f"{name!r}: dims {column.dims} do not match its "
                         f"{column.values.ndim}-D values")
    return column


class ResultData:
    """Data variables and coordinates (name -> :class:`Column`, in the order an
    ``xarray.Dataset(data_vars, coords=coords)`` holds them) and the result's ``attrs``.

    Parameters
    ----------
    data_vars, coords : mapping
        name -> ``(dims, values, attrs)`` (or a dimension coordinate's bare values), as for
        :class:`xarray.Dataset`.
    attrs : mapping, optional
        The result's attributes (strings and numbers).

    Reads like a Dataset where the CLI's summaries read one: ``data[name]`` (``dims``,
    ``values``, ``attrs``, ``ndim``, ``size``), ``name in data``, ``data.sizes``,
    ``data.dims``, ``data.variables``, ``data.attrs``.
    """

    def __init__(self, data_vars: Mapping, coords: Mapping | None = None,
                 attrs: Mapping | None = None):
        for what, given in (("data_vars", data_vars), ("coords", coords or {})):
            if not isinstance(given, Mapping):
                raise ValueError(f"{what}={given!r:.60} is not allowed: give a mapping of names "
                                 "to (dims, values[, attrs])")
        self.data_vars = {name: _column(name, spec) for name, spec in data_vars.items()}
        self.coords = {name: _column(name, spec) for name, spec in (coords or {}).items()}
        self.attrs = dict(attrs or {})
        self._order = [*self.data_vars, *self.coords]   # a Dataset's order, built so

    # ------------------------------------------------------------ reading
    @property
    def variables(self) -> dict:
        """Every column, in the Dataset's order (the file's)."""
        columns = {**self.data_vars, **self.coords}
        return {name: columns[name] for name in self._order}

    @property
    def sizes(self) -> dict:
        """Dimension name -> length, in order of first use."""
        sizes: dict = {}
        for col in self.variables.values():
            for dim, n in zip(col.dims, col.values.shape):
                sizes.setdefault(dim, n)
        return sizes

    dims = sizes

    def __getitem__(self, name: str) -> Column:
        return self.variables[name]

    def __contains__(self, name) -> bool:
        return name in self.data_vars or name in self.coords

    # ------------------------------------------------------------ the two faces
    def to_dataset(self):
        """The :class:`xarray.Dataset` (the Python API's result)."""
        import xarray as xr

        def spec(cols):
            return {n: (c.dims, c.values, dict(c.attrs)) for n, c in cols.items()}
        data = xr.Dataset(spec(self.data_vars), coords=spec(self.coords))
        data.attrs.update(self.attrs)
        return data

    @classmethod
    def from_dataset(cls, data) -> ResultData | None:
        """The description of a Dataset of NumPy arrays, or None where the direct writer
        does not apply (Dask arrays, other dtypes or attributes, encodings set)."""
        cols = {}
        for name, var in data.variables.items():
            if var.chunks is not None or var.encoding or not isinstance(name, str):
                return None
            cols[name] = (var.dims, var.values, dict(var.attrs))
        out = cls({n: cols[n] for n in data.data_vars}, {n: cols[n] for n in data.coords},
                  data.attrs)
        out._order = list(cols)   # variables added later follow the coordinates
        return out if out.directly_writable() else None

    def directly_writable(self) -> bool:
        """Whether :meth:`write_netcdf` writes this as xarray would (else use xarray)."""
        def plain(attrs):
            return all(isinstance(v, (str, Number)) and not isinstance(v, (bool, complex))
                       for v in attrs.values())
        # a coordinate on no variable would go to a global "coordinates" attribute, one
        # with a space in its name would be written as a data variable
        attached = all(" " not in n and any(set(c.dims) <= set(v.dims)
                                            for v in self.data_vars.values())
                       for n, c in self._non_dim_coords().items())
        names = [*self.variables, *self.sizes]   # "/" would make groups, xarray refuses it
        return attached and plain(self.attrs) and not any("/" in n for n in names) and all(
            c.values.dtype in _DIRECT_DTYPES and plain(c.attrs)
            and "coordinates" not in c.attrs and "_FillValue" not in c.attrs
            for c in self.variables.values())

    def write_netcdf(self, path) -> None:
        """Write NetCDF-4 through h5netcdf, in xarray's order of calls (``dump_to_store``:
        attributes, dimensions, then each variable created, given its attributes and
        written): the bytes ``to_netcdf(path, engine="h5netcdf")`` writes."""
        import h5netcdf

        variables = self.variables
        with h5netcdf.File(path, "w", invalid_netcdf=None, decode_vlen_strings=True,
                           driver=None, format="NETCDF4") as store:
            for key, value in self.attrs.items():
                store.attrs[key] = value
            for dim, n in self.sizes.items():
                store.dimensions[dim] = n
            for name, col in variables.items():
                fill = np.nan if col.values.dtype.kind == "f" else None   # xarray's default
                var = store.create_variable(name, dimensions=col.dims, dtype=col.values.dtype,
                                            fillvalue=fill)
                for key, value in self._encoded_attrs(name, col).items():
                    var.attrs[key] = value
                var[...] = col.values

    def _non_dim_coords(self) -> dict:
        return {n: c for n, c in self.coords.items() if c.dims != (n,)}

    def _encoded_attrs(self, name: str, col: Column) -> dict:
        """``col.attrs`` plus CF's ``coordinates`` on a data variable: the non-dimension
        coordinates over a subset of its dimensions, sorted (xarray's
        ``_encode_coordinates``)."""
        if name in self.coords:
            return col.attrs
        attached = sorted(n for n, c in self._non_dim_coords().items()
                          if set(c.dims) <= set(col.dims))
        return {**col.attrs, "coordinates": " ".join(attached)} if attached else col.attrs
