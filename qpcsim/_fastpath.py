"""Fast S-matrix of a two-terminal :class:`~qpcsim.device.Device` for sweeps.

Kwant's sparse solver (``kwant.solvers.common.SparseSolver``) writes the
scattering problem as one sparse linear system ``A x = B``: ``A`` is ``H - E``
of the scattering region bordered, for each lead, by the blocks of its
outgoing/evanescent mode amplitudes, and the S-matrix is ``x`` on the outgoing
mode variables. This module builds the *same* system, but

* assembles it with NumPy (no Python call per site): the gate enters only the
  diagonal of ``H``, so a sweep point is an array update;
* computes the lead modes once per (energy, B, E_Z) and caches them;
* reuses one symbolic analysis for every matrix with the same pattern;
* needs ``(A^-1)`` only on the set X of lead-interface orbitals and lead
  mode variables (the right-hand sides live there and the outputs are read
  there), so one sparse factorization with a Schur complement onto X, plus a
  dense solve of size |X| ~ 4 W/a, gives the whole S-matrix.

Back ends for ``(A^-1)`` on X: ``mumps`` (MUMPS Schur complement, analysis
reused), ``scipy`` (SuperLU, when Kwant lacks MUMPS) and ``rgf``
(:mod:`qpcsim._rgf`): ``A`` is block-tridiagonal in the lattice columns, with
each lead's mode variables appended to its end column, and the inter-column
hoppings are diagonal; one sweep of left-connected Green's functions from the
left lead (never singular: they contain the open lead) gives ``G_00, G_0N,
G_N0, G_NN`` and the S-matrix directly, at O(nx (ny norbs)^3) with one dense
block inversion per column. RGF is faster for narrow spinless devices,
MUMPS for wide or Zeeman-resolved ones. ``backend="auto"`` picks one with
:func:`choose_backend`, a cost model fitted to measurements that depends on
the lattice size only (no run-time timing), so results stay bit-identical in
every process. :attr:`FastSolver.name` (stored with results) names the back
end that ran: ``fast-mumps``, ``fast-scipy`` or ``fast-rgf``.

The equality with ``kwant.smatrix`` to 1e-10 is asserted in tests and benchmarks.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._linalg import MumpsSchur, ScipySchur, mumps_available
from ._rgf import RGFNotApplicable, RGFSolver

# Lead blocks are small (a few (W/a)^2 numbers): keep many, e.g. for the
# energy nodes of a thermal average shared by all points of a sweep.
_CACHE_SIZE = 512
_BLAS = None


def _single_threaded_blas():
    """One BLAS thread during a solve: the matrices are small, and multithreaded
    BLAS rounds differently with the thread count (Dask workers default to one
    thread), which would break bit-identical results across executors."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


@dataclass
class _LeadPart:
    """The lead-dependent part of ``A x = B`` at one (energy, B, E_Z)."""

    row: np.ndarray             # coordinates of the lead blocks in A
    col: np.ndarray
    values: np.ndarray
    n: int                      # dimension of A
    schur: np.ndarray           # index set X: interface orbitals + mode variables
    rhs_x: np.ndarray           # B restricted to rows X (dense, |X| x n_in)
    kept: np.ndarray            # positions in X of the outgoing-mode variables
    nprop: tuple                # propagating modes per lead
    pattern_key: str            # identifies (row, col, schur)
    n_outs: tuple = ()          # mode variables per lead


