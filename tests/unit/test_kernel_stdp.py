"""KernelSTDP (plastic shared kernels, pyNN.cupy's extension): the learned kernels equal the rule applied by hand
(Kheradpisheh et al. 2018, eq. 3, a winner per feature map and window) to the spikes the network made, with
strides, padding, two input channels onto one map and several windows; reset() keeps the kernel and forgets the
winners; the rule's parameters can be read and set; bad use is refused."""
import numpy as np
import pytest
from pyNN import errors

import pyNN.cupy as sim

DT = 0.5


def network(kernels, strides=1, padding=None, window=10.0, rule=None, sim_time=40.0, shape=(6, 7), seed=1):
    """Two input channels (random spike times) onto one feature map of IF_curr_delta cells, each channel with its
    own plastic kernel; returns the projections, the inputs' spike times and the map's spikes (index, time)."""
    sim.setup(timestep=DT, precision="float64", device="cpu")
    rows, cols = shape
    rng = np.random.default_rng(seed)
    inputs, projections = [], []
    connector = [sim.ConvolutionConnector(kernel, strides=strides, padding=padding) for kernel in kernels]
    post_rows, post_cols = connector[0].get_post_shape(shape)
    feature_map = sim.Population(post_rows * post_cols, sim.IF_curr_delta(
        tau_m=1e6, v_rest=0.0, v_reset=0.0, v_thresh=1.2, tau_refrac=0.5), structure=sim.space.Grid2D(
        post_cols / post_rows), initial_values={"v": 0.0})
    feature_map.record("spikes")
    for c in connector:
        times = [sorted(set(np.round(rng.uniform(0.5, sim_time, rng.integers(0, 4)) / DT) * DT)) for _ in
                 range(rows * cols)]
        inputs.append(times)
        source = sim.Population(rows * cols, sim.SpikeSourceArray(spike_times=times),
                                structure=sim.space.Grid2D(cols / rows))
        projections.append(sim.Projection(source, feature_map, c, sim.KernelSTDP(
            window=window, **(rule or dict(a_plus=0.05, a_minus=0.03)))))
    sim.run(sim_time)
    trains = feature_map.get_data().segments[0].spiketrains
    fired = sorted((float(t), feature_map.id_to_index(train.annotations["channel_id"]))
                   for train in trains for t in train.magnitude)
    return projections, inputs, fired, (post_rows, post_cols)


def step(t):
    """The step a spike at time t was made in."""
    return np.round(np.asarray(t) / DT).astype(int) - 1


