"""Random small networks for the fuzz tests (tests/unit/test_fuzz.py).

`draw(seed)` turns a seed into a plain description of a network (a dict of numbers, lists and strings, drawn by
one `numpy.random.Generator`), `build(sim, seed)` creates it with PyNN calls, and `setup(sim, seed)` calls
`sim.setup` with the seed's time step, delays and rng_seed. The same seed always gives the same network, so a
failing seed replays; `python tests/unit/fuzz_networks.py SEED` prints its description.

Features drawn: IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha (random parameters, sometimes
heterogeneous, sometimes tau_syn == tau_m, sometimes initial v); SpikeSourceArray (on- and off-grid times,
on-grid times with float noise, repeated times, several spikes in one time step, times after the end);
SpikeSourcePoisson (rate, start, duration on the grid; sometimes several spikes per step, rate 0, a start
after the end); DCSource (start/stop on the grid); dt in {0.1, 0.25, 1.0, 0.025}; projections from and to
populations, views (slices with steps, index arrays, views of views) and assemblies (presynaptic ones mixing
cell kinds), through AllToAll, OneToOne, FixedProbability (p = 0 too), FixedNumberPre/Post (with and without
replacement), FixedTotalNumber and FromList, with and without self-connections, onto both receptors; weights
and delays as numbers, random distributions or functions of distance; delays on the grid (sometimes with float
noise, up to max_delay; random and distance-dependent ones rounded by the backend). A split of T into pieces
(run, run_until, run(0), times with float noise) and changes between them that must change nothing
(set a parameter / weight / delay to its value, read the data, add a projection of weight 0 with a long delay
or a DC source of amplitude 0). `features(spec)` names what a network exercises; SEEDS in test_fuzz.py were
picked to cover every feature at least three times at low cost.

Every population records its spikes (all cells). Every spike source drives a "probe" IF_cond_exp population
(OneToOne) whose conductances are recorded at every step, as are those of some other conductance-based
populations ("oracle" populations): from them the tests recover the input that arrived in each step and check
it against the recorded spikes of every presynaptic cell.
"""
from __future__ import annotations

import sys

import numpy as np

CELL_TYPES = ("IF_curr_exp", "IF_curr_alpha", "IF_cond_exp", "IF_cond_alpha")
TIMESTEPS = (0.1, 0.1, 0.1, 0.1, 0.25, 0.25, 1.0, 1.0, 0.025)
CONNECTORS = ("AllToAll", "OneToOne", "FixedProbability", "FixedNumberPre", "FixedNumberPost", "FromList",
              "FixedTotalNumber")


def _grid(rng, dt, low_steps, high_steps):
    """A time on the grid: dt * an integer in [low_steps, high_steps]."""
    return round(float(dt * rng.integers(low_steps, high_steps + 1)), 10)


def _cell_parameters(rng, celltype, n, dt):
    """Parameters within sane ranges; each one heterogeneous (a list of n values) with probability 0.2."""
    conductance = "cond" in celltype
    values = {
        "tau_m": rng.uniform(5.0, 30.0, n),
        "cm": rng.uniform(0.1, 1.0, n),
        "v_rest": rng.uniform(-70.0, -60.0, n),
        "v_reset": rng.uniform(-75.0, -60.0, n),
        "v_thresh": rng.uniform(-58.0, -45.0, n),
        "tau_refrac": rng.choice([0.0, dt, 2.0, 5.0]) + np.zeros(n) if rng.random() < 0.7
        else rng.uniform(0.0, 5.0, n),
        "i_offset": (rng.uniform(0.0, 1.5, n) if rng.random() < 0.6 else np.zeros(n)),
        "tau_syn_E": rng.uniform(0.5, 10.0, n),
        "tau_syn_I": rng.uniform(0.5, 10.0, n),
    }
    if conductance:
        values["e_rev_E"] = rng.uniform(-10.0, 10.0, n)
        values["e_rev_I"] = rng.uniform(-85.0, -70.0, n)
    if rng.random() < 0.15:   # the singular case of the exact propagators
        values["tau_syn_E" if rng.random() < 0.5 else "tau_syn_I"] = values["tau_m"].copy()
    parameters = {}
    for name, array in values.items():
        if n > 1 and rng.random() < 0.2:
            parameters[name] = [round(float(x), 6) for x in array]
        else:
            parameters[name] = round(float(array[0]), 6)
    if not isinstance(parameters["v_reset"], list) and not isinstance(parameters["v_thresh"], list):
        assert parameters["v_reset"] < parameters["v_thresh"]
    initial_v = None
    if rng.random() < 0.4:
        initial_v = [round(float(x), 6) for x in rng.uniform(-75.0, -58.0, n)]
    return parameters, initial_v


