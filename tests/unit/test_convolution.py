"""Shared-weight connectors (ConvolutionConnector, PoolDenseConnector: sPyNNaker's), against an independent
reference: a plain-Python loop over (pre, post) pairs implementing sPyNNaker's arithmetic (below), and the
equivalent FromListConnector network (positive weights onto the positive receptor, negative ones onto the negative
receptor: |w| for conductance-based cells, w for current-based ones).

The rule (per dimension, cells in raster order index = row * columns + column): presynaptic coordinate p is pooled
(p // pool_stride) and padded (+ padding); postsynaptic cell q (0 <= q < post shape) receives it through kernel entry
K - 1 - (p - q * stride) when 0 <= p - q * stride < K; the weights are divided by the pool area. PoolDense: the
pooled position (row, column) reaches every postsynaptic cell through weights[(row * pooled_columns + column) *
n_post + post] / pool area; positions outside the pooled shape reach none.

Checked: (a) v and spikes of the shared-weight network equal those of the FromListConnector network exactly
(float64, CPU twin; the weights are dyadic so that the sums do not depend on the order of the additions);
(b) get(format="list" / "array" / "kernel") and len(); (c) the storage's connection enumeration (`_pairs`, and its
blocks) for many random shapes; (d) bad input: pyNN.errors types naming the value, the simulator still usable;
(e) the sPyNNaker-style constructor variants."""
import re

import numpy as np
import pytest
from pyNN import errors
from pyNN.random import NumpyRNG, RandomDistribution

import pyNN.cupy as sim
from pynn_cupy import simulator

DT = 0.1
T_STOP = 40.0


# ============================== the independent reference ==============================

def as_pair(value):
    if np.isscalar(value):
        return int(value), int(value)
    value = list(value)
    return (int(value[0]), 1) if len(value) == 1 else (int(value[0]), int(value[1]))


def pooling(pool_shape, pool_stride):
    """(pool shape, pool stride, pool area) as sPyNNaker's defaults make them."""
    if pool_shape is None:
        return None, (1, 1), 1
    shape = as_pair(pool_shape)
    stride = shape if pool_stride is None else as_pair(pool_stride)
    return shape, stride, shape[0] * shape[1]


