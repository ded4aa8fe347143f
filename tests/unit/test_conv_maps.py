"""Convolutions between populations of several feature maps (pyNN.cupy's extension of ConvolutionConnector: a
kernel of shape (out maps, in maps, rows, columns), populations made 3-D by Grid3D, maps one after the other), and
PoolDenseConnector from several maps.

The reference is sPyNNaker's way of writing the same network: one 2-D population per map and one 2-D
ConvolutionConnector projection per (in map, out map) pair with kernel [o, i] (tested against FromList in
tests/unit/test_convolution.py). Checked: v and spikes equal exactly (float64, dyadic weights, so the order of
the additions cannot matter), for strides, padding and pooling; the connections enumerated for get() equal those
of the pairs; KernelSTDP learns per map exactly as the per-pair projections (a winner per postsynaptic map, which
is a population there); bad shapes are refused."""
import numpy as np
import pytest
from pyNN import errors

import pyNN.cupy as sim

DT = 0.5


def grid3(maps, rows, cols):
    return sim.space.Grid3D(aspect_ratioXY=cols / rows, aspect_ratioXZ=cols / maps)


def grid2(rows, cols):
    return sim.space.Grid2D(aspect_ratio=cols / rows)


def input_times(maps, rows, cols, seed, t_stop=30.0):
    rng = np.random.default_rng(seed)
    return [[sorted(set(np.round(rng.uniform(0.5, t_stop, rng.integers(0, 4)) / DT) * DT)) for _ in range(rows * cols)]
            for _ in range(maps)]