def _spike_times(rng, dt, t_stop):
    """One SpikeSourceArray cell's times: on the grid, off the grid, repeated, several in one step, after
    the end of the run. Always > 0."""
    n_steps = int(round(t_stop / dt))
    times = []
    for _ in range(int(rng.integers(0, 7))):
        kind = rng.random()
        step = int(rng.integers(1, n_steps + 1))
        if kind < 0.25:                                   # on the grid
            times.append(step * dt)
        elif kind < 0.35:                                 # on the grid, with float noise (as np.arange gives)
            times.append(float(np.arange(0.0, t_stop + dt, dt)[step]) if rng.random() < 0.5
                         else float(sum([dt] * step)))
        elif kind < 0.6:                                  # off the grid
            times.append((step - 1) * dt + dt * rng.uniform(0.05, 0.95))
        elif kind < 0.75:                                 # the same time twice (or three times)
            times += [step * dt] * int(rng.integers(2, 4))
        elif kind < 0.9:                                  # several off-grid times in one step
            times += list((step - 1) * dt + dt * np.sort(rng.uniform(0.05, 0.95, int(rng.integers(2, 4)))))
        else:                                             # after the end of the run
            times.append(t_stop + dt * int(rng.integers(1, 20)))
    return sorted(float(t) if abs(t / dt - round(t / dt)) < 1e-9 else round(float(t), 9) for t in times)


def _weight(rng, kind, receptor, random_ok=True):
    """(low, high) of positive weights; current-based inhibitory weights are negative (PyNN's check_weights)."""
    low, high = (0.001, 0.02) if kind == "cond" else (0.05, 1.5)
    sign = -1.0 if (kind == "curr" and receptor == "inhibitory") else 1.0
    if random_ok and rng.random() < 0.35:
        return {"distribution": "uniform", "low": low * sign if sign > 0 else high * sign,
                "high": high * sign if sign > 0 else low * sign, "seed": int(rng.integers(1, 10 ** 6))}
    return round(float(sign * rng.uniform(low, high)), 6)


def _delay(rng, dt, random_ok=True):
    max_steps = max(1, min(40, int(round(8.0 / dt))) if rng.random() < 0.9 else int(round(10.0 / dt)))
    if random_ok and rng.random() < 0.15:   # off the grid: the backend rounds to the grid
        return {"distribution": "uniform", "low": dt, "high": max_steps * dt, "seed": int(rng.integers(1, 10 ** 6))}
    steps = int(rng.integers(1, max_steps + 1))
    return float(dt * steps) if rng.random() < 0.2 else round(float(dt * steps), 10)   # sometimes with float noise


