"""Short-term plasticity and stochastic synapses on pyNN.cupy alone: limiting cases against static synapses,
fresh draws per trial, Projection.initialize() of synaptic state, bad input. Side by side with NEST:
tests/vs_nest/test_tsodyks_markram.py and test_stochastic_synapses.py."""
import numpy as np
import pytest
from pyNN import errors

import pyNN.cupy as sim

TRAIN = [5.0, 15.0, 25.0, 35.0]


def _response(synapse, n=20, trial_reset=False, initialize=None):
    sim.setup(timestep=0.1, precision="float64", rng_seed=3)
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=TRAIN))
    post = sim.Population(n, sim.IF_cond_exp(tau_syn_E=0.5, e_rev_E=-65.0))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), synapse)
    if initialize:
        projection.initialize(**initialize)
    post.record("gsyn_exc")
    sim.run(50.0)
    traces = [np.asarray(post.get_data().segments[0].filter(name="gsyn_exc")[0])]
    if trial_reset:
        sim.reset()
        sim.run(50.0)
        traces.append(np.asarray(post.get_data().segments[1].filter(name="gsyn_exc")[0]))
    sim.end()
    return traces


def test_bernoulli_limits_and_fresh_trials():
    static = _response(sim.StaticSynapse(weight=0.01, delay=1.0))[0]
    np.testing.assert_array_equal(_response(sim.SimpleStochasticSynapse(weight=0.01, delay=1.0, p=1.0))[0], static)
    assert not _response(sim.SimpleStochasticSynapse(weight=0.01, delay=1.0, p=0.0))[0].any()
    first, second = _response(sim.SimpleStochasticSynapse(weight=0.01, delay=1.0, p=0.5), trial_reset=True)
    assert first.any() and second.any() and not np.array_equal(first, second)
    again, _ = _response(sim.SimpleStochasticSynapse(weight=0.01, delay=1.0, p=0.5), trial_reset=True)
    np.testing.assert_array_equal(first, again)   # the same seed: the same draws


def test_tsodyks_markram_without_depression_is_static():
    """U = 1, tau_rec -> 0: every spike finds all resources back, so the synapse acts as a static one."""
    static = _response(sim.StaticSynapse(weight=0.01, delay=1.0))[0]
    tm = _response(sim.TsodyksMarkramSynapse(weight=0.01, delay=1.0, U=1.0, tau_rec=1e-3, tau_facil=0.0))[0]
    np.testing.assert_allclose(tm, static, rtol=0, atol=1e-9)   # y from the previous spike: 4e-11


def test_initialize_synaptic_state():
    """Projection.initialize(u=...) sets the utilization before the first spike (PyNN #268); a multi-quantal
    synapse starts with its n sites available and u = U, or as initialized."""
    default = _response(sim.TsodyksMarkramSynapse(weight=0.01, delay=1.0, U=0.2, tau_rec=50.0, tau_facil=100.0))[0]
    primed = _response(sim.TsodyksMarkramSynapse(weight=0.01, delay=1.0, U=0.2, tau_rec=50.0, tau_facil=100.0),
                       initialize={"u": 0.9})[0]
    assert primed.max() > 2 * default.max()
    quantal = _response(sim.MultiQuantalSynapse(weight=0.01, delay=1.0, U=1.0, n=3, tau_rec=1e6))[0]
    assert quantal.max() == pytest.approx(0.03)   # all three sites release at the first spike, none recovers
    one = _response(sim.MultiQuantalSynapse(weight=0.01, delay=1.0, U=1.0, n=3, tau_rec=1e6),
                    initialize={"a": 1})[0]
    assert one.max() == pytest.approx(0.01)


def test_bad_synaptic_parameters_and_state():
    sim.setup(timestep=0.1)
    pre, post = sim.Population(2, sim.SpikeSourcePoisson()), sim.Population(2, sim.IF_cond_exp())
    for synapse, match in ((sim.SimpleStochasticSynapse(p=1.5), "p must be in"),
                           (sim.TsodyksMarkramSynapse(U=-0.1), "U must be in"),
                           (sim.TsodyksMarkramSynapse(tau_rec=0.0), "tau_rec must be positive"),
                           (sim.MultiQuantalSynapse(n=0), "n must be a whole number")):
        with pytest.raises(errors.InvalidParameterValueError, match=match):
            sim.Projection(pre, post, sim.AllToAllConnector(), synapse)
    assert sim.simulator.state.projections == []
    static = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse())
    with pytest.raises(errors.NonExistentParameterError):
        static.initialize(u=0.5)
    tm = sim.Projection(pre, post, sim.AllToAllConnector(), sim.TsodyksMarkramSynapse())
    with pytest.raises(errors.NonExistentParameterError):
        tm.initialize(a=1)
    with pytest.raises(errors.InvalidParameterValueError):
        tm.set(U=2.0)
    assert tm.get("U", format="list")[0][2] == 0.5
    sim.end()


