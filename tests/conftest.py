"""Shared fixtures: small devices that every test module reuses."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import qpcsim

_GEOMETRY_DIR = Path(__file__).resolve().parent.parent / "geometries"
#: Bundled geometries that build a square-lattice ``qpcsim.Device`` (the fast back ends'
#: model); those of other device classes (``ContinuumDevice``, graphene) say ``FAST_PATH = False``.
DEVICE_GEOMETRIES = sorted(p.stem for p in _GEOMETRY_DIR.glob("[!_]*.py")
                           if "\nFAST_PATH = False" not in p.read_text())


@pytest.fixture(scope="session")
def saddle_module():
    return qpcsim.load_geometry_module("qpc_saddle")


@pytest.fixture(scope="session")
def hardwall_module():
    return qpcsim.load_geometry_module("qpc_hardwall")


@pytest.fixture(scope="session")
def saddle_device():
    """Saddle-point QPC fine enough for Büttiker's formula (a = 2 nm, 45k sites)."""
    return qpcsim.load_geometry("qpc_saddle")


@pytest.fixture(scope="session")
def small_saddle():
    """A coarse, fast saddle QPC (a = 4 nm) for API and bookkeeping tests."""
    return qpcsim.load_geometry("qpc_saddle", a=4.0, W=200.0, L=320.0, hw_x=1.5, hw_y=3.0)


def clean_wire(width=100.0, length=40.0, a=5.0, zeeman=False):
    return qpcsim.Device(width=width, length=length, a=a, zeeman=zeeman, name="clean wire")


def lead_mode_count(device, energy_meV, **params):
    """Open modes counted from the lead band structure (kwant.physics.Bands)."""
    import kwant
    fsyst = device.build()
    bands = kwant.physics.Bands(fsyst.leads[0], params=device.resolve_params(params))
    k = np.linspace(-np.pi, np.pi, 4001)
    energies = np.array([bands(kk) for kk in k]) * device.t      # (nk, nbands)
    # each band is a cosine in k: it is open if E lies between its min and max
    return int(np.sum((energies.min(axis=0) < energy_meV) & (energies.max(axis=0) > energy_meV)))


def fewmode_energy(device):
    """A Fermi energy (meV) with a few open lead modes and lambda_F >= 6a."""
    thresholds = device.transverse_mode_energies(4)
    return float(min(thresholds[3] + 0.37, 0.5 * device.t))


#: Bundled geometries with explicit leads (qpcsim.Lead): outside the two-lead fast path.
MULTI_TERMINAL = {"hall_bar_qpc", "magnetic_focusing"}


def geometry_case(name, variant, sizes):
    """A bundled geometry (``sizes``: make_device overrides) and its runtime
    parameters for ``variant`` in {"B=0", "B=0.7T", "zeeman"}; disordered
    geometries get a fixed seed. Skips geometries without a Zeeman option."""
    if name in MULTI_TERMINAL:
        pytest.skip(f"{name} has explicit leads: kwant back end only (tests/test_terminals.py)")
    module = qpcsim.load_geometry_module(name)
    params = dict(sizes.get(name, {}))
    if variant == "zeeman":
        if "zeeman" not in module.DEFAULTS:
            pytest.skip(f"{name} has no Zeeman option")
        params["zeeman"] = True
    device = qpcsim.load_geometry(name, **params)
    extra = {"B": 0.7} if variant != "B=0" else {}
    if variant == "zeeman":
        extra["E_Z"] = 0.4
    for key in device.defaults:
        if "seed" in key:
            extra[key] = 7.0
    return device, extra


@pytest.fixture(params=qpcsim.backends.registered())
def backend(request):
    """Every registered S-matrix back end, by name (``qpcsim.solve(method=...)``)."""
    return request.param


def assert_figure(path, min_pixels=(300, 200)):
    """``path`` is a PNG of at least ``min_pixels`` (width, height) with visible content
    (not a blank canvas)."""
    import matplotlib.image
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert width >= min_pixels[0] and height >= min_pixels[1], (width, height)
    assert float(np.std(image[..., :3])) > 0.01, "blank figure"


@pytest.fixture(scope="session")
def dense_fermi_average():
    """``average(observable, mu, temperature, thresholds, nodes)``: int q(E) (-df/dE) dE over
    mu +- 30 kT (meV, K) from zero-T values ``observable(E)`` (scalar or array), by
    Gauss-Legendre (``nodes`` per stretch) between the ``thresholds`` (meV) in
    E = a + (b - a)(1 - cos(pi s))/2, which makes square-root onsets at both ends of a
    stretch smooth. A brute-force reference for the thermal paths."""
    from qpcsim.spectral.grid import fermi_window
    from qpcsim.units import thermal_energy_meV

    def average(observable, mu, temperature, thresholds, nodes):
        kT = thermal_energy_meV(temperature)
        th = np.unique(np.asarray(thresholds, dtype=float))
        lo, hi = max(mu - 30 * kT, th[0] + 1e-9), mu + 30 * kT
        cuts = np.concatenate([[lo], th[(th > lo) & (th < hi)], [hi]])
        x, w = np.polynomial.legendre.leggauss(nodes)
        s = (x + 1) / 2
        total = 0.0
        for a, b in zip(cuts[:-1], cuts[1:]):
            energies = a + (b - a) * (1 - np.cos(np.pi * s)) / 2
            jacobian = (b - a) * np.pi * np.sin(np.pi * s) / 4 * w
            for e, dw in zip(energies, jacobian):
                total = total + dw * fermi_window(e, mu, kT) * observable(float(e))
        return total
    return average
