"""Per-step spike lists and the buffers that record them: sized from what the parameters allow, checked by
every writer, overflow reported with the population and the count and never written past the end."""
import numpy as np
import pytest

import pyNN.cupy as sim
from pynn_cupy import recording
from pynn_cupy.exceptions import SpikeBufferOverflowError
from pynn_cupy.runtime import get_backend, sources
from pynn_cupy.standardmodels import sources as source_models


def _peaks(spike_times, precision="float64", backend=sim):
    """Peak depolarisation of IF_curr_exp cells, each fed by one SpikeSourceArray cell (1 nA per spike)."""
    backend.setup(timestep=0.1, min_delay=0.1, **({"device": "cpu", "precision": precision}
                                                  if backend is sim else {"spike_precision": "on_grid"}))
    sources = backend.Population(len(spike_times), backend.SpikeSourceArray(spike_times=spike_times))
    targets = backend.Population(len(spike_times), backend.IF_curr_exp(tau_syn_E=2.0))
    backend.Projection(sources, targets, backend.OneToOneConnector(), backend.StaticSynapse(weight=1.0, delay=1.0))
    sources.record("spikes")
    targets.record("v")
    backend.run(20.0)
    segment = sources.get_data().segments[0]
    v = targets.get_data().segments[0].filter(name="v")[0].magnitude
    return [np.asarray(st) for st in segment.spiketrains], v.max(axis=0) - v[0]


TRAINS = [[5.0], [5.0, 5.0], [5.0, 5.0, 5.0, 5.0], [5.01, 5.05], [5.0, 5.04, 5.1, 9.0]]


def test_several_spikes_of_a_source_in_one_step_all_arrive():
    """Four spikes at 5.0 ms give four times the peak of one (they were lost beyond the first)."""
    spikes, peaks = _peaks(TRAINS)
    assert [len(s) for s in spikes] == [1, 2, 4, 2, 4]
    assert peaks[1] == pytest.approx(2 * peaks[0], rel=1e-12)
    assert peaks[2] == pytest.approx(4 * peaks[0], rel=1e-12)
    assert peaks[3] == pytest.approx(2 * peaks[0], rel=1e-12)


def test_several_spikes_in_one_step_side_by_side_with_nest():
    import pyNN.nest as nest_sim
    spikes, peaks = _peaks(TRAINS)
    nest_spikes, nest_peaks = _peaks(TRAINS, backend=nest_sim)
    for ours, theirs in zip(spikes, nest_spikes):
        np.testing.assert_allclose(ours, theirs, atol=1e-9)
    np.testing.assert_allclose(peaks, nest_peaks, rtol=1e-9)


def test_recording_many_spikes_per_step_does_not_overflow(monkeypatch):
    """Poisson sources at 1500 Hz with dt 1 ms emit 1.5 spikes per step each: a recording buffer sized for one
    per cell and step overflowed (1000 sources, 4 s). Here the same at small scale, with a small buffer."""
    monkeypatch.setattr(recording, "SPIKE_BUFFER_ENTRIES", 1000)
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu", rng_seed=5)
    sources = sim.Population(50, sim.SpikeSourcePoisson(rate=1500.0))
    sources.record("spikes")
    sim.run(1000.0)
    counts = np.array(list(sources.get_spike_counts().values()))
    assert counts.sum() == pytest.approx(50 * 1500, rel=0.02)


