"""Fuzzing: random small networks (tests/unit/fuzz_networks.py) from a fixed list of seeds, each checked for

  split   one run of T ms == the same network run as several pieces (run / run_until / run(0)) summing to T;
  reset   after reset() a second trial: without Poisson sources it equals a fresh setup()+build+run; with
          Poisson sources its Poisson spikes differ from the first trial (fresh noise per trial) and a fresh
          setup(rng_seed=same)+build+run reproduces the first trial;
  grid    the CPU twin walking the GPU's launch grid (PYNN_CUPY_TWIN_GRID=gpu) == the default chunked twin;
  lost    nothing lost: every SpikeSourceArray time is emitted (at the first grid point at or after it, as
          NEST's Time::ms_stamp, compared in double), Poisson spikes lie in
          (start, start + duration], every spike reaches its targets (the conductance jumps of the oracle
          populations equal the weights of the spikes that arrived), recorded samples are all there;
  connections  the connectors' whole-array builders (pynn_cupy/connect.py) give PyNN's own connections.

Every simulation here runs with pyNN.cupy's SimulationWarning as an error and fails on any other warning
raised from pyNN.cupy's code. float64 everywhere; comparisons are exact unless said otherwise.

A failing seed replays: `python tests/unit/fuzz_networks.py SEED` prints its network. FUZZ_SEEDS=a,b,c
(environment) runs other seeds; FUZZ_QUICK=1 runs the first five only.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import pyNN.cupy as sim
from pynn_cupy import exceptions as errors, projections
from pynn_cupy.runtime import twin

import fuzz_networks as fuzz

SEEDS = [32, 136, 237, 285, 402, 476, 516, 519, 627, 689, 915, 990, 1130, 1202, 1252, 1255, 1309, 1329, 1387, 1406,
         1434, 1461]
if os.environ.get("FUZZ_SEEDS"):
    SEEDS = [int(s) for s in os.environ["FUZZ_SEEDS"].split(",")]
elif os.environ.get("FUZZ_QUICK"):
    SEEDS = SEEDS[:5]


# -- running and collecting ----------------------------------------------------------------------------------
class _Warnings:
    """SimulationWarning raises where it is emitted; any other warning of a pyNN.cupy category or from
    pyNN.cupy's code fails the test (the networks drawn make PyNN itself warn of nothing either)."""

    def __enter__(self):
        self._context = warnings.catch_warnings(record=True)
        self.caught = self._context.__enter__()
        warnings.simplefilter("always")
        warnings.simplefilter("error", errors.SimulationWarning)
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        ours = [w for w in self.caught if w.category.__module__.startswith("pynn_cupy")
                or "pynn_cupy" in str(w.filename) or "pyNN/cupy" in str(w.filename)]
        if exc[0] is None:
            assert not ours, "pyNN.cupy warned: %s" % [str(w.message) for w in ours]
        return False


def collect(network, trials: int = 1) -> list:
    """Recorded data of every population, one dict per trial: (label, 'spikes') -> list of spike-time arrays
    (one per cell, in population order); (label, variable) -> (sample times, recorded cell indices, values
    [samples x cells])."""
    data = [{} for _ in range(trials)]
    for label, pop in network.populations.items():
        block = pop.get_data(clear=False)
        assert len(block.segments) == trials, "%s: %d segments after %d trials" % (label, len(block.segments), trials)
        for seg, out in zip(block.segments, data):
            trains = [np.zeros(0)] * pop.size
            for train in seg.spiketrains:
                trains[int(train.annotations["source_index"])] = np.asarray(train.magnitude, dtype=float)
            out[(label, "spikes")] = trains
            for signal in seg.analogsignals:
                times = np.asarray(signal.times.rescale("ms").magnitude, dtype=float)
                channels = np.asarray(signal.array_annotations["channel_index"])
                out[(label, signal.name)] = (times, channels, np.asarray(signal.magnitude, dtype=float))
        counts = pop.get_spike_counts()   # of the current (last) segment
        from_data = {int(cell): len(train) for cell, train in zip(pop.all_cells, data[-1][(label, "spikes")])}
        assert {int(k): int(v) for k, v in counts.items()} == from_data, \
            "%s: get_spike_counts() %s disagrees with get_data() %s" % (label, counts, from_data)
    return data


