#!/usr/bin/env bash
# Idempotent set-up of qpcsim's environment: system MUMPS, a venv in .venv,
# Kwant 1.5.0 built from its sdist against NumPy 2, then qpcsim itself.
# Called by `make` (see Makefile); safe to run again, it rebuilds nothing that is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}   # the interpreter, e.g. PYTHON=python3.12 VENV=.venv-3.12 (see Makefile)
CONSTRAINTS=requirements/constraints.txt

log() { printf '[setup] %s\n' "$*"; }

# 1. MUMPS (Kwant's fast sparse solver) and an optimized BLAS/LAPACK for it.
#    Debian packages, only as root with apt.  Kwant's MUMPS links libblas.so.3 and
#    liblapack.so.3, which Debian resolves through the alternatives system; the
#    reference libblas3/liblapack3 make the MUMPS back end about 2x slower than
#    OpenBLAS.  The serial OpenBLAS build is chosen: qpcsim runs BLAS on one thread
#    inside a point anyway (bit-identical results; see benchmarks/RESULTS.md), and a
#    serial library keeps plain Kwant (kwant.smatrix) single-threaded as well.
OPENBLAS_PKG=libopenblas0-serial
as_root_with_apt=0
command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && as_root_with_apt=1
missing=""
for pkg in libmumps-seq-dev pkg-config "$OPENBLAS_PKG"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -z "$missing" ]; then
    log "libmumps-seq-dev and $OPENBLAS_PKG present"
elif [ "$as_root_with_apt" = 1 ]; then
    log "installing$missing (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
    case "$missing" in *libmumps-seq-dev*)
        echo "[setup] WARNING: cannot install libmumps-seq-dev (need root and apt-get)." >&2
        echo "[setup] WARNING: Kwant will use SciPy's slower sparse solver; 'qpcsim info' says which is active." >&2
    esac
    case "$missing" in *"$OPENBLAS_PKG"*)
        echo "[setup] WARNING: cannot install $OPENBLAS_PKG (need root and apt-get): MUMPS uses whatever" >&2
        echo "[setup] WARNING: libblas.so.3 is (often the slow reference BLAS); 'qpcsim info' says which." >&2
    esac
fi
# Point libblas.so.3 / liblapack.so.3 at the serial OpenBLAS, and libopenblas.so.0 too:
# Debian's libblas.so.3 wrappers load libopenblas.so.0 from /usr/lib/<triplet>, which is
# another alternative (the pthread build by default).  Only switched when not already
# so (idempotent); a missing alternative leaves the system as it is.
if dpkg -s "$OPENBLAS_PKG" >/dev/null 2>&1 && command -v update-alternatives >/dev/null 2>&1; then
    for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
        name=$(update-alternatives --get-selections 2>/dev/null | awk -v l="$lib" 'index($1, l "-") == 1 && !n++ {print $1}' || true)
        [ -n "$name" ] || continue
        target=$(update-alternatives --list "$name" 2>/dev/null | grep '/openblas-serial/' | head -n1 || true)
        [ -n "$target" ] || continue
        current=$(readlink -f "/etc/alternatives/$name" 2>/dev/null || true)
        if [ "$current" = "$(readlink -f "$target")" ]; then
            log "$lib -> OpenBLAS (serial)"
        elif [ "$(id -u)" = 0 ]; then
            log "pointing $lib at $target"
            update-alternatives --quiet --set "$name" "$target"
        else
            echo "[setup] WARNING: $lib resolves to $current, not OpenBLAS; as root: update-alternatives --set $name $target" >&2
        fi
    done
fi

# 2. Virtual environment, for the interpreter $PY.  A pyenv-managed version that is not the
#    active one (pyenv's shim then refuses "python3.12") is found under pyenv's root.
resolve_python() {
    if "$1" -c 'import sys' >/dev/null 2>&1; then command -v "$1"; return; fi
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/*/bin/"$1"; do
            [ -x "$candidate" ] && { echo "$candidate"; return; }
        done
    fi
    echo "[setup] ERROR: PYTHON=$1 is not an interpreter on this machine (tested: python3.11, 3.12, 3.13)" >&2
    exit 1
}
if [ ! -x "$VENV/bin/python" ]; then
    PY=$(resolve_python "$PY")
    log "creating $VENV with $PY ($("$PY" -V 2>&1))"
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

# 4. python-mumps (Kwant's own MUMPS binding: qpcsim's `mumps` back end, and Kwant 1.5's
#    solver prefers it when installed), built from its sdist against Debian's MUMPS.
#    Its build runs `mumps/_version.py` through `#!/usr/bin/env python`, so the venv's
#    python goes first on PATH; its build dependencies are pinned in requirements/build-mumps.txt.
have_python_mumps() { "$VENV/bin/python" -c "import mumps" >/dev/null 2>&1; }
if [ "$want_mumps" = 0 ]; then
    log "python-mumps skipped (no libmumps-seq-dev): no mumps back end (auto runs RGF/SciPy)"
elif have_python_mumps; then
    log "python-mumps present"
else
    log "building python-mumps from sdist against the system MUMPS"
    "$PIP" install -q "pip>=25.3"   # --build-constraint
    PATH="$(cd "$VENV/bin" && pwd):$PATH" "$PIP" install -q -c "$CONSTRAINTS" \
        --build-constraint requirements/build-mumps.txt --no-deps --no-binary python-mumps \
        python-mumps
fi

# 5. qpcsim (editable) with its test (dev) and docs extras; re-run only when pyproject changes.
stamp="$VENV/.qpcsim-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$CONSTRAINTS" -nt "$stamp" ]; then
    log "installing qpcsim[dev,docs]"
    "$PIP" install -q -c "$CONSTRAINTS" --no-build-isolation -e ".[dev,docs]"
    touch "$stamp"
else
    log "qpcsim installed"
fi
