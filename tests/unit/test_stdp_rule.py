"""STDPMechanism on pyNN.cupy alone: the rule against a hand computation where pyNN.nest cannot run it (Gutig
exponents), per-connection parameters, when potentiation becomes visible, weights between runs and after
reset(), and bad input. Side by side with NEST: tests/vs_nest/test_stdp.py."""
import numpy as np
import pytest
from pyNN import errors

import pyNN.cupy as sim

T_PRE, DELAY = 10.0, 1.0
TAU_PLUS, TAU_MINUS = 20.0, 15.0


def _pair(weight_dependence, post_drive, pre_times=(T_PRE,), t_stop=100.0, weight=0.5, a_plus=0.01, a_minus=0.012,
          precision="float64", n=1):
    """One presynaptic source and IF_curr_exp cells that spike once after a strong input at `post_drive`."""
    sim.setup(timestep=0.1, precision=precision)
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=list(pre_times)))
    post = sim.Population(n, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))
    drive = sim.Population(n, sim.SpikeSourceArray(spike_times=[post_drive]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=a_plus, A_minus=a_minus),
        weight_dependence=weight_dependence, weight=weight, delay=DELAY)
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), stdp)
    post.record("spikes")
    sim.run(t_stop)
    post_times = [np.asarray(train).tolist() for train in post.get_data().segments[0].spiketrains]
    return projection, post_times


def test_gutig_exponents_against_the_rule_by_hand():
    """mu_plus = 0.4, mu_minus = 0.7 (pyNN.nest drops them, so no side-by-side): potentiation by one pair, then
    depression by the readout spike, each computed by hand from cuda/stdp.cu's formulas."""
    dependence = sim.GutigWeightDependence(w_min=0.0, w_max=1.0, mu_plus=0.4, mu_minus=0.7)
    projection, post_times = _pair(dependence, 14.0, pre_times=(T_PRE, 60.0))
    t_post = post_times[0][0]
    k_plus = np.exp(-(t_post + DELAY - T_PRE) / TAU_PLUS)
    w = (0.5 + 0.01 * (1 - 0.5) ** 0.4 * k_plus) * 1.0
    k_minus = np.exp(-(60.0 - DELAY - t_post) / TAU_MINUS)
    w = (w - 0.012 * w ** 0.7 * k_minus) * 1.0
    assert projection.get("weight", format="list")[0][2] == pytest.approx(w, rel=1e-12)
    sim.end()


def test_potentiation_is_visible_when_the_post_spike_reaches_the_synapse():
    """pyNN.cupy applies potentiation when the postsynaptic spike reaches the synapse; NEST defers it to the next
    presynaptic spike (its get() shows the old weight until then). The weights agree whenever a presynaptic spike
    follows (tests/vs_nest/test_stdp.py)."""
    projection, post_times = _pair(sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), 14.0)
    expected = 0.5 + 0.01 * np.exp(-(post_times[0][0] + DELAY - T_PRE) / TAU_PLUS)
    assert projection.get("weight", format="list")[0][2] == pytest.approx(expected, rel=1e-12)
    sim.end()