def draw(seed: int) -> dict:
    """The description of the network of `seed`: only numbers, strings, lists and dicts."""
    rng = np.random.default_rng(seed)
    dt = float(rng.choice(TIMESTEPS))
    t_stop = _grid(rng, dt, int(50 / dt), int((100 if dt < 0.1 else 200) / dt))
    n_steps = int(round(t_stop / dt))
    spec = {"seed": seed, "dt": dt, "t_stop": t_stop, "min_delay": "auto" if rng.random() < 0.5 else dt,
            "rng_seed": int(rng.integers(1, 2 ** 31)), "populations": [], "projections": [], "dc_sources": []}
    pops = spec["populations"]

    def add_population(**entry):
        entry["label"] = "p%d_%s" % (len(pops), entry["celltype"])
        pops.append(entry)
        return entry

    for _ in range(int(rng.integers(1, 5))):
        celltype = str(rng.choice(CELL_TYPES))
        size = int(rng.choice([1, 2, 3, 5, 8, 13, 20, 40]))
        parameters, initial_v = _cell_parameters(rng, celltype, size, dt)
        add_population(celltype=celltype, size=size, parameters=parameters, initial_v=initial_v)
    n_arrays, n_poisson = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    if n_arrays + n_poisson == 0:
        n_arrays = 1
    for _ in range(n_arrays):
        size = int(rng.choice([1, 1, 2, 3, 5, 10]))
        trains = [_spike_times(rng, dt, t_stop) for _ in range(size)]
        if size > 1 and rng.random() < 0.3:
            trains = [trains[0]] * size     # homogeneous: one Sequence for all cells
        add_population(celltype="SpikeSourceArray", size=size, parameters={"spike_times": trains})
    for _ in range(n_poisson):
        size = int(rng.choice([1, 2, 5, 10, 20]))
        start = _grid(rng, dt, 0, n_steps // 2)
        duration = _grid(rng, dt, max(1, n_steps // 4), n_steps)
        high = 2000.0 if rng.random() < 0.15 else 300.0    # sometimes several spikes per step
        rate = [round(float(r), 3) for r in rng.uniform(20.0, high, size)] if rng.random() < 0.3 \
            else round(float(rng.uniform(20.0, high)), 3)
        if isinstance(rate, list) and rng.random() < 0.3:
            rate[int(rng.integers(size))] = 0.0
        if rng.random() < 0.05:
            start = t_stop + dt * int(rng.integers(0, 5))    # starts at or after the end
        add_population(celltype="SpikeSourcePoisson", size=size,
                       parameters={"rate": rate, "start": start, "duration": duration})
    neurons = [p for p in pops if p["celltype"].startswith("IF_")]
    sources = [p for p in pops if p["celltype"].startswith("SpikeSource")]

    # Probes: every source drives an IF_cond_exp population one to one (an oracle, see the module doc).
    for source in sources:
        probe = add_population(celltype="IF_cond_exp", size=source["size"], initial_v=None, probe=True,
                               parameters={"v_thresh": 50.0, "tau_syn_E": round(float(rng.uniform(1, 8)), 4),
                                           "tau_syn_I": round(float(rng.uniform(1, 8)), 4)})
        receptor = "excitatory" if rng.random() < 0.5 else "inhibitory"
        spec["projections"].append({"pre": {"pop": source["label"], "select": []},
                                    "post": {"pop": probe["label"], "select": []},
                                    "connector": {"type": "OneToOne"}, "receptor": receptor,
                                    "weight": _weight(rng, "cond", receptor, random_ok=False),
                                    "delay": _delay(rng, dt, random_ok=False)})

    def selection(size):
        """A selection of a population or view of `size` cells: a slice (with a step) or an index array
        (sorted or not)."""
        if rng.random() < 0.5:
            step = int(rng.choice([1, 1, 2, 3]))
            start = int(rng.integers(0, size))
            stop = int(rng.integers(start + 1, size + 1))
            return {"slice": [start, stop, step]}
        k = int(rng.integers(1, size + 1))
        index = [int(i) for i in rng.choice(size, k, replace=False)]
        return {"index": sorted(index) if rng.random() < 0.7 else index}

    def view_or_population(candidates):
        pop = candidates[int(rng.integers(len(candidates)))]
        cells = {"pop": pop["label"], "select": []}
        while _size(spec, cells) > 1 and rng.random() < (0.25 if not cells["select"] else 0.3):
            cells["select"].append(selection(_size(spec, cells)))   # a view, sometimes a view of a view
        return cells

    def cells(candidates, allow_assembly=True, same_kind=True):
        """A Population, a view or an assembly of two of those (of the same synapse kind if `same_kind`)."""
        first = view_or_population(candidates)
        if allow_assembly and rng.random() < 0.2:
            kind = _kind(_population(spec, first["pop"]))
            others = [p for p in candidates if p["label"] != first["pop"] and (not same_kind or _kind(p) == kind)]
            if others:
                return {"assembly": [first, view_or_population(others)]}
        return first

    def synapse_value(kind, receptor, what):
        """A weight or delay: a number, a random distribution or a function of distance."""
        if rng.random() < 0.1:
            if what == "delay":
                return {"expression": "%r + %r * d" % (dt, round(float(rng.uniform(0.01, 0.1)), 4))}
            low, slope = (0.001, 0.0002) if kind == "cond" else (0.1, 0.02)
            sign = "-" if (kind == "curr" and receptor == "inhibitory") else ""
            return {"expression": "%s(%r + %r * d)" % (sign, low, round(float(rng.uniform(0, slope)), 6))}
        return _weight(rng, kind, receptor) if what == "weight" else _delay(rng, dt)

    if neurons:
        for _ in range(int(rng.integers(1, 7))):
            connector_type = str(rng.choice(CONNECTORS))
            one_to_one = connector_type == "OneToOne"
            pre = cells(pops if rng.random() < 0.7 else sources or pops, allow_assembly=not one_to_one,
                        same_kind=False)
            post = cells(neurons, allow_assembly=not one_to_one)
            pre_size, post_size = _size(spec, pre), _size(spec, post)
            if one_to_one and pre_size != post_size:      # OneToOne: the first cells of both sides
                m = min(pre_size, post_size)
                pre, post = [dict(c, select=c["select"] + [{"slice": [0, m, 1]}]) for c in (pre, post)]
                pre_size = post_size = m
            receptor = "excitatory" if rng.random() < 0.6 else "inhibitory"
            kind = _kind(_population(spec, post["pop"] if "pop" in post else post["assembly"][0]["pop"]))
            connector = {"type": connector_type, "seed": int(rng.integers(1, 10 ** 6))}
            if connector_type in ("AllToAll", "FixedProbability", "FixedNumberPre", "FixedNumberPost",
                                  "FixedTotalNumber"):
                connector["allow_self_connections"] = bool(rng.random() < 0.7)
            if connector_type == "FixedProbability":
                connector["p"] = round(float(rng.uniform(0.05, 0.8)), 4) if rng.random() < 0.9 else 0.0
            elif connector_type == "FixedNumberPre":
                connector["n"] = int(rng.integers(1, pre_size + 1))
                connector["with_replacement"] = bool(rng.random() < 0.4)
            elif connector_type == "FixedNumberPost":
                connector["n"] = int(rng.integers(1, post_size + 1))
                connector["with_replacement"] = bool(rng.random() < 0.4)
            elif connector_type == "FixedTotalNumber":
                connector["n"] = int(rng.integers(0, 2 * pre_size * post_size + 1))
            elif connector_type == "FromList":
                m = int(rng.integers(1, 3 * max(pre_size, post_size) + 1))
                connector["list"] = [[int(rng.integers(pre_size)), int(rng.integers(post_size)),
                                      _weight(rng, kind, receptor, random_ok=False),
                                      _delay(rng, dt, random_ok=False)] for _ in range(m)]
            choice = pre_size if connector_type in ("FixedNumberPre", "FixedTotalNumber") else post_size
            if connector.get("allow_self_connections") is False and (choice <= 1 or (
                    connector_type.startswith("FixedNumber") and (connector["with_replacement"]
                                                                  or connector["n"] >= choice))):
                # No partners, or not n distinct ones, may exist without self-connections; and PyNN 0.13's
                # FixedNumberPost with replacement and without self-connections (pyNN.cupy takes PyNN's path
                # there) loops forever on a 1-cell population onto itself and raises IndexError in
                # _rng_uniform_int_exclude when a redraw hits the cell again (seed 1368 before this rule).
                connector["allow_self_connections"] = True
            weight, delay = synapse_value(kind, receptor, "weight"), synapse_value(kind, receptor, "delay")
            if "assembly" in pre:   # PyNN 0.13 cannot compute distances from an Assembly (space.py asserts)
                if isinstance(weight, dict) and "expression" in weight:
                    weight = _weight(rng, kind, receptor)
                if isinstance(delay, dict) and "expression" in delay:
                    delay = _delay(rng, dt)
            spec["projections"].append({"pre": pre, "post": post, "connector": connector, "receptor": receptor,
                                        "weight": weight, "delay": delay})
        for _ in range(int(rng.integers(0, 3))):
            start = _grid(rng, dt, 0, n_steps - 1)
            spec["dc_sources"].append({"amplitude": round(float(rng.uniform(-0.5, 1.5)), 4), "start": start,
                                       "stop": _grid(rng, dt, int(round(start / dt)) + 1, n_steps + 10),
                                       "target": cells(neurons, same_kind=False)})

    # Recording: spikes of every cell; v (and gsyn) of some cells, sometimes every k-th step.
    for pop in pops:
        pop["record"] = {"spikes": None}
        if pop["celltype"].startswith("SpikeSource"):
            continue
        signals = ["v"] + (["gsyn_exc", "gsyn_inh"] if "cond" in pop["celltype"] else [])
        if pop.get("probe") or ("cond" in pop["celltype"] and rng.random() < 0.5):
            pop["oracle"] = True
            pop["record"]["signals"] = {"variables": signals, "cells": None, "interval_steps": 1}
        elif rng.random() < 0.8:
            chosen = None
            if pop["size"] > 1 and rng.random() < 0.5:
                k = int(rng.integers(1, pop["size"] + 1))
                chosen = sorted(int(i) for i in rng.choice(pop["size"], k, replace=False))
            variables = signals if rng.random() < 0.7 else [str(rng.choice(signals))]
            pop["record"]["signals"] = {"variables": variables, "cells": chosen,
                                        "interval_steps": int(rng.choice([1, 1, 2, 3, 5]))}

    # A split of the run into pieces on the grid (for the "one run == several runs" check), and changes
    # that change nothing, made between pieces of the split run (before the run otherwise).
    cuts = sorted(set(int(c) for c in rng.integers(1, n_steps, int(rng.integers(1, 6)))))
    pieces, previous = [], 0
    for c in cuts + [n_steps]:
        how = "run_until" if rng.random() < 0.3 else "run"
        value = (c if how == "run_until" else c - previous) * dt
        pieces.append([how, value if rng.random() < 0.3 else round(value, 10)])   # sometimes with float noise
        if rng.random() < 0.1:
            pieces.append(["run", 0.0])
        previous = c
    spec["pieces"] = pieces
    spec["actions"] = []
    for _ in range(int(rng.integers(0, 4))):
        action = _no_op_action(rng, spec, dt)
        if action is not None:   # (reading data needs a run first: PyNN's get_data raises before one)
            first = 0 if action["kind"] in ("set_parameter", "set_synapse") else 1   # mid-run, mostly
            if first < len(pieces):
                spec["actions"].append([int(rng.integers(first, len(pieces))), action])
    return spec


def _no_op_action(rng, spec, dt):
    """A change between runs that must not change the results: set a parameter, weight or delay to its
    value, read the data, add a projection of weight 0 (mostly with the longest delay, 10 ms: a larger delay
    ring, rebuilt mid-run with the input in flight) or a DC source of amplitude 0."""
    pops = spec["populations"]
    neurons = [p for p in pops if p["celltype"].startswith("IF_")]
    kind = str(rng.choice(["set_parameter", "set_synapse", "read", "zero_projection", "zero_dc"]))
    if kind == "set_parameter":
        pop = pops[int(rng.integers(len(pops)))]
        names = {"SpikeSourceArray": ["spike_times"], "SpikeSourcePoisson": ["rate", "start", "duration"]}.get(
            pop["celltype"], ["tau_m", "cm", "v_thresh", "i_offset", "tau_syn_E", "tau_refrac"])
        return {"kind": kind, "pop": pop["label"], "name": str(rng.choice(names))}
    if kind == "set_synapse":
        scalar = [k for k, p in enumerate(spec["projections"])
                  if p["connector"]["type"] != "FromList" and not isinstance(p["weight"], dict)
                  and not isinstance(p["delay"], dict)]
        if not scalar:
            return None
        return {"kind": kind, "projection": int(rng.choice(scalar)), "name": str(rng.choice(["weight", "delay"]))}
    if kind == "read":
        return {"kind": kind, "pop": pops[int(rng.integers(len(pops)))]["label"]}
    if not neurons:
        return None
    post = neurons[int(rng.integers(len(neurons)))]
    if kind == "zero_projection":
        pre = pops[int(rng.integers(len(pops)))]
        return {"kind": kind, "pre": pre["label"], "post": post["label"],
                "receptor": "excitatory" if rng.random() < 0.5 else "inhibitory",
                "delay": 10.0 if rng.random() < 0.7 else round(float(dt * rng.integers(1, int(round(10.0 / dt)) + 1)), 10)}
    n_steps = int(round(spec["t_stop"] / dt))
    start = _grid(rng, dt, 0, n_steps)
    return {"kind": kind, "post": post["label"], "start": start, "stop": _grid(rng, dt, int(round(start / dt)), n_steps)}


def apply_action(sim, network, action: dict) -> None:
    kind = action["kind"]
    if kind == "set_parameter":
        pop = network.populations[action["pop"]]
        pop.set(**{action["name"]: pop.get(action["name"])})
    elif kind == "set_synapse":
        entry = network.spec["projections"][action["projection"]]
        network.projections[action["projection"]].set(**{action["name"]: entry[action["name"]]})
    elif kind == "read":
        pop = network.populations[action["pop"]]
        pop.get_data(clear=False)
        pop.get_spike_counts()
    elif kind == "zero_projection":
        network.projections.append(sim.Projection(
            network.populations[action["pre"]], network.populations[action["post"]], sim.AllToAllConnector(),
            sim.StaticSynapse(weight=0.0, delay=action["delay"]), receptor_type=action["receptor"]))
    elif kind == "zero_dc":
        source = sim.DCSource(amplitude=0.0, start=action["start"], stop=action["stop"])
        source.inject_into(network.populations[action["post"]])


def _kind(pop: dict) -> str:
    celltype = pop["celltype"]
    return "cond" if "cond" in celltype else "curr" if "curr" in celltype else "source"


def _population(spec: dict, label: str) -> dict:
    return next(p for p in spec["populations"] if p["label"] == label)


def _size(spec: dict, cells: dict) -> int:
    return len(_indices(spec, cells)) if "pop" in cells else sum(_size(spec, c) for c in cells["assembly"])


def _indices(spec: dict, cells: dict) -> np.ndarray:
    """The population indices of a population or view description."""
    index = np.arange(_population(spec, cells["pop"])["size"])
    for selection in cells["select"]:
        if "slice" in selection:
            index = index[slice(*selection["slice"])]
        else:
            index = index[np.asarray(selection["index"], dtype=int)]
    return index


def has_poisson(spec: dict) -> bool:
    return any(p["celltype"] == "SpikeSourcePoisson" for p in spec["populations"])


def setup(sim, seed: int, **overrides):
    spec = draw(seed)
    options = dict(timestep=spec["dt"], min_delay=spec["min_delay"], max_delay=10.0, rng_seed=spec["rng_seed"],
                   precision="float64", device="cpu")
    options.update(overrides)
    sim.setup(**options)
    return spec


class Network:
    """What build() made: populations and projections by label, and the description."""

    def __init__(self, spec):
        self.spec = spec
        self.populations = {}
        self.projections = []


def _value(sim, value):
    if isinstance(value, dict) and "expression" in value:
        return value["expression"]
    if isinstance(value, dict):
        return sim.RandomDistribution(value["distribution"], low=value["low"], high=value["high"],
                                      rng=sim.NumpyRNG(seed=value["seed"]))
    return value


def _cells(sim, network, cells):
    if "assembly" in cells:
        return sim.Assembly(*[_cells(sim, network, part) for part in cells["assembly"]])
    view = network.populations[cells["pop"]]
    for selection in cells["select"]:
        if "slice" in selection:
            view = view[slice(*selection["slice"])]
        else:
            view = view[np.asarray(selection["index"], dtype=int)]
    return view


def build(sim, seed: int) -> Network:
    """Create the network of `seed` in the simulator `sim` (after setup(sim, seed))."""
    from pyNN.parameters import Sequence
    spec = draw(seed)
    network = Network(spec)
    for entry in spec["populations"]:
        parameters = dict(entry["parameters"])
        if entry["celltype"] == "SpikeSourceArray":
            trains = parameters["spike_times"]
            if all(train == trains[0] for train in trains):
                parameters["spike_times"] = Sequence(trains[0])
            else:
                parameters["spike_times"] = [Sequence(train) for train in trains]
        celltype = getattr(sim, entry["celltype"])(**parameters)
        pop = sim.Population(entry["size"], celltype, label=entry["label"])
        if entry.get("initial_v") is not None:
            pop.initialize(v=np.asarray(entry["initial_v"]))
        network.populations[entry["label"]] = pop
    for entry in spec["projections"]:
        c = entry["connector"]
        rng = sim.NumpyRNG(seed=c["seed"]) if "seed" in c else None
        if c["type"] == "AllToAll":
            connector = sim.AllToAllConnector(allow_self_connections=c["allow_self_connections"])
        elif c["type"] == "OneToOne":
            connector = sim.OneToOneConnector()
        elif c["type"] == "FixedProbability":
            connector = sim.FixedProbabilityConnector(c["p"], allow_self_connections=c["allow_self_connections"],
                                                      rng=rng)
        elif c["type"] == "FixedNumberPre":
            connector = sim.FixedNumberPreConnector(c["n"], with_replacement=c["with_replacement"],
                                                    allow_self_connections=c["allow_self_connections"], rng=rng)
        elif c["type"] == "FixedNumberPost":
            connector = sim.FixedNumberPostConnector(c["n"], with_replacement=c["with_replacement"],
                                                     allow_self_connections=c["allow_self_connections"], rng=rng)
        elif c["type"] == "FixedTotalNumber":
            connector = sim.FixedTotalNumberConnector(c["n"], allow_self_connections=c["allow_self_connections"],
                                                      rng=rng)
        else:
            connector = sim.FromListConnector([tuple(row) for row in c["list"]], column_names=["weight", "delay"])
        synapse = sim.StaticSynapse(weight=_value(sim, entry["weight"]), delay=_value(sim, entry["delay"]))
        network.projections.append(sim.Projection(_cells(sim, network, entry["pre"]),
                                                   _cells(sim, network, entry["post"]), connector, synapse,
                                                   receptor_type=entry["receptor"]))
    for entry in spec["dc_sources"]:
        source = sim.DCSource(amplitude=entry["amplitude"], start=entry["start"], stop=entry["stop"])
        source.inject_into(_cells(sim, network, entry["target"]))
    for entry in spec["populations"]:
        pop = network.populations[entry["label"]]
        pop.record("spikes")
        signals = entry["record"].get("signals")
        if signals:
            target = pop if signals["cells"] is None else pop[np.asarray(signals["cells"])]
            target.record(signals["variables"], sampling_interval=signals["interval_steps"] * spec["dt"])
    return network


def run_pieces(sim, spec: dict, network: Network | None = None) -> None:
    """Run the seed's split of t_stop into pieces (run(x) and run_until(t) calls); with `network`, the
    seed's no-op changes are made between the pieces."""
    for k, (how, value) in enumerate(spec["pieces"]):
        if network is not None:
            for _ in (apply_action(sim, network, a) for piece, a in spec["actions"] if piece == k):
                pass
        if how == "run_until":
            sim.run_until(value)
        else:
            sim.run(value)


if __name__ == "__main__":
    import pprint
    for argument in sys.argv[1:]:
        pprint.pprint(draw(int(argument)), width=120, compact=True)


def features(spec: dict) -> set:
    """What a network exercises (to pick a list of seeds that covers everything)."""
    dt = spec["dt"]
    found = {"dt=%g" % dt, "min_delay=%s" % ("auto" if spec["min_delay"] == "auto" else "dt")}
    for pop in spec["populations"]:
        found.add(pop["celltype"])
        p = pop["parameters"]
        if pop["celltype"].startswith("IF_"):
            if any(isinstance(v, list) for v in p.values()):
                found.add("heterogeneous parameters")
            if not pop.get("probe") and (p["tau_syn_E"] == p["tau_m"] or p["tau_syn_I"] == p["tau_m"]):
                found.add("tau_syn == tau_m")
            if pop.get("initial_v"):
                found.add("initial v")
            if pop.get("oracle") and not pop.get("probe"):
                found.add("oracle " + pop["celltype"])
        elif pop["celltype"] == "SpikeSourceArray":
            for train in p["spike_times"]:
                steps = [stamp_steps(t, dt) for t in train]
                if len(set(train)) < len(train):
                    found.add("repeated spike time")
                if len(set(steps)) < len(set(train)):
                    found.add("several off-grid spikes in one step")
                if any(t > spec["t_stop"] for t in train):
                    found.add("spike after the end")
                if any(abs(t / dt - round(t / dt)) > 0 and abs(t / dt - round(t / dt)) < 1e-9 for t in train):
                    found.add("on-grid spike with float noise")
        else:
            if isinstance(p["rate"], list):
                found.add("heterogeneous Poisson rates")
                if 0.0 in p["rate"]:
                    found.add("Poisson rate 0")
            if max(np.atleast_1d(p["rate"])) * dt / 1000 > 0.5:
                found.add("Poisson: several spikes per step likely")
            if p["start"] >= spec["t_stop"]:
                found.add("Poisson starts after the end")
    for proj in spec["projections"]:
        c = proj["connector"]
        found.add(c["type"])
        if c.get("with_replacement"):
            found.add("with_replacement")
        if c.get("p") == 0.0:
            found.add("p = 0")
        found.add("receptor " + proj["receptor"])
        if c.get("allow_self_connections") is False:
            found.add("no self-connections")
        for side in ("pre", "post"):
            cells = proj[side]
            for part in cells["assembly"] if "assembly" in cells else [cells]:
                for selection in part["select"]:
                    found.add("%s %s view" % (side, "slice" if "slice" in selection else "index"))
                    if "slice" in selection and selection["slice"][2] > 1:
                        found.add("view with a step")
                    if "index" in selection and selection["index"] != sorted(selection["index"]):
                        found.add("view with unsorted indices")
                if len(part["select"]) > 1:
                    found.add("view of a view")
            if "assembly" in cells:
                found.add(side + " assembly")
                if any(isinstance(proj[w], dict) and "expression" in proj[w] for w in ("weight", "delay")):
                    found.add("distance-dependent onto an assembly")
                if len({_kind(_population(spec, part["pop"])) for part in cells["assembly"]}) > 1:
                    found.add("mixed assembly")
        for what in ("weight", "delay"):
            if isinstance(proj[what], dict):
                found.add("%s %s" % ("distance-dependent" if "expression" in proj[what] else "random", what))
        if isinstance(proj["delay"], dict):
            pass
        elif proj["delay"] > 8.0:
            found.add("delay > 8 ms")
        elif proj["delay"] != round(proj["delay"], 10):
            found.add("delay with float noise")
    if spec["dc_sources"]:
        found.add("DCSource")
    for pop in spec["populations"]:
        signals = pop["record"].get("signals")
        if signals and signals["interval_steps"] > 1:
            found.add("sampling_interval > dt")
        if signals and signals["cells"] is not None:
            found.add("recording a view")
    for how, value in spec["pieces"]:
        found.add(how if value else "run(0)")
        if value != round(value, 10):
            found.add("run time with float noise")
    delays = [p["delay"] for p in spec["projections"] if not isinstance(p["delay"], dict)]
    for piece, action in spec["actions"]:
        found.add("action " + action["kind"])
        if action["kind"] == "zero_projection" and piece > 0 and action["delay"] > max(delays, default=0.0):
            found.add("delay ring grows mid-run")
    return found


def stamp_steps(t: float, dt: float) -> int:
    """The step of the first grid point at or after t, compared in double as NEST's Time::ms_stamp does
    (a time a float ulp above a grid point, e.g. a sum of 329 x 0.1 = 32.9000000000002, goes to the next)."""
    s = int(np.ceil(t / dt))
    while s > 0 and (s - 1) * dt >= t:
        s -= 1
    while s * dt < t:
        s += 1
    return s


def cost(spec: dict) -> float:
    """A rough cost of simulating the network (steps x cells)."""
    return spec["t_stop"] / spec["dt"] * (50 + sum(p["size"] for p in spec["populations"]))
