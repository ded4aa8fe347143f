#!/usr/bin/env python
"""Vogels-Abbott COBA benchmark (Brette et al. 2007, benchmark 1) for pyNN.cupy and pyNN.nest.

The network follows PyNN 0.13's ``examples/VAbenchmarks.py`` (COBA variant, separate populations):
4000 IF_cond_exp cells (80 % excitatory, 20 % inhibitory), tau_m 20 ms, cm 0.2 nF, v_rest -60 mV,
v_thresh -50 mV, v_reset -60 mV, tau_refrac 5 ms, tau_syn_E 5 ms, tau_syn_I 10 ms, e_rev_E 0 mV,
e_rev_I -80 mV; initial v uniform in [v_reset, v_thresh]; FixedProbabilityConnector(p=0.02) for
e->e, e->i, i->e, i->i with weights 4 nS (exc) and 51 nS (inh) and delay 0.2 ms; 20 Poisson sources
(100 Hz for the first 50 ms) onto every cell with p=0.01 and weight 0.1 uS (default delay);
dt 0.1 ms, min_delay 0.2 ms, max_delay 1 ms, RNG seed 98765. Spikes of all cells and v of two
excitatory cells are recorded, as in the example. One deviation: the Poisson-input connector gets a
seeded RNG too, so that the network is reproducible.

Figures (each backend runs in its own subprocess, so no simulator state leaks between them):

* ``build_s``: wall time of ``setup()`` + populations + ``initialize`` + projections + ``record``.
* ``first_step_s``: ``run(dt)``; for pyNN.cupy this includes the lazy device build (upload of the
  connectivity) and kernel compilation or cache load.
* ``run_s``: ``run(sim_time - dt)``, i.e. the steady-state simulation of the rest of the model time;
  ``s_per_model_s = run_s / model seconds simulated`` (the real-time factor, lower is better).
* ``step_overhead``: per-step host overhead, measured in a *separate* process on a 1-neuron network
  (IF_cond_exp, spikes recorded, no synapses, same setup arguments). After a warm-up run, ``run(N dt)``
  and then ``run(2N dt)`` are timed, ``reps`` times; ``per_step_us = median((t_2N - t_N) / N)`` is
  the marginal cost of one time step when there is essentially no neural work, i.e. an upper bound
  on the host (launch/bookkeeping) overhead per step; ``per_run_call_ms = t_N - N * per_step`` is the
  fixed cost of one ``run()`` call. Differencing two run lengths removes the per-call cost from the
  per-step figure.
* ``n_synapses``, ``total_spikes`` (recorded network spikes), ``mean_rate_hz`` (over all cells and
  the whole run), ``synaptic_events`` (recorded spikes x mean out-degree of their population; the
  Poisson input is not counted) and ``events_per_s`` (synaptic_events / (first_step_s + run_s)).
* ``machine``: platform.processor(), os.cpu_count(), and the GPU name for pyNN.cupy on a GPU.

Usage::

    python benchmarks/va_benchmark.py --backend nest --sim-time 200
    python benchmarks/va_benchmark.py --backend cupy --device gpu --precision float32 --json out.json
    python benchmarks/va_benchmark.py --backend both --device cpu     # prints the cupy/nest ratio
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from types import ModuleType
from typing import Any

# --- parameters of PyNN's examples/VAbenchmarks.py (COBA) ------------------------------------
SEED = 98765
DT = 0.1  # ms
DELAY = 0.2  # ms (synaptic delay and min_delay)
MAX_DELAY = 1.0  # ms
P_CONN = 0.02
R_EI = 4.0  # excitatory : inhibitory
STIM_N, STIM_RATE, STIM_DUR, STIM_P, STIM_W = 20, 100.0, 50.0, 0.01, 0.1  # -, Hz, ms, -, uS
W_EXC, W_INH = 4e-3, 51e-3  # uS (4 nS, 51 nS)
_AREA = 20000e-8  # cm^2
CELL_PARAMS = {
    "tau_m": 20.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0, "v_rest": -60.0, "v_reset": -60.0,
    "v_thresh": -50.0, "cm": 1.0 * _AREA * 1000, "tau_refrac": 5.0, "e_rev_E": 0.0, "e_rev_I": -80.0,
}


def import_backend(backend: str) -> ModuleType:
    """Import the PyNN simulator module for ``backend`` ('cupy' or 'nest')."""
    if backend == "nest":
        import pyNN.nest as sim
    elif backend == "cupy":
        import pyNN.cupy as sim
    else:
        raise ValueError(f"unknown backend {backend!r}")
    return sim


def setup_kwargs(backend: str, device: str, precision: str) -> dict[str, Any]:
    """Arguments for ``sim.setup``: those of the PyNN example plus backend-specific extras."""
    kw: dict[str, Any] = dict(timestep=DT, min_delay=DELAY, max_delay=MAX_DELAY, rng_seed=SEED)
    if backend == "nest":
        kw["threads"] = 1
    else:
        kw.update(precision=precision, device=device)
    return kw


def _sync(backend: str) -> None:
    """Wait for the GPU, if pyNN.cupy has put work on one (run() should already do so)."""
    if backend == "cupy" and "cupy" in sys.modules:
        try:
            sys.modules["cupy"].cuda.runtime.deviceSynchronize()
        except (RuntimeError, AttributeError):
            pass


def machine_info(backend: str, device: str, sim: ModuleType | None = None) -> dict[str, Any]:
    """Describe the host and, for pyNN.cupy not forced onto the CPU, the GPU."""
    info: dict[str, Any] = {
        "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "platform": platform.platform(), "python": platform.python_version(),
    }
    if sim is not None:
        state = getattr(getattr(sim, "simulator", None), "state", None)
        used = getattr(state, "device", None)
        if used is not None:
            info["device_used"] = str(used)
    if backend == "cupy" and device != "cpu" and info.get("device_used", "gpu") != "cpu":
        try:
            import cupy

            dev = cupy.cuda.Device()
            info["gpu"] = cupy.cuda.runtime.getDeviceProperties(dev.id)["name"].decode()
            info["cupy"] = cupy.__version__
        except (ImportError, RuntimeError) as err:
            info["gpu"] = f"unavailable ({type(err).__name__})"
    return info


def build_network(sim: ModuleType, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create the COBA network on an already set-up ``sim``; return (populations, projections)."""
    from pyNN.random import NumpyRNG, RandomDistribution

    n_exc = int(round(n * R_EI / (1 + R_EI)))
    celltype = sim.IF_cond_exp(**CELL_PARAMS)
    exc = sim.Population(n_exc, celltype, label="Excitatory_Cells")
    inh = sim.Population(n - n_exc, celltype, label="Inhibitory_Cells")
    stim = sim.Population(STIM_N, sim.SpikeSourcePoisson(rate=STIM_RATE, duration=STIM_DUR),
                          label="expoisson")
    rng = NumpyRNG(seed=SEED, parallel_safe=True)
    v_init = RandomDistribution("uniform", low=CELL_PARAMS["v_reset"], high=CELL_PARAMS["v_thresh"],
                                rng=rng)
    exc.initialize(v=v_init)
    inh.initialize(v=v_init)
    conn = sim.FixedProbabilityConnector(P_CONN, rng=rng)
    ext_conn = sim.FixedProbabilityConnector(STIM_P, rng=rng)
    exc_syn = sim.StaticSynapse(weight=W_EXC, delay=DELAY)
    inh_syn = sim.StaticSynapse(weight=W_INH, delay=DELAY)
    ext_syn = sim.StaticSynapse(weight=STIM_W)
    prj = {
        "e2e": sim.Projection(exc, exc, conn, exc_syn, receptor_type="excitatory"),
        "e2i": sim.Projection(exc, inh, conn, exc_syn, receptor_type="excitatory"),
        "i2e": sim.Projection(inh, exc, conn, inh_syn, receptor_type="inhibitory"),
        "i2i": sim.Projection(inh, inh, conn, inh_syn, receptor_type="inhibitory"),
        "ext2e": sim.Projection(stim, exc, ext_conn, ext_syn, receptor_type="excitatory"),
        "ext2i": sim.Projection(stim, inh, ext_conn, ext_syn, receptor_type="excitatory"),
    }
    exc.record("spikes")
    inh.record("spikes")
    exc[0, 1].record("v")
    return {"exc": exc, "inh": inh, "stim": stim}, prj


