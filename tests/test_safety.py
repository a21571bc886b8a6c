"""Results are never lost, mixed or silently wrong (issue 13): outputs, refusals
before work, physics warnings, orphans, broken pipes, damaged files, Dask faults.

Refusals run the command in-process (``qpcsim.cli.main``: one line, exit 2);
the kill, lock, orphan and broken-pipe cases use real subprocesses."""
import importlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import qpcsim
from qpcsim.cli import main

sweep_module = importlib.import_module("qpcsim.engine.sweep")   # the module, not the function
from qpcsim.engine.executors import Executor, SchedulerLostError, make_executor

SMALL = ["--set", "a=4", "--set", "W=200", "--set", "L=320"]
SWEEP = ["sweep", "qpc_saddle", *SMALL, "--sweep", "V0=2:6:3", "--energy", "9", "--workers",
         "1", "--quiet"]


def refused(capsys, *argv):
    """Run the CLI in-process, expect a one-line refusal; return its text."""
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------ outputs never clobber
def test_out_never_replaces_a_foreign_file(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my lab notes\n")
    err = refused(capsys, *SWEEP, "--out", str(notes))
    assert "is not a qpcsim result; refusing to overwrite" in err and "--force" in err
    assert notes.read_text() == "my lab notes\n"
    assert not (tmp_path / "notes.txt.points.sqlite").exists()       # refused before work
    assert main([*SWEEP, "--out", str(notes), "--force"]) == 0
    assert qpcsim.load_result(notes).conductance.size == 3


def test_same_path_for_two_outputs_refused(tmp_path, capsys):
    out = tmp_path / "x.nc"
    assert "--out and --plot name the same file" in refused(
        capsys, *SWEEP, "--out", str(out), "--plot", str(out))
    assert "--out and --store name the same file" in refused(
        capsys, *SWEEP, "--out", str(out), "--store", str(out))
    assert not out.exists()


def test_outputs_must_be_regular_files_and_formats_known(tmp_path, capsys):
    assert "not a regular file" in refused(capsys, *SWEEP, "--out", str(tmp_path))
    assert "not a regular file" in refused(capsys, *SWEEP, "--out", "/dev/null")
    err = refused(capsys, *SWEEP, "--out", str(tmp_path / "r.nc"), "--plot",
                  str(tmp_path / "fig.txt"))
    assert "figure format '.txt' is not supported" in err and "png" in err
    assert not list(tmp_path.iterdir())                              # before the first solve
    for command in (["coulomb"], ["luttinger"], ["contrast"]):
        err = refused(capsys, *command, "--out", str(tmp_path / "f.txt"))
        assert "figure format '.txt' is not supported" in err


def test_rerun_replaces_its_own_result_but_not_another_sweeps(tmp_path, capsys):
    out = tmp_path / "r.nc"
    assert main([*SWEEP, "--out", str(out), "--plot", str(tmp_path / "r.png")]) == 0
    assert main([*SWEEP, "--out", str(out), "--plot", str(tmp_path / "r.png")]) == 0  # same sweep
    capsys.readouterr()
    other = [a if a != "V0=2:6:3" else "V0=2:6:4" for a in SWEEP]
    err = refused(capsys, *other, "--out", str(out), "--store", str(tmp_path / "o.sqlite"))
    assert "holds the result of a different sweep" in err
    assert not list(tmp_path.glob(".*tmp*"))                          # no temporary left over


def test_save_is_atomic(tmp_path, small_saddle, monkeypatch):
    """A writer that dies half way leaves the previous file intact."""
    result = qpcsim.sweep(small_saddle, {"V0": [2.0, 4.0]}, energy=9.0, workers=1,
                          progress=False)
    path = result.save(tmp_path / "r.nc")
    before = path.read_bytes()

    def crash(data, tmp):
        Path(tmp).write_bytes(b"half a file")
        raise OSError(28, "No space left on device")
    # the NetCDF writer (xarray's h5netcdf store; to_netcdf before issue 24)
    monkeypatch.setattr("qpcsim.engine.result._write_netcdf", crash)
    with pytest.raises(ValueError, match="cannot be written: No space left"):
        result.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.nc"]


# ------------------------------------------------------------------ damaged or foreign results
def test_load_and_plot_of_foreign_or_damaged_files(tmp_path, capsys, small_saddle):
    text = tmp_path / "notes.nc"
    text.write_text("hello")
    with pytest.raises(ValueError, match="is not a qpcsim result"):
        qpcsim.load_result(text)
    good = qpcsim.sweep(small_saddle, {"V0": [2.0, 4.0]}, energy=9.0, workers=1,
                        progress=False).save(tmp_path / "good.nc")
    cut = tmp_path / "cut.nc"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="is damaged or truncated"):
        qpcsim.load_result(cut)
    import xarray as xr
    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"t": ("x", np.arange(3.0))}).to_netcdf(foreign, engine="h5netcdf")
    with pytest.raises(ValueError, match="not a qpcsim sweep result"):
        qpcsim.load_result(foreign)
    for bad in (text, cut, foreign):
        refused(capsys, "plot", str(bad), "--out", str(tmp_path / "p.png"))


