"""Neuron batches: every population of one device model lives in one batch updated by one launch (DESIGN.md);
batching must not change what any population computes."""
import numpy as np
import pytest

import pyNN.cupy as sim
from pynn_cupy.exceptions import SimulationWarning

# cell type -> parameters of a second population of the same model (different from the defaults)
CELLS = {
    "IF_curr_exp": {"tau_m": 15.0, "i_offset": 0.8},
    "IF_curr_alpha": {"tau_syn_E": 2.0, "i_offset": 0.9},
    "IF_cond_exp": {"tau_m": 12.0, "i_offset": 0.7},
    "IF_cond_alpha": {"e_rev_E": -5.0, "i_offset": 0.7},
    "IF_curr_delta": {"tau_m": 12.0, "i_offset": 1.0},
    "Izhikevich": {"a": 0.1, "d": 4.0},
    "EIF_cond_exp_isfa_ista": {"b": 0.1, "i_offset": 0.9},
    "EIF_cond_alpha_isfa_ista": {"a": 2.0, "i_offset": 0.9},
    "HH_cond_exp": {"gbar_Na": 15.0, "i_offset": 0.3},
    "IF_cond_exp_gsfa_grr": {"q_sfa": 20.0, "i_offset": 0.8},
    "IF_facets_hardware1": {"g_leak": 30.0},
    "GIF_cond_exp": {"delta_v": 1.0, "i_offset": 0.1},
    "IF_cond_exp_adaptive_threshold": {"theta_plus": 2.0, "tau_theta": 30.0, "i_offset": 0.9},
}
DRIVE = {"IF_curr_exp": 1.0, "IF_curr_alpha": 1.0, "IF_cond_exp": 1.0, "IF_cond_alpha": 1.0, "IF_curr_delta": 1.2,
         "Izhikevich": 0.01, "EIF_cond_exp_isfa_ista": 1.0, "EIF_cond_alpha_isfa_ista": 1.0, "HH_cond_exp": 0.5,
         "IF_cond_exp_gsfa_grr": 1.0, "IF_facets_hardware1": None, "GIF_cond_exp": 0.2,
         "IF_cond_exp_adaptive_threshold": 1.0}


def _network(name: str, which: tuple, t_stop: float = 60.0) -> dict:
    """Populations `which` ("first": default parameters plus a drive and a heterogeneous tau-like parameter,
    "second": CELLS[name]) of one cell type, each driven by spikes through a projection; v and spikes of each."""
    sim.setup(timestep=0.1, precision="float64")
    celltype = getattr(sim, name)
    source = sim.Population(3, sim.SpikeSourceArray(spike_times=[[2.0, 11.0], [5.0, 23.0], [7.0, 31.0]]))
    populations = {}
    for label in which:
        if label == "first":
            parameters = {"i_offset": [DRIVE[name], 0.0, DRIVE[name] * 0.9, 0.2]} if DRIVE[name] else {}
        else:
            parameters = CELLS[name]
        population = sim.Population(4, celltype(**parameters), label=label)
        receptor = "excitatory"
        weight = 0.5 if name == "IF_curr_delta" else (0.01 if "cond" in name or "EIF" in name or
                                                       "HH" in name or "facets" in name or "GIF" in name else 1.0)
        if name == "Izhikevich":
            weight = 5.0
        sim.Projection(source, population, sim.AllToAllConnector(), sim.StaticSynapse(weight=weight, delay=1.0),
                       receptor_type=receptor)
        population.record(["v", "spikes"])
        populations[label] = population
    sim.run(t_stop)
    out = {}
    for label, population in populations.items():
        segment = population.get_data().segments[0]
        out[label] = (np.asarray(segment.filter(name="v")[0]),
                      [np.asarray(train).tolist() for train in segment.spiketrains])
    sim.end()
    return out