def simulate(seed: int, trials=("whole",), **setup_options):
    """Fresh setup + build, then one run of T per entry of `trials` (reset() in between): "whole" runs
    run(T); "pieces" runs the seed's pieces; "actions+whole" makes the seed's no-op changes, then run(T);
    "pieces+actions" runs the pieces with the changes between them."""
    with _Warnings():
        spec = fuzz.setup(sim, seed, **setup_options)
        network = fuzz.build(sim, seed)
        for k, trial in enumerate(trials):
            if k:
                sim.reset()
            if trial == "actions+whole":
                for _, action in spec["actions"]:
                    if action["kind"] != "read":
                        fuzz.apply_action(sim, network, action)
            if trial.startswith("pieces"):
                fuzz.run_pieces(sim, spec, network if trial == "pieces+actions" else None)
            else:
                sim.run(spec["t_stop"])
            assert abs(sim.get_current_time() - spec["t_stop"]) < 1e-9
        results = collect(network, len(trials))
        sim.end()
    return spec, network, results


def assert_same(a: dict, b: dict, what: str, v_tolerance: float = 0.0, only=None) -> None:
    assert sorted(a) == sorted(b), "%s: different recordings %s vs %s" % (what, sorted(a), sorted(b))
    for key in sorted(a):
        if only is not None and not only(key):
            continue
        if key[1] == "spikes":
            for cell, (x, y) in enumerate(zip(a[key], b[key])):
                np.testing.assert_array_equal(x, y, err_msg="%s: spikes of %s cell %d" % (what, key[0], cell))
        else:
            (ta, ca, va), (tb, cb, vb) = a[key], b[key]
            np.testing.assert_array_equal(ca, cb, err_msg="%s: recorded cells of %s" % (what, key))
            np.testing.assert_array_equal(ta, tb, err_msg="%s: sample times of %s" % (what, key))
            if v_tolerance:
                np.testing.assert_allclose(va, vb, rtol=0, atol=v_tolerance, err_msg="%s: %s" % (what, key))
            else:
                np.testing.assert_array_equal(va, vb, err_msg="%s: %s" % (what, key))


_BASELINE = {}


def baseline(seed: int):
    """(spec, data, what the `lost` check finds) of a fresh setup+build+run(T), computed once per seed."""
    if seed not in _BASELINE:
        spec, network, (data,) = simulate(seed)
        _BASELINE[seed] = spec, data, lost(spec, network, data)
    return _BASELINE[seed]


# -- the checks ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_split_runs_equal_one_run(seed):
    spec, _, (whole,) = simulate(seed, ["actions+whole"])
    _, _, (split,) = simulate(seed, ["pieces+actions"])
    assert_same(whole, split, "seed %d: run(%g) vs pieces %s with no-op changes %s"
                % (seed, spec["t_stop"], spec["pieces"], spec["actions"]))


@pytest.mark.parametrize("seed", SEEDS)
def test_reset_gives_a_fresh_trial(seed):
    spec, network, (first, second) = simulate(seed, ["whole", "pieces"])
    _, fresh, _ = baseline(seed)
    problems = lost(spec, network, second)
    assert not problems, "seed %d, the trial after reset():\n  " % seed + "\n  ".join(problems[:20])
    assert_same(first, fresh, "seed %d: first trial vs a fresh setup(rng_seed=same)+build+run" % seed)
    if not fuzz.has_poisson(spec):
        assert_same(second, fresh, "seed %d: the trial after reset() vs a fresh setup()+build+run" % seed)
        return
    for entry in spec["populations"]:   # without noise of their own, spike arrays repeat in every trial
        if entry["celltype"] == "SpikeSourceArray":
            key = (entry["label"], "spikes")
            assert_same({key: second[key]}, {key: fresh[key]}, "seed %d: spike array after reset()" % seed)
    for entry in spec["populations"]:
        if entry["celltype"] != "SpikeSourcePoisson":
            continue
        key = (entry["label"], "spikes")
        count = sum(len(t) for t in first[key])
        if count < 5:
            continue
        same = all(np.array_equal(x, y) for x, y in zip(first[key], second[key]))
        assert not same, ("seed %d: Poisson source %s repeats the same %d spikes after reset() (expected fresh "
                          "noise in every trial: the trial number should enter the Philox counter)"
                          % (seed, entry["label"], count))


@pytest.mark.parametrize("seed", SEEDS)
def test_twin_gpu_grid_equals_chunked(seed, monkeypatch):
    _, chunked, _ = baseline(seed)
    monkeypatch.setenv("PYNN_CUPY_TWIN_GRID", "gpu")
    monkeypatch.setattr(twin.TwinBackend, "lanes_per_row", 32)   # as on the GPU: a warp per spiking cell's row
    _, _, (grid,) = simulate(seed)
    assert_same(chunked, grid, "seed %d: twin chunked vs GPU grid" % seed, v_tolerance=1e-9)