# ------------------------------------------------------------------ refuse before working
def test_huge_lattices_refused_with_estimate_and_knob(capsys):
    for sets in (["--set", "a=1e-9"], ["--set", "W=1e6", "--set", "L=1e6"]):
        err = refused(capsys, "sweep", "qpc_saddle", *sets, "--sweep", "V0=2:6:3",
                      "--energy", "9", "--out", "/tmp/never-written.nc", "--quiet")
        assert "needs an estimated" in err and "more than this machine's" in err
        assert "increase the lattice constant a or reduce W and L" in err
    with pytest.raises(ValueError, match=r"lattice sites"):
        qpcsim.load_geometry("qpc_saddle", a=1e-9)


def test_coulomb_levels_refused_before_allocating(capsys, tmp_path):
    err = refused(capsys, "coulomb", "--levels", "100000", "--out", str(tmp_path / "c.png"))
    assert "needs an estimated 74.5 GiB" in err and "--levels" in err


def test_large_sweep_estimate_eta_and_memory_refusal(small_saddle, monkeypatch):
    spec = qpcsim.SweepSpec.build(small_saddle, {"V0": np.linspace(0, 8, 3_000_000)}, 9.0)
    lines = []
    assert sweep_module._check_budget(spec, lines.append) == 3_000_000
    assert "3,000,000 points" in lines[0] and "ETA" in lines[0]
    monkeypatch.setenv("QPCSIM_MEMORY_BYTES", str(2**30))
    with pytest.raises(ValueError, match=r"3,000,000 points.*more than this machine's 1 GiB.*"
                                         r"use fewer points"):
        sweep_module._check_budget(spec, None)


def test_eta_is_reported_for_long_sweeps(monkeypatch):
    import itertools

    from qpcsim.engine import points
    clock = itertools.count(0.0, 2.0)
    monkeypatch.setattr(points.time, "perf_counter", lambda: next(clock))
    lines = []
    eta = points.Eta(todo=1000, workers=1, report=lines.append)   # starts at t = 0 s
    eta.tick()                                  # t = 2 s: the first point (device build)
    eta.tick()
    eta.tick()                                  # t = 6 s: 2 s per point since, 997 to go
    assert lines == ["997 points to go, ETA ~33 min (2 s per point on 1 worker(s))"]
    eta.tick()
    assert len(lines) == 1                      # said once
    short = points.Eta(todo=3, workers=1, report=lines.append)
    short.tick(), short.tick(), short.tick()
    assert len(lines) == 1                      # short sweeps stay quiet


# ------------------------------------------------------------------ no silent nonsense
def test_complex_potential_refused():
    device = qpcsim.Device(width=40.0, length=40.0, a=4.0,
                           potential=lambda x, y, V=1.0: V * (1 + 0.1j) + 0 * x,
                           params={"V": 1.0})
    with pytest.raises(ValueError, match="the potential returned complex values"):
        qpcsim.solve(device, 30.0)
    real_valued = qpcsim.Device(width=40.0, length=40.0, a=4.0,
                                potential=lambda x, y, V=1.0: V + 0j * x, params={"V": 1.0})
    assert qpcsim.solve(real_valued, 30.0).conductance > 0     # zero imaginary part is fine


