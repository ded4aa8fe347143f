"""Recording synaptic variables during a run (pyNN.cupy extension: Projection.record / get_data): samples come
from the device at the sampling interval, the last equals what get() reads, a run split in two records what one
run records, and the state of dynamic synapses follows its rule."""
import numpy as np
import pytest
import quantities as pq
from pyNN import errors

import pyNN.cupy as sim


def _stdp_network(split: bool, connections=None):
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=[10.0, 30.0, 50.0]))
    post = sim.Population(2, sim.IF_curr_exp(i_offset=1.0))
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(w_max=1.0),
        weight=0.2, delay=1.0))
    projection.record("weight", sampling_interval=5.0, connections=connections)
    if split:
        sim.run(23.0)
        sim.run(37.0)
    else:
        sim.run(60.0)
    signal = projection.get_data().segments[-1].analogsignals[0]
    final = np.array([w for _, _, w in projection.get("weight", format="list")])
    sim.end()
    return signal, final


def test_weights_sampled_during_the_run():
    signal, final = _stdp_network(split=False)
    assert signal.name == "weight" and signal.units == pq.nA and signal.shape == (13, 6)
    np.testing.assert_allclose(np.asarray(signal.times), np.arange(0.0, 61.0, 5.0))
    values = np.asarray(signal)
    assert (values[0] == 0.2).all() and not (values[-1] == 0.2).all()   # learning shows
    np.testing.assert_array_equal(values[-1], final)                   # the last sample is what get() reads
    split, _ = _stdp_network(split=True)
    np.testing.assert_array_equal(np.asarray(split), values)
    some, _ = _stdp_network(split=False, connections=[4, 1])
    np.testing.assert_array_equal(np.asarray(some), values[:, [1, 4]])
    assert some.array_annotations["presynaptic_index"].tolist() == signal.array_annotations[
        "presynaptic_index"][[1, 4]].tolist()


def test_tsodyks_markram_state():
    """u right after each spike of a regular train follows u <- u exp(-h / tau_facil) + U (1 - u exp(...))."""
    sim.setup(timestep=0.1, precision="float64")
    pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 20.0, 30.0]))
    post = sim.Population(1, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), sim.TsodyksMarkramSynapse(
        weight=0.1, delay=1.0, U=0.2, tau_rec=100.0, tau_facil=50.0))
    projection.record(["u", "x"])
    sim.run(40.0)
    u = np.asarray(projection.get_data().segments[-1].filter(name="u")[0])[:, 0]
    expected, value = [], 0.0
    for h in (10.0, 10.0, 10.0):
        value = value * np.exp(-h / 50.0)
        value += 0.2 * (1 - value)
        expected.append(value)
    # the spike of step k (time stamp (k + 1) dt) updates u in that step; the sample after it is at (k + 1) dt
    np.testing.assert_allclose(u[[100, 200, 300]], expected, rtol=1e-12)
    assert u[99] == u[0] == 0.0
    sim.end()


def test_recording_errors():
    sim.setup(timestep=0.1)
    pre, post = sim.Population(2, sim.SpikeSourcePoisson()), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1))
    with pytest.raises(errors.NothingToWriteError):
        projection.get_data()
    with pytest.raises(errors.InvalidParameterValueError, match="StaticSynapse records weight"):
        projection.record("u")
    with pytest.raises(errors.InvalidParameterValueError):
        projection.record("weight", connections=[0, 9])
    projection.record("weight", sampling_interval=1.0)
    sim.run(10.0)
    assert np.asarray(projection.get_data().segments[-1].analogsignals[0]).shape == (11, 4)
    with pytest.raises(errors.InvalidParameterValueError, match="fixed once data are recorded"):
        projection.record("weight", connections=[0])
    sim.reset()   # a new segment per trial, and then the choice may change
    projection.record("weight", connections=[0])
    sim.run(5.0)
    segments = projection.get_data().segments
    assert len(segments) == 2 and np.asarray(segments[1].analogsignals[0]).shape == (6, 1)
    sim.end()


def test_recording_a_projection_of_several_blocks():
    """A projection from an Assembly has a block per population; each recorded connection is sampled from its own
    block (a connection of the second block used to be looked up twice and fail)."""
    sim.setup(timestep=0.1, precision="float64")
    a = sim.Population(2, sim.SpikeSourceArray(spike_times=[5.0, 15.0]))
    b = sim.Population(3, sim.SpikeSourceArray(spike_times=[8.0]))
    post = sim.Population(2, sim.IF_curr_exp(i_offset=1.0))
    projection = sim.Projection(a + b, post, sim.AllToAllConnector(), sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(w_max=1.0),
        weight=0.2, delay=1.0))
    projection.record("weight", sampling_interval=1.0, connections=[1, 5, 9])
    sim.run(30.0)
    signal = projection.get_data().segments[0].analogsignals[0]
    final = [w for _, _, w in projection.get("weight", format="list")]
    assert signal.shape == (31, 3)
    np.testing.assert_array_equal(np.asarray(signal)[-1], np.array(final)[[1, 5, 9]])
    assert list(signal.array_annotations["presynaptic_index"]) == [int(projection[i].presynaptic_index)
                                                                   for i in (1, 5, 9)]
    sim.end()
