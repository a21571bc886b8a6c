"""Sweep results: an xarray Dataset, assembled from the observables table."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._version import __version__
from ..observables import OBSERVABLES, from_records
from ..serialize import jsonable

__all__ = ["SweepResult", "load_result", "assemble_result"]


class SweepResult:
    """Labelled sweep data: ``.data`` is an :class:`xarray.Dataset`.

    Variables: ``conductance`` (G0), ``transmission_eigenvalues`` (per channel,
    NaN-padded), ``open_modes`` (per lead), ``unitarity_error``; the swept
    parameters are coordinates; metadata (geometry and its parameters, versions,
    solver, temperature, units, seed) are attributes.
    """

    def __init__(self, data):
        self.data = data

    def __getitem__(self, key):
        return self.data[key]

    @property
    def conductance(self):
        return self.data["conductance"]

    @property
    def swept(self) -> list[str]:
        return json.loads(self.data.attrs["swept"])

    @property
    def attrs(self) -> dict:
        return self.data.attrs

    def save(self, path) -> Path:
        """Write NetCDF-4 (HDF5) that plain ``xarray.open_dataset`` reads."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            self.data.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, path)
        except OSError as exc:
            raise ValueError(f"out={str(path)!r} cannot be written: {exc.strerror or exc}") from None
        return path

    def __repr__(self):
        return f"SweepResult\n{self.data!r}"


def load_result(path) -> SweepResult:
    """Read a result written by :meth:`SweepResult.save`."""
    import xarray as xr
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"result={str(path)!r} does not exist")
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return SweepResult(ds.load())


def assemble_result(spec, grid, results, executor_name: str) -> SweepResult:
    """The Dataset of a finished sweep: one variable per observable (with its
    unit and long name), the swept names as coordinates, metadata as attributes."""
    import kwant
    import xarray as xr

    device, names, axes = spec.device, spec.names, spec.axes
    dim_names = spec.dim_names
    if spec.gridded:
        shape = tuple(len(axes[n]) for n in names)
        dims = tuple(dim_names)
        coords = {d: axes[n] for d, n in zip(dim_names, names)}
    else:
        shape = (len(grid),)
        dims = ("point",) if len(names) == 2 else (dim_names[0],)
        pts = np.array(grid, dtype=float)
        coords = ({dim_names[0]: pts[:, 0]} if len(names) == 1 else
                  {d: ("point", pts[:, k]) for k, d in enumerate(dim_names)})
    arrays = from_records(results, shape)
    variables = {entry.name: (dims + entry.dims, arrays[entry.name],
                              {"units": entry.unit, "long_name": entry.long_name})
                 for entry in OBSERVABLES}
    data = xr.Dataset(variables, coords=coords)
    for d, n in zip(dim_names, names):
        data[d].attrs["units"] = spec.unit(n)
    meta = device.metadata
    header = spec.header()
    solvers = sorted({r["solver"] for r in results})
    data.attrs.update({
        "title": f"qpcsim sweep of {device.name}",
        "swept": json.dumps(dim_names),
        "geometry": str(meta.get("geometry", device.name)),
        "geometry_file": str(meta.get("geometry_file", "")),
        "geometry_params": json.dumps(jsonable(meta.get("geometry_params", {}))),
        "device_parameters": json.dumps(jsonable({**device.defaults, **spec.fixed})),
        "device_fingerprint": device.fingerprint(),
        "energy_meV": float("nan") if spec.energy is None else float(spec.energy),
        "temperature_K": float(spec.temperature),
        "units": json.dumps({**{"energy": "meV", "conductance": "G0"}, **device.units}),
        "seed": json.dumps(spec.seed_values()),
        "solver": ",".join(solvers),
        "executor": executor_name,
        "sampling": "uniform" if spec.gridded else
        f"adaptive(tolerance={spec.adaptive} G0, batch={spec.adaptive_batch})",
        "qpcsim_version": __version__,
        "kwant_version": kwant.__version__,
        "store_hash": header["hash"],
        "lattice_constant_nm": device.a,
        # the geometry's documented a^2 estimate (qpcsim.lattice_error_estimate measures one)
        "lattice_error_estimate": json.dumps(jsonable(meta.get(
            "lattice_error_estimate", "not estimated: measure with qpcsim.lattice_error_estimate"))),
        "hopping_meV": device.t,
    })
    return SweepResult(data)
