"""Clean vs disordered at finite source-drain bias (physics/compare.py): the traces are
dI/dV in the symmetric drop (mu_L,R = E_F +- eV/2), each realization's from its own T(E).

Checked against: the zero-bias comparison (V_sd = 0, to 1e-12), ``bias_map`` on the clean
device (within its interpolation bound), and a brute-force dI/dV of one disordered
realization, (1/2)[G(E_F + V/2) + G(E_F - V/2)] from direct solves at T = 0 (within the
stated bound, <= 1e-4 G0). A coarse saddle (a = 10 nm, 13 gate points, 2 seeds): ~5 s.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import qpcsim
from qpcsim.cli import main
from qpcsim.physics.compare import BiasComparison, compare_disorder

ENERGY = 9.0                      # meV: the saddle's first plateau at V0 ~ 5..7 meV
GATES = np.linspace(3.0, 9.0, 13)  # V0 (meV)
BIAS = 0.5                        # mV
TOLERANCE = 1e-4                  # G0: the default thermal_tolerance of the bias kinds


@pytest.fixture(scope="module")
def saddle():
    return qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0)


@pytest.fixture(scope="module")
def biased(saddle):
    return compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, workers=1,
                            bias=[BIAS, 0.0])


def test_zero_bias_is_the_zero_bias_compare(saddle, biased):
    plain = compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, workers=1)
    assert isinstance(biased, BiasComparison)
    np.testing.assert_array_equal(biased.biases, [0.0, BIAS])      # ascending
    at_zero = biased.at(0.0)
    np.testing.assert_allclose(at_zero.clean, plain.clean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(at_zero.ensembles[2.0].conductance,
                               plain.ensembles[2.0].conductance, rtol=0, atol=1e-12)
    for level in (0.0, 2.0):
        for key, value in plain.quality[level].items():
            assert at_zero.quality[level][key] == pytest.approx(value, abs=1e-12), key


def test_clean_trace_at_finite_bias_is_bias_maps(saddle, biased):
    data = qpcsim.bias_map(saddle, {"V0": GATES}, [BIAS], ENERGY, workers=1)
    result = biased.at(BIAS)
    bound = data["didv_error_bound"].values[:, 0]
    assert np.all(bound <= TOLERANCE)
    assert np.all(np.abs(result.clean - data["differential_conductance"].values[:, 0])
                  <= bound)
    assert 0 < result.error_bound <= TOLERANCE


def test_disordered_realization_is_the_brute_force_didv(saddle, biased):
    """dI/dV = (1/2)[G(E_F + V/2) + G(E_F - V/2)] at T = 0 (G in G0 from direct solves of
    seed 1's landscape); measured error 6e-9 G0 against the bound 9e-5 G0 (<= 1e-4)."""
    result = biased.at(BIAS)
    ens = result.ensembles[2.0]
    disordered = qpcsim.with_disorder(saddle, 2.0)
    row = int(np.flatnonzero(ens.seeds == 1)[0])
    def g(energy, v0):
        return qpcsim.solve(disordered, energy, V0=v0, seed=1).conductance
    brute = np.array([0.5 * (g(ENERGY + BIAS / 2, v) + g(ENERGY - BIAS / 2, v))
                      for v in GATES])
    error = np.abs(ens.conductance[row] - brute)
    assert np.all(error <= result.error_bound), (error.max(), result.error_bound)
    # the disorder matters at this strength (the test would see a clean trace)
    assert np.abs(ens.conductance[row] - result.clean).max() > 10 * result.error_bound


def test_saved_comparison_reads_back(biased, tmp_path):
    import xarray as xr
    with xr.open_dataset(biased.save(tmp_path / "c.nc"), engine="h5netcdf") as data:
        assert data["clean"].dims == ("temperature", "bias", "V0")
        assert data["conductance"].dims == ("temperature", "bias", "disorder", "seed", "V0")
        assert data["bias"].attrs["units"] == "mV"
        np.testing.assert_array_equal(data["conductance"].sel(bias=BIAS, disorder=2.0)[0],
                                      biased.at(BIAS).ensembles[2.0].conductance)
        assert float(data["didv_error_bound"].sel(bias=0.0).values[0]) == 0.0   # the linear G
        assert 0 < float(data["didv_error_bound"].max()) <= TOLERANCE


@pytest.mark.slow
def test_bias_and_temperature_combine(saddle):
    """Two temperatures x one bias (~17 s): every trace within the bound; the warmer
    plateau is less flat on the same windows."""
    gates = np.linspace(3.0, 9.0, 19)      # finite T: the plateau needs >= 8 points
    result = compare_disorder(saddle, [2.0], 2, {"V0": gates}, ENERGY, workers=1,
                              bias=BIAS, temperature=[0.5, 1.0])
    np.testing.assert_array_equal(result.temperatures, [0.5, 1.0])
    warm, cold = result.at(BIAS, 1.0), result.at(BIAS, 0.5)
    assert max(warm.error_bound, cold.error_bound) <= TOLERANCE
    assert warm.quality[0.0]["flatness"] > cold.quality[0.0]["flatness"]
    data = qpcsim.bias_map(saddle, {"V0": gates}, [BIAS], ENERGY, 1.0, workers=1)
    np.testing.assert_array_equal(warm.clean, data["differential_conductance"].values[:, 0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1.0, bias=[BIAS]), "temperature=-1.0 K is not allowed"),
    (dict(bias=["half"]), "bias='half' is not allowed: it must be a real number mV"),
    (dict(bias=[0.5, 0.5]), "give one or more distinct source-drain biases"),
    (dict(bias=[30.0]), "the energy window reaches 24 meV.*lower the temperature or the bias"),
])
def test_bad_input_is_refused_in_one_line(saddle, kwargs, message):
    with pytest.raises(ValueError, match=message) as refused:
        compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, workers=1, **kwargs)
    assert "\n" not in str(refused.value)


