"""Projection.get returns what the device holds: weights in the simulation's precision (float32 by default,
each as the shortest decimal of the float32, so 0.015 reads back as 0.015, as PyNN's scenario tests require),
delays on the time grid as NEST reports them (0.3 ms, not 0.30000000000000004)."""
import numpy as np
import pytest

import pyNN.cupy as sim


def _projection(precision, weight=0.1, delay=0.3):
    sim.setup(timestep=0.1, device="cpu", precision=precision)
    a, b = sim.Population(2, sim.IF_curr_exp()), sim.Population(3, sim.IF_curr_exp())
    return sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=delay))


@pytest.mark.parametrize("precision, dtype", [("float32", np.float32), ("float64", np.float64)])
def test_weights_as_stored(precision, dtype):
    projection = _projection(precision)
    expected = 0.1 if dtype is np.float64 else float(str(dtype(0.1)))   # the float32 0.1 reads back as 0.1
    assert projection.get("weight", format="array").ravel().tolist() == [expected] * 6
    assert [w for _, _, w in projection.get("weight", format="list")] == [expected] * 6
    assert projection[0].weight == expected
    projection.set(weight=sim.RandomDistribution("uniform", (0.0, 1.0), rng=sim.NumpyRNG(1)))
    weights = np.array(projection.get("weight", format="list", with_address=False))
    given = sim.RandomDistribution("uniform", (0.0, 1.0), rng=sim.NumpyRNG(1)).next(6)
    assert (weights.astype(dtype) == given.astype(dtype)).all()   # the weights that act
    assert (weights == given).all() == (dtype is np.float64)      # not the float64 numbers given
    projection[1].weight = 0.7
    assert projection[1].weight == 0.7


def test_delays_on_the_grid():
    projection = _projection("float32", delay=0.26)   # 2.6 steps: 3 steps, 0.3 ms
    assert projection.get("delay", format="list")[0][2] == 0.3
    projection.set(delay=0.35)                          # 3.5 steps: halves up, 0.4 ms
    assert set(projection.get("delay", format="array").ravel()) == {0.4}


def test_as_stored_gives_the_shortest_decimal_of_the_float32():
    from pynn_cupy.projections import as_stored
    values = np.random.default_rng(1).uniform(-1, 1, 20000) * 10.0 ** np.random.default_rng(2).integers(-8, 8, 20000)
    values = np.concatenate([values, [0.0, 0.015, 2.1, 1e-30, 3e20, 0.123456789123]])
    stored = as_stored(values, np.float32)
    shortest = values.astype(np.float32).astype(str).astype(np.float64)   # numpy's shortest round-trip repr
    assert (stored == shortest).all()
    assert (stored.astype(np.float32) == values.astype(np.float32)).all()
    assert (as_stored(values, np.float64) == values).all()


@pytest.mark.parametrize("plastic", [False, True])
def test_longer_delays_between_runs_take_effect(plastic):
    """set(delay=...) beyond what the input rings held: the next run delivers at the new delay (static: the rings
    grow; plastic: its blocks are made anew, learned weights kept)."""
    sim.setup(timestep=0.1, precision="float64")
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[12.0]))
    cell = sim.Population(1, sim.IF_curr_exp(tau_syn_E=0.5))
    projection = sim.Projection(source, cell, sim.OneToOneConnector(), _synapse(plastic, weight=0.5, delay=1.0))
    cell.record("v")
    sim.run(10.0)
    projection.set(delay=6.0)
    sim.run(30.0)
    v = cell.get_data().segments[0].filter(name="v")[0]
    times, values = np.asarray(v.times), np.asarray(v)[:, 0]
    first_rise = times[np.flatnonzero(values > values[0] + 1e-9)[0]]
    assert first_rise == pytest.approx(18.1)   # spike at 12 (emitted in the step ending at 12), 6 ms, then one step
    assert projection.get("weight", format="list")[0][2] == 0.5
    sim.end()


