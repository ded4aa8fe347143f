"""With the same seeds, projections built as whole arrays (FixedProbability, FixedNumberPre/Post with
replacement, AllToAll, OneToOne, FromList) give exactly the connections and random weights that pyNN.nest
gets through PyNN's per-cell path."""
import numpy as np
import pytest

nest_sim = pytest.importorskip("pyNN.nest")


def _build(sim, **setup):
    sim.setup(timestep=0.1, **setup)
    rng = sim.NumpyRNG(1234)
    a = sim.Population(120, sim.IF_cond_exp())
    b = sim.Population(80, sim.IF_cond_exp())
    weights = sim.RandomDistribution("uniform", (0.001, 0.01), rng=sim.NumpyRNG(5))
    projections = [
        sim.Projection(a, b, sim.FixedProbabilityConnector(0.1, rng=rng), sim.StaticSynapse(weight=weights, delay=0.5)),
        sim.Projection(a, a, sim.FixedProbabilityConnector(0.05, allow_self_connections=False, rng=rng),
                       sim.StaticSynapse(weight=0.01, delay=0.5), receptor_type="inhibitory"),
        sim.Projection(a[:50], b[10:60], sim.OneToOneConnector(), sim.StaticSynapse(weight=weights, delay=0.3)),
        sim.Projection(a[60:], b, sim.FixedProbabilityConnector(0.2, rng=rng), sim.StaticSynapse(weight=weights, delay=0.7)),
        sim.Projection(b, b, sim.AllToAllConnector(allow_self_connections=False), sim.StaticSynapse(weight=weights)),
        sim.Projection(a, b, sim.FromListConnector([(0, 1, 0.01, 1.0), (5, 3, 0.02, 2.0), (5, 3, 0.03, 0.5),
                                                    (7, 79, 0.01, 0.2), (119, 0, 0.04, 0.3)] * 10),
                       sim.StaticSynapse()),
        sim.Projection(a, b, sim.FixedNumberPreConnector(7, with_replacement=True, rng=rng),
                       sim.StaticSynapse(weight=weights, delay=0.6)),
        sim.Projection(b, a, sim.FixedNumberPostConnector(9, with_replacement=True, rng=rng),
                       sim.StaticSynapse(weight=weights, delay=0.8)),
        sim.Projection(a, b, sim.FromListConnector([(i, (7 * i) % 80) for i in range(120)]),
                       sim.StaticSynapse(weight=0.02, delay=0.4), receptor_type="inhibitory"),
    ]
    line_a = sim.Population(6, sim.IF_curr_exp(), structure=sim.space.Line(dx=2.0))
    line_b = sim.Population(4, sim.IF_curr_exp(), structure=sim.space.Line(dx=1.0, x0=0.5))
    projections.append(sim.Projection(line_a, line_b, sim.AllToAllConnector(),
                                      sim.StaticSynapse(weight="0.1 + 0.01 * d", delay="0.2 + 0.1 * d")))
    result = [np.array(sorted(p.get(["weight", "delay"], format="list"))) for p in projections]
    sim.end()
    return result


def test_same_connections_and_weights_as_nest():
    import pyNN.cupy as cupy_sim
    expected = _build(nest_sim)
    actual = _build(cupy_sim, precision="float64")   # float32 weights read back as float32 (test_projection_values)
    for reference, ours in zip(expected, actual):
        assert reference.shape == ours.shape and reference.shape[0] > 20
        np.testing.assert_array_equal(ours[:, :2], reference[:, :2])
        np.testing.assert_allclose(ours[:, 2:], reference[:, 2:], rtol=1e-12, atol=1e-15)


def test_distance_expression_on_a_1x1_projection():
    """PyNN's per-cell path fails here under numpy 2 (nonzero of a 0-d array); the whole-array path does not."""
    import pyNN.cupy as sim
    sim.setup(timestep=0.1, device="cpu")
    a = sim.Population(1, sim.IF_curr_exp(), structure=sim.space.Line(x0=3.0))
    b = sim.Population(1, sim.IF_curr_exp(), structure=sim.space.Line(x0=1.0))
    prj = sim.Projection(a, b, sim.OneToOneConnector(), sim.StaticSynapse(weight="0.1 + d", delay="0.5 * d"))
    assert prj.get(["weight", "delay"], format="list") == [(0, 0, 2.1, 1.0)]
