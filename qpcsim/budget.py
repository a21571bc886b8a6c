"""Resource estimates, checked before any work: lattice sites, memory, points.

A request that cannot fit is refused up front, with the estimate and the knob
to turn, instead of ending in a NumPy ``MemoryError`` after minutes (``--set
a=1e-9`` or ``W=L=1e6`` used to try to allocate hundreds of GiB).

Calibration (qpc_saddle, GaAs, one solve, peak RSS above the imported package):
45k sites 96 MiB, 180k sites 323 MiB (fast MUMPS) / 603 MiB (Kwant), 359k sites
526 MiB, i.e. 1.5-3.4 KiB per site. The estimate below, 4 KiB per site-orbital
growing with log2(sites)/17 (nested-dissection fill), stays above every one of
them; it is meant for refusals at the machine's size, not for accounting.
"""
from __future__ import annotations

import math
import os

__all__ = ["machine_memory_bytes", "device_memory_bytes", "check_device_size", "check_memory",
           "format_bytes", "BYTES_PER_SITE", "BYTES_PER_POINT"]

#: Estimated bytes per lattice site and orbital to build and solve a device.
BYTES_PER_SITE = 4096
#: Bytes a finished sweep point costs in the parent (record, store, result arrays).
BYTES_PER_POINT = 2048


def machine_memory_bytes() -> int:
    """Physical memory of this machine (bytes), or the cgroup limit if lower.
    ``QPCSIM_MEMORY_BYTES`` overrides it (e.g. for a batch job's allocation)."""
    override = os.environ.get("QPCSIM_MEMORY_BYTES")
    if override:
        try:
            return int(float(override))
        except ValueError:
            raise ValueError(f"QPCSIM_MEMORY_BYTES={override!r} is not allowed: it must be a "
                             "number of bytes") from None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):   # pragma: no cover
        total = 1 << 40
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file) as fh:
                text = fh.read().strip()
            if text.isdigit() and 0 < int(text) < total:
                total = int(text)
        except OSError:
            pass
    return int(total)


def format_bytes(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def device_memory_bytes(nx: int, ny: int, norbs: int = 1) -> float:
    """Estimated memory (bytes) to build and solve an ``nx`` x ``ny`` lattice with
    ``norbs`` orbitals per site (see the module's calibration)."""
    n = float(nx) * float(ny) * norbs
    return BYTES_PER_SITE * n * max(1.0, math.log2(max(n, 2.0)) / 17.0)


def check_memory(estimate: float, what: str, knob: str) -> None:
    """ValueError if ``estimate`` (bytes) exceeds this machine's memory: names the
    request ``what``, the estimate, the memory and the ``knob`` to turn."""
    total = machine_memory_bytes()
    if estimate > total:
        raise ValueError(f"{what} needs an estimated {format_bytes(estimate)}, more than this "
                         f"machine's {format_bytes(total)} of memory; {knob}")


def check_device_size(nx: int, ny: int, norbs: int, a: float, width: float,
                      length: float) -> None:
    """Refuse a lattice that cannot be built and solved in this machine's memory."""
    sites = float(nx) * float(ny)
    check_memory(device_memory_bytes(nx, ny, norbs),
                 f"the device ({sites:.3g} lattice sites: {nx} x {ny}"
                 f"{' x 2 spins' if norbs == 2 else ''}, a={a:g} nm, W={width:g} nm, "
                 f"L={length:g} nm)",
                 "increase the lattice constant a or reduce W and L")
