"""The ``mumps-sigma`` back end: MUMPS Schur complement of the scattering region alone
onto its lead-interface orbitals, the leads entering as self-energies there.

Kwant's linear system (:mod:`.assembly`) borders ``H - E`` with each lead's mode
variables. Eliminating them exactly (a small dense solve per lead, once per
energy, cached with the lead modes) leaves, on the interface orbitals I,

    (S_I + Sigma) psi_I = b,   S_I = Schur complement of (H - E) onto I,
    Sigma = -P D^-1 Q          (the leads' self-energy, V g_surface V^dagger),

and the outgoing amplitudes ``a = D^-1 (b_N - Q psi_I)`` (Fisher-Lee with Kwant's
stabilized modes, so S is Kwant's to rounding). Against the ``mumps`` back end
this halves the dense set (2W instead of 4W orbitals: 8x cheaper dense solve) and
leaves MUMPS a matrix whose pattern never changes (one analysis per device) and
which, at B = 0 with real hoppings, is real symmetric: MUMPS factorizes it as
LDL^T in real arithmetic (``sym = 2``: half the operations of the complex LU, each
real; about 2x less time measured). Complex symmetric matrices run complex LDL^T,
others complex LU. Where the point has a lattice mirror (x, y or both, checked to
:data:`~.rgf_mirror.MIRROR_RTOL` per point), the factorization runs in its parity
sectors (:mod:`.sectors`): 4x fewer operations with both mirrors, 3x less time at
500 x 1000 sites. Every choice is made from the point's numbers only, so a point
always runs the same arithmetic (bit-identical in every process).

Under ``auto`` it runs (``points``): where the size rule picks MUMPS, every point (as
asked for by name) on devices at least 12 orbitals across, the real points on narrower
ones; where it picks RGF, the real points if the unsplit real LDL^T is modelled cheaper
(:func:`_sigma_real_cost`); and, under the ``mirror`` condition, the real points with a
mirror. The other points go to the next back end (``fallback``).
With the Schur option MUMPS 5.5 orders by AMD whatever is asked (INFOG(7)), and
python-mumps 0.0.4 passes no user ordering: see benchmarks/RESULTS.md for the
orderings measured.
"""
from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .assembly import _CACHE_SIZE
from .base import BackendNotApplicable, FastBackend
from .registry import BackendInfo, register
from .mirror_check import ENTRY_RTOL_FACTOR, entry_deviation, relative_deviation
from .rgf_mirror import MIRROR_RTOL
from .schur import (MUMPS_ORDERINGS, SCHUR_GROWTH_LIMIT, block_picker, dense_block,
                    exact_backend, hopping_scale, mumps_available, schur_growth)
from .sectors import mirror_entries, split_sector, whole_sector

__all__ = ["SigmaSchurBackend", "InterfaceReduction", "FACTORIZATIONS", "sigma_report"]

#: Per-point arithmetic: (MUMPS type, MUMPS ``sym``) -> label for ``qpcsim info``.
FACTORIZATIONS = {("d", 2): "real LDL^T", ("z", 2): "complex-symmetric LDL^T",
                  ("z", 0): "complex LU"}
#: Which points a mumps-sigma run under ``auto`` solves itself (``SigmaSchurBackend.points``).
POINT_ROLES = ("mirror", "real", "all")
#: Reduced lead parts kept (one per energy, as the assembly's lead cache): at most
#: this many bytes of their arrays, at least 4 of them and at most the assembly's count.
_LEAD_CACHE_BYTES = 256 * 2**20