def test_a_bias_needs_two_terminals():
    hall = qpcsim.load_geometry("hall_bar_qpc")
    with pytest.raises(ValueError, match=r"has 6 terminals .* between exactly two leads"):
        compare_disorder(hall, [2.0], 2, {"Vg": [-0.3, -0.2]}, 10.0, bias=[0.0, 0.5])


def test_cli_refuses_a_malformed_bias(tmp_path, capsys):
    assert main(["compare", "qpc_saddle", "--disorder", "2", "--sweep", "V0=3:9:13",
                 "--energy", "9", "--bias", "0,half", "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert "--bias '0,half' is malformed" in err and "Traceback" not in err


def test_store_resumes_every_run_and_fresh_clears_it(saddle, biased, tmp_path, monkeypatch,
                                                     capsys):
    """``store=DIR``: one store per engine run; a rerun takes every point from them (bit for
    bit the same comparison), ``fresh=True`` deletes them first and says so."""
    store = tmp_path / "cmp.points"
    run = dict(workers=1, bias=[0.0, BIAS], store=store)
    first = compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, **run)
    names = sorted(re.sub(r"_[0-9a-f]{12}\.sqlite$", ".sqlite", p.name) for p in store.iterdir())
    assert names == ["U2meV_T0K.sqlite", "U2meV_T0K_bias.sqlite", "clean_T0K.sqlite",
                     "clean_T0K_bias.sqlite"]
    monkeypatch.setenv("QPCSIM_PROGRESS_INTERVAL", "0")
    capsys.readouterr()
    again = compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, progress=True, **run)
    summaries = [line for line in capsys.readouterr().err.splitlines() if " points in " in line]
    assert len(summaries) == 4 and all("(0 computed on serial(1)" in s for s in summaries)
    for v in (0.0, BIAS):
        np.testing.assert_array_equal(again.at(v).clean, first.at(v).clean)
        np.testing.assert_array_equal(again.at(v).ensembles[2.0].conductance,
                                      biased.at(v).ensembles[2.0].conductance)
    notes = []
    compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, fresh=True, report=notes.append,
                     **run)
    assert len(notes) == 4 and all(n.startswith("fresh start: deleted store=") for n in notes)
    with pytest.raises(ValueError, match="store=.* is not allowed: compare keeps one store"):
        compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, workers=1,
                         store=next(store.iterdir()))


def test_cli_fresh_needs_a_store(tmp_path, capsys):
    assert main(["compare", "qpc_saddle", "--disorder", "2", "--sweep", "V0=3:9:13",
                 "--energy", "9", "--fresh", "--out", str(tmp_path / "c.png")]) == 2
    assert "--fresh is not allowed without --store DIR" in capsys.readouterr().err


@pytest.mark.parametrize("zeeman", [False, True])
def test_transmission_at_a_tiny_bias_is_the_zero_bias_one(zeeman):
    """G = spin_factor T at every bias (1, or 1/2 with resolved spins): at V_sd = 1e-4 mV the
    disordered transmission is the V_sd = 0 one within the interpolation bound plus the
    curvature (V/2)^2 |T''| / 2 <= 1e-7 (measured 3e-9 and 6e-9; 2.5 s each)."""
    device = qpcsim.load_geometry("qpc_saddle", a=10.0, W=150.0, L=200.0, hw_x=1.5, hw_y=3.0,
                                  zeeman=zeeman)
    tiny = 1e-4
    result = compare_disorder(device, [2.0], 2, {"V0": GATES}, ENERGY, workers=1,
                              bias=[0.0, tiny])
    zero, biased = result.at(0.0).ensembles[2.0], result.at(tiny).ensembles[2.0]
    np.testing.assert_allclose(biased.transmission, zero.transmission, rtol=0,
                               atol=result.at(tiny).error_bound + 1e-7)
    spin_factor = 0.5 if zeeman else 1.0
    np.testing.assert_array_equal(biased.conductance, spin_factor * biased.transmission)


