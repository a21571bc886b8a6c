"""Where the current flows: current density and scattering-state density maps.

``current_density(device, energy, lead=0, mode=None, **params)`` runs Kwant's
operators (:class:`kwant.operator.Current`, :class:`kwant.operator.Density`) on
the scattering states ``kwant.wave_function`` of the Device's own system
(``device.build()``, the system the fast path assembles). Kwant normalizes
each incoming mode to unit particle flux, so the current of mode m through any
cross-section of the device equals its transmission sum_n |t_nm|^2, and the
sum over the modes of a lead equals the transmission T (tested to 1e-10); the
current is divergence-free at every site away from the lead interfaces.

Multi-orbital devices (:class:`qpcsim.ContinuumDevice`, :class:`qpcsim.GrapheneRibbon`)
run Kwant's sparse solver on their own system: the current on a bond is
``2 Im(psi_i^dagger H_ij psi_j)`` with the full orbital hopping matrix (spin-orbit
terms included) summed over orbitals, the density sums |psi|^2 over the orbitals
of a site; the same flux normalization holds (tested to 1e-10 for a Rashba wire).
Bogoliubov-de Gennes devices (:class:`qpcsim.BdGDevice`): the electrons of the normal
lead 0 are injected; ``electron_current`` and ``hole_current`` are Kwant currents with the
onsite projectors (1 +- tau_z)/2 and ``bond_current`` the charge current (onsite tau_z,
electrons minus holes). Through a cut in the normal region the charge current of electron
mode m is 1 - sum_n |r_ee,nm|^2 + sum_n |r_he,nm|^2 (its share of G_NS/G0, which
``transmission`` holds); the pairing converts it into supercurrent, so it is divergence
free only where Delta = 0.

Units: the current on a bond is per unit flux of the incoming states
(dimensionless; multiply by g_s e^2/h x V_sd for the physical current of a
small bias), the density per site in units of 1/(flux x a), positions in nm.
"""
from __future__ import annotations

from dataclasses import dataclass
from ..backends import fast_path_applies
from ..solver import check_energy, scattering_matrix

import numpy as np

__all__ = ["CurrentMap", "current_density"]


@dataclass
class CurrentMap:
    """Bond currents and site densities of the scattering states from one lead.

    Attributes
    ----------
    energy : float
        meV.
    lead : int
        Lead whose incoming modes were injected.
    modes : tuple of int
        Mode indices included.
    x, y : ndarray
        Site positions (nm), Kwant's site order.
    bonds : ndarray, shape (bonds, 2)
        (to, from) site indices of every hopping (both directions, as Kwant lists them).
    bond_current : ndarray, shape (modes, bonds)
        Current from ``from`` to ``to`` per injected mode.
    density : ndarray, shape (modes, sites)
        |psi|^2 per site per injected mode.
    transmission : ndarray
        sum_n |t_nm|^2 of each injected mode (from the S-matrix at the same energy);
        with more than two leads, into all other leads (1 - reflection).
    """

    energy: float
    lead: int
    modes: tuple
    x: np.ndarray
    y: np.ndarray
    bonds: np.ndarray
    bond_current: np.ndarray
    density: np.ndarray
    transmission: np.ndarray
    electron_current: np.ndarray | None = None
    hole_current: np.ndarray | None = None

    @property
    def total(self) -> np.ndarray:
        """Bond current summed over the injected modes."""
        return self.bond_current.sum(axis=0)

    def site_current(self) -> tuple[np.ndarray, np.ndarray]:
        """(jx, jy) per site: half the sum of the currents on its outgoing bonds, by direction
        (a vector field for colour maps and streamlines)."""
        to, frm = self.bonds[:, 0], self.bonds[:, 1]
        dx, dy = self.x[to] - self.x[frm], self.y[to] - self.y[frm]
        norm = np.hypot(dx, dy)
        j = self.total
        jx, jy = np.zeros(self.x.size), np.zeros(self.x.size)
        np.add.at(jx, frm, 0.5 * j * dx / norm)
        np.add.at(jy, frm, 0.5 * j * dy / norm)
        return jx, jy

    def divergence(self, per_mode: bool = False) -> np.ndarray:
        """Net current out of each site (sum over its bonds of the outgoing current)."""
        cur = self.bond_current if per_mode else self.total[None, :]
        out = np.zeros((cur.shape[0], self.x.size))
        for k in range(cur.shape[0]):
            np.add.at(out[k], self.bonds[:, 1], cur[k])
        return out if per_mode else out[0]

    def through(self, x_cut: float) -> float:
        """Total current crossing the line x = ``x_cut`` (nm) from left to right."""
        to, frm = self.bonds[:, 0], self.bonds[:, 1]
        crossing = (self.x[frm] < x_cut) & (self.x[to] > x_cut)
        return float(self.total[crossing].sum())


