"""PyNN's run/reset/view/seed semantics on pyNN.cupy, each feature checked against the rule PyNN defines:

  split      a run split into several run()/run_until()/run(0) calls gives exactly (bit for bit, float64) the
             spikes, membrane traces, weights and recorded synaptic variables of one run, with STDP, short-term
             plasticity, stochastic synapses, every spike source, current sources starting mid-way (between the
             pieces, at a piece boundary, or injected between two runs) and every neuron family;
  reset      reset() brings back t = 0 and the initial values (state variables, synaptic state, spikes in
             flight dropped), keeps parameters set before it, starts a new segment (earlier segments stay as
             they were) and replays every deterministic source, so that a deterministic network repeats its
             first trial exactly;
  views      set()/initialize() on a view touch only the view's cells, not the rest of the population nor the
             other populations of the same neuron batch, also between runs; Projection.set on a view-to-view
             projection touches only its own connections, and the network it gives equals the same network
             made with FromListConnector on the parent populations;
  seeds      setup(rng_seed=...) and NumpyRNG(seed) / NativeRNG make a script reproducible: same seed, same
             spikes and connections; another seed, other ones, for every random element separately.

(The fuzz tests cover split/reset on random static networks; tests/unit/test_api_surface.py the values that
get() returns after set on views. Here: the features they leave out, and the effect on the simulation.)"""
import numpy as np
import pytest
from pyNN.errors import RoundingWarning

import pyNN.cupy as sim

T_STOP = 20.0
# (how, time): run(time), or run_until(time); pieces end at T_STOP, split at a spike time (7.3 is also the
# start of the DC source), across a step boundary of the step source (11.2), and with empty runs
PIECES = [("run", 7.3), ("run", 0.0), ("until", 11.2), ("run", 0.1), ("run", 3.0), ("run", 5.7)]
SMALL_PIECES = [("run", 0.1)] * 37 + [("run", 0.3), ("until", 12.5), ("run", T_STOP - 12.5)]
# off the grid: each end rounds to the nearest step (halves up) with a RoundingWarning: 7.3, 9.8, 15.0, 20.0
OFF_GRID_PIECES = [("until", 7.25), ("run", 2.45), ("until", 14.95), ("run", 5.0)]


def _setup(seed=5, precision="float64"):
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=5.0, device="cpu", precision=precision, rng_seed=seed)


def _stdp(**kwargs):
    return sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=16.0, tau_minus=25.0, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=4.0), **kwargs)


SYNAPSES = {
    "static": lambda: sim.StaticSynapse(weight=1.0, delay=1.0),
    "stdp": lambda: _stdp(weight=1.5, delay=2.3),
    "stdp_axonal": lambda: _stdp(weight=1.5, delay=1.7, dendritic_delay_fraction=0),
    "tsodyks_markram": lambda: sim.TsodyksMarkramSynapse(U=0.4, tau_rec=60.0, tau_facil=15.0, weight=2.0, delay=1.0),
    "stochastic": lambda: sim.SimpleStochasticSynapse(p=0.5, weight=2.0, delay=1.2),
    "stochastic_tm": lambda: sim.StochasticTsodyksMarkramSynapse(U=0.5, tau_rec=50.0, tau_facil=10.0, weight=2.0,
                                                                 delay=1.0),
    "multi_quantal": lambda: sim.MultiQuantalSynapse(U=0.5, n=3, tau_rec=50.0, tau_facil=10.0, weight=1.0, delay=0.6),
}
RECORDED_SYNAPSE_STATE = {"stdp": "weight", "stdp_axonal": "weight", "tsodyks_markram": "u", "stochastic_tm": "u"}


