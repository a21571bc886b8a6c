"""qpcsim benchmarks: the fast sweep path against plain Kwant, measured in the same run.

Reference case (issue 7): saddle-point QPC, W = 100 x L = 200 sites, 200 gate
points (V0) at fixed energy. Prints

1. per point on one core: tutorial-style Kwant (Python value function per site,
   ``kwant.smatrix`` on all leads), best-practice Kwant (potential computed once
   per point with NumPy and looked up per site, ``in_leads=[0], out_leads=[1]``),
   and qpcsim's fast path, with ratios;
2. the floor: one MUMPS factorization with Schur complement of the same matrix
   (analysis reused, as in the fast path), and ``kwant.linalg.mumps.schur_complement``
   (analysis + factorization);
3. the default sweep on all cores (wall time) against tutorial-style Kwant on the
   same number of worker processes (like for like), and against one-core Kwant;
4. time to a resolved trace (max error <= 0.01 G0 against a dense reference):
   fast path x workers x adaptive sampling against a uniform tutorial-style sweep;
5. identical physics: max |G_fast - G_kwant| over every benchmark point (asserted <= 1e-10);
6. scaling: per-point time and memory for W in {50, 100, 200, 400}, L = 2W, each
   size in a fresh process that reports its own memory: the resident set after the
   imports (baseline) and the peak resident set of the solves above it (the kernel's
   high-water mark VmHWM, reset after the baseline), with the fitted exponents in W.

Every Kwant and qpcsim timing runs on one BLAS thread per process (threadpoolctl),
on the same libraries: MUMPS, in Kwant and in qpcsim's ``mumps`` back end and
floor, on the system BLAS printed in the header.

Kwant 1.5 has no vectorized value functions, so "best practice" here is the
closest Kwant 1.5 allows: one NumPy evaluation per point and a per-site lookup.

Usage: ``python benchmarks/run.py [--points 200] [--quick]``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import qpcsim

ENERGY = 10.0          # meV
HW_X, HW_Y = 1.0, 2.0  # meV
A = 2.0                # nm
SPLIT_GATE_ENERGY = 8.0  # meV, as in `make demo`


def saddle(width_sites: int, length_sites: int):
    """The reference saddle QPC with exactly W x L sites."""
    return qpcsim.load_geometry("qpc_saddle", a=A, W=A * (width_sites + 1),
                                L=A * (length_sites - 1), hw_x=HW_X, hw_y=HW_Y)


def gate_values(n):
    return np.linspace(1.0, 9.0, n)


# ------------------------------------------------------------------ plain Kwant
def _plain_kwant_system(device, onsite):
    """The same lattice, walls and leads as the Device, written as plain Kwant."""
    import kwant
    lat = kwant.lattice.square(1, norbs=1)
    syst = kwant.Builder()
    for i in range(device.nx):
        for j in range(device.ny):
            syst[lat(i, j)] = onsite
    syst[lat.neighbors()] = -1.0
    lead = kwant.Builder(kwant.TranslationalSymmetry((-1, 0)))
    for j in range(device.ny):
        lead[lat(0, j)] = 4.0
    lead[lat.neighbors()] = -1.0
    syst.attach_lead(lead)
    syst.attach_lead(lead.reversed())
    return syst.finalized()


def tutorial_system(device, names=("V0", "hw_x", "hw_y")):
    """What a Kwant tutorial user writes: a Python value function per site.

    ``names`` are the potential's parameters; Kwant reads them from the value
    function's signature, so the function is written out for each set.
    """
    potential, t = device.potential, device.t
    source = (f"def onsite(site, {', '.join(names)}):\n"
              f"    x, y = device.lattice_to_nm(*site.pos)\n"
              f"    return 4.0 + float(potential(np.array(x), np.array(y), "
              f"{', '.join(f'{n}={n}' for n in names)})) / t\n")
    scope = dict(device=device, potential=potential, t=t, np=np)
    exec(source, scope)   # noqa: S102 - a fixed template over the geometry's own names
    return _plain_kwant_system(device, scope["onsite"])


def best_practice_system(device):
    """Potential evaluated once per point with NumPy, looked up per site."""
    index = {}

    def onsite(site, landscape):
        return landscape[index[site.tag]]

    fsyst = _plain_kwant_system(device, onsite)
    index.update({s.tag: k for k, s in enumerate(fsyst.sites)})
    pos = np.array([s.pos for s in fsyst.sites])
    x, y = device.lattice_to_nm(pos[:, 0], pos[:, 1])
    return fsyst, x, y


def run_tutorial(device, fsyst, gates, gate="V0", energy=ENERGY):
    import kwant
    names = device.potential_parameters
    out, times = [], []
    for value in gates:
        params = device.resolve_params({gate: value})
        t0 = time.perf_counter()
        smat = kwant.smatrix(fsyst, energy / device.t, params={n: params[n] for n in names})
        out.append(smat.transmission(1, 0))
        times.append(time.perf_counter() - t0)
    return np.array(out), np.array(times)


def run_best_practice(device, fsyst_xy, gates):
    import kwant
    fsyst, x, y = fsyst_xy
    out, times = [], []
    for v0 in gates:
        t0 = time.perf_counter()
        landscape = 4.0 + device.potential(x, y, V0=v0, hw_x=HW_X, hw_y=HW_Y) / device.t
        smat = kwant.smatrix(fsyst, ENERGY / device.t, params=dict(landscape=landscape),
                             in_leads=[0], out_leads=[1])
        out.append(smat.transmission(1, 0))
        times.append(time.perf_counter() - t0)
    return np.array(out), np.array(times)


def run_fast(device, gates, backend=None):
    """Per-point times of ``qpcsim.solve``; ``backend`` forces a registered back end
    (default: the automatic choice)."""
    method = backend or "auto"
    out, times = [], []
    qpcsim.solve(device, ENERGY, V0=gates[0], method=method)   # first call: build + modes + analysis
    for v0 in gates:
        t0 = time.perf_counter()
        out.append(qpcsim.solve(device, ENERGY, V0=v0, method=method).conductance)
        times.append(time.perf_counter() - t0)
    return np.array(out), np.array(times)


def floor_times(device, v0, repeats=5):
    """Bare MUMPS factorization + Schur complement of the fast path's matrix."""
    from kwant.linalg.mumps import schur_complement
    import scipy.sparse as sp
    from qpcsim.backends.schur import SchurBackend
    solver = SchurBackend(device, "mumps")
    params = device.resolve_params(dict(V0=v0))
    energy = ENERGY / device.t
    leads = solver.assembly.leads(energy, params)
    values = np.concatenate([solver.assembly.system_values(energy, params), leads.values])
    fact = solver.factorizer(leads)
    factor_only = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fact.schur_complement(values)
        factor_only.append(time.perf_counter() - t0)
    row = np.concatenate([solver.assembly.sys_row, leads.row])
    col = np.concatenate([solver.assembly.sys_col, leads.col])
    matrix = sp.coo_matrix((values, (row, col)), shape=(leads.n, leads.n))
    with_analysis = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        schur_complement(matrix, leads.schur)
        with_analysis.append(time.perf_counter() - t0)
    return float(np.median(factor_only)), float(np.median(with_analysis))


