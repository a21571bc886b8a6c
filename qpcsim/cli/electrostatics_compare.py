"""``python -m qpcsim.cli.electrostatics_compare BARE.nc SC.nc --out FIG.png``: pinch-off voltage
and plateau spacing of a bare-potential and a self-consistent gate sweep, printed and drawn
side by side (used by ``make demo``)."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from ..electrostatics.channel import sweep_figures
from ..engine import load_result
from ..plotting.electrostatics import plot_bare_vs_self_consistent


def compare(bare_path, sc_path, out=None, swept: str = "Vg") -> tuple:
    """Load two 1-D sweeps over ``swept`` (V); print their SweepFigures; optionally plot."""
    bare, sc = load_result(bare_path), load_result(sc_path)
    figs = []
    for res, label in ((bare, "bare x lever arm"), (sc, "self-consistent")):
        x = np.asarray(res.data[swept].values)
        figs.append(sweep_figures(x, np.asarray(res.data["conductance"].values)))
        print(figs[-1].line(label))
    if out:
        print(f"wrote {plot_bare_vs_self_consistent(bare, sc, out, swept=swept)}")
    return tuple(figs)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bare")
    p.add_argument("sc")
    p.add_argument("--out")
    p.add_argument("--swept", default="Vg")
    args = p.parse_args(argv)
    try:
        compare(args.bare, args.sc, args.out, args.swept)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
