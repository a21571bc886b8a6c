"""Fault injection (issue 25): results that cannot be mixed, stale or lost.

Every test injects one fault into a real sweep on a tiny device and asserts that
no finished point is lost and nothing mixed is returned: an edited geometry file
(during the sweep and between start and resume), a changed Python potential,
two writers on one ``--out``, a full disk (a 2 MB tmpfs), a read-only
directory, kill -9 / SIGTERM / two SIGINTs 50 ms apart on a ``qpcsim sweep``
subprocess, and a flipped byte in a saved ``.nc`` and in the store.
"""
from __future__ import annotations

import functools
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import qpcsim
from qpcsim.cli import main
from qpcsim.engine import executors
from qpcsim.engine.store import StoreWriteError, output_lock

QPCSIM = str(Path(sys.executable).with_name("qpcsim"))

#: A tiny geometry file; SCALE is what a user edits while a sweep runs.
GEOMETRY = textwrap.dedent('''\
    """A tiny barrier for fault tests."""
    import numpy as np
    import qpcsim

    SCALE = {scale}
    DEFAULTS = dict(
        V0=1.0,   # barrier height (meV)
        a=10.0,   # lattice constant (nm)
    )


    def make_device(**params):
        qpcsim.check_geometry_params(params, DEFAULTS, __name__)
        p = {{**DEFAULTS, **params}}

        def potential(x, y, V0=p["V0"]):
            return SCALE * V0 * np.exp(-(x / 60.0) ** 2)
        return qpcsim.Device(width=100.0, length=200.0, a=p["a"], potential=potential,
                             name="barrier")
    ''')

V0_VALUES = np.linspace(0.0, 6.0, 8)


def _write_geometry(path: Path, scale: float) -> Path:
    path.write_text(GEOMETRY.format(scale=scale))
    return path


def _reference(scale: float, tmp_path: Path) -> np.ndarray:
    """G(V0) of the geometry at ``scale``, computed serially from its own copy."""
    path = _write_geometry(tmp_path / f"ref_{str(scale).replace('.', '_')}.py", scale)
    device = qpcsim.load_geometry(path)
    return qpcsim.sweep(device, {"V0": V0_VALUES}, energy=5.0, workers=1,
                        progress=False).conductance.values


# ----------------------------------------------------------------- (1) edited geometry
def test_geometry_edited_during_sweep_is_not_mixed(tmp_path):
    """Workers build from the text the parent hashed, never from the (edited) path."""
    original, edited = _reference(1.0, tmp_path), _reference(3.0, tmp_path)
    assert np.abs(original - edited).max() > 0.1    # the edit changes the numbers
    path = _write_geometry(tmp_path / "barrier.py", 1.0)
    device = qpcsim.load_geometry(path)
    source = path.read_text()
    _write_geometry(path, 3.0)                        # edited after loading, before the run
    result = qpcsim.sweep(device, {"V0": V0_VALUES}, energy=5.0, workers=2, progress=False)
    np.testing.assert_array_equal(result.conductance.values, original)
    assert result.attrs["geometry_source"] == source   # the text that ran, not the edit


def test_recipe_carries_the_source_text(tmp_path):
    """A recipe unpickled elsewhere (a restarted Dask worker) builds the loaded text,
    even once the file is gone."""
    path = _write_geometry(tmp_path / "carried.py", 1.0)
    device = qpcsim.load_geometry(path)
    recipe = pickle.loads(pickle.dumps(executors.DeviceRecipe(device)))
    path.unlink()
    executors._DEVICE_CACHE.clear()
    rebuilt = recipe.device()
    assert rebuilt.fingerprint() == device.fingerprint()
    assert rebuilt.potential_at(0.0, 0.0, {"V0": 2.0}) == pytest.approx(2.0, abs=1e-12)


def test_resume_after_geometry_edit_names_both_hashes(tmp_path):
    import hashlib
    path = _write_geometry(tmp_path / "resumed.py", 1.0)
    store = tmp_path / "s.sqlite"
    qpcsim.sweep(qpcsim.load_geometry(path), {"V0": V0_VALUES[:3]}, energy=5.0, workers=1,
                 progress=False, store=store)
    old = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_geometry(path, 3.0)
    new = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=f"geometry file.*{old[:16]}.*{new[:16]}"):
        qpcsim.sweep(qpcsim.load_geometry(path), {"V0": V0_VALUES[:3]}, energy=5.0,
                     workers=1, progress=False, store=store)


# ----------------------------------------------------------------- (2) Python potentials
def _barrier(scale):
    def potential(x, y, V0=1.0):
        return scale * V0 * np.exp(-(x / 60.0) ** 2)
    return potential


def _scaled(x, y, V0=1.0, scale=1.0):
    return scale * V0 * np.exp(-(x / 60.0) ** 2)