def _split_network(feature, seed=5):
    """A small network around `feature`; returns (populations to collect, projections to collect)."""
    _setup(seed)
    noise = sim.Population(6, sim.SpikeSourcePoisson(rate=300.0, start=3.0, duration=30.0), label="noise")
    arr = sim.Population(2, sim.SpikeSourceArray(spike_times=[[2.0, 7.3, 12.0, 12.0], [9.95, 19.9]]), label="arr")
    cells = sim.Population(4, sim.IF_curr_exp(tau_refrac=2.0), label="cells")
    populations = [noise, arr, cells]
    synapse = SYNAPSES.get(feature, SYNAPSES["static"])()
    main = sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.7, rng=sim.NumpyRNG(seed)), synapse,
                          receptor_type="excitatory", label="main")
    recorded = feature in RECORDED_SYNAPSE_STATE
    if recorded:
        main.record(RECORDED_SYNAPSE_STATE[feature], sampling_interval=1.0)
    sim.Projection(arr, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=0.5))
    if feature == "sources":
        for label, celltype in [
                ("gamma", sim.SpikeSourceGamma(alpha=3, beta=600.0, start=4.0)),
                ("refractory", sim.SpikeSourcePoissonRefractory(rate=300.0, tau_refrac=2.0, duration=15.0)),
                ("inh_gamma", sim.SpikeSourceInhGamma(a=sim.Sequence([3.0, 5.0]), b=sim.Sequence([0.002, 0.001]),
                                                      tbins=sim.Sequence([0.0, 10.0]))),
                ("poisson_set", sim.SpikeSourcePoisson(rate=np.array([100.0, 400.0, 800.0]), start=11.2))]:
            source = sim.Population(3, celltype, label=label)
            sim.Projection(source, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
            populations.append(source)
    if feature == "currents":
        sim.DCSource(amplitude=0.6, start=7.3, stop=15.0).inject_into(cells[0:1])
        sim.StepCurrentSource(times=[5.0, 11.2, 17.3], amplitudes=[0.4, -0.3, 0.8]).inject_into(cells[1:2])
        sim.ACSource(start=6.0, stop=18.0, amplitude=0.5, offset=0.2, frequency=100.0, phase=30.0
                     ).inject_into(cells[2:3])
        sim.NoisyCurrentSource(mean=0.3, stdev=0.5, start=8.1, stop=19.0, dt=0.3).inject_into(cells[3:4])
    if feature == "models":
        for label, celltype in [
                ("izhikevich", sim.Izhikevich(i_offset=0.01)),
                ("adexp", sim.EIF_cond_exp_isfa_ista(i_offset=0.8)),
                ("adexp_alpha", sim.EIF_cond_alpha_isfa_ista(i_offset=0.8)),
                ("hh", sim.HH_cond_exp(i_offset=0.3)),
                ("gif", sim.GIF_cond_exp(i_offset=0.2)),
                ("cond_alpha", sim.IF_cond_alpha(i_offset=0.5)),
                ("delta", sim.IF_curr_delta(i_offset=0.9)),
                ("sfa", sim.IF_cond_exp_gsfa_grr(i_offset=1.0)),
                ("point", sim.PointNeuron(sim.AdExp(i_offset=0.5), AMPA=sim.AlphaPSR(tau_syn=2.0),
                                          GABA=sim.AlphaPSR(tau_syn=5.0, e_syn=-80.0)))]:
            population = sim.Population(2, celltype, label=label)
            receptor = "AMPA" if label == "point" else "excitatory"
            sim.Projection(noise, population, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0),
                           receptor_type=receptor)
            population.record(["spikes", "v"])
            populations.append(population)
    for population in populations:
        population.record("spikes")
    cells.record("v")
    return populations, [(main, recorded)]


def _collect(populations, projections) -> dict:
    """Spike trains, signals (values and times) of the populations; weights (and recorded synaptic state) of
    the projections, given as (projection, whether it records)."""
    out = {}
    for population in populations:
        segment = population.get_data().segments[-1]
        out[population.label + ".spikes"] = [np.asarray(train.magnitude).tolist() for train in segment.spiketrains]
        for signal in segment.analogsignals:
            out[population.label + "." + signal.name] = np.asarray(signal.magnitude)
            out[population.label + "." + signal.name + ".times"] = np.asarray(signal.times.magnitude)
    for projection, recorded in projections:
        out[projection.label + ".weights"] = np.asarray(projection.get("weight", format="list"))
        if recorded:
            for signal in projection.get_data().segments[-1].analogsignals:
                out[projection.label + "." + signal.name] = np.asarray(signal.magnitude)
    return out


def _run_pieces(pieces):
    for how, value in pieces:
        if how == "run":
            sim.run(value)
        else:
            sim.run_until(value)
    assert sim.get_current_time() == pytest.approx(T_STOP, abs=1e-9)


