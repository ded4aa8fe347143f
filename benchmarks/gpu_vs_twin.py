#!/usr/bin/env python
"""Side-by-side check of pyNN.cupy on the GPU against its CPU twin (same kernels built by g++).

The same PyNN networks are run on two "sides" (default ``cupy:gpu`` and ``cupy:cpu``) for each
precision (default float64 and float32); every (side, precision) runs in its own subprocess, so
no simulator state is shared. Cases:

* ``curr_dc`` / ``cond_dc``: one IF_curr_exp / IF_cond_exp neuron driven by a DCSource.
* ``curr_spikes`` / ``cond_spikes``: one neuron driven by excitatory and inhibitory
  SpikeSourceArray inputs.
* ``network``: a balanced network of 800 exc + 200 inh IF_cond_exp cells (Vogels-Abbott
  parameters, in-degree ~80 via FixedProbabilityConnector(0.08) with a seeded NumpyRNG), driven by
  100 SpikeSourcePoisson sources (p=0.1, 4 nS).
* ``plastic``: 40 sources with fixed irregular trains onto 10 IF_curr_exp cells through STDP
  (SpikePairRule, MultiplicativeWeightDependence; delays 1-3 ms, dendritic) and through
  SimpleStochasticSynapse (p = 0.5, drawn on the device): the final STDP weights are compared too.

Compared per case: spike counts, whether all spike trains are identical, the largest spike-time
difference (trains of equal length), the earliest time at which the two sides' spikes differ, the
relative difference of the mean rate, and the largest |v_A - v_B| over the recorded traces.
Pass criteria: float64 single neurons: identical spike times and max|dv| <= 1e-6 mV; float32
single neurons: equal spike counts and spike times within one time step; network: mean rates
within 3 % (the network is chaotic, so trains are not expected to stay identical); plastic: as the single
neurons in float64, with the STDP weights within 1e-9, and as the network in float32.

Usage::

    python benchmarks/gpu_vs_twin.py --json gpu_vs_twin.json           # GPU vs CPU twin
    python benchmarks/gpu_vs_twin.py --self-test                       # CPU twin vs CPU twin
    python benchmarks/gpu_vs_twin.py --sides nest,nest --precisions float64   # harness check
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from types import ModuleType
from typing import Any, Callable

import numpy as np

DT = 0.1
SEED = 4242
CASES = ("curr_dc", "curr_spikes", "cond_dc", "cond_spikes", "network", "plastic", "convolution")
VA_PARAMS = {"tau_m": 20.0, "tau_syn_E": 5.0, "tau_syn_I": 10.0, "v_rest": -60.0, "v_reset": -60.0,
             "v_thresh": -50.0, "cm": 0.2, "tau_refrac": 5.0, "e_rev_E": 0.0, "e_rev_I": -80.0}


# --- the networks -------------------------------------------------------------------------------
def _single(sim: ModuleType, celltype: Any) -> Any:
    cell = sim.Population(1, celltype, label="cell")
    cell.record(["spikes", "v"])
    return cell


def case_dc(sim: ModuleType, cond: bool) -> tuple[list[Any], float]:
    """One neuron, DCSource of 1 nA from 5 ms to 180 ms (rheobase 0.75 nA)."""
    cell = _single(sim, sim.IF_cond_exp() if cond else sim.IF_curr_exp())
    sim.DCSource(amplitude=1.0, start=5.0, stop=180.0).inject_into(cell)
    return [cell], 200.0


def case_spikes(sim: ModuleType, cond: bool) -> tuple[list[Any], float]:
    """One neuron, excitatory input every 2 ms and inhibitory input every 7 ms."""
    cell = _single(sim, sim.IF_cond_exp() if cond else sim.IF_curr_exp())
    exc = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(10.0, 190.0, 2.0)))
    inh = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(13.0, 190.0, 7.0)))
    w_e, w_i = (0.012, 0.02) if cond else (1.2, -1.0)  # uS for cond, nA for curr
    sim.Projection(exc, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w_e, delay=1.0),
                   receptor_type="excitatory")
    sim.Projection(inh, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=w_i, delay=1.0),
                   receptor_type="inhibitory")
    return [cell], 200.0


def case_network(sim: ModuleType) -> tuple[list[Any], float]:
    """Balanced 800/200 IF_cond_exp network with Poisson drive (see module docstring)."""
    from pyNN.random import NumpyRNG, RandomDistribution

    rng = NumpyRNG(seed=SEED)
    exc = sim.Population(800, sim.IF_cond_exp(**VA_PARAMS), label="exc")
    inh = sim.Population(200, sim.IF_cond_exp(**VA_PARAMS), label="inh")
    noise = sim.Population(100, sim.SpikeSourcePoisson(rate=20.0), label="noise")
    v0 = RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng)
    exc.initialize(v=v0)
    inh.initialize(v=v0)
    conn = sim.FixedProbabilityConnector(0.08, rng=rng)
    for pre, w, rec in ((exc, 0.004, "excitatory"), (inh, 0.051, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, conn, sim.StaticSynapse(weight=w, delay=0.2), receptor_type=rec)
    for post in (exc, inh):
        sim.Projection(noise, post, sim.FixedProbabilityConnector(0.1, rng=rng),
                       sim.StaticSynapse(weight=0.004, delay=0.2), receptor_type="excitatory")
    exc.record("spikes")
    inh.record("spikes")
    exc[0:5].record("v")
    return [exc, inh], 500.0


def case_plastic(sim: ModuleType) -> tuple[list[Any], float]:
    """STDP and stochastic release onto one population (see module docstring); the STDP projection is
    remembered so that its weights are compared."""
    rng = np.random.default_rng(SEED)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(25.0, 40)), 1)) + 1.0 for _ in range(40)]
    sources = sim.Population(40, sim.SpikeSourceArray(spike_times=[t[t < 500.0] for t in trains]))
    cells = sim.Population(10, sim.IF_curr_exp(tau_refrac=2.0, i_offset=0.5))
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=20.0, tau_minus=20.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.4), weight=0.2, delay=1.0)
    plastic = sim.Projection(sources, cells, sim.AllToAllConnector(), stdp)
    plastic.set(delay=rng.choice([1.0, 2.0, 3.0], (40, 10)))
    sim.Projection(sources, cells, sim.AllToAllConnector(),
                   sim.SimpleStochasticSynapse(p=0.5, weight=0.1, delay=1.5))
    cells.record(["spikes", "v"])
    PLASTIC.append(plastic)
    return [cells], 500.0


def case_convolution(sim: ModuleType) -> tuple[list[Any], float]:
    """A 12 x 12 input through a plastic 5 x 5 kernel (KernelSTDP, a winner per 50 ms) with stride 1 and a
    mixed-sign static kernel with stride 2 and padding, then a pooled dense readout: the shared-weight kernels
    of cuda/convolution.cu; the plastic kernel's weights are compared."""
    rng = np.random.default_rng(SEED)
    grid = sim.space.Grid2D(1.0)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(20.0, 30)), 1)) + 1.0 for _ in range(144)]
    sources = sim.Population(144, sim.SpikeSourceArray(spike_times=[t[t < 400.0] for t in trains]), structure=grid)
    learning = sim.ConvolutionConnector(rng.uniform(0.3, 0.7, (5, 5)))
    mixed = sim.ConvolutionConnector(rng.normal(0.0, 0.6, (3, 3)), strides=2, padding=1)
    maps = [sim.Population(int(np.prod(c.get_post_shape((12, 12)))), sim.IF_curr_exp(tau_refrac=2.0),
                           structure=grid, initial_values={"v": -60.0}) for c in (learning, mixed)]
    plastic = sim.Projection(sources, maps[0], learning, sim.KernelSTDP(a_plus=0.02, a_minus=0.015, window=50.0))
    sim.Projection(sources, maps[1], mixed, sim.Convolution(delay=1.0))
    readout = sim.Population(3, sim.IF_cond_exp())
    sim.Projection(maps[1], readout, sim.PoolDenseConnector(rng.normal(0.0, 0.02, 9 * 3), pool_shape=2),
                   sim.PoolDense())
    for population in maps + [readout]:
        population.record(["spikes", "v"])
    PLASTIC.append(plastic)
    return maps + [readout], 400.0


