#!/usr/bin/env python
"""Speed and memory of the Python layer (issue 8): building, recording and getting data out of a large network.

100 000 IF_curr_exp cells driven by i_offset (about 36 Hz), 10 million synapses in two projections of 5 million,
FixedProbabilityConnector and FixedNumberPreConnector (50 per cell, without replacement, PyNN's default), plus a
FromListConnector of 1 million entries; spikes of every cell and v of 1000 recorded for 1 s; get_data(). For each
phase: the wall time and the peak resident memory of the process over its state before the phase (Linux), each
backend in its own process.

`--rng native` (the default) gives the connectors `sim.NativeRNG`: pyNN.cupy then draws in bulk, and pyNN.nest
hands FixedProbability to NEST's own pairwise_bernoulli (its NativeRNG cannot draw FixedNumberPre's
permutations, so there pyNN.nest keeps a NumpyRNG and PyNN's per-cell path). `--rng numpy` gives NumpyRNG to
both: PyNN's own draws, the same connections on both backends.

Usage::

    python benchmarks/python_layer.py --backend both --json benchmarks/results/python_layer_cpu_2core.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from memory_probe import reset_peak, resident_mib


def run(backend: str, n: int, sim_time: float, rng_kind: str) -> list[dict]:
    import numpy as np
    phases = []

    def phase(name, action):
        reset_peak()
        before = resident_mib()[0]
        t0 = time.perf_counter()
        result = action()
        now, peak = resident_mib()
        phases.append({"phase": name, "seconds": time.perf_counter() - t0, "peak_over_start_mib": peak - before,
                       "rss_mib": now})
        print("%-5s %-22s %8.2f s  peak +%7.0f MiB" % (backend, name, phases[-1]["seconds"], peak - before),
              file=sys.stderr, flush=True)
        return result

    if backend == "nest":
        import pyNN.nest as sim
        sim.setup(timestep=0.1, spike_precision="on_grid")
    else:
        import pyNN.cupy as sim
        sim.setup(timestep=0.1)
    rng = np.random.default_rng(1)
    cells = phase("population", lambda: sim.Population(n, sim.IF_curr_exp(
        i_offset=sim.RandomDistribution("uniform", (0.9, 1.1), rng=sim.NumpyRNG(seed=2)))))
    synapse = sim.StaticSynapse(weight=0.0005, delay=1.0)
    native = rng_kind == "native"
    phase("FixedProbability", lambda: sim.Projection(cells, cells, sim.FixedProbabilityConnector(
        5e6 / n / n, rng=(sim.NativeRNG if native else sim.NumpyRNG)(seed=3)), synapse))
    phase("FixedNumberPre", lambda: sim.Projection(cells, cells, sim.FixedNumberPreConnector(
        int(5e6 // n), rng=(sim.NativeRNG if native and backend == "cupy" else sim.NumpyRNG)(seed=4)), synapse))
    pairs = np.column_stack([rng.integers(0, n, 1_000_000), rng.integers(0, n, 1_000_000)]).astype(float)
    phase("FromList (1e6)", lambda: sim.Projection(cells, cells, sim.FromListConnector(pairs), synapse))
    phase("record", lambda: (cells.record("spikes"), cells[:1000].record("v")))
    phase("run %g ms" % sim_time, lambda: sim.run(sim_time))
    block = phase("get_data", lambda: cells.get_data())
    trains = phase("spike trains (neo)", lambda: list(block.segments[0].spiketrains))   # neo builds them now
    spikes = sum(len(train) for train in trains)
    phases.append({"phase": "summary", "spikes": spikes, "mean_rate_hz": spikes / n / (sim_time / 1000.0)})
    sim.end()
    return phases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cupy", choices=["cupy", "nest", "both"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--sim-time", type=float, default=1000.0)
    parser.add_argument("--rng", default="native", choices=["native", "numpy"],
                        help="the connectors' RNG (see above)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run(args.worker, args.n, args.sim_time, args.rng)))
        return 0
    results = {}
    for backend in (["cupy", "nest"] if args.backend == "both" else [args.backend]):
        out = subprocess.run([sys.executable, __file__, "--worker", backend, "--n", str(args.n), "--sim-time",
                              str(args.sim_time), "--rng", args.rng], stdout=subprocess.PIPE, text=True)
        try:
            results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            results[backend] = [{"error": "exit code %d" % out.returncode}]
    names = [p["phase"] for p in next(iter(results.values())) if "seconds" in p]
    print("%-22s %s" % ("phase", "  ".join("%-24s" % b for b in results)))
    for name in names:
        cells = []
        for backend, phases in results.items():
            p = next((p for p in phases if p.get("phase") == name), None)
            cells.append("%8.2f s %7.0f MiB" % (p["seconds"], p["peak_over_start_mib"]) if p else "-")
        print("%-22s %s" % (name, "  ".join("%-24s" % c for c in cells)))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "Python layer (issue 8)", "machine": {
                "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                "platform": platform.platform()}, "n": args.n, "sim_time_ms": args.sim_time, "rng": args.rng, "results": results},
                out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