def _assert_same(whole: dict, split: dict, what: str):
    assert whole.keys() == split.keys(), what
    differ = []
    for key, value in whole.items():
        other = split[key]
        if isinstance(value, np.ndarray):
            same = value.shape == np.shape(other) and np.array_equal(value, other)
        else:
            same = value == other
        if not same:
            differ.append(key)
    assert not differ, "%s: %s differ" % (what, differ)


# -- split runs ------------------------------------------------------------------------------------------------

FEATURES = list(SYNAPSES) + ["sources", "currents", "models"]


@pytest.mark.parametrize("pieces", [PIECES, SMALL_PIECES, OFF_GRID_PIECES],
                         ids=["pieces", "small_pieces", "off_grid_pieces"])
@pytest.mark.parametrize("feature", FEATURES)
def test_split_run_equals_one_run(feature, pieces):
    populations, projections = _split_network(feature)
    sim.run(T_STOP)
    whole = _collect(populations, projections)
    populations, projections = _split_network(feature)
    if pieces is OFF_GRID_PIECES:
        with pytest.warns(RoundingWarning):
            _run_pieces(pieces)
    else:
        _run_pieces(pieces)
    split = _collect(populations, projections)
    _assert_same(whole, split, "%s: one run(%g) vs %s" % (feature, T_STOP, pieces))
    # the feature did something
    assert sum(map(len, whole["cells.spikes"])) > 0 and sum(map(len, whole["noise.spikes"])) > 0
    if feature.startswith("stdp"):
        assert len(np.unique(whole["main.weights"][:, 2])) > 3, "no learning to compare"
    if feature == "sources":
        for label in ("gamma", "refractory", "inh_gamma", "poisson_set"):
            assert sum(map(len, whole[label + ".spikes"])) > 0, label


def _sampled_network():
    _setup(1, precision="float32")
    noise = sim.Population(4, sim.SpikeSourcePoisson(rate=400.0), label="noise")
    cells = sim.Population(3, sim.IF_cond_exp(), label="cells")
    sim.Projection(noise, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=0.7))
    cells.record(["v", "gsyn_exc"], sampling_interval=0.5)
    cells.record("spikes")
    return [noise, cells]


def test_split_run_with_a_sampling_interval_not_dividing_the_pieces():
    """Samples every 0.5 ms whatever the pieces (7.3 ms, two single steps, ...): the same samples at the same
    times, none repeated at a piece boundary, none missing (float32 here)."""
    populations = _sampled_network()
    sim.run(T_STOP)
    whole = _collect(populations, [])
    populations = _sampled_network()
    _run_pieces([("run", 7.3), ("run", 0.1), ("run", 0.1), ("until", 13.0), ("run", 7.0)])
    split = _collect(populations, [])
    _assert_same(whole, split, "sampling interval 0.5 ms")
    np.testing.assert_allclose(whole["cells.v.times"], np.arange(0.0, T_STOP + 1e-9, 0.5))


SOURCES_BETWEEN_RUNS = [
    (lambda: sim.DCSource(amplitude=0.5, start=10.0, stop=15.0)),
    (lambda: sim.StepCurrentSource(times=[10.0, 12.0, 16.5], amplitudes=[0.3, 0.6, -0.2])),
    (lambda: sim.ACSource(amplitude=0.5, offset=0.1, frequency=50.0, phase=20.0, start=10.0, stop=18.0)),
    (lambda: sim.NoisyCurrentSource(mean=0.2, stdev=0.4, dt=0.5, start=10.0, stop=17.0)),
]


@pytest.mark.parametrize("make", SOURCES_BETWEEN_RUNS, ids=["dc", "step", "ac", "noise"])
def test_current_source_injected_between_runs_equals_one_present_from_the_start(make):
    """A current source starting at 10 ms injected after run(10) acts as the same source injected at t = 0."""
    traces = []
    for between in (False, True):
        _setup(seed=2)
        cells = sim.Population(2, sim.IF_curr_exp(), label="cells")
        cells.record("v")
        if not between:
            make().inject_into(cells)
        sim.run(10.0)
        if between:
            make().inject_into(cells)
        sim.run(10.0)
        traces.append(np.asarray(cells.get_data().segments[0].filter(name="v")[0].magnitude))
    assert np.abs(traces[0][-1] + 65.0).max() > 0.1 or np.abs(traces[0] + 65.0).max() > 1.0   # the source acted
    np.testing.assert_array_equal(traces[0][:101], -65.0)
    np.testing.assert_array_equal(traces[0], traces[1])


