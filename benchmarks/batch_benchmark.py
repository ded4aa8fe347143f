#!/usr/bin/env python
"""Cost per step of many small populations against one large one (the neuron-batch target of DESIGN.md).

The same 10 000 IF_cond_exp neurons, driven by i_offset just above threshold and with no synapses, are
created as 1 x 10000, 10 x 1000 and 100 x 100 populations, and as 10 x 1000 with tau_m drawn per neuron (every
population heterogeneous: a coefficient row per neuron). For each layout: seconds per step (median of `reps`
runs of `steps` steps after a warm-up), launches per step, and the bytes the neuron update reads per neuron per
step: the state arrays, the injected current and population ids (one entry per neuron), the coefficient rows in
use and the layout, and the input ring's current slot (spike lists, written per spike only, and scalars not
counted). All populations of one model form one batch updated by one launch, so the cost per step should not
grow with the number of populations.

Usage::

    python benchmarks/batch_benchmark.py --device cpu --json benchmarks/results/batch_cpu_2core.json
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time


LAYOUTS = [(1, 10000, False), (10, 1000, False), (100, 100, False), (10, 1000, True)]


def measure(sim, n_populations: int, size: int, heterogeneous: bool, steps: int, reps: int, device: str,
            precision: str) -> dict:
    sim.setup(timestep=0.1, device=device, precision=precision)
    tau_m = sim.RandomDistribution("uniform", (18.0, 22.0), rng=sim.NumpyRNG(seed=1)) if heterogeneous else 20.0
    populations = [sim.Population(size, sim.IF_cond_exp(i_offset=1.0, tau_refrac=2.0, tau_m=tau_m))
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
    n_neurons = n_populations * size
    read = 0
    for batch in state.batches:
        read += sum(batch.device[name].nbytes for name in tuple(batch.model.state) + ("i_stim", "pop"))
        read += sum(table.size * batch.device[name].itemsize   # the rows in use, and the layout
                    for name, table in batch.host_tables.items())
        read += batch.device["ring"][0].nbytes
    return {"populations": n_populations, "size": size, "heterogeneous": heterogeneous, "steps": steps,
            "s_per_step": statistics.median(times) / steps,
            "launches_per_step": len(state._plan),
            "neuron_kernel_launches_per_step": len(state.batches),
            "bytes_per_neuron_per_step": read / n_neurons}


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
    for n_populations, size, heterogeneous in LAYOUTS:
        result = measure(sim, n_populations, size, heterogeneous, args.steps, args.reps, args.device, args.precision)
        results.append(result)
        print("%3d x %5d%s: %8.2f us/step, %3d launches/step (%3d neuron updates), %.1f bytes/neuron/step"
              % (n_populations, size, " heterogeneous" if heterogeneous else "", result["s_per_step"] * 1e6,
                 result["launches_per_step"],
                 result["neuron_kernel_launches_per_step"],
                 result["bytes_per_neuron_per_step"]))
    base = results[0]["s_per_step"]
    for result in results[1:]:
        print("%d x %d%s costs %.2fx the step of 1 x %d" % (
            result["populations"], result["size"], " heterogeneous" if result["heterogeneous"] else "",
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
