"""The device order of a projection's connections (storage/layout.py): blocks per (pre group, post group), pre-major
rows, each row in the order its connections were made; the chunked counting sort that puts them there; and the
device as the truth for what get() returns."""
import importlib

import numpy as np
import pytest

import pyNN.cupy as sim
from pynn_cupy.storage import layout


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(layout, "SORT_CHUNK", 7)   # many chunks, long parts split, short ones joined


@pytest.mark.parametrize("sizes", [[50], [3, 0, 1, 40, 2, 2, 9], [1] * 30])
def test_counting_sort_is_a_stable_sort(small_chunks, sizes):
    rng = np.random.default_rng(1)
    keys = [rng.integers(0, 6, size) for size in sizes]
    paired = [rng.integers(0, 1000, size).astype(np.int32) for size in sizes]
    values = rng.random(sum(sizes))
    whole_keys, whole_paired = np.concatenate(keys), np.concatenate(paired)
    order = np.argsort(whole_keys, kind="stable")
    counts, sorted_paired, (sorted_values,) = layout.counting_sort(keys, 6, paired, [values])
    assert np.array_equal(counts, np.bincount(whole_keys, minlength=6))
    assert np.array_equal(sorted_paired, whole_paired[order])
    assert np.array_equal(sorted_values, values[order])
    assert keys == [] and paired == []   # the parts are consumed


def test_counting_sort_gives_the_permutation_and_keeps_sorted_input(small_chunks):
    key = np.array([4, 0, 2, 0, 4, 1, 2, 2, 0, 3, 1])
    _, permutation, _ = layout.counting_sort([key.copy()], 5, None, [])
    assert np.array_equal(permutation, np.argsort(key, kind="stable"))
    values = np.arange(5.0)
    _, paired, (same,) = layout.counting_sort([np.array([0, 0, 1, 3, 3])], 4, [np.arange(5)], [values])
    assert same is values and np.array_equal(paired, np.arange(5))


def _pairs(projection, *names):
    return projection.get(list(names), format="list", with_address=True)


def test_connections_are_pre_major_in_the_order_made():
    """A FromList projection's connections come back sorted by presynaptic cell (NEST sorts by source too), the
    connections of one source in the order of the list."""
    sim.setup(timestep=0.1, precision="float64")
    a, b = sim.Population(4, sim.IF_curr_exp()), sim.Population(3, sim.IF_curr_exp())
    listed = [(2, 0, 0.1, 1.0), (0, 2, 0.2, 2.0), (2, 2, 0.3, 3.0), (0, 0, 0.4, 4.0), (3, 1, 0.5, 5.0),
              (2, 1, 0.6, 6.0)]
    projection = sim.Projection(a, b, sim.FromListConnector(listed, column_names=["weight", "delay"]))
    got = _pairs(projection, "weight", "delay")
    # PyNN hands connections over by target (stable), then the device sorts them by source (stable)
    by_target = sorted(listed, key=lambda c: c[1])
    assert got == sorted(by_target, key=lambda c: c[0])
    assert [projection[i].weight for i in range(len(projection))] == [c[2] for c in got]
    sim.end()


