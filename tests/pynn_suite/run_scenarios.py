"""Run PyNN 0.13's system scenarios (``test/system/scenarios``) against one simulator backend.

    python tests/pynn_suite/run_scenarios.py --simulator nest [-j 2] [--timeout 600] [--json out.json]
                                             [-k SUBSTRING] [--all]

How PyNN drives them: there is no separate registry; each scenario is a module-level ``test_*``
function decorated with ``@run_with_simulators("nest", "neuron", ...)`` (scenarios/fixtures.py), a
``pytest.mark.parametrize("sim", ...)`` that passes a ``LazySimulator`` wrapping ``pyNN.<name>``.
Being left out of a scenario's list is how PyNN excludes it for a backend. We read those lists from
the source (ast; nothing imported), run a scenario for a simulator it lists, and, for a backend no
scenario names (e.g. ``cupy``), run all of them (``--all`` forces that for any backend).

Each scenario runs in a fresh interpreter, in a scratch working directory (some write files), with a
timeout; the simulator is imported eagerly there so that a broken backend is an error, not the
fixture's "not available" skip. Status: pass / fail (assertion, pytest.raises not met) / error (any
other exception, crash, timeout) / skip (pytest.skip, e.g. optional dependency missing).
"""
import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_pynn_tests  # noqa: E402

PACKAGE = fetch_pynn_tests.PACKAGE


def discover(root=None):
    """{"module.function": simulators listed by @run_with_simulators} for every collected scenario."""
    pkg = Path(root or fetch_pynn_tests.fetch()) / PACKAGE
    found = {}
    for path in sorted(pkg.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):  # pytest's rule
                for dec in node.decorator_list:
                    if isinstance(dec, ast.Call) and getattr(dec.func, "id", None) == "run_with_simulators":
                        found[f"{path.stem}.{node.name}"] = [a.value for a in dec.args]
    return found


def select(scenarios, simulator, run_all=False):
    known = {s for sims in scenarios.values() for s in sims}
    if run_all or simulator not in known:
        return list(scenarios)
    return [name for name, sims in scenarios.items() if simulator in sims]


def run_one(name, simulator, timeout=600.0):
    """Run one scenario in a subprocess; return a result dict."""
    t0 = time.perf_counter()
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="pynn-scenario-") as cwd:
        out = Path(cwd) / "result.json"
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, simulator, str(out)]
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, capture_output=True, text=True)
            if out.exists():
                result = json.loads(out.read_text())
            else:
                tail = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
                result = {"status": "error", "message": f"worker died (exit code {proc.returncode})",
                          "traceback": "\n".join(tail)}
        except subprocess.TimeoutExpired:
            result = {"status": "error", "message": f"timeout after {timeout:g} s", "traceback": ""}
    result.update(name=name, duration_s=round(time.perf_counter() - t0, 2))
    return result


def run_many(names, simulator, jobs=None, timeout=600.0, progress=False):
    def job(name):
        r = run_one(name, simulator, timeout)
        if progress:
            print(f"{r['status']:5s} {r['duration_s']:7.1f}s  {name}", file=sys.stderr, flush=True)
        return r
    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        return {r["name"]: r for r in pool.map(job, names)}


def _worker(name, simulator, out):
    """Subprocess side: run one scenario the way pytest would, write the outcome to `out`."""
    import importlib
    import pytest
    sys.path.insert(0, str(fetch_pynn_tests.fetch()))
    module, func = name.split(".")
    try:
        importlib.import_module(f"pyNN.{simulator}")
        fixtures = importlib.import_module(f"{PACKAGE}.fixtures")
        scenario = getattr(importlib.import_module(f"{PACKAGE}.{module}"), func)
        scenario(fixtures.LazySimulator(simulator))
        status, exc = "pass", None
    except pytest.skip.Exception as e:
        status, exc = "skip", e
    except (AssertionError, pytest.fail.Exception) as e:
        status, exc = "fail", e
    except BaseException as e:  # a scenario may raise anything; we report it, never re-raise
        status, exc = "error", e
    message = ""
    if exc is not None:
        text = str(getattr(exc, "msg", None) or exc).strip()
        message = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".strip()
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if exc else ""
    Path(out).write_text(json.dumps({"status": status, "message": message, "traceback": tb}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--simulator", default="cupy", help="pyNN.<simulator> to test (default: cupy)")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count(), help="scenarios run in parallel")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per scenario")
    p.add_argument("--json", help="write results here (default: .cache/pynn-scenarios-<simulator>.json)")
    p.add_argument("-k", dest="pattern", help="only scenarios whose name contains this")
    p.add_argument("--all", action="store_true", help="also run scenarios PyNN excludes for this backend")
    args = p.parse_args(argv)

    scenarios = discover()
    names = [n for n in select(scenarios, args.simulator, args.all) if not args.pattern or args.pattern in n]
    t0 = time.perf_counter()
    results = run_many(names, args.simulator, args.jobs, args.timeout, progress=True)
    wall = time.perf_counter() - t0

    rows = [results[n] for n in names]
    width = max(len(n) for n in names)
    print(f"\n{'scenario':{width}s}  status  time(s)  message")
    for r in rows:
        print(f"{r['name']:{width}s}  {r['status']:6s}  {r['duration_s']:7.1f}  {r['message'][:100]}")
    counts = {s: sum(r["status"] == s for r in rows) for s in ("pass", "fail", "error", "skip")}
    print(f"\n{args.simulator}: " + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f" of {len(rows)} in {wall:.0f} s wall (-j {args.jobs})")
    report = {"simulator": args.simulator, "pynn_version": fetch_pynn_tests.PYNN_VERSION,
              "summary": counts, "wall_s": round(wall, 1), "jobs": args.jobs,
              "results": [dict(r, simulators=scenarios[r["name"]]) for r in rows]}
    out = Path(args.json or fetch_pynn_tests.CACHE.parent / f"pynn-scenarios-{args.simulator}.json")
    out.write_text(json.dumps(report, indent=1))
    print(f"results: {out}")
    return 1 if counts["fail"] or counts["error"] else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        _worker(*sys.argv[2:])
    else:
        sys.exit(main())
