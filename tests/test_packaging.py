"""A non-editable install works: the wheel carries the subpackages and the bundled geometries."""
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """A fresh venv with the qpcsim wheel installed (no source checkout on its path);
    the compiled stack (Kwant, NumPy, ...) is borrowed from this interpreter's
    site-packages through a .pth line, so nothing is downloaded or rebuilt."""
    tmp = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp / "dist"), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp / "dist").glob("qpcsim-*.whl")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Install = unpack the wheel into the venv's site-packages (what pip does for a pure wheel).
    import zipfile
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(purelib)
    Path(purelib, "_borrowed_stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, wheel


def test_wheel_ships_subpackages_and_geometries(wheel_env):
    import zipfile
    _, wheel = wheel_env
    names = set(zipfile.ZipFile(wheel).namelist())
    # every subpackage of the source tree is in the wheel (pyproject lists them by hand)
    for init in sorted((ROOT / "qpcsim").rglob("__init__.py")):
        assert init.relative_to(ROOT).as_posix() in names, init
    for member in ("qpcsim/backends/registry.py", "qpcsim/engine/spec.py",
                   "qpcsim/physics/ensemble.py", "qpcsim/cli/__init__.py",
                   "qpcsim/geometries/qpc_saddle.py", "qpcsim/geometries/qpc_split_gate.py"):
        assert member in names


def test_wheel_install_loads_a_bundled_geometry_by_name(wheel_env, tmp_path):
    python, _ = wheel_env
    code = ("import qpcsim, pathlib; d = qpcsim.load_geometry('qpc_saddle', a=5.0, W=150.0, "
            "L=200.0); r = qpcsim.solve(d, 10.0, V0=3.5); "
            "print(pathlib.Path(qpcsim.__file__).parent); print(d.metadata['geometry_file']); "
            "print(round(r.conductance, 6))")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    package, geometry_file, conductance = out.stdout.split()
    assert Path(package).is_relative_to(python.parent.parent)          # the wheel, not the checkout
    assert Path(geometry_file).is_relative_to(Path(package) / "geometries")
    assert 0.0 < float(conductance) < 10.0
