"""Mirror sectors of the Thomas–Fermi problem (issue 24 speed): the sector's cosine-transform
convolution equals the zero-padded FFT one to rounding, a symmetric point solved on its half
or quarter grid equals the full-grid solve within the solver tolerance, and the anchors'
first-order warm start (density derivative) is the slope of the solution."""
import numpy as np
import pytest
import scipy.fft

import qpcsim
from qpcsim.electrostatics import Gate, Heterostructure, Layout, ThomasFermiProblem
from qpcsim.electrostatics.mirror import MirrorSector, find_mirrors
from qpcsim.electrostatics.thomas_fermi import cell_kernel, padded_convolution
from qpcsim.scattering import scattering_matrix

TOL_MEV = 1e-7          # the self-consistent provider's default residual tolerance (meV)


def split_layout(gap=200.0, length=100.0, extent=300.0):
    x0, y0, y1 = length / 2, gap / 2, gap / 2 + extent
    return Layout([Gate("left", [(-x0, y0), (x0, y0), (x0, y1), (-x0, y1)]),
                   Gate("right", [(-x0, -y1), (x0, -y1), (x0, -y0), (-x0, -y0)])])


@pytest.fixture(scope="module")
def problem():
    # the demo split gate (d = 50 nm) on an 8 nm grid: 100 x 160 cells
    return ThomasFermiProblem(split_layout(), Heterostructure(50.0, 2.239e11),
                              (-400, 400, -640, 640), 8.0)


@pytest.mark.parametrize("mirrors", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_sector_convolution_equals_the_padded_fft(mirrors, dtype, rtol):
    # Same linear convolution of a mirror-even grid as the padded FFT of the full grid, to
    # rounding: 1e-13 of max|result| in double (measured 3e-16), 1e-5 in single (eps 6e-8
    # times ~log n transform stages and the kernel's dynamic range).
    nx, ny = 12, 16
    kernel_hat = scipy.fft.rfft2(cell_kernel(nx, ny, 4.0, 5.0, 50.0))
    sector = MirrorSector(kernel_hat, (nx, ny), mirrors)
    part = np.random.default_rng(7).random(sector.sector_shape)
    full = sector.unfold(part)
    assert find_mirrors(full, 0.0) == mirrors
    ref = padded_convolution(full, kernel_hat, (2 * nx, 2 * ny))
    if dtype is np.float64:
        got = sector.hartree(part)
    else:
        got = sector.product(part.ravel()).reshape(sector.sector_shape)
    assert np.max(np.abs(sector.unfold(got) - ref)) <= rtol * np.max(np.abs(ref))


@pytest.mark.parametrize("mirrors", [(True, True), (True, False), (False, True)])
def test_margin_preconditioner_and_hessian_are_as_good_as_the_padded_ones(mirrors):
    # The sector's preconditioner pads by a margin (one depth), not to twice the window:
    # shorter transforms, still symmetric positive definite (a principal block of a
    # circulant (1 + K)^-1: eigenvalues in (0, 1]; single precision, so to 1e-5), and the
    # preconditioned Hessian's condition number within 1 % of the padded preconditioner's
    # (measured 1.311 vs 1.313; no margin: 1.8-3.3, cond(1 + H) itself 9.8).
    nx, ny, scale = 24, 32, 0.5          # scale: k n_s / E_F (nm), so that H matters

    def kernel(lx, ly):
        return cell_kernel(lx, ly, 4.0, 5.0, 10.0) * scale

    kernel_hat = scipy.fft.rfft2(kernel(nx, ny))
    padded = MirrorSector(kernel_hat, (nx, ny), mirrors)
    sector = MirrorSector(kernel_hat, (nx, ny), mirrors, kernel=kernel, margin_cells=3)
    assert all(n < full for n, full in zip(sector.preconditioner_lengths, (nx, ny)))
    unit = np.eye(sector.sector_shape[0] * sector.sector_shape[1])
    hessian = unit + np.column_stack([sector.hartree(e.reshape(sector.sector_shape)).ravel()
                                      for e in unit])
    conditions = []
    for preconditioner in (sector, padded):
        matrix = np.column_stack([preconditioner.precondition(e) for e in unit])
        assert np.max(np.abs(matrix - matrix.T)) <= 1e-5 * np.max(np.abs(matrix))
        eigenvalues = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))
        assert eigenvalues.min() > 0 and eigenvalues.max() <= 1 + 1e-5
        steered = np.linalg.eigvals(matrix @ hessian).real
        conditions.append(steered.max() / steered.min())
    assert conditions[0] <= 1.01 * conditions[1] < 0.2 * np.linalg.cond(hessian)
    # The coarse Newton steps' Hessian on the same margin: (approximate)^-1 (exact) within
    # 10 % of 1 (measured 0.946-1.058 on this small grid), so their 1 % directions hold.
    approximate = unit + np.column_stack([sector.product(e, approximate=True) for e in unit])
    ratios = np.linalg.eigvals(np.linalg.solve(approximate, hessian)).real
    assert 0.9 < ratios.min() and ratios.max() < 1.1