def sigma_report() -> str:
    """One line for ``qpcsim info``: what ``mumps-sigma`` factorizes, and the ordering
    MUMPS reports (INFOG(7)) for a real symmetric Schur complement of a small grid."""
    if not mumps_available():
        return "- (python-mumps not installed)"
    side = 12
    index = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate([np.stack([index[:, :-1].ravel(), index[:, 1:].ravel()]),
                            np.stack([index[:-1].ravel(), index[1:].ravel()])], axis=1)
    row = np.concatenate([index.ravel(), pairs[0], pairs[1]])
    col = np.concatenate([index.ravel(), pairs[1], pairs[0]])
    values = np.where(row == col, 3.9, -1.0).astype(complex)
    contexts = _SchurContexts(side * side, row, col, np.concatenate([index[0], index[-1]]))
    kind = contexts.schur_complement(values)[1]
    return (f"Schur complement of H - E onto the lead interfaces (leads as self-energies) in "
            f"the parity sectors of each mirror; {FACTORIZATIONS[kind]} (MUMPS sym=2) at real "
            f"points, complex LU at B != 0; ordering with a Schur complement: "
            f"{contexts.orderings[kind]} (INFOG(7)); auto runs it at real points with a "
            f"mirror, wherever the size rule picks mumps, and at real points where it beats rgf")


