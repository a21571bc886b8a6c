"""Disorder from the wafer: remote ionized donors, their screened potential, Born lifetimes.

Ionized donors of sheet density n_d sit a setback s above the 2DEG (the spacer plus the
depth into the doped layer). One donor's potential energy in the 2DEG plane, screened
linearly by the 2DEG (Thomas–Fermi, q_TF = 2/a_B*), is

    V(q) = -(e^2/(2 eps q)) e^{-q s} / (1 + q_TF/q) = -2 pi k e^{-q s}/(q + q_TF),

k = e^2/(4 pi eps) (Davies, *The Physics of Low-Dimensional Semiconductors*, sec. 8.4 and
9.5; Ando, Fowler & Stern, Rev. Mod. Phys. 54, 437 (1982)). For uncorrelated (Poisson)
donors the landscape W(r) = sum_i V(r - r_i) - mean has the correlation function

    C(r) = n_d integral d^2q/(2 pi)^2 |V(q)|^2 J0(q r),   W_rms = sqrt(C(0)),

and the Born (Fermi golden rule) rates at the Fermi energy, q = 2 k_F sin(theta/2):

    1/tau_t = n_d m*/(2 pi hbar^3) integral_0^2pi |V(q)|^2 (1 - cos theta) dtheta,
    1/tau_q = same without (1 - cos theta).

Small-angle scattering for k_F s >> 1 gives tau_t/tau_q -> (2 k_F s)^2 and, with
q_TF s >> 1, mu = e tau_t/m* -> 8 e (k_F s)^3 / (pi hbar n_d) (the standard remote-doping
limit; corrections O(1/(k_F s)) and O(1/(q_TF s)), 19 % at s = 80 nm in GaAs).
The surface and the gates are not in V(q) (their images matter when the donors are closer
to the surface than to the 2DEG); for nonlinear screening pass the unscreened landscape
(``screened=False``) to a Thomas–Fermi problem as ``extra_potential_meV``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.integrate
import scipy.special

from .. import validate as _validate
from ..potentials import kinetic_constant_meV_nm2
from ..units import E_CHARGE, HBAR_MEV_S, M_ELECTRON
from .heterostructure import Heterostructure
from .thomas_fermi import BilinearStencil

__all__ = ["RemoteDonors", "DonorLandscape", "DonorDisorder", "BornLifetimes"]

NM2_PER_CM2 = 1e-14


@dataclass(frozen=True)
class BornLifetimes:
    """Remote-donor scattering at E_F (Born approximation).

    Attributes
    ----------
    transport_ps, quantum_ps : float
        tau_t and tau_q (ps).
    mobility_cm2_per_Vs : float
        e tau_t/m* (cm^2/(V s)).
    mean_free_path_nm : float
        v_F tau_t (nm).
    kF_per_nm : float
        Fermi wave vector (nm^-1).
    """

    transport_ps: float
    quantum_ps: float
    mobility_cm2_per_Vs: float
    mean_free_path_nm: float
    kF_per_nm: float

    @property
    def ratio(self) -> float:
        """tau_t/tau_q: >> 1 for remote donors (small-angle scattering)."""
        return self.transport_ps / self.quantum_ps


@dataclass(frozen=True)
class RemoteDonors:
    """Ionized donors of sheet density ``density_cm2`` a setback ``setback_nm`` above the 2DEG.

    Parameters
    ----------
    heterostructure : Heterostructure
        Gives eps, m* and n_s (hence k_F and q_TF).
    density_cm2 : float
        Ionized donors per area (cm^-2), > 0.
    setback_nm : float
        Distance from the donor plane to the 2DEG (nm), > 0.
    """

    heterostructure: Heterostructure
    density_cm2: float
    setback_nm: float

    def __post_init__(self):
        if not isinstance(self.heterostructure, Heterostructure):
            raise ValueError(f"heterostructure={self.heterostructure!r} is not allowed: it must "
                             "be a qpcsim.electrostatics.Heterostructure")
        object.__setattr__(self, "density_cm2",
                           _validate.positive("density_cm2", self.density_cm2, "cm^-2"))
        object.__setattr__(self, "setback_nm",
                           _validate.positive("setback_nm", self.setback_nm, "nm"))

    @classmethod
    def from_heterostructure(cls, heterostructure: Heterostructure, layer: str | None = None,
                             density_cm2: float | None = None) -> RemoteDonors:
        """The donors of the stack's doped layer (default: the only one with charge > 0):
        setback = distance from the layer's middle to the 2DEG; density = the layer's sheet
        charge, or ``density_cm2`` (ionized donors, cm^-2) if given."""
        layers = heterostructure.layers
        doped = [lay.name for lay in layers if lay.charge_cm3 > 0]
        name = layer if layer is not None else (doped[0] if len(doped) == 1 else None)
        if name not in [lay.name for lay in layers if lay.charge_cm3 > 0]:
            raise ValueError(f"layer={layer!r} is not allowed: name a doped layer of the stack "
                             f"(charge_cm3 > 0), one of {', '.join(doped) or 'none'}")
        below, setback, sheet = 0.0, 0.0, 0.0
        for lay in reversed(layers):
            if lay.name == name:
                setback, sheet = below + 0.5 * lay.thickness_nm, lay.sheet_charge_cm2
                break
            below += lay.thickness_nm
        return cls(heterostructure, sheet if density_cm2 is None else density_cm2, setback)

    # ------------------------------------------------------------------ formulas
    @property
    def screening_per_nm(self) -> float:
        """q_TF = 2/a_B* (nm^-1)."""
        return 2.0 / self.heterostructure.bohr_radius_nm

    def potential_q(self, q_per_nm) -> np.ndarray:
        """Screened potential energy of one donor, V(q) (meV nm^2), q in nm^-1 (> 0)."""
        q = np.asarray(q_per_nm, dtype=float)
        k = self.heterostructure.coulomb_meV_nm
        return -2 * math.pi * k * np.exp(-q * self.setback_nm) / (q + self.screening_per_nm)

    def correlation_meV2(self, r_nm) -> np.ndarray:
        """C(r) = n_d int d^2q/(2pi)^2 |V(q)|^2 J0(q r) (meV^2), r in nm."""
        nd = self.density_cm2 * NM2_PER_CM2
        qmax = 60.0 / self.setback_nm

        def one(r):
            f = lambda q: q * self.potential_q(q) ** 2 * scipy.special.j0(q * r)  # noqa: E731
            return scipy.integrate.quad(f, 0.0, qmax, limit=400, epsabs=0.0,
                                        epsrel=1e-10)[0] * nd / (2 * math.pi)

        return np.vectorize(one)(np.asarray(r_nm, dtype=float))

    def rms_meV(self) -> float:
        """W_rms = sqrt(C(0)) (meV)."""
        return float(np.sqrt(self.correlation_meV2(0.0)))

    def correlation_length_nm(self) -> float:
        """Half width of C: C(r_1/2) = C(0)/2 (nm); 1.53 s for q_TF s >> 1."""
        c0 = float(self.correlation_meV2(0.0))
        import scipy.optimize
        return float(scipy.optimize.brentq(lambda r: self.correlation_meV2(r) - 0.5 * c0,
                                           1e-6, 20 * self.setback_nm, xtol=1e-10))

    def born(self) -> BornLifetimes:
        """Transport and quantum lifetimes, mobility and mean free path at E_F (Born)."""
        het = self.heterostructure
        kin = kinetic_constant_meV_nm2(het.material)              # hbar^2/(2m*) (meV nm^2)
        kf = math.sqrt(2 * math.pi * het.density_nm2)              # spin-degenerate 2DEG
        nd = self.density_cm2 * NM2_PER_CM2

        def rate(weight):
            f = lambda t: self.potential_q(max(2 * kf * math.sin(t / 2), 1e-300)) ** 2 * \
                weight(t)  # noqa: E731
            integral = scipy.integrate.quad(f, 0.0, math.pi, limit=400, epsrel=1e-11)[0] * 2
            # n_d m*/(2 pi hbar^3) |V|^2: with m* = hbar^2/(2 kin), in 1/s
            return nd / (2 * math.pi * HBAR_MEV_S) / (2 * kin) * integral

        tau_t = 1.0 / rate(lambda t: 1 - math.cos(t))
        tau_q = 1.0 / rate(lambda t: 1.0)
        mass_kg = het.material.effective_mass * M_ELECTRON
        v_f = 2 * kin * kf / HBAR_MEV_S                            # nm/s
        return BornLifetimes(transport_ps=tau_t * 1e12, quantum_ps=tau_q * 1e12,
                             mobility_cm2_per_Vs=E_CHARGE * tau_t / mass_kg * 1e4,
                             mean_free_path_nm=v_f * tau_t, kF_per_nm=kf)

    # ------------------------------------------------------------------ realization
    def landscape(self, window_nm, resolution_nm: float = 2.0, seed: int = 0, *,
                  screened: bool = True) -> DonorLandscape:
        """One random realization of the donor potential on a grid over ``window_nm``.

        Donors: a Poisson number, uniform in a periodic box of the window plus 6 setbacks
        on each side (the periodic images are beyond the window), placed by cloud-in-cell
        on the grid; W = IFFT(V(q) rho(q)) - mean (the mean is the uniform background that
        sets n_s). ``screened=False`` leaves out 1/(1 + q_TF/q): the bare landscape for a
        nonlinear Thomas–Fermi solve.

        Parameters
        ----------
        window_nm : tuple
            ``(x0, x1, y0, y1)`` (nm).
        resolution_nm : float
            Grid step (nm), well below the setback.
        seed : int
            Random seed (same seed, same landscape).
        screened : bool
            Linear Thomas–Fermi screening by the 2DEG.
        """
        from ..physics.disorder import check_seed
        seed = check_seed(seed)
        h = _validate.positive("resolution_nm", resolution_nm, "nm")
        if h > 0.5 * self.setback_nm:
            raise ValueError(f"resolution_nm={h:g} nm is not allowed: it must be at most half "
                             f"the setback, {0.5 * self.setback_nm:g} nm")
        x0, x1, y0, y1 = (float(v) for v in window_nm)
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"window_nm={window_nm!r} is not allowed: x0 < x1 and y0 < y1 (nm)")
        m = 6 * self.setback_nm
        nx, ny = int(math.ceil((x1 - x0 + 2 * m) / h)), int(math.ceil((y1 - y0 + 2 * m) / h))
        lx, ly = nx * h, ny * h
        rng = np.random.default_rng(seed)
        count = rng.poisson(self.density_cm2 * NM2_PER_CM2 * lx * ly)
        fx, fy = rng.random(count) * nx, rng.random(count) * ny      # in cells
        grid = np.zeros((nx, ny))
        i, j = np.floor(fx).astype(int), np.floor(fy).astype(int)
        tx, ty = fx - i, fy - j
        for di, dj, w in ((0, 0, (1 - tx) * (1 - ty)), (1, 0, tx * (1 - ty)),
                          (0, 1, (1 - tx) * ty), (1, 1, tx * ty)):
            np.add.at(grid, ((i + di) % nx, (j + dj) % ny), w)
        grid /= h * h                                                 # donors per nm^2
        qx = 2 * math.pi * np.fft.fftfreq(nx, h)
        qy = 2 * math.pi * np.fft.rfftfreq(ny, h)
        q = np.hypot(qx[:, None], qy[None, :])
        q[0, 0] = 1.0
        v = self.potential_q(q)
        if not screened:
            v = v * (q + self.screening_per_nm) / q
        # cloud-in-cell smears a point over a cell: undo its transfer function (sinc^2)
        cic = (np.sinc(qx[:, None] * h / (2 * math.pi)) * np.sinc(qy[None, :] * h / (2 * math.pi)))
        v = v / np.maximum(cic, 0.1) ** 2
        v[0, 0] = 0.0                                                 # remove the mean
        w = np.fft.irfft2(np.fft.rfft2(grid) * v, s=(nx, ny))
        xs = x0 - m + (np.arange(nx) + 0.5) * h
        ys = y0 - m + (np.arange(ny) + 0.5) * h
        keep_x = (xs >= x0 - h) & (xs <= x1 + h)
        keep_y = (ys >= y0 - h) & (ys <= y1 + h)
        return DonorLandscape(xs[keep_x], ys[keep_y], w[np.ix_(keep_x, keep_y)], self, seed,
                              screened)


@dataclass
class DonorLandscape:
    """A realization of the remote-donor potential energy: ``landscape(x_nm, y_nm)`` (meV),
    vectorized, bilinear between grid points; picklable. Add it to a device's potential, or
    pass it as ``extra_potential_meV`` to a Thomas–Fermi problem (``screened=False``)."""

    x_nm: np.ndarray
    y_nm: np.ndarray
    grid_meV: np.ndarray
    donors: RemoteDonors
    seed: int
    screened: bool
    # the last positions asked and their stencil: a sweep asks the same sites at every point
    _last: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __call__(self, x_nm, y_nm) -> np.ndarray:
        x, y = np.broadcast_arrays(np.asarray(x_nm, dtype=float), np.asarray(y_nm, dtype=float))
        last = self._last
        if last is None or last[0].shape != x.shape or not (
                np.array_equal(last[0], x) and np.array_equal(last[1], y)):
            last = self._last = (x.copy(), y.copy(),
                                 BilinearStencil(self.x_nm, self.y_nm, x, y))
        return last[2].apply(self.grid_meV)

    def __getstate__(self):
        return {**self.__dict__, "_last": None}

    def record(self) -> dict:
        """Provenance: donors, setback, seed, screening, the heterostructure."""
        return {"donor_density_cm2": self.donors.density_cm2,
                "setback_nm": self.donors.setback_nm, "seed": self.seed,
                "screened": self.screened, "heterostructure": self.donors.heterostructure.record()}


class DonorDisorder:
    """Remote-donor disorder as a device potential: ``disorder(x, y, seed=0)`` (nm in, meV
    out, vectorized); ``seed`` is the sweepable parameter (an ensemble over seeds).

    Parameters
    ----------
    donors : RemoteDonors
    window_nm : tuple
        ``(x0, x1, y0, y1)`` (nm) covering the device.
    resolution_nm : float
        Landscape grid step (nm).
    screened : bool
        Linear Thomas–Fermi screening (default); False for the bare landscape.

    Examples
    --------
    >>> dis = DonorDisorder(donors, (-400, 400, -150, 150))              # doctest: +SKIP
    >>> dev = qpcsim.Device(width=300, length=800, a=2.5, potential=dis)  # doctest: +SKIP
    """

    def __init__(self, donors: RemoteDonors, window_nm, resolution_nm: float = 2.0,
                 screened: bool = True):
        if not isinstance(donors, RemoteDonors):
            raise ValueError(f"donors={donors!r} is not allowed: it must be RemoteDonors")
        self.donors = donors
        self.window_nm = tuple(float(v) for v in window_nm)
        self.resolution_nm = float(resolution_nm)
        self.screened = bool(screened)
        self._cache: dict = {}

    def landscape(self, seed: int = 0) -> DonorLandscape:
        """The realization of ``seed`` (cached, a few kept)."""
        if seed not in self._cache:
            if len(self._cache) >= 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[seed] = self.donors.landscape(self.window_nm, self.resolution_nm, seed,
                                                      screened=self.screened)
        return self._cache[seed]

    def __call__(self, x, y, seed=0):
        return self.landscape(seed)(x, y)

    def __getstate__(self):
        return {**self.__dict__, "_cache": {}}
