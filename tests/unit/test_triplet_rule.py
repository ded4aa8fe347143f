"""TripletRule (pyNN.cupy's extension: NEST's stdp_triplet_synapse, the all-to-all triplet model of Pfister &
Gerstner 2006) on pyNN.cupy alone, against the rule computed event by event in this file: axonal delays (which
NEST does not have), repeated spikes of a source in one step, amplitudes per connection, the multiplicative weight
dependence, bad input, reset() and float32. Side by side with NEST: tests/vs_nest/test_triplet.py."""
import numpy as np
import pytest
from pyNN import errors

import pyNN.cupy as sim

DT, W_INIT, W_MAX = 0.1, 0.01, 0.02
TAUS = dict(tau_plus=16.8, tau_minus=33.7, tau_plus_triplet=101.0, tau_minus_triplet=125.0)
AMPLITUDES = dict(A_plus=0.005, A_minus=0.007, A_plus_triplet=0.01, A_minus_triplet=0.003)
PAIR_ONLY = dict(A_plus_triplet=0.0, A_minus_triplet=0.0)


def _triplet_rule(pre, post, d, axonal=False, w=W_INIT, w_min=0.0, w_max=W_MAX, mu=(0.0, 0.0),
                  repeats_see_each_other=True, **params):
    """The all-to-all triplet rule event by event at the synapse, on the time grid: presynaptic spikes `pre`
    (repeats allowed), postsynaptic `post`, delay d dendritic (a postsynaptic spike reaches the synapse d after it
    fires) or axonal (a presynaptic one does). At a postsynaptic arrival w grows by
    w_max (A_plus + A_plus_triplet o2) r1 (1 - w / w_max)^mu_plus, r1 over the presynaptic arrivals strictly before
    it, o2 over the postsynaptic spikes strictly before the spike; at a presynaptic arrival w falls by
    w_max (A_minus + A_minus_triplet r2) o1 ((w - w_min) / w_max)^mu_minus, o1 over the postsynaptic arrivals
    strictly before it, r2 over the earlier presynaptic spikes (a repeat in the same step sees the first).
    At equal times: dendritic, the postsynaptic arrival first (NEST's order), axonal, the presynaptic one."""
    p = dict(TAUS, **AMPLITUDES)
    p.update(params)
    mu_plus, mu_minus = mu
    delay = int(round(d / DT))
    pre_at = np.sort(np.rint(np.asarray(pre, float) / DT).astype(np.int64)) + (delay if axonal else 0)
    post_steps = np.rint(np.asarray(post, float) / DT).astype(np.int64)
    post_at = post_steps + (0 if axonal else delay)
    pre_key, post_key = (0, 1) if axonal else (1, 0)
    events = sorted([(int(t), pre_key, k) for k, t in enumerate(pre_at)] +
                    [(int(t), post_key, n) for n, t in enumerate(post_at)])

    def trace(steps, tau):
        return float(np.sum(np.exp(-np.asarray(steps, float) * DT / tau)))

    for t, key, k in events:
        if key == post_key:
            r1 = trace(t - pre_at[pre_at < t], p["tau_plus"])
            o2 = trace(post_steps[k] - post_steps[post_steps < post_steps[k]], p["tau_minus_triplet"])
            amplitude = p["A_plus"] + p["A_plus_triplet"] * o2
            w = min(w_max, w + w_max * amplitude * (1.0 - w / w_max) ** mu_plus * r1)
        else:
            o1 = trace(t - post_at[post_at < t], p["tau_minus"])
            earlier = pre_at[:k] if repeats_see_each_other else pre_at[pre_at < t]
            r2 = trace(t - earlier, p["tau_plus_triplet"])
            amplitude = p["A_minus"] + p["A_minus_triplet"] * r2
            w = max(w_min, w - w_max * amplitude * ((w - w_min) / w_max) ** mu_minus * o1)
    return w