def _spike_count(pop: Any) -> int:
    block = pop.get_data("spikes", clear=False)
    return int(sum(len(st) for st in block.segments[0].spiketrains))


def run_network(backend: str, device: str, precision: str, n: int, sim_time: float) -> dict[str, Any]:
    """Build and simulate the benchmark network in this process; return the figures."""
    sim = import_backend(backend)
    t0 = time.perf_counter()
    sim.setup(**setup_kwargs(backend, device, precision))
    t_setup = time.perf_counter() - t0
    pops, prj = build_network(sim, n)
    t_build = time.perf_counter() - t0
    t1 = time.perf_counter()
    sim.run(DT)
    _sync(backend)
    t_first = time.perf_counter() - t1
    t2 = time.perf_counter()
    sim.run(sim_time - DT)
    _sync(backend)
    t_run = time.perf_counter() - t2
    sizes = {k: int(p.size()) for k, p in prj.items()}
    exc, inh = pops["exc"], pops["inh"]
    s_exc, s_inh = _spike_count(exc), _spike_count(inh)
    fan_e = (sizes["e2e"] + sizes["e2i"]) / exc.size
    fan_i = (sizes["i2e"] + sizes["i2i"]) / inh.size
    events = s_exc * fan_e + s_inh * fan_i
    model_s = sim_time / 1000.0
    res = {
        "backend": backend, "device": device if backend == "cupy" else "cpu",
        "precision": precision if backend == "cupy" else "float64",
        "n": n, "n_exc": exc.size, "n_inh": inh.size, "sim_time_ms": sim_time, "dt_ms": DT,
        "setup_s": t_setup, "build_s": t_build, "first_step_s": t_first, "run_s": t_run,
        "s_per_model_s": t_run / ((sim_time - DT) / 1000.0),
        "n_synapses": sum(sizes.values()), "synapses": sizes,
        "total_spikes": s_exc + s_inh, "spikes_exc": s_exc, "spikes_inh": s_inh,
        "mean_rate_hz": (s_exc + s_inh) / n / model_s,
        "rate_exc_hz": s_exc / exc.size / model_s, "rate_inh_hz": s_inh / inh.size / model_s,
        "synaptic_events": events, "events_per_s": events / (t_first + t_run),
        "machine": machine_info(backend, device, sim),
    }
    sim.end()
    return res


