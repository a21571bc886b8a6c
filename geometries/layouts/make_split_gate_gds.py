"""Write ``split_gate.gds``: the split gate of ``geometries/qpc_split_gate_sc.py`` in GDSII.

Layer 1 is the ``left`` gate (y > 0), layer 2 the ``right`` gate (y < 0); user unit 1 um,
database unit 1 nm, one top cell ``SPLIT_GATE``. Run from anywhere:

    python geometries/layouts/make_split_gate_gds.py

Read it back with ``Layout.from_gds("geometries/layouts/split_gate.gds",
layers={1: "left", 2: "right"})`` (the unit is taken from the file: 1000 nm per unit).
"""
import datetime
from pathlib import Path

import gdstk

GAP, GATE_LENGTH, GATE_EXTENT = 200.0, 100.0, 300.0   # nm, the geometry's defaults


def main(path=None):
    """Write the layout to ``path`` (default: next to this script) and return the path."""
    path = Path(__file__).with_name("split_gate.gds") if path is None else Path(path)
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    cell = lib.new_cell("SPLIT_GATE")
    um = 1e-3                                        # nm -> um (the user unit)
    x0, y0, y1 = GATE_LENGTH / 2 * um, GAP / 2 * um, (GAP / 2 + GATE_EXTENT) * um
    cell.add(gdstk.rectangle((-x0, y0), (x0, y1), layer=1))
    cell.add(gdstk.rectangle((-x0, -y1), (x0, -y0), layer=2))
    # a fixed timestamp makes the file byte-for-byte reproducible
    lib.write_gds(str(path), timestamp=datetime.datetime(2026, 1, 1))
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
