"""``qpcsim luttinger``: ac conductance of a Luttinger wire and the Kane-Fisher flow."""
from __future__ import annotations

import numpy as np

from .. import validate as _validate
from ..physics.luttinger import (
    ac_conductance,
    fabry_perot_period,
    intrinsic_conductance,
    kane_fisher_flow,
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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    u_max = 0.0
    print(f"{'K_c':>5} {'G(f->0)/G0':>10} {'intrinsic':>10} {'min|G(w)|':>10} {'FP period (GHz)':>16}")
    for K in Ks:
        prof = profiles[K]
        u = args.vF / K
        u_max = max(u_max, u)
        period = fabry_perot_period(args.length, u)
        f = np.linspace(0.0, min(3 * fabry_perot_period(args.length, args.vF / min(Ks)),
                                 0.5 * prof.max_frequency_GHz), 600)
        g = ac_conductance(prof, f)
        ax1.plot(f, g.magnitude, label=f"K_c = {K:g}")
        g_dc = abs(ac_conductance(prof, [1e-6]).conductance[0])   # transfer matrices, f -> 0
        print(f"{K:>5g} {g_dc:>10.6f} {intrinsic_conductance(K):>10.3f} "
              f"{g.magnitude.min():>10.4f} {period:>16.3f}")
    ax1.set_xlabel("frequency (GHz)")
    ax1.set_ylabel(r"$|G(\omega)|$ ($2e^2/h$)")
    ax1.set_title(f"two-terminal ac conductance, L = {args.length:g} nm (bosonized)")
    ax1.legend()
    # The same bare impurity in every wire: the flows start at the K = 1 value.
    ref, analytic = tight_binding_impurity(args.impurity, args.energy, temperatures_K=(0.0, 1.0, 4.0))
    temps = np.logspace(-3, 2, 200)
    for K in Ks:
        flow = kane_fisher_flow(K, temps, g_at_cutoff=float(ref[0]))
        ax2.loglog(temps, flow.conductance, label=f"K = {K:g} (bosonized RG)")
    ax2.loglog(temps, kane_fisher_half_exact(temps, crossover_K=1.0), "k:",
               label="K = 1/2 exact (T_B = 1 K)")
    ax2.set_ylim(1e-6, 2)
    ax2.axhline(ref[0], color="k", ls="--", label=f"K = 1 tight binding: transmission {ref[0]:.4f}, flat in T")
    ax2.set_xlabel("T (K)")
    ax2.set_ylabel(r"$G/G_0$")
    ax2.set_title("one impurity: Kane-Fisher flow")
    ax2.legend(fontsize=8)
    print(f"K = 1 tight-binding impurity (U = {args.impurity:g} meV, E = {args.energy:g} meV): "
          f"T = {', '.join(f'{v:.6f}' for v in ref)} at 0, 1, 4 K; analytic {analytic:.6f}")
    for K in Ks:
        if K < 1:
            flow = kane_fisher_flow(K, [1e-3, 1e2], g_at_cutoff=float(ref[0]))
            print(f"K = {K:g}: G/G0 = {flow.conductance[1]:.4g} at 100 K -> "
                  f"{flow.conductance[0]:.4g} at 1 mK (weak link: G ~ T^{2 / K - 2:.3g})")
    print(f"wrote {save_figure(fig, args.out)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("luttinger", help="Luttinger-liquid wire: ac conductance and Kane-Fisher flow")
    p.add_argument("--K", default="0.3,0.5,0.8,1.5", help="interaction parameters K_c, comma-separated")
    p.add_argument("--length", type=float, default=1000.0, help="wire length (nm)")
    p.add_argument("--vF", type=float, default=2.0e5, help="Fermi velocity of the leads (m/s)")
    p.add_argument("--crossover", type=float, default=0.0, help="width of the K(x) crossover (nm)")
    p.add_argument("--impurity", type=float, default=100.0,
                   help="impurity potential of the K = 1 tight-binding reference (meV)")
    p.add_argument("--energy", type=float, default=320.0,
                   help="Fermi energy of the tight-binding reference (meV, a = 2 nm chain)")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.set_defaults(func=_cli)

