"""Sweep results: an xarray Dataset, assembled from the observables table."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shlex
import sys
import tempfile
from pathlib import Path

import kwant
import numpy as np
import scipy

from .._version import __version__
from ..geometry import geometry_source
from ..observables import OBSERVABLES, from_records
from ..serialize import jsonable
from ..validate import file_path
from .result_data import ResultData
from .spec import parameter_units

__all__ = ["SweepResult", "load_result", "assemble_result", "assemble_data", "atomic_write",
           "result_hash",
           "save_dataset", "data_checksum", "check_result_data",
           "run_metadata"]

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def atomic_write(path, write, what: str = "out"):
    """Write a file atomically: ``write(tmp_path)`` into a temporary file in the
    same directory (keeping the suffix, so format-from-suffix writers work), then
    fsync it, rename it over ``path`` and fsync the directory. A crash leaves the
    old file or the new one, never half of one. Only regular files are written.
    """
    path = file_path(what, path)
    if path.exists() and not path.is_file():
        raise ValueError(f"{what}={str(path)!r} is not a regular file (a directory or device); "
                         "give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                   dir=path.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())   # the mode any new file gets, not mkstemp's 0600
    except OSError as exc:
        raise ValueError(f"{what}={str(path)!r} cannot be written: {exc.strerror or exc}") from None
    try:
        try:
            write(tmp)
        except OSError:
            raise
        except Exception as exc:   # noqa: BLE001 - h5py wraps ENOSPC and EROFS in its own kinds
            errno_ = _errno_in(exc)
            if errno_ is None:
                raise
            raise OSError(errno_, os.strerror(errno_)) from None
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise ValueError(f"{what}={str(path)!r} cannot be written: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _errno_in(exc: BaseException) -> int | None:
    """The OS error behind an exception a writer library wrapped (disk full,
    read-only), or None."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        text = str(exc)
        for code, words in ((errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only file"),
                            (errno.EACCES, "Permission denied"), (errno.EDQUOT, "quota")):
            if words in text:
                return code
        exc = exc.__cause__ or exc.__context__
    return None


#: Attribute holding the SHA-256 of a saved result's variables and coordinates.
CHECKSUM_ATTR = "data_checksum"


def data_checksum(data) -> str:
    """SHA-256 of every data variable and coordinate of ``data`` (an
    :class:`xarray.Dataset`): name, dtype, dimensions and values (NaNs in one
    canonical form), in name order. Stored as the attribute ``data_checksum``
    by :func:`save_dataset` and checked by :func:`load_result`."""
    digest = hashlib.sha256()
    for name in sorted(map(str, data.variables)):
        var = data.variables[name]
        values = np.asarray(var.values)
        digest.update(f"{name}|{values.dtype.kind}|{var.dims}|{values.shape};".encode())
        if values.dtype.kind in "fc":
            values = np.where(np.isnan(values), np.nan, values).astype(
                np.complex128 if values.dtype.kind == "c" else np.float64)
            digest.update(np.ascontiguousarray(values).tobytes())
        elif values.dtype.kind in "biu":
            digest.update(np.ascontiguousarray(values.astype(np.int64)).tobytes())
        else:
            digest.update(repr(values.tolist()).encode())
    return digest.hexdigest()


def save_dataset(data, path, what: str = "out") -> Path:
    """Write a Dataset (or the :class:`~.result_data.ResultData` it is built from) as
    NetCDF-4 (h5netcdf) atomically, with its ``data_checksum`` attribute (the one saver
    of sweeps, series, bias maps)."""
    data.attrs[CHECKSUM_ATTR] = data_checksum(data)
    return atomic_write(path, lambda tmp: _write_netcdf(data, tmp), what)


def _write_netcdf(data, path) -> None:
    """``data.to_netcdf(path, engine="h5netcdf")``, the same file, without the detour
    that cost a CLI sweep 0.3-0.7 s: ``to_netcdf`` asks Dask which scheduler is active,
    importing dask.distributed to learn that none is, when the variables are NumPy
    arrays (never chunked: nothing to schedule). qpcsim's results (float and integer
    arrays) are written by h5netcdf directly (:meth:`ResultData.write_netcdf`); other
    NumPy Datasets by xarray's own store, under its HDF5 lock (the one lock it takes
    when no Dask scheduler runs; the file is ours)."""
    if isinstance(data, ResultData) and not data.directly_writable():
        data = data.to_dataset()          # xarray's writer, and its one-line refusals
    direct = data if isinstance(data, ResultData) else ResultData.from_dataset(data)
    if direct is not None:
        direct.write_netcdf(path)
        return
    if any(var.chunks is not None for var in data.variables.values()):
        data.to_netcdf(path, engine="h5netcdf")   # Dask arrays (a user's): xarray's full path
        return
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK

    store = H5NetCDFStore.open(path, mode="w", lock=HDF5_LOCK)
    try:
        data.dump_to_store(store)
    finally:
        store.close()


def check_result_data(data, what: str) -> None:
    """Refuse a loaded result whose ``data_checksum`` does not match its values
    (damaged or edited after it was written), or whose values break physical
    bounds: 0 <= G <= open modes (per lead, the fewer), unitarity error <= 1e-6."""
    stored = data.attrs.get(CHECKSUM_ATTR)
    if stored is not None:
        actual = data_checksum(data)
        if str(stored) != actual:
            raise ValueError(f"{what} fails its checksum ({CHECKSUM_ATTR} {str(stored)[:12]} "
                             f"!= {actual[:12]} of its values): it was damaged or edited after "
                             "it was written; rerun the sweep (its store resumes it)")
    if "conductance" in data:
        g = np.asarray(data["conductance"].values, dtype=float)
        if np.any(g < -1e-9):
            raise ValueError(f"{what} holds a negative conductance G = {np.nanmin(g):.6g} G0: "
                             "not a physical result (damaged or edited)")
        if "open_modes" in data:
            modes = data["open_modes"]
            if "lead" in modes.dims:
                modes = modes.min("lead")
            excess = (data["conductance"] - modes).values
            if np.any(excess > 1e-6):
                k = int(np.nanargmax(excess))
                raise ValueError(
                    f"{what} holds G = {np.ravel(g)[k]:.6g} G0 above its "
                    f"{np.ravel(modes.broadcast_like(data['conductance']).values)[k]:g} open "
                    "modes: not a physical result (damaged or edited)")
    if "unitarity_error" in data:
        err = np.asarray(data["unitarity_error"].values, dtype=float)
        if np.any(err > 1e-6):
            raise ValueError(f"{what} records a unitarity error {np.nanmax(err):.3g} > 1e-6: "
                             "not a physical result (damaged or edited)")


def result_hash(path) -> str | None:
    """The ``store_hash`` of a qpcsim result file at ``path`` (which sweep wrote
    it), or None if it is not a readable qpcsim result."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            if fh.read(8) != _HDF5_MAGIC:
                return None
        import h5py
        with h5py.File(path, "r") as fh:
            value = fh.attrs.get("store_hash")
            if value is None or "conductance" not in fh:
                return None
            return value.decode() if isinstance(value, bytes) else str(value)
    except Exception:   # noqa: BLE001 - anything unreadable is "not a qpcsim result"
        return None


class SweepResult:
    """Labelled sweep data: ``.data`` is an :class:`xarray.Dataset`.

    Variables: ``conductance`` (G0), ``transmission_eigenvalues`` (per channel,
    NaN-padded), ``open_modes`` (per lead), ``unitarity_error``; the swept
    parameters are coordinates; metadata are attributes, enough to rerun the
    sweep: the full resolved ``make_device`` arguments
    (``make_device_parameters``), every runtime parameter
    (``device_parameters``), the sweep's description (``sweep_spec``: axes,
    energy, temperature, fixed values, sampling), the geometry's source text
    and its SHA-256, the qpcsim/Kwant/NumPy/SciPy/Python versions, and the
    command line (``command``). :meth:`fixed_parameters` lists what was held
    fixed, for titles and captions. (``qpcsim sweep`` wraps the
    :class:`~.result_data.ResultData` the Dataset is built from, to save it without
    importing xarray.)
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

    def fixed_parameters(self) -> dict:
        """Everything held fixed in this sweep -> ``(value, unit)``: the energy,
        temperature and every device parameter that is not swept (runtime and
        structural), in the units of ``units``; for titles and captions."""
        attrs = self.data.attrs
        swept = set(self.swept)
        units = json.loads(attrs.get("units", "{}"))
        out = {}
        energy = float(attrs.get("energy_meV", float("nan")))
        if "energy" not in swept and np.isfinite(energy):
            out["E"] = (energy, "meV")
        if "temperature" not in swept and "temperature" not in self.data.dims:
            out["T"] = (float(attrs.get("temperature_K", 0.0)), "K")   # not a series axis
        params = {**json.loads(attrs.get("make_device_parameters", "{}")),
                  **json.loads(attrs.get("device_parameters", "{}"))}
        runtime = json.loads(attrs.get("device_parameters", "{}"))
        for k, v in sorted(params.items(), key=lambda kv: kv[0] not in runtime):
            if k not in swept and isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = (v, units.get(k, ""))
        return out

    def caption(self) -> str:
        """One line with every fixed parameter and its unit, e.g.
        ``E = 8 meV, T = 0 K, B = 0 T, lever_arm = 0.1, gap = 200 nm``."""
        return ", ".join(f"{k} = {v:.4g}" + (f" {u}" if u else "")
                         for k, (v, u) in self.fixed_parameters().items())

    def save(self, path) -> Path:
        """Write NetCDF-4 (HDF5) that plain ``xarray.open_dataset`` reads, atomically
        (temporary file in the same directory, fsync, rename): a crash leaves the
        previous file or the new one, never a truncated one."""
        return save_dataset(self.data, path, "path")

    def __repr__(self):
        return f"SweepResult\n{self.data!r}"