def test_per_connection_amplitudes_and_bounds():
    """A_plus and w_max given per connection (set() between creation and the run) act per synapse."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=[T_PRE]))
    post = sim.Population(3, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))
    drive = sim.Population(3, sim.SpikeSourceArray(spike_times=[14.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), weight=0.5,
                             delay=DELAY)
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), stdp)
    projection.set(A_plus=np.array([0.01, 0.02, 0.5]), w_max=np.array([1.0, 1.0, 0.6]))
    post.record("spikes")
    sim.run(50.0)
    t_post = np.asarray(post.get_data().segments[0].spiketrains[0])[0]
    k_plus = np.exp(-(t_post + DELAY - T_PRE) / TAU_PLUS)
    weights = np.array([w for _, _, w in sorted(projection.get("weight", format="list"))])
    np.testing.assert_allclose(weights, [0.5 + 0.01 * k_plus, 0.5 + 0.02 * k_plus, 0.6], rtol=1e-12)
    a_plus, w_max = projection.get(["A_plus", "w_max"], format="array")
    assert a_plus[2, 2] == 0.5 and w_max[2, 2] == 0.6
    sim.end()


def test_weights_between_runs_and_after_reset():
    """get() reads what the device learned; set() writes in place (the step plan stays); save() and
    FromFileConnector give the learned weights back; reset() keeps the weights (as NEST) and clears the traces, so
    the same pairing in the next trial changes the weight by the same amount again (additive rule)."""
    projection, _ = _pair(sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), 14.0, t_stop=50.0)
    learned = projection.get("weight", format="list")[0][2]
    assert learned > 0.5
    state = sim.simulator.state
    plan = state._plan
    projection.set(weight=0.3)
    assert projection.get("weight", format="list")[0][2] == 0.3
    sim.run(1.0)
    assert state._plan is plan
    projection.set(weight=learned)
    sim.reset()
    sim.run(50.0)
    again = projection.get("weight", format="list")[0][2]
    assert again - learned == pytest.approx(learned - 0.5, rel=1e-9)
    sim.end()


def test_save_and_reload_learned_weights(tmp_path):
    projection, _ = _pair(sim.MultiplicativeWeightDependence(w_min=0.0, w_max=1.0), 14.0, t_stop=50.0, n=3)
    learned = np.array(projection.get(["weight"], format="list"))
    path = str(tmp_path / "weights.txt")
    projection.save(["weight"], path, format="list")
    pre, post = projection.pre, projection.post
    copy = sim.Projection(pre, post, sim.FromFileConnector(path), sim.StaticSynapse())
    np.testing.assert_allclose(np.array(copy.get(["weight"], format="list"))[:, 2], learned[:, 2], rtol=1e-12)
    sim.end()


def test_float32_run():
    projection, post_times = _pair(sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), 14.0, precision="float32")
    expected = 0.5 + 0.01 * np.exp(-(post_times[0][0] + DELAY - T_PRE) / TAU_PLUS)
    assert projection.get("weight", format="list")[0][2] == pytest.approx(expected, rel=1e-6)
    sim.end()


@pytest.mark.parametrize("rule,weight_dependence,weight,match", [
    (dict(tau_plus=-1.0), dict(), 0.5, "tau_plus must be positive, got"),
    (dict(tau_minus=0.0), dict(), 0.5, "tau_minus must be positive, got"),
    (dict(A_plus=-0.1), dict(), 0.5, "A_plus must be finite and not negative, got"),
    (dict(A_plus=np.inf), dict(), 0.5, "A_plus must be finite and not negative, got"),
    (dict(A_minus=1e39), dict(), 0.5, "A_minus must be finite"),   # inf in float32, the default precision
    (dict(), dict(w_min=0.8, w_max=0.2), 0.5, "w_min must not be above w_max"),
    (dict(), dict(w_max=0.0), 0.0, "w_max must be finite and positive"),
    (dict(), dict(w_max=np.nan), 0.0, "w_max must be finite and positive"),
    (dict(), dict(w_min=-1.0, w_max=-0.1), -0.5, "w_max must be finite and positive"),
    (dict(), dict(w_min=-0.1), 0.5, "w_min must not be negative"),
    (dict(), dict(w_max=0.4), 0.5, "weight 0.5 is outside the STDP bounds"),
])
def test_bad_parameters_name_the_value_and_leave_nothing(rule, weight_dependence, weight, match):
    sim.setup(timestep=0.1)
    pre = sim.Population(2, sim.SpikeSourcePoisson(rate=10.0))
    post = sim.Population(2, sim.IF_curr_exp())
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(**rule),
                             weight_dependence=sim.AdditiveWeightDependence(**dict(dict(w_max=1.0),
                                                                                   **weight_dependence)),
                             weight=weight)
    with pytest.raises(errors.InvalidParameterValueError, match=match):
        sim.Projection(pre, post, sim.AllToAllConnector(), stdp)
    assert sim.simulator.state.projections == []
    good = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(), weight=0.5))
    with pytest.raises(errors.InvalidParameterValueError):
        good.set(weight=2.0)   # above w_max = 1
    assert good.get("weight", format="array")[0, 0] == 0.5   # unchanged
    sim.run(1.0)
    sim.end()


def test_unsupported_configurations_are_refused():
    sim.setup(timestep=0.1)
    with pytest.raises(errors.NoModelAvailableError, match="dendritic_delay_fraction"):
        sim.STDPMechanism(timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(),
                          dendritic_delay_fraction=0.5)
    pre, post = sim.Population(2, sim.SpikeSourcePoisson()), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(), weight=0.5))
    with pytest.raises(errors.NoModelAvailableError, match="tau_minus differs between connections"):
        projection.set(tau_minus=np.array([[10.0, 20.0], [10.0, 20.0]]))   # per postsynaptic cell, as NEST
    assert projection.get("tau_minus", format="list")[0][2] == 20.0   # unchanged
    for fraction in (0, 0.5):   # the delay convention is the synapse type's, fixed with the projection
        with pytest.raises(errors.NoModelAvailableError, match="dendritic_delay_fraction"):
            projection.set(dendritic_delay_fraction=fraction)
    projection.set(dendritic_delay_fraction=1.0)   # the same: nothing to change
    assert projection.get("dendritic_delay_fraction", format="list")[0][2] == 1.0
    with pytest.raises(errors.ConnectionError):   # a spike source takes no input, plastic or not
        sim.Projection(post, pre, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence()))
    sim.end()


def _driven_stdp(rng, sources: tuple, cells: tuple, tau_plus: float, fraction: float) -> tuple:
    """Irregular presynaptic trains (`sources`: how many, mean interval, intervals drawn, end in ms), cells made to
    spike by a strong regular drive (`cells`: how many, first drive time, its period, end), and all-to-all
    multiplicative STDP from the trains to the cells (A_plus 0.05, A_minus 0.06, weights 0.01 in [0, 0.02], delay
    1 ms): the trains, the cells and the projection."""
    n_pre, interval, count, end = sources
    trains = [np.unique(np.round(np.cumsum(rng.exponential(interval, count)), 1)) for _ in range(n_pre)]
    trains = [t[(t > 1.0) & (t < end)] for t in trains]
    n_post, first, period, drive_end = cells
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(n_pre, sim.SpikeSourceArray(spike_times=trains))
    post = sim.Population(n_post, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    drive = sim.Population(n_post, sim.SpikeSourceArray(
        spike_times=[np.arange(first + 3 * k, drive_end, period + 4 * k) for k in range(n_post)]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=tau_plus, tau_minus=TAU_MINUS, A_plus=0.05, A_minus=0.06),
        weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.02), weight=0.01, delay=1.0,
        dendritic_delay_fraction=fraction))
    return trains, post, projection


def _axonal_rule(pre, post, w, d, tau_plus, tau_minus, a_plus, a_minus, w_max):
    """All-to-all pair STDP with purely axonal delays, event by event (the analytic rule): a presynaptic spike
    reaches the synapse d after it is emitted and is depressed there by the postsynaptic spikes before it; a
    postsynaptic spike potentiates with the presynaptic spikes that reached the synapse before it (multiplicative
    weight dependence, w_min = 0). At equal times the arrival comes first and neither pairs with the other."""
    events = sorted([(t + d, 0) for t in pre] + [(t, 1) for t in post])
    for time, kind in events:
        if kind == 0:
            k_minus = sum(np.exp(-(time - q) / tau_minus) for q in post if q < time - 1e-9)
            w = max(w - a_minus * w * k_minus, 0.0)
        else:
            k_plus = sum(np.exp(-(time - (p + d)) / tau_plus) for p in pre if p + d < time - 1e-9)
            w = min(w + a_plus * (w_max - w) * k_plus, w_max)
    return w


@pytest.mark.parametrize("per_connection_tau_plus", [False, True])
def test_axonal_delays_against_the_rule(per_connection_tau_plus):
    """dendritic_delay_fraction = 0 (Brian2's and SpiNNaker's convention; pyNN.nest refuses it): irregular trains
    through synapses with delays of 1 and 2.5 ms; every final weight equals the rule computed event by event, also
    with tau_plus per connection (each synapse then keeps its own trace of the arrivals)."""
    rng = np.random.default_rng(11)
    trains, post, projection = _driven_stdp(rng, (8, 40.0, 12, 400.0), (3, 7.0, 23.0, 400.0), TAU_PLUS, 0)
    delays = rng.choice([1.0, 2.5], (8, 3))
    projection.set(delay=delays)
    tau_plus = rng.choice([5.0, 12.5, TAU_PLUS, 40.0], (8, 3)) if per_connection_tau_plus else np.full((8, 3), TAU_PLUS)
    projection.set(tau_plus=tau_plus)
    post.record("spikes")
    sim.run(450.0)
    posts = [np.asarray(train) for train in post.get_data().segments[0].spiketrains]
    assert all(len(p) > 10 for p in posts)
    weights = projection.get("weight", format="list")
    assert max(abs(w - 0.01) for _, _, w in weights) > 1e-3   # learning moved them
    for i, j, w in weights:
        i, j = int(i), int(j)
        arrived = posts[j][posts[j] <= 450.0]
        expected = _axonal_rule(trains[i][trains[i] + delays[i, j] <= 450.0], arrived, 0.01, delays[i, j],
                                tau_plus[i, j], TAU_MINUS, 0.05, 0.06, 0.02)
        assert w == pytest.approx(expected, rel=1e-12, abs=1e-15), (i, j)
    sim.end()


def test_plastic_projection_from_file(tmp_path):
    """FromFileConnector (PyNN's per-cell path) with an STDPMechanism: the STDP defaults come without a shape."""
    path = tmp_path / "connections.txt"
    np.savetxt(path, [[0, 0, 0.2, 1.0], [1, 2, 0.4, 1.5]], header="columns = ['i', 'j', 'weight', 'delay']")
    sim.setup(timestep=0.1)
    pre, post = sim.Population(4, sim.SpikeSourcePoisson()), sim.Population(3, sim.IF_curr_exp())
    for rule in (sim.SpikePairRule(), sim.Vogels2011Rule()):
        projection = sim.Projection(pre, post, sim.FromFileConnector(str(path)), sim.STDPMechanism(
            timing_dependence=rule, weight_dependence=sim.AdditiveWeightDependence(w_max=1.0)))
        assert projection.get(["weight", "delay"], format="list") == [(0, 0, 0.2, 1.0), (1, 2, 0.4, 1.5)]
    sim.run(5.0)
    sim.end()


def test_stdp_onto_a_point_neuron_receptor():
    """A plastic projection onto a named receptor of a composed cell: the rule as onto IF_curr_exp."""
    sim.setup(timestep=0.1, precision="float64")
    cell = sim.PointNeuron(sim.LIF(tau_refrac=5.0), AMPA=sim.CurrExpPostSynapticResponse(tau_syn=0.5),
                           NMDA=sim.CurrExpPostSynapticResponse(tau_syn=20.0))
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[T_PRE, 60.0]))
    post = sim.Population(1, cell)
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[14.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1),
                   receptor_type="AMPA")
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), weight=0.5, delay=DELAY),
        receptor_type="NMDA")
    post.record("spikes")
    sim.run(100.0)
    t_post = float(post.get_data().segments[0].spiketrains[0][0])
    expected = 0.5 + 0.01 * np.exp(-(t_post + DELAY - T_PRE) / TAU_PLUS) \
        - 0.012 * np.exp(-(60.0 - DELAY - t_post) / TAU_MINUS)
    assert projection.get("weight", format="list")[0][2] == pytest.approx(expected, rel=1e-12)
    sim.end()