# ------------------------------------------------------------------ resolved trace
def resolved_trace(device, gate, lo, hi, energy=ENERGY, tolerance=0.01, dense_points=1601):
    """Adaptive sweep vs the uniform grid that reaches the same max error.

    The max error of a trace is that of its linear interpolant on a dense
    reference grid. The uniform count is not restricted to subsets of the dense
    grid (that rounds it up to a divisor): node values come from a cubic spline
    of the dense data, the smallest n whose grids n .. n + 4 all reach the
    adaptive run's error is taken, and that grid is then solved for real and
    checked (n grows by 2 % until the real grid passes). ``optimal`` is the
    fewest points any sampler could use for that error
    (:func:`qpcsim.analysis.optimal_sample_count`).
    """
    import scipy.interpolate

    dense_x = np.linspace(lo, hi, dense_points)
    dense_g = qpcsim.sweep(device, {gate: dense_x}, energy=energy,
                           progress=False).conductance.values
    t0 = time.perf_counter()
    adaptive = qpcsim.sweep(device, {gate: [lo, hi]}, energy=energy, adaptive=tolerance,
                            progress=False)
    adaptive_wall = time.perf_counter() - t0
    ax, ag = adaptive[gate].values, adaptive.conductance.values
    target = float(np.abs(np.interp(dense_x, ax, ag) - dense_g).max())

    spline = scipy.interpolate.CubicSpline(dense_x, dense_g)

    def error_of(n, values=None):
        nodes = np.linspace(lo, hi, n)
        values = spline(nodes) if values is None else values
        return float(np.abs(np.interp(dense_x, nodes, values) - dense_g).max())

    passes = [error_of(n) <= target for n in range(11, dense_points + 5)]
    uniform = next((11 + i for i in range(len(passes) - 4) if all(passes[i:i + 5])), None)
    uniform_error = None
    while uniform is not None and uniform <= dense_points:
        real = qpcsim.sweep(device, {gate: np.linspace(lo, hi, uniform)}, energy=energy,
                            progress=False).conductance.values
        uniform_error = error_of(uniform, real)
        if uniform_error <= target:
            break
        uniform = int(np.ceil(1.02 * uniform))
    plateaus = [p.index for p in qpcsim.analysis.find_plateaus(dense_x, dense_g)]
    return dict(adaptive_points=len(ax), adaptive_error=target, adaptive_wall=adaptive_wall,
                uniform_points=uniform, uniform_error=uniform_error,
                optimal=qpcsim.analysis.optimal_sample_count(dense_x, dense_g, target), plateaus=plateaus,
                dense_points=dense_points)


