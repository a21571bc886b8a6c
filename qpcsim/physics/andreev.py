"""Andreev bound states and the supercurrent of a short S-N-S (S-QPC-S) junction.

A closed Bogoliubov-de Gennes system (the reduced spin-degenerate basis of
:mod:`qpcsim.superconductivity`): a channel of width ``width`` whose middle
``length`` is normal (with an optional potential, e.g. a QPC) between two
superconductors of length ``superconductor_length`` each, pairing Delta with
phases +phi/2 (left) and -phi/2 (right), hard walls at the far ends. The
Andreev bound states are the eigenvalues 0 < E_n < Delta (shift-invert
Lanczos around E = 0), and at zero temperature the supercurrent is

    I(phi) = -(2e/hbar) sum_{0 < E_n < Delta} dE_n/dphi

(Beenakker, PRL 67, 3836 (1991); the continuum does not contribute in the short
junction limit), with dE_n/dphi from the Hellmann-Feynman theorem (the exact
derivative of the pairing term). In the short-junction limit (length << xi =
hbar v_F/Delta) E_n = Delta sqrt(1 - T_n sin^2(phi/2)): a ballistic channel
carries eDelta/hbar sin(phi/2), and the critical current is quantized in steps
of eDelta/hbar per open channel (Beenakker & van Houten, PRL 66, 3056 (1991)).
The superconductors must be several xi long (default 5 xi): the bound states
decay as exp(-|x|/xi) into them.

Units: nm, meV; currents in units of eDelta/hbar (``current_nA`` converts).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .. import validate as _validate
from ..hamiltonian import discretize, one_blas_thread
from ..superconductivity import KINETIC
from ..units import E_CHARGE, GAAS, HBAR, MEV_IN_J, Material, hopping_meV, wavevector_per_nm

__all__ = ["JosephsonJunction", "critical_current_steps"]


@dataclass
class JosephsonJunction:
    """A short S-N-S junction (module docstring).

    Parameters
    ----------
    width : float
        Channel width (nm), a multiple of ``a``.
    length : float
        Length of the normal part (nm).
    a : float
        Lattice constant (nm).
    mu : float
        Fermi energy from the band bottom (meV).
    Delta : float
        Pairing of both superconductors (meV, > 0).
    superconductor_length : float, optional
        Length of each superconductor (nm); default 5 xi, xi = hbar v_F / Delta.
    potential : callable, optional
        ``potential(x, y, **params)`` (nm in, meV out) in the normal part.
    params : mapping, optional
        Values of the potential's keyword arguments.
    material : Material
        Effective mass.
    """

    width: float
    length: float
    a: float
    mu: float
    Delta: float
    superconductor_length: float | None = None
    potential: Callable | None = None
    params: Mapping | None = None
    material: Material = GAAS

    def __post_init__(self):
        for name in ("width", "a", "mu", "Delta"):
            _validate.positive(name, getattr(self, name), "meV" if name in ("mu", "Delta") else "nm")
        _validate.non_negative("length", self.length, "nm")
        _validate.lattice_count("width", self.width, self.a)
        if not isinstance(self.material, Material):
            raise ValueError(f"material={self.material!r} is not allowed: give a qpcsim.Material "
                             "(e.g. qpcsim.units.GAAS)")
        if self.potential is not None and not callable(self.potential):
            raise ValueError(f"potential={self.potential!r} is not allowed: it must be callable "
                             "as potential(x, y, **params) (nm in, meV out)")
        if self.superconductor_length is not None:
            # (a negative one left no superconductor: I = 0, or an IndexError)
            _validate.positive("superconductor_length", self.superconductor_length, "nm")
        k_f = wavevector_per_nm(self.mu, self.material)
        self.coherence_length = 2 * self.mu / (k_f * self.Delta)      # hbar v_F / Delta (nm)
        if self.coherence_length < 4 * self.a:
            raise ValueError(f"Delta={self.Delta:g} meV is not allowed with a={self.a:g} nm: the "
                             f"coherence length {self.coherence_length:.3g} nm needs a <= xi/4")
        if 2 * np.pi / k_f < 4 * self.a:
            raise ValueError(f"mu={self.mu:g} meV is not allowed with a={self.a:g} nm: lambda_F "
                             f"= {2 * np.pi / k_f:.3g} nm needs a <= lambda_F/4")
        if self.superconductor_length is None:
            self.superconductor_length = 5 * self.coherence_length
        self.t = hopping_meV(self.a, self.material)
        self._matrices = None

    def _build(self):
        """Sparse H0 (phi-independent part) and the pairing pieces of each superconductor."""
        import kwant
        import scipy.sparse as sp

        a, t = self.a, self.t
        half_n = 0.5 * self.length
        half_total = half_n + self.superconductor_length
        n_cols = int(round(2 * half_total / a))
        lat = kwant.lattice.Monatomic([[a, 0.0], [0.0, a]],
                                      offset=(-0.5 * n_cols * a, -0.5 * self.width), norbs=2)
        template, _ = discretize(f"({KINETIC} - mu)*sigma_z", t,
                                 {"hbar": _hbar(), "m": self.material.effective_mass},
                                 {"mu": "meV"}, lambda n: lat)
        syst = kwant.Builder()
        syst.fill(template, lambda s: abs(s.pos[1]) < 0.5 * self.width - 0.5 * a
                  and abs(s.pos[0]) <= 0.5 * n_cols * a + 1e-9, (0.0, -0.5 * self.width + a))
        fsyst = syst.finalized()
        h0 = fsyst.hamiltonian_submatrix(params={"mu": self.mu}, sparse=True).tocsr()
        pos = np.array([s.pos for s in fsyst.sites])
        if self.potential is not None:
            v = np.asarray(self.potential(pos[:, 0], pos[:, 1], **dict(self.params or {})),
                           dtype=float) * (np.abs(pos[:, 0]) <= half_n)
            h0 = h0 + sp.diags(np.repeat(v / t, 2) * np.tile([1.0, -1.0], len(pos)))
        left = (pos[:, 0] < -half_n).astype(float)
        right = (pos[:, 0] > half_n).astype(float)
        # electron-hole coupling at each site: orbital 2k+1 (hole) <- 2k (electron)
        rows, cols = 2 * np.arange(len(pos)) + 1, 2 * np.arange(len(pos))
        shape = (2 * len(pos), 2 * len(pos))
        pieces = [sp.csr_matrix((side * self.Delta / t, (rows, cols)), shape=shape)
                  for side in (left, right)]
        self._matrices = (h0, pieces)
        self.sites = len(pos)

    def hamiltonian(self, phi: float):
        """Sparse BdG Hamiltonian (units of t) at phase difference ``phi`` (rad)."""
        if self._matrices is None:
            self._build()
        h0, (left, right) = self._matrices
        delta = left * np.exp(0.5j * phi) + right * np.exp(-0.5j * phi)
        return h0 + delta + delta.conj().T

    def bound_states(self, phi: float, count: int = 16):
        """Andreev bound-state energies 0 < E_n < Delta (meV, ascending) and their
        phase derivatives dE_n/dphi (meV/rad) at ``phi`` (rad)."""
        import scipy.sparse.linalg as sla
        h = self.hamiltonian(phi)
        _, (left, right) = self._matrices
        k = min(2 * count, h.shape[0] - 2)
        with one_blas_thread():
            values, vectors = sla.eigsh(h.tocsc(), k=k, sigma=0.0, which="LM")
        keep = (values > 0) & (values * self.t < self.Delta)
        values, vectors = values[keep], vectors[:, keep]
        # Hellmann-Feynman: dH/dphi = (i/2) (L e^{i phi/2} - R e^{-i phi/2}) + h.c.
        d_delta = 0.5j * (left * np.exp(0.5j * phi) - right * np.exp(-0.5j * phi))
        d_h = d_delta + d_delta.conj().T
        slopes = np.real(np.einsum("ij,ij->j", vectors.conj(), d_h @ vectors))
        order = np.argsort(values)
        return values[order] * self.t, slopes[order] * self.t

    def current(self, phi: float) -> float:
        """Zero-temperature supercurrent I(phi) in units of e Delta / hbar."""
        _, slopes = self.bound_states(phi)
        return float(-2.0 * slopes.sum() / self.Delta)

    def critical_current(self, phases=None) -> float:
        """max_phi I(phi) (units of e Delta/hbar) over ``phases`` (rad; default 48 points
        in (0, pi), where the maximum lies for a time-reversal symmetric junction)."""
        if phases is None:
            phases = np.linspace(0.02, 0.995, 48) * np.pi
        return float(max(self.current(phi) for phi in phases))

    def current_nA(self, current: float) -> float:
        """A current in units of e Delta/hbar, in nA."""
        return current * E_CHARGE * self.Delta * MEV_IN_J / HBAR * 1e9


def _hbar() -> float:
    from ..units import continuum_constants
    return continuum_constants()["hbar"]


def critical_current_steps(widths, **junction) -> np.ndarray:
    """Critical currents (e Delta/hbar) of junctions of the given widths (nm) with the
    other :class:`JosephsonJunction` arguments fixed: steps of 1 per open channel."""
    return np.array([JosephsonJunction(width=w, **junction).critical_current() for w in widths])