# -- reset -------------------------------------------------------------------------------------------------------

def _deterministic_network():
    """No random element: every trial after reset() must repeat the first one exactly."""
    _setup(seed=3)
    arr = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0, 6.0, 6.0, 9.5], [3.0, 9.9]]), label="arr")
    cells = sim.Population(3, sim.IF_curr_exp(tau_refrac=3.0, i_offset=np.array([0.0, 0.95, 0.0])), label="cells")
    izh = sim.Population(2, sim.Izhikevich(i_offset=0.02), label="izh")
    adexp = sim.Population(2, sim.EIF_cond_exp_isfa_ista(i_offset=0.9), label="adexp")
    tm_target = sim.Population(2, sim.IF_curr_exp(), label="tm_target")
    cells.initialize(v=np.array([-60.0, -55.0, -70.0]))
    cells[2:3].initialize(isyn_exc=0.3)
    izh.initialize(v=-60.0, u=-13.0)
    tm = sim.Projection(arr, tm_target, sim.AllToAllConnector(),
                        sim.TsodyksMarkramSynapse(U=0.3, tau_rec=100.0, tau_facil=50.0, weight=2.0, delay=1.0),
                        label="tm")
    tm.initialize(u=0.6)
    tm.record("u", sampling_interval=0.5)
    # spikes at 9.5 and 9.9 ms are still in flight (delay 5 ms) when the trial is reset at 10 ms
    sim.Projection(arr, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=5.0))
    sim.Projection(arr, izh, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=2.0))
    sim.Projection(cells, adexp, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=0.3))
    sim.DCSource(amplitude=0.4, start=2.0, stop=8.0).inject_into(cells)
    sim.StepCurrentSource(times=[3.0, 5.0], amplitudes=[0.3, 0.0]).inject_into(izh)
    sim.ACSource(amplitude=0.3, offset=0.1, frequency=70.0, phase=45.0, start=0.5).inject_into(tm_target)
    for population in (arr, cells, izh, adexp, tm_target):
        population.record("spikes")
    cells.record("v")
    izh.record(["v", "u"])
    adexp.record(["v", "w", "gsyn_exc"])
    tm_target.record("v")
    return dict(arr=arr, cells=cells, izh=izh, adexp=adexp, tm_target=tm_target, tm=tm)


def _segment(population_or_projection, k) -> dict:
    segment = population_or_projection.get_data().segments[k]
    out = {"spikes": [np.asarray(train.magnitude).tolist() for train in segment.spiketrains]}
    out.update({signal.name: np.asarray(signal.magnitude) for signal in segment.analogsignals})
    out.update({signal.name + ".t_start": float(signal.t_start) for signal in segment.analogsignals})
    return out


def test_reset_repeats_a_deterministic_trial():
    objects = _deterministic_network()
    sim.run(10.0)
    first = {name: _segment(obj, 0) for name, obj in objects.items()}
    sim.reset()
    assert sim.get_current_time() == 0.0
    sim.run(10.0)
    for name, obj in objects.items():
        segments = obj.get_data().segments
        assert len(segments) == 2, name
        again = _segment(obj, 0)
        second = _segment(obj, 1)
        _assert_same(first[name], again, "%s: the first segment changed by the second trial" % name)
        _assert_same(first[name], second, "%s: the trial after reset() differs from the first" % name)
    # the initial values, not the values the first trial ended with
    np.testing.assert_array_equal(first["cells"]["v"][0], [-60.0, -55.0, -70.0])
    np.testing.assert_array_equal(first["izh"]["u"][0], [-13.0, -13.0])
    np.testing.assert_allclose(first["tm"]["u"][0], 0.6)
    assert sum(map(len, first["cells"]["spikes"])) > 0
    assert np.ptp(first["adexp"]["w"]) > 0 and np.ptp(first["adexp"]["gsyn_exc"]) > 0


def test_reset_mid_run_at_an_odd_time_repeats_the_trial():
    """Reset after 9.7 ms (spikes in flight, the TM synapses depressed, a neuron refractory), then run 10 ms:
    the same as the first 10 ms."""
    objects = _deterministic_network()
    sim.run(9.7)
    sim.reset()
    sim.run(10.0)
    sim.reset()
    sim.run(4.3)
    sim.run(5.7)
    for name, obj in objects.items():
        assert len(obj.get_data().segments) == 3, name
        reference = _segment(obj, 1)
        _assert_same(reference, _segment(obj, 2), "%s: trial 3 vs trial 2" % name)
        for key, value in _segment(obj, 0).items():   # trial 1 is the first 9.7 ms of the others
            if key == "spikes":
                assert value == [[t for t in train if t <= 9.7 + 1e-9] for train in reference[key]], name
            elif isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, reference[key][:len(value)], err_msg="%s %s" % (name, key))