@pytest.mark.parametrize("volts, mirrors", [
    ({"left": -0.9, "right": -0.9}, (True, True)),      # quarter grid
    ({"left": -0.9, "right": -0.6}, (True, False)),     # x -> -x only: half grid
])
def test_symmetric_point_on_its_sector_equals_the_full_grid_solve(problem, volts, mirrors):
    # Both solves reach the residual tolerance (meV, reported and checked); U agrees within
    # 10x that tolerance (measured 1e-12 meV: the same Newton path to rounding).
    sector = problem.solve(volts, tolerance_meV=TOL_MEV)
    full = problem.solve(volts, tolerance_meV=TOL_MEV, symmetry=False)
    assert sector.mirrors == mirrors and full.mirrors == (False, False)
    assert sector.residual <= TOL_MEV and full.residual <= TOL_MEV
    np.testing.assert_allclose(sector.potential_grid_meV, full.potential_grid_meV, rtol=0,
                               atol=10 * TOL_MEV)
    assert np.all(np.diff(sector.functional) <= 0)           # the full functional, decreasing
    np.testing.assert_allclose(sector.functional[-1], full.functional[-1], rtol=1e-12)


def test_odd_cell_count_keeps_the_full_grid():
    # 101 cells along y: the centre row is its own image, so y has no sector; reducing by x
    # alone would leave U y-symmetric only to the tolerance (2e-10 meV), and the transport
    # back ends' exact mirror check needs rounding: the full grid, U symmetric to 1e-12 meV.
    prob = ThomasFermiProblem(split_layout(), Heterostructure(50.0, 2e11),
                              (-400, 400, -404, 404), 8.0)
    assert prob.shape == (100, 101)
    res = prob.solve({"left": -0.5, "right": -0.5}, tolerance_meV=1e-7, check_window=False)
    assert res.mirrors == (False, False) and res.residual <= 1e-7
    u = res.potential_grid_meV
    assert np.max(np.abs(u - u[::-1])) < 1e-12 and np.max(np.abs(u - u[:, ::-1])) < 1e-12


def test_density_derivative_is_the_slope_of_the_solution(problem):
    # Away from depletion-edge switches the solution is linear in V: a 1 mV difference
    # quotient equals the derivative to 1 % of its largest value (CG to 1e-3; measured
    # 3e-4). As a warm start 0.05-0.2 V away, anchor + step x derivative is closer to the
    # solution (rms, measured 0.19-0.24 of the anchor's distance; the depletion edge moves)
    # and saves Newton steps (measured 5 -> 3-4).
    anchor = problem.solve({"left": -1.0, "right": -1.0}, tolerance_meV=1e-9)
    slope = problem.density_derivative(anchor, {"left": 1.0, "right": 1.0})
    near = problem.solve({"left": -0.999, "right": -0.999}, initial=anchor, tolerance_meV=1e-9)
    quotient = (near.density_grid_cm2 - anchor.density_grid_cm2) / 1e-3
    stable = (near.density_grid_cm2 > 0) == (anchor.density_grid_cm2 > 0)
    assert np.all(slope[anchor.density_grid_cm2 == 0] == 0)
    assert np.max(np.abs(quotient - slope)[stable]) < 1e-2 * np.max(np.abs(slope))
    for step in (0.05, -0.2):
        volts = {"left": -1.0 + step, "right": -1.0 + step}
        start = np.clip(anchor.density_grid_cm2 + step * slope, 0, None)
        plain = problem.solve(volts, initial=anchor, tolerance_meV=TOL_MEV)
        better = problem.solve(volts, initial=start, tolerance_meV=TOL_MEV)
        rms = [np.sqrt(np.mean((n - better.density_grid_cm2) ** 2))
               for n in (start, anchor.density_grid_cm2)]
        assert rms[0] < 0.5 * rms[1] and better.iterations < plain.iterations
    with pytest.raises(ValueError, match="middle"):
        problem.density_derivative(anchor, {"middle": 1.0})