def _driven_triplet(seed, n_pre, n_post, t_end=300.0, fraction=1, dependence=None, precision="float64",
                    **params):
    """Irregular presynaptic trains (about 30 Hz, up to t_end) into IF_curr_exp cells that a strong drive makes
    fire in bursts of two spikes 5 ms apart (about 40 Hz), all to all through TripletRule STDP (weights W_INIT in
    [0, W_MAX], delay 1 ms): the trains, the cells (recording spikes) and the projection."""
    rng = np.random.default_rng(seed)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(30.0, int(t_end / 20))), 1)) for _ in range(n_pre)]
    trains = [t[(t > 1.0) & (t < t_end)] for t in trains]
    sim.setup(timestep=DT, precision=precision)
    pre = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=trains))
    post = sim.Population(n_post, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    bursts = [(np.arange(3.0 + 7 * k, t_end, 45.0 + 6 * k)[:, None] + [0.0, 5.0]).ravel() for k in range(n_post)]
    drive = sim.Population(n_post, sim.SpikeSourceArray(spike_times=[b[b < t_end] for b in bursts]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    rule = dict(TAUS, **AMPLITUDES)
    rule.update(params)
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.TripletRule(**rule),
        weight_dependence=dependence or sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX),
        weight=W_INIT, delay=1.0, dendritic_delay_fraction=fraction))
    post.record("spikes")
    return trains, post, projection


def _post_spikes(post):
    return [np.asarray(train, dtype=float) for train in post.get_data().segments[-1].spiketrains]


def test_axonal_delays_against_the_rule():
    """dendritic_delay_fraction = 0, delays of 1 and 2.5 ms mixed: presynaptic spikes reach the synapse d after
    they are emitted, the traces r1 and r2 count those arrivals; every final weight is the rule's."""
    rng = np.random.default_rng(11)
    trains, post, projection = _driven_triplet(1, 8, 3, fraction=0)
    delays = rng.choice([1.0, 2.5], (8, 3))
    projection.set(delay=delays)
    sim.run(320.0)
    posts = _post_spikes(post)
    assert all(len(p) >= 10 for p in posts)
    weights = projection.get("weight", format="array")
    assert np.abs(weights - W_INIT).max() > 1e-3   # learning moved them
    pair_only_differs = 0.0
    for i in range(8):
        for j in range(3):
            expected = _triplet_rule(trains[i], posts[j], delays[i, j], axonal=True)
            assert weights[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-15), (i, j)
            pair_only = _triplet_rule(trains[i], posts[j], delays[i, j], axonal=True, **PAIR_ONLY)
            pair_only_differs = max(pair_only_differs, abs(expected - pair_only))
    assert pair_only_differs > 1e-3   # the triplet terms matter here
    sim.end()


def test_repeated_spikes_of_a_source_in_one_step():
    """A SpikeSourceArray with the time 20 ms twice (delays dendritic): both spikes depress, the second with r2
    counting the first (NEST's Kplus_triplet += 1 after each spike); a later postsynaptic spike potentiates with
    both in r1."""
    sim.setup(timestep=DT, precision="float64")
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[20.0, 20.0, 40.0], [30.0]]))
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[12.0, 15.0, 25.0, 35.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.TripletRule(**dict(TAUS, A_plus=0.005, A_minus=0.007, A_plus_triplet=0.01,
                                                 A_minus_triplet=0.05)),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX), weight=W_INIT, delay=2.0))
    post.record("spikes")
    sim.run(60.0)
    posts = _post_spikes(post)[0]
    assert len(posts) == 4
    weights = np.array([w for _, _, w in sorted(projection.get("weight", format="list"))])
    params = dict(A_minus_triplet=0.05)
    expected = [_triplet_rule([20.0, 20.0, 40.0], posts, 2.0, **params), _triplet_rule([30.0], posts, 2.0, **params)]
    np.testing.assert_allclose(weights, expected, rtol=1e-12, atol=1e-15)
    unseen = _triplet_rule([20.0, 20.0, 40.0], posts, 2.0, repeats_see_each_other=False, **params)
    assert abs(unseen - expected[0]) > 1e-5   # the check can tell
    sim.end()