def choose_backend(nx: int, ny: int, norbs: int = 1, mumps: bool = True) -> str:
    """Back end that ``backend="auto"`` runs for an ``nx`` x ``ny``-site device.

    A fixed rule in the lattice size only, never a timing, so that a device
    runs the same arithmetic, bit for bit, in every process and executor.
    Without MUMPS it is always ``"rgf"`` (SciPy's SuperLU path is slower still).
    Otherwise the back end with the smaller modelled per-point time (ms, one
    core), with MUMPS on OpenBLAS (``scripts/setup_env.sh`` selects it; see
    ``qpcsim info``). RGF runs on SciPy's bundled OpenBLAS:

    * RGF: one dense m x m inversion per column, m = ny * norbs, plus Python
      overhead per column: ``nx (0.0156 + 2.2e-5 m^2 + 2.4e-7 m^3)``;
    * MUMPS: nested dissection of the grid plus the dense Schur solve on X
      (|X| ~ 2m): ``norbs^1.2 (1.3e-3 nx ny + 1.4e-5 long short^2) + 5.6e-6 m^3``,
      long/short = max/min(nx, ny). Refitted (issue 16) by least squares in log
      space to the MUMPS/RGF ratio measured interleaved by
      ``benchmarks/bench_backends.py``-style races (30 cases: saddles 8 x 100 ..
      400 x 200, short wide ones, Zeeman saddles, wires 19-59 sites across)
      times the RGF model, whose library did not change.

    In effect: spinless devices up to about 50-60 sites across run RGF, wider
    ones MUMPS (MUMPS on the reference BLAS took over only beyond ~110-150);
    very short wide ones (a few columns) RGF; Zeeman-resolved devices run RGF
    up to about 25-30 sites across. Near a crossover both cost about the same
    (within 10 %). Devices 2 columns long run RGF.
    """
    if not mumps or nx <= 2:
        # nx <= 2: every site is a lead-interface site, and MUMPS refuses a Schur
        # complement onto the whole matrix (error -49).
        return "rgf"
    m = ny * norbs
    long, short = max(nx, ny), min(nx, ny)
    t_rgf = nx * (0.0156 + 2.2e-5 * m**2 + 2.4e-7 * m**3)
    t_mumps = norbs**1.2 * (1.3e-3 * nx * ny + 1.4e-5 * long * short**2) + 5.6e-6 * m**3
    return "rgf" if t_rgf < t_mumps else "mumps"


