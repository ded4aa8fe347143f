"""Projection.normalize_weights (pyNN.cupy's extension, Diehl & Cook's synaptic normalization): the weights onto each
postsynaptic cell end up summing to the total, each scaled by its cell's one factor, exactly as the same arithmetic
on the host; the run then uses them; static (packed and unpacked targets, several blocks) and STDP projections;
bad totals and bounds are refused with nothing changed."""
import numpy as np
import pytest
from pyNN import errors
from pyNN.random import NumpyRNG, RandomDistribution

import pyNN.cupy as sim

DT = 0.1


def network(delay=1.0, stdp=False, weights=None, n_pre=(5, 7), n_post=(4, 3)):
    """Two source populations onto two target populations (an Assembly each: several blocks), all to all; returns
    the projection and the target Assembly (recording v)."""
    sim.setup(timestep=DT, precision="float64", device="cpu")
    pre = sim.Assembly(*[sim.Population(n, sim.SpikeSourceArray(spike_times=[[1.0 + k, 4.0 + k]] * n))
                         for k, n in enumerate(n_pre)])
    post = sim.Assembly(*[sim.Population(n, sim.IF_curr_exp()) for n in n_post])
    post.record("v")
    if weights is None:
        weights = RandomDistribution("uniform", (0.1, 0.9), rng=NumpyRNG(4))
    synapse = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(A_plus=0.01, A_minus=0.012),
                                weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=2.0),
                                weight=weights, delay=delay) if stdp else sim.StaticSynapse(weight=weights,
                                                                                            delay=delay)
    return sim.Projection(pre, post, sim.AllToAllConnector(), synapse), post


@pytest.mark.parametrize("delay", [1.0, 30.0])   # 300 steps: targets unpacked
@pytest.mark.parametrize("stdp", [False, True])
@pytest.mark.parametrize("built", [False, True])   # before a run, targets are local; after it, placed in the ring
def test_columns_sum_to_the_total(delay, stdp, built):
    projection, post = network(delay, stdp)
    if built:
        sim.run(10.0)
    before = projection.get("weight", format="array")
    projection.normalize_weights(3.5)
    after = projection.get("weight", format="array")
    np.testing.assert_allclose(after.sum(axis=0), 3.5, rtol=1e-12)
    np.testing.assert_allclose(after, before * (3.5 / before.sum(axis=0)), rtol=1e-14)
    sim.end()


def test_the_run_uses_the_normalized_weights():
    """v of a network normalized on the device equals v of one built with the host's normalized weights."""
    projection, post = network(stdp=True)
    expected = projection.get("weight", format="array")
    expected = expected * (2.0 / expected.sum(axis=0))
    projection.normalize_weights(2.0)
    sim.run(20.0)
    normalized = np.asarray(post.get_data().segments[0].filter(name="v")[0])
    sim.end()
    projection, post = network(stdp=True, weights=expected)
    sim.run(20.0)
    built = np.asarray(post.get_data().segments[0].filter(name="v")[0])
    sim.end()
    assert np.ptp(built) > 1.0
    np.testing.assert_allclose(normalized, built, rtol=0, atol=1e-12)


def test_a_cell_without_weight_keeps_it():
    weights = np.full((12, 7), 0.5)
    weights[:, 2] = 0.0
    projection, _ = network(weights=weights)
    projection.normalize_weights(1.2)
    after = projection.get("weight", format="array")
    np.testing.assert_array_equal(after[:, 2], 0.0)
    np.testing.assert_allclose(np.delete(after, 2, axis=1), 0.1, rtol=1e-14)
    sim.end()


@pytest.mark.parametrize("total,words", [(np.inf, "finite"), ("3", "finite"), (True, "finite"), (-1.0, "cell 0"),
                                         (40.0, "STDP bounds")])
def test_bad_totals_change_nothing(total, words):
    projection, _ = network(stdp=True)
    before = projection.get("weight", format="array")
    with pytest.raises(errors.InvalidParameterValueError, match=words):
        projection.normalize_weights(total)
    np.testing.assert_array_equal(projection.get("weight", format="array"), before)
    sim.run(5.0)
    sim.end()


def test_shared_weights_are_refused():
    sim.setup(timestep=DT, device="cpu")
    source = sim.Population(16, sim.SpikeSourceArray(spike_times=[]), structure=sim.space.Grid2D(1.0))
    target = sim.Population(4, sim.IF_curr_exp(), structure=sim.space.Grid2D(1.0))
    projection = sim.Projection(source, target, sim.ConvolutionConnector(np.ones((3, 3))), sim.Convolution())
    with pytest.raises(errors.NoModelAvailableError, match="shared"):
        projection.normalize_weights(1.0)
    sim.end()


def test_weights_beyond_float32_are_refused():
    sim.setup(timestep=DT, device="cpu", precision="float32")
    pre, post = sim.Population(3, sim.SpikeSourceArray(spike_times=[1.0])), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5))
    with pytest.raises(errors.InvalidWeightError, match="float32"):
        projection.normalize_weights(1e40)
    np.testing.assert_array_equal(projection.get("weight", format="array"), 0.5)
    projection.normalize_weights(10 ** 20)   # a Python int beyond int64 is a number too
    np.testing.assert_allclose(projection.get("weight", format="array"), 10 ** 20 / 3, rtol=1e-6)
    sim.end()


@pytest.mark.parametrize("precision,w_max,weight", [("float32", [0.3, 0.4, 0.5], 0.1), ("float64", 0.3, 0.298526)])
def test_totals_on_the_bound_are_taken(precision, w_max, weight):
    """One connection per cell normalized to exactly w_max: the rounding (float32 against float64 bounds, or one
    ulp in float64) must not refuse it; the weight lands on the bound."""
    sim.setup(timestep=DT, device="cpu", precision=precision)
    pre, post = sim.Population(3, sim.SpikeSourceArray(spike_times=[1.0])), sim.Population(3, sim.IF_curr_exp())
    synapse = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(A_plus=0.01, A_minus=0.012),
                                weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.3),
                                weight=weight, delay=1.0)
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), synapse)
    projection.set(w_max=np.array(w_max) if isinstance(w_max, list) else w_max)
    projection.normalize_weights(0.3)
    np.testing.assert_array_equal(projection.get("weight", format="list", with_address=False), [0.3] * 3)
    sim.run(5.0)
    sim.end()