PLASTIC: list[Any] = []   # the projection whose weights a case compares


BUILDERS: dict[str, Callable[[ModuleType], tuple[list[Any], float]]] = {
    "curr_dc": lambda sim: case_dc(sim, False), "cond_dc": lambda sim: case_dc(sim, True),
    "curr_spikes": lambda sim: case_spikes(sim, False),
    "cond_spikes": lambda sim: case_spikes(sim, True), "network": case_network, "plastic": case_plastic,
    "convolution": case_convolution,
}


# --- worker: one side, one precision ---------------------------------------------------------------
def import_side(side: str) -> tuple[ModuleType, dict[str, Any]]:
    """Import the simulator for a side spec ('cupy:gpu', 'cupy:cpu', 'cupy:auto' or 'nest')."""
    if side == "nest":
        import pyNN.nest as sim
        return sim, {"threads": 1}
    backend, _, device = side.partition(":")
    if backend != "cupy" or device not in ("gpu", "cpu", "auto"):
        raise ValueError(f"bad side {side!r}")
    import pyNN.cupy as sim
    return sim, {"device": device}


def run_case(sim: ModuleType, extra: dict[str, Any], case: str) -> dict[str, np.ndarray | float]:
    """Build and run one case; return its spikes (times, neuron index) and v traces."""
    sim.setup(timestep=DT, min_delay=0.1, max_delay=10.0, rng_seed=SEED, **extra)
    pops, t_stop = BUILDERS[case](sim)
    t0 = time.perf_counter()
    sim.run(t_stop)
    wall = time.perf_counter() - t0
    times, index, vs = [], [], []
    offset = 0
    for pop in pops:
        seg = pop.get_data(clear=False).segments[0]
        for i, st in enumerate(seg.spiketrains):
            times.append(np.asarray(st.magnitude, dtype=np.float64))
            index.append(np.full(len(st), offset + i))
        offset += pop.size
        vs += [np.asarray(sig.magnitude, dtype=np.float64) for sig in seg.filter(name="v")]
    weights = np.array(PLASTIC.pop().get("weight", format="list", with_address=False), dtype=float) \
        if PLASTIC else np.zeros(0)
    sim.end()
    return {"spike_times": np.concatenate(times), "spike_index": np.concatenate(index),
            "n_cells": np.array(offset), "v": np.hstack(vs) if vs else np.zeros((0, 0)),
            "t_stop": np.array(t_stop), "wall_s": np.array(wall), "weights": weights}


