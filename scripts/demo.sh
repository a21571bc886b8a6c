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
echo "== done: $(ls "$OUT" | tr '\n' ' ')"