def dyadic(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(-6, 10, size=shape).astype(float) / 16


CELL = dict(tau_m=10.0, v_thresh=-60.0, v_reset=-65.0, tau_refrac=1.0)


def build(kernel, times, options, stacked: bool, plastic=None):
    """The network with one projection between stacked maps (Grid3D), or with one per map pair (Grid2D); returns
    (post populations by map, projections by (out, in))."""
    sim.setup(timestep=DT, precision="float64", device="cpu")
    n_out, n_in = kernel.shape[:2]
    rows, cols = len(times[0]) // options["cols"], options["cols"]
    connector_options = {k: v for k, v in options.items() if k != "cols"}
    post_rows, post_cols = sim.ConvolutionConnector(kernel[0, 0], **connector_options).get_post_shape((rows, cols))
    celltype = sim.IF_curr_delta(tau_m=1e6, v_rest=0.0, v_reset=0.0, v_thresh=1.2, tau_refrac=0.5) if plastic \
        else sim.IF_curr_exp(**CELL)
    synapse = (lambda: sim.KernelSTDP(**plastic)) if plastic else (lambda: sim.Convolution())
    if stacked:
        source = sim.Population(n_in * rows * cols, sim.SpikeSourceArray(spike_times=sum(times, [])),
                                structure=grid3(n_in, rows, cols))
        post = sim.Population(n_out * post_rows * post_cols, celltype, structure=grid3(n_out, post_rows, post_cols),
                              initial_values={"v": 0.0 if plastic else -65.0})
        projection = sim.Projection(source, post, sim.ConvolutionConnector(kernel, **connector_options), synapse())
        post.record(["spikes", "v"] if not plastic else "spikes")
        return [post], {"all": projection}
    sources = [sim.Population(rows * cols, sim.SpikeSourceArray(spike_times=t), structure=grid2(rows, cols))
               for t in times]
    posts = [sim.Population(post_rows * post_cols, celltype, structure=grid2(post_rows, post_cols),
                            initial_values={"v": 0.0 if plastic else -65.0}) for _ in range(n_out)]
    projections = {(o, i): sim.Projection(sources[i], posts[o], sim.ConvolutionConnector(kernel[o, i], **connector_options),
                                          synapse())
                   for o in range(n_out) for i in range(n_in)}
    for post in posts:
        post.record(["spikes", "v"] if not plastic else "spikes")
    return posts, projections


def results(posts):
    spikes, v = [], []
    for post in posts:
        segment = post.get_data().segments[0]
        spikes += [np.asarray(t).tolist() for t in segment.spiketrains]
        if segment.analogsignals:
            v.append(np.asarray(segment.filter(name="v")[0]))
    return spikes, (np.concatenate(v, axis=1) if v else None)


CASES = {
    "2 -> 3 maps": dict(maps=(3, 2), shape=(7, 6), kernel=(3, 3), options={}),
    "1 -> 2 maps, strides 2, padding": dict(maps=(2, 1), shape=(8, 7), kernel=(3, 2), options=dict(strides=2,
                                                                                                   padding=True)),
    "3 -> 2 maps, pool 2": dict(maps=(2, 3), shape=(8, 8), kernel=(2, 2), options=dict(pool_shape=2)),
    "2 -> 1 map, (1, 2) strides": dict(maps=(1, 2), shape=(6, 9), kernel=(2, 3), options=dict(strides=(1, 2))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_stacked_maps_equal_the_map_pairs(case):
    c = CASES[case]
    (n_out, n_in), (rows, cols) = c["maps"], c["shape"]
    area = 4 if c["options"].get("pool_shape") else 1   # the pool area divides the weights
    kernel = dyadic((n_out, n_in) + c["kernel"], seed=len(case)) * 4 * area   # strong enough to make spikes
    times = input_times(n_in, rows, cols, seed=3)
    options = dict(c["options"], cols=cols)
    posts, projections = build(kernel, times, options, stacked=True)
    sim.run(40.0)
    stacked = results(posts)
    connections = sorted(map(tuple, np.asarray(projections["all"].get("weight", format="list")).tolist()))
    kernel_back = projections["all"].get("weight", format="kernel")
    sim.end()
    posts, projections = build(kernel, times, options, stacked=False)
    sim.run(40.0)
    pairs = results(posts)
    pre_map = rows * cols
    post_map = posts[0].size
    expected = sorted((i * pre_map + p, o * post_map + q, w) for (o, i), projection in projections.items()
                      for p, q, w in projection.get("weight", format="list"))
    sim.end()
    assert stacked[0] == pairs[0]
    assert sum(len(s) for s in stacked[0]) > 5, "too few spikes for the comparison to mean much"
    np.testing.assert_array_equal(stacked[1], pairs[1])
    assert connections == expected
    np.testing.assert_array_equal(kernel_back, kernel / area)


def test_kernel_stdp_per_map_equals_the_map_pairs():
    """Each postsynaptic map has its own winner: the 4-D kernel learns as the 2-D kernels of the per-pair
    projections, each onto its map's population."""
    rng = np.random.default_rng(5)
    kernel = rng.uniform(0.3, 0.7, size=(3, 2, 3, 3))
    times = input_times(2, 6, 7, seed=4, t_stop=38.0)
    rule = dict(a_plus=0.05, a_minus=0.03, window=10.0)
    posts, projections = build(kernel, times, dict(cols=7), stacked=True, plastic=rule)
    sim.run(40.0)
    stacked_spikes, _ = results(posts)
    learned = projections["all"].get("weight", format="kernel")
    sim.end()
    posts, projections = build(kernel, times, dict(cols=7), stacked=False, plastic=rule)
    sim.run(40.0)
    pair_spikes, _ = results(posts)
    pairs = np.array([[projections[o, i].get("weight", format="kernel") for i in range(2)] for o in range(3)])
    sim.end()
    assert stacked_spikes == pair_spikes
    assert np.abs(learned - kernel).max() > 0.01   # it learned
    np.testing.assert_allclose(learned, pairs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("pool", [dict(pool_shape=2), dict(pool_shape=(2, 3), pool_stride=(1, 2)), {}])
def test_pool_dense_over_maps_equals_a_projection_per_map(pool):
    """PoolDenseConnector from stacked maps (weights (maps, pooled rows, pooled columns, n_post)) gives the v,
    spikes and connections of one 2-D PoolDenseConnector projection per map onto the same population."""
    n_maps, rows, cols, n_post = 3, 6, 7, 4
    pooled = tuple(int(x) for x in sim.PoolDenseConnector.get_post_pool_shape((rows, cols), pool.get("pool_shape"),
                                                                              pool.get("pool_stride")))
    area = int(np.prod(pool.get("pool_shape", 1)))
    weights = dyadic((n_maps,) + pooled + (n_post,), seed=9) * 4 * area
    times = input_times(n_maps, rows, cols, seed=6)
    outcomes = []
    for stacked in (True, False):
        sim.setup(timestep=DT, precision="float64", device="cpu")
        post = sim.Population(n_post, sim.IF_curr_exp(**CELL), initial_values={"v": -65.0})
        post.record(["spikes", "v"])
        if stacked:
            source = sim.Population(n_maps * rows * cols, sim.SpikeSourceArray(spike_times=sum(times, [])),
                                    structure=grid3(n_maps, rows, cols))
            projections = [sim.Projection(source, post, sim.PoolDenseConnector(weights, **pool), sim.PoolDense())]
        else:
            projections = [sim.Projection(sim.Population(rows * cols, sim.SpikeSourceArray(spike_times=t),
                                                         structure=grid2(rows, cols)),
                                          post, sim.PoolDenseConnector(weights[m], **pool), sim.PoolDense())
                           for m, t in enumerate(times)]
        sim.run(40.0)
        connections = sorted((m * rows * cols + p if not stacked else p, q, w)
                             for m, projection in enumerate(projections)
                             for p, q, w in projection.get("weight", format="list"))
        outcomes.append((results([post]), connections))
        sim.end()
    (stacked_run, stacked_connections), (per_map_run, per_map_connections) = outcomes
    assert stacked_run[0] == per_map_run[0]
    assert sum(len(s) for s in stacked_run[0]) > 3, "too few spikes for the comparison to mean much"
    np.testing.assert_array_equal(stacked_run[1], per_map_run[1])
    assert stacked_connections == per_map_connections


def test_pool_dense_over_maps_refuses_bad_weights_and_pools():
    sim.setup(timestep=DT, device="cpu")
    source = sim.Population(2 * 4 * 4, sim.SpikeSourceArray(spike_times=[]), structure=grid3(2, 4, 4))
    post = sim.Population(3, sim.IF_curr_exp())
    with pytest.raises(errors.InvalidDimensionsError, match="pool -> 3: .*2 maps of .4, 4. pooled to .2, 2. and 3 "
                                                            ".* need 24"):
        sim.Projection(source, post, sim.PoolDenseConnector(np.ones(12), pool_shape=2), sim.PoolDense(),
                       label="pool -> 3")
    with pytest.raises(errors.InvalidDimensionsError, match="pool_shape .6, 6. is larger than the presynaptic map"):
        sim.Projection(source, post, sim.PoolDenseConnector(0.5, pool_shape=6), sim.PoolDense())
    with pytest.raises(errors.InvalidParameterValueError, match="finite"):
        sim.PoolDenseConnector(np.array([np.nan]))
    sim.Projection(source, post, sim.PoolDenseConnector(np.ones(24), pool_shape=2), sim.PoolDense())
    sim.run(1.0)
    sim.end()


@pytest.mark.parametrize("case,error,words", [
    ("kernel maps", errors.InvalidDimensionsError, "3 x 3 maps .out, in. between .* .2 maps."),
    ("bad Grid3D", errors.InvalidDimensionsError, "aspect_ratioXZ"),
    ("Grid3D ratios off", errors.InvalidDimensionsError, "aspect_ratioXY=1.3"),
    ("2-D kernel, Grid3D", errors.InvalidDimensionsError, "Grid2D"),
    ("3-D kernel", errors.InvalidParameterValueError, "4-D"),
    ("kernel_shape", errors.InvalidParameterValueError, "kernel_shape"),
])
def test_bad_maps_are_refused(case, error, words):
    sim.setup(timestep=DT, device="cpu")
    source = sim.Population(2 * 5 * 5, sim.SpikeSourceArray(spike_times=[]), structure=grid3(2, 5, 5))
    post = sim.Population(3 * 3 * 3, sim.IF_curr_exp(), structure=grid3(3, 3, 3))
    with pytest.raises(error, match=words):
        if case == "kernel maps":
            sim.Projection(source, post, sim.ConvolutionConnector(np.ones((3, 3, 3, 3))), sim.Convolution())
        elif case == "bad Grid3D":
            odd = sim.Population(2 * 5 * 5, sim.IF_curr_exp(), structure=sim.space.Grid3D(1.0, 1.3))
            sim.Projection(source, odd, sim.ConvolutionConnector(np.ones((2, 2, 3, 3))), sim.Convolution())
        elif case == "Grid3D ratios off":   # 2 x 5 x 5 cells, but not with these ratios
            odd = sim.Population(2 * 5 * 5, sim.IF_curr_exp(), structure=sim.space.Grid3D(1.3, 2.5))
            sim.Projection(source, odd, sim.ConvolutionConnector(np.ones((2, 2, 3, 3))), sim.Convolution())
        elif case == "2-D kernel, Grid3D":
            sim.Projection(source, post, sim.ConvolutionConnector(np.ones((3, 3))), sim.Convolution())
        elif case == "3-D kernel":
            sim.ConvolutionConnector(np.ones((2, 3, 3)))
        else:
            sim.ConvolutionConnector(np.ones((3, 2, 3, 3)), kernel_shape=(2, 2))
    # still usable: the right kernel connects and runs
    sim.Projection(source, post, sim.ConvolutionConnector(np.ones((3, 2, 3, 3))), sim.Convolution())
    sim.run(1.0)
    sim.end()
