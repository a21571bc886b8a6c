"""Result files: the NetCDF writer."""
import subprocess
import sys

import pytest

import qpcsim
from qpcsim.engine.result import save_dataset

SWEEP = ("import qpcsim\nd = qpcsim.Device(width=50.0, length=20.0, a=5.0)\n"
         "r = qpcsim.sweep(d, {'energy': [5.0, 10.0]}, workers=1, progress=False)\n")


@pytest.fixture(scope="module")
def small_result():
    device = qpcsim.Device(width=50.0, length=20.0, a=5.0)
    return qpcsim.sweep(device, {"energy": [5.0, 10.0]}, workers=1, progress=False)


def test_save_writes_the_bytes_of_xarray_to_netcdf(small_result, tmp_path):
    """The direct store write is xarray's own file, byte for byte."""
    ours = save_dataset(small_result.data, tmp_path / "ours.nc")
    small_result.data.to_netcdf(tmp_path / "xarray.nc", engine="h5netcdf")
    assert ours.read_bytes() == (tmp_path / "xarray.nc").read_bytes()
    again = qpcsim.load_result(ours)
    assert again.data.identical(small_result.data)


def test_save_asks_no_dask_scheduler(tmp_path):
    """Saving NetCDF does not import dask.distributed (0.3-0.7 s that to_netcdf spent
    learning that no scheduler runs): checked in a fresh interpreter."""
    code = SWEEP + (f"r.save({str(tmp_path / 'r.nc')!r})\nimport sys\n"
                    "print('distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
