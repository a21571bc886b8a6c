#!/usr/bin/env bash
# The main job: a split-gate QPC gate sweep on all cores (plateaus of G0), plus the
# comparisons the other modules provide. Results land in $1 (default results/).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results}
QPCSIM=.venv/bin/qpcsim
mkdir -p "$OUT"

echo "== qpcsim info"
$QPCSIM info

echo "== split-gate QPC: conductance vs gate voltage (all cores, resumable)"
$QPCSIM sweep qpc_split_gate --sweep Vg=-1.6:-0.2:141 --energy 8 \
    --out "$OUT/split_gate_sweep.nc" --plot "$OUT/split_gate_sweep.png"

echo "== the geometry and its potential landscape"
$QPCSIM show qpc_split_gate --set Vg=-1.0 --out "$OUT/split_gate_device.png"

# ---- issue 11: gate electrostatics. The same split gate, self-consistent (Thomas-Fermi, no
# lever arm), beside the bare sweep above: pinch-off voltage and plateau spacing of both.
# In the self-consistent model the transport energy is the 2DEG's E_F = n_s/rho (8.00 meV).
echo "== self-consistent split gate (Thomas-Fermi screening, pinned surface) vs the bare potential"
E_SC=$(.venv/bin/python -c "import qpcsim; print(qpcsim.load_geometry_module('qpc_split_gate_sc').fermi_energy_meV())")
$QPCSIM sweep qpc_split_gate_sc --sweep Vg=-2.4:-0.4:101 --energy "$E_SC" \
    --out "$OUT/split_gate_sc_sweep.nc" --plot "$OUT/split_gate_sc_sweep.png"
$QPCSIM electrostatics qpc_split_gate_sc --set Vg=-1.5 --out "$OUT/split_gate_sc_density.png"
.venv/bin/python -m qpcsim.cli.electrostatics_compare "$OUT/split_gate_sweep.nc" \
    "$OUT/split_gate_sc_sweep.nc" --out "$OUT/split_gate_bare_vs_sc.png"
# ---- end of issue 11 block

# Further demos register themselves here when their subcommands exist.
if $QPCSIM --help | grep -q " compare"; then
    echo "== clean vs disordered split-gate QPC"
    $QPCSIM compare qpc_split_gate --disorder 5,15 --seeds 6 --sweep Vg=-1.5:-0.3:49 \
        --energy 8 --out "$OUT/split_gate_disorder.png"
fi
if $QPCSIM --help | grep -q " contrast"; then
    echo "== QPC plateaus vs quantum-dot peaks"
    $QPCSIM contrast --out "$OUT/qpc_vs_dot.png"
fi
# ---- where the quantum reappears: any number of terminals, superconducting contacts, the wafer
echo "== a QPC across a six-terminal Hall bar at 3 T: R_D = h/(K e^2) for K of N edge channels"
$QPCSIM sweep hall_bar_qpc --sweep Vg=-0.6:0:25 --set B=3 --energy 10 --observable R_diag \
    --current source:drain --voltage 1:4 --out "$OUT/hall_bar_qpc.nc" --plot "$OUT/hall_bar_qpc.png"
echo "== N-QPC-S: Andreev reflection doubles each plateau to 4e^2/h (G_NS in 2e^2/h: 2, 4, 6)"
$QPCSIM sweep nqpc_s --sweep V0=0:12:49 --energy 0 --out "$OUT/nqpc_s.nc" --plot "$OUT/nqpc_s.png"
echo "== pinch-off diagram of the split gate with a frozen surface (electrostatics only)"
$QPCSIM pinchoff qpc_split_gate_sc --sweep left=-2:0:21 --sweep right=-2:0:21 --surface frozen \
    --out "$OUT/split_gate_pinchoff.png"
# Every command above finished (set -e) and wrote its NetCDF or figure. sweep and bias keep
# their resume store after a successful run on purpose (a rerun with --force, e.g. for another
# --plot, takes every point from it; a bias map without --data has no other copy of its
# numbers); the demo's results are complete, so it removes its own stores here.
STORES=$(find "$OUT" -maxdepth 1 -name '*.points.sqlite' | wc -l)
find "$OUT" -maxdepth 1 -name '*.points.sqlite' -delete
echo "== removed $STORES resume store(s) of the finished runs (their results are written)"
echo "== done: $(ls "$OUT" | tr '\n' ' ')"
