"""STDPMechanism (SpikePairRule with each of PyNN's weight dependences) side by side with pyNN.nest (NEST's
stdp_synapse, delays entirely dendritic), float64.

Pair protocol: presynaptic spikes at T_PRE and at T_READ (the readout: NEST applies potentiation only at the next
presynaptic spike); each postsynaptic cell is made to spike once near T_PRE + offset by a strong input, for offsets
from -50 to +50 ms. The change of each weight must be within 1e-9 of NEST's, relative (measured: 2e-13; the issue
asks for 1 %), for delays of 1 and 2.5 ms (dendritic: the postsynaptic spike reaches the synapse a delay after it is emitted)."""
import numpy as np
import pytest

from helpers import CANDIDATE, REFERENCE, assert_spikes_match, simulate

OFFSETS = [-50.0, -30.0, -20.0, -10.0, -5.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0]
T_PRE, T_READ, T_STOP = 100.0, 400.0, 450.0
W_INIT = 0.5
DEPENDENCES = {
    "AdditiveWeightDependence": {},
    "MultiplicativeWeightDependence": {},
    "AdditivePotentiationMultiplicativeDepression": {},
    # pyNN.nest 0.13 drops mu_plus and mu_minus (its GutigWeightDependence.__init__ passes only w_min and w_max on),
    # so NEST always runs PyNN's defaults: compared at those; other exponents in test_gutig_exponents
    "GutigWeightDependence": {"mu_plus": 0.5, "mu_minus": 0.5},
}


def build_pairs(sim, dependence, delay, a_plus=0.01, a_minus=0.012, w_init=W_INIT, tau_plus=20.0,
                tau_minus=15.0):
    n = len(OFFSETS)
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=[[T_PRE, T_READ]] * n))
    post = sim.Population(n, sim.IF_curr_exp(tau_refrac=5.0, tau_syn_E=0.5))   # one spike per drive
    drive = sim.Population(n, sim.SpikeSourceArray(spike_times=[[T_PRE + offset - 1.0] for offset in OFFSETS]))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=tau_plus, tau_minus=tau_minus, A_plus=a_plus, A_minus=a_minus),
        weight_dependence=getattr(sim, dependence)(w_min=0.0, w_max=1.0, **DEPENDENCES[dependence]),
        weight=w_init, delay=delay)
    plastic = sim.Projection(pre, post, sim.OneToOneConnector(), stdp, receptor_type="excitatory")
    post.record("spikes")
    return {"post": post, "plastic": plastic}


def _compare(dependence, delay, **params):
    ref = simulate(REFERENCE, build_pairs, T_STOP, dependence=dependence, delay=delay, **params)
    test = simulate(CANDIDATE, build_pairs, T_STOP, dependence=dependence, delay=delay, **params)
    assert_spikes_match(ref["post"]["spikes"], test["post"]["spikes"], 1e-9, "post")
    ref_w, test_w = ref["plastic"]["connections"], test["plastic"]["connections"]
    np.testing.assert_array_equal(ref_w[:, :2], test_w[:, :2])
    w_init = params.get("w_init", W_INIT)
    change_ref, change_test = ref_w[:, 2] - w_init, test_w[:, 2] - w_init
    np.testing.assert_allclose(change_test, change_ref, rtol=1e-9, atol=1e-15)   # measured: 2e-13, 1e-16
    return ref, change_ref


@pytest.mark.parametrize("delay", [1.0, 2.5])
@pytest.mark.parametrize("dependence", sorted(DEPENDENCES))
def test_pair_protocol(dependence, delay):
    ref, change = _compare(dependence, delay)
    assert all(len(train) == 1 for train in ref["post"]["spikes"])
    post_times = np.array([train[0] for train in ref["post"]["spikes"]])
    before = post_times + delay < T_PRE - 1e-9   # the post spike reaches the synapse before the pre spike
    after = post_times + delay > T_PRE + 1e-9
    assert (change[after] > 0).all() and (change[before] < 0).all(), change
    assert before.sum() >= 5 and after.sum() >= 9