def current_density(device, energy: float, lead: int = 0, mode: int | None = None,
                    **params) -> CurrentMap:
    """Current density and density of the scattering states injected from ``lead``.

    Parameters
    ----------
    device : qpcsim.Device or ModelDevice
        A Device (its own system ``device.build()``): two-terminal or with
        explicit ``leads``; or a two-lead ContinuumDevice / GrapheneRibbon
        (any number of orbitals, summed).
    energy : float
        Fermi energy (meV).
    lead : int
        0 (left) or 1 (right); with explicit leads, any terminal's index.
    mode : int, optional
        One incoming mode of that lead (0 .. open modes - 1); default all, summed.
    **params
        Device parameters (units in ``device.units``).

    Returns
    -------
    CurrentMap
    """
    import kwant

    from ..hamiltonian import ModelDevice
    model = isinstance(device, ModelDevice)
    bdg = device.has_own_observables
    if bdg and lead != 0:
        raise ValueError(f"lead={lead!r} is not allowed for a Bogoliubov-de Gennes device: "
                         "electrons are injected from its normal lead 0")
    if model and len(device.build().leads) != 2:
        raise ValueError(f"current maps need two leads; {device.name!r} has "
                         f"{len(device.build().leads)}")
    if not model and not fast_path_applies(device):
        raise ValueError(f"current maps need a Device with its own two-lead system; {device.name!r} "
                         "has extra or self-energy leads (no fast-path system)")
    resolved = device.resolve_params(params)
    energy = check_energy(device, energy, resolved)
    fsyst = device.build()
    if isinstance(lead, bool) or not isinstance(lead, (int, np.integer)) or \
            lead not in range(len(fsyst.leads)):   # any terminal injects (1.0 in range(2))
        raise ValueError(f"lead={lead!r} is not allowed: use 0 (left) or 1 (right)" if
                         len(fsyst.leads) == 2 else f"lead={lead!r} is not allowed: use 0 .. "
                         f"{len(fsyst.leads) - 1} ({', '.join(device.terminals)})")
    e_lat = energy / device.t
    if model:   # Kwant's sparse solver on one BLAS thread, as the kwant back end's S-matrix
        import kwant.solvers.sparse
        from ..hamiltonian import one_blas_thread
        with one_blas_thread():
            psi = kwant.solvers.sparse.wave_function(fsyst, e_lat, params=resolved)(lead)
    else:
        psi = kwant.wave_function(fsyst, e_lat, params=resolved)(lead)
    n_modes = psi.shape[0]
    if n_modes == 0:
        first = float(device.transverse_mode_energies(1)[0])
        raise ValueError(f"energy={energy:g} meV is not allowed for a current map: no mode is "
                         f"open in lead {lead} (first lead mode at {first:.4g} meV); use a higher "
                         "energy")
    if mode is not None:
        if isinstance(mode, bool) or int(mode) != mode or not 0 <= int(mode) < n_modes:
            raise ValueError(f"mode={mode!r} is not allowed: lead {lead} has {n_modes} open "
                             f"mode(s) at {energy:g} meV, use 0 .. {n_modes - 1}")
        modes = (int(mode),)
    else:
        modes = tuple(range(n_modes))
    # The fast path's S-matrix has Kwant's mode order and normalization (tested in test_fastpath).
    smat = scattering_matrix(device, energy, resolved, "auto")
    if bdg:
        return _bdg_current(device, fsyst, psi, energy, modes, smat, resolved)
    j_op = kwant.operator.Current(fsyst)
    rho_op = kwant.operator.Density(fsyst)
    bond_current = np.array([j_op(psi[m], params=resolved) for m in modes])
    density = np.array([rho_op(psi[m], params=resolved) for m in modes])
    if smat.num_leads > 2:   # several terminals: transmitted into any other lead, 1 - reflection
        r = smat.submatrix(lead, lead)
        trans = 1.0 - np.sum(np.abs(r) ** 2, axis=0)[list(modes)]
    else:
        t = smat.submatrix(1 - lead, lead)
        trans = np.sum(np.abs(t) ** 2, axis=0)[list(modes)] if t.size else np.zeros(len(modes))
    bonds = np.array(j_op.where, dtype=np.int64).reshape(-1, 2)
    x, y = device.site_positions_nm()
    return CurrentMap(energy, lead, modes, np.asarray(x), np.asarray(y), bonds, bond_current,
                      density, trans)


def _bdg_current(device, fsyst, psi, energy, modes, smat, params) -> CurrentMap:
    """Electron, hole and charge currents of the electron modes of the normal lead 0
    (module docstring); ``modes`` beyond the electron block are refused."""
    import kwant

    from ..superconductivity import TAU_Z
    n_e = int(device.lead_modes(energy, params, 0).block_nmodes[0])
    if modes == tuple(range(psi.shape[0])):      # the default: all electron modes
        modes = tuple(range(n_e))
    elif modes[0] >= n_e:
        raise ValueError(f"mode={modes[0]!r} is not allowed: lead 0 injects {n_e} electron "
                         f"mode(s) at {energy:g} meV (the others are holes), use 0 .. {n_e - 1}")
    ops = {k: kwant.operator.Current(fsyst, onsite=m) for k, m in
           (("e", 0.5 * (np.eye(2) + TAU_Z)), ("h", 0.5 * (np.eye(2) - TAU_Z)), ("q", TAU_Z))}
    cur = {k: np.array([op(psi[m], params=params) for m in modes]) for k, op in ops.items()}
    density = np.array([kwant.operator.Density(fsyst)(psi[m], params=params) for m in modes])
    r = smat.submatrix(0, 0)
    share = (1.0 - np.sum(np.abs(r[:n_e, :n_e]) ** 2, axis=0)
             + np.sum(np.abs(r[n_e:, :n_e]) ** 2, axis=0))[list(modes)]
    bonds = np.array(ops["q"].where, dtype=np.int64).reshape(-1, 2)
    x, y = device.site_positions_nm()
    return CurrentMap(energy, 0, modes, np.asarray(x), np.asarray(y), bonds, cur["q"], density,
                      share, electron_current=cur["e"], hole_current=cur["h"])