def _connections(seed) -> list:
    with _Warnings():
        fuzz.setup(sim, seed)
        network = fuzz.build(sim, seed)
        return [sorted(projection.get(["weight", "delay"], format="list", with_address=True))
                for projection in network.projections]


@pytest.mark.parametrize("seed", SEEDS)
def test_connections_equal_pynn_generic_path(seed, monkeypatch):
    """pyNN.cupy builds the common connectors as whole arrays, promising PyNN's connections for the same
    seeds (FixedTotalNumber: the same number, other draws): compare with PyNN's per-cell path."""
    arrays = _connections(seed)
    array_path = projections.connect.connect
    # PyNN's path itself fails for a single presynaptic cell (numpy 0-d masks in Connector.connect_with_map)
    monkeypatch.setattr(projections.connect, "connect", lambda projection, connector: (
        array_path(projection, connector) if projection.pre.size == 1 else None))
    generic = _connections(seed)
    spec = fuzz.draw(seed)
    for k, (entry, a, b) in enumerate(zip(spec["projections"], arrays, generic)):
        connector = {key: value for key, value in entry["connector"].items() if key != "list"}
        what = "seed %d projection %d (%s, %s -> %s, weight %s, delay %s)" % (
            seed, k, connector, entry["pre"], entry["post"], entry["weight"], entry["delay"])
        assert len(a) == len(b), "%s: %d connections, PyNN's path makes %d" % (what, len(a), len(b))
        if entry["connector"]["type"] != "FixedTotalNumber":
            assert a == b, "%s: connections differ from PyNN's path, e.g. %s vs %s" % (
                what, [x for x in a if x not in b][:3], [x for x in b if x not in a][:3])


@pytest.mark.parametrize("seed", SEEDS)
def test_nothing_lost(seed):
    _, _, problems = baseline(seed)
    assert not problems, "seed %d:\n  " % seed + "\n  ".join(problems[:20])


def lost(spec, network, data) -> list:
    """What the `lost` check finds wrong with the recorded data of one trial."""
    dt, t_stop = spec["dt"], spec["t_stop"]
    n_steps = int(round(t_stop / dt))
    problems = []
    for entry in spec["populations"]:
        label = entry["label"]
        trains = data[(label, "spikes")]
        for cell, train in enumerate(trains):
            steps = train / dt
            if not np.allclose(steps, np.round(steps), rtol=0, atol=1e-6) or (train.size and (
                    train.min() < dt - 1e-9 or train.max() > t_stop + 1e-9)):
                problems.append("%s cell %d: spike times off the grid or outside (0, T]: %s" % (label, cell, train))
        if entry["celltype"] == "SpikeSourceArray":
            for cell, (given, got) in enumerate(zip(entry["parameters"]["spike_times"], trains)):
                expected = np.asarray([fuzz.stamp_steps(t, dt) for t in given]) * dt
                expected = np.round(expected[expected <= t_stop + 1e-9], 9)
                if not np.array_equal(expected, np.round(np.sort(got), 9)):
                    problems.append("%s cell %d: spike_times %s should be emitted at %s, recorded %s"
                                    % (label, cell, given, expected.tolist(), got.tolist()))
        elif entry["celltype"] == "SpikeSourcePoisson":
            start, stop = entry["parameters"]["start"], entry["parameters"]["start"] + entry["parameters"]["duration"]
            for cell, train in enumerate(trains):
                if train.size and (train.min() <= start + 1e-9 or train.max() > stop + 1e-9):
                    problems.append("%s cell %d: Poisson spikes outside (start, start+duration] = (%g, %g]: %s"
                                    % (label, cell, start, stop, train))
            rates = np.broadcast_to(np.asarray(entry["parameters"]["rate"], dtype=float), (entry["size"],))
            mean = rates.sum() * max(0.0, min(stop, t_stop) - start) / 1000.0
            count = sum(train.size for train in trains)
            if abs(count - mean) > 5 * np.sqrt(mean) + 3:   # a gross error only (5 sigma)
                problems.append("%s: %d Poisson spikes, %.1f expected" % (label, count, mean))
        elif entry["celltype"].startswith("IF_"):
            tau_refrac = np.broadcast_to(np.asarray(entry["parameters"].get("tau_refrac", 0.1)), (entry["size"],))
            for cell, train in enumerate(trains):
                if train.size > 1 and np.diff(train).min() < max(dt, tau_refrac[cell]) - 1e-9:
                    problems.append("%s cell %d: interval %g ms shorter than the refractory period %g ms"
                                    % (label, cell, np.diff(train).min(), tau_refrac[cell]))
        signals = entry["record"].get("signals")
        if signals:
            interval = signals["interval_steps"]
            expected_times = np.arange(0, n_steps + 1, interval) * dt
            cells = np.arange(entry["size"]) if signals["cells"] is None else np.asarray(signals["cells"])
            for variable in signals["variables"]:
                times, channels, values = data[(label, variable)]
                if times.shape != expected_times.shape or not np.allclose(times, expected_times, atol=1e-9):
                    problems.append("%s %s: %d samples at %s..., expected %d at every %g ms from 0 to %g"
                                    % (label, variable, times.size, times[:3], expected_times.size,
                                       interval * dt, t_stop))
                if not np.array_equal(np.sort(channels), cells):
                    problems.append("%s %s: recorded cells %s, expected %s" % (label, variable, channels, cells))
                if not np.isfinite(values).all():
                    problems.append("%s %s: non-finite values" % (label, variable))
    return problems + _oracle_problems(spec, network, data)


