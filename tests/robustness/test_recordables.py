"""Every standard cell type records every variable PyNN lists for it, with PyNN's units in the Neo output; spike
trains come as neo would make them, built in one pass."""
import numpy as np
import pytest
import quantities as pq

import pyNN.cupy as sim


@pytest.mark.parametrize("name", [name for name in sim.list_standard_models()
                                  if name != "PointNeuron"])   # composed: tests/vs_nest/test_point_neuron.py
def test_every_recordable_with_its_units(name):
    sim.setup(timestep=0.1, device="cpu")
    celltype = getattr(sim, name)()
    population = sim.Population(2, celltype)
    population.record(list(celltype.recordable))
    sim.run(1.0)
    segment = population.get_data().segments[0]
    signals = {signal.name: signal for signal in segment.analogsignals}
    assert set(signals) == set(celltype.recordable) - {"spikes"}
    assert len(segment.spiketrains) == 2
    for variable, signal in signals.items():
        assert signal.shape == (11, 2), variable
        assert signal.units == pq.Quantity(1.0, celltype.units[variable]).units, variable


def test_spike_trains_are_built_in_one_pass():
    """get_data()'s spike trains come as neo's SpikeTrainList would make them (times, units, t_start/t_stop and
    annotations per cell), but built in one pass over the spikes sorted by cell: neo compares the whole spike array
    once per cell (PyNN #686)."""
    import neo
    from pynn_cupy.recording import SpikeTrains
    sim.setup(timestep=0.1)
    cells = sim.Population(50, sim.IF_curr_exp(i_offset=np.linspace(0.0, 2.0, 50)))
    cells.record("spikes")
    sim.run(200.0)
    trains = cells.get_data().segments[0].spiketrains
    assert isinstance(trains, SpikeTrains)
    reference = neo.core.spiketrainlist.SpikeTrainList.from_spike_time_array(
        trains._spike_time_array, trains._channel_id_array, trains._all_channel_ids,
        **trains._spiketrain_metadata, **trains._annotations)
    assert len(trains) == len(reference) == 50 and sum(len(t) for t in trains) > 100
    for ours, theirs in zip(trains, reference):
        np.testing.assert_array_equal(ours.magnitude, theirs.magnitude)
        assert ours.units == theirs.units and ours.t_start == theirs.t_start and ours.t_stop == theirs.t_stop
        assert ours.annotations == theirs.annotations and ours.segment is trains.segment
        assert ours.sampling_rate == theirs.sampling_rate and dict(ours.array_annotations) == {}
    trains[0].annotate(mark=1)   # each train is its own object, though its times are a slice of one array
    assert "mark" not in trains[1].annotations
    sim.end()


def test_recording_added_between_runs_starts_at_that_time():
    """A variable or cells added while others are recorded get the sample of the moment record() is called
    (taken from the state, unchanged since the run), and a view's signal starts at its first sample. Changing
    the sampling interval within a segment is refused (the samples so far would lose their times)."""
    sim.setup(timestep=0.1)
    cells = sim.Population(6, sim.IF_cond_exp(i_offset=0.5))
    cells.record("v", sampling_interval=1.0)
    sim.run(5.0)
    cells.record("gsyn_exc")
    sim.run(5.0)
    signal = [s for s in cells.get_data().segments[0].analogsignals if s.name == "gsyn_exc"][0]
    np.testing.assert_allclose(signal.times.magnitude, np.arange(5.0, 10.5, 1.0))
    sim.setup(timestep=0.1)
    cells = sim.Population(6, sim.IF_cond_exp(i_offset=0.5))
    cells[0:3].record("v")
    sim.run(3.0)
    cells[3:6].record("v")
    sim.run(3.0)
    late = cells[3:6].get_data().segments[0].analogsignals[0]
    assert float(late.t_start) == 3.0 and not np.isnan(late.magnitude).any()
    whole = cells.get_data().segments[0].analogsignals[0].magnitude
    assert np.isnan(whole[:30, 3:]).all() and not np.isnan(whole[30:]).any()
    with pytest.raises(sim.errors.InvalidParameterValueError, match="one sampling interval"):
        cells.record("v", sampling_interval=0.5)
    cells.record(name for name in ["spikes"])   # a generator, consumed once
    assert "spikes" in {variable.name for variable in cells.recorder.recorded}
    sim.end()


def test_stimulus_loops_keep_plan_and_memory():
    """A script presenting one stimulus per trial (set spike times, run, reset): fewer spike times than before
    are written in place (the pooled spike data never shrinks; no rebuild of the step plan), and a population
    that records nothing keeps no segment per reset (PyNN stores an empty one each time)."""
    sim.setup(timestep=0.1)
    source = sim.Population(4, sim.SpikeSourceArray(spike_times=[[1.0, 2.0, 3.0]] * 4))
    silent = sim.Population(3, sim.IF_curr_exp())
    source.record("spikes")
    sim.run(5.0)
    for times in ([1.5, 2.5], [0.5, 1.0, 2.0, 3.0, 4.0], [4.5]):
        sim.reset()
        source.set(spike_times=[times] * 4)
        kept = sim.simulator.state._plan is not None
        sim.run(5.0)
        assert [list(np.asarray(t)) for t in source.get_data().segments[-1].spiketrains] == [times] * 4
        assert kept or len(times) == 5   # only more spikes than ever need new room
    assert len(silent.get_data().segments) == 1 and next(iter(silent.recorder.cache), None) is None   # the current
    sim.end()
