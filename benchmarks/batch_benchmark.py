#!/usr/bin/env python
"""Cost per step of many small populations against one large one (the neuron-batch target of DESIGN.md).

The same 10 000 IF_cond_exp neurons, driven by i_offset just above threshold and with no synapses, are
created as 1 x 10000, 10 x 1000 and 100 x 100 populations. For each layout: seconds per step (median of
`reps` runs of `steps` steps after a warm-up), launches per step, and the bytes the neuron kernels touch per
neuron per step (array arguments of the update kernels: state, per-neuron coefficients, input ring slot,
injected current; spike lists and scalars not counted). With one launch per population the cost grows with
the number of populations; with neuron batches (one launch per model) it should not.

Usage::

    python benchmarks/batch_benchmark.py --device cpu --json benchmarks/results/batch_cpu_2core.json
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

LAYOUTS = [(1, 10000), (10, 1000), (100, 100)]


def measure(sim, n_populations: int, size: int, steps: int, reps: int, device: str, precision: str) -> dict:
    sim.setup(timestep=0.1, device=device, precision=precision)
    populations = [sim.Population(size, sim.IF_cond_exp(i_offset=1.0, tau_refrac=2.0))
                   for _ in range(n_populations)]
    populations[0][0:1].record("spikes")
    sim.run(10.0)   # builds, compiles (or loads) the kernels
    state = sim.simulator.state
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        sim.run(steps * 0.1)
        state.backend.synchronize()
        times.append(time.perf_counter() - start)
    launches = [launch for group in state.groups for launch in group.launches()]
    n_neurons = n_populations * size
    # per-neuron arrays (state, coefficients, injected current) and, of the input ring, the current slot
    spike_lists = [id(group.device["spike_ids"]) for group in state.groups]   # written per spike only
    touched = sum(arg.nbytes for _, _, _, args in launches for arg in args
                  if getattr(arg, "size", 0) == size and id(arg) not in spike_lists)
    touched += sum(group.device["ring"][0].nbytes for group in state.groups)
    return {"populations": n_populations, "size": size, "steps": steps,
            "s_per_step": statistics.median(times) / steps,
            "launches_per_step": len(state._plan),
            "neuron_kernel_launches_per_step": len(launches),
            "bytes_per_neuron_per_step": touched / n_neurons}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--precision", default="float32", choices=["float32", "float64"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    import pyNN.cupy as sim
    results = []
    for n_populations, size in LAYOUTS:
        result = measure(sim, n_populations, size, args.steps, args.reps, args.device, args.precision)
        results.append(result)
        print("%3d x %5d: %8.2f us/step, %3d launches/step (%3d neuron updates), %.0f bytes/neuron/step"
              % (n_populations, size, result["s_per_step"] * 1e6, result["launches_per_step"],
                 result["neuron_kernel_launches_per_step"],
                 result["bytes_per_neuron_per_step"]))
    base = results[0]["s_per_step"]
    for result in results[1:]:
        print("%d x %d costs %.2fx the step of 1 x %d" % (result["populations"], result["size"],
                                                          result["s_per_step"] / base, results[0]["size"]))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "neuron batches", "device": sim.simulator.state.device,
                       "precision": args.precision, "machine": {"processor": platform.processor(),
                                                                "platform": platform.platform()},
                       "results": results}, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