def test_triplet_amplitude_per_connection():
    """A_plus_triplet set per connection (projection.set): identical trains into identical cells, so the weights
    differ only by it, each as the rule gives with its own value; get() gives the values back."""
    sim.setup(timestep=DT, precision="float64")
    train = [5.0, 17.3, 30.0, 52.1, 60.0, 81.4, 95.0]
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=train))
    post = sim.Population(3, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    drive = sim.Population(3, sim.SpikeSourceArray(spike_times=[10.0, 14.0, 25.0, 28.0, 55.0, 58.0, 70.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.TripletRule(**dict(TAUS, **AMPLITUDES)),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX), weight=W_INIT, delay=1.5))
    a_plus_triplet = np.array([0.0, 0.01, 0.05])
    projection.set(A_plus_triplet=np.diag(a_plus_triplet))   # one-to-one: the diagonal is used
    post.record("spikes")
    sim.run(110.0)
    posts = _post_spikes(post)
    assert all(np.array_equal(p, posts[0]) for p in posts) and len(posts[0]) == 7
    weights = np.array([w for _, _, w in sorted(projection.get("weight", format="list"))])
    expected = [_triplet_rule(train, posts[0], 1.5, A_plus_triplet=a) for a in a_plus_triplet]
    np.testing.assert_allclose(weights, expected, rtol=1e-12, atol=1e-15)
    assert np.diff(expected).min() > 1e-5   # each amplitude shows
    got = [a for _, _, a in sorted(projection.get("A_plus_triplet", format="list"))]
    np.testing.assert_array_equal(got, a_plus_triplet)
    sim.end()


def test_multiplicative_weight_dependence_against_the_rule():
    """MultiplicativeWeightDependence (delays dendritic): A_plus + A_plus_triplet o2 and A_minus + A_minus_triplet
    r2 in place of A_plus and A_minus in the soft-bounded updates, w_min 0.002."""
    dependence = sim.MultiplicativeWeightDependence(w_min=0.002, w_max=W_MAX)
    trains, post, projection = _driven_triplet(2, 6, 2, dependence=dependence, A_plus=0.05, A_minus=0.07,
                                               A_plus_triplet=0.1, A_minus_triplet=0.03)
    delays = np.random.default_rng(5).choice([1.0, 2.0], (6, 2))
    projection.set(delay=delays)
    sim.run(310.0)
    posts = _post_spikes(post)
    weights = projection.get("weight", format="array")
    assert np.abs(weights - W_INIT).max() > 1e-3
    params = dict(A_plus=0.05, A_minus=0.07, A_plus_triplet=0.1, A_minus_triplet=0.03)
    for i in range(6):
        for j in range(2):
            expected = _triplet_rule(trains[i], posts[j], delays[i, j], w_min=0.002, mu=(1.0, 1.0), **params)
            assert weights[i, j] == pytest.approx(expected, rel=1e-12), (i, j)
            if (i, j) == (0, 0):
                additive = _triplet_rule(trains[i], posts[j], delays[i, j], w_min=0.002, **params)
                assert abs(additive - expected) > 1e-5   # the weight dependence shows
    sim.end()


@pytest.mark.parametrize("bad,name", [
    (dict(A_minus_triplet=-0.001), "A_minus_triplet"),
    (dict(A_plus_triplet=-0.5), "A_plus_triplet"),
    (dict(tau_minus_triplet=0.0), "tau_minus_triplet"),
    (dict(tau_plus_triplet=-10.0), "tau_plus_triplet"),
])
def test_bad_values_name_the_parameter(bad, name):
    """A negative amplitude or a time constant not above 0: InvalidParameterValueError naming the parameter, and no
    projection left behind."""
    sim.setup(timestep=DT)
    pre, post = sim.Population(2, sim.SpikeSourcePoisson(rate=10.0)), sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(errors.InvalidParameterValueError, match=name):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.TripletRule(**bad), weight_dependence=sim.AdditiveWeightDependence(w_max=1.0),
            weight=0.5))
    assert sim.simulator.state.projections == []
    sim.end()


