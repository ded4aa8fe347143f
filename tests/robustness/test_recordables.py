"""Every standard cell type records every variable PyNN lists for it, with PyNN's units in the Neo output."""
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