def load_result(path) -> SweepResult:
    """Read a result written by :meth:`SweepResult.save`.

    Raises a one-line ValueError for a missing, foreign (not NetCDF-4/HDF5, or
    not a qpcsim sweep) or damaged (truncated) file.
    """
    import xarray as xr
    path = file_path("result", path)
    if not path.is_file():
        raise ValueError(f"result={str(path)!r} does not exist" if not path.exists() else
                         f"result={str(path)!r} is not a regular file")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic != _HDF5_MAGIC:
        raise ValueError(f"result={str(path)!r} is not a qpcsim result (not a NetCDF-4/HDF5 "
                         "file); give a file written by `qpcsim sweep --out`")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            data = ds.load()
    except Exception as exc:   # noqa: BLE001 - h5py/xarray raise many kinds for a bad file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"result={str(path)!r} is damaged or truncated ({first}); rerun the "
                         "sweep (its store resumes it)") from None
    if "conductance" not in data or "swept" not in data.attrs:
        raise ValueError(f"result={str(path)!r} is a NetCDF file but not a qpcsim sweep result "
                         "(no conductance variable or 'swept' attribute)")
    check_result_data(data, f"result={str(path)!r}")
    return SweepResult(data)


def assemble_result(spec, grid, results, executor_name: str,
                    adaptive_info: dict | None = None) -> SweepResult:
    """The Dataset of a finished sweep (:func:`assemble_data`, as an xarray Dataset)."""
    return SweepResult(assemble_data(spec, grid, results, executor_name,
                                   adaptive_info).to_dataset())