def test_reset_keeps_parameters_and_takes_new_initial_values():
    """Parameters set during a trial stay (reset restores state, not parameters); initialize() between trials
    gives the next trial's initial values; recording goes on in a new segment that starts at 0."""
    _setup()
    cells = sim.Population(3, sim.IF_curr_exp(i_offset=0.0), label="cells")
    cells.record(["v", "spikes"])
    sim.run(5.0)
    cells[1:].set(i_offset=np.array([0.8, 1.6]))
    sim.run(5.0)
    sim.reset()
    cells[0:1].initialize(v=-52.0)
    sim.run(10.0)
    segments = cells.get_data().segments
    assert len(segments) == 2
    v0, v1 = (np.asarray(s.filter(name="v")[0].magnitude) for s in segments)
    assert float(segments[1].filter(name="v")[0].t_start) == 0.0 and v1.shape == v0.shape == (101, 3)
    np.testing.assert_array_equal(v1[0], [-52.0, -65.0, -65.0])
    np.testing.assert_array_equal(v0[:51], -65.0)        # i_offset 0 for the first 5 ms of trial 1
    assert v1[1, 1] > -65.0 and v1[1, 2] > v1[1, 1]        # ... and set from the start of trial 2
    np.testing.assert_allclose(cells.get("i_offset"), [0.0, 0.8, 1.6])
    assert list(cells.get_spike_counts().values()) == [len(t) for t in segments[1].spiketrains]


def test_reset_clears_plasticity_traces_but_keeps_learned_weights():
    """STDP after reset(): the weights stay as learned (as NEST); with them set back to their initial values
    the second trial repeats the first exactly (traces and spike histories cleared)."""
    def network():
        _setup(seed=1)
        times = [[1.0 + 1.3 * k + 0.2 * i for k in range(12)] for i in range(4)]
        src = sim.Population(4, sim.SpikeSourceArray(spike_times=times), label="src")
        post = sim.Population(2, sim.IF_curr_exp(tau_refrac=1.0, i_offset=0.5), label="post")
        prj = sim.Projection(src, post, sim.AllToAllConnector(), _stdp(weight=1.0, delay=1.5), label="stdp")
        post.record(["v", "spikes"])
        return post, prj

    post, prj = network()
    w0 = prj.get("weight", format="array")
    sim.run(15.0)
    learned = prj.get("weight", format="array")
    sim.reset()
    np.testing.assert_array_equal(prj.get("weight", format="array"), learned)
    prj.set(weight=w0)
    sim.run(15.0)
    assert np.abs(learned - w0).max() > 0.01
    np.testing.assert_array_equal(prj.get("weight", format="array"), learned)
    segments = post.get_data().segments
    np.testing.assert_array_equal(segments[0].filter(name="v")[0].magnitude, segments[1].filter(name="v")[0].magnitude)


def test_spike_sources_replay_after_reset():
    """Spike arrays give the same spikes in every trial; a Poisson source's window (start, duration) holds in
    every trial, relative to the trial's start."""
    _setup()
    arr = sim.Population(2, sim.SpikeSourceArray(spike_times=[[0.1, 4.0, 4.0, 9.9], [5.55]]), label="arr")
    poisson = sim.Population(20, sim.SpikeSourcePoisson(rate=500.0, start=2.0, duration=3.0), label="poisson")
    arr.record("spikes")
    poisson.record("spikes")
    for trial in range(3):
        if trial:
            sim.reset()
        sim.run(5.0 if trial == 1 else 10.0)   # trial 2 stops half way: trial 3 must still start afresh
    arr_segments = arr.get_data().segments
    assert [[list(t.magnitude) for t in s.spiketrains] for s in arr_segments] == [
        [[0.1, 4.0, 4.0, 9.9], [5.6]], [[0.1, 4.0, 4.0], []], [[0.1, 4.0, 4.0, 9.9], [5.6]]]
    for segment in poisson.get_data().segments:
        times = np.concatenate([np.asarray(t.magnitude) for t in segment.spiketrains])
        assert times.size > 10 and times.min() > 2.0 and times.max() <= 5.0 + 1e-9


