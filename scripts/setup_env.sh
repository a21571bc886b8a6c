#!/usr/bin/env bash
# Idempotent set-up of qpcsim's environment: system MUMPS, a venv in .venv,
# Kwant 1.5.0 built from its sdist against NumPy 2, then qpcsim itself.
# Called by `make` (see Makefile); safe to run again, it rebuilds nothing that is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
CONSTRAINTS=requirements/constraints.txt

log() { printf '[setup] %s\n' "$*"; }

# 1. MUMPS (Kwant's fast sparse solver).  Debian package, only as root with apt.
if dpkg -s libmumps-seq-dev >/dev/null 2>&1; then
    log "libmumps-seq-dev present"
elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing libmumps-seq-dev (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmumps-seq-dev pkg-config >/dev/null
else
    echo "[setup] WARNING: cannot install libmumps-seq-dev (need root and apt-get)." >&2
    echo "[setup] WARNING: Kwant will use SciPy's slower sparse solver; 'qpcsim info' says which is active." >&2
fi

# 2. Virtual environment.
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade "pip>=24"
fi
PIP="$VENV/bin/pip"

# 3. Kwant 1.5.0 from the sdist, cythonized anew (its shipped C files predate NumPy 2).
want_mumps=0; dpkg -s libmumps-seq-dev >/dev/null 2>&1 && want_mumps=1
have_kwant() {
    "$VENV/bin/python" - "$want_mumps" <<'PY'
import sys
try:
    import kwant
except Exception:
    sys.exit(1)
if kwant.__version__ != "1.5.0":
    sys.exit(1)
if sys.argv[1] == "1":
    try:
        import kwant.linalg.mumps  # noqa: F401
    except ImportError:
        sys.exit(1)   # built before MUMPS was there: rebuild
PY
}
if have_kwant; then
    log "kwant 1.5.0 present"
else
    log "building kwant 1.5.0 from sdist (a few minutes)"
    "$PIP" install -q -c "$CONSTRAINTS" numpy scipy tinyarray setuptools wheel cython
    "$PIP" install -q -c "$CONSTRAINTS" --no-build-isolation --no-binary kwant --force-reinstall --no-deps \
        kwant==1.5.0 --config-settings=--build-option=--cython
fi

# 4. qpcsim (editable) with test/dev extras; re-run only when pyproject changes.
stamp="$VENV/.qpcsim-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$CONSTRAINTS" -nt "$stamp" ]; then
    log "installing qpcsim[dev]"
    "$PIP" install -q -c "$CONSTRAINTS" --no-build-isolation -e ".[dev]"
    touch "$stamp"
else
    log "qpcsim installed"
fi