def test_high_rate_poisson_sources_are_not_truncated():
    """10 kHz at dt 1 ms: ten spikes per step and source, all delivered and recorded."""
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu", rng_seed=6)
    sources = sim.Population(100, sim.SpikeSourcePoisson(rate=10000.0))
    sources.record("spikes")
    sim.run(200.0)
    rate = np.mean(list(sources.get_spike_counts().values())) / 0.2
    assert rate == pytest.approx(10000.0, rel=0.01)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_poisson_counts_beyond_the_precision_of_exp(precision):
    """200 spikes per step and source (exp(-200) underflows float32; the kernel computes the terms in double):
    the counts keep their Poisson mean and variance in either precision."""
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu", rng_seed=8, precision=precision)
    sources = sim.Population(20, sim.SpikeSourcePoisson(rate=[200000.0] * 10 + [1000.0] * 10))
    sources.record("spikes")
    sim.run(100.0)
    trains = sources.get_data().segments[0].spiketrains
    per_step = np.array([np.bincount(np.asarray(t).astype(int), minlength=101)[1:] for t in trains[:10]])
    assert per_step.mean() == pytest.approx(200.0, rel=0.01)
    assert per_step.var() == pytest.approx(200.0, rel=0.15)
    assert np.mean([len(t) for t in trains[10:]]) == pytest.approx(100.0, rel=0.1)


def test_float32_poisson_counts_sum_to_one():
    """The count's terms are computed in double from the mean: with exp(-mean) rounded to float32 they summed to
    1 - 3e-8 at worst (977 Hz at dt 0.1), and a uniform draw above that ran one source's count to 2000 in one
    step; this seed did so within the first second of 20000 sources (SpikeBufferOverflowError)."""
    sim.setup(timestep=0.1, device="cpu", precision="float32", rng_seed=1)
    sources = sim.Population(20000, sim.SpikeSourcePoisson(rate=977.0))
    sim.run(1000.0)
    assert sim.get_current_time() == 1000.0


def test_low_rate_poisson_sources_fire_alike_in_both_precisions():
    """Whether a source spikes in a step is decided against 1 - exp(-rate dt) held as such, precise in float32
    however low the rate (held as exp(-rate dt), float32 rounded it to steps of 6e-8 and biased low rates, or
    silenced them): float32 and float64 give the same spikes."""
    trains = {}
    for precision in ("float32", "float64"):
        sim.setup(timestep=0.1, device="cpu", rng_seed=3, precision=precision)
        sources = sim.Population(20000, sim.SpikeSourcePoisson(rate=0.05))
        sources.record("spikes")
        sim.run(500.0)
        trains[precision] = [np.asarray(t).tolist() for t in sources.get_data().segments[0].spiketrains]
        sim.end()
    assert trains["float32"] == trains["float64"]
    assert sum(len(t) for t in trains["float64"]) == pytest.approx(500, rel=0.2)


def test_overflow_names_population_and_count_and_is_cleared(monkeypatch):
    """A spike list made too small on purpose: the run raises naming the population and the count; once the
    rate is lowered, later runs are clean (the dropped count is cleared after it is reported)."""
    monkeypatch.setattr(source_models.PoissonSource, "spike_capacity", lambda self, size, coefficients: 2)
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu", rng_seed=7)
    sources = sim.Population(20, sim.SpikeSourcePoisson(rate=2000.0), label="noisy")
    with pytest.raises(SpikeBufferOverflowError, match=r"\d+ spikes of population 'noisy'"):
        sim.run(10.0)
    sources.set(rate=0.0)
    sim.run(10.0)


def test_record_rate_change_resizes_the_spike_list():
    """Raising a Poisson rate between runs grows the spike list: every spike is still recorded."""
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu", rng_seed=8)
    sources = sim.Population(20, sim.SpikeSourcePoisson(rate=10.0))
    sources.record("spikes")
    sim.run(100.0)
    sources.set(rate=20000.0)
    sim.run(100.0)
    count = sum(sources.get_spike_counts().values())
    assert count == pytest.approx(20 * (1.0 + 2000.0), rel=0.02)