def test_axonal_delays_with_several_spikes_of_a_source_in_one_step():
    """Delays axonal, a source emitting two spikes in one step: taken one after another as the rule takes them,
    the same on one and four threads."""
    def run(threads):
        sim.setup(timestep=0.1, precision="float64", threads=threads)
        pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[[20.0, 20.0, 40.0], [30.0]]))
        post = sim.Population(40, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
        drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[12.0, 25.0, 35.0]))
        sim.Projection(drive, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
        projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=0.05, A_minus=0.06),
            weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.02), weight=0.01, delay=2.0,
            dendritic_delay_fraction=0))
        post.record("spikes")
        sim.run(60.0)
        posts = np.asarray(post.get_data().segments[0].spiketrains[0])
        weights = np.array([w for _, _, w in sorted(projection.get("weight", format="list"))])
        sim.end()
        return posts, weights

    posts, one = run(1)
    _, four = run(4)
    np.testing.assert_array_equal(four, one)
    expected = _axonal_rule(np.array([20.0, 20.0, 40.0]), posts, 0.01, 2.0, TAU_PLUS, TAU_MINUS, 0.05, 0.06, 0.02)
    assert one[0] == pytest.approx(expected, rel=1e-12)


def test_gutig_exponents_per_connection():
    """mu_plus and mu_minus may differ between connections (NEST's stdp_synapse has them per connection)."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(2, sim.SpikeSourceArray(spike_times=[T_PRE, 60.0]))
    post = sim.Population(2, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))
    drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[14.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.GutigWeightDependence(w_min=0.0, w_max=1.0), weight=0.5, delay=DELAY))
    mu = {0: (0.4, 0.7), 1: (1.0, 0.2)}
    projection.set(mu_plus=np.diag([mu[0][0], mu[1][0]]), mu_minus=np.diag([mu[0][1], mu[1][1]]))
    post.record("spikes")
    sim.run(100.0)
    t_post = float(post.get_data().segments[0].spiketrains[0][0])
    for i, j, w in projection.get("weight", format="list"):
        mu_plus, mu_minus = mu[int(i)]
        expected = 0.5 + 0.01 * (1 - 0.5) ** mu_plus * np.exp(-(t_post + DELAY - T_PRE) / TAU_PLUS)
        expected -= 0.012 * expected ** mu_minus * np.exp(-(60.0 - DELAY - t_post) / TAU_MINUS)
        assert w == pytest.approx(expected, rel=1e-12)
    sim.end()


def test_tau_plus_per_connection():
    """tau_plus per connection (NEST's stdp_synapse has it per connection): each synapse keeps its own
    presynaptic trace; irregular trains give every weight of the rule, which the per-neuron traces give where
    tau_plus is one value."""
    sim.setup(timestep=0.1, precision="float64")
    rng = np.random.default_rng(4)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(25.0, 12)), 1)) for _ in range(3)]
    trains = [t[(t > 1.0) & (t < 250.0)] for t in trains]
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=trains))
    post = sim.Population(2, sim.IF_curr_exp(tau_refrac=2.0, tau_syn_E=0.5))
    drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[np.arange(9.0, 250.0, 17.0),
                                                                np.arange(4.0, 250.0, 29.0)]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=10.0, tau_minus=TAU_MINUS, A_plus=0.05, A_minus=0.06),
        weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.02), weight=0.01, delay=1.0))
    tau_plus = np.array([[5.0, 10.0], [20.0, 40.0], [10.0, 7.5]])
    projection.set(tau_plus=tau_plus)
    post.record("spikes")
    sim.run(260.0)
    posts = [np.asarray(train) for train in post.get_data().segments[0].spiketrains]
    for i, j, w in projection.get("weight", format="list"):
        i, j = int(i), int(j)
        expected = _nest_rule(np.append(trains[i], 1e9), posts[j][posts[j] + 1.0 <= 260.0], 0.01, 1.0,
                              tau_plus[i, j], TAU_MINUS, 0.05, 0.06, 0.02)
        assert w == pytest.approx(expected, rel=1e-12), (i, j)
    sim.end()


def _nest_rule(pre, post, w, d, tau_plus, tau_minus, a_plus, a_minus, w_max):
    """NEST's stdp_synapse, multiplicative, in its own order (potentiation by the postsynaptic spikes since the last
    presynaptic one at each presynaptic spike, then depression); a last presynaptic spike far away makes it
    apply the pending potentiation."""
    k_plus, t_last = 0.0, 0.0
    for t_pre in pre:
        for t_post in post[(post > t_last - d + 1e-9) & (post <= t_pre - d + 1e-9)]:
            w = min(w + a_plus * (w_max - w) * k_plus * np.exp((t_last - t_post - d) / tau_plus), w_max)
        if t_pre < 1e8:
            k_minus = np.sum(np.exp(-(t_pre - d - post[post < t_pre - d - 1e-9]) / tau_minus))
            w = max(w - a_minus * w * k_minus, 0.0)
        k_plus = k_plus * np.exp((t_last - t_pre) / tau_plus) + 1.0
        t_last = t_pre
    return w


@pytest.mark.parametrize("fraction", [1.0, 0.0])
def test_setting_the_same_delays_between_runs_changes_nothing(fraction):
    """New delays rebuild a plastic block's segments and rings; the traces and spike histories go on (NEST keeps
    them too), so delays set to their values between runs leave the learning exactly as in one run. (They used to
    be cleared.)"""
    def learn(set_delays: bool):
        sim.setup(timestep=0.1, precision="float64", max_delay=5.0)
        rng = np.random.default_rng(5)
        trains = [np.round(np.cumsum(rng.exponential(25.0, 20)), 1) + 0.5 for _ in range(6)]
        source = sim.Population(6, sim.SpikeSourceArray(spike_times=trains))
        post = sim.Population(3, sim.IF_curr_exp(tau_refrac=2.0, i_offset=0.6))
        projection = sim.Projection(source, post, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.005, A_minus=0.00525),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.8), weight=0.4, delay=1.0,
            dendritic_delay_fraction=fraction))
        delays = rng.choice([1.0, 1.5, 3.0], (6, 3))
        projection.set(delay=delays)
        sim.run(150.0)
        if set_delays:
            projection.set(delay=delays)
        sim.run(250.0)
        weights = projection.get("weight", format="array")
        sim.end()
        return weights
    assert np.array_equal(learn(True), learn(False))
    assert not np.array_equal(learn(False), np.full((6, 3), 0.4))


def test_empty_plastic_projection_runs():
    sim.setup(timestep=0.1)
    source, post = sim.Population(4, sim.SpikeSourceArray(spike_times=[1.0])), sim.Population(3, sim.IF_curr_exp())
    projection = sim.Projection(source, post, sim.FixedProbabilityConnector(0.0), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(), weight=0.1,
        delay=1.0))
    sim.run(5.0)
    assert len(projection) == 0 and projection.get("weight", format="list") == []
    sim.end()


def test_traces_go_on_when_delays_change_between_runs():
    """Delays set between runs (dendritic): the presynaptic spike at 10 ms, the run paused before the
    postsynaptic spike, the delay set from 1 to 2.5 ms: the postsynaptic spike reaches the synapse 2.5 ms after it
    fires and potentiates with the presynaptic trace of before the change (it used to be cleared)."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[T_PRE]))
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[14.0]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), weight=0.5, delay=DELAY))
    post.record("spikes")
    sim.run(12.0)
    projection.set(delay=2.5)
    sim.run(38.0)
    t_post = float(post.get_data().segments[0].spiketrains[0][0])
    expected = 0.5 + 0.01 * np.exp(-(t_post + 2.5 - T_PRE) / TAU_PLUS)
    assert projection.get("weight", format="list")[0][2] == pytest.approx(expected, rel=1e-12)
    sim.end()


