#!/usr/bin/env python
"""Brunel network with STDP on the excitatory-excitatory synapses, static and plastic, for pyNN.cupy and
pyNN.nest (the benchmark of issue 7; GeNN 2.44 s/s and Spike 1.16 s/s plastic on a GTX 1070 are its anchors).

N IF_curr_exp cells (80 % excitatory), FixedProbabilityConnector(p = 0.1) between all of them (1e7 synapses at
N = 10 000), PSPs of about J = 0.1 mV, g = 5, delay 1.5 ms, each cell driven by its own Poisson source at eta = 2
times the threshold rate (Brunel 2000, asynchronous irregular state); 'plastic' makes E->E an STDPMechanism
(SpikePairRule, MultiplicativeWeightDependence, w_max = 2 J). Each (backend, variant) runs in its own process.

Figures: build_s (populations and projections), run_s (the model time after a first step that builds and compiles),
s_per_model_s, mean rate, synapse count, peak_rss_mib (the process's peak resident memory); for pyNN.cupy the device
bytes per synapse of the static and plastic storage and device_mib (all projections' device arrays); the
plastic/static ratio and, with --backend both, the cupy/nest ratios.

Usage::

    python benchmarks/brunel_stdp.py --backend both --n 10000 --sim-time 1000 --json benchmarks/results/brunel_stdp.json
    python benchmarks/brunel_stdp.py --backend cupy --device gpu
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

DT, DELAY, P_CONN, G, ETA = 0.1, 1.5, 0.1, 5.0, 2.0
CELL = dict(tau_m=20.0, cm=0.25, v_rest=-70.0, v_reset=-60.0, v_thresh=-50.0, tau_refrac=2.0, tau_syn_E=0.5,
            tau_syn_I=0.5)
J = 0.05   # nA: a PSP of about 0.1 mV with these cells


def run(backend: str, variant: str, n: int, sim_time: float, device: str, precision: str) -> dict:
    import numpy as np
    if backend == "nest":
        import pyNN.nest as sim
        extra = {"spike_precision": "on_grid"}
    else:
        import pyNN.cupy as sim
        extra = {"device": device, "precision": precision}
    t0 = time.perf_counter()
    sim.setup(timestep=DT, min_delay=DELAY, max_delay=DELAY, **extra)
    n_exc = int(0.8 * n)
    cells = sim.Population(n, sim.IF_curr_exp(**CELL))
    cells.initialize(v=sim.RandomDistribution("uniform", (-70.0, -50.0), rng=sim.NumpyRNG(seed=1)))
    exc, inh = cells[:n_exc], cells[n_exc:]
    c_exc = P_CONN * n_exc
    rate = ETA * (CELL["v_thresh"] - CELL["v_rest"]) / (0.1 * c_exc * CELL["tau_m"]) * 1000.0   # Hz per input
    noise = sim.Population(n, sim.SpikeSourcePoisson(rate=rate * c_exc))
    sim.Projection(noise, cells, sim.OneToOneConnector(), sim.StaticSynapse(weight=J, delay=DELAY))
    connector = sim.FixedProbabilityConnector(P_CONN, rng=sim.NumpyRNG(seed=2))
    if variant == "plastic":
        ee_synapse = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=2 * J), weight=J, delay=DELAY)
    else:
        ee_synapse = sim.StaticSynapse(weight=J, delay=DELAY)
    projections = [
        sim.Projection(exc, exc, connector, ee_synapse, receptor_type="excitatory"),
        sim.Projection(exc, inh, connector, sim.StaticSynapse(weight=J, delay=DELAY), receptor_type="excitatory"),
        sim.Projection(inh, cells, connector, sim.StaticSynapse(weight=-G * J, delay=DELAY),
                       receptor_type="inhibitory")]
    cells.record("spikes")
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(DT)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(sim_time - DT)
    elapsed = time.perf_counter() - t0
    spikes = sum(len(train) for train in cells.get_data().segments[0].spiketrains)
    result = {"backend": backend, "variant": variant, "n": n, "sim_time_ms": sim_time, "build_s": build,
              "first_step_s": first, "run_s": elapsed, "s_per_model_s": elapsed / ((sim_time - DT) / 1000.0),
              "synapses": int(sum(len(p) for p in projections)), "mean_rate_hz": spikes / n / (sim_time / 1000.0),
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    if backend == "cupy":
        storage = {type(p._device).__name__: p._device.device_bytes() / max(1, len(p)) for p in projections}
        result.update(device=sim.simulator.state.device, precision=precision, bytes_per_synapse=storage,
                      device_mib=sum(p._device.device_bytes() for p in projections) / 2 ** 20)
        if variant == "plastic":
            weights = np.asarray(projections[0].get("weight", format="list"))[:, 2]
            result["ee_weight_mean_std"] = [float(weights.mean()), float(weights.std())]
    sim.end()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["cupy", "nest", "both"])
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--precision", default="float32", choices=["float32", "float64"])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--sim-time", type=float, default=1000.0, help="model time in ms")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("BACKEND", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run(*args.worker, args.n, args.sim_time, args.device, args.precision)))
        return 0
    backends = ["cupy", "nest"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        for variant in ("static", "plastic"):
            command = [sys.executable, __file__, "--worker", backend, variant, "--n", str(args.n), "--sim-time",
                       str(args.sim_time), "--device", args.device, "--precision", args.precision]
            with tempfile.TemporaryFile("w+") as log:
                try:
                    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, text=True, timeout=args.timeout)
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                except (subprocess.TimeoutExpired, IndexError, json.JSONDecodeError) as exc:
                    log.seek(0)
                    result = {"backend": backend, "variant": variant, "error": repr(exc), "log": log.read()[-2000:]}
            results.append(result)
            print("%-4s %-7s %s" % (backend, variant, " ".join("%s=%s" % (k, ("%.4g" % v) if isinstance(v, float)
                                                                              else v) for k, v in result.items()
                                                               if k not in ("backend", "variant", "log"))))
    table = {(r["backend"], r["variant"]): r.get("s_per_model_s") for r in results}
    for backend in backends:
        static, plastic = table.get((backend, "static")), table.get((backend, "plastic"))
        if static and plastic:
            print("%s: plastic/static %.2f" % (backend, plastic / static))
    if len(backends) == 2:
        for variant in ("static", "plastic"):
            cupy, nest = table.get(("cupy", variant)), table.get(("nest", variant))
            if cupy and nest:
                print("%s: pyNN.nest / pyNN.cupy %.1fx" % (variant, nest / cupy))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "Brunel + STDP (issue 7)", "machine": {
                "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                "platform": platform.platform()}, "results": results}, out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
