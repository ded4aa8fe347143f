"""Run PyNN 0.13's own example scripts (``examples/`` in its sdist) with one or more simulator backends and print
a table (issue 8: every example that does not need NEURON-only features, NineML or MPI runs with ``cupy``).

    python tests/pynn_suite/run_examples.py --simulators cupy,nest [--timeout 600] [--json out.json] [-k SUBSTRING]

Each example runs in a fresh interpreter in a scratch copy of the examples folder (they write figures and data
under ``Results/``), with the simulator's name as its first argument (and the arguments below for those that
take more), matplotlib's Agg backend and the CPU twin for ``cupy``. Status: pass (exit code 0), fail (any
other exit code; the last line of its error output is kept), timeout.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_pynn_tests import CACHE, _sdist  # noqa: E402

ARGUMENTS = {"VAbenchmarks.py": ["COBA"]}   # examples that take more than the simulator's name


def extract(target: Path) -> list[str]:
    """The sdist's example scripts (top level of examples/), written into `target`; their names."""
    names = []
    with tarfile.open(_sdist(CACHE)) as tar:
        for member in tar.getmembers():
            head, _, rel = member.name.partition("/examples/")
            if member.isfile() and rel and "/" not in head and "/" not in rel:
                (target / rel).write_bytes(tar.extractfile(member).read())
                if rel.endswith(".py"):
                    names.append(rel)
    (target / "Results").mkdir(exist_ok=True)
    return sorted(names)


def run_one(folder: Path, script: str, simulator: str, timeout: float) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", PYNN_CUPY_DEVICE="cpu")
    t0 = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, script, simulator, *ARGUMENTS.get(script, [])], cwd=folder,
                                env=env, capture_output=True, text=True, timeout=timeout)
        status = "pass" if result.returncode == 0 else "fail"
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = "" if status == "pass" else (lines[-1] if lines else "exit code %d" % result.returncode)
    except subprocess.TimeoutExpired:
        status, reason = "timeout", "more than %g s" % timeout
    return {"example": script, "simulator": simulator, "status": status, "seconds": time.perf_counter() - t0,
            "reason": reason[:160]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulators", default="cupy")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("-k", default="", help="only examples whose name contains this")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    simulators = args.simulators.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="pynn-examples-") as scratch:
        source = Path(scratch) / "examples"
        source.mkdir()
        names = [name for name in extract(source) if args.k in name]
        for script in names:
            row = {}
            for simulator in simulators:   # a fresh copy each: examples write into their folder
                folder = Path(scratch) / simulator
                if not folder.exists():
                    shutil.copytree(source, folder)
                row[simulator] = run_one(folder, script, simulator, args.timeout)
                results.append(row[simulator])
            print("%-45s %s" % (script, "  ".join("%s %-7s %6.1f s %s" % (s, r["status"], r["seconds"], r["reason"])
                                                  for s, r in row.items())), flush=True)
    for simulator in simulators:
        passed = sum(r["status"] == "pass" for r in results if r["simulator"] == simulator)
        print("%s: %d of %d examples run" % (simulator, passed, len(names)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