def assemble_data(spec, grid, results, executor_name: str,
                adaptive_info: dict | None = None) -> ResultData:
    """The description of a finished sweep: one variable per observable (with its
    unit and long name), the swept names as coordinates, metadata as attributes.
    ``adaptive_info`` (from the adaptive loop) records whether the tolerance was
    reached or ``max_points`` stopped it (attributes ``adaptive_converged``,
    ``adaptive_error_estimate``, and the ``sampling`` text)."""
    device, names, axes = spec.device, spec.names, spec.axes
    dim_names = spec.dim_names
    if spec.gridded:
        shape = tuple(len(axes[n]) for n in names)
        dims = tuple(dim_names)
        coords = {d: ((d,), axes[n], {"units": spec.unit(n)})
                  for d, n in zip(dim_names, names)}
    else:
        shape = (len(grid),)
        dims = ("point",) if len(names) == 2 else (dim_names[0],)
        pts = np.array(grid, dtype=float)
        coords = {d: (dims, pts[:, k], {"units": spec.unit(n)})
                  for k, (d, n) in enumerate(zip(dim_names, names))}
    arrays = from_records(results, shape)
    variables = {entry.name: (dims + entry.dims, arrays[entry.name],
                              {"units": entry.unit, "long_name": entry.long_name})
                 for entry in OBSERVABLES}
    solvers = sorted({r["solver"] for r in results})
    data = ResultData(variables, coords, {
        "title": f"qpcsim sweep of {device.name}",
        "swept": json.dumps(dim_names),
        **run_metadata(spec),
        "solver": ",".join(solvers),
        "executor": executor_name,
        "sampling": "uniform" if spec.gridded else
        f"adaptive(tolerance={spec.adaptive} G0, batch={spec.adaptive_batch}"
        + ("" if adaptive_info is None or adaptive_info["converged"] else
           f"; STOPPED at max_points={adaptive_info['max_points']} before the tolerance, "
           f"estimated error {adaptive_info['error_estimate']:.3g} G0") + ")",
    })
    if adaptive_info is not None:
        data.attrs["adaptive_converged"] = int(bool(adaptive_info["converged"]))
        data.attrs["adaptive_error_estimate"] = float(adaptive_info["error_estimate"])
        data.attrs["max_points"] = int(adaptive_info["max_points"])
    data.attrs["title"] = f"{device.name}: {SweepResult(data).caption()}"
    return data


