"""The package face (qpcsim/__init__.py): every public name, imported on first use.

``import qpcsim`` costs milliseconds and a solve loads none of the libraries only a
sweep file, a plot, Dask, adaptive sampling or a GDS layout need (checked in fresh
interpreters: this test session has imported them all)."""
import json
import subprocess
import sys

import pytest

import qpcsim

#: Libraries a solve does not need (imported where they are used).
HEAVY = ["matplotlib", "xarray", "pandas", "dask", "distributed", "h5py", "h5netcdf", "netCDF4",
         "adaptive", "tqdm", "gdstk", "cloudpickle", "scipy.signal", "scipy.stats"]
SOLVE = ("d = qpcsim.Device(width=50.0, length=20.0, a=5.0); "
         "g = qpcsim.solve(d, 10.0).conductance; assert 0.5 < g < 20")


def loaded_after(code: str) -> list:
    """Which of HEAVY (and Kwant) a fresh interpreter holds after running ``code``."""
    probe = (f"import json, sys\n{code}\n"
             f"print(json.dumps([m for m in {HEAVY + ['kwant']!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("code, allowed", [
    ("import qpcsim", []),
    (f"import qpcsim\n{SOLVE}", ["kwant"]),
], ids=["import", "solve"])
def test_heavy_libraries_stay_out(code, allowed):
    assert loaded_after(code) == allowed


@pytest.mark.parametrize("name", sorted(qpcsim.__all__))
def test_every_public_name_resolves(name):
    namespace: dict = {}
    exec(f"from qpcsim import {name}", namespace)
    assert namespace[name] is getattr(qpcsim, name)
    assert name in dir(qpcsim)


def test_names_keep_their_meaning():
    """Functions and modules that share a stem resolve as before the face was lazy."""
    assert qpcsim.noise.__module__ == "qpcsim.physics.noise"     # the function
    assert qpcsim.lengths.__name__ == "qpcsim.physics.lengths"   # the module
    assert qpcsim.sweep.__module__ == "qpcsim.engine.sweep"
    assert qpcsim.physics.lattice.__name__ == "qpcsim.physics.lattice"


def test_submodules_are_attributes_in_a_fresh_interpreter():
    """``qpcsim.solver.X`` works after a bare ``import qpcsim``, as when the face imported
    every module."""
    code = ("import qpcsim\nassert qpcsim.solver.UNITARITY_TOLERANCE > 0\n"
            "assert qpcsim.device.Device is qpcsim.Device\nqpcsim.engine.store.StoreWarning")
    assert loaded_after(code) == ["kwant"]


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'qpcsim' has no attribute 'no_such_name'"):
        qpcsim.no_such_name   # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'no_such_module'"):
        qpcsim.physics.no_such_module   # noqa: B018