def first_per_window(fired, window):
    """{window: (step, cell)}: the first spike of each window (`fired` is sorted by time, then index)."""
    per_window, winners = int(round(window / DT)), {}
    for t, cell in fired:
        winners.setdefault(int(step(t)) // per_window, (int(step(t)), cell))
    return winners


def by_hand(kernel, times, fired, post_shape, shape, strides, padding, window, a_plus, a_minus, w_min=0.0, w_max=1.0,
            winners=None):
    """The rule, step by step: per window the first spike of the map (earliest, then lowest index), or the given
    `winners` ({window: (step, cell)}), updates the kernel entries reaching it, by whether their cell fired in the
    window at or before it."""
    kernel = np.array(kernel, dtype=float)
    k_rows, k_cols = kernel.shape
    stride = np.broadcast_to(strides, 2)
    pad = np.zeros(2, int) if padding is None else np.broadcast_to(padding, 2)
    per_window = int(round(window / DT))
    for w_index, (t, cell) in sorted((winners if winners is not None else first_per_window(fired, window)).items()):
        start = w_index * per_window   # window k holds the steps from k * per_window on
        q_row, q_col = divmod(cell, post_shape[1])
        for i_row in range(k_rows):
            for i_col in range(k_cols):
                row, col = q_row * stride[0] + i_row - pad[0], q_col * stride[1] + i_col - pad[1]
                if not (0 <= row < shape[0] and 0 <= col < shape[1]):
                    continue
                spikes = step(times[row * shape[1] + col])
                before = ((spikes >= start) & (spikes <= t)).any()
                entry = (k_rows - 1 - i_row, k_cols - 1 - i_col)
                w = kernel[entry]
                kernel[entry] = w + (a_plus if before else -a_minus) * (w - w_min) * (w_max - w) / (w_max - w_min)
    return kernel


@pytest.mark.parametrize("strides,padding", [(1, None), (2, None), ((1, 2), 1), (1, True)])
def test_kernels_follow_the_rule(strides, padding):
    rng = np.random.default_rng(3)
    kernels = [rng.uniform(0.2, 0.8, (3, 3)), rng.uniform(0.2, 0.8, (3, 3))]
    projections, inputs, fired, post_shape = network(kernels, strides=strides, padding=padding)
    assert len({int(t // 10.0) for t, _ in fired}) >= 4   # winners in several windows
    for kernel, times, projection in zip(kernels, inputs, projections):
        expected = by_hand(kernel, times, fired, post_shape, (6, 7), strides, padding, 10.0, 0.05, 0.03)
        learned = projection.get("weight", format="kernel")
        assert not np.allclose(learned, kernel)
        np.testing.assert_allclose(learned, expected, rtol=0, atol=1e-12)


def k_winners(fired, window, post_map, post_cols, k, radius):
    """SpykeTorch's get_k_winners on the spikes, window by window: a spike (in time, then index order) wins if
    fewer than k have, its map has not, and it lies more than `radius` cells from every earlier winner. Returns
    per map {window: (step, cell)}, and how many spikes lost by the limit and by the radius alone."""
    per_window, chosen, result, lost = int(round(window / DT)), {}, {}, {"limit": 0, "radius": 0}
    for t, index in fired:
        w, (m, cell) = int(step(t)) // per_window, divmod(index, post_map)
        row, col = divmod(cell, post_cols)
        won = chosen.setdefault(w, [])
        if any(m == other for other, _, _ in won):
            continue
        if len(won) >= k:
            lost["limit"] += 1
        elif any(max(abs(row - r), abs(col - c)) <= radius for _, r, c in won):
            lost["radius"] += 1
        else:
            won.append((m, row, col))
            result.setdefault(m, {})[w] = (int(step(t)), cell)
    return result, lost


def test_k_winners_across_maps():
    """KernelSTDP(winners=2, inhibition_radius=1) between stacked maps (2 in, 4 out, a (4, 2, 3, 3) kernel): the
    learned kernel equals the rule applied by hand at the winners SpykeTorch's competition picks."""
    sim.setup(timestep=DT, precision="float64", device="cpu")
    n_in, n_out, (rows, cols), window = 2, 4, (6, 7), 10.0
    rng = np.random.default_rng(5)
    times = [[sorted(set(np.round(rng.uniform(0.5, 40.0, rng.integers(0, 4)) / DT) * DT)) for _ in range(rows * cols)]
             for _ in range(n_in)]
    kernel = rng.uniform(0.2, 0.8, (n_out, n_in, 3, 3))
    source = sim.Population(n_in * rows * cols, sim.SpikeSourceArray(spike_times=sum(times, [])),
                            structure=sim.space.Grid3D(aspect_ratioXY=cols / rows, aspect_ratioXZ=cols / n_in))
    post_rows, post_cols = rows - 2, cols - 2
    maps = sim.Population(n_out * post_rows * post_cols, sim.IF_curr_delta(
        tau_m=1e6, v_rest=0.0, v_reset=0.0, v_thresh=1.2, tau_refrac=0.5), initial_values={"v": 0.0},
        structure=sim.space.Grid3D(aspect_ratioXY=post_cols / post_rows, aspect_ratioXZ=post_cols / n_out))
    maps.record("spikes")
    projection = sim.Projection(source, maps, sim.ConvolutionConnector(kernel), sim.KernelSTDP(
        a_plus=0.05, a_minus=0.03, window=window, winners=2, inhibition_radius=1))
    sim.run(40.0)
    fired = sorted((float(t), maps.id_to_index(train.annotations["channel_id"]))
                   for train in maps.get_data().segments[0].spiketrains for t in train.magnitude)
    winners, lost = k_winners(fired, window, post_rows * post_cols, post_cols, 2, 1)
    assert lost["limit"] and lost["radius"]   # both parts of the competition decide some windows
    expected = np.array([[by_hand(kernel[o, i], times[i], None, (post_rows, post_cols), (rows, cols), 1, None, window,
                                  0.05, 0.03, winners=winners.get(o, {})) for i in range(n_in)] for o in range(n_out)])
    learned = projection.get("weight", format="kernel")
    assert not np.allclose(learned, kernel)
    np.testing.assert_allclose(learned, expected, rtol=0, atol=1e-12)


def test_reset_keeps_the_kernel_and_forgets_winners():
    kernels = [np.full((3, 3), 0.5)]
    projections, inputs, fired, post_shape = network(kernels, window=1e3, sim_time=20.0)
    first = projections[0].get("weight", format="kernel")
    assert not np.allclose(first, 0.5)
    sim.reset()
    sim.run(20.0)   # the same input again: a new winner (the same cell), learning from the kept kernel
    second = projections[0].get("weight", format="kernel")
    expected = by_hand(first, inputs[0], fired, post_shape, (6, 7), 1, None, 1e3, 0.05, 0.03)
    np.testing.assert_allclose(second, expected, rtol=0, atol=1e-12)


def test_a_new_window_forgets_the_winners():
    """set(window=...) between runs renumbers the windows: a winner of the old numbering must not block the new
    window's (the spike at 26 ms learns, as in a network made with window=20 from the start)."""
    learned = []
    for change in (True, False):
        sim.setup(timestep=1.0, precision="float64", device="cpu")
        source = sim.Population(9, sim.SpikeSourceArray(spike_times=[[1.0, 21.0]] * 9), structure=sim.space.Grid2D(1.0))
        post = sim.Population(4, sim.IF_curr_delta(tau_m=1.0, v_rest=0.0, v_reset=0.0, v_thresh=10.0, tau_refrac=0.5),
                              structure=sim.space.Grid2D(1.0), initial_values={"v": 0.0})
        drive = sim.Population(2, sim.SpikeSourceArray(spike_times=[[12.0], [25.0]]))
        sim.Projection(drive, post, sim.FromListConnector([(0, 0, 50.0, 1.0), (1, 0, 50.0, 1.0)]), sim.StaticSynapse())
        projection = sim.Projection(source, post, sim.ConvolutionConnector(np.full((2, 2), 0.5)), sim.KernelSTDP(
            a_plus=0.1, a_minus=0.05, window=10.0 if change else 20.0))
        sim.run(15.0)   # cell 0 fires at 13 ms: window 1 of 10 ms
        if change:
            projection.set(window=20.0)
        else:
            projection.set(a_plus=0.1)   # the same settings: the winner of (0, 20] stays
        before = projection.get("weight", format="kernel")
        sim.run(15.0)   # cell 0 fires at 26 ms: window 1 of 20 ms
        learned.append(not np.allclose(before, projection.get("weight", format="kernel")))
        sim.end()
    assert learned == [True, True]


def test_rule_parameters_read_and_set():
    projections, *_ = network([np.full((3, 3), 0.5)], sim_time=10.0)
    projection = projections[0]
    assert projection.get("a_plus", format="list", with_address=False)[:2] == [0.05, 0.05]
    projection.set(a_plus=0.0, a_minus=0.0)   # learning off
    frozen = projection.get("weight", format="kernel")
    sim.run(30.0)
    np.testing.assert_array_equal(projection.get("weight", format="kernel"), frozen)
    with pytest.raises(errors.InvalidParameterValueError, match="a_minus"):
        projection.set(a_minus=-0.1)
    with pytest.raises(errors.InvalidParameterValueError, match="w_max"):
        projection.set(w_max=0.1)   # below the kernel's weights
    assert projection.get("a_minus", format="list", with_address=False)[0] == 0.0


@pytest.mark.parametrize("case,error,words", [
    ("pooling", errors.NoModelAvailableError, ["pooling"]),
    ("outside", errors.InvalidParameterValueError, ["w_min", "1.5"]),
    ("window", errors.InvalidParameterValueError, ["window", "0.3"]),
    ("dense", errors.NoModelAvailableError, ["KernelSTDP"]),
    ("bounds", errors.InvalidParameterValueError, ["w_min"]),
    ("winners", errors.InvalidParameterValueError, ["winners", "2.5"]),
    ("winners text", errors.InvalidParameterValueError, ["winners", "'3'"]),
    ("winners None", errors.InvalidParameterValueError, ["winners", "None"]),
    ("winners bool", errors.InvalidParameterValueError, ["winners", "True"]),
    ("winners list", errors.InvalidParameterValueError, ["winners", "[1, 2]"]),
    ("rates list", errors.InvalidParameterValueError, ["a_plus", "[0.1, 0.2]", "one number"]),
    ("rate above 1", errors.InvalidParameterValueError, ["a_plus", "5.0", "[0, 1]"]),
    ("radius", errors.InvalidParameterValueError, ["inhibition_radius", "winners=inf"]),
])
def test_bad_use_is_refused(case, error, words):
    sim.setup(timestep=DT, device="cpu")
    source = sim.Population(36, sim.SpikeSourceArray(spike_times=[[1.0]] * 36), structure=sim.space.Grid2D(1.0))
    kernel = np.full((3, 3), 1.5 if case == "outside" else 0.5)
    connector = sim.ConvolutionConnector(kernel, pool_shape=2 if case == "pooling" else None)
    rows, cols = connector.get_post_shape((6, 6))
    target = sim.Population(rows * cols, sim.IF_curr_exp(), structure=sim.space.Grid2D(cols / rows))
    rule = {"window": dict(window=0.3), "bounds": dict(w_min=1.0, w_max=0.0), "winners": dict(winners=2.5),
            "radius": dict(inhibition_radius=1), "winners text": dict(winners="3"), "winners None": dict(winners=None),
            "winners bool": dict(winners=True), "winners list": dict(winners=[1, 2]),
            "rates list": dict(a_plus=[0.1, 0.2]), "rate above 1": dict(a_plus=5.0)}.get(case, {})
    if case == "dense":
        connector = sim.PoolDenseConnector(0.5)
        target = sim.Population(3, sim.IF_curr_exp())
    with pytest.raises(error) as info:
        sim.Projection(source, target, connector, sim.KernelSTDP(**rule))
    for word in words:
        assert word in str(info.value)
    assert not sim.simulator.state.projections
    sim.run(5.0)