# -- set/initialize on views -------------------------------------------------------------------------------

def _view_network():
    _setup()
    before = sim.Population(3, sim.IF_curr_exp(i_offset=0.6), label="before")   # same neuron batch
    target = sim.Population(8, sim.IF_curr_exp(i_offset=0.6), label="target")
    control = sim.Population(8, sim.IF_curr_exp(i_offset=0.6), label="control")
    after = sim.Population(2, sim.IF_curr_exp(i_offset=0.6), label="after")
    populations = [before, target, control, after]
    for population in populations:
        population.record("v")
    return populations


SELECTORS = {
    "slice_step": lambda p: p[1:7:2],
    "index_array": lambda p: p[np.array([6, 0, 3])],
    "mask": lambda p: p[np.array([True, False, False, False, True, True, False, False])],
    "view_of_view": lambda p: p[2:8][np.array([0, 4])],
    "assembly_of_views": lambda p: p[0:1] + p[5:7],
    "single_cell": lambda p: p[4:5],
}


@pytest.mark.parametrize("when", ["before_run", "between_runs"])
@pytest.mark.parametrize("selector", list(SELECTORS))
def test_set_and_initialize_on_a_view_touch_only_the_view(selector, when):
    before, target, control, after = _view_network()
    view = SELECTORS[selector](target)
    if isinstance(view, sim.Assembly):
        chosen = np.concatenate([target.id_to_index(p.all_cells) for p in view.populations])
    else:
        chosen = np.asarray(target.id_to_index(view.all_cells))
    n = len(chosen)
    others = np.setdiff1d(np.arange(target.size), chosen)
    if when == "between_runs":
        sim.run(3.0)
    # an Assembly takes one value for all (PyNN's Assembly.set passes the value to each population)
    i_values, v_values = (2.0, -51.0) if isinstance(view, sim.Assembly) else \
        (np.linspace(1.5, 2.5, n), np.linspace(-52.0, -50.0, n))
    view.set(i_offset=i_values, tau_m=12.0)
    view.initialize(v=v_values)
    expected_i = np.full(target.size, 0.6)
    expected_i[np.sort(chosen)] = i_values   # a view's cells are in population order
    np.testing.assert_array_equal(target.get("i_offset", simplify=False), expected_i)
    for population in (before, control, after):
        assert population.get("i_offset") == 0.6 and population.get("tau_m") == 20.0, population.label
    sim.run(10.0)
    reference = np.asarray(control.get_data().segments[0].filter(name="v")[0].magnitude)
    v = np.asarray(target.get_data().segments[0].filter(name="v")[0].magnitude)
    np.testing.assert_array_equal(v[:, others], reference[:, others])
    for population in (before, after):
        np.testing.assert_array_equal(population.get_data().segments[0].filter(name="v")[0].magnitude,
                                      reference[:, :population.size])
    # the sample at 3 ms was taken before the changes between runs
    start = 31 if when == "between_runs" else 0
    assert (v[start, chosen] != reference[start, chosen]).all()
    assert (np.abs(v[start + 1:, chosen] - reference[start + 1:, chosen]).max(axis=0) > 0.1).all()
    # the initial values of the view hold for the next trial; the others are unchanged
    sim.reset()
    sim.run(0.1)
    v_reset = np.asarray(target.get_data().segments[1].filter(name="v")[0].magnitude)[0]
    expected_v = np.full(target.size, -65.0)
    expected_v[np.sort(chosen)] = v_values
    np.testing.assert_array_equal(v_reset, expected_v)


def test_source_parameters_set_on_a_view_touch_only_the_view():
    _setup()
    poisson = sim.Population(6, sim.SpikeSourcePoisson(rate=0.0), label="poisson")
    other = sim.Population(3, sim.SpikeSourcePoisson(rate=0.0), label="other")   # same batch
    arr = sim.Population(4, sim.SpikeSourceArray(spike_times=[]), label="arr")
    for population in (poisson, other, arr):
        population.record("spikes")
    sim.run(5.0)
    poisson[1::2].set(rate=2000.0)
    arr[np.array([3, 1])].set(spike_times=[sim.Sequence([6.0, 7.0]), sim.Sequence([8.0])])
    sim.run(10.0)
    counts = [len(t) for t in poisson.get_data().segments[0].spiketrains]
    assert counts[0] == counts[2] == counts[4] == 0 and min(counts[1::2]) > 5
    assert all(len(t) == 0 for t in other.get_data().segments[0].spiketrains)
    trains = [list(t.magnitude) for t in arr.get_data().segments[0].spiketrains]
    assert trains == [[], [6.0, 7.0], [], [8.0]]