def test_self_consistent_point_agrees_with_a_cold_high_accuracy_solve():
    # A sweep point (warm-started from its anchor's first-order extrapolation, solved on the
    # quarter grid) equals a cold full-grid solve to 1e-11 meV within 10x the provider's
    # tolerance (meV) in U, and its residual is reported within the tolerance.
    dev = qpcsim.load_geometry("qpc_split_gate_sc", a=8.0, resolution=8.0)
    pot = dev.potential
    for vg in (-1.3, -0.85):
        point = pot.solve(Vg=vg)
        assert point.warm_started and point.mirrors == (True, True)
        assert point.residual <= pot.tolerance_meV
        exact = pot.problem().solve({"left": vg, "right": vg}, tolerance_meV=1e-11,
                                    symmetry=False)
        np.testing.assert_allclose(point.potential_grid_meV, exact.potential_grid_meV, rtol=0,
                                   atol=10 * pot.tolerance_meV)


@pytest.mark.parametrize("volts, start, tol", [
    ({"left": -0.9, "right": -0.9}, None, TOL_MEV),     # cold, quarter grid
    ({"left": -0.8, "right": -0.8}, -1.0, TOL_MEV),     # from the -1.0 V solution
    ({"left": -0.9, "right": -0.6}, None, TOL_MEV),     # half grid
    ({"left": -0.9, "right": -0.9}, None, 0.3),         # a tolerance above the 2 % switch
])
def test_reported_residual_is_the_exact_one_after_single_precision_steps(problem, volts, start,
                                                                         tol):
    # Far from the answer (residual above 2 % of E_F) a sector's Newton steps use
    # single-precision Hartree products (error ~4e-5 meV, 400x the tolerance); every later
    # gradient is double. Recomputed here with the full grid's double-precision operator from
    # the returned density, the residual (meV) is within the tolerance and equals the reported
    # one to 1e-3 of it, and U is bare + Hartree of that density to 1e-10 meV.
    het = problem.het
    ef, ns = het.fermi_energy_meV, het.density_cm2
    initial = None if start is None else \
        problem.solve({"left": start, "right": start}, tolerance_meV=TOL_MEV)
    res = problem.solve(volts, initial=initial, tolerance_meV=tol)
    assert any(res.mirrors) and res.iterations >= 1
    s = res.density_grid_cm2 / ns
    hartree = problem.hartree(s - 1.0)
    g = s + res.bare_grid_meV / ef - 1.0 + hartree
    exact = ef * np.max(np.where(s > 0, np.abs(g), np.maximum(-g, 0.0)))
    assert exact <= tol and abs(exact - res.residual) <= 1e-3 * TOL_MEV
    np.testing.assert_allclose(res.potential_grid_meV, res.bare_grid_meV + ef * hartree,
                               rtol=0, atol=1e-10)


