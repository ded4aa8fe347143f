"""The wheel built from the repository carries the kernel sources and the `pyNN.cupy` entry point, and does
not touch PyNN's own files (so uninstalling it leaves PyNN intact)."""
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contents(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    wheel, = tmp_path.glob("pynn_cupy-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    kernels = {p.name for p in (ROOT / "cuda").iterdir() if p.suffix in (".cu", ".cuh", ".hpp")}
    assert {"pynn_cupy/cuda/" + name for name in kernels} <= names
    assert "pyNN/cupy/__init__.py" in names and "pynn_cupy/runtime/twin.py" in names
    assert not any(name.startswith("pyNN/") and not name.startswith("pyNN/cupy/") for name in names)