def worker(side: str, precision: str, cases: list[str], out: str) -> None:
    """Run all cases for one side/precision and save them to ``out`` (npz)."""
    sim, extra = import_side(side)
    if side != "nest":
        extra["precision"] = precision
    arrays: dict[str, np.ndarray] = {}
    for case in cases:
        try:
            for key, val in run_case(sim, extra, case).items():
                arrays[f"{case}/{key}"] = np.asarray(val)
        except Exception:  # keep going: one broken case must not hide the others
            arrays[f"{case}/error"] = np.array(traceback.format_exc())
            print(arrays[f"{case}/error"], file=sys.stderr)
    np.savez(out, **arrays)


# --- comparison ------------------------------------------------------------------------------------
def _trains(d: dict[str, np.ndarray], case: str) -> list[np.ndarray]:
    t, i, n = d[f"{case}/spike_times"], d[f"{case}/spike_index"], int(d[f"{case}/n_cells"])
    return [np.sort(t[i == k]) for k in range(n)]


def compare_case(a: dict[str, np.ndarray], b: dict[str, np.ndarray], case: str,
                 precision: str) -> dict[str, Any]:
    """Compare one case between sides A and B; return the figures and a pass flag."""
    for name, d in (("A", a), ("B", b)):
        if f"{case}/error" in d:
            return {"case": case, "precision": precision, "passed": False,
                    "error": f"side {name}: " + str(d[f'{case}/error']).strip().splitlines()[-1]}
    ta, tb = _trains(a, case), _trains(b, case)
    na, nb = sum(len(x) for x in ta), sum(len(x) for x in tb)
    same_len = all(len(x) == len(y) for x, y in zip(ta, tb))
    max_dt = max((float(np.max(np.abs(x - y))) for x, y in zip(ta, tb) if len(x)), default=0.0) \
        if same_len else None
    first_diff = None
    for x, y in zip(ta, tb):
        m = min(len(x), len(y))
        neq = np.flatnonzero(np.abs(x[:m] - y[:m]) > 1e-9)
        k = neq[0] if len(neq) else m
        cand = [float(z[k]) for z in (x, y) if len(z) > k] + ([first_diff] if first_diff is not None else [])
        first_diff = min(cand) if cand else None
    identical = first_diff is None
    rate_rel = abs(na - nb) / max((na + nb) / 2, 1)
    va, vb = a[f"{case}/v"], b[f"{case}/v"]
    dv = float(np.max(np.abs(va - vb))) if va.shape == vb.shape and va.size else None
    wa, wb = a.get(f"{case}/weights", np.zeros(0)), b.get(f"{case}/weights", np.zeros(0))
    dw = float(np.max(np.abs(wa - wb))) if wa.shape == wb.shape and wa.size else None
    if case == "network" or (case in ("plastic", "convolution") and precision == "float32"):
        passed = rate_rel <= 0.03
    elif precision == "float64":
        passed = identical and dv is not None and dv <= 1e-6 and (not wa.size or (dw is not None and dw <= 1e-9))
    else:
        passed = na == nb and same_len and (max_dt or 0.0) <= DT + 1e-6
    n = int(a[f"{case}/n_cells"])
    t_s = float(a[f"{case}/t_stop"]) / 1000.0
    return {"case": case, "precision": precision, "spikes_a": na, "spikes_b": nb,
            "rate_a_hz": na / n / t_s, "rate_b_hz": nb / n / t_s, "rate_rel_diff": rate_rel,
            "identical_spikes": identical, "max_spike_dt_ms": max_dt,
            "first_difference_ms": None if first_diff is None else float(first_diff),
            "max_abs_dv_mV": dv, "max_abs_dw": dw, "v_shape_a": list(va.shape), "v_shape_b": list(vb.shape),
            "wall_a_s": float(a[f"{case}/wall_s"]), "wall_b_s": float(b[f"{case}/wall_s"]),
            "passed": bool(passed)}


