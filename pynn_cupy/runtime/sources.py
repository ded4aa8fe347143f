"""Where the CUDA kernel sources live and what they define."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# Installed wheel: pynn_cupy/cuda; source checkout: <repo>/cuda.
_CANDIDATES = (_HERE.parent / "cuda", _HERE.parent.parent / "cuda")
_KERNEL_NAME = re.compile(r"^KERNEL\s+void\s+(\w+)\s*\(", re.MULTILINE)


def kernel_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "common.cuh").is_file():
            return candidate
    raise FileNotFoundError("pynn_cupy: CUDA kernel sources not found (looked in %s)"
                            % ", ".join(str(c) for c in _CANDIDATES))


@lru_cache(maxsize=None)
def kernel_files() -> tuple[Path, ...]:
    return tuple(sorted(kernel_dir().glob("*.cu")))


@lru_cache(maxsize=None)
def kernel_names() -> dict[str, Path]:
    """Map each kernel name to the file that defines it."""
    names = {}
    for path in kernel_files():
        for name in _KERNEL_NAME.findall(path.read_text()):
            names[name] = path
    return names


def unit_source() -> str:
    """One translation unit including every kernel file (what both targets compile)."""
    return "".join('#include "%s"\n' % path.name for path in kernel_files())


def sources_digest(*extra: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(kernel_dir().iterdir()):
        if path.suffix in (".cu", ".cuh", ".hpp"):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:20]


def real_type(precision: str) -> str:
    return {"float32": "float", "float64": "double"}[precision]
