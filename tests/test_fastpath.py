"""The fast path reproduces Kwant's S-matrix on every bundled geometry, and the
fallback to Kwant's solver triggers where the fast path does not apply."""


import qpcsim

from conftest import DEVICE_GEOMETRIES as GEOMETRIES  # noqa: E402
#: Coarser lattices for speed where a geometry allows it (physics unchanged in kind).
FAST = {"qpc_saddle": dict(a=4.0, W=200.0, L=320.0), "qpc_hardwall": dict(a=4.0, L_taper=100.0)}


class ProbedWire(qpcsim.Device):
    """A wire with a third (side) lead: outside the fast path's model."""

    def build(self):
        if self._fsyst is None:
            import kwant
            super().build()
            lat = kwant.lattice.square(1, norbs=1, name="")
            syst = kwant.Builder()
            for i in range(self.nx):
                for j in range(self.ny):
                    syst[lat(i, j)] = 4.0
            syst[lat.neighbors()] = -1.0
            for direction, sites in (((-1, 0), [lat(0, j) for j in range(self.ny)]),
                                     ((1, 0), [lat(0, j) for j in range(self.ny)]),
                                     ((0, 1), [lat(i, 0) for i in range(3)])):
                lead = kwant.Builder(kwant.TranslationalSymmetry(direction))
                for s in sites:
                    lead[s] = 4.0
                lead[lat.neighbors()] = -1.0
                syst.attach_lead(lead)
            self._fsyst = syst.finalized()
        return self._fsyst


def test_fallback_to_kwant_for_more_than_two_leads():
    wire = ProbedWire(width=40.0, length=20.0, a=5.0)
    result = qpcsim.solve(wire, 5.0)
    assert result.solver == "kwant"
    assert len(result.open_modes) == 3
    assert result.unitarity_error < 1e-10
    plain = qpcsim.solve(qpcsim.Device(width=40.0, length=20.0, a=5.0), 5.0)
    assert plain.solver.startswith("fast-")