@pytest.mark.parametrize("kernel", ["spike_source_array_update", "iaf_psc_exp_update"])
def test_kernels_never_write_past_the_spike_list(kernel):
    """Run one step of a spike-emitting kernel over a batch of two populations (6 and 4 neurons) whose spike-list
    segments of capacity 3 lie inside a larger array: each population's spikes stay in its segment (local ids),
    the entries past the segments keep their guard value and each excess is counted in its `dropped`."""
    backend = get_backend("cpu", "float64")
    n, capacity = 10, 3
    clock = np.array([4, 0], dtype=np.int64)
    ids = np.full(2 * capacity + 5, -7, dtype=np.int32)
    count, dropped = np.zeros(2, np.int32), np.zeros(2, np.int32)
    # per population: first neuron, first row, a row per neuron, spike-list base, capacity (cuda/common.cuh)
    layout = np.array([[0, 0, 1, 0, capacity], [6, 6, 1, capacity, capacity]], dtype=np.int32)
    pop = np.repeat(np.arange(2), [6, 4]).astype(np.int32)
    arguments = dict(clock=clock, n=np.int32(n), pop=pop, layout=layout, spike_ids=ids, spike_counts=count,
                     dropped=dropped, non_finite=np.zeros(2, np.int32))
    if kernel == "spike_source_array_update":   # every cell emits twice in step 4
        arguments.update(spike_end=np.arange(2, 2 * n + 1, 2, dtype=np.int64), emit_step=np.full(2 * n, 4, np.int64),
                         cursor=np.arange(0, 2 * n, 2, dtype=np.int64))
        expected = 2 * np.array([6, 4])
    else:   # every cell above threshold
        f = lambda value: np.full(n, value, dtype=np.float64)   # noqa: E731
        arguments.update(L=np.int32(2), ring=np.zeros(2 * 2 * n), i_stim=f(0.0), refractory=np.zeros(n, np.int32),
                         refractory_steps=np.zeros(n, np.int32), e_l=f(-65.0), v_thresh=f(-50.0), v_reset=f(-70.0),
                         **{name: f(0.0) for name in ("v", "i_exc", "i_inh", "i_offset")},
                         **{name: f(0.5) for name in ("p_vv", "p_v_exc", "p_v_inh", "p_v_i", "p_exc", "p_inh")})
        expected = np.array([6, 4])
    backend.plan([(backend.kernel(kernel), 1, 1, sources.bind(kernel, "float64", arguments))]).run(1)
    assert ids[2 * capacity:].tolist() == [-7] * 5
    assert ((0 <= ids[:capacity]) & (ids[:capacity] < 6)).all()
    assert ((0 <= ids[capacity:2 * capacity]) & (ids[capacity:2 * capacity] < 4)).all()
    assert count.tolist() == expected.tolist() and dropped.tolist() == (expected - capacity).tolist()


@pytest.mark.parametrize("homogeneous", [False, True])
def test_off_grid_spike_sources_record_the_given_times(homogeneous):
    """setup(spike_precision="off_grid"): a SpikeSourceArray's spikes are recorded at the times given (NEST
    records its spike generators' precise times; PyNN's test_issue259), several in one step each at its own time,
    across runs and get_data(clear=True); on the grid (the default) at the grid times that emit them."""
    trains = [[0.5, 1.01, 1.03, 7.77]] * 2 if homogeneous else [[0.5, 1.01, 1.03, 7.77], [0.25, 4.0, 4.04]]
    for precision, expected in (("off_grid", trains), ("on_grid", None)):
        sim.setup(timestep=0.1, spike_precision=precision)
        sources = sim.Population(2, sim.SpikeSourceArray(spike_times=trains[0] if homogeneous else trains))
        sources.record("spikes")
        got = [[], []]
        for _ in range(2):
            sim.run(5.0)
            for k, train in enumerate(sources.get_data("spikes", clear=True).segments[0].spiketrains):
                got[k] += np.asarray(train).tolist()
        sim.end()
        if expected is None:   # each at the grid point at or after it
            expected = [np.ceil(np.asarray(train) * 10 - 1e-9) / 10 for train in trains]
        for k in range(2):
            np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=1e-12)
