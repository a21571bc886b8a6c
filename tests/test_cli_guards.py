"""Command-line guards (issue 25): contradictory arguments refused before any work,
negative numbers in scientific notation accepted, and user-code failures as one
line naming the file and line."""
from __future__ import annotations

import textwrap

import pytest

import qpcsim
from qpcsim.cli import main
from qpcsim.engine.executors import default_workers

SMALL = ["--set", "a=10"]


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("argv, message", [
    (["--sweep", "V0=0:3:3", "--set", "V0=1"], "V0 is both swept"),
    (["--sweep", "V0=0,1,3", "--adaptive", "0.1"], "is a list, which --adaptive cannot"),
    (["--sweep", "V0=0:3:3", "--plot", "{tmp}/g.png", "--logx"], "--logx is not allowed"),
    (["--sweep", "V0=0:3:3", "--workers", str(default_workers() + 1)],
     f"more than the {default_workers()} core"),
], ids=["set-and-sweep", "adaptive-list", "logx-nonpositive", "workers-above-cores"])
def test_contradictory_sweep_arguments_are_refused_before_any_work(tmp_path, capsys, argv,
                                                                   message):
    out = tmp_path / "r.nc"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = _run(capsys, "sweep", "qpc_saddle", *SMALL, *argv, "--energy", "10",
                        "--out", str(out), "--quiet")
    assert code == 2 and message in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []          # nothing written


def test_compare_refuses_a_repeated_sweep(tmp_path, capsys):
    code, _, err = _run(capsys, "compare", "qpc_saddle", "--disorder", "1", "--sweep",
                        "V0=0:1:2", "--sweep", "V0=1:2:3", "--out", str(tmp_path / "c.png"))
    assert code == 2 and "--sweep is given 2 times" in _one_error_line(err)


def test_negative_scientific_energy_is_a_value(tmp_path, capsys):
    code, out, err = _run(capsys, "sweep", "qpc_saddle", *SMALL, "--sweep", "V0=0:1:2",
                          "--energy", "-1e-3", "--out", str(tmp_path / "n.nc"), "--quiet",
                          "--workers", "1")
    assert code == 0, err
    assert "below the 2DEG band bottom" in err              # and it is warned about
    assert qpcsim.load_result(tmp_path / "n.nc").attrs["energy_meV"] == -1e-3


GEOMETRIES = {
    "syntax": ("def make_device(**p)\n    return 42\n", "has a syntax error at {path}:4"),
    "returns-42": ("def make_device(**p):\n    return 42\n", "returned int 42"),
    "sys-exit": ("import sys\nsys.exit(3)\n", "called sys.exit(3) at {path}:5"),
    "non-vectorized": ("def make_device(**p):\n"
                       "    def pot(x, y, V0=1.0):\n"
                       "        return V0 if x > 0 else 0.0\n"
                       "    return qpcsim.Device(width=100, length=100, a=10, potential=pot)\n",
                       "at {path}:6: The truth value"),
    "raises": ("def make_device(**p):\n"
               "    def pot(x, y, V0=1.0):\n"
               "        return V0 / 0 * x\n"
               "    return qpcsim.Device(width=100, length=100, a=10, potential=pot)\n",
               "ZeroDivisionError at {path}:6"),
}


@pytest.mark.parametrize("case", sorted(GEOMETRIES))
@pytest.mark.parametrize("command", ["sweep", "params"])
def test_user_code_failures_are_one_line_naming_file_and_line(tmp_path, capsys, case, command):
    body, expected = GEOMETRIES[case]
    path = tmp_path / f"{case.replace('-', '_')}.py"
    path.write_text("import qpcsim\nDEFAULTS = dict(V0=1.0)\n\n" + textwrap.dedent(body))
    argv = (["sweep", str(path), "--sweep", "V0=0:1:2", "--energy", "5", "--workers", "1",
             "--quiet", "--out", str(tmp_path / "o.nc")] if command == "sweep" else
            ["params", str(path)])
    code, _, err = _run(capsys, *argv)
    if command == "params" and case in ("non-vectorized", "raises"):
        assert code == 0        # params does not evaluate the potential
        return
    assert code == 2
    assert expected.format(path=path) in _one_error_line(err)


def test_negative_curvature_is_refused(tmp_path, capsys):
    code, _, err = _run(capsys, "sweep", "qpc_saddle", *SMALL, "--set", "hw_y=-2", "--sweep",
                        "V0=0:1:2", "--energy", "5", "--out", str(tmp_path / "o.nc"), "--quiet")
    assert code == 2 and "hw_y=-2.0 meV is not allowed: it must be > 0" in _one_error_line(err)


def test_plot_result_of_none_is_refused():
    from qpcsim.plotting import plot_result
    with pytest.raises(ValueError, match="result=None is not allowed: give a SweepResult"):
        plot_result(None)


@pytest.mark.parametrize("flags, slip", [
    (["--density", "2.5"], "density=2.5 cm^-2 is outside the range of real samples"),
    (["--unit-nm", "1e-3"], "did you mean unit_nm=1 (a GDS unit 1000x larger)"),
], ids=["density-exponent-forgotten", "gds-unit-1000x"])
def test_electrostatics_warns_the_likely_slip(tmp_path, capsys, flags, slip):
    from pathlib import Path
    gds = Path(__file__).resolve().parent.parent / "geometries" / "layouts" / "split_gate.gds"
    code, _, err = _run(capsys, "electrostatics", str(gds), "--layer", "1=left", "--layer",
                        "2=right", "--resolution", "40", *flags, "--out",
                        str(tmp_path / "e.png"))
    assert slip in err