def run_metadata(spec, header: dict | None = None) -> dict:
    """Provenance attributes of a run of ``spec`` (a :class:`~.spec.SweepSpec`): the
    geometry (name, file, source text and SHA-256), every resolved ``make_device``
    argument and runtime parameter, units, energy and temperature, the sweep's
    description, the versions, the command line and ``store_hash`` (the content
    hash of ``header``, default ``spec.header()``: what ``qpcsim sweep --out``
    compares before replacing a result). Shared by sweeps and temperature series.

    Returns
    -------
    dict
        NetCDF-ready attributes (strings and numbers).
    """
    device = spec.device
    meta = device.metadata
    header = spec.header() if header is None else header
    resolved = spec.resolved_parameters()
    make_device = {k: v for k, v in resolved.items()
                   if k in (meta.get("make_device") or {}) or k in spec.structural_fixed
                   or k in (meta.get("geometry_params") or {})}
    source, source_sha = _geometry_source(meta)
    return {
        "geometry": str(meta.get("geometry", device.name)),
        "geometry_file": str(meta.get("geometry_file", "")),
        "geometry_params": json.dumps(jsonable(meta.get("geometry_params", {}))),
        "device_parameters": json.dumps(jsonable({**device.defaults, **spec.fixed})),
        "device_fingerprint": device.fingerprint(),
        "energy_meV": float("nan") if spec.energy is None else float(spec.energy),
        "temperature_K": float(spec.temperature),
        "units": json.dumps({"energy": "meV", "temperature": "K", "conductance": "G0",
                             **parameter_units(device)}),
        "seed": json.dumps(spec.seed_values()),
        "qpcsim_version": __version__,
        "kwant_version": kwant.__version__,
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "make_device_parameters": json.dumps(jsonable(make_device)),
        "structural_swept": json.dumps(spec.structural_names),
        "structural_rebuilds": int(spec.rebuilds),
        "sweep_spec": json.dumps(jsonable(header["sweep"])),
        "geometry_source": source,
        "geometry_sha256": source_sha,
        "command": shlex.join(sys.argv),
        "store_hash": header["hash"],
        "lattice_constant_nm": device.a,
        # the geometry's documented a^2 estimate (qpcsim.lattice_error_estimate measures one)
        "lattice_error_estimate": json.dumps(jsonable(meta.get(
            "lattice_error_estimate", "not estimated: measure with qpcsim.lattice_error_estimate"))),
        "hopping_meV": device.t,
    }


def _geometry_source(meta) -> tuple[str, str]:
    """The geometry file's text and its SHA-256 (empty for a device not loaded
    from a file): the text that was loaded and hashed (kept in memory by
    :mod:`qpcsim.geometry`), whatever the file on disk holds now."""
    path = meta.get("geometry_file")
    if not path:
        return "", ""
    loaded_sha = str(meta.get("geometry_sha256", ""))
    raw = geometry_source(loaded_sha)
    if raw is None:
        return "(geometry source not available in this process)", loaded_sha
    return raw.decode("utf-8", errors="replace"), loaded_sha