def pooled_shape(pre_shape, pool_shape, pool_stride):
    shape, stride, _ = pooling(pool_shape, pool_stride)
    if shape is None:
        return tuple(pre_shape)
    return tuple((pre_shape[d] - (shape[d] - 1)) // stride[d] + 1 for d in range(2))


def conv_reference(pre_shape, kernel, strides=None, padding=None, pool_shape=None, pool_stride=None):
    """(post shape, [(pre, post, weight, kernel entry)]) by sPyNNaker's rule, one pair at a time."""
    kernel = np.array(kernel, dtype=float)
    k_rows, k_cols = kernel.shape
    stride = (1, 1) if strides is None else as_pair(strides)
    if padding is True:
        pad = (k_rows // 2, k_cols // 2)
    elif padding is None or padding is False:
        pad = (0, 0)
    else:
        pad = as_pair(padding)
    _, pool_stride_, area = pooling(pool_shape, pool_stride)
    shape = pooled_shape(pre_shape, pool_shape, pool_stride)
    post_shape = tuple(max(1, (shape[d] - kernel.shape[d] + 2 * pad[d]) // stride[d] + 1) for d in range(2))
    connections = []
    for p_row in range(pre_shape[0]):
        for p_col in range(pre_shape[1]):
            row = p_row // pool_stride_[0] + pad[0]
            col = p_col // pool_stride_[1] + pad[1]
            for q_row in range(post_shape[0]):
                d_row = row - q_row * stride[0]
                if not 0 <= d_row < k_rows:
                    continue
                for q_col in range(post_shape[1]):
                    d_col = col - q_col * stride[1]
                    if not 0 <= d_col < k_cols:
                        continue
                    entry = (k_rows - 1 - d_row) * k_cols + (k_cols - 1 - d_col)
                    connections.append((p_row * pre_shape[1] + p_col, q_row * post_shape[1] + q_col,
                                        kernel.flat[entry] / area, entry))
    return post_shape, connections


def dense_reference(pre_shape, weights, n_post, pool_shape=None, pool_stride=None):
    """[(pre, post, weight, flat index)] of a PoolDenseConnector, one pair at a time."""
    weights = np.asarray(weights, dtype=float).ravel()
    _, stride, area = pooling(pool_shape, pool_stride)
    shape = pooled_shape(pre_shape, pool_shape, pool_stride)
    assert weights.size == shape[0] * shape[1] * n_post
    connections = []
    for p_row in range(pre_shape[0]):
        for p_col in range(pre_shape[1]):
            row, col = p_row // stride[0], p_col // stride[1]
            if row >= shape[0] or col >= shape[1]:
                continue
            for post in range(n_post):
                index = (row * shape[1] + col) * n_post + post
                connections.append((p_row * pre_shape[1] + p_col, post, weights[index] / area, index))
    return connections


# ============================== networks ==============================

def grid(rows, cols):
    return sim.space.Grid2D(aspect_ratio=cols / rows)


def setup(**extra):
    sim.setup(timestep=DT, device="cpu", precision="float64", **extra)


def image_source(shape, seed):
    """A SpikeSourceArray of rows x columns cells (Grid2D), each firing at a few random grid times (often
    together)."""
    rng = np.random.default_rng(seed)
    n = shape[0] * shape[1]
    times = [sorted(set(np.round(rng.choice(np.arange(1.0, 30.0, 0.5), size=rng.integers(1, 5)), 1).tolist()))
             if rng.uniform() < 0.9 else [] for _ in range(n)]
    return sim.Population(n, sim.SpikeSourceArray(spike_times=times), structure=grid(*shape), label="image")


def dyadic(shape, seed, low=-8, high=12, scale=1.0, zero=True):
    """Weights k / 16 * scale (exact sums in any order); no zeros unless `zero`."""
    rng = np.random.default_rng(seed)
    values = rng.integers(low, high + 1, size=shape).astype(float)
    if not zero:
        values[values == 0] = 1.0
    return values / 16 * scale


def reference_projections(pre, post, connections, delay):
    """FromListConnector projections: positive weights onto excitatory, negative ones onto inhibitory (|w| for
    conductance-based cells, w for current-based ones); zero weights left out (no input)."""
    positive = [(i, j, w, delay) for i, j, w, *_ in connections if w > 0]
    negative = [(i, j, abs(w) if post.conductance_based else w, delay) for i, j, w, *_ in connections if w < 0]
    for part, receptor in ((positive, "excitatory"), (negative, "inhibitory")):
        if part:
            sim.Projection(pre, post, sim.FromListConnector(part, column_names=["weight", "delay"]),
                           sim.StaticSynapse(), receptor_type=receptor)


def traces(population):
    segment = population.get_data().segments[-1]
    v = np.asarray(segment.filter(name="v")[0].magnitude)
    spikes = [np.asarray(train.magnitude) for train in segment.spiketrains]
    return v, spikes


def run_and_compare(shared, reference, min_spikes=1):
    """Run; the two populations' v and spikes must be identical."""
    for population in (shared, reference):
        population.record(["v", "spikes"])
    sim.run(T_STOP)
    v_shared, spikes_shared = traces(shared)
    v_reference, spikes_reference = traces(reference)
    sim.end()
    n_spikes = sum(len(s) for s in spikes_reference)
    assert n_spikes >= min_spikes, "the reference network must fire (%d spikes)" % n_spikes
    assert np.ptp(v_reference) > 1.0   # the input acts
    for i, (a, b) in enumerate(zip(spikes_shared, spikes_reference)):
        np.testing.assert_array_equal(a, b, err_msg="spikes of cell %d" % i)
    np.testing.assert_array_equal(v_shared, v_reference)
    return n_spikes


CELLS = {"IF_curr_exp": (lambda: sim.IF_curr_exp(tau_refrac=1.0), 4.0),
         "IF_cond_exp": (lambda: sim.IF_cond_exp(tau_refrac=1.0), 0.125)}

# pre shape, kernel shape, connector arguments
CONV_CASES = {
    "plain": ((6, 7), (3, 3), {}),
    "non-square": ((5, 8), (2, 3), {}),
    "stride 2": ((7, 7), (3, 3), dict(strides=2)),
    "strides (1, 2)": ((6, 9), (3, 2), dict(strides=(1, 2))),
    "strides (3, 1)": ((9, 5), (2, 2), dict(strides=(3, 1))),
    "padding 1": ((5, 6), (3, 3), dict(padding=1)),
    "padding (2, 0)": ((5, 6), (3, 2), dict(padding=(2, 0))),
    "padding True": ((6, 5), (3, 4), dict(padding=True)),
    "padding True stride 2": ((7, 8), (3, 3), dict(padding=True, strides=2)),
    "pool 2": ((8, 9), (2, 2), dict(pool_shape=2)),
    "pool (2, 3)": ((8, 9), (2, 2), dict(pool_shape=(2, 3))),
    "pool 3 stride 2": ((9, 8), (2, 2), dict(pool_shape=3, pool_stride=2)),
    "pool 2 stride (1, 2) padding": ((6, 8), (3, 2), dict(pool_shape=2, pool_stride=(1, 2), padding=1)),
    "pool 3 stride 2 strides 2": ((11, 9), (2, 2), dict(pool_shape=3, pool_stride=2, strides=2)),
    "1x1 kernel": ((4, 5), (1, 1), {}),
    "kernel as large as the image": ((3, 4), (3, 4), {}),
    "kernel larger than the image": ((2, 3), (3, 4), {}),
    "one row": ((1, 9), (1, 3), {}),
    "one row, 3x3 kernel padded": ((1, 9), (3, 3), dict(padding=True)),
    "one column, stride 2": ((8, 1), (2, 1), dict(strides=2)),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_convolution_network_equals_from_list(case, cell):
    pre_shape, kernel_shape, arguments = CONV_CASES[case]
    make_cell, scale = CELLS[cell]
    seed = sorted(CONV_CASES).index(case)
    _, _, area = pooling(arguments.get("pool_shape"), arguments.get("pool_stride"))
    # weights k / 16 * scale after the division by the pool area: exact sums; mixed signs, some zeros
    kernel = dyadic(kernel_shape, seed, scale=scale * area)
    if kernel.size > 1:
        kernel.flat[0], kernel.flat[-1] = abs(kernel.flat[0]) + scale, -abs(kernel.flat[-1]) - scale
    post_shape, connections = conv_reference(pre_shape, kernel, **arguments)
    assert len(connections) > 0
    setup(min_delay=0.5)
    pre = image_source(pre_shape, seed)
    shared = sim.Population(post_shape[0] * post_shape[1], make_cell(), structure=grid(*post_shape))
    reference = sim.Population(shared.size, make_cell())
    connector = sim.ConvolutionConnector(kernel, **arguments)
    assert tuple(connector.get_post_shape(pre_shape)) == post_shape
    sim.Projection(pre, shared, connector, sim.Convolution())
    reference_projections(pre, reference, connections, delay=0.5)   # Convolution's delay: min_delay
    run_and_compare(shared, reference)


def test_convolution_delay_and_receptors():
    """The synapse type's delay; the receptors named by the connector (then the other way round: positive weights
    onto 'inhibitory', negative ones as |w| onto 'excitatory', conductances)."""
    setup()
    pre_shape, kernel = (6, 6), dyadic((3, 3), 7, scale=0.125)
    post_shape, connections = conv_reference(pre_shape, kernel, strides=1)
    pre = image_source(pre_shape, 7)
    shared = sim.Population(16, sim.IF_cond_exp(), structure=grid(*post_shape))
    reference = sim.Population(16, sim.IF_cond_exp())
    sim.Projection(pre, shared, sim.ConvolutionConnector(kernel), sim.Convolution(delay=1.3))
    reference_projections(pre, reference, connections, delay=1.3)
    run_and_compare(shared, reference)

    setup()
    pre = image_source(pre_shape, 7)
    shared = sim.Population(16, sim.IF_cond_exp(), structure=grid(*post_shape))
    reference = sim.Population(16, sim.IF_cond_exp())
    sim.Projection(pre, shared, sim.ConvolutionConnector(kernel, positive_receptor_type="inhibitory",
                                                        negative_receptor_type="excitatory"), sim.Convolution())
    flipped = [(i, j, -w) for i, j, w, _ in connections]   # positive onto inhibitory: the reference's negative
    reference_projections(pre, reference, flipped, delay=0.1)
    run_and_compare(shared, reference, min_spikes=0)


def test_comparison_can_fail():
    """The comparison is sensitive: the kernel not flipped (cross-correlation) gives other traces."""
    setup()
    pre_shape, kernel = (6, 7), dyadic((3, 3), 0, scale=4.0, zero=False)
    post_shape, connections = conv_reference(pre_shape, kernel)
    unflipped = [(i, j, kernel.flat[kernel.size - 1 - entry]) for i, j, _, entry in connections]
    pre = image_source(pre_shape, 0)
    shared = sim.Population(20, sim.IF_curr_exp(), structure=grid(*post_shape))
    reference = sim.Population(20, sim.IF_curr_exp())
    sim.Projection(pre, shared, sim.ConvolutionConnector(kernel), sim.Convolution())
    reference_projections(pre, reference, unflipped, delay=0.1)
    with pytest.raises(AssertionError):
        run_and_compare(shared, reference)


# pre shape, pool shape, pool stride, Grid2D post shape or a number of cells
DENSE_CASES = {
    "no pooling": ((4, 5), None, None, 3),
    "pool 2": ((6, 7), 2, None, 4),
    "pool (2, 3) stride (1, 2)": ((5, 8), (2, 3), (1, 2), 3),
    "pool 3 stride 2": ((7, 6), 3, 2, 2),
    "grid post": ((6, 6), 2, None, (2, 3)),
    "one row": ((1, 8), (1, 3), None, 2),
}


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("case", sorted(DENSE_CASES))
def test_pool_dense_network_equals_from_list(case, cell):
    pre_shape, pool_shape, pool_stride, post = DENSE_CASES[case]
    make_cell, scale = CELLS[cell]
    seed = 100 + sorted(DENSE_CASES).index(case)
    n_post = post if isinstance(post, int) else post[0] * post[1]
    shape = pooled_shape(pre_shape, pool_shape, pool_stride)
    _, _, area = pooling(pool_shape, pool_stride)
    weights = dyadic((shape[0], shape[1], n_post), seed, low=-6, scale=scale * area)
    connections = dense_reference(pre_shape, weights, n_post, pool_shape, pool_stride)
    setup()
    pre = image_source(pre_shape, seed)
    structure = None if isinstance(post, int) else grid(*post)
    shared = sim.Population(n_post, make_cell(), structure=structure)
    reference = sim.Population(n_post, make_cell())
    sim.Projection(pre, shared, sim.PoolDenseConnector(weights, pool_shape, pool_stride), sim.PoolDense())
    reference_projections(pre, reference, connections, delay=0.1)
    run_and_compare(shared, reference)


def test_layers_conv_then_pool_dense():
    """Two layers: the image -> a convolution layer -> a PoolDense readout, against the FromList equivalent."""
    setup()
    pre_shape = (8, 8)
    kernel = dyadic((3, 3), 11, scale=8.0, zero=False)
    kernel[1, 1] = 2.0
    post_shape, conv = conv_reference(pre_shape, kernel, strides=1)
    dense = dyadic((3, 3, 3), 12, low=-4, high=24, scale=4 * 4.0)
    readout = dense_reference(post_shape, dense, 3, pool_shape=2)
    pre = image_source(pre_shape, 11)
    layer = [sim.Population(36, sim.IF_curr_exp(), structure=grid(*post_shape)), sim.Population(36, sim.IF_curr_exp())]
    out = [sim.Population(3, sim.IF_curr_exp()), sim.Population(3, sim.IF_curr_exp())]
    sim.Projection(pre, layer[0], sim.ConvolutionConnector(kernel), sim.Convolution())
    sim.Projection(layer[0], out[0], sim.PoolDenseConnector(dense, pool_shape=2), sim.PoolDense(delay=0.5))
    reference_projections(pre, layer[1], conv, delay=0.1)
    reference_projections(layer[1], out[1], readout, delay=0.5)
    layer[0].record("spikes")
    layer[1].record("spikes")
    for population in out:
        population.record(["v", "spikes"])
    sim.run(T_STOP)
    spikes = [[np.asarray(s.magnitude) for s in p.get_data().segments[0].spiketrains] for p in layer + out]
    v = [np.asarray(p.get_data().segments[0].filter(name="v")[0].magnitude) for p in out]
    sim.end()
    assert sum(map(len, spikes[1])) > 0
    for a, b in zip(spikes[0] + spikes[2], spikes[1] + spikes[3]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(v[0], v[1])


def test_reset_and_set_delay():
    """A second run after reset() repeats the first; set(delay=...) moves all the connections' input (one delay)."""
    setup()
    kernel = dyadic((3, 3), 21, scale=4.0, zero=False)
    post_shape, connections = conv_reference((6, 6), kernel, padding=True)
    pre = image_source((6, 6), 21)
    shared = sim.Population(36, sim.IF_curr_exp(), structure=grid(*post_shape))
    reference = sim.Population(36, sim.IF_curr_exp())
    projection = sim.Projection(pre, shared, sim.ConvolutionConnector(kernel, padding=True), sim.Convolution())
    reference_projections(pre, reference, connections, 0.1)
    for population in (shared, reference):
        population.record(["v", "spikes"])
    sim.run(T_STOP)
    first = traces(shared)
    sim.reset()
    sim.run(T_STOP)
    second = traces(shared)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[0], traces(reference)[0])
    sim.end()

    setup()
    pre = image_source((6, 6), 21)
    shared = sim.Population(36, sim.IF_curr_exp(), structure=grid(*post_shape))
    reference = sim.Population(36, sim.IF_curr_exp())
    projection = sim.Projection(pre, shared, sim.ConvolutionConnector(kernel, padding=True), sim.Convolution())
    projection.set(delay=2.0)
    assert set(np.asarray(projection.get("delay", format="list"))[:, 2].tolist()) == {2.0}
    reference_projections(pre, reference, connections, 2.0)
    run_and_compare(shared, reference)


# ============================== (b) get and len ==============================

def sorted_list(values):
    return sorted(tuple(float(x) for x in row) for row in values)


def check_get(projection, connections, delay):
    expected = sorted_list((i, j, w) for i, j, w, _ in connections)
    assert len(projection) == len(connections)
    assert projection.size() == len(connections)
    assert sorted_list(projection.get("weight", format="list")) == expected
    assert sorted_list(projection.get(["weight", "delay"], format="list")) == \
        sorted_list((i, j, w, delay) for i, j, w, _ in connections)
    weights, delays = projection.get(["weight", "delay"], format="array")
    expected_weights = np.full((projection.pre.size, projection.post.size), np.nan)
    for i, j, w, _ in connections:
        assert np.isnan(expected_weights[i, j]), "the reference has two connections (%d, %d)" % (i, j)
        expected_weights[i, j] = w
    np.testing.assert_array_equal(weights, expected_weights)
    np.testing.assert_array_equal(delays, np.where(np.isnan(expected_weights), np.nan, delay))
    pre, post = projection._pre, projection._post   # Connection objects
    first = projection[0]
    assert (first.presynaptic_index, first.postsynaptic_index) == (int(pre[0]), int(post[0]))
    assert first.weight == expected_weights[pre[0], post[0]]


@pytest.mark.parametrize("case", ["plain", "strides (1, 2)", "padding True stride 2", "pool 3 stride 2",
                                  "pool 2 stride (1, 2) padding", "kernel larger than the image", "one row"])
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_convolution_get_and_len(case, cell):
    pre_shape, kernel_shape, arguments = CONV_CASES[case]
    kernel = np.random.default_rng(3).uniform(-1.0, 1.0, kernel_shape)
    post_shape, connections = conv_reference(pre_shape, kernel, **arguments)
    setup(min_delay=0.2)
    pre = sim.Population(pre_shape[0] * pre_shape[1], sim.SpikeSourceArray(), structure=grid(*pre_shape))
    post = sim.Population(post_shape[0] * post_shape[1], CELLS[cell][0](), structure=grid(*post_shape))
    projection = sim.Projection(pre, post, sim.ConvolutionConnector(kernel, **arguments), sim.Convolution())
    check_get(projection, connections, 0.2)
    _, _, area = pooling(arguments.get("pool_shape"), arguments.get("pool_stride"))
    np.testing.assert_array_equal(projection.get("weight", format="kernel"), kernel / area)
    sim.end()


@pytest.mark.parametrize("case", sorted(DENSE_CASES))
def test_pool_dense_get_and_len(case):
    pre_shape, pool_shape, pool_stride, post = DENSE_CASES[case]
    n_post = post if isinstance(post, int) else post[0] * post[1]
    shape = pooled_shape(pre_shape, pool_shape, pool_stride)
    weights = np.random.default_rng(4).uniform(-1.0, 1.0, shape[0] * shape[1] * n_post)
    connections = dense_reference(pre_shape, weights, n_post, pool_shape, pool_stride)
    setup()
    pre = sim.Population(pre_shape[0] * pre_shape[1], sim.SpikeSourceArray(), structure=grid(*pre_shape))
    target = sim.Population(n_post, sim.IF_cond_exp(), structure=None if isinstance(post, int) else grid(*post))
    projection = sim.Projection(pre, target, sim.PoolDenseConnector(weights, pool_shape, pool_stride),
                                sim.PoolDense(delay=1.5))
    check_get(projection, connections, 1.5)
    _, _, area = pooling(pool_shape, pool_stride)
    np.testing.assert_array_equal(np.reshape(projection.get("weight", format="kernel"), (-1, n_post)),
                                  weights.reshape(-1, n_post) / area)
    sim.end()


def test_get_over_several_blocks(monkeypatch):
    """The connections enumerated a few presynaptic cells at a time (small blocks) read back the same."""
    import pynn_cupy.storage.kernel as kernel_storage
    monkeypatch.setattr(kernel_storage, "SORT_CHUNK", 20)
    kernel = np.random.default_rng(5).uniform(-1.0, 1.0, (3, 2))
    post_shape, connections = conv_reference((7, 6), kernel, padding=1, strides=(2, 1))
    setup()
    pre = sim.Population(42, sim.SpikeSourceArray(), structure=grid(7, 6))
    post = sim.Population(post_shape[0] * post_shape[1], sim.IF_curr_exp(), structure=grid(*post_shape))
    projection = sim.Projection(pre, post, sim.ConvolutionConnector(kernel, padding=1, strides=(2, 1)))
    assert len(list(projection._device.chunks())) > 5
    check_get(projection, connections, 0.1)
    weights = np.random.default_rng(6).uniform(-1.0, 1.0, 42 * 4)
    dense = sim.Projection(pre, sim.Population(4, sim.IF_curr_exp()), sim.PoolDenseConnector(weights))
    assert len(list(dense._device.chunks())) > 5
    check_get(dense, dense_reference((7, 6), weights, 4), 0.1)
    sim.end()


# ============================== (c) the enumeration, random shapes ==============================

def random_convolution(rng):
    pre_shape = tuple(int(x) for x in rng.integers(1, 13, 2))
    kernel = rng.uniform(-1, 1, tuple(int(x) for x in rng.integers(1, 6, 2)))
    arguments = {}
    if rng.uniform() < 0.6:
        arguments["strides"] = int(rng.integers(1, 4)) if rng.uniform() < 0.5 else \
            tuple(int(x) for x in rng.integers(1, 4, 2))
    choice = rng.integers(0, 4)
    if choice == 1:
        arguments["padding"] = True
    elif choice == 2:
        arguments["padding"] = int(rng.integers(0, 4))
    elif choice == 3:
        arguments["padding"] = tuple(int(x) for x in rng.integers(0, 4, 2))
    if rng.uniform() < 0.4:
        pool = tuple(int(x) for x in rng.integers(1, 4, 2))
        if all(pool[d] <= pre_shape[d] for d in range(2)):
            arguments["pool_shape"] = pool
            if rng.uniform() < 0.5:
                arguments["pool_stride"] = tuple(int(x) for x in rng.integers(1, 4, 2))
    return pre_shape, kernel, arguments


def test_convolution_enumeration_random_shapes():
    """SharedKernel._pairs (pre, post, kernel entry) against the loop for 150 random shapes (fixed seeds); the
    postsynaptic shape against get_post_shape; any block of presynaptic cells gives its own connections."""
    setup()
    for seed in range(150):
        rng = np.random.default_rng(seed)
        pre_shape, kernel, arguments = random_convolution(rng)
        post_shape, connections = conv_reference(pre_shape, kernel, **arguments)
        connector = sim.ConvolutionConnector(kernel, **arguments)
        what = "seed %d: %s kernel %s %s" % (seed, pre_shape, kernel.shape, arguments)
        assert tuple(connector.get_post_shape(pre_shape)) == post_shape, what
        pre = sim.Population(pre_shape[0] * pre_shape[1], sim.SpikeSourceArray(), structure=grid(*pre_shape))
        post = sim.Population(post_shape[0] * post_shape[1], sim.IF_curr_exp(), structure=grid(*post_shape))
        projection = sim.Projection(pre, post, connector, sim.Convolution())
        storage = projection._device
        found = storage._pairs(np.arange(pre.size))
        assert np.all(np.diff(found[0]) >= 0), what + ": not in presynaptic order"
        assert sorted(zip(*(x.tolist() for x in found))) == sorted((i, j, e) for i, j, _, e in connections), what
        block = np.sort(rng.choice(pre.size, size=max(1, pre.size // 3), replace=False))
        found = storage._pairs(block)
        assert sorted(zip(*(x.tolist() for x in found))) == \
            sorted((i, j, e) for i, j, _, e in connections if i in set(block.tolist())), what
        assert len(projection) == len(connections), what
    sim.end()


def test_pool_dense_enumeration_random_shapes():
    setup()
    for seed in range(100):
        rng = np.random.default_rng(1000 + seed)
        pre_shape = tuple(int(x) for x in rng.integers(1, 11, 2))
        pool_shape = pool_stride = None
        if rng.uniform() < 0.7:
            pool_shape = tuple(int(min(x, pre_shape[d])) for d, x in enumerate(rng.integers(1, 4, 2)))
            if rng.uniform() < 0.5:
                pool_stride = tuple(int(x) for x in rng.integers(1, 4, 2))
        n_post = int(rng.integers(1, 5))
        shape = pooled_shape(pre_shape, pool_shape, pool_stride)
        assert tuple(sim.PoolDenseConnector.get_post_pool_shape(pre_shape, pool_shape, pool_stride)) == shape
        weights = rng.uniform(-1, 1, shape[0] * shape[1] * n_post)
        connections = dense_reference(pre_shape, weights, n_post, pool_shape, pool_stride)
        pre = sim.Population(pre_shape[0] * pre_shape[1], sim.SpikeSourceArray(), structure=grid(*pre_shape))
        post = sim.Population(n_post, sim.IF_curr_exp())
        projection = sim.Projection(pre, post, sim.PoolDenseConnector(weights, pool_shape, pool_stride))
        found = projection._device._pairs(np.arange(pre.size))
        what = "seed %d: %s pool %s stride %s, %d cells" % (seed, pre_shape, pool_shape, pool_stride, n_post)
        assert sorted(zip(*(x.tolist() for x in found))) == sorted((i, j, e) for i, j, _, e in connections), what
        assert len(projection) == len(connections), what
    sim.end()


# ============================== (d) bad input ==============================

def named(*parts):
    """A regex that finds every part (literally), in any order."""
    return "".join("(?=.*%s)" % re.escape(str(part)) for part in parts)


BAD_CONVOLUTIONS = [
    (dict(kernel_weights=[[1.0, 2.0], [3.0]]), ["[[1.0, 2.0], [3.0]]"]),
    (dict(kernel_weights=np.ones((2, 2, 2))), ["(2, 2, 2)"]),
    (dict(kernel_weights=[]), ["(0,)"]),
    (dict(kernel_weights=[[]]), ["(1, 0)"]),
    (dict(kernel_weights=[[1.0, np.nan]]), ["nan"]),
    (dict(kernel_weights=[[1.0, np.inf]]), ["inf"]),
    (dict(kernel_weights="abc"), ["abc"]),
    (dict(kernel_weights=None), ["None"]),
    (dict(kernel_weights=0.5), ["kernel_shape", "0.5"]),
    (dict(kernel_weights=[[1.0, 2.0], [3.0, 4.0]], kernel_shape=3), ["kernel_shape", "3", "(2, 2)"]),
    (dict(kernel_weights=[1.0, 2.0, 3.0, 4.0, 5.0], kernel_shape=(2, 3)), ["5", "(2, 3)"]),
    (dict(kernel_weights=0.5, kernel_shape=0), ["kernel_shape=0"]),
    (dict(kernel_weights=[[1.0]], strides=0), ["strides=0"]),
    (dict(kernel_weights=[[1.0]], strides=-1), ["strides=-1"]),
    (dict(kernel_weights=[[1.0]], strides=(1, 0)), ["strides=(1, 0)"]),
    (dict(kernel_weights=[[1.0]], strides=1.5), ["strides=1.5"]),
    (dict(kernel_weights=[[1.0]], padding=-1), ["padding=-1"]),
    (dict(kernel_weights=[[1.0]], padding=(0, -2)), ["padding=(0, -2)"]),
    (dict(kernel_weights=[[1.0]], pool_shape=0), ["pool_shape=0"]),
    (dict(kernel_weights=[[1.0]], pool_shape=(2, 0)), ["pool_shape=(2, 0)"]),
    (dict(kernel_weights=[[1.0]], pool_shape=2, pool_stride=0), ["pool_stride=0"]),
    (dict(kernel_weights=[[1.0]], strides=(1, 2, 3)), ["strides=(1, 2, 3)"]),
]


@pytest.mark.parametrize("arguments,names", BAD_CONVOLUTIONS, ids=[", ".join(names) for _, names in BAD_CONVOLUTIONS])
def test_convolution_connector_bad_arguments(arguments, names):
    with pytest.raises(errors.InvalidParameterValueError, match=named(*names)):
        sim.ConvolutionConnector(**arguments)


BAD_DENSE = [
    (dict(weights=[[1.0, np.nan]]), ["nan"]),
    (dict(weights=[]), ["[]"]),
    (dict(weights="abc"), ["abc"]),
    (dict(weights=[[1.0, 2.0], [3.0]]), ["[[1.0, 2.0], [3.0]]"]),
    (dict(weights=1.0, pool_shape=0), ["pool_shape=0"]),
    (dict(weights=1.0, pool_shape=2, pool_stride=(0, 1)), ["pool_stride=(0, 1)"]),
]


@pytest.mark.parametrize("arguments,names", BAD_DENSE, ids=[", ".join(names) for _, names in BAD_DENSE])
def test_pool_dense_connector_bad_arguments(arguments, names):
    with pytest.raises(errors.InvalidParameterValueError, match=named(*names)):
        sim.PoolDenseConnector(**arguments)


def usable_afterwards():
    """After the refused projections: none registered; a valid network builds and runs as its reference."""
    assert simulator.state.projections == []
    kernel = dyadic((2, 2), 9, scale=4.0, zero=False)
    post_shape, connections = conv_reference((5, 5), kernel)
    pre = image_source((5, 5), 9)
    shared = sim.Population(16, sim.IF_curr_exp(), structure=grid(*post_shape))
    reference = sim.Population(16, sim.IF_curr_exp())
    sim.Projection(pre, shared, sim.ConvolutionConnector(kernel), sim.Convolution())
    reference_projections(pre, reference, connections, 0.1)
    run_and_compare(shared, reference)


def populations():
    """A fresh simulator and the populations the bad projections are made of."""
    setup()
    return dict(
        image=sim.Population(36, sim.SpikeSourceArray(spike_times=[[1.0]] * 36), structure=grid(6, 6), label="image"),
        flat=sim.Population(36, sim.SpikeSourceArray(), label="flat"),
        line=sim.Population(36, sim.SpikeSourceArray(), structure=sim.space.Line(), label="line"),
        good=sim.Population(16, sim.IF_curr_exp(), structure=grid(4, 4), label="good"),
        plain=sim.Population(16, sim.IF_curr_exp(), label="plain"),
        wrong=sim.Population(25, sim.IF_curr_exp(), structure=grid(5, 5), label="wrong"),
        odd=sim.Population(15, sim.IF_curr_exp(), structure=grid(4, 4), label="odd"),   # no 4 x 4 grid of 15
        other=sim.Population(16, sim.IF_curr_exp(), structure=grid(2, 8), label="other"))   # 2 x 8, not 4 x 4


def conv3():
    return sim.ConvolutionConnector(np.ones((3, 3)))


def stdp(dependence):
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(), weight_dependence=dependence())


# (pre, post, connector, synapse type) from the populations -> the error and what its message names
BAD_PROJECTIONS = {
    "pre without Grid2D": (lambda p: (p["flat"], p["good"], conv3(), None), errors.InvalidDimensionsError,
                           ["flat", "Grid2D"]),
    "pre with a Line": (lambda p: (p["line"], p["good"], conv3(), None), errors.InvalidDimensionsError,
                        ["line", "Grid2D"]),
    "post without Grid2D": (lambda p: (p["image"], p["plain"], conv3(), None), errors.InvalidDimensionsError,
                            ["plain", "Grid2D"]),
    "post too large": (lambda p: (p["image"], p["wrong"], conv3(), None), errors.InvalidDimensionsError,
                       ["wrong", "(4, 4)", "(5, 5)"]),
    "post not a grid": (lambda p: (p["image"], p["odd"], conv3(), None), errors.InvalidDimensionsError,
                        ["odd", "15"]),
    "post of another shape": (lambda p: (p["image"], p["other"], conv3(), None), errors.InvalidDimensionsError,
                              ["other", "(4, 4)", "(2, 8)"]),
    "pre view": (lambda p: (p["image"][0:16], p["good"], conv3(), None), errors.InvalidDimensionsError,
                 ["Grid2D"]),
    "post view": (lambda p: (p["image"], p["good"][0:16], conv3(), None), errors.InvalidDimensionsError,
                  ["Grid2D"]),
    "pre assembly": (lambda p: (sim.Assembly(p["image"]), p["good"], conv3(), None),
                     errors.InvalidDimensionsError, ["Grid2D"]),
    "post assembly": (lambda p: (p["image"], sim.Assembly(p["good"]), conv3(), None),
                      errors.InvalidDimensionsError, ["Grid2D"]),
    "dense post view": (lambda p: (p["image"], p["good"][0:16], sim.PoolDenseConnector(0.5), None),
                        errors.InvalidDimensionsError, ["Population"]),
    "dense post assembly": (lambda p: (p["image"], sim.Assembly(p["plain"]), sim.PoolDenseConnector(0.5), None),
                            errors.InvalidDimensionsError, ["Population"]),
    "dense pre view": (lambda p: (p["image"][0:16], p["plain"], sim.PoolDenseConnector(0.5), None),
                       errors.InvalidDimensionsError, ["Grid2D"]),
    "dense pre without Grid2D": (lambda p: (p["flat"], p["plain"], sim.PoolDenseConnector(0.5), None),
                                 errors.InvalidDimensionsError, ["flat", "Grid2D"]),
    "dense weights count": (lambda p: (p["image"], p["plain"], sim.PoolDenseConnector(np.ones(36 * 15)), None),
                            errors.InvalidDimensionsError, ["540", "576"]),
    "dense weights count, pooled": (
        lambda p: (p["image"], p["plain"], sim.PoolDenseConnector(np.ones(9 * 16 + 1), pool_shape=2), None),
        errors.InvalidDimensionsError, ["145", "144", "(3, 3)"]),
    "positive receptor": (lambda p: (p["image"], p["good"], sim.ConvolutionConnector(
        np.ones((3, 3)), positive_receptor_type="AMPA"), None), errors.ConnectionError, ["AMPA"]),
    "negative receptor": (lambda p: (p["image"], p["good"], sim.ConvolutionConnector(
        np.ones((3, 3)), negative_receptor_type="GABA"), None), errors.ConnectionError, ["GABA"]),
    "dense negative receptor": (lambda p: (p["image"], p["plain"], sim.PoolDenseConnector(
        0.5, negative_receptor_type="NMDA"), None), errors.ConnectionError, ["NMDA"]),
    "random delay": (lambda p: (p["image"], p["good"], conv3(), sim.Convolution(
        delay=RandomDistribution("uniform", (0.5, 1.5)))), errors.ConnectionError, ["delay"]),
    "delay below dt": (lambda p: (p["image"], p["good"], conv3(), sim.Convolution(delay=0.01)),
                       errors.ConnectionError, ["0.01"]),
    "STDP": (lambda p: (p["image"], p["good"], conv3(), stdp(sim.AdditiveWeightDependence)),
             errors.NoModelAvailableError, ["STDPMechanism"]),
    "dense STDP": (lambda p: (p["image"], p["plain"], sim.PoolDenseConnector(0.5),
                              stdp(sim.MultiplicativeWeightDependence)),
                   errors.NoModelAvailableError, ["STDPMechanism"]),
    "Tsodyks-Markram": (lambda p: (p["image"], p["good"], conv3(), sim.TsodyksMarkramSynapse()),
                        errors.NoModelAvailableError, ["TsodyksMarkramSynapse"]),
}


@pytest.mark.parametrize("case", sorted(BAD_PROJECTIONS))
def test_projection_bad_populations_and_synapses(case):
    make, error, names = BAD_PROJECTIONS[case]
    pre, post, connector, synapse = make(populations())
    with pytest.raises(error, match=named(*names)):
        sim.Projection(pre, post, connector, synapse)
    usable_afterwards()


def test_set_weight_is_refused():
    setup()
    pre = sim.Population(16, sim.SpikeSourceArray(), structure=grid(4, 4))
    post = sim.Population(4, sim.IF_curr_exp(), structure=grid(2, 2))
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    projection = sim.Projection(pre, post, sim.ConvolutionConnector(kernel), sim.Convolution())
    dense = sim.Projection(pre, post, sim.PoolDenseConnector(np.ones(16 * 4)), sim.PoolDense())
    for prj in (projection, dense):
        before = prj.get("weight", format="list")
        with pytest.raises(errors.NoModelAvailableError, match="weight"):
            prj.set(weight=0.5)
        with pytest.raises(errors.NoModelAvailableError, match="weight"):
            prj.set(weight=np.ones((16, 4)))
        assert prj.get("weight", format="list") == before
    np.testing.assert_array_equal(projection.get("weight", format="kernel"), kernel)
    with pytest.raises(errors.InvalidParameterValueError, match="format='nonsense'"):
        projection.get("weight", format="nonsense")
    sim.end()
    setup()
    usable_afterwards()


# ============================== (e) sPyNNaker-style constructors ==============================

@pytest.mark.parametrize("arguments,kernel", [
    (dict(kernel_weights=0.5, kernel_shape=3), np.full((3, 3), 0.5)),
    (dict(kernel_weights=-2, kernel_shape=(2, 3)), np.full((2, 3), -2.0)),
    (dict(kernel_weights=1.5, kernel_shape=[3]), np.full((3, 1), 1.5)),
    (dict(kernel_weights=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], kernel_shape=(2, 3)), np.arange(1.0, 7.0).reshape(2, 3)),
    (dict(kernel_weights=np.arange(6.0), kernel_shape=[3, 2]), np.arange(6.0).reshape(3, 2)),
    (dict(kernel_weights=[[1, -2], [3, 4]]), np.array([[1.0, -2.0], [3.0, 4.0]])),
    (dict(kernel_weights=np.eye(3), kernel_shape=(3, 3)), np.eye(3)),
    (dict(kernel_weights=np.eye(3), kernel_shape=3), np.eye(3)),
])
def test_convolution_kernel_variants(arguments, kernel):
    connector = sim.ConvolutionConnector(**arguments)
    np.testing.assert_array_equal(connector.kernel_weights, kernel)
    setup()
    pre = sim.Population(30, sim.SpikeSourceArray(), structure=grid(5, 6))
    post_shape, connections = conv_reference((5, 6), kernel)
    post = sim.Population(post_shape[0] * post_shape[1], sim.IF_cond_exp(), structure=grid(*post_shape))
    projection = sim.Projection(pre, post, connector, sim.Convolution())
    np.testing.assert_array_equal(projection.get("weight", format="kernel"), kernel)
    assert sorted_list(projection.get("weight", format="list")) == sorted_list(c[:3] for c in connections)
    sim.end()


def test_convolution_random_kernel():
    connector = sim.ConvolutionConnector(RandomDistribution("uniform", (-1.0, 1.0), rng=NumpyRNG(seed=3)),
                                         kernel_shape=(3, 2))
    expected = RandomDistribution("uniform", (-1.0, 1.0), rng=NumpyRNG(seed=3)).next(6)
    assert connector.kernel_weights.shape == (3, 2)
    np.testing.assert_array_equal(connector.kernel_weights.ravel(), expected)
    square = sim.ConvolutionConnector(RandomDistribution("normal", (0.0, 1.0), rng=NumpyRNG(seed=4)), kernel_shape=4)
    assert square.kernel_weights.shape == (4, 4) and len(np.unique(square.kernel_weights)) == 16


@pytest.mark.parametrize("arguments,strides,padding,pool_shape,pool_stride", [
    (dict(strides=2), (2, 2), (0, 0), None, None),
    (dict(strides=(1, 3)), (1, 3), (0, 0), None, None),
    (dict(strides=[2, 1]), (2, 1), (0, 0), None, None),
    (dict(strides=np.int64(2)), (2, 2), (0, 0), None, None),
    (dict(strides=np.array([3, 2])), (3, 2), (0, 0), None, None),
    (dict(padding=1), (1, 1), (1, 1), None, None),
    (dict(padding=(0, 2)), (1, 1), (0, 2), None, None),
    (dict(padding=0), (1, 1), (0, 0), None, None),
    (dict(padding=True), (1, 1), (1, 2), None, None),   # half the 3 x 5 kernel
    (dict(padding=False), (1, 1), (0, 0), None, None),
    (dict(pool_shape=2), (1, 1), (0, 0), (2, 2), (2, 2)),
    (dict(pool_shape=(2, 3)), (1, 1), (0, 0), (2, 3), (2, 3)),
    (dict(pool_shape=3, pool_stride=2), (1, 1), (0, 0), (3, 3), (2, 2)),
    (dict(pool_shape=(3, 2), pool_stride=(1, 2)), (1, 1), (0, 0), (3, 2), (1, 2)),
])
def test_convolution_argument_variants(arguments, strides, padding, pool_shape, pool_stride):
    kernel = np.arange(1.0, 16.0).reshape(3, 5)
    connector = sim.ConvolutionConnector(kernel, **arguments)
    assert tuple(connector.strides) == strides and tuple(connector.padding_shape) == padding
    assert (connector.pool_shape is None) == (pool_shape is None)
    if pool_shape is not None:
        assert tuple(connector.pool_shape) == pool_shape and tuple(connector.pool_stride) == pool_stride
    pre_shape = (9, 12)
    post_shape, connections = conv_reference(pre_shape, kernel, **arguments)
    assert tuple(connector.get_post_shape(pre_shape)) == post_shape
    setup()
    pre = sim.Population(108, sim.SpikeSourceArray(), structure=grid(*pre_shape))
    post = sim.Population(post_shape[0] * post_shape[1], sim.IF_curr_exp(), structure=grid(*post_shape))
    projection = sim.Projection(pre, post, connector)   # the default synapse type
    assert sorted_list(projection.get("weight", format="list")) == sorted_list(c[:3] for c in connections)
    sim.end()


@pytest.mark.parametrize("synapse", [None, "StaticSynapse", "Convolution", "PoolDense"])
def test_pool_dense_variants(synapse):
    """weights as a number, a RandomDistribution, an array of any shape with the right count; the synapse types
    accepted (their delay)."""
    setup(min_delay=0.3)
    pre = sim.Population(30, sim.SpikeSourceArray(), structure=grid(5, 6))
    post = sim.Population(2, sim.IF_curr_exp())
    make = (lambda: None) if synapse is None else (lambda: getattr(sim, synapse)(delay=0.6)) \
        if synapse != "StaticSynapse" else (lambda: sim.StaticSynapse(delay=0.6))
    delay = 0.3 if synapse is None else 0.6
    assert tuple(sim.PoolDenseConnector.get_post_pool_shape((5, 6), 2)) == (3, 3)   # (5 - 1) // 2 + 1, ...
    assert tuple(sim.PoolDenseConnector.get_post_pool_shape((5, 6), (2, 3), (1, 2))) == (5, 3)
    assert tuple(sim.PoolDenseConnector.get_post_pool_shape((5, 6), 3, 2)) == (2, 3)
    assert tuple(sim.PoolDenseConnector.get_post_pool_shape((5, 6))) == (5, 6)
    values = np.arange(1.0, 19.0)
    for weights, expected in [(0.5, np.full(18, 0.5)), (values.reshape(3, 3, 2), values), (values, values),
                              (values.reshape(9, 2).tolist(), values),
                              (RandomDistribution("uniform", (0.0, 1.0), rng=NumpyRNG(seed=8)),
                               RandomDistribution("uniform", (0.0, 1.0), rng=NumpyRNG(seed=8)).next(18))]:
        projection = sim.Projection(pre, post, sim.PoolDenseConnector(weights, pool_shape=2), make())
        connections = dense_reference((5, 6), expected, 2, pool_shape=2)
        check_get(projection, connections, delay)
    sim.end()
