"""Progress of long runs (engine/progress.py): a tqdm bar in a terminal; in a log (not a
TTY) plain progress lines and one summary, never a carriage-return flood."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qpcsim.engine.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--set", "a=10", "--set", "W=150", "--set", "L=200", "--set", "hw_x=1.5",
        "--set", "hw_y=3"]
#: Long commands of several kinds (each a few seconds on the coarse saddle).
COMMANDS = {
    "sweep": ["sweep", "qpc_saddle", *TINY, "--sweep", "V0=2:6:5", "--energy", "8",
              "--workers", "1", "--out", "{tmp}/g.nc"],
    "series": ["sweep", "qpc_saddle", *TINY, "--sweep", "V0=3:6:4", "--sweep", "T=1,2",
               "--energy", "8", "--workers", "1", "--out", "{tmp}/s.nc"],
    "bias map": ["bias", "qpc_saddle", *TINY, "--sweep", "V0=3:6:4", "--bias", "-0.5:0.5:3",
                 "--energy", "8", "--resolution", "0.8", "--workers", "1",
                 "--out", "{tmp}/map.png", "--data", "{tmp}/map.nc"],
    # a self-consistent (Thomas-Fermi) device: the electrostatics sweep
    "electrostatics sweep": ["sweep", "qpc_split_gate_sc", "--set", "a=8", "--set",
                             "resolution=8", "--sweep", "Vg=-2.0:-1.2:3", "--energy", "8",
                             "--workers", "1", "--out", "{tmp}/sc.nc"],
}


def _run(args, tmp_path, stderr, interval="0", stdout=subprocess.DEVNULL):
    env = {**os.environ, "QPCSIM_PROGRESS_INTERVAL": interval}
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    return subprocess.run([sys.executable, "-m", "qpcsim.cli", *argv], cwd=ROOT, env=env,
                          stdout=stdout, stderr=stderr, timeout=300)


@pytest.mark.parametrize("command", [
    "sweep", pytest.param("series", marks=pytest.mark.slow),
    pytest.param("bias map", marks=pytest.mark.slow),
    pytest.param("electrostatics sweep", marks=pytest.mark.slow)])
def test_long_command_in_a_log_prints_progress_lines_and_one_summary(command, tmp_path):
    proc = _run(COMMANDS[command], tmp_path, subprocess.PIPE)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "\r" not in err                                      # no carriage-return flood
    label = {"series": "series", "electrostatics sweep": "sweep"}.get(command, command)
    lines = [line for line in err.splitlines() if line.startswith(f"{label}: ")]
    assert any(" points (" in line and "%)" in line and "ETA ~" in line for line in lines)
    summary = lines[-1]
    assert " points in " in summary and " computed on serial(1), 0 from the store)" in summary
    # rerun (--force: replace the output): every point from the store, said so
    again = _run(COMMANDS[command] + ["--force"], tmp_path, subprocess.PIPE, interval="30")
    total = summary.split(": ", 1)[1].split(" points in ")[0]
    assert again.stderr.decode().splitlines()[-1].endswith("(0 computed on serial(1), "
                                                           f"{total} from the store)")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_terminal_gets_a_tqdm_bar_and_no_summary_line():
    stream = _Terminal()
    bar = Progress(3, "sweep", stream=stream)
    bar.update(3)
    bar.finish("serial(1)")
    text = stream.getvalue()
    assert "\r" in text and "sweep:" in text and "pt/s" in text      # tqdm's bar, redrawn
    assert " computed on " not in text


def test_progress_lines_count_store_and_computed_points():
    stream = io.StringIO()
    bar = Progress(4, "bias map", stream=stream)
    bar.interval = 0.0
    bar.from_store(1)
    bar.update(1)
    bar.update(2)
    bar.finish("processes(2)")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("bias map: 2/4 points (50 %), ETA ~")
    assert lines[1].startswith("bias map: 4/4 points (100 %)")
    assert lines[-1].endswith("(3 computed on processes(2), 1 from the store)")
    silent = io.StringIO()
    off = Progress(4, "sweep", enabled=False, stream=silent)
    off.update(4)
    off.finish("serial(1)")
    assert silent.getvalue() == ""


#: ``qpcsim compare`` runs several engine runs (clean, then each disorder strength): each
#: prints its progress lines and summary under its own label.
COMPARE = ["compare", "qpc_saddle", *TINY, "--disorder", "2", "--seeds", "2", "--energy", "9",
           "--workers", "1", "--out", "{tmp}/c.png"]


@pytest.mark.parametrize("extra, labels", [
    pytest.param(["--sweep", "V0=3:9:13"], ("sweep", "ensemble"), marks=pytest.mark.slow),
    (["--sweep", "V0=3:9:13", "--bias", "0,0.5"],     # (its clean and ensemble runs too)
     ("sweep", "ensemble", "bias map", "bias ensemble")),
    pytest.param(["--sweep", "V0=3:9:19", "--temperature", "0.5,1"], ("sweep", "ensemble"),
                 marks=pytest.mark.slow)])
def test_compare_in_a_log_prints_progress_of_every_run_and_a_summary(extra, labels, tmp_path):
    proc = _run(COMPARE + extra, tmp_path, subprocess.PIPE, stdout=subprocess.PIPE)
    err, out = proc.stderr.decode(), proc.stdout.decode()
    assert proc.returncode == 0, err
    assert "\r" not in err                                      # no carriage-return flood
    for label in labels:
        lines = [line for line in err.splitlines() if line.startswith(f"{label}: ")]
        assert any(" points (" in line and "ETA ~" in line for line in lines), (label, err)
        assert any(" points in " in line and " computed on serial(1)" in line
                   for line in lines), (label, err)
    assert "T (K)" in out and "wrote " in out.splitlines()[-1]           # the final summary
    if "--bias" in extra:
        assert "V_sd (mV)" in out and "interpolation bound <=" in out


def test_current_map_in_a_log_says_what_it_solves_and_when_done(tmp_path):
    """``qpcsim current`` is one scattering solve: a start line (the lattice it solves) and an
    end line with the time, beside the map's own summary; no carriage returns."""
    proc = _run(["current", "qpc_saddle", *TINY, "--energy", "8", "--out", "{tmp}/j.png"],
                tmp_path, subprocess.PIPE, stdout=subprocess.PIPE)
    err, out = proc.stderr.decode(), proc.stdout.decode()
    assert proc.returncode == 0, err
    assert "\r" not in err
    assert "qpcsim current: current map: one scattering solve on 21 x 14 sites" in err
    assert "qpcsim current: current map: done in " in err.splitlines()[-1]
    assert "current through x = 0" in out and "wrote " in out


def test_ensemble_with_progress_prints_lines_and_one_summary(monkeypatch, capsys):
    import qpcsim
    monkeypatch.setenv("QPCSIM_PROGRESS_INTERVAL", "0")
    device = qpcsim.load_geometry("disordered_wire", a=5.0, W=60.0, L=100.0)
    qpcsim.ensemble(device, 3, energy=20.0, disorder=40.0, workers=1, progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines)
    assert lines[0].startswith("ensemble: 1/3 points (33 %), ETA ~")
    assert lines[-1].startswith("ensemble: 3 points in ")
    assert lines[-1].endswith("(3 computed on serial(1), 0 from the store)")
