"""Plain-JSON forms of metadata (stores, NetCDF attributes, fingerprints)."""
from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["jsonable"]


def jsonable(obj):
    """``obj`` with mappings, sequences, numbers and strings kept and anything
    else replaced by its ``repr`` (non-finite floats become strings), so that
    ``json.dumps`` never fails and equal metadata gives equal text."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    return repr(obj)
