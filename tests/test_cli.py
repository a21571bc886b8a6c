"""The `qpcsim` command line, end to end, in subprocesses."""
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import qpcsim

SMALL = ["--set", "a=4", "--set", "W=200", "--set", "L=320"]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "qpcsim.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_info_names_the_solver():
    out = run("info")
    assert out.returncode == 0
    assert "Kwant   1.5.0" in out.stdout and "sparse solver: MUMPS" in out.stdout
    assert "BLAS for MUMPS:" in out.stdout and "BLAS for NumPy:" in out.stdout
    assert re.search(r"mumps back end: python-mumps \d+\.\d+\.\d+ \(Kwant's binding\); "
                     r"ordering with a Schur complement: [A-Z]+ \(INFOG\(7\)\)", out.stdout)


def test_sweep_plot_show_end_to_end(tmp_path):
    res = tmp_path / "r.nc"
    out = run("sweep", "qpc_saddle", *SMALL, "--sweep", "V0=0:8:33", "--energy", "9",
              "--workers", "2", "--out", str(res), "--plot", str(tmp_path / "r.png"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert "G/G0" in out.stdout and "fast-rgf" in out.stdout   # auto: narrow device
    table = [line.split() for line in out.stdout.splitlines() if line[:3].strip().isdigit()]
    assert {1, 2} <= {int(row[0]) for row in table}
    result = qpcsim.load_result(res)
    assert result.conductance.shape == (33,)
    assert (tmp_path / "r.png").stat().st_size > 10_000
    assert run("plot", str(res), "--out", str(tmp_path / "p.png")).returncode == 0
    assert run("show", "qpc_saddle", *SMALL, "--out", str(tmp_path / "d.png")).returncode == 0
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_two_dimensional_sweep_and_map(tmp_path):
    res = tmp_path / "map.nc"
    out = run("sweep", "qpc_saddle", *SMALL, "--sweep", "V0=4:8:4", "--sweep", "E=8:9:3",
              "--workers", "1", "--out", str(res), "--plot", str(tmp_path / "m.png"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert qpcsim.load_result(res).conductance.shape == (4, 3)


@pytest.mark.parametrize("args, message", [
    (["--sweep", "V0=1:2"], "is malformed: use NAME=START:STOP:NUM"),
    (["--sweep", "V0=1:2:1"], "NUM=1 is not allowed, it must be >= 2"),
    (["--sweep", "V0=2:2:5"], "empty range"),
    (["--sweep", "Vg=1:2:5"], "unknown swept parameter 'Vg'; known swept parameters are: B, E, L, L_switch, T, V0, W, a, "
                                    "energy, hw_x, hw_y, temperature"),
    (["--sweep", "V0=1:2:5", "--set", "hwx=1"], "unknown parameter of qpc_saddle 'hwx'"),
    (["--sweep", "V0=1:2:5", "--set", "W"], "--set 'W' is malformed: use KEY=VALUE"),
    (["--sweep", "V0=1:2:5", "--scheduler", "tcp://127.0.0.1:9"], "not reachable within"),
])
def test_bad_input_is_one_line_no_traceback(tmp_path, args, message):
    out = run("sweep", "qpc_saddle", *SMALL, "--energy", "9", "--out", str(tmp_path / "r.nc"),
              "--quiet", *args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["--sweep", "Vg=0:1:3"], ["--set", "Vg=1", "--sweep", "B=0,1"]])
def test_hardwall_old_gate_name_names_U_gate(tmp_path, args):
    """qpc_hardwall's gate is U_gate (meV, an energy); its old name Vg is refused in one line."""
    out = run("sweep", "qpc_hardwall", "--set", "a=5", "--energy", "8", "--out",
              str(tmp_path / "r.nc"), "--quiet", *args)
    assert out.returncode == 2
    assert "its gate is U_gate, a potential energy in meV" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_unwritable_output_and_missing_make_device(tmp_path):
    out = run("sweep", "qpc_saddle", *SMALL, "--energy", "9", "--sweep", "V0=1:2:3",
              "--out", "/proc/forbidden/r.nc", "--quiet")
    assert out.returncode == 2 and "cannot be written" in out.stderr
    bad = tmp_path / "nogeo.py"
    bad.write_text("x = 1\n")
    out = run("sweep", str(bad), "--energy", "9", "--sweep", "V0=1:2:3",
              "--out", str(tmp_path / "r.nc"), "--quiet")
    assert out.returncode == 2 and "does not define make_device" in out.stderr
    assert "Traceback" not in out.stderr


# ------------------------------------------------- the daily loop (issue 14), in-process
def cli(*args):
    from qpcsim.cli import main
    return main(list(args))


def test_set_B_and_list_and_log_sweeps(tmp_path, capsys):
    out = tmp_path / "b.nc"
    assert cli("sweep", "qpc_saddle", *SMALL, "--set", "B=0.5", "--sweep", "V0=1,3,5",
               "--energy", "9", "--workers", "1", "--out", str(out), "--quiet") == 0
    res = qpcsim.load_result(out)
    np.testing.assert_array_equal(res["V0"].values, [1, 3, 5])
    assert '"B": 0.5' in res.attrs["device_parameters"]
    assert res.attrs["command"].startswith("qpcsim sweep qpc_saddle")
    dev = qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0)
    assert res.conductance.values[1] == qpcsim.solve(dev, 9.0, V0=3.0, B=0.5).conductance
    assert "B = 0.5 T" in capsys.readouterr().out
    out2 = tmp_path / "log.nc"
    assert cli("sweep", "qpc_saddle", *SMALL, "--sweep", "B=log:0.01:1:3", "--energy", "9",
               "--workers", "1", "--out", str(out2), "--quiet", "--plot",
               str(tmp_path / "log.png"), "--logx") == 0
    np.testing.assert_allclose(qpcsim.load_result(out2)["B"].values, [0.01, 0.1, 1.0])
    assert cli("plot", str(out2), "--out", str(tmp_path / "p.png"), "--logx") == 0


def test_structural_sweep_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "w.nc"
    assert cli("sweep", "disordered_wire", "--set", "L=40", "--set", "disorder=0",
               "--sweep", "W=60,100", "--energy", "10", "--workers", "1", "--out", str(out),
               "--quiet") == 0
    assert "structural sweep over W: 2 systems built" in capsys.readouterr().out
    np.testing.assert_allclose(qpcsim.load_result(out).conductance.values, [2, 4], atol=1e-9)


def test_params_lists_units_defaults_and_kinds(capsys):
    assert cli("params", "qpc_hardwall") == 0
    text = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in text.splitlines()[4:] if line.strip()}
    assert rows["U_gate"][1:4] == ["0", "meV", "runtime"]
    assert rows["W"][1:4] == ["120", "nm", "structural"]
    assert rows["B"][1:4] == ["0", "T", "runtime"]


def test_energy_sweep_from_band_bottom(tmp_path, capsys):
    out = tmp_path / "e.nc"
    assert cli("sweep", "disordered_wire", "--set", "L=40", "--set", "disorder=0",
               "--sweep", "energy=0:8:9", "--workers", "1", "--out", str(out), "--quiet") == 0
    res = qpcsim.load_result(out)
    g = res.conductance.values
    assert g[0] == 0 and res["open_modes"].values[0].tolist() == [0, 0]
    np.testing.assert_allclose(g, [0, 1, 1, 2, 2, 3, 3, 3, 3], atol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["--sweep", "B=log:0:1:5"], "log spacing cannot reach or cross zero"),
    (["--sweep", "B=log:-1:1:5"], "log spacing cannot reach or cross zero"),
    (["--sweep", "V0=1,2,1"], "1 is listed more than once"),
    (["--sweep", "T=0:2:3"], "a temperature sweep needs T > 0 K"),
    (["--sweep", "W=100:2000:3000"], "sweeping W rebuilds 3000 systems"),
    (["--sweep", "V0=1"], "a single value is --set NAME=VALUE"),
])
def test_bad_sweeps_are_one_line(tmp_path, capsys, args, message):
    swept = {a.partition("=")[0] for a in args if "=" in a}   # swept and --set: refused (#25)
    fixed = [f for k, v in zip(SMALL[::2], SMALL[1::2]) if v.partition("=")[0] not in swept
             for f in (k, v)]
    assert cli("sweep", "qpc_saddle", *fixed, "--energy", "9", "--out", str(tmp_path / "r.nc"),
               "--quiet", *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


# ------------------------------------------- show --current and temperature series (issue)
TINY = ["--set", "a=10", "--set", "W=150", "--set", "L=200", "--set", "hw_x=1.5",
        "--set", "hw_y=3"]


def tiny_device():
    return qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


def _number_after(text, label):
    return float(text.split(label, 1)[1].split(";")[0].split()[0])


def test_show_current_draws_the_map_and_prints_the_transmission(tmp_path, capsys):
    t = qpcsim.solve(tiny_device(), 8.0, V0=4.0).transmission
    assert 0.5 < t < 3.5
    for lead, sign in ((0, 1.0), (1, -1.0)):
        out = tmp_path / f"current{lead}.png"
        assert cli("show", "qpc_saddle", *TINY, "--set", "V0=4", "--current", "--energy", "8",
                   "--lead", str(lead), "--out", str(out)) == 0
        text = capsys.readouterr().out
        assert f"from lead {lead}; transmission" in text
        assert _number_after(text, "transmission") == pytest.approx(t, abs=1e-10)
        assert _number_after(text, "current through x = 0:") == pytest.approx(sign * t, abs=1e-10)
        assert out.read_bytes()[:4] == b"\x89PNG" and out.stat().st_size > 10_000
    # one mode: its own sum_n |t_n0|^2, as qpcsim current prints it
    cmap = qpcsim.current_density(tiny_device(), 8.0, mode=0, V0=4.0)
    assert cli("show", "qpc_saddle", *TINY, "--set", "V0=4", "--current", "--energy", "8",
               "--mode", "0", "--out", str(tmp_path / "m.png")) == 0
    text = capsys.readouterr().out
    assert "1 mode(s) from lead 0" in text
    assert _number_after(text, "transmission") == pytest.approx(cmap.transmission[0], abs=1e-10)
    # without --current: the device figure, as before (no current computed)
    assert cli("show", "qpc_saddle", *TINY, "--energy", "8", "--out", str(tmp_path / "d.png")) == 0
    text = capsys.readouterr().out
    assert "transmission" not in text and "wrote" in text


@pytest.mark.parametrize("args, message", [
    (["--current", "--energy", "8", "--mode", "50"],
     "mode=50 is not allowed: lead 0 has 6 open mode(s) at 8 meV, use 0 .. 5"),
    (["--current", "--energy", "8", "--lead", "2"], "lead=2 is not allowed: use 0 (left) or 1"),
    (["--mode", "1"], "--mode 1 is not allowed without --current"),
    (["--lead", "1", "--energy", "8"], "--lead 1 is not allowed without --current"),
    (["--current"], "--current needs --energy"),
])
def test_show_current_bad_input_is_one_line(tmp_path, capsys, args, message):
    out = tmp_path / "c.png"
    assert cli("show", "qpc_saddle", *TINY, "--set", "V0=4", *args, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def _table(text):
    """The series table printed by qpcsim sweep: {gate value: [G at each T]}."""
    lines = text.split("conductance G (G0) per temperature:\n", 1)[1].splitlines()[1:]
    return {float(line.split()[0]): [float(v) for v in line.split()[1:]] for line in lines
            if line.strip()}


def test_sweep_over_temperature_is_one_spectral_series(tmp_path, capsys, monkeypatch):
    out, fig = tmp_path / "series.nc", tmp_path / "series.png"
    args = ["sweep", "qpc_saddle", *TINY, "--sweep", "V0=3:6:5", "--sweep", "T=1,2",
            "--energy", "8", "--workers", "1", "--quiet", "--out", str(out)]
    assert cli(*args, "--plot", str(fig)) == 0
    text = capsys.readouterr().out
    dev = tiny_device()
    gates = np.linspace(3.0, 6.0, 5)
    expected = qpcsim.temperature_series(dev, {"V0": gates}, 8.0, [1.0, 2.0], workers=1,
                                         progress=False)
    result = qpcsim.load_result(out)
    g = result.conductance
    assert g.dims == ("V0", "temperature") and g.attrs["units"] == "G0"
    np.testing.assert_array_equal(result["temperature"].values, [1.0, 2.0])
    np.testing.assert_allclose(g.values, expected["conductance"].values, rtol=0, atol=1e-12)
    assert np.ptp(g.values[:, 1] - g.values[:, 0]) > 1e-3       # temperature visibly acts
    # the printed table is the saved one (12 decimals)
    table = _table(text)
    assert sorted(table) == pytest.approx(gates)
    for k, v in enumerate(gates):
        np.testing.assert_allclose(table[min(table, key=lambda x: abs(x - v))], g.values[k],
                                   rtol=0, atol=1e-12)
    # one point against a plain finite-T solve (on a step: G = 1.41 at T = 2 K)
    single = qpcsim.solve(dev, 8.0, temperature=2.0, V0=3.75).conductance
    assert 1.2 < single < 1.6
    assert g.sel(V0=3.75, temperature=2.0).item() == pytest.approx(single, abs=1e-5)
    solves = result.attrs["solves_per_point"]
    assert solves > 10
    assert (f"temperature series: 2 temperatures from one spectral sweep, {solves} solves "
            "per point") in text
    assert "5 points x 2 temperatures" in text
    assert result.attrs["store_hash"] == expected.attrs["store_hash"]
    assert "T = " not in result.caption() and "E = 8 meV" in result.caption()
    assert fig.read_bytes()[:4] == b"\x89PNG"
    # qpcsim plot reads it back: one curve per temperature, labelled in K
    from qpcsim.plotting import plot_result
    ax = plot_result(result).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["T = 1 K", "T = 2 K"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), g.values[:, 1], atol=1e-15)
    assert cli("plot", str(out), "--out", str(tmp_path / "p.png")) == 0
    # the same command again resumes from the store: nothing recomputed, same file
    assert (tmp_path / "series.nc.points.sqlite").exists()
    from qpcsim.physics import series
    monkeypatch.setattr(series, "compute_spectrum",
                        lambda *a, **k: pytest.fail("a stored point was recomputed"))
    assert cli(*args) == 0
    np.testing.assert_array_equal(qpcsim.load_result(out).conductance.values, g.values)
    capsys.readouterr()
    # another temperature set is another sweep: its result is not overwritten without --force
    other = [a if a != "T=1,2" else "T=1,3" for a in args]
    assert cli(*other) == 2
    assert "holds the result of a different sweep" in capsys.readouterr().err


@pytest.mark.parametrize("temps, message", [
    ("T=-1,2", "contains T=-1 K: a temperature sweep needs T > 0 K"),
    ("T=0,1", "contains T=0 K: a temperature sweep needs T > 0 K"),
    ("temperature=1,1", "1 is listed more than once"),
])
def test_sweep_bad_temperature_is_one_line(tmp_path, capsys, monkeypatch, temps, message):
    from qpcsim.physics import series
    monkeypatch.setattr(series, "compute_spectrum", lambda *a, **k: pytest.fail("solved"))
    out = tmp_path / "r.nc"
    assert cli("sweep", "qpc_saddle", *TINY, "--sweep", "V0=3:6:5", "--sweep", temps,
               "--energy", "8", "--workers", "1", "--quiet", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "r.nc.points.sqlite").exists()


@pytest.mark.parametrize("extra, note", [
    (["--sweep", "V0=3:6:5", "--adaptive", "0.01"], "temperature swept with --adaptive"),
    (["--sweep", "W=150,160"], "temperature swept with W (each value rebuilds the system): each point is its own finite-T"),
])
def test_sweep_temperature_outside_a_series_keeps_the_engine(tmp_path, capsys, monkeypatch,
                                                              extra, note):
    """--adaptive and structural axes: each point a finite-T solve (qpcsim.sweep), said once."""
    import qpcsim.cli.sweep as cli_sweep
    from qpcsim.physics import series
    calls = []

    def fake_run(kind, **kwargs):      # the engine's generic kind, not a temperature series
        calls.append((sorted(kind.spec.names), kind.spec.temperature))
        raise ValueError("stopped here")
    monkeypatch.setattr(cli_sweep, "run_kind", fake_run)
    monkeypatch.setattr(series, "temperature_series", lambda *a, **k: pytest.fail("series"))
    tiny = ["--set", "a=10", "--set", "L=200", "--set", "hw_x=1.5", "--set", "hw_y=3"]
    if "--adaptive" in extra:
        tiny += ["--set", "W=150"]
    # T=1:2:2 (the values 1, 2): --adaptive refuses a list (#25)
    assert cli("sweep", "qpc_saddle", *tiny, *extra, "--sweep", "T=1:2:2", "--energy", "8",
               "--workers", "1", "--out", str(tmp_path / "r.nc")) == 2
    err = capsys.readouterr().err
    assert note in err and "stopped here" in err
    assert calls == [(sorted([extra[1].split("=")[0], "T"]), 0.0)]


def test_version_names_qpcsim_kwant_and_python():
    import platform

    import kwant
    out = run("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (f"qpcsim {qpcsim.__version__} (Kwant {kwant.__version__}, "
                                  f"Python {platform.python_version()})")


@pytest.mark.parametrize("argv, absent", [
    (["--version"], ["numpy", "kwant", "xarray", "matplotlib"]),
    (["params", "qpc_hardwall"], ["kwant", "scipy.sparse", "xarray", "matplotlib", "dask"]),
], ids=["version", "params"])
def test_parsing_imports_only_the_subcommand(argv, absent):
    """`qpcsim --version` and `qpcsim params` answer in well under 0.3 s: they import
    neither Kwant nor the other subcommands' modules (checked as modules, not timed)."""
    probe = ("import json, sys\nfrom qpcsim.cli import main\ntry:\n    main(%r)\n"
             "except SystemExit:\n    pass\nprint(json.dumps([[m for m in %r if m in sys.modules], "
             "[m for m in sys.modules if m.startswith('qpcsim.cli.')]]))" % (argv, absent))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    loaded, cli_modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == []
    expected = {"--version": set(), "params": {"qpcsim.cli.params", "qpcsim.cli.args"}}[argv[0]]
    assert set(cli_modules) == expected


def test_subcommand_table_matches_the_modules():
    """SUBCOMMANDS (which module `qpcsim COMMAND` imports) lists what each registers."""
    import argparse
    import importlib

    from qpcsim.cli import SUBCOMMANDS, build_parser
    for module, commands in SUBCOMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        assert set(sub.choices) == set(commands), module
    every = build_parser().parse_args(["params", "qpc_hardwall"])
    assert every.command == "params"
