"""Fetch PyNN's own system scenarios (``test/system/scenarios``) from the PyNN sdist on PyPI.

The sdist is downloaded once with pip into ``.cache/pynn-sdist`` (git-ignored) and its
``test/system/scenarios`` folder is extracted there as the package ``pynn_scenarios``
(renamed because a top-level ``test`` would clash with the standard library's ``test`` package;
the scenarios only import ``.fixtures`` relatively, so the rename is transparent).

    python tests/pynn_suite/fetch_pynn_tests.py      # prints the folder to put on sys.path
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PYNN_VERSION = "0.13.0"
SDIST_SHA256 = "da2821e45055a88de6cf34896067eaaebcabbfdfb7883dd147353e7b78617815"
PACKAGE = "pynn_scenarios"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "pynn-sdist"


def _sdist(cache):
    found = [p for p in cache.glob("*.tar.gz") if p.name.lower() == f"pynn-{PYNN_VERSION}.tar.gz"]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                        f"PyNN=={PYNN_VERSION}", "-d", str(cache)], check=True,
                       stdout=subprocess.DEVNULL)
        return _sdist(cache)
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise RuntimeError(f"{found[0]}: sha256 {digest} != expected {SDIST_SHA256}; delete it and retry")
    return found[0]


def fetch(cache=CACHE):
    """Return a folder that holds the package ``pynn_scenarios`` (download/extract if needed)."""
    cache = Path(cache)
    target = cache / PACKAGE
    if (target / "fixtures.py").exists():
        return cache
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache))
    with tarfile.open(_sdist(cache)) as tar:
        for member in tar.getmembers():
            head, _, rel = member.name.partition("/test/system/scenarios/")
            if member.isfile() and rel and "/" not in rel and "/" not in head and rel.endswith(".py"):
                (tmp / rel).write_bytes(tar.extractfile(member).read())
    if not (tmp / "fixtures.py").exists():
        shutil.rmtree(tmp)
        raise RuntimeError("sdist has no test/system/scenarios")
    try:
        os.rename(tmp, target)         # atomic; another process may have won the race
    except OSError:
        shutil.rmtree(tmp)
    return cache


if __name__ == "__main__":
    print(fetch())
