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