@pytest.mark.parametrize("make_potential", [
    pytest.param(_barrier, id="closure"),
    pytest.param(lambda s: functools.partial(_scaled, scale=s), id="partial"),
])
def test_changed_python_potential_never_reuses_a_store(tmp_path, make_potential):
    store = tmp_path / "s.sqlite"

    def device(scale):
        return qpcsim.Device(width=100.0, length=200.0, a=10.0,
                             potential=make_potential(scale))
    assert device(1.0).fingerprint() == device(1.0).fingerprint()
    assert device(1.0).fingerprint() != device(3.0).fingerprint()
    qpcsim.sweep(device(1.0), {"V0": V0_VALUES[:3]}, energy=5.0, workers=1, progress=False,
                 store=store)
    with pytest.raises(ValueError, match="written for a different device"):
        qpcsim.sweep(device(3.0), {"V0": V0_VALUES[:3]}, energy=5.0, workers=1,
                     progress=False, store=store)


def test_potential_fingerprint_is_the_same_in_another_process():
    """No memory address or string-hash order enters it: a store resumes in a new process."""
    code = ("import numpy as np, qpcsim\n"
            "def pot(x, y, V0=1.0):\n"
            "    return V0 * np.exp(-(x / 60.0) ** 2) if V0 in {1.0, 2.0, 'a', 'b'} else 0 * x\n"
            "print(qpcsim.Device(width=100.0, length=200.0, a=10.0, potential=pot)"
            ".fingerprint())\n")
    prints = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed},
                             check=True).stdout for seed in ("1", "2")}
    assert len(prints) == 1


# ----------------------------------------------------------------- (3) one writer per --out
def test_second_writer_to_one_out_is_refused_with_the_holders_pid(tmp_path, capsys):
    out = tmp_path / "s.nc"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from qpcsim.engine.store import output_lock\n"
         f"with output_lock({str(out)!r}, '--out'):\n    print('held', flush=True)\n"
         "    time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        path = _write_geometry(tmp_path / "w.py", 1.0)
        code = main(["sweep", str(path), "--sweep", "V0=0:1:2", "--energy", "5", "--out",
                     str(out), "--store", str(tmp_path / "other.sqlite"), "--workers", "1",
                     "--quiet"])
        err = capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    assert code == 2
    assert f"PID {holder.pid}" in err and "--out" in err
    assert not out.exists() and not (tmp_path / "other.sqlite").exists()   # no work done
    with output_lock(out, "--out"):      # free again once the holder is gone
        pass


