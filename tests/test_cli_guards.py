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


# ------------------------------------------------ from a bad-input audit (2026-12-07)
@pytest.mark.parametrize("argv, message", [
    # each ran to rc 0 with a wrong number or figure, or failed inside NumPy, before
    (["coulomb", "--gamma", "nan"], "--gamma=nan meV is not allowed: it must be finite"),
    (["coulomb", "--gamma", "inf"], "--gamma=inf meV is not allowed: it must be finite"),
    (["coulomb", "--spacing", "-1"], "--spacing=-1.0 meV is not allowed: it must be >= 0"),
    (["coulomb", "--levels", "0"], "--levels=0 is not allowed: it must be a whole number >= 1"),
    (["show", "qpc_saddle", *SMALL, "--energy", "nan"], "--energy=nan meV is not allowed"),
    (["sweep", "qpc_saddle", *SMALL, "--set", "a=4", "--sweep", "V0=0:1:2", "--energy", "9"],
     "--set a is given twice (a=10.0 and 'a=4'): give it once"),
    (["sweep", "qpc_saddle", *SMALL, "--sweep", "V0=0:1:2", "--sweep", "B=-1,1", "--energy",
      "9", "--plot", "{tmp}/m.png", "--logy"], "--logy is not allowed: the axis B has values"),
    (["electrostatics", "qpc_split_gate_sc", "--set", "resolution=10", "--set", "a=10",
      "--set", "margin=200", "--set", "Vg=abc"], "Vg='abc' is not allowed: it must be a real"),
], ids=["gamma-nan", "gamma-inf", "spacing", "levels", "show-energy", "set-twice", "logy-map",
        "voltage-word"])
def test_audited_bad_input_is_one_line(tmp_path, capsys, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / ("r.nc" if argv[0] == "sweep" else "f.png"))]
    code, _, err = _run(capsys, *argv, *(["--quiet"] if argv[0] == "sweep" else []))
    assert code == 2 and message in _one_error_line(err)


def test_a_huge_grid_is_refused_before_it_is_listed(tmp_path, capsys):
    """4000 x 4000 points: the grid and its tasks were listed (5.7 GB in 60 s, then more)
    before the memory check ran; now refused by it at once."""
    code, _, err = _run(capsys, "sweep", "qpc_saddle", *SMALL, "--sweep", "V0=0:6:4000",
                        "--sweep", "B=0:1:4000", "--energy", "10", "--workers", "1",
                        "--out", str(tmp_path / "x.nc"), "--quiet")
    assert code == 2 and "16,000,000 points" in _one_error_line(err)


def test_compare_refuses_a_billion_seeds_at_once(tmp_path, capsys):
    """np.arange(1e9) seeds filled the machine's memory before any check."""
    code, _, err = _run(capsys, "compare", "qpc_saddle", *SMALL, "--set", "W=150", "--set",
                        "L=200", "--set", "hw_y=4", "--energy", "12", "--workers", "1", "--quiet", "--sweep",
                        "V0=0:12:5", "--disorder", "1", "--seeds", "1000000000",
                        "--out", str(tmp_path / "c.png"))
    assert code == 2 and "seeds=1000000000 (5 points x 1 disorder strength(s)) needs an " \
        "estimated" in _one_error_line(err)


def test_pinchoff_refuses_a_fixed_value_for_a_swept_gate(tmp_path, capsys):
    code, _, err = _run(capsys, "pinchoff", "qpc_split_gate_sc", "--resolution", "10",
                        "--workers", "1", "--sweep", "left=-2:0:3", "--sweep", "right=-2:0:3",
                        "--set", "left=1", "--out", str(tmp_path / "p.png"))
    assert code == 2 and "sets the swept gate(s) ['left']" in _one_error_line(err)


def test_multi_terminal_summary_does_not_call_T10_the_conductance(tmp_path, capsys):
    """A six-terminal Hall bar: the printed column was "G (G0)" and its plateau analysis ran
    on G0 T(top_left <- source); now labelled, and no plateau table."""
    code, out, err = _run(capsys, "sweep", "hall_bar_qpc", "--set", "a=10", "--workers", "1",
                          "--energy", "10", "--set", "B=3", "--sweep", "Vg=-0.6:0:2",
                          "--out", str(tmp_path / "h.nc"), "--quiet")
    assert code == 0, err
    assert "G0 T(1<-0)" in out and "G (G0)" not in out
    assert "a 6-terminal device: conductance is G0 T(lead 1 <- lead 0)" in out


def test_multi_terminal_temperature_series_is_not_summarized_as_a_qpc(tmp_path, capsys):
    code, out, err = _run(capsys, "sweep", "hall_bar_qpc", "--set", "a=10", "--workers", "1",
                          "--energy", "10", "--set", "B=3", "--sweep", "temperature=0.5,1",
                          "--sweep", "Vg=-0.6:0:3", "--out", str(tmp_path / "h.nc"), "--quiet")
    assert code == 0, err
    assert "conductance G0 T(lead 1 <- lead 0) per temperature" in out
    assert "a 6-terminal device" in out and "pinch-off not reached" not in out