def test_views_and_assemblies_give_their_own_indices():
    """Projections between an Assembly and a permuted view: several blocks, each a range of connection indices;
    get() gives the same set of connections as made, with indices into the Assembly and the view."""
    sim.setup(timestep=0.1, precision="float64")
    p1, p2 = sim.Population(5, sim.IF_curr_exp()), sim.Population(4, sim.IF_curr_alpha())
    p3 = sim.Population(6, sim.IF_curr_exp())
    pre = p2[[3, 0, 2]] + p1
    post = p3[[5, 1, 4, 0]] + p2
    rng = np.random.default_rng(3)
    listed = [(int(i), int(j), float(w)) for i, j, w in
              zip(rng.integers(0, pre.size, 60), rng.integers(0, post.size, 60), rng.uniform(0.1, 1.0, 60))]
    projection = sim.Projection(pre, post, sim.FromListConnector(listed, column_names=["weight"]))
    assert len(projection._device.blocks) == 4
    spans = [block["span"] for block in projection._device.blocks]
    assert spans[0].start == 0 and all(s.stop == t.start for s, t in zip(spans, spans[1:])) and \
        spans[-1].stop == len(projection) == 60
    assert sorted(_pairs(projection, "weight")) == sorted(listed)
    weights = projection.get("weight", format="array", multiple_synapses="sum")
    expected = np.full((pre.size, post.size), np.nan)
    for i, j, w in listed:
        expected[i, j] = w if np.isnan(expected[i, j]) else expected[i, j] + w
    assert np.allclose(weights, expected, equal_nan=True, rtol=1e-12)
    table = np.arange(pre.size * post.size, dtype=float).reshape(pre.size, post.size) / 100.0
    projection.set(weight=table)   # an (n_pre, n_post) array: each connection its pair's value
    assert sorted(_pairs(projection, "weight")) == sorted((i, j, table[i, j]) for i, j, _ in listed)
    sim.end()


def test_a_population_added_after_a_run_leaves_the_connections_in_place():
    """A new population of the same model grows the batch: the projection's targets move with it on the device,
    and its connections read back unchanged."""
    sim.setup(timestep=0.1, precision="float64")
    source = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0], [2.0]]))
    cells = sim.Population(3, sim.IF_curr_exp())
    listed = [(0, 2, 0.5, 1.0), (1, 0, 0.7, 2.5), (1, 1, 0.9, 30.0)]   # 30 ms: a packed word's delay
    projection = sim.Projection(source, cells, sim.FromListConnector(listed, column_names=["weight", "delay"]))
    sim.run(5.0)
    before = _pairs(projection, "weight", "delay")
    sim.Population(4, sim.IF_curr_exp())
    sim.run(5.0)
    assert _pairs(projection, "weight", "delay") == before == sorted(listed)
    sim.end()


def _random_projection(draw_block, monkeypatch, delay=("uniform", (0.5, 3.0))):
    monkeypatch.setattr(importlib.import_module("pynn_cupy.connect"), "DRAW_BLOCK", draw_block)
    sim.setup(timestep=0.1)
    a, b = sim.Population(30, sim.IF_curr_exp()), sim.Population(40, sim.IF_curr_exp())
    rng = sim.NumpyRNG(seed=9)
    synapse = sim.StaticSynapse(weight=sim.RandomDistribution("normal", (0.5, 0.1), rng=rng),
                                delay=sim.RandomDistribution(*delay, rng=rng))
    projection = sim.Projection(a, b, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(seed=8)), synapse)
    connections = _pairs(projection, "weight", "delay")
    sim.end()
    return connections


def test_weights_and_delays_drawn_part_by_part_are_one_draw(monkeypatch):
    """Connections drawn a block of columns at a time take their weights and delays part by part, in the
    device's precision and on the time grid: the same values as one draw for all."""
    one = _random_projection(1 << 22, monkeypatch)
    parts = _random_projection(90, monkeypatch)   # a part of 3 columns at a time
    assert len(one) > 300 and parts == one
    # the numbers of one draw of all the weights and one of all the delays (PyNN's parameter space gives each its
    # own copy of the RNG), in the order the connections were made (column after column, as PyNN draws them),
    # though drawn while the device's arrays are filled
    made = sorted(one, key=lambda c: (c[1], c[0]))
    weights = np.random.RandomState(9).normal(0.5, 0.1, len(made))
    delays = np.random.RandomState(9).uniform(0.5, 3.0, len(made))
    np.testing.assert_array_equal(np.float32([c[2] for c in made]), weights.astype(np.float32))
    np.testing.assert_allclose([c[3] for c in made], np.round(delays * 10) / 10, atol=1e-12)


def test_a_bad_drawn_delay_is_named(monkeypatch):
    with pytest.raises(sim.errors.ConnectionError, match=r"delay 0\.0[0-4]"):
        _random_projection(90, monkeypatch, delay=("uniform", (0.0, 0.04)))
    sim.end()