def _no_run(*args, **kwargs):
    raise AssertionError("a run started before every (bias, temperature) was checked")


@pytest.mark.parametrize("entry", ["sweep", "ensemble", "bias_map", "bias_ensemble"])
def test_every_temperature_is_checked_before_any_run(entry, monkeypatch, tmp_path):
    """The bias window grows with kT: 4 mV passes at 0.1 K but not at 4 K (E_F + eV/2 +
    20 kT = 18.9 meV is beyond the lattice's resolution), refused before the lowest T's run."""
    import qpcsim.physics.compare as compare
    monkeypatch.setattr(compare, entry, _no_run)
    gate = qpcsim.load_geometry("qpc_split_gate", a=10.0)
    with pytest.raises(ValueError, match="the energy window reaches 18.89 meV"):
        compare_disorder(gate, [1.0], 2, {"Vg": [-0.5, -0.4]}, 10.0, bias=[0.0, 4.0],
                         temperature=[0.1, 4.0], store=tmp_path / "cmp")
    assert not (tmp_path / "cmp").exists()


def test_fresh_deletes_only_this_comparisons_stores(saddle, tmp_path):
    """``fresh=True`` deletes the stores this comparison writes, never another run's store in
    the same directory."""
    store = tmp_path / "cmp"
    other = store / "my_long_gate_sweep.points.sqlite"
    qpcsim.sweep(saddle, {"V0": [5.0, 6.0]}, energy=ENERGY, store=str(other), workers=1,
                 progress=False)
    run = dict(workers=1, store=store)
    compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, **run)
    notes = []
    compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, fresh=True, report=notes.append,
                     **run)
    assert other.exists() and len(notes) == 2, notes
    assert all("my_long_gate_sweep" not in n for n in notes)


def test_different_requests_never_share_a_store(saddle, tmp_path):
    """Strengths equal to 6 digits and another correlation length get their own stores (no
    "written for a different device"); the clean sweep, the same request, is resumed."""
    run = dict(workers=1, store=tmp_path / "cmp")
    first = compare_disorder(saddle, [2.0, 2.0000001], 2, {"V0": GATES}, ENERGY, **run)
    assert len(list((tmp_path / "cmp").iterdir())) == 3
    again = compare_disorder(saddle, [2.0], 2, {"V0": GATES}, ENERGY, correlation_length=10.0,
                             **run)
    assert len(list((tmp_path / "cmp").iterdir())) == 4
    np.testing.assert_array_equal(again.clean, first.clean)
    assert not np.array_equal(again.ensembles[2.0].conductance,
                              first.ensembles[2.0].conductance)


@pytest.mark.parametrize("kwargs, message", [
    (dict(store=5), "store=5 is not allowed: give a file path"),
    (dict(fresh=True), "fresh=True is not allowed without store="),
    (dict(over=[("V0", GATES)]), r"over=\[.*is not allowed: compare sweeps exactly one"),
    (dict(over={"V0": 0.3}), r"over\['V0'\]=0.3 is not allowed: give a non-empty 1-D sequence"),
    (dict(over={"V0": "abc"}), r"over\['V0'\]='abc' is not allowed"),
    (dict(seeds="a"), "seeds='a' is not allowed"),
    (dict(energy="x"), "energy='x' is not allowed"),
    (dict(report=3, store="unused", fresh=True), "report=3 is not allowed: give a callable"),
])
def test_bad_store_and_over_are_refused_in_one_line(saddle, kwargs, message, tmp_path):
    args = {"over": {"V0": GATES}, "seeds": 2, "energy": ENERGY, **kwargs}
    if isinstance(args.get("store"), str):
        args["store"] = tmp_path / args["store"]
    with pytest.raises(ValueError, match=message) as refused:
        compare_disorder(saddle, [2.0], args.pop("seeds"), args.pop("over"), args.pop("energy"),
                         workers=1, bias=[BIAS], **args)
    assert "\n" not in str(refused.value)


def test_a_number_spelled_another_way_finds_its_store(saddle, tmp_path):
    """energy 5 or 5.0, a strength 2.0 given alone: the same request, so the rerun resumes
    its stores (a digest of the spelling recomputed whole ensembles)."""
    run = dict(workers=1, store=tmp_path / "cmp")
    first = compare_disorder(saddle, [2.0], 2, {"V0": GATES}, float(ENERGY), **run)
    names = sorted(p.name for p in (tmp_path / "cmp").iterdir())
    again = compare_disorder(saddle, 2.0, 2, {"V0": GATES}, np.float32(ENERGY), **run)
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == names
    np.testing.assert_array_equal(again.ensembles[2.0].conductance,
                                  first.ensembles[2.0].conductance)