class InterfaceReduction:
    """The lead blocks of one :class:`~.assembly.LeadPart`, with the mode variables
    eliminated onto the interface orbitals.

    Parameters
    ----------
    leads : LeadPart
        The bordered lead part (Kwant's mode-variable blocks) at one energy.
    n_sys : int
        Orbitals of the scattering region (mode variables are numbered after them).

    Attributes
    ----------
    interface : ndarray of int
        The interface orbitals I, in the order of ``leads.schur``.
    sigma : ndarray, shape (|I|, |I|)
        The leads' self-energy term added to the Schur complement onto I.
    rhs : ndarray, shape (|I|, n_in)
        The reduced right-hand sides (one column per incoming mode).
    """

    def __init__(self, leads, n_sys: int):
        x = len(leads.schur)
        where = np.full(leads.n, -1, dtype=np.int64)
        where[leads.schur] = np.arange(x)
        bordered = np.zeros((x, x), dtype=complex)
        np.add.at(bordered, (where[leads.row], where[leads.col]), leads.values)
        is_mode = leads.schur >= n_sys
        iface, modes = np.flatnonzero(~is_mode), np.flatnonzero(is_mode)
        self.interface = leads.schur[iface]
        p = bordered[np.ix_(iface, modes)]
        q_and_b = np.hstack([bordered[np.ix_(modes, iface)], leads.rhs_x[modes]])
        solved = np.zeros_like(q_and_b)
        # D is block diagonal (one block per lead: a run of consecutive mode variables).
        for run in np.split(np.arange(len(modes)), np.flatnonzero(np.diff(modes) != 1) + 1):
            solved[run] = scipy.linalg.solve(bordered[np.ix_(modes[run], modes[run])],
                                              q_and_b[run], check_finite=False)
        reduced = p @ solved
        n_i = len(iface)
        self.sigma = -reduced[:, :n_i]
        self.rhs = leads.rhs_x[iface] - reduced[:, n_i:]
        kept = np.searchsorted(modes, leads.kept)     # kept outputs are mode variables
        self._out_q = solved[kept, :n_i]
        self._out_b = solved[kept, n_i:]

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays kept (the cache's measure)."""
        return sum(a.nbytes for a in (self.interface, self.sigma, self.rhs, self._out_q,
                                      self._out_b))

    @property
    def out_q(self) -> np.ndarray:
        """``(kept outgoing modes, |I|)``: the amplitudes' linear map from psi on I
        (:meth:`amplitudes` is ``out_b - out_q psi``)."""
        return self._out_q

    @property
    def out_b(self) -> np.ndarray:
        """``(kept outgoing modes, n_in)``: the amplitudes' part from the incoming modes."""
        return self._out_b

    def amplitudes(self, psi: np.ndarray) -> np.ndarray:
        """Outgoing propagating-mode amplitudes (the S-matrix data) from ``psi`` on I."""
        return self._out_b - self._out_q @ psi


class _SchurContexts:
    """One MUMPS context per arithmetic ((type, sym), see :data:`FACTORIZATIONS`), each
    analysed once on the fixed pattern of the scattering region (structural analysis,
    ICNTL(6) = 0, so the ordering never depends on the first point's numbers)."""

    def __init__(self, n, row, col, interface):
        self.n, self.row, self.col = int(n), np.asarray(row), np.asarray(col)
        self.interface = np.asarray(interface)
        self.upper = self.row <= self.col
        order = np.lexsort((self.col, self.row))
        transposed = np.lexsort((self.row, self.col))
        # Entry k of the transpose: (col_k, row_k) sits at position self.mirror[k].
        self.mirror = np.empty_like(order)
        self.mirror[transposed] = order
        if not (np.array_equal(self.row[self.mirror], self.col)
                and np.array_equal(self.col[self.mirror], self.row)):
            self.mirror = None   # a pattern that is not symmetric: LU at every point
        self.contexts: dict = {}
        self.orderings: dict = {}
        self.flops: dict = {}

    def kind(self, values: np.ndarray) -> tuple[str, int]:
        """The arithmetic the entries ``values`` allow (a decision on the numbers only)."""
        if self.mirror is None or not np.array_equal(values, values[self.mirror]):
            return "z", 0
        return ("d", 2) if not values.imag.any() else ("z", 2)

    def schur_complement(self, values: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Schur complement onto the interface of the matrix with entries ``values``."""
        import mumps

        kind = self.kind(values)
        dtype, sym = kind
        keep = self.upper if sym else slice(None)
        data = values[keep].real.copy() if dtype == "d" else values[keep].copy()
        matrix = sp.coo_array((data, (self.row[keep], self.col[keep])), shape=(self.n, self.n))
        context = self.contexts.get(kind)
        if context is None:
            context = self.contexts[kind] = mumps.Context()
            # python-mumps picks sym from the first matrix; symmetric=True keeps its triangle.
            context.set_matrix(matrix, overwrite_a=True, symmetric=bool(sym))
            context.mumps_instance.icntl[6] = 0
            context.schur(self.interface, ordering="auto", discard_factors=True)
            self.orderings[kind] = MUMPS_ORDERINGS.get(int(context.mumps_instance.infog[7]), "?")
        else:
            context.set_matrix(matrix, overwrite_a=True, symmetric=False)
            context.factor(reuse_analysis=True)
        self.flops[kind] = float(context.mumps_instance.rinfog[3])
        schur = context.schur_complement
        if sym:   # MUMPS returns the lower triangle of a symmetric Schur complement
            schur = np.tril(schur) + np.tril(schur, -1).T
        return schur.astype(complex), kind


def _sites_at(positions: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Index of the site at each of ``images`` (same units as ``positions``, both rounded
    to 1e-6), -1 where there is none: one sort of both sets (a dict of tuples takes 5x
    longer)."""
    both = np.round(np.concatenate([positions, images]), 6) + 0.0   # -0.0 -> 0.0
    # complex numbers sort by real, then imaginary part: one 1-D sort of (x, y) pairs
    _, slot = np.unique(both[:, 0] + 1j * both[:, 1], return_inverse=True)
    site_of_slot = np.full(slot.max() + 1, -1, dtype=np.int64)
    site_of_slot[slot[:len(positions)]] = np.arange(len(positions))
    return site_of_slot[slot[len(positions):]]


class SigmaSchurBackend(FastBackend):
    """S-matrix from MUMPS's Schur complement of ``H - E`` onto the interface orbitals
    plus the leads' self-energies there (see the module docstring).

    Parameters
    ----------
    device : qpcsim.Device
        Any device the fast path covers (two leads, explicit leads, model devices).
    assembly : SystemAssembly, optional
        The fast path's shared assembly.
    split : bool
        Factorize in the parity sectors of every mirror a point has (default); False:
        the whole region at every point (benchmarks compare the two).
    fallback : back end, optional
        None (asked for by name): every point runs here. Under ``auto`` (set by
        ``FastSolver``): the back end of the points this one hands on (``points``).
    points : {"mirror", "real", "all"}
        With a ``fallback``, the points that run here: real points with a mirror (the
        ``mirror`` condition of the auto rule), every real point, or every point; the
        others, and a point whose Schur growth is too large, go to the fallback.

    Attributes
    ----------
    factorization : str or None
        The arithmetic of the last point (:data:`FACTORIZATIONS`).
    ordering : str or None
        The ordering MUMPS reported for it (INFOG(7)).
    flops : float or None
        MUMPS's operation count of its last factorization (RINFOG(3), all sectors).
    sectors : int or None
        Parity sectors of the last point (1: no mirror; 2: one; 4: both).
    """

    name = "mumps-sigma"

    def __init__(self, device, assembly=None, split: bool = True, fallback=None,
                 points: str = "mirror"):
        if not mumps_available():
            raise BackendNotApplicable(
                "python-mumps is not installed (scripts/setup_env.sh builds it)")
        super().__init__(device, assembly)
        sites = np.concatenate([np.asarray(i) for i in self.assembly.lead_interfaces])
        n_sites = self.assembly.n_sys // self.assembly.norbs
        if len(np.unique(sites)) != len(sites) or len(sites) >= n_sites:
            # MUMPS refuses a Schur complement onto the whole matrix (error -49).
            raise BackendNotApplicable("its lead interfaces overlap or cover every site (a "
                                       "device two sites long): use 'rgf' or 'scipy'")
        self.split = split
        #: Under ``auto`` (set by ``FastSolver``): the back end of the points that
        #: ``points`` leaves out (and of Schur-growth failures); explicitly asked for,
        #: none: every point runs here.
        self.fallback = fallback
        if points not in POINT_ROLES:
            raise ValueError(f"points={points!r} is not allowed: use one of {POINT_ROLES}")
        self.points = points
        self._mirror_maps = None
        self._plans: dict = {}
        self._reductions: OrderedDict = OrderedDict()
        self._pickers: dict = {}      # interface bytes -> its block of A (schur.block_picker)
        self._off_diagonal = self.assembly.sys_row != self.assembly.sys_col
        self.factorization = self.ordering = self.flops = self.sectors = None

    def _interface_block(self, values: np.ndarray, interface: np.ndarray) -> np.ndarray:
        """The dense block of the region's ``H - E`` (entries ``values``) on ``interface``:
        the part of the Schur complement that no elimination made (:func:`~.schur.
        schur_growth`)."""
        key = interface.tobytes()
        if key not in self._pickers:
            a = self.assembly
            self._pickers[key] = block_picker(interface, a.n_sys, a.sys_row, a.sys_col)
        return dense_block(self._pickers[key], values, len(interface))

    def _reduction(self, leads) -> InterfaceReduction:
        """The lead part's reduction, cached with it (identity: the assembly caches parts)."""
        entry = self._reductions.get(id(leads))
        if entry is None or entry[0] is not leads:
            entry = (leads, InterfaceReduction(leads, self.assembly.n_sys))
            self._reductions[id(leads)] = entry
            # never more than the assembly keeps lead parts: an entry whose part it dropped
            # is never asked for again (a new part is a new key)
            kept = min(_CACHE_SIZE, max(4, _LEAD_CACHE_BYTES // max(entry[1].nbytes, 1)))
            while len(self._reductions) > kept:
                self._reductions.popitem(last=False)
        else:
            self._reductions.move_to_end(id(leads))
        return entry[1]

    def prepare_structure(self) -> None:
        """The structure's lattice mirrors (:meth:`_mirrors`; 0.5 s at 45k sites), once."""
        if self._mirror_maps is None:
            self._mirror_maps = self._mirrors() if self.split else {}

    def _mirrors(self) -> dict:
        """The lattice mirrors of the structure: name -> (orbital involution, entry
        permutation); only those under which the site set and the pattern are invariant."""
        pos = np.asarray(self.assembly.device.site_positions(), dtype=float)
        norbs = self.assembly.norbs
        mirrors = {}
        for name, axis in (("y", 1), ("x", 0)):
            image = pos.copy()
            image[:, axis] = pos[:, axis].min() + pos[:, axis].max() - pos[:, axis]
            sites = _sites_at(pos, image)
            if np.any(sites < 0):
                continue
            orbital = (sites[:, None] * norbs + np.arange(norbs)).ravel()
            entries = mirror_entries(self.assembly.sys_row, self.assembly.sys_col, orbital)
            if entries is not None:
                mirrors[name] = (orbital, entries)
        return mirrors

    def _plan(self, interface: np.ndarray, combo: tuple):
        """The sectors (with their MUMPS contexts) of the mirrors in ``combo``, or None
        where the structure does not split under them."""
        key = (combo, interface.tobytes())
        if key not in self._plans:
            leaves = [whole_sector(self.assembly.n_sys, self.assembly.sys_row,
                                   self.assembly.sys_col, interface)]
            for name in combo:
                split = [split_sector(leaf, self._mirror_maps[name][0]) for leaf in leaves]
                leaves = None if any(x is None for x in split) else [y for x in split for y in x]
                if leaves is None:
                    break
            self._plans[key] = None if leaves is None else [
                (leaf, sp.csr_array(leaf.basis), _SchurContexts(leaf.n, leaf.row, leaf.col,
                                                                leaf.interface))
                for leaf in leaves]
        return self._plans[key]

    def _symmetric_under(self, values: np.ndarray, hop: float | None = None) -> tuple:
        """The mirrors whose image of the entries equals them to MIRROR_RTOL relative to
        max|A|, and each entry to ENTRY_RTOL_FACTOR MIRROR_RTOL relative to its own size, or
        to the hopping scale ``hop`` (schur.hopping_scale, computed here if not given) where
        that is larger (:mod:`.mirror_check`; the sectors then take the entries of one half,
        as rgf-mirror does)."""
        self.prepare_structure()
        held, scales = [], None
        for name, (_, entries) in self._mirror_maps.items():
            image = values[entries]
            if np.array_equal(values, image):
                held.append(name)
                continue
            if scales is None:     # max|A| and the hopping scale, where an entry differs
                if hop is None:
                    hop = hopping_scale(values, self._off_diagonal)
                scales = (float(np.max(np.abs(values), initial=0.0)), max(hop, 1e-300))
            whole, entry = scales
            if entry_deviation(values, image) <= MIRROR_RTOL * whole and \
                    relative_deviation(values, image, entry) <= ENTRY_RTOL_FACTOR * MIRROR_RTOL:
                held.append(name)
        return tuple(held)

    def _delegate(self, energy: float, params: dict):
        if self.fallback is None:
            return exact_backend(self.assembly.device).smatrix(energy, params)
        return self.fallback.smatrix(energy, params)

    def smatrix(self, energy: float, params: dict):
        # Under auto a field makes the entries complex: hand the point on before the
        # region's values are evaluated (and mirror-checked) only to be thrown away.
        if self.fallback is not None and self.points != "all" and \
                float(params.get("B", 0.0)) != 0.0:
            return self._delegate(energy, params)
        return super().smatrix(energy, params)

    def schur_complement(self, values: np.ndarray, interface: np.ndarray,
                         mirrors: tuple | None = None) -> np.ndarray:
        """Schur complement of the region's ``H - E`` (entries ``values``) onto
        ``interface``, in the parity sectors of every mirror the point has (``mirrors``,
        found here unless given)."""
        combo = self._symmetric_under(values) if mirrors is None else mirrors
        plan = self._plan(interface, combo)
        while plan is None:   # the structure does not split under all of them: fewer
            combo = combo[:-1]
            plan = self._plan(interface, combo)
        total = None
        for leaf, basis, contexts in plan:
            schur, kind = contexts.schur_complement(leaf.values(values) if combo else values)
            part = schur if not combo else basis @ (basis @ schur.T).T
            total = part if total is None else total + part
        self.factorization, self.ordering = FACTORIZATIONS[kind], contexts.orderings[kind]
        self.flops = sum(c.flops[kind] for _, _, c in plan)
        self.sectors = len(plan)
        return total

    def _solve(self, values: np.ndarray, leads) -> tuple[np.ndarray, str] | None:
        if self.fallback is not None and self.points != "all" and values.imag.any():
            return None   # auto: the real points win here (the cost models')
        hop = hopping_scale(values, self._off_diagonal)
        mirrors = self._symmetric_under(values, hop)
        if self.fallback is not None and self.points == "mirror" and not mirrors:
            return None
        reduction = self._reduction(leads)
        schur = self.schur_complement(values, reduction.interface, mirrors)
        if schur_growth(schur, self._interface_block(values, reduction.interface),
                        hop) > SCHUR_GROWTH_LIMIT:
            return None   # a near-singular interior (schur.SCHUR_GROWTH_LIMIT): hand it on
        psi = scipy.linalg.solve(schur + reduction.sigma, reduction.rhs, check_finite=False)
        return reduction.amplitudes(psi), self.name


def _sigma_real_cost(nx: int, ny: int, norbs: int) -> float:
    """mumps-sigma at a real point without a mirror (one real LDL^T of the whole region):
    ``1.07 _sigma_cost + 0.3`` ms. At these sizes MUMPS's time per unknown, not its
    operations, sets the time, so the unsplit factorization costs about what the four-sector
    model says; fitted to 10 disordered saddles (W x L = 20 x 40 .. 150 x 300, 30 x 300,
    60 x 360; benchmarks/RESULTS.md): against RGF it wins from about 20-30 sites across
    (20 on long devices), against MUMPS's mode-variable Schur complement at every real
    point measured (0.46-0.7x its time)."""
    return 1.07 * _sigma_cost(nx, ny, norbs) + 0.3


def _sigma_cost(nx: int, ny: int, norbs: int) -> float:
    """mumps-sigma at a real point with both mirrors (the condition under which ``auto``
    runs it): ``norbs^1.2 (1.1e-3 nx ny + 2.2e-6 long short^2) + 7e-7 m^3`` ms. MUMPS's
    time per unknown (the first term; :func:`~.schur._mumps_cost` has 1.3e-3) dominates
    below W ~ 200 whatever the flops; the nested-dissection-like term is 1/6 of the mumps
    model's (four sectors, real LDL^T: 4x fewer operations, each real); the dense solve
    on 2W instead of 4W orbitals is 1/8 of mumps's. Fitted to the mumps-sigma/rgf-parity
    ratio measured interleaved at W = 60-200 (1.67, 1.14-1.5, 0.70-0.78, 0.52-0.65;
    benchmarks/bench_direct.py, RESULTS.md): the crossover is near W = 125."""
    if nx <= 2:
        return math.inf
    m = ny * norbs
    long, short = max(nx, ny), min(nx, ny)
    return norbs**1.2 * (1.1e-3 * nx * ny + 2.2e-6 * long * short**2) + 7e-7 * m**3


register(BackendInfo("mumps-sigma", SigmaSchurBackend, fast_path=True, available=mumps_available,
                     cost=_sigma_cost, condition="mirror", real_cost=_sigma_real_cost,
                     summary="MUMPS Schur complement of the region onto the lead interfaces, "
                             "leads as self-energies, in the parity sectors of every mirror; "
                             "real LDL^T at B = 0"))
