"""The resumable sweep store: an append-only JSON-lines file of finished points.

The first line is a header with a content hash of (device fingerprint, sweep
spec, code); a store written for anything else is refused. Every finished point
is one line ``{"key": ..., "result": {observable: value, ...}}``, flushed and
fsynced as it completes; adaptive sweeps also log each batch of asked points so
a rerun replays the learner exactly.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["Store", "NoStore", "source_digest", "STORE_FORMAT"]

#: Version of the record layout (2: records keyed by observable names).
STORE_FORMAT = 2


class Store:
    """Append-only JSON-lines record of finished points (and adaptive batches)."""

    def __init__(self, path, header: dict):
        self.path = Path(path)
        self.header = header
        self.records: list[dict] = []
        if self.path.exists() and self.path.stat().st_size > 0:
            self._load()
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "w") as fh:
                    fh.write(json.dumps({"header": header}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise ValueError(f"store={str(self.path)!r} cannot be written: {exc.strerror}") from None
        self._fh = open(self.path, "a")

    def _load(self):
        with open(self.path) as fh:
            lines = fh.read().split("\n")
        try:
            first = json.loads(lines[0])["header"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"store={str(self.path)!r} is not a qpcsim sweep store; "
                             "delete it or choose another path") from None
        if first.get("hash") != self.header["hash"]:
            diff = [k for k in ("device", "sweep", "code") if first.get(k) != self.header.get(k)]
            raise ValueError(
                f"store={str(self.path)!r} was written for a different "
                f"{' and '.join(diff) or 'sweep'} (content hash {first.get('hash', '?')[:12]} != "
                f"{self.header['hash'][:12]}); refusing to mix results. Delete the store or use "
                "another --out path")
        for line in lines[1:]:
            if not line.strip():
                continue
            try:
                self.records.append(json.loads(line))
            except ValueError:
                break   # a line cut by an interrupted write: everything after is lost work

    def append(self, record: dict):
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self):
        self._fh.close()


class NoStore:
    records: list = []

    def append(self, record):
        pass

    def close(self):
        pass


#: Parts of the package that never change a point's numbers (presentation):
#: everything else is hashed, so a new module cannot be forgotten.
_PRESENTATION = ("cli", "plotting", "analysis.py")


def source_digest() -> str:
    """Hash of the package source that computes a point: every module of
    ``qpcsim`` except the presentation layers (CLI, plots, trace analysis)."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in _PRESENTATION:
            continue
        digest.update(rel.as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