@pytest.mark.parametrize("kwargs, message", [
    ({"B": 1e6}, r"magnetic length l_B = 0.0257 nm is below the lattice constant a = 4 nm"),
    ({"B": 200.0}, r"B=200 T exceeds the strongest laboratory fields \(~100 T\)"),
    ({"temperature": 1e6}, r"k_B T = 8.62e\+04 meV exceeds the lattice's whole band width"),
    ({"temperature": 200.0}, r"exceeds the Fermi energy 9 meV"),
])
def test_absurd_inputs_warn_with_the_scale(small_saddle, kwargs, message):
    params = {k: v for k, v in kwargs.items() if k != "temperature"}
    with pytest.warns(qpcsim.PhysicsWarning, match=message):
        notes = qpcsim.sanity.warn_inputs(small_saddle, 9.0, kwargs.get("temperature", 0.0),
                                          small_saddle.resolve_params(params))
    assert len(notes) >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", qpcsim.PhysicsWarning)
        assert qpcsim.sanity.warn_inputs(small_saddle, 9.0, 1.0, {"B": 1.0}) == []


def test_sweep_warns_once_for_absurd_field(small_saddle):
    with pytest.warns(qpcsim.PhysicsWarning, match="magnetic length") as record:
        qpcsim.sweep(small_saddle, {"B": [0.0, 500.0]}, energy=9.0, workers=1, progress=False)
    assert len([w for w in record if "magnetic length" in str(w.message)]) == 1


def test_saddle_cut_by_walls_detected(saddle_module):
    with pytest.warns(qpcsim.PhysicsWarning, match=r"W=100 nm .*cut the saddle's parabola"):
        qpcsim.load_geometry("qpc_saddle", W=100.0, L=320.0, a=4.0)
    assert saddle_module.modes_inside_walls(100.0, 2.0) == 1
    assert saddle_module.modes_inside_walls(300.0, 2.0) >= 10
    # l_y = sqrt(hbar / m* omega) for GaAs at hbar omega = 2 meV: 23.85 nm
    assert saddle_module.oscillator_length_nm(2.0) == pytest.approx(23.85, rel=2e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", qpcsim.PhysicsWarning)
        qpcsim.load_geometry("qpc_saddle", W=300.0, L=320.0, a=4.0)


def test_adaptive_max_points_is_reported(tmp_path, capsys, small_saddle):
    result = qpcsim.sweep(small_saddle, {"V0": [0.0, 8.0]}, energy=9.0, workers=1,
                          adaptive=1e-12, max_points=12, progress=False)
    assert result.attrs["adaptive_converged"] == 0 and result.attrs["max_points"] == 12
    assert "STOPPED at max_points=12" in result.attrs["sampling"]
    assert main(["sweep", "qpc_saddle", *SMALL, "--sweep", "V0=0:8:2", "--energy", "9",
                 "--workers", "1", "--quiet", "--adaptive", "1e-12", "--max-points", "12",
                 "--out", str(tmp_path / "a.nc")]) == 0
    captured = capsys.readouterr()
    assert "stopped at max_points=12 before reaching the tolerance" in captured.err
    assert "STOPPED at max_points=12" in captured.out
    converged = qpcsim.sweep(small_saddle, {"V0": [0.0, 8.0]}, energy=9.0, workers=1,
                             adaptive=0.2, progress=False)
    assert converged.attrs["adaptive_converged"] == 1
    assert refused(capsys, *SWEEP, "--max-points", "5", "--out", str(tmp_path / "g.nc"))


# ------------------------------------------------------------------ distributed faults
def test_scheduler_loss_says_points_are_kept(small_saddle, tmp_path, monkeypatch):
    class Dying(Executor):
        name = "dask"

        def imap_unordered(self, func, recipe, items):
            items = list(items)
            for index in range(2):
                yield index, func(recipe.device(), items[index])
            raise SchedulerLostError("lost the Dask scheduler tcp://x:1 after 2 of 4 points "
                                     "(CommClosedError)")
    monkeypatch.setattr(sweep_module, "make_executor",
                        lambda workers, scheduler, first=None: Dying())
    store = tmp_path / "s.sqlite"
    with pytest.raises(SchedulerLostError, match=r"after 2 of 4 points .*the 2 finished points "
                                                 r"are kept in store=.*s.sqlite.*rerun the same"):
        qpcsim.sweep(small_saddle, {"V0": [1.0, 2.0, 3.0, 4.0]}, energy=9.0, store=store,
                     scheduler="tcp://x:1", progress=False)
    monkeypatch.undo()
    again = qpcsim.sweep(small_saddle, {"V0": [1.0, 2.0, 3.0, 4.0]}, energy=9.0, store=store,
                         workers=1, progress=False)
    assert again.conductance.size == 4


def test_scheduler_without_workers_times_out():
    from distributed import LocalCluster
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match=r"has no workers after 1 s; start some with "
                                             r"`dask worker "):
            make_executor(scheduler=cluster.scheduler_address, timeout=1.0)
        assert time.perf_counter() - t0 < 15