def _view_projection_network(connections=None):
    """src (5 cells) -> post (6 cells): a base projection on the whole populations, and a projection from
    src[[1, 3, 4]] to post[::2] whose weights and delays are set afterwards; given `connections` (of such a
    projection, indices within the views), the same connections with FromListConnector on the parents."""
    _setup()
    src = sim.Population(5, sim.SpikeSourceArray(spike_times=[[1.0 + i, 8.0 + i] for i in range(5)]), label="src")
    post = sim.Population(6, sim.IF_curr_exp(), label="post")
    post.record("v")
    base = sim.Projection(src, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0), label="base")
    other = sim.Projection(src[0:2], post[1:4], sim.AllToAllConnector(), sim.StaticSynapse(weight=0.3, delay=1.0),
                           label="other")
    weights = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    pre_cells, post_cells = np.array([1, 3, 4]), np.array([0, 2, 4])
    if connections is None:
        prj = sim.Projection(src[pre_cells], post[::2], sim.FixedProbabilityConnector(0.7, rng=sim.NumpyRNG(4)),
                             sim.StaticSynapse(weight=0.2, delay=1.0), label="views")
        prj.set(weight=weights)
        prj.set(delay=2.0)
        connections = prj.get(["weight", "delay"], format="list")
    else:
        rows = [(pre_cells[int(i)], post_cells[int(j)], w, d) for i, j, w, d in connections]
        prj = sim.Projection(src, post, sim.FromListConnector(rows, column_names=["weight", "delay"]), label="list")
    return base, other, prj, connections


def test_set_on_a_view_to_view_projection_touches_only_its_connections():
    base, other, prj, connections = _view_projection_network()
    assert 3 <= len(connections) < 9
    for i, j, w, d in connections:   # indices within the views
        assert w == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]][int(i)][int(j)] and d == 2.0
    assert set(np.unique(base.get("weight", format="array"))) == {0.1}
    assert set(np.unique(base.get("delay", format="array"))) == {1.0}
    assert set(np.unique(other.get("weight", format="array"))) == {0.3}
    sim.run(20.0)
    v_views = np.asarray(base.post.get_data().segments[0].filter(name="v")[0].magnitude)
    base, other, prj, _ = _view_projection_network(connections)
    sim.run(20.0)
    v_list = np.asarray(base.post.get_data().segments[0].filter(name="v")[0].magnitude)
    np.testing.assert_allclose(v_views, v_list, rtol=0, atol=1e-12)
    assert np.abs(v_views + 65.0).max() > 1.0


# -- seeds -------------------------------------------------------------------------------------------------------