@pytest.mark.parametrize("name", ["tau_plus_triplet", "tau_minus_triplet"])
def test_triplet_time_constants_per_connection_are_refused(name):
    """The four time constants are one value per projection (traces kept per neuron); a negative amplitude given
    per connection is refused too; either leaves the projection as it was."""
    sim.setup(timestep=DT)
    pre, post = sim.Population(2, sim.SpikeSourcePoisson(rate=10.0)), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.TripletRule(), weight_dependence=sim.AdditiveWeightDependence(w_max=1.0), weight=0.5))
    before = projection.get([name, "A_minus_triplet"], format="array")
    with pytest.raises(errors.NoModelAvailableError, match=name):
        projection.set(**{name: np.array([[50.0, 80.0], [50.0, 80.0]])})
    with pytest.raises(errors.InvalidParameterValueError, match="A_minus_triplet"):
        projection.set(A_minus_triplet=np.array([[0.001, -0.001], [0.0, 0.001]]))
    np.testing.assert_array_equal(projection.get([name, "A_minus_triplet"], format="array"), before)
    sim.run(5.0)
    sim.end()


def test_reset_clears_the_triplet_traces():
    """reset() keeps the weights (as NEST) and clears all four traces: a trial of two presynaptic spikes and a burst
    of two postsynaptic ones changes the weight by the rule's amount from zero traces, in the first trial and again
    after reset() (additive, no bound reached). Traces carried over from the first trial (o2 and r2 decay with 125
    and 101 ms) would change the second trial's amount."""
    sim.setup(timestep=DT, precision="float64")
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 30.0]))
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[14.0, 20.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.TripletRule(**dict(TAUS, **AMPLITUDES)),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX), weight=W_INIT, delay=1.0))
    post.record("spikes")
    sim.run(40.0)
    first = projection.get("weight", format="list")[0][2]
    posts = _post_spikes(post)[0]
    assert len(posts) == 2
    expected = _triplet_rule([10.0, 30.0], posts, 1.0) - W_INIT
    assert first - W_INIT == pytest.approx(expected, rel=1e-10)
    # what a second trial would give if the traces at 40 ms went on from time 0 (all four carried over)
    past = [posts[0] - 40.0, posts[1] - 40.0]
    stale = _triplet_rule([-30.0, -10.0, 10.0, 30.0], [*past, *posts], 1.0) - _triplet_rule([-30.0, -10.0], past, 1.0)
    assert abs(stale - expected) > 1e-3 * abs(expected)
    sim.reset()
    sim.run(40.0)
    assert np.array_equal(_post_spikes(post)[0], posts)
    second = projection.get("weight", format="list")[0][2]
    assert second - first == pytest.approx(expected, rel=1e-9)
    sim.end()


def test_float32_close_to_float64():
    """float32 (all four traces decayed step by step in single precision) against float64: the same postsynaptic
    spikes and every weight within rtol 3e-5 (the float32 decay factor of tau 125 ms is off by 2.4e-8 a step: about
    8e-6 over the run)."""
    def learn(precision):
        _, post, projection = _driven_triplet(3, 6, 2, precision=precision)
        sim.run(310.0)
        weights, posts = projection.get("weight", format="array"), _post_spikes(post)
        sim.end()
        return weights, posts
    w64, posts64 = learn("float64")
    w32, posts32 = learn("float32")
    assert all(np.array_equal(a, b) for a, b in zip(posts32, posts64))
    assert np.abs(w64 - W_INIT).max() > 1e-3
    np.testing.assert_allclose(w32, w64, rtol=3e-5)