@pytest.mark.parametrize("name", sorted(CELLS))
def test_a_batch_computes_what_each_population_alone_computes(name):
    """Two populations of one model (different parameters, the first with a heterogeneous drive) in one batch
    give bit for bit the traces and spikes each gives alone (float64). GIF_cond_exp draws from the batch's
    random stream by the neuron's place in the batch, so only the first population's draws are those alone."""
    together = _network(name, ("first", "second"))
    for label in ("first",) if name == "GIF_cond_exp" else ("first", "second"):
        alone = _network(name, (label,))[label]
        np.testing.assert_array_equal(together[label][0], alone[0], err_msg=label)
        assert together[label][1] == alone[1], label


def test_point_neurons_with_the_same_receptors_share_a_batch():
    """Composed cells: populations with the same receptors (names and kinds) share a batch whose [receptor][row]
    tables hold each population's receptor parameters; each computes what it computes alone."""
    def run(which):
        sim.setup(timestep=0.1, precision="float64")
        source = sim.Population(2, sim.SpikeSourceArray(spike_times=[[3.0, 9.0], [6.0]]))
        out = {}
        for label, tau_fast in which:
            cell = sim.PointNeuron(sim.AdExp(i_offset=0.5), fast=sim.CondExpPostSynapticResponse(tau_syn=tau_fast),
                                   slow=sim.CondAlphaPostSynapticResponse(tau_syn=8.0))
            population = sim.Population(3, cell, label=label)
            for receptor in ("fast", "slow"):
                sim.Projection(source, population, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02),
                               receptor_type=receptor)
            population.record(["v", "fast.gsyn", "slow.gsyn"])
            out[label] = population
        sim.run(30.0)
        state = sim.simulator.state
        assert len([b for b in state.batches if not b.model.is_source]) == 1
        result = {label: [np.asarray(s) for s in population.get_data().segments[0].analogsignals]
                  for label, population in out.items()}
        sim.end()
        return result

    together = run([("a", 1.0), ("b", 4.0)])
    for label, tau_fast in (("a", 1.0), ("b", 4.0)):
        alone = run([(label, tau_fast)])[label]
        for x, y in zip(together[label], alone):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(together["a"][0], together["b"][0])


def test_one_batch_and_one_launch_per_model():
    sim.setup(timestep=0.1)
    cells = [sim.Population(5, sim.IF_curr_exp()) for _ in range(3)] + \
        [sim.Population(4, sim.IF_cond_exp(tau_m=[10.0, 11.0, 12.0, 13.0])), sim.Population(2, sim.IF_cond_exp())]
    sources = [sim.Population(3, sim.SpikeSourcePoisson(rate=10.0)), sim.Population(2, sim.SpikeSourcePoisson()),
               sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))]
    sim.run(1.0)
    state = sim.simulator.state
    sizes = {batch.model.kernel: (batch.size, len(batch.members), batch.rows) for batch in state.batches}
    # (neurons, populations, coefficient rows): one row per homogeneous population, one per neuron otherwise
    assert sizes == {"iaf_psc_exp_update": (15, 3, 3), "iaf_cond_exp_update": (6, 2, 5),
                     "spike_source_poisson_update": (5, 2, 2), "spike_source_array_update": (1, 1, 1)}
    assert len(state._plan) == 2 + 4   # step_begin, one update per model, step_end
    assert [p._group.offset for p in cells[:3]] == [0, 5, 10] and [p._group.offset for p in sources[:2]] == [0, 3]


def test_set_making_a_population_heterogeneous_is_written_in_place():
    """set() of one cell's parameter gives the population a row per neuron without rebuilding the step plan,
    and the result equals a network built with those parameters."""
    sim.setup(timestep=0.1, precision="float64")
    sim.Population(3, sim.IF_curr_exp(i_offset=0.9))
    population = sim.Population(4, sim.IF_curr_exp(i_offset=1.0))
    population.record("v")
    sim.run(10.0)
    state = sim.simulator.state
    plan = state._plan
    population[1:3].set(tau_m=12.0)
    sim.run(30.0)
    assert state._plan is plan and state.batches[0].rows == 1 + 4
    v = np.asarray(population.get_data().segments[0].filter(name="v")[0])
    # reference: tau_m 12 for cells 1 and 2 from t = 10 ms: the same trajectories until then, and cells 0 and 3
    # as a population that kept tau_m 20
    sim.setup(timestep=0.1, precision="float64")
    reference = sim.Population(4, sim.IF_curr_exp(i_offset=1.0))
    reference.record("v")
    sim.run(40.0)
    v_ref = np.asarray(reference.get_data().segments[0].filter(name="v")[0])
    np.testing.assert_array_equal(v[:, [0, 3]], v_ref[:, [0, 3]])
    np.testing.assert_array_equal(v[:101, [1, 2]], v_ref[:101, [1, 2]])
    assert not np.array_equal(v[150:, 1], v_ref[150:, 1])   # faster membrane from 10 ms on


