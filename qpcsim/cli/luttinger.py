"""``qpcsim luttinger``: ac conductance of a Luttinger wire and the Kane-Fisher flow."""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from ..physics.luttinger import (
    ac_conductance,
    fabry_perot_period,
    intrinsic_conductance,
    kane_fisher_flow,
    kane_fisher_half_crossover,
    kane_fisher_half_exact,
    tight_binding_impurity,
    wire_profile,
)
from ..plotting import save_figure


# ---------------------------------------------------------------- CLI
def _cli(args) -> int:
    from .args import check_figure
    check_figure(args.out, "--out")   # before any work
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Ks = []
    for item in str(args.K).split(","):
        try:
            Ks.append(_validate.positive("K", item.strip()))
        except ValueError:
            raise ValueError(f"K={args.K!r} is not allowed: it must be comma-separated "
                             "numbers > 0 (e.g. 0.3,0.5,0.8)") from None
    # validate every input before printing anything
    profiles = {K: wire_profile(K, args.length, v_F=args.vF, crossover_nm=args.crossover)
                for K in Ks}
    # (the impurity's energy and U too: an energy below the band failed after the table)
    ref, analytic = tight_binding_impurity(args.impurity, args.energy, temperatures_K=(0.0, 1.0, 4.0))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5.6))
    u_max = 0.0
    print(f"{'K_rho':>5} {'G(f->0)/G0':>10} {'intrinsic':>10} {'min|G(w)|':>10} {'FP period (GHz)':>16}")
    for K in Ks:
        prof = profiles[K]
        u = args.vF / K
        u_max = max(u_max, u)
        period = fabry_perot_period(args.length, u)
        f = np.linspace(0.0, min(3 * fabry_perot_period(args.length, args.vF / min(Ks)),
                                 0.5 * prof.max_frequency_GHz), 600)
        g = ac_conductance(prof, f)
        ax1.plot(f, g.magnitude, label=rf"$K_\rho$ = {K:g}")
        g_dc = abs(ac_conductance(prof, [1e-6]).conductance[0])   # transfer matrices, f -> 0
        print(f"{K:>5g} {g_dc:>10.6f} {intrinsic_conductance(K):>10.3f} "
              f"{g.magnitude.min():>10.4f} {period:>16.3f}")
    ax1.set_xlabel("frequency (GHz)")
    ax1.set_ylabel(r"$|G(\omega)|$ ($2e^2/h$)")
    ax1.set_title(f"two-terminal ac conductance, L = {args.length:g} nm (bosonized)")
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, fontsize=8)   # clear of the data
    # One convention: K is K_rho of a spin-degenerate channel (K_sigma = 1) in both panels,
    # and one bare impurity: every curve has the K = 1 tight-binding transmission at the cutoff.
    cutoff = 100.0
    g_bare = float(ref[0])
    temps = np.logspace(-3, 2, 200)
    for K in Ks:
        flow = kane_fisher_flow(K, temps, g_at_cutoff=g_bare, cutoff_K=cutoff, spinful=True)
        ax2.loglog(temps, flow.conductance, label=rf"$K_\rho$ = {K:g} (spinful RG)")
    T_B = kane_fisher_half_crossover(g_bare, cutoff)
    spinless_half = kane_fisher_flow(0.5, temps, g_at_cutoff=g_bare, cutoff_K=cutoff)
    ax2.loglog(temps, spinless_half.conductance, "k-.", lw=0.8,
               label="spinless K = 1/2 (RG, same impurity)")
    ax2.loglog(temps, kane_fisher_half_exact(temps, crossover_K=T_B), "k:",
               label=f"spinless K = 1/2 exact (T_B = {T_B:.3g} K)")
    ax2.set_ylim(1e-6, 2)
    ax2.axhline(g_bare, color="k", ls="--",
                label=f"K = 1 tight binding: transmission {g_bare:.4f}, flat in T")
    ax2.set_xlabel("T (K)")
    ax2.set_ylabel(r"$G$ ($2e^2/h$)")
    ax2.set_title("one impurity: Kane-Fisher flow")
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=7)
    print(f"K = 1 tight-binding impurity (U = {args.impurity:g} meV, E = {args.energy:g} meV): "
          f"T = {', '.join(f'{v:.6f}' for v in ref)} at 0, 1, 4 K; analytic {analytic:.6f}")
    print(f"Kane-Fisher flows start from G/G0 = {g_bare:.6f} at the cutoff {cutoff:g} K "
          "(K = K_rho, K_sigma = 1: spinful exponents)")
    for K in Ks:
        if K < 1:
            flow = kane_fisher_flow(K, [1e-3, cutoff], g_at_cutoff=g_bare, cutoff_K=cutoff,
                                    spinful=True)
            print(f"K_rho = {K:g}: G/G0 = {flow.conductance[1]:.6g} at {cutoff:g} K -> "
                  f"{flow.conductance[0]:.3g} at 1 mK (weak link: G ~ T^{1 / K - 1:.3g}; "
                  "interpolating flow: exponent exact, prefactor approximate)")
    rg = float(kane_fisher_flow(0.5, [1e-3], g_at_cutoff=g_bare, cutoff_K=cutoff).conductance[0])
    exact = float(kane_fisher_half_exact([1e-3], T_B)[0])
    print(f"accuracy check, spinless K = 1/2 with the same impurity: interpolating flow "
          f"{rg:.4g} vs exact {exact:.4g} at 1 mK (ratio {rg / exact:.3g})")
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("luttinger", help="Luttinger-liquid wire: ac conductance and Kane-Fisher flow")
    p.add_argument("--K", default="0.3,0.5,0.8,1.5",
                   help="interaction parameters K_rho of a spin-degenerate channel (K_sigma = 1), "
                        "comma-separated; used by both panels")
    p.add_argument("--length", type=float, default=1000.0, help="wire length (nm)")
    p.add_argument("--vF", type=float, default=2.0e5, help="Fermi velocity of the leads (m/s)")
    p.add_argument("--crossover", type=float, default=0.0, help="width of the K(x) crossover (nm)")
    p.add_argument("--impurity", type=float, default=100.0,
                   help="impurity potential of the K = 1 tight-binding reference (meV)")
    p.add_argument("--energy", type=float, default=320.0,
                   help="Fermi energy of the tight-binding reference (meV, a = 2 nm chain)")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.set_defaults(func=_cli)