def run_side(side: str, precision: str, cases: list[str], tmp: str,
             timeout: float | None) -> dict[str, np.ndarray]:
    """Run ``worker`` in a subprocess; return its arrays (an error entry per case on failure)."""
    if timeout is not None and timeout < 1:
        return {f"{c}/error": np.array(f"worker {side} {precision} skipped: time budget spent") for c in cases}
    out = os.path.join(tmp, f"{side.replace(':', '_')}_{precision}_{len(os.listdir(tmp))}.npz")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", side, "--precisions", precision,
           "--cases", ",".join(cases), "--json", out]
    try:
        rc: int | str = subprocess.run(cmd, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    if rc == 0 and os.path.exists(out):
        with np.load(out) as f:
            return dict(f)
    return {f"{c}/error": np.array(f"worker {side} {precision} failed (rc={rc})") for c in cases}


def _fmt(x: Any, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns 0 when every comparison passed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sides", default="cupy:gpu,cupy:cpu", help="two side specs, A,B")
    ap.add_argument("--self-test", action="store_true", help="both sides cupy:cpu (no GPU needed)")
    ap.add_argument("--precisions", default="float64,float32")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--timeout", type=float, default=None, help="seconds per side subprocess")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for all sides together; sides past it are reported as errors")
    ap.add_argument("--json", metavar="PATH", help="write the comparison to this JSON file")
    ap.add_argument("--worker", metavar="SIDE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    if args.worker:
        worker(args.worker, args.precisions, cases, args.json)
        return 0
    side_a, side_b = ("cupy:cpu", "cupy:cpu") if args.self_test else args.sides.split(",")
    rows = []
    deadline = time.monotonic() + (args.budget if args.budget is not None else float("inf"))

    def limit() -> float | None:
        left = min(deadline - time.monotonic() - 2.0, args.timeout or float("inf"))
        return None if left == float("inf") else left

    with tempfile.TemporaryDirectory() as tmp:
        for prec in args.precisions.split(","):
            a = run_side(side_a, prec, cases, tmp, limit())
            b = run_side(side_b, prec, cases, tmp, limit())
            rows += [compare_case(a, b, c, prec) for c in cases]
    print(f"\nA = {side_a}, B = {side_b}")
    print(f"{'case':12s} {'prec':7s} {'spikes A/B':>13s} {'ident':>5s} {'max dt':>7s} "
          f"{'1st diff':>8s} {'rate diff':>9s} {'max|dv|':>9s}  result")
    for r in rows:
        if "error" in r:
            print(f"{r['case']:12s} {r['precision']:7s} ERROR {r['error']}")
            continue
        print(f"{r['case']:12s} {r['precision']:7s} {r['spikes_a']:>6d}/{r['spikes_b']:<6d} "
              f"{'yes' if r['identical_spikes'] else 'no':>5s} {_fmt(r['max_spike_dt_ms'], '7.3g')} "
              f"{_fmt(r['first_difference_ms'], '8.1f')} {r['rate_rel_diff']:9.2%} "
              f"{_fmt(r['max_abs_dv_mV'], '9.2e')}  {'PASS' if r['passed'] else 'FAIL'}")
    ok = all(r["passed"] for r in rows)
    print(f"{sum(r['passed'] for r in rows)}/{len(rows)} comparisons passed")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"side_a": side_a, "side_b": side_b, "self_test": args.self_test,
                       "all_passed": ok, "comparisons": rows}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