def test_axonal_spikes_in_flight_are_not_re_timed_when_delays_change():
    """Axonal delays set between runs: a presynaptic spike already on its way under the old delays is dropped
    (the history that would carry it is made anew), never delivered twice or at a new time (it used to be
    replayed with the new delays); one that had arrived stays. Unchanged delays change nothing."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    cells = sim.Population(2, sim.IF_curr_exp(tau_syn_E=0.2, tau_m=1e4, v_thresh=100.0))
    projection = sim.Projection(pre, cells, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(A_plus=0.0, A_minus=0.0),
        weight_dependence=sim.AdditiveWeightDependence(w_max=2.0), weight=1.0, delay=1.0,
        dendritic_delay_fraction=0))
    projection.set(delay=np.array([[0.5, 3.0]]))
    cells.record("v")
    sim.run(10.8)
    projection.set(delay=np.array([[0.5, 3.0]]))   # the same: the spikes stay on their way
    sim.run(0.2)
    projection.set(delay=2.0)
    sim.run(9.0)
    v = np.asarray(cells.get_data().segments[0].filter(name="v")[0])
    rises = [np.flatnonzero(np.diff(v[:, k]) > 1e-4) * 0.1 for k in range(2)]
    assert rises[0][0] == pytest.approx(10.5) and np.all(rises[0] < 12.0)   # one PSP (rising for a few steps)
    assert rises[1].size == 0   # was due at 13.0: dropped with the change at 11.0 (not re-timed to 12.0)
    sim.end()


def test_axonal_traces_go_on_when_delays_change_between_runs():
    """Axonal delays set between runs with nothing in flight: a presynaptic spike that had arrived before the change
    still potentiates at the next postsynaptic spike, its trace read at t - d with the new d (it used to be
    forgotten)."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[90.0]))   # arrives at 91 ms
    post = sim.Population(1, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=[100.5]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=TAU_PLUS, A_plus=0.01, A_minus=0.0),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.0), weight=0.5, delay=1.0,
        dendritic_delay_fraction=0))
    post.record("spikes")
    sim.run(95.0)
    projection.set(delay=2.0)
    sim.run(20.0)
    post_times = np.asarray(post.get_data().segments[0].spiketrains[0])
    assert post_times.size == 1
    expected = 0.5 + 0.01 * np.exp(-(post_times[0] - (90.0 + 2.0)) / TAU_PLUS)
    assert projection.get("weight", format="list")[0][2] == pytest.approx(expected, rel=1e-12)
    sim.end()