def test_a_population_added_after_a_run_joins_the_batch_without_disturbing_it():
    """After a run, a new population of the same model joins the batch (new arrays): the live state and the input
    in flight of the others carry over, and the newcomer starts from its initial values."""
    def network(add: bool):
        sim.setup(timestep=0.1, precision="float64")
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0, 9.0, 12.0]))
        first = sim.Population(3, sim.IF_cond_exp(i_offset=[0.3, 0.6, 0.9]))
        sim.Projection(source, first, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=4.0))
        first.record(["v", "spikes"])
        sim.run(10.0)   # the spikes of 9.0 and (not yet emitted) 12.0 are in flight or to come
        new = None
        if add:
            new = sim.Population(2, sim.IF_cond_exp(i_offset=1.0), label="new")
            sim.Projection(source, new, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=4.0))
            new.record("spikes")
        sim.run(40.0)
        v = np.asarray(first.get_data().segments[0].filter(name="v")[0])
        spikes = [np.asarray(t).tolist() for t in new.get_data().segments[0].spiketrains] if add else None
        sim.end()
        return v, spikes

    v_with, new_spikes = network(True)
    v_without, _ = network(False)
    np.testing.assert_array_equal(v_with, v_without)
    # the newcomer, created at 10 ms, receives the 12.0 spike at 16 ms, as it would alone from 10 ms on
    sim.setup(timestep=0.1, precision="float64")
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[2.0]))
    alone = sim.Population(2, sim.IF_cond_exp(i_offset=1.0))
    sim.Projection(source, alone, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=4.0))
    alone.record("spikes")
    sim.run(30.0)
    expected = [[round(10.0 + t, 10) for t in np.asarray(train).tolist()]
                for train in alone.get_data().segments[0].spiketrains]
    assert [[round(t, 10) for t in train] for train in new_spikes] == expected


def test_events_name_the_population_within_a_batch():
    """A kernel counter (here iaf_cond's stiff steps: a 500 uS input) is kept per population: the warning names
    the one population of the batch that had the events."""
    sim.setup(timestep=0.1)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[1.0]))
    sim.Population(3, sim.IF_cond_exp(), label="calm")
    stiff = sim.Population(2, sim.IF_cond_exp(), label="stiff")
    sim.Population(3, sim.IF_cond_exp(), label="calm too")
    sim.Projection(source, stiff, sim.AllToAllConnector(), sim.StaticSynapse(weight=500.0))
    with pytest.warns(SimulationWarning) as record:
        sim.run(5.0)
    messages = [str(w.message) for w in record if issubclass(w.category, SimulationWarning)]
    assert len(messages) == 1 and "population 'stiff' (IF_cond_exp):" in messages[0], messages


def test_reset_after_a_population_joined_starts_every_population_afresh():
    """run, a new population of the same model, reset(), run: everything as in a fresh network of both."""
    def network(join_after_run: bool):
        sim.setup(timestep=0.1, precision="float64")
        first = sim.Population(3, sim.IF_curr_exp(i_offset=[0.6, 0.9, 1.2]))
        first.record("v")
        if join_after_run:
            sim.run(12.0)
        second = sim.Population(2, sim.IF_curr_exp(i_offset=1.1, tau_m=12.0))
        second.record("v")
        if join_after_run:
            sim.reset()
        sim.run(30.0)
        out = [np.asarray(p.get_data().segments[-1].filter(name="v")[0]) for p in (first, second)]
        sim.end()
        return out

    for joined, fresh in zip(network(True), network(False)):
        np.testing.assert_array_equal(joined, fresh)