def test_packed_and_unpacked_static_synapses():
    """Static synapses pack target and delay into one word up to 255 steps (8 bytes per synapse in float32) and
    keep them apart beyond; a delay set beyond 255 steps between runs unpacks the blocks. Either way the input
    arrives after its delay."""
    sim.setup(timestep=0.1, max_delay=40.0, precision="float64")
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0, 42.0]))
    cells = sim.Population(2, sim.IF_curr_exp(tau_syn_E=0.5))
    short = sim.Projection(source, cells[0:1], sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
    long = sim.Projection(source, cells[1:2], sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5, delay=30.0))
    cells.record("v")
    sim.run(20.0)
    assert short._device.packed == [True] and long._device.packed == [False]
    assert short._device.device_bytes() == 4 + 8 + 2 * 8   # the word, the weight (float64), two row pointers
    short.set(delay=31.0)
    sim.run(60.0)
    assert short._device.packed == [False]
    v = np.asarray(cells.get_data().segments[0].filter(name="v")[0])
    times = np.arange(v.shape[0]) * 0.1
    rises = [times[np.flatnonzero(np.diff(v[:, k]) > 1e-9)] for k in range(2)]
    assert rises[0][0] == pytest.approx(3.0) and rises[0][rises[0] > 20][0] == pytest.approx(73.0)
    assert rises[1][0] == pytest.approx(32.0) and rises[1][rises[1] > 40][0] == pytest.approx(72.0)
    sim.end()


@pytest.mark.parametrize("plastic", [False, True])
def test_input_in_flight_survives_shorter_delays(plastic):
    """A spike sent under a 3 ms delay is in the input ring when the delays are set to 1 ms and the step plan is
    rebuilt (a new population; a plastic projection rebuilds by itself): the ring keeps its slots, so the input
    arrives when it was due (a shorter ring used to drop it)."""
    sim.setup(timestep=0.1, precision="float64", max_delay=5.0)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    cell = sim.Population(1, sim.IF_curr_exp(tau_syn_E=0.2, tau_m=1e4, v_thresh=100.0))
    projection = sim.Projection(source, cell, sim.OneToOneConnector(), _synapse(plastic, weight=1.0, delay=3.0))
    cell.record("v")
    sim.run(11.5)
    projection.set(delay=1.0)
    sim.Population(1, sim.IF_curr_exp())
    sim.run(8.5)
    v = np.asarray(cell.get_data().segments[0].filter(name="v")[0])[:, 0]
    assert v[-1] - v[0] == pytest.approx(0.2, rel=0.05)   # one PSP of the 1 nA x 0.2 ms charge
    assert np.flatnonzero(np.diff(v) > 1e-12)[0] * 0.1 == pytest.approx(13.0)
    sim.end()


def _synapse(plastic: bool, weight: float, delay: float):
    """A StaticSynapse, or an STDPMechanism that learns nothing: the same input either way."""
    if not plastic:
        return sim.StaticSynapse(weight=weight, delay=delay)
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(A_plus=0.0, A_minus=0.0),
                             weight_dependence=sim.AdditiveWeightDependence(w_max=2 * weight), weight=weight,
                             delay=delay)


def test_set_takes_lists_per_connected_pair_and_scalar_arrays():
    """set() with a list gives one value per connected (pre, post) pair, in get(format='list')'s order, as PyNN's
    (several connections of one pair take the same value); a 0-d array is a number; a list of another length is refused
    with the projection and the parameter named."""
    sim.setup(timestep=0.1, device="cpu", precision="float64")
    a, b = sim.Population(2, sim.IF_curr_exp()), sim.Population(2, sim.IF_curr_exp())
    projection = sim.Projection(a, b, sim.FromListConnector([(1, 1), (0, 0), (0, 0)]), label="P")
    projection.set(weight=[1.0, 2.0])
    assert projection.get("weight", format="list") == [(0, 0, 1.0), (0, 0, 1.0), (1, 1, 2.0)]
    projection.set(weight=np.array(0.25))
    assert projection.get("weight", format="list") == [(0, 0, 0.25), (0, 0, 0.25), (1, 1, 0.25)]
    with pytest.raises(sim.errors.InvalidDimensionsError, match=r"P.set\(weight=.*one value per connected"):
        projection.set(weight=[1.0, 2.0, 3.0])
    assert projection.get("weight", format="list") == [(0, 0, 0.25), (0, 0, 0.25), (1, 1, 0.25)]
    sim.end()
