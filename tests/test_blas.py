"""qpcsim.backends.blas: which BLAS MUMPS, NumPy and SciPy use (never raises)."""
import sys

import pytest

from qpcsim.backends.blas import blas_report, classify, format_blas_report

LINUX = sys.platform.startswith("linux")


def test_report_of_this_process():
    report = blas_report()
    assert report["numpy"] is not None and report["numpy"]["implementation"]
    lines = format_blas_report(report)
    assert lines[0].startswith("BLAS for MUMPS:") and any("NumPy" in line for line in lines)
    if LINUX and report["mumps_loaded"]:
        entry = report["mumps"]
        assert entry is not None and entry["path"].startswith("/")
        assert "numpy.libs" not in entry["path"] and "scipy.libs" not in entry["path"]


@pytest.mark.parametrize("path, kind", [
    ("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0", "reference BLAS/LAPACK (netlib)"),
    ("/usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0", "reference BLAS/LAPACK (netlib)"),
    ("/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas-r0.3.21.so", "OpenBLAS"),
    ("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "OpenBLAS"),
    ("/opt/intel/lib/libmkl_rt.so.2", "Intel MKL"),
    ("/usr/lib/libfoo.so", "unknown"),
])
def test_classify(path, kind):
    assert classify(path) == kind


def test_no_proc_maps_leaves_it_working(tmp_path):
    report = blas_report(str(tmp_path / "missing"))
    assert report["mumps"] is None or not report["mumps_loaded"]
    assert report["numpy"] is not None          # threadpoolctl alone still finds NumPy's
    assert any("not found" in line or "without MUMPS" in line
               for line in format_blas_report(report))


def test_reference_blas_is_named_and_flagged(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text(
        "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libzmumps_seq-5.5.so\n"
        "7f01-7f02 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0\n"
        "7f02-7f03 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/lapack/liblapack.so.3.11.0\n")
    report = blas_report(str(maps))
    if not report["mumps_loaded"]:
        pytest.skip("Kwant without MUMPS")
    assert report["mumps"]["implementation"].startswith("reference")
    assert report["mumps_lapack"]["path"].endswith("liblapack.so.3.11.0")
    text = "\n".join(format_blas_report(report))
    assert "unoptimized" in text and "LAPACK for MUMPS" in text


def test_debian_openblas_wrapper_reports_the_worker(tmp_path):
    maps = tmp_path / "maps"
    maps.write_text(
        "7f01-7f02 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/openblas-serial/libblas.so.3\n"
        "7f02-7f03 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/openblas-serial/liblapack.so.3\n"
        "7f03-7f04 r-xp 00000000 08:01 4 "
        "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas-r0.3.21.so\n")
    report = blas_report(str(maps))
    if not report["mumps_loaded"]:
        pytest.skip("Kwant without MUMPS")
    assert report["mumps"]["path"].endswith("libopenblas-r0.3.21.so")
    assert report["mumps"]["implementation"] == "OpenBLAS"