# ------------------------------------------------------------------ real subprocesses
def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "qpcsim.cli", *args], **kwargs)


def _children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, pytest.param(signal.SIGTERM,
                                                              marks=pytest.mark.slow)])
def test_no_orphan_workers_when_the_sweep_is_killed(tmp_path, sig):
    proc = _cli("sweep", "qpc_saddle", *SMALL, "--sweep", "V0=-4:8:400", "--energy", "9",
                "--workers", "2", "--quiet", "--out", str(tmp_path / "r.nc"),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    workers = []
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.1)
    assert len(workers) >= 2, "the sweep never started its workers"
    os.kill(proc.pid, sig)
    proc.wait()
    deadline = time.time() + 20
    while time.time() < deadline and any(map(_alive, workers)):
        time.sleep(0.1)
    assert not any(map(_alive, workers)), f"orphans left: {workers}"


def test_second_sweep_on_a_held_store_names_the_pid(tmp_path):
    """Two sweeps differing only in the fixed energy, on one store: the second is
    refused (it used to be accepted and mixed the other energy's conductances)."""
    store = tmp_path / "shared.sqlite"
    first = _cli("sweep", "qpc_saddle", *SMALL, "--sweep", "V0=-4:8:200", "--energy", "8",
                 "--workers", "1", "--quiet", "--out", str(tmp_path / "a.nc"), "--store",
                 str(store), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not Path(str(store) + ".lock").exists():
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "qpcsim.cli", "sweep", "qpc_saddle",
                                 *SMALL, "--sweep", "V0=-4:8:200", "--energy", "6", "--quiet",
                                 "--out", str(tmp_path / "b.nc"), "--store", str(store)],
                                capture_output=True, text=True, check=False)
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2
    assert f"in use by another qpcsim process (PID {first.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1


def test_broken_pipe_exits_quietly():
    proc = _cli("info", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                          # the reader (e.g. `head`) went away
    err = proc.stderr.read().decode()
    assert proc.wait() == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


@pytest.mark.slow
def test_real_scheduler_loss_is_one_line_and_resumable(tmp_path):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                  "--port", str(port), "--no-dashboard"], **quiet)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                               "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], **quiet)
    store = tmp_path / "d.nc.points.sqlite"
    try:
        sweep = _cli("sweep", "qpc_saddle", *SMALL, "--sweep", "V0=-4:8:400", "--energy", "9",
                     "--quiet", "--scheduler", address, "--out", str(tmp_path / "d.nc"),
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and len(_keys(store)) < 5:
            time.sleep(0.2)
        scheduler.kill()
        err = sweep.communicate(timeout=120)[1]
    finally:
        for proc in (scheduler, worker):
            proc.kill()
            proc.wait()
    assert sweep.returncode == 2, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("qpcsim sweep: error: lost the Dask scheduler")
    assert "finished points are kept in store=" in line and "rerun the same command" in line


def _keys(store):
    import sqlite3
    if not store.exists():
        return []
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)
        try:
            return [k for (k,) in db.execute("SELECT key FROM records")]
        finally:
            db.close()
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_modes_inside_walls_predicts_the_buttiker_deviation(saddle_module):
    """W = 140 nm: 2 modes fit; Büttiker holds to 0.05 G0 up to 2 G0 and fails above."""
    assert saddle_module.modes_inside_walls(140.0, 2.0) == 2
    with pytest.warns(qpcsim.PhysicsWarning, match="only 2 mode"):
        device = qpcsim.load_geometry("qpc_saddle", W=140.0, a=2.0)
    V0 = np.linspace(2.0, 8.5, 27)
    g = qpcsim.sweep(device, {"V0": V0}, energy=9.0, workers=2, progress=False).conductance.values
    exact = np.array([saddle_module.buttiker_transmissions(9.0, v, 1.0, 2.0, 12).sum() for v in V0])
    assert np.abs(g - exact)[exact <= 2.0].max() < 0.05       # measured 0.022
    assert np.abs(g - exact)[exact <= 3.0].max() > 0.1        # measured 0.154