@pytest.mark.parametrize("fraction", [1.0, 0.0])
@pytest.mark.parametrize("switch", ["to per connection", "back to one value"])
def test_tau_plus_changed_between_runs(fraction, switch):
    """tau_plus set between runs, from one value to values per connection or back: every connection whose tau_plus
    stays 20 ms follows the rule with 20 ms throughout (NEST keeps each synapse's Kplus when its tau_plus changes;
    the per-synapse traces start from the per-neuron one, and once in use they stay)."""
    trains, post, projection = _driven_stdp(np.random.default_rng(7), (3, 15.0, 14, 190.0), (2, 5.0, 11.0, 200.0),
                                            20.0, fraction)
    odd = (2, 1) if switch == "to per connection" else (0, 0)   # the connection whose tau_plus is not 20 a while
    tau = np.full((3, 2), 20.0)
    tau[odd] = 7.5
    if switch == "back to one value":
        projection.set(tau_plus=tau)
    post.record("spikes")
    sim.run(100.0)
    projection.set(tau_plus=tau if switch == "to per connection" else 20.0)
    sim.run(100.0)
    weights = projection.get("weight", format="array")
    posts = [np.asarray(train) for train in post.get_data().segments[0].spiketrains]
    for i in range(3):
        for j in range(2):
            if (i, j) == odd:
                continue
            if fraction == 0:
                expected = _axonal_rule(trains[i][trains[i] + 1.0 <= 199.9], posts[j], 0.01, 1.0, 20.0, TAU_MINUS,
                                        0.05, 0.06, 0.02)
            else:
                expected = _nest_rule(np.append(trains[i], 1e9), posts[j][posts[j] + 1.0 <= 200.0], 0.01, 1.0,
                                      20.0, TAU_MINUS, 0.05, 0.06, 0.02)
            assert weights[i, j] == pytest.approx(expected, rel=1e-12), (i, j)
    sim.end()
