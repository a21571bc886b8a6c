"""Which BLAS/LAPACK each solver back end runs on.

Three libraries matter, and they are usually different files:

* **MUMPS** (Kwant's sparse solver, the ``mumps`` back end and ``kwant.smatrix``)
  links the system's ``libblas.so.3``/``liblapack.so.3``. On Debian these resolve
  through the alternatives system to the reference (netlib) BLAS, about 2x slower
  for MUMPS, or to OpenBLAS, which ``scripts/setup_env.sh`` installs and selects.
* **NumPy** and **SciPy** wheels bundle their own OpenBLAS (``numpy.libs``,
  ``scipy.libs``). The RGF back end's block inversions call SciPy's LAPACK;
  the dense Schur solve of the ``mumps`` back end as well.

:func:`blas_report` finds them in the running process: it imports Kwant's MUMPS
module (if Kwant has it), reads the shared objects mapped into the process from
``/proc/self/maps`` and asks threadpoolctl for the version and threading of the
ones it knows. Nothing here raises: a library that cannot be found is reported
as ``None``/"not found" and everything keeps working.
"""
from __future__ import annotations

import importlib
import os

# Basename prefixes of BLAS/LAPACK implementations (shared objects).
_BLAS_PREFIXES = ("libblas.so", "liblapack.so", "libopenblas", "libmkl_rt", "libblis",
                  "libatlas", "libtatlas", "libsatlas", "libflexiblas", "libcblas.so",
                  "libarmpl", "libessl")


def _mapped_libraries(maps_path: str = "/proc/self/maps") -> list:
    """Paths of the shared objects mapped into this process (empty where unknown)."""
    try:
        with open(maps_path) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    paths = []
    for line in lines:
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/") and ".so" in parts[5]:
            if parts[5] not in paths:
                paths.append(parts[5])
    return paths


def _threadpool_libraries() -> list:
    """threadpoolctl's view of the BLAS libraries loaded now (empty if unavailable)."""
    try:
        from threadpoolctl import threadpool_info
        return [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:    # noqa: BLE001 - a report must never break the caller
        return []


def classify(path: str) -> str:
    """Implementation a BLAS/LAPACK shared object belongs to, from its path."""
    real = os.path.realpath(path)
    low = real.lower()
    name = os.path.basename(low)
    if "openblas" in low:
        return "OpenBLAS"
    if "mkl" in name:
        return "Intel MKL"
    if "blis" in low:
        return "BLIS"
    if "atlas" in low:
        return "ATLAS"
    if "flexiblas" in low:
        return "FlexiBLAS"
    if name.startswith(("libblas.so", "liblapack.so", "libcblas.so")):
        return "reference BLAS/LAPACK (netlib)"
    return "unknown"


def _describe(path, tp_libs) -> dict | None:
    """Report entry of one library path, completed from threadpoolctl where it knows it."""
    if path is None:
        return None
    real = os.path.realpath(path)
    entry = dict(implementation=classify(real), path=real, version=None,
                 threading=None, threads=None, architecture=None)
    for info in tp_libs:
        if os.path.realpath(info.get("filepath", "")) == real:
            entry.update(
                implementation={"openblas": "OpenBLAS", "mkl": "Intel MKL", "blis": "BLIS",
                                "flexiblas": "FlexiBLAS"}.get(info.get("internal_api"),
                                                              entry["implementation"]),
                version=info.get("version"), threading=info.get("threading_layer"),
                threads=info.get("num_threads"), architecture=info.get("architecture"))
            break
    return entry


def _mumps_libraries(mapped: list, wheel_dirs: tuple) -> tuple:
    """The system BLAS and LAPACK that MUMPS resolved (outside the wheels' own copies).

    ``libblas.so.3`` on Debian's OpenBLAS is a thin wrapper around
    ``libopenblas.so.0``; the library doing the work is reported then."""
    system = [p for p in mapped if os.path.basename(p).lower().startswith(_BLAS_PREFIXES)
              and not any(p.startswith(d) for d in wheel_dirs)]
    if not system:
        return None, None

    def pick(prefix):
        hits = [p for p in system if os.path.basename(p).startswith(prefix)]
        return hits[0] if hits else None

    blas, lapack = pick("libblas.so"), pick("liblapack.so")
    worker = next((p for p in system if os.path.basename(p).lower().startswith(
        ("libopenblas", "libmkl_rt", "libblis", "libflexiblas"))), None)
    if worker is not None:
        blas = worker if blas is None or classify(blas) == classify(worker) else blas
        lapack = worker if lapack is None or classify(lapack) == classify(worker) else lapack
    blas = blas or system[0]
    return blas, lapack or blas


def _wheel_dir(module_name: str):
    """``site-packages/<name>.libs``, where a manylinux wheel keeps its bundled libraries."""
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(module.__file__))),
                        module_name + ".libs") + os.sep