def test_state_survives_a_population_joining_between_runs():
    """A new population of the postsynaptic model makes the projections' blocks anew (the input ring grew): the
    synapses' state carries over, so the run goes on as without the newcomer."""
    def run(join: bool):
        sim.setup(timestep=0.1, precision="float64")
        pre = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(5.0, 200.0, 10.0)))
        post = sim.Population(1, sim.IF_curr_exp(i_offset=1.0))
        tm = sim.Projection(pre, post, sim.OneToOneConnector(), sim.TsodyksMarkramSynapse(
            weight=1.0, U=0.5, tau_rec=200.0))
        stdp = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(w_max=2.0),
            weight=1.0, delay=1.0))
        tm.record("x")
        sim.run(52.0)
        if join:
            sim.Population(3, sim.IF_curr_exp())
        sim.run(100.0)
        out = (np.asarray(tm.get_data().segments[-1].analogsignals[0]), stdp.get("weight", format="list")[0][2])
        sim.end()
        return out

    (x_join, w_join), (x_alone, w_alone) = run(True), run(False)
    np.testing.assert_array_equal(x_join, x_alone)
    assert w_join == w_alone


def test_bad_initial_values_and_tau_rec_equal_to_the_synaptic_time_constant():
    sim.setup(timestep=0.1)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    post = sim.Population(1, sim.IF_curr_exp(tau_syn_E=5.0))
    quantal = sim.Projection(pre, post, sim.OneToOneConnector(), sim.MultiQuantalSynapse(n=3))
    for values in (dict(a=10), dict(a=1.5), dict(a=-1), dict(u=5.0)):
        with pytest.raises(errors.InvalidParameterValueError):
            quantal.initialize(**values)
    with pytest.raises(errors.InvalidParameterValueError, match="tau_rec must differ"):
        sim.Projection(pre, post, sim.OneToOneConnector(), sim.TsodyksMarkramSynapse(tau_rec=5.0))
    tm = sim.Projection(pre, post, sim.OneToOneConnector(), sim.TsodyksMarkramSynapse(tau_rec=100.0))
    with pytest.raises(errors.InvalidParameterValueError, match="tau_rec must differ"):
        tm.set(tau_rec=5.0)
    sim.run(10.0)
    assert tm.get("tau_rec", format="list")[0][2] == 100.0
    sim.end()


def test_electrical_synapses_are_refused_clearly():
    sim.setup(timestep=0.1)
    with pytest.raises(errors.NoModelAvailableError, match="gap junctions"):
        sim.ElectricalSynapse(weight=0.1)
    sim.end()


def _duplicates(synapse, threads=1, n=2000, copies=4, precision="float64"):
    """A source that emits `copies` spikes in one step into n cells that only integrate (v counts the input)."""
    sim.setup(timestep=0.1, precision=precision, threads=threads, rng_seed=5)
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0] * copies))
    post = sim.Population(n, sim.IF_curr_exp(tau_m=1e9, tau_syn_E=0.5, v_thresh=1e9, cm=1.0, v_rest=0.0,
                                             v_reset=0.0, tau_refrac=0.0))
    post.initialize(v=0.0)
    sim.Projection(pre, post, sim.AllToAllConnector(), synapse)
    post.record("v")
    sim.run(20.0)
    v = np.asarray(post.get_data().segments[0].filter(name="v")[0])[-1]
    sim.end()
    return v / (0.5 * 1.0)   # a unit current pulse of tau_syn 0.5 ms moves v by 0.5 mV on 1 nF


def test_several_spikes_of_a_source_in_one_step():
    """Each spike counts: the Bernoulli synapse transmits a binomial number of them (NEST's bernoulli_synapse with
    a multiplicity), and the state of short-term synapses goes through them one after another, the same on any
    number of threads (they used to share one draw, and race on the state)."""
    counts = np.round(_duplicates(sim.SimpleStochasticSynapse(weight=1.0, delay=1.0, p=0.5)))
    frequencies = np.bincount(counts.astype(int), minlength=5) / counts.size
    np.testing.assert_allclose(frequencies, [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16], atol=0.04)
    tm = lambda: sim.TsodyksMarkramSynapse(weight=1.0, delay=1.0, U=0.5, tau_rec=800.0)  # noqa: E731
    one, four = _duplicates(tm(), n=50), _duplicates(tm(), threads=4, n=50)
    np.testing.assert_allclose(four, one, rtol=1e-12)
    expected, x = 0.0, 1.0   # u = U each time (no facilitation); no recovery within the step
    for _ in range(4):
        expected += 0.5 * x
        x -= 0.5 * x
    np.testing.assert_allclose(one, expected, rtol=1e-6)


def test_release_draws_of_separate_blocks_are_independent():
    """The synapses of a projection onto an Assembly sit in one block per population; each synapse draws with its
    own key (its index in the projection), so releases onto the two populations are independent (they used to
    share the draws of synapses with the same index in their blocks)."""
    sim.setup(timestep=0.1, rng_seed=7)
    n = 400
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(1.0, 1.0 + 5.0 * n, 5.0)))
    cell = dict(tau_m=1e9, v_thresh=1e6, v_rest=0.0, v_reset=0.0, tau_refrac=0.1, cm=1.0)
    a, b = sim.Population(1, sim.IF_curr_delta(**cell)), sim.Population(1, sim.IF_curr_delta(**cell))
    for population in (a, b):
        population.initialize(v=0.0)
        population.record("v")
    sim.Projection(source, a + b, sim.AllToAllConnector(), sim.SimpleStochasticSynapse(p=0.5, weight=1.0, delay=1.0))
    sim.run(5.0 * n + 5.0)
    released = [np.diff(np.asarray(p.get_data().segments[0].analogsignals[0])[:, 0]) > 0.5 for p in (a, b)]
    both = (released[0] & released[1]).sum() / n
    assert released[0].sum() / n == pytest.approx(0.5, abs=0.08)
    assert both == pytest.approx(0.25, abs=0.07)   # 0.5 when the draws were shared
    sim.end()
