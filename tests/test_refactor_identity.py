"""Results saved before the package was restructured (commit a3e85c0, flat
modules) are reproduced bit for bit by the layered package's fast path: the
demo split-gate sweep, two disorder ensembles (one swept over energy, on two
workers) and the S-matrices of four bundled geometries.

Bit identity holds for the same BLAS/LAPACK build; on another one (e.g. the
reference BLAS instead of OpenBLAS) rounding differs, and the check falls back
to 1e-12 (G0, or |S|). Plain ``kwant.smatrix`` is not in the reference: before the
``kwant`` back end ran on one BLAS thread, its last bits changed from run to run.
"""
import json
import os
from pathlib import Path

import numpy as np
import pytest

import qpcsim

REFERENCE = np.load(Path(__file__).parent / "data" / "pre_refactor_reference.npz")
ENVIRONMENT = json.loads(str(REFERENCE["environment"]))
#: The back end the pre-move auto rule ran for each geometry (the rule has been refitted
#: since, for OpenBLAS; the comparison must run the same arithmetic).
BACKEND = {"qpc_saddle": "mumps", "qpc_hardwall": "rgf", "qpc_split_gate": "rgf",
           "quantum_dot": "rgf", "disordered_wire": "rgf"}


def _same_blas() -> bool:
    return os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3") == ENVIRONMENT["libblas"] \
        and np.__version__ == ENVIRONMENT["numpy"]


def _check(key, value):
    ref = REFERENCE[key]
    if _same_blas():
        assert np.array_equal(np.asarray(value), ref, equal_nan=True), key
    else:
        np.testing.assert_allclose(np.abs(value), np.abs(ref), atol=1e-12, err_msg=key)


def test_demo_sweep_is_unchanged():
    device = qpcsim.load_geometry("qpc_split_gate")
    result = qpcsim.sweep(device, over={"Vg": np.linspace(-1.6, -0.2, 29)}, energy=8.0,
                          workers=2, progress=False, method=BACKEND["qpc_split_gate"])
    _check("demo_G", result.data["conductance"].values)
    _check("demo_eig", result.data["transmission_eigenvalues"].values)


def test_disorder_ensembles_are_unchanged():
    wire = qpcsim.load_geometry("disordered_wire")
    swept = qpcsim.ensemble(wire, seeds=4, energy=10.0, over={"energy": [8.0, 10.0, 12.0]},
                            workers=2, disorder=1.0, method=BACKEND["disordered_wire"])
    _check("ens_G", swept.conductance)
    single = qpcsim.ensemble(wire, seeds=3, energy=10.0, workers=1, disorder=1.5,
                             method=BACKEND["disordered_wire"])
    _check("ens1_G", single.conductance)


#: make_device arguments that rebuild the pre-move defaults of geometries changed since
#: (qpc_hardwall: longer gate ramp and a smooth wall by default, issue 17).
OLD_DEFAULTS = {"qpc_hardwall": dict(L_gate_ramp=100.0, wall_width=None, smooth_wall=False)}


@pytest.mark.parametrize("name, params", [("qpc_saddle", dict(V0=3.5)), ("qpc_hardwall", {}),
                                          ("qpc_split_gate", {}), ("quantum_dot", {})])
def test_smatrices_are_unchanged(name, params):
    device = qpcsim.load_geometry(name, **OLD_DEFAULTS.get(name, {}))
    result = qpcsim.solve(device, 10.0 if name != "quantum_dot" else 5.0, method=BACKEND[name],
                          **params)
    _check(f"{name}_auto_S", result.smatrix)
    _check(f"{name}_auto_G", result.conductance)