_WORKER_SYSTEM = {}


def _kwant_worker_init(width, length):
    threadpool_limits(limits=1, user_api="blas")    # one BLAS thread, as qpcsim's workers
    device = saddle(width, length)
    _WORKER_SYSTEM.update(device=device, fsyst=tutorial_system(device))


def _kwant_worker_point(v0):
    import kwant
    device = _WORKER_SYSTEM["device"]
    params = device.resolve_params({"V0": v0})
    smat = kwant.smatrix(_WORKER_SYSTEM["fsyst"], ENERGY / device.t,
                         params={n: params[n] for n in device.potential_parameters})
    return smat.transmission(1, 0)


def parallel_tutorial_sweep(width, length, gates, workers):
    """Wall time of tutorial-style Kwant over ``gates`` on ``workers`` processes
    (same start method and worker count as qpcsim's process executor, system build
    in each worker included, as qpcsim's workers build their device)."""
    from concurrent.futures import ProcessPoolExecutor
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_kwant_worker_init, initargs=(width, length)) as pool:
        g = np.array(list(pool.map(_kwant_worker_point, gates,
                                   chunksize=max(1, len(gates) // (4 * workers)))))
    return time.perf_counter() - t0, g


def split_gate_tutorial_per_point(device, gates):
    """Tutorial-style Kwant on the split gate (its own value function), per point."""
    fsyst = tutorial_system(device, device.potential_parameters)
    g_tut, times = run_tutorial(device, fsyst, gates, gate="Vg", energy=SPLIT_GATE_ENERGY)
    g_fast = [qpcsim.solve(device, SPLIT_GATE_ENERGY, Vg=v).conductance for v in gates]
    return float(np.median(times)), float(np.abs(np.asarray(g_fast) - g_tut).max())


# ------------------------------------------------------------------ scaling
_SCALING_CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {bench_dir!r})
import run as bench
import qpcsim
import kwant, kwant.linalg.mumps, scipy.linalg   # noqa: F401 - part of the baseline


def status_mib(field):
    # this process's own VmRSS / VmHWM (the high-water mark of the current address space,
    # which starts afresh at exec, unlike ru_maxrss, which a child inherits)
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


baseline = status_mib("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")          # reset VmHWM to the current RSS
    reset = True
except OSError:
    reset = False
width = {width}
device = bench.saddle(width, 2 * width)
t0 = time.perf_counter()
backend = qpcsim.solve(device, bench.ENERGY, V0=4.0).solver
first = time.perf_counter() - t0
times = []
for v0 in np.linspace(3.0, 5.0, {points}):
    t0 = time.perf_counter()
    qpcsim.solve(device, bench.ENERGY, V0=v0)
    times.append(time.perf_counter() - t0)
peak = status_mib("VmHWM")
print(json.dumps(dict(width=width, sites=device.nx * device.ny, first=first, backend=backend,
                      per_point=float(np.median(times)), baseline_mib=baseline, peak_mib=peak,
                      above_mib=peak - baseline, hwm_reset=reset)))
"""


def scaling(widths, points):
    rows = []
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    for width in widths:
        code = _SCALING_CHILD.format(bench_dir=bench_dir, width=width, points=points)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        if out.returncode != 0:
            print(f"  W={width}: failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  W={r['width']:>4}  L={2 * r['width']:>4}  sites={r['sites']:>7}  "
              f"per point {1e3 * r['per_point']:>9.1f} ms  first point {r['first']:>6.2f} s  "
              f"RSS baseline {r['baseline_mib']:>5.0f} MiB, peak {r['peak_mib']:>6.0f} MiB "
              f"= baseline + {r['above_mib']:>6.1f} MiB"
              f"{'' if r['hwm_reset'] else ' (high-water mark not resettable)'}  "
              f"({r['backend']})", flush=True)
    if len(rows) >= 2:
        w = np.array([r["width"] for r in rows], dtype=float)
        t = np.array([r["per_point"] for r in rows])
        m = np.array([max(r["above_mib"], 1e-3) for r in rows])
        exponent = np.polyfit(np.log(w), np.log(t), 1)[0]
        print(f"  fitted per-point time ~ W^{exponent:.2f} (L = 2W, so sites ~ W^2; "
              f"nested-dissection MUMPS on a 2-D grid: ~ N^1.5 = W^3)")
        big = w >= w.max() / 2
        if big.sum() >= 2:
            mem_exp = np.polyfit(np.log(w[big]), np.log(m[big]), 1)[0]
            print(f"  memory above the baseline ~ W^{mem_exp:.2f} over the larger sizes "
                  f"(W >= {w.max() / 2:g})")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=200, help="gate points (default 200)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few points (smoke run)")
    parser.add_argument("--sections", default="1,2,3,4,5,6",
                        help="comma-separated sections to run (default all; 1 and 2 always "
                             "run together, 5 compares what ran)")
    args = parser.parse_args(argv)
    sections = {int(x) for x in args.sections.split(",")}
    width, length = (40, 80) if args.quick else (100, 200)
    points = 10 if args.quick else args.points
    widths = (25, 50) if args.quick else (50, 100, 200, 400)

    print(f"qpcsim benchmark  {time.strftime('%Y-%m-%d %H:%M')}  on {platform.node()} "
          f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
          f"Kwant solver {qpcsim.solver_backend()}")
    from qpcsim.backends.blas import blas_report, format_blas_report
    print("\n".join(format_blas_report(blas_report())[:-1]))
    device = saddle(width, length)
    gates = gate_values(points)
    print(f"reference: saddle QPC {device.ny} x {device.nx} sites, {points} gate points, "
          f"E = {ENERGY} meV\n")

    t0 = time.perf_counter()
    tut_fsyst = tutorial_system(device)
    build_tut = time.perf_counter() - t0
    bp = best_practice_system(device)
    with threadpool_limits(limits=1, user_api="blas"):   # one core, as qpcsim's solves
        g_tut, t_tut = run_tutorial(device, tut_fsyst, gates)
        g_bp, t_bp = run_best_practice(device, bp, gates)
    t0 = time.perf_counter()
    g_fast, t_fast = run_fast(device, gates)
    auto_backend = qpcsim.solve(device, ENERGY, V0=gates[0]).solver
    g_mumps, t_mumps = run_fast(saddle(width, length), gates, backend="mumps")
    g_rgf, t_rgf = run_fast(saddle(width, length), gates, backend="rgf")
    floor_factor, floor_full = floor_times(device, gates[len(gates) // 2])

    per_tut, per_bp, per_fast, per_mumps, per_rgf = (
        float(np.median(t)) for t in (t_tut, t_bp, t_fast, t_mumps, t_rgf))
    print("1. per point, one core (median)")
    print(f"   tutorial-style Kwant   {1e3 * per_tut:8.1f} ms   (system build {build_tut:.1f} s)")
    print(f"   best-practice Kwant    {1e3 * per_bp:8.1f} ms")
    print(f"   qpcsim fast path       {1e3 * per_fast:8.1f} ms   -> {per_tut / per_fast:5.1f}x "
          f"vs tutorial (goal >= 6x), {per_bp / per_fast:5.1f}x vs best practice (goal >= 2x); "
          f"back end {auto_backend} (automatic)")
    print(f"   fast path, MUMPS Schur {1e3 * per_mumps:8.1f} ms   -> {per_tut / per_mumps:5.1f}x "
          f"vs tutorial, {per_bp / per_mumps:5.1f}x vs best practice")
    print(f"   fast path, plain RGF   {1e3 * per_rgf:8.1f} ms   (the automatic back end before "
          f"issue 16) -> automatic back end is {per_rgf / per_fast:4.2f}x faster (issue 16: "
          f">= 1.8x)")
    print("2. floor: one sparse factorization with Schur complement of the same matrix")
    print(f"   MUMPS factorization, analysis reused   {1e3 * floor_factor:8.1f} ms   "
          f"-> MUMPS back end / floor = {per_mumps / floor_factor:4.2f} (goal <= 1.3, the "
          f"overhead around the factorization); the automatic back end ({auto_backend}) "
          f"takes {per_fast / floor_factor:4.2f} x this floor")
    print(f"   kwant.linalg.mumps.schur_complement    {1e3 * floor_full:8.1f} ms   "
          f"(analysis + factorization)")

    if 3 in sections:
        t0 = time.perf_counter()
        qpcsim.sweep(device, {"V0": gates}, energy=ENERGY, progress=False)
        wall = time.perf_counter() - t0
        tut_wall = float(np.sum(t_tut))
        workers = qpcsim.engine.default_workers()
        par_wall, g_par = parallel_tutorial_sweep(width, length, gates, workers)
        assert np.abs(g_par - g_tut).max() <= 1e-10
        print(f"3. all cores: default sweep of {points} points {wall:6.2f} s wall "
              f"(workers={workers}, incl. process start and device build)")
        print(f"   like for like: tutorial Kwant on the same {workers} worker processes "
              f"{par_wall:6.1f} s wall (incl. process start and system build) -> "
              f"{par_wall / wall:5.1f}x")
        print(f"   against one-core tutorial Kwant (sum of its per-point times) {tut_wall:6.1f} s "
              f"-> {tut_wall / wall:5.1f}x (goal >= 10x; {workers} workers against 1 core)")

    split_diff = 0.0
    if 4 in sections:
        print("4. resolved trace (max interpolation error <= 0.01 G0 against a dense reference), "
              "fast path x workers x adaptive vs a uniform tutorial-Kwant sweep at the same error")
        sharp = qpcsim.load_geometry("qpc_saddle", a=A, W=A * (width + 1), L=A * (length - 1),
                                     hw_x=0.5, hw_y=3.0)
        split = qpcsim.load_geometry("qpc_split_gate", **({"a": 8.0} if args.quick else {}))
        per_split, split_diff = split_gate_tutorial_per_point(split, np.linspace(-1.4, -0.4, 5))
        # Ranges with 6+ plateaus (0..5) that stop short of the next lead-mode opening.
        cases = ((f"reference saddle, hw_y/hw_x = {HW_Y / HW_X:g}", device, "V0", -2.2, 9.5,
                  ENERGY, per_tut),
                 ("flat plateaus,    hw_y/hw_x = 6", sharp, "V0", -7.5, 9.5, ENERGY, per_tut),
                 ("split gate (make demo)", split, "Vg", -1.6, -0.2, SPLIT_GATE_ENERGY, per_split))
        for label, dev, gate, lo, hi, energy, per_point in cases:
            trace = resolved_trace(dev, gate, lo, hi, energy=energy,
                                   dense_points=401 if args.quick else 1601)
            if not trace["uniform_points"]:
                print(f"   {label}: uniform grid never reached the target (reference too coarse)")
                continue
            uniform, optimal = trace["uniform_points"], trace["optimal"]
            uniform_time = uniform * per_point
            print(f"   {label}: plateaus {trace['plateaus']}; adaptive {trace['adaptive_points']} "
                  f"points, max error {trace['adaptive_error']:.4f} G0, "
                  f"{trace['adaptive_wall']:.2f} s wall")
            print(f"      uniform grid at the same error: {uniform} points (solved: error "
                  f"{trace['uniform_error']:.4f}) -> adaptive/uniform = "
                  f"{trace['adaptive_points'] / uniform:.0%} (goal <= 25 %); optimum of any "
                  f"sampler {optimal} points = {optimal / uniform:.0%} of uniform, adaptive uses "
                  f"{trace['adaptive_points'] / optimal:.2f}x the optimum")
            print(f"      tutorial Kwant uniform {uniform} x {1e3 * per_point:.0f} ms = "
                  f"{uniform_time:.1f} s -> {uniform_time / trace['adaptive_wall']:5.1f}x "
                  f"(goal >= 40x)", flush=True)

    diff = max(np.abs(g_fast - g_tut).max(), np.abs(g_fast - g_bp).max(),
               np.abs(g_mumps - g_tut).max(), np.abs(g_rgf - g_tut).max(), split_diff)
    print(f"5. identical physics: max |G_fast - G_kwant| over {3 * points + 5 * (4 in sections)} "
          f"comparisons = {diff:.2e} (required <= 1e-10)")
    assert diff <= 1e-10, "fast path disagrees with Kwant"

    if 6 in sections:
        print("6. scaling (fresh process per size; per-point median over the gate values; "
              "memory: the process's own RSS after its imports and its own peak RSS of the "
              "solves)")
        scaling(widths, 3 if args.quick else 5)
    print(f"\n(peak RSS of this benchmark process, for reference: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
