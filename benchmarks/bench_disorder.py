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
from qpcsim.lengths import adiabaticity_scan, plot_adiabaticity


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
    print(f"wrote {dis.plot_mean_free_path(fit, out / 'mean_free_path.png', born)}")
    dev = wire(W=200.0, L=600.0)
    th = dev.transverse_mode_energies()
    k = int(np.searchsorted(th, 21.0))
    e = 0.5 * (th[k - 1] + th[k])
    for B in (0.0, 0.3):
        r = dis.ensemble(dev, 600, energy=e, disorder=40.0, B=B)
        v = r.transmission.var(ddof=1)
        print(f"UCF B={B} T: var(T) = {v:.4f} +- {dis._var_sem(r.transmission):.4f} "
              f"(2/15 = {2 / 15:.4f}, 1/15 = {1 / 15:.4f})")
    res = adiabaticity_scan(tapers=(0.0, 25.0, 50.0, 100.0, 200.0, 300.0))
    print(f"adiabatic (|G - n| < {res.tolerance:g}) from L_taper/lambda_F = {res.threshold:.2f}")
    print(f"wrote {plot_adiabaticity(res, out / 'adiabaticity.png')}")
    print(f"total {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