def _oracle_problems(spec, network, data) -> list:
    """For each oracle population (conductances recorded at every step): the input that arrived in each step
    (IF_cond_exp: g[k] - g[k-1] exp(-dt/tau_syn); IF_cond_alpha: from the second difference) equals the
    summed weights of the presynaptic spikes that reach it then (a spike at t through delay d arrives in the
    step that ends at t + d)."""
    dt = spec["dt"]
    n_samples = int(round(spec["t_stop"] / dt)) + 1
    where = {}   # cell id -> (population label, index)
    for label, pop in network.populations.items():
        for k, cell in enumerate(pop.all_cells):
            where[int(cell)] = (label, k)
    oracles = {entry["label"]: entry for entry in spec["populations"] if entry.get("oracle")}
    expected = {(label, receptor): np.zeros((n_samples, entry["size"]))
                for label, entry in oracles.items() for receptor in ("excitatory", "inhibitory")}
    for projection in network.projections:
        connections = projection.get(["weight", "delay"], format="list", with_address=True)
        if not len(connections):
            continue
        table = np.asarray(connections, dtype=float)
        pre_ids = np.asarray(projection.pre.all_cells, dtype=int)[table[:, 0].astype(int)]
        post_ids = np.asarray(projection.post.all_cells, dtype=int)[table[:, 1].astype(int)]
        for pre_id, post_id, weight, delay in zip(pre_ids, post_ids, table[:, 2], table[:, 3]):
            post_label, post_index = where[int(post_id)]
            if post_label not in oracles:
                continue
            pre_label, pre_index = where[int(pre_id)]
            arrival = np.rint((data[(pre_label, "spikes")][pre_index] + delay) / dt).astype(int)
            arrival = arrival[arrival < n_samples]
            np.add.at(expected[(post_label, projection.receptor_type)][:, post_index], arrival, weight)
    problems = []
    for label, entry in oracles.items():
        pop = network.populations[label]
        for receptor, variable, tau in (("excitatory", "gsyn_exc", "tau_syn_E"), ("inhibitory", "gsyn_inh", "tau_syn_I")):
            times, channels, g = data[(label, variable)]
            if g.shape[0] != n_samples:
                continue   # reported by the sample check
            order = np.argsort(channels)
            g = g[:, order]
            tau_syn = np.broadcast_to(np.asarray(pop.get(tau), dtype=float), (pop.size,))
            a = np.exp(-dt / tau_syn)
            if entry["celltype"] == "IF_cond_exp":   # g[k] = a g[k-1] + input of step k
                arrived = np.vstack([g[:1], g[1:] - g[:-1] * a])
            else:   # alpha: g[k+1] = a (g[k] + dt dg[k]), dg[k] = a dg[k-1] + (e / tau) input of step k
                dg = (g[1:] - a * g[:-1]) / (a * dt)
                arrived = np.vstack([dg[:1], dg[1:] - a * dg[:-1]]) * tau_syn / np.e
                arrived = np.vstack([arrived, expected[(label, receptor)][-1:]])   # the last step: unknown
            want = expected[(label, receptor)]
            bad = np.abs(arrived - want) > 1e-9 + 1e-9 * np.abs(want)
            if bad.any():
                k, cell = np.argwhere(bad)[0]
                problems.append("%s %s cell %d: at t=%g ms input %.9g arrived, the recorded presynaptic spikes "
                                "and weights give %.9g (%d wrong samples)"
                                % (label, variable, cell, k * dt, arrived[k, cell], want[k, cell], bad.sum()))
    return problems