def measure_step_overhead(backend: str, device: str, precision: str, steps: int,
                          reps: int = 3) -> dict[str, Any]:
    """Per-step host overhead from a 1-neuron network (method in the module docstring)."""
    sim = import_backend(backend)
    sim.setup(**setup_kwargs(backend, device, precision))
    pop = sim.Population(1, sim.IF_cond_exp(**CELL_PARAMS))
    pop.record("spikes")
    sim.run(10 * DT)  # warm-up: device build, kernel compilation
    _sync(backend)
    per_step, per_call = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        sim.run(steps * DT)
        _sync(backend)
        t_n = time.perf_counter() - t0
        t0 = time.perf_counter()
        sim.run(2 * steps * DT)
        _sync(backend)
        t_2n = time.perf_counter() - t0
        per_step.append((t_2n - t_n) / steps)
        per_call.append(t_n - steps * per_step[-1])
    sim.end()
    return {"steps": steps, "reps": reps, "per_step_us": statistics.median(per_step) * 1e6,
            "per_run_call_ms": statistics.median(per_call) * 1e3,
            "per_step_samples_us": [x * 1e6 for x in per_step]}


def run_worker(part: str, backend: str, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    """Run one part ('network' or 'overhead') for one backend in a fresh Python subprocess."""
    timeout = min(deadline - time.monotonic() - 2.0, args.timeout or float("inf"))
    if timeout < 1:
        return {"error": f"{part} worker for {backend} skipped: time budget spent"}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--backend", backend, "--device", args.device,
               "--precision", args.precision, "--sim-time", str(args.sim_time), "--n", str(args.n),
               "--overhead-steps", str(args.overhead_steps), "--worker", part, "--json", out]
        try:
            proc = subprocess.run(cmd, timeout=None if timeout == float("inf") else timeout)
            rc: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        if rc == 0 and os.path.exists(out):
            with open(out) as f:
                return json.load(f)
        return {"error": f"{part} worker for {backend} failed (rc={rc})"}