# ----------------------------------------------------------------- (4) full / read-only disk
@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs (needs root / mount permission, else skipped)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here ({done.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path, leave_pages: int = 0) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.close(fd)
    if leave_pages:
        os.truncate(filler, os.path.getsize(filler) - 4096 * leave_pages)
    return filler


def _barrier_device():
    return qpcsim.Device(width=100.0, length=200.0, a=10.0, potential=_barrier(1.0))


def test_full_disk_keeps_an_intact_store_and_resumes(small_disk):
    store = small_disk / "s.sqlite"
    device, over = _barrier_device(), {"V0": V0_VALUES}
    reference = qpcsim.sweep(device, over, energy=5.0, workers=1, progress=False)
    qpcsim.sweep(device, {"V0": V0_VALUES[:4]}, energy=5.0, workers=1, progress=False,
                 store=store)
    filler = _fill(small_disk)
    with pytest.raises(ValueError) as info:
        qpcsim.sweep(device, {"V0": V0_VALUES[:4]}, energy=5.0, workers=1, progress=False,
                     store=store)
    message = str(info.value)
    assert "disk full" in message and str(small_disk) in message and "\n" not in message
    assert "delete" not in message                      # never advise destroying good data
    assert "intact (quick_check ok, 4 finished points kept)" in message
    filler.unlink()
    resumed = qpcsim.sweep(device, {"V0": V0_VALUES[:4]}, energy=5.0, workers=1,
                           progress=False, store=store)
    np.testing.assert_array_equal(resumed.conductance.values, reference.conductance.values[:4])


def test_disk_full_mid_sweep_is_one_line_and_keeps_the_points(small_disk):
    store = small_disk / "s.sqlite"
    device = _barrier_device()
    many = {"V0": np.linspace(0.0, 6.0, 300)}
    # The store opens, then the WAL grows past the 2 MB disk after some commits.
    with pytest.raises(StoreWriteError, match=r"disk full.*the (\d+) points committed") as info:
        qpcsim.sweep(device, many, energy=5.0, workers=1, progress=False, store=store)
    kept = int(str(info.value).split("the ")[1].split(" points")[0])
    assert kept > 0
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM records").fetchone()[0] == kept


def test_read_only_directory_says_so_and_keeps_the_store(small_disk):
    store = small_disk / "s.sqlite"
    device = _barrier_device()
    qpcsim.sweep(device, {"V0": V0_VALUES[:3]}, energy=5.0, workers=1, progress=False,
                 store=store)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(ValueError) as info:
        qpcsim.sweep(device, {"V0": V0_VALUES[:3]}, energy=5.0, workers=1, progress=False,
                     store=store)
    assert "read-only" in str(info.value).lower() and "delete" not in str(info.value)
    assert "intact (quick_check ok, 3 finished points kept)" in str(info.value)
    assert store.stat().st_size > 0


# ----------------------------------------------------------------- (5) signals
def _cli_sweep(tmp_path, points: int) -> tuple[list[str], Path]:
    path = _write_geometry(tmp_path / "sig.py", 1.0)
    out = tmp_path / "sig.nc"
    return ([QPCSIM, "sweep", str(path), "--set", "a=5", "--sweep", f"V0=0:6:{points}",
             "--energy", "5", "--out", str(out), "--workers", "2", "--quiet"], out)


def _records(store: Path) -> dict:
    if not store.exists():
        return {}
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT key, result FROM records"))


def _wait_for_records(store: Path, process, count: int = 2, timeout: float = 60.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout and process.poll() is None:
        try:
            if len(_records(store)) >= count:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    pytest.fail("the sweep wrote no points in time")


@pytest.mark.parametrize("signals", [
    pytest.param((signal.SIGINT, signal.SIGINT), id="double-SIGINT-50ms"),
    pytest.param((signal.SIGTERM,), id="SIGTERM"),
    pytest.param((signal.SIGKILL,), id="kill-9"),
])
def test_signals_stop_promptly_and_keep_finished_points(tmp_path, signals):
    import json
    command, out = _cli_sweep(tmp_path, 3000)
    store = Path(str(out) + ".points.sqlite")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        _wait_for_records(store, process)
        before = _records(store)
        for k, sig in enumerate(signals):
            if k:
                time.sleep(0.05)
            process.send_signal(sig)
        start = time.monotonic()
        process.wait(timeout=15)
        stopped_in = time.monotonic() - start
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert stopped_in < 10.0
    assert process.returncode == (130 if signals[0] == signal.SIGINT else -signals[-1])
    if signals[0] == signal.SIGINT:
        assert "interrupted" in process.stderr.read().decode()
    after = _records(store)
    assert set(before) <= set(after)                   # no finished point lost
    device = qpcsim.load_geometry(command[2], a=5.0)
    keys = sorted(after)[:2]
    for key in keys:                                   # and each is this device's number
        v0 = json.loads(key)[3]["V0"]          # task: (E, T, method, params, structural)
        expect = qpcsim.solve(device, 5.0, V0=v0).conductance
        assert json.loads(after[key])["conductance"] == expect


# ----------------------------------------------------------------- (6) damaged files
def _data_offset(path: Path, name: str) -> int:
    import h5py
    with h5py.File(path, "r") as fh:
        return fh[name].id.get_offset()


def test_flipped_byte_in_result_is_refused(tmp_path, capsys):
    result = qpcsim.sweep(_barrier_device(), {"V0": V0_VALUES}, energy=5.0, workers=1,
                          progress=False)
    path = result.save(tmp_path / "r.nc")
    assert qpcsim.load_result(path).conductance.values.tolist() == \
        result.conductance.values.tolist()
    raw = bytearray(path.read_bytes())
    raw[_data_offset(path, "conductance") + 8 * 3 + 6] ^= 0x10    # one bit of G[3]
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="fails its checksum"):
        qpcsim.load_result(path)
    assert main(["plot", str(path), "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert "fails its checksum" in err and err.count("\n") == 1
    assert not (tmp_path / "g.png").exists()


def test_saved_files_get_the_umask_mode(tmp_path):
    result = qpcsim.sweep(_barrier_device(), {"V0": V0_VALUES[:2]}, energy=5.0, workers=1,
                          progress=False)
    mask = os.umask(0o027)
    try:
        path = result.save(tmp_path / "m.nc")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o640


def test_physical_bounds_are_checked_on_load(tmp_path):
    result = qpcsim.sweep(_barrier_device(), {"V0": V0_VALUES[:3]}, energy=5.0, workers=1,
                          progress=False)
    result.data["conductance"][0] = 194260.0         # edited, then saved with a new checksum
    path = result.save(tmp_path / "b.nc")
    with pytest.raises(ValueError, match="above its .* open modes"):
        qpcsim.load_result(path)


def test_flipped_byte_in_store_is_recomputed_not_mixed(tmp_path):
    device, over = _barrier_device(), {"V0": V0_VALUES}
    store = tmp_path / "s.sqlite"
    reference = qpcsim.sweep(device, over, energy=5.0, workers=1, progress=False, store=store)
    raw = bytearray(store.read_bytes())
    at = raw.find(b'"conductance": ') + len(b'"conductance": ') + 2
    raw[at] = ord("7") if raw[at] != ord("7") else ord("3")
    store.write_bytes(bytes(raw))
    with pytest.warns(qpcsim.engine.store.StoreWarning, match="1 damaged"):
        again = qpcsim.sweep(device, over, energy=5.0, workers=1, progress=False, store=store)
    np.testing.assert_array_equal(again.conductance.values, reference.conductance.values)