def _random_network(rng_seed, numpy_seed=42):
    """Every random element of a script, each recorded on its own: device draws follow setup(rng_seed),
    NumpyRNG draws their own seed, NativeRNG() without a seed follows rng_seed."""
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=5.0, device="cpu", precision="float32", rng_seed=rng_seed)
    numpy_rng = sim.NumpyRNG(seed=numpy_seed)
    driver = sim.Population(5, sim.SpikeSourceArray(spike_times=[[1.0 + 0.5 * k for k in range(30)]] * 5))
    out = {}
    sources = {
        "poisson": sim.Population(5, sim.SpikeSourcePoisson(rate=200.0)),
        "gamma": sim.Population(5, sim.SpikeSourceGamma(alpha=2, beta=400.0)),
        "refractory": sim.Population(5, sim.SpikeSourcePoissonRefractory(rate=200.0, tau_refrac=1.0)),
        "gif": sim.Population(5, sim.GIF_cond_exp(i_offset=2.0, lambda0=10.0, delta_v=2.0)),
    }
    for population in sources.values():
        population.record("spikes")
    noisy = sim.Population(2, sim.IF_curr_exp())
    sim.NoisyCurrentSource(mean=0.0, stdev=1.0, dt=0.1).inject_into(noisy)
    noisy.record("v")
    stochastic_target = sim.Population(3, sim.IF_curr_exp())
    stochastic_target.record("v")
    sim.Projection(driver, stochastic_target, sim.AllToAllConnector(),
                   sim.SimpleStochasticSynapse(p=0.5, weight=1.0, delay=1.0))
    targets = sim.Population(30, sim.IF_curr_exp(tau_m=sim.RandomDistribution("uniform", (10.0, 20.0),
                                                                                 rng=numpy_rng)))
    targets.initialize(v=sim.RandomDistribution("normal", (-65.0, 3.0), rng=numpy_rng))
    connectors = {
        "fixed_probability": sim.FixedProbabilityConnector(0.3, rng=numpy_rng),
        "fixed_number_pre": sim.FixedNumberPreConnector(2, rng=numpy_rng),
        "fixed_number_post": sim.FixedNumberPostConnector(4, rng=numpy_rng),
        "fixed_total": sim.FixedTotalNumberConnector(20, rng=numpy_rng),
        "native_probability": sim.FixedProbabilityConnector(0.3, rng=sim.NativeRNG()),
        "native_number_pre": sim.FixedNumberPreConnector(2, rng=sim.NativeRNG()),
    }
    projections = {}
    for name, connector in connectors.items():
        weight_rng = sim.NativeRNG() if name.startswith("native") else numpy_rng
        projections[name] = sim.Projection(
            driver, targets, connector,
            sim.StaticSynapse(weight=sim.RandomDistribution("uniform", (0.1, 0.2), rng=weight_rng),
                              delay=sim.RandomDistribution("uniform", (0.5, 2.0), rng=weight_rng)))
    sim.run(20.0)
    for name, population in sources.items():
        out[name] = [np.asarray(t.magnitude).tolist() for t in population.get_data().segments[0].spiketrains]
    out["noise_current"] = np.asarray(noisy.get_data().segments[0].filter(name="v")[0].magnitude).tolist()
    out["stochastic_synapse"] = np.asarray(
        stochastic_target.get_data().segments[0].filter(name="v")[0].magnitude).tolist()
    out["cell_parameters"] = np.asarray(targets.get("tau_m")).tolist()
    for name, projection in projections.items():
        out[name] = sorted(map(tuple, np.asarray(projection.get(["weight", "delay"], format="list")).tolist()))
    return out


DEVICE_DRAWN = ("poisson", "gamma", "refractory", "gif", "noise_current", "stochastic_synapse")
NUMPY_DRAWN = ("cell_parameters", "fixed_probability", "fixed_number_pre", "fixed_number_post", "fixed_total")
NATIVE_DRAWN = ("native_probability", "native_number_pre")


@pytest.fixture(scope="module")
def seeded_runs():
    runs = {key: _random_network(*key) for key in [(11, 42), (12, 42), (11, 43)]}
    runs["again"] = _random_network(11, 42)   # after two other scripts in this process
    return runs


def test_same_seeds_give_the_same_results(seeded_runs):
    first, again = seeded_runs[(11, 42)], seeded_runs["again"]
    assert first.keys() == again.keys()
    for key in first:
        assert first[key] == again[key], key
    for key in DEVICE_DRAWN[:4]:
        assert sum(map(len, first[key])) >= 3, key


def test_another_rng_seed_changes_every_device_and_native_draw_but_not_numpy_rng_draws(seeded_runs):
    first, other = seeded_runs[(11, 42)], seeded_runs[(12, 42)]
    for key in DEVICE_DRAWN + NATIVE_DRAWN:
        assert first[key] != other[key], "%s: the same with rng_seed 11 and 12" % key
    for key in NUMPY_DRAWN:
        assert first[key] == other[key], "%s: NumpyRNG(seed=42) draws changed with rng_seed" % key


def test_another_numpy_seed_changes_every_numpy_draw_only(seeded_runs):
    first, other = seeded_runs[(11, 42)], seeded_runs[(11, 43)]
    for key in NUMPY_DRAWN:
        assert first[key] != other[key], "%s: the same with NumpyRNG seeds 42 and 43" % key
    for key in ("poisson", "gamma", "refractory", "noise_current") + NATIVE_DRAWN:
        assert first[key] == other[key], "%s: changed with the NumpyRNG seed" % key