def blas_report(maps_path: str = "/proc/self/maps") -> dict:
    """Which BLAS/LAPACK MUMPS, NumPy and SciPy use in this process.

    Returns
    -------
    dict
        ``{"mumps": entry | None, "mumps_lapack": entry | None, "numpy": entry | None,
        "scipy": entry | None, "mumps_loaded": bool}``, each entry a dict with
        ``implementation`` ("OpenBLAS", "reference BLAS/LAPACK (netlib)", ...),
        ``path`` (resolved), ``version``, ``threading``, ``threads`` (current
        thread count, outside a solve) and ``architecture`` (the last four where
        threadpoolctl knows the library, else None). ``mumps`` is None when Kwant
        has no MUMPS or the library cannot be found (e.g. no ``/proc``).
    """
    import numpy  # noqa: F401 - loads NumPy's BLAS
    try:
        import scipy.linalg  # noqa: F401 - loads SciPy's BLAS/LAPACK
    except ImportError:
        pass
    mumps_loaded = False
    for binding in ("mumps", "kwant.linalg._mumps"):   # python-mumps (the mumps back end), Kwant's
        try:
            importlib.import_module(binding)   # loads MUMPS and the system BLAS it links
            mumps_loaded = True
            break
        except ImportError:
            pass
    mapped = _mapped_libraries(maps_path)
    tp_libs = _threadpool_libraries()
    wheels = {name: _wheel_dir(name) for name in ("numpy", "scipy")}

    def in_wheel(name):
        d = wheels[name]
        paths = [p for p in mapped if d and p.startswith(d)
                 and os.path.basename(p).lower().startswith(_BLAS_PREFIXES + ("libscipy_openblas",))]
        if not paths:   # no /proc: threadpoolctl alone
            paths = [i["filepath"] for i in tp_libs if d and i.get("filepath", "").startswith(d)]
        return _describe(paths[0], tp_libs) if paths else None

    report = dict(mumps=None, mumps_lapack=None, numpy=in_wheel("numpy"),
                  scipy=in_wheel("scipy"), mumps_loaded=mumps_loaded)
    if mumps_loaded:
        blas, lapack = _mumps_libraries(mapped, tuple(d for d in wheels.values() if d))
        report["mumps"] = _describe(blas, tp_libs)
        report["mumps_lapack"] = _describe(lapack, tp_libs)
    return report


def _line(entry) -> str:
    if entry is None:
        return "not found"
    bits = [entry["implementation"]]
    if entry["version"]:
        bits[0] += f" {entry['version']}"
    threading = {"disabled": "serial"}.get(entry["threading"], entry["threading"])
    extra = [x for x in (threading, entry["architecture"]) if x]
    if extra:
        bits.append(f"({', '.join(extra)})")
    bits.append(entry["path"])
    return "  ".join(bits)


def format_blas_report(report: dict) -> list:
    """Lines for ``qpcsim info``."""
    if not report["mumps_loaded"]:
        mumps = "- (Kwant without MUMPS)"
    else:
        mumps = _line(report["mumps"])
        if report["mumps"] is not None and report["mumps"]["implementation"].startswith("reference"):
            mumps += ("  [unoptimized: the MUMPS back end runs about 2x slower; run "
                      "scripts/setup_env.sh as root to select OpenBLAS]")
    lines = [f"BLAS for MUMPS:         {mumps}"]
    lapack = report.get("mumps_lapack")
    if lapack is not None and report["mumps"] is not None and lapack["path"] != report["mumps"]["path"]:
        lines.append(f"LAPACK for MUMPS:       {_line(lapack)}")
    lines.append(f"BLAS for NumPy:         {_line(report['numpy'])}")
    lines.append(f"BLAS for SciPy (RGF):   {_line(report['scipy'])}")
    lines.append("(qpcsim runs each of them on one thread inside a solve, via threadpoolctl)")
    return lines
