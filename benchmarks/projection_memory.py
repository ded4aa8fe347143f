#!/usr/bin/env python
"""Host memory of building large projections (issue 7: peak host memory within about 2x of the device arrays).

One FixedProbabilityConnector(p) projection between two populations of N IF_curr_exp cells (p = 0.1, N = 10 000:
1e7 synapses), each case in its own process: 'static' (one weight and delay), 'random' (normally distributed
weights, uniformly distributed delays, as the Potjans-Diesmann model draws them), 'plastic' (STDPMechanism,
SpikePairRule + MultiplicativeWeightDependence). For each: the process's resident memory over its baseline after
the populations exist (now and peak) once the projection is built and after the first step (which places the
synapses for the kernels), the time of each phase, the device arrays (pyNN.cupy; on the CPU twin they are host
memory too) and the ratio peak / device. With --backend both, pyNN.nest builds the same projections.

Usage::

    python benchmarks/projection_memory.py --backend both --json benchmarks/results/projection_memory_cpu_2core.json
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


def run(backend: str, case: str, n: int, p: float, device: str, precision: str) -> dict:
    if backend == "nest":
        import pyNN.nest as sim
        extra = {"spike_precision": "on_grid"}
    else:
        import pyNN.cupy as sim
        extra = {"device": device, "precision": precision}
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0, **extra)
    pre, post = sim.Population(n, sim.IF_curr_exp()), sim.Population(n, sim.IF_curr_exp())
    if case == "plastic":
        synapse = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                                    weight_dependence=sim.MultiplicativeWeightDependence(w_max=0.1),
                                    weight=0.05, delay=1.5)
    elif case == "random":
        rng = sim.NumpyRNG(seed=3)
        synapse = sim.StaticSynapse(weight=sim.RandomDistribution("normal_clipped", (0.05, 0.01, 0.0, 1.0), rng=rng),
                                    delay=sim.RandomDistribution("uniform", (0.5, 3.0), rng=rng))
    else:
        synapse = sim.StaticSynapse(weight=0.05, delay=1.5)
    base = resident_mib()[0]
    result = {"backend": backend, "case": case, "n": n, "p": p}
    reset_peak()
    t0 = time.perf_counter()
    projection = sim.Projection(pre, post, sim.FixedProbabilityConnector(p, rng=sim.NumpyRNG(seed=1)), synapse)
    now, peak = resident_mib()
    result.update(build_s=time.perf_counter() - t0, synapses=len(projection), build_now_mib=now - base,
                  build_peak_mib=peak - base)
    reset_peak()
    t0 = time.perf_counter()
    sim.run(0.1)
    now, peak = resident_mib()
    result.update(first_step_s=time.perf_counter() - t0, run_now_mib=now - base, run_peak_mib=peak - base)
    if backend == "cupy":
        device_mib = projection._device.device_bytes() / 2 ** 20
        result.update(device=sim.simulator.state.device, precision=precision, device_mib=device_mib,
                      bytes_per_synapse=device_mib * 2 ** 20 / max(1, len(projection)),
                      peak_over_device=max(result["build_peak_mib"], result["run_peak_mib"]) / device_mib)
    sim.end()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cupy", choices=["cupy", "nest", "both"])
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--precision", default="float32", choices=["float32", "float64"])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--cases", default="static,random,plastic")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run(*args.worker, args.n, args.p, args.device, args.precision)))
        return 0
    results = []
    for backend in (["cupy", "nest"] if args.backend == "both" else [args.backend]):
        for case in args.cases.split(","):
            command = [sys.executable, __file__, "--worker", backend, case, "--n", str(args.n), "--p", str(args.p),
                       "--device", args.device, "--precision", args.precision]
            out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                result = json.loads(out.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                result = {"backend": backend, "case": case, "error": out.stderr[-2000:]}
            results.append(result)
            print("%-4s %-7s %s" % (backend, case, " ".join(
                "%s=%s" % (k, ("%.4g" % v) if isinstance(v, float) else v) for k, v in result.items()
                if k not in ("backend", "case"))))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "projection build memory (issue 7)", "machine": {
                "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                "platform": platform.platform()}, "results": results}, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