def test_bad_initial_density_and_foreign_grids_are_refused(problem):
    """A NaN in the initial density is a one-line error at once (it used to run every
    iteration and return NaN); a stencil refuses a grid of another shape."""
    bad = np.zeros((problem.nx, problem.ny))
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="initial density is not allowed: it must be finite"):
        problem.solve({"left": -0.9, "right": -0.9}, initial=bad, tolerance_meV=TOL_MEV)
    res = problem.solve({"left": -0.9, "right": -0.9}, tolerance_meV=TOL_MEV)
    stencil = res.stencil(np.array([0.0]), np.array([0.0]))
    with pytest.raises(ValueError, match=r"grid of shape \(2, 3\) is not allowed"):
        stencil.apply(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^potential asked at x=1e\+06 nm"):
        res.stencil(np.array([1e6]), np.array([0.0]))


@pytest.mark.parametrize("volts, mirrors", [
    ({"left": -0.9, "right": -0.9}, (True, True)),
    ({"left": -0.9, "right": -0.6}, (True, False)),
])
def test_sector_solution_gives_mirror_image_positions_the_same_bits(problem, volts, mirrors):
    # A folded stencil of a sector solve (what the provider uses): a position and its image
    # under each mirror the solve used get bit-identical U, n and bare potential (the
    # transport back ends' mirror check then sees no asymmetry). Unfolded, the interpolation
    # weights' rounding differs between the two (measured 2e-16-2e-14 relative); the folded
    # values are the same function to rounding (within 1e-12 meV of the unfolded ones).
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-395, 395, 400), rng.uniform(-635, 635, 400)
    sector = problem.solve(volts, tolerance_meV=TOL_MEV)
    full = problem.solve(volts, tolerance_meV=TOL_MEV, symmetry=False)
    assert sector.mirrors == mirrors
    images = [(-x, y)] + ([(x, -y), (-x, -y)] if mirrors[1] else [])
    for grid in (sector.potential_grid_meV, sector.density_grid_cm2, sector.bare_grid_meV):
        for xi, yi in images:
            assert np.array_equal(sector.stencil(x, y, folded=True).apply(grid),
                                  sector.stencil(xi, yi, folded=True).apply(grid))
    assert not np.array_equal(sector.potential_meV(x, y), sector.potential_meV(-x, y))
    assert full.mirrors == (False, False)       # nothing to fold: the plain interpolation
    assert np.array_equal(full.stencil(-x, y, folded=True).apply(full.potential_grid_meV),
                          full.potential_meV(-x, y))
    folded = sector.stencil(-x, y, folded=True).apply(sector.potential_grid_meV)
    np.testing.assert_allclose(folded,
                               sector.potential_meV(-x, y), rtol=0, atol=1e-12)


@pytest.mark.parametrize("params, vg", [
    (dict(a=8.0, resolution=8.0, L=488.0), -0.9),   # 161 cells along x by default: now 162
    (dict(a=3.3, W=320.1, L=478.5), -1.0),          # non-dyadic lattice constants: positions
    (dict(a=4.4, W=321.2, L=479.6), -1.5),          # from the centre are exactly opposite
])
def test_default_window_has_even_cell_counts_and_symmetric_sites(params, vg):
    # At 8 nm cells and L = 488 nm margin + device gave 161 cells along x, an odd count with
    # no sector (full grid, 4-5x slower, U mirror symmetric to ~2e-14 relative only): the
    # default window is widened by half a cell at both ends (same centre), the solve runs on
    # its quarter grid, and the device's mirror-image sites get the same U bit for bit. At
    # a = 3.3 and 4.4 nm the positions -L/2 + i a were off their images by up to 5.7e-14 nm
    # (U 1.6-3.3e-15 relative), past the mirror paths' per-entry bound: auto fell back to
    # rgf-mirror, rgf-parity or mumps, depending on the point, 2.3-3x slower (the review); now
    # rgf-sigma. The end columns sit exactly at +-L/2 (clipped), where the leads attach.
    dev = qpcsim.load_geometry("qpc_split_gate_sc", **params)
    pot = dev.potential
    x0, x1, y0, y1 = pot.window_nm
    assert (x0 + x1, y0 + y1) == (0.0, 0.0)
    assert all(n % 2 == 0 for n in pot.problem().shape)
    assert pot.solve(Vg=vg).mirrors == (True, True)
    tags = dev.site_tags()
    x, y = dev.lattice_to_nm(tags[:, 0], tags[:, 1])
    assert np.array_equal(x, -x[::-1]) and np.array_equal(np.sort(y), -np.sort(y)[::-1])
    assert x.min() == -0.5 * dev.length and x.max() == 0.5 * dev.length
    u = pot(x, y, Vg=vg).reshape(dev.nx, dev.ny)
    assert np.array_equal(u, u[::-1]) and np.array_equal(u, u[:, ::-1])
    smat = scattering_matrix(dev, dev.metadata["fermi_energy_meV"],
                             dev.resolve_params({"Vg": vg}), "auto")
    assert smat.backend == "rgf-sigma"


def test_folded_is_a_yes_no_option(problem):
    res = problem.solve({"left": -0.9, "right": -0.9}, tolerance_meV=TOL_MEV)
    for bad in ("False", None, 2.5, np.array([True, False])):
        with pytest.raises(ValueError, match="folded=.* is not allowed: it is a yes/no option"):
            res.stencil(0.0, 0.0, folded=bad)
