"""Disorder benchmarks and figures: mean free path fit vs Born, localization,
UCF, adiabaticity. Run: .venv/bin/python benchmarks/bench_disorder.py [OUTDIR]"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

import qpcsim
from qpcsim import disorder as dis
from qpcsim.physics.adiabaticity import adiabaticity_scan
from qpcsim.plotting import plot_adiabaticity, save_figure


def main(out="results"):
    out = Path(out)
    out.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    wire = lambda **kw: qpcsim.load_geometry("disordered_wire", a=5.0, **kw)  # noqa: E731
    th = wire(W=100.0).transverse_mode_energies()
    energy, N, U = 0.5 * (th[5] + th[6]), 6, 30.0
    lengths = [50.0, 100.0, 200.0, 400.0, 800.0]
    rs = [dis.ensemble(wire(W=100.0, L=L), 100, energy=energy, disorder=U) for L in lengths]
    fit = dis.fit_mean_free_path(lengths, [r.transmission.mean() for r in rs], N,
                                 [r.transmission.std(ddof=1) / math.sqrt(r.n) for r in rs])
    born = dis.born_mean_free_path(energy, U, 5.0)
    print(f"l_tr fit {fit.l_tr:.1f} +- {2 * fit.l_stderr / math.pi:.1f} nm, Born {born.l_tr:.1f} nm"
          f" (ratio {fit.l_tr / born.l_tr:.3f})")
    print(f"wrote {save_figure(dis.plot_mean_free_path(fit, born), out / 'mean_free_path.png')}")
    for lc, Uc in ((5.0, 7.0), (10.0, 4.0)):
        lens = [50.0, 100.0, 200.0, 400.0, 800.0] if lc < 10 else [400.0, 800.0, 1600.0, 3200.0]
        rs = [dis.ensemble(wire(W=100.0, L=L), 100, energy=energy, disorder=Uc,
                           correlation_length=lc) for L in lens]
        fitc = dis.fit_mean_free_path(lens, [r.transmission.mean() for r in rs], N,
                                      [r.transmission.std(ddof=1) / math.sqrt(r.n) for r in rs])
        bornc = dis.born_mean_free_path(energy, Uc, 5.0, correlation_length=lc)
        print(f"correlated lc={lc:g} nm U_rms={Uc:g} meV: l_tr fit {fitc.l_tr:.1f} nm, Born "
              f"{bornc.l_tr:.1f} nm (ratio {fitc.l_tr / bornc.l_tr:.3f}; Born l_e {bornc.l_e:.1f})")
    dev = wire(W=200.0, L=1000.0)       # quasi-1-D diffusive: N = 12, L/l = 4.2, L/xi ~ 0.3
    th = dev.transverse_mode_energies()
    k = int(np.searchsorted(th, 21.0))
    e = 0.5 * (th[k - 1] + th[k])
    for B in (0.0, 0.3):
        r = dis.ensemble(dev, 600, energy=e, disorder=25.0, B=B)
        v = r.transmission.var(ddof=1)
        print(f"UCF B={B} T: var(T) = {v:.4f} +- {dis._var_sem(r.transmission):.4f} "
              f"(2/15 = {2 / 15:.4f}, 1/15 = {1 / 15:.4f})")
    # localization: <ln T> = c - 2L/xi vs xi = (beta N + 2 - beta) l (W = 60 nm, N = 3)
    short = [dis.ensemble(wire(W=60.0, L=L), 200, energy=20.0, disorder=30.0)
             for L in (60.0, 120.0, 240.0)]
    fit3 = dis.fit_mean_free_path([60.0, 120.0, 240.0], [r.transmission.mean() for r in short], 3)
    for B, beta in ((0.0, 1), (1.0, 2)):
        longs = [dis.ensemble(wire(W=60.0, L=L), 200, energy=20.0, disorder=30.0, B=B)
                 for L in (1400.0, 2400.0, 3500.0)]
        loc = dis.fit_localization_length([1400.0, 2400.0, 3500.0], [r.ln_mean for r in longs],
                                          [r.ln_sem for r in longs])
        pred = dis.predicted_localization_length(3, fit3.l, beta=beta)
        print(f"localization B={B} T (beta={beta}): xi = {loc.xi:.0f} +- {loc.xi_stderr:.0f} nm, "
              f"(beta N + 2 - beta) l = {pred:.0f} nm (ratio {loc.xi / pred:.2f}; with l_tr "
              f"instead of l: {loc.xi / (pred * 2 / math.pi):.2f})")
    print(f"wrote {_dephasing_figure(out / 'dephasing_ohmic.png')}")
    res = adiabaticity_scan(tapers=(0.0, 25.0, 50.0, 100.0, 200.0, 300.0))
    print(f"adiabatic (|G - n| < {res.tolerance:g}) from L_taper/lambda_F = {res.threshold:.2f}")
    print(f"wrote {save_figure(plot_adiabaticity(res), out / 'adiabaticity.png')}")
    print(f"total {time.perf_counter() - t0:.1f} s")


def _dephasing_figure(path):
    """Typical resistance vs L of a localized wire (W = 40 nm, U = 40 meV), coherent
    and with Büttiker probes (c = 0.1 on every column, l_phi ~ 60 nm)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from qpcsim import dephasing as dp
    lengths = [150.0, 300.0, 450.0, 600.0, 750.0, 900.0]
    r_coh, r_deph = [], []
    for L in lengths:
        dev = qpcsim.load_geometry("disordered_wire", a=5.0, W=40.0, L=L)
        g = dis.ensemble(dev, 60, energy=20.0, disorder=40.0).conductance
        r_coh.append(float(np.exp(-np.mean(np.log(g)))))
        gd = [dp.probe_conductance(dev, 20.0, 0.1, disorder=40.0, seed=s).conductance
              for s in range(6)]
        r_deph.append(float(np.mean(1.0 / np.array(gd))))
    slope = np.polyfit(lengths, r_deph, 1)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.semilogy(lengths, r_coh, "ko-", label=r"coherent: $\exp(-\langle\ln G\rangle)$")
    ax.semilogy(lengths, r_deph, "C0s-", label=r"probes $c = 0.1$: $\langle 1/G\rangle$")
    ax.semilogy(lengths, np.polyval(slope, lengths), "C0:", label="linear fit (Ohm)")
    ax.set_xlabel("L (nm)")
    ax.set_ylabel(r"R ($1/G_0$)")
    ax.set_title("dephasing restores Ohmic scaling", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("dephasing: R_coh", np.round(r_coh, 2), "R_probes", np.round(r_deph, 3))
    return path


if __name__ == "__main__":
    main(*sys.argv[1:])