class FastSolver:
    """S-matrices of one device, with caches that make a sweep cheap.

    Parameters
    ----------
    device : qpcsim.Device
        The device; its Kwant system is built on first use.
    backend : {"auto", "mumps", "scipy", "rgf"}
        ``mumps``/``scipy``: sparse Schur complement; ``rgf``: recursive
        Green's functions over the lattice columns; ``auto``: the choice of
        :func:`choose_backend` (a fixed rule in the device's size, so the
        same device always runs the same arithmetic).
    """

    def __init__(self, device, backend: str = "auto"):
        if backend not in ("auto", "mumps", "scipy", "rgf"):
            raise ValueError(f"backend={backend!r} is not allowed: "
                             "use 'auto', 'mumps', 'scipy' or 'rgf'")
        if backend == "mumps" and not mumps_available():
            raise ValueError("backend='mumps' is not available: Kwant was built without MUMPS")
        if backend == "mumps" and device.nx <= 2:
            raise ValueError(f"backend='mumps' does not apply to a device {device.nx} sites long "
                             "(every site is on a lead interface): use 'rgf' or 'scipy'")
        self.device = device
        self.fsyst = device.build()
        self.norbs = device.norbs
        self.n_sys = len(device.site_positions()) * self.norbs
        self._hoppings = self._hopping_structure()
        self._sys_row, self._sys_col = self._system_pattern()
        requested = backend
        if backend == "auto":
            backend = choose_backend(device.nx, device.ny, self.norbs, mumps_available())
        self._rgf = None
        if backend == "rgf":
            try:
                self._rgf = RGFSolver(device.site_positions(), self.norbs, device.nx, device.ny,
                                      self._sys_row, self._sys_col, self.fsyst.lead_interfaces)
            except RGFNotApplicable as err:
                if requested == "rgf":
                    raise ValueError(f"backend='rgf' does not apply to this device: {err}") from err
                backend = "mumps" if mumps_available() else "scipy"
        self.backend = backend
        self._hop_cache: dict = {}
        self._lead_cache: OrderedDict = OrderedDict()
        self._lead_matrix_cache: dict = {}
        self._structure_cache: dict = {}
        self._fact = self._fact_key = None

    @property
    def name(self) -> str:
        return f"fast-{self.backend}"

    # -------------------------------------------------------------- assembly
    def _hopping_structure(self):
        """(to, from) site index pairs of all nearest-neighbour hoppings."""
        dev = self.device
        pos = np.rint(dev.site_positions()).astype(int)
        grid = -np.ones((dev.nx, dev.ny), dtype=np.int64)
        grid[pos[:, 0], pos[:, 1]] = np.arange(len(pos))
        pairs = []
        for di, dj in ((1, 0), (0, 1)):
            a = grid[: dev.nx - di, : dev.ny - dj].ravel()
            b = grid[di:, dj:].ravel()
            ok = (a >= 0) & (b >= 0)
            pairs.append((b[ok], a[ok]))     # b = a + (di, dj)
            pairs.append((a[ok], b[ok]))
        to_site = np.concatenate([p[0] for p in pairs])
        from_site = np.concatenate([p[1] for p in pairs])
        return to_site, from_site

    def _orbitals(self, sites: np.ndarray) -> np.ndarray:
        sites = np.asarray(sites, dtype=np.int64)
        return (sites[:, None] * self.norbs + np.arange(self.norbs)).ravel()

    def _hopping_values(self, B: float) -> np.ndarray:
        """Entries of the scattering region's hoppings (depend on B only)."""
        values = self._hop_cache.get(B)
        if values is None:
            pos = self.device.site_positions()
            to_site, from_site = self._hoppings
            hop = self.device._hopping_values(pos[to_site], pos[from_site], B)
            values = hop.astype(complex) if self.norbs == 1 else \
                np.concatenate([hop[:, 0, 0], hop[:, 1, 1]])
            self._hop_cache = {B: values}
        return values

    def _system_pattern(self):
        """Coordinates of the scattering region's entries: hoppings, then diagonal."""
        to_site, from_site = self._hoppings
        if self.norbs == 1:
            rows, cols = [to_site], [from_site]
        else:   # spin-diagonal hoppings: the two diagonal orbital entries
            rows = [to_site * 2, to_site * 2 + 1]
            cols = [from_site * 2, from_site * 2 + 1]
        diag = np.arange(self.n_sys)
        return np.concatenate(rows + [diag]), np.concatenate(cols + [diag])

    def _lead_matrices(self, leadnum: int, params: dict):
        """Unit-cell Hamiltonian, inter-cell hopping and symmetries of a lead
        (they depend on B and E_Z only, not on the energy)."""
        key = (leadnum,) + tuple(float(params[k]) for k in self.device.lead_parameters)
        mats = self._lead_matrix_cache.get(key)
        if mats is None:
            lead = self.fsyst.leads[leadnum]
            kwant_params = {k: params[k] for k in self.device.lead_parameters}
            mats = (lead.cell_hamiltonian(params=kwant_params),
                    lead.inter_cell_hopping(params=kwant_params),
                    lead.discrete_symmetry(params=kwant_params))
            if len(self._lead_matrix_cache) > 64:
                self._lead_matrix_cache.clear()
            self._lead_matrix_cache[key] = mats
        return mats

    def _lead_structure(self, n_outs: tuple):
        """Coordinates of the lead blocks, the index set X and the positions of
        the mode variables in X: fixed for given numbers of lead mode variables."""
        struct = self._structure_cache.get(n_outs)
        if struct is not None:
            return struct
        n = self.n_sys
        rows, cols, schur, blocks = [], [], [], []
        for interface, n_out in zip(self.fsyst.lead_interfaces, n_outs):
            iface = self._orbitals(interface)
            new_vars = n + np.arange(n_out)
            for r_idx, c_idx in ((iface, new_vars), (new_vars, iface), (new_vars, new_vars)):
                r, c = np.meshgrid(r_idx, c_idx, indexing="ij")
                rows.append(r.ravel()), cols.append(c.ravel())
            schur += [iface, new_vars]
            blocks.append((iface, new_vars))
            n += n_out
        schur = np.concatenate(schur)
        where = np.full(n, -1, dtype=np.int64)
        where[schur] = np.arange(len(schur))
        row, col = np.concatenate(rows), np.concatenate(cols)
        digest = hashlib.blake2b(row.tobytes() + col.tobytes() + schur.tobytes()).hexdigest()
        struct = (row, col, n, schur, where, blocks, digest)
        self._structure_cache[n_outs] = struct
        return struct

    def _lead_part(self, energy: float, params: dict) -> _LeadPart:
        """Lead blocks, exactly as kwant.solvers.common.SparseSolver._make_linear_sys."""
        from kwant import physics

        stabs = []
        for leadnum in range(len(self.fsyst.lead_interfaces)):
            ham, hop, symmetries = self._lead_matrices(leadnum, params)
            ham = ham.copy()
            ham.flat[::ham.shape[0] + 1] -= energy
            _, stab = physics.modes(ham, hop, discrete_symmetry=symmetries)
            if stab.sqrt_hop.shape[1] != stab.vecs.shape[1] - stab.nmodes:
                raise RuntimeError("lead hopping is rank deficient; use method='kwant'")
            stabs.append(stab)
        n_outs = tuple(stab.vecs.shape[1] - stab.nmodes for stab in stabs)
        row, col, n, schur, where, blocks, digest = self._lead_structure(n_outs)

        vals, rhs_cols, kept, nprop_all = [], [], [], []
        for stab, (iface, new_vars) in zip(stabs, blocks):
            u, ulinv, nprop, svd_v = stab.vecs, stab.vecslmbdainv, stab.nmodes, stab.sqrt_hop
            vals += [(svd_v @ u[:, nprop:]).ravel(),       # V^dagger u_out (interface rows)
                     svd_v.conj().T.ravel(),               # V (mode rows)
                     (-ulinv[:, nprop:]).ravel()]
            rhs_cols.append((iface, -svd_v @ u[:, :nprop], new_vars, ulinv[:, :nprop]))
            kept.append(new_vars[:nprop])
            nprop_all.append(int(nprop))
        rhs_x = np.zeros((len(schur), sum(nprop_all)), dtype=complex)
        col0 = 0
        for iface, top, new_vars, bottom in rhs_cols:
            k = top.shape[1]
            rhs_x[where[iface], col0:col0 + k] += top
            rhs_x[where[new_vars], col0:col0 + k] += bottom
            col0 += k
        return _LeadPart(row, col, np.concatenate(vals).astype(complex), n, schur, rhs_x,
                         where[np.concatenate(kept)], tuple(nprop_all), digest, n_outs)

    def _leads(self, energy: float, params: dict) -> _LeadPart:
        key = (float(energy),) + tuple(float(params[k]) for k in self.device.lead_parameters)
        part = self._lead_cache.get(key)
        if part is None:
            part = self._lead_part(energy, params)
            self._lead_cache[key] = part
            if len(self._lead_cache) > _CACHE_SIZE:
                self._lead_cache.popitem(last=False)
        else:
            self._lead_cache.move_to_end(key)
        return part

    def _factorizer(self, leads: _LeadPart):
        if self._fact_key != leads.pattern_key:
            row = np.concatenate([self._sys_row, leads.row])
            col = np.concatenate([self._sys_col, leads.col])
            cls = MumpsSchur if self.backend == "mumps" else ScipySchur
            self._fact = cls(leads.n, row, col, leads.schur)
            self._fact_key = leads.pattern_key   # keep one: the pattern rarely changes
        return self._fact

    # -------------------------------------------------------------- solve
    def smatrix(self, energy: float, params: dict):
        """Scattering matrix at ``energy`` (lattice units) for resolved ``params``.

        Returns
        -------
        smatrix : ndarray, shape (n_out, n_in)
            Rows: outgoing modes of lead 0 then lead 1; columns: incoming modes
            of lead 0 then lead 1 (Kwant's order and normalization).
        nprop : tuple of int
            Propagating modes in each lead.
        """
        with _single_threaded_blas():
            return self._smatrix(energy, params)

    def _smatrix(self, energy, params):
        leads = self._leads(energy, params)
        if sum(leads.nprop) == 0:
            return np.zeros((0, 0), dtype=complex), leads.nprop
        if self._rgf is not None:
            values = np.concatenate([self._hopping_values(float(params["B"])),
                                     self.device.onsite_diagonal(params) - energy])
            return self._rgf.solve(values, leads), leads.nprop
        values = np.concatenate([self._hopping_values(float(params["B"])),
                                 self.device.onsite_diagonal(params) - energy, leads.values])
        schur = self._factorizer(leads).schur_complement(values)
        x = scipy.linalg.solve(schur, leads.rhs_x, check_finite=False)
        return x[leads.kept], leads.nprop