@pytest.mark.parametrize("dependence", ["AdditiveWeightDependence", "MultiplicativeWeightDependence"])
def test_weight_bounds(dependence):
    """Large amplitudes: potentiation stops at w_max, depression at w_min = 0, as NEST clips."""
    _, change = _compare(dependence, 1.0, a_plus=0.9, a_minus=1.5, w_init=0.6)
    assert np.isclose(change.max(), 0.4) or dependence != "AdditiveWeightDependence"
    assert np.isclose(change.min(), -0.6) or dependence != "AdditiveWeightDependence"


def build_driven(sim, dependence, n_pre=60, n_post=6, rate=15.0, t_stop=2000.0):
    """Fixed random spike trains (the same on both backends) drive IF_curr_exp cells (integrated exactly, so their
    spikes are NEST's to the step; IF_cond_exp's agree to 1e-5 mV, which moves a threshold crossing by a step now
    and then) through all-to-all plastic synapses with random initial weights and delays of 1-3 ms."""
    rng = np.random.default_rng(5)
    # on a 0.5 ms grid: pyNN.nest emits some times k * 0.1 a step late (it subtracts min_delay; 4.4 - 0.1 rounds up)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(1000.0 / rate, int(rate * t_stop / 500))) * 2) / 2)
              for _ in range(n_pre)]
    # the input stops 100 ms before the end; a last spike of every input 10 ms before the end is the readout
    pre = sim.Population(n_pre, sim.SpikeSourceArray(
        spike_times=[np.append(t[(t > 0.5) & (t < t_stop - 100.0)], t_stop - 10.0) for t in trains]))
    post = sim.Population(n_post, sim.IF_curr_exp(tau_refrac=2.0))
    stdp = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.005, A_minus=0.00525),
        weight_dependence=getattr(sim, dependence)(w_min=0.0, w_max=0.8, **DEPENDENCES[dependence]),
        weight=0.4, delay=1.0)
    plastic = sim.Projection(pre, post, sim.AllToAllConnector(), stdp, receptor_type="excitatory")
    plastic.set(weight=rng.uniform(0.15, 0.65, n_pre * n_post).reshape(n_pre, n_post),
                delay=rng.choice([1.0, 1.5, 3.0], n_pre * n_post).reshape(n_pre, n_post))
    # hyperpolarized from 150 ms before the end, so that the readout spikes make no postsynaptic spike
    sim.DCSource(amplitude=-5.0, start=t_stop - 150.0, stop=t_stop).inject_into(post)
    post.record("spikes")
    pre.record("spikes")
    return {"pre": pre, "post": post, "plastic": plastic}


def _initial_weights(n_pre=60, n_post=6, rate=15.0, t_stop=2000.0):
    rng = np.random.default_rng(5)
    for _ in range(n_pre):
        rng.exponential(1000.0 / rate, int(rate * t_stop / 500))
    return rng.uniform(0.15, 0.65, n_pre * n_post)   # row-major (pre, post): the order of the sorted list


@pytest.mark.parametrize("dependence", sorted(DEPENDENCES))
def test_driven_network_weights(dependence):
    """Two seconds of irregular input at 15 Hz into 6 cells (360 plastic synapses, delays 1, 1.5 and 3 ms): the
    output spikes are NEST's and so is every final weight, read after a last spike of every input (which makes
    NEST apply the potentiation it defers to the next presynaptic spike). Measured: max |difference| 1e-15."""
    ref = simulate(REFERENCE, build_driven, 2000.0, dependence=dependence)
    test = simulate(CANDIDATE, build_driven, 2000.0, dependence=dependence)
    assert_spikes_match(ref["pre"]["spikes"], test["pre"]["spikes"], 1e-9, "pre")
    assert_spikes_match(ref["post"]["spikes"], test["post"]["spikes"], 1e-9, "post")
    assert sum(len(s) for s in ref["post"]["spikes"]) > 50
    ref_w, test_w = ref["plastic"]["connections"][:, 2], test["plastic"]["connections"][:, 2]
    assert np.abs(ref_w - _initial_weights()).max() > 0.02   # learning moved the weights
    print(dependence, "NEST mean %.6g std %.6g, cupy mean %.6g std %.6g, max |diff| %.2g"
          % (ref_w.mean(), ref_w.std(), test_w.mean(), test_w.std(), np.abs(ref_w - test_w).max()))
    np.testing.assert_allclose(test_w, ref_w, rtol=1e-9, atol=1e-12)