def report(res: dict[str, Any]) -> None:
    """Print one backend's figures."""
    if "error" in res:
        print(f"[{res.get('backend', '?')}] ERROR: {res['error']}")
        return
    m = res["machine"]
    print(f"\n=== VA COBA: pyNN.{res['backend']} device={res['device']} precision={res['precision']} ===")
    print(f"machine           : {m['processor']}, {m['cpu_count']} CPUs" + (f", GPU {m['gpu']}" if "gpu" in m else ""))
    print(f"neurons / synapses: {res['n']} / {res['n_synapses']}  ({res['synapses']})")
    print(f"build time        : {res['build_s']:.3f} s (setup {res['setup_s']:.3f} s)")
    print(f"first step        : {res['first_step_s']:.3f} s (lazy build + compile)")
    print(f"run time          : {res['run_s']:.3f} s for {res['sim_time_ms'] - res['dt_ms']:.1f} ms model time")
    print(f"s per model s     : {res['s_per_model_s']:.4f}")
    oh = res.get("step_overhead", {})
    if "per_step_us" in oh:
        print(f"per-step overhead : {oh['per_step_us']:.2f} us/step (1 neuron, upper bound); "
              f"per run() call {oh['per_run_call_ms']:.2f} ms")
    elif oh:
        print(f"per-step overhead : {oh.get('error')}")
    print(f"spikes            : {res['total_spikes']} (exc {res['spikes_exc']}, inh {res['spikes_inh']})")
    print(f"mean rate         : {res['mean_rate_hz']:.2f} Hz (exc {res['rate_exc_hz']:.2f}, "
          f"inh {res['rate_inh_hz']:.2f})")
    print(f"synaptic events/s : {res['events_per_s']:.3g}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=["cupy", "nest", "both"], default="cupy")
    ap.add_argument("--device", choices=["auto", "gpu", "cpu"],
                    default=os.environ.get("PYNN_CUPY_DEVICE", "auto"))
    ap.add_argument("--precision", choices=["float32", "float64"], default="float32")
    ap.add_argument("--sim-time", type=float, default=1000.0, help="model time in ms")
    ap.add_argument("--n", type=int, default=4000, help="number of neurons")
    ap.add_argument("--overhead-steps", type=int, default=5000,
                    help="N for the per-step overhead measurement (0: skip it)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per worker subprocess")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for everything; workers past it are reported as errors")
    ap.add_argument("--json", metavar="PATH", help="write the results to this JSON file")
    ap.add_argument("--worker", choices=["network", "overhead"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:  # internal: one part, one backend, in this process
        if args.worker == "network":
            res = run_network(args.backend, args.device, args.precision, args.n, args.sim_time)
        else:
            res = measure_step_overhead(args.backend, args.device, args.precision, args.overhead_steps)
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
        return 0

    backends = ["nest", "cupy"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {}
    deadline = time.monotonic() + (args.budget if args.budget is not None else float("inf"))
    for b in backends:
        res = run_worker("network", b, args, deadline)
        res.setdefault("backend", b)
        if args.overhead_steps > 0 and "error" not in res:
            res["step_overhead"] = run_worker("overhead", b, args, deadline)
        results[b] = res
        report(res)
    out: dict[str, Any] = {"benchmark": "VA COBA", "results": results}
    if args.backend == "both" and not any("error" in r for r in results.values()):
        c, n = results["cupy"], results["nest"]
        out["ratio_cupy_over_nest"] = {
            "s_per_model_s": c["s_per_model_s"] / n["s_per_model_s"],
            "build_s": c["build_s"] / n["build_s"],
        }
        r = out["ratio_cupy_over_nest"]
        print(f"\ncupy/nest ratio: run {r['s_per_model_s']:.4f} (speed-up x{1 / r['s_per_model_s']:.1f}), "
              f"build {r['build_s']:.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
