"""Connectors given `sim.NativeRNG` draw in bulk (pyNN.cupy's fast path, as pyNN.nest hands such connectors to
NEST): the same distribution as PyNN's algorithm, other numbers. Checked here: the distribution (chi-square
tests with fixed seeds), PyNN's rules for self-connections and for n beyond the population, and seeding."""
import itertools

import numpy as np
import pytest
from scipy import stats

import pyNN.cupy as sim
from pynn_cupy.connect import _distinct


def pairs(projection) -> np.ndarray:
    return np.array(projection.get("weight", format="list", with_address=True)).reshape(-1, 3)[:, :2].astype(int)


def build(connector, n_pre=40, n_post=None, same=False, **setup):
    sim.setup(timestep=0.1, **setup)
    a = sim.Population(n_pre, sim.IF_curr_exp())
    b = a if same else sim.Population(n_post or n_pre, sim.IF_curr_exp())
    return pairs(sim.Projection(a, b, connector, sim.StaticSynapse(weight=0.5)))


def chi_square_p(counts: np.ndarray) -> float:
    return stats.chisquare(counts).pvalue


def test_fixed_probability_is_bernoulli_per_pair():
    """Every pair with probability p: the count is binomial, and the hits fall evenly over the pairs."""
    n, p = 300, 0.05
    found = build(sim.FixedProbabilityConnector(p, rng=sim.NativeRNG(11)), n_pre=n)
    assert abs(len(found) - p * n * n) < 5 * np.sqrt(n * n * p * (1 - p))
    assert len(np.unique(found[:, 0] * n + found[:, 1])) == len(found)
    assert chi_square_p(np.bincount(found[:, 0], minlength=n)) > 1e-4
    assert chi_square_p(np.bincount(found[:, 1], minlength=n)) > 1e-4
    assert chi_square_p(np.bincount((found[:, 0] * n + found[:, 1]) * 25 // (n * n), minlength=25)) > 1e-4


def test_fixed_probability_without_self_connections_and_edge_probabilities():
    found = build(sim.FixedProbabilityConnector(0.5, allow_self_connections=False, rng=sim.NativeRNG(3)), same=True)
    assert not (found[:, 0] == found[:, 1]).any() and len(found) > 0
    assert len(build(sim.FixedProbabilityConnector(1.0, rng=sim.NativeRNG(3)), n_pre=7, n_post=5)) == 35
    assert len(build(sim.FixedProbabilityConnector(0.0, rng=sim.NativeRNG(3)), n_pre=7, n_post=5)) == 0


@pytest.mark.parametrize("k,size,exclude", [(3, 6, False), (2, 5, True), (4, 6, False), (3, 5, True)])
def test_distinct_indices_are_uniform_subsets(k, size, exclude):
    """Both algorithms (redraw repeats for small k, random keys for large k): every k-subset of the allowed
    indices equally likely, never the row's own index when excluded."""
    rows = np.tile(np.arange(size), 4000)
    drawn = _distinct(np.random.default_rng(5), rows, k, size, exclude)
    assert drawn.shape == (rows.size, k)
    assert (np.sort(drawn, axis=1)[:, 1:] != np.sort(drawn, axis=1)[:, :-1]).all()
    if exclude:
        assert not (drawn == rows[:, None]).any()
    for own in range(size) if exclude else [None]:
        chosen = drawn[rows == own] if exclude else drawn
        allowed = [i for i in range(size) if i != own]
        subsets = {s: j for j, s in enumerate(itertools.combinations(allowed, k))}
        codes = np.array([subsets[tuple(s)] for s in np.sort(chosen, axis=1).tolist()])
        assert chi_square_p(np.bincount(codes, minlength=len(subsets))) > 1e-4


@pytest.mark.parametrize("connector_class", [sim.FixedNumberPreConnector, sim.FixedNumberPostConnector])
def test_fixed_number_without_replacement(connector_class):
    """n distinct cells per cell; beyond the m cells allowed, every cell n // m times and n % m more once
    (PyNN's rule); self excluded only within one population."""
    pre_side = connector_class is sim.FixedNumberPreConnector
    own, other = (1, 0) if pre_side else (0, 1)
    found = build(connector_class(7, rng=sim.NativeRNG(1)), n_pre=30, n_post=20)
    assert (np.bincount(found[:, own]) == 7).all()
    assert len(np.unique(found[:, 0] * 100 + found[:, 1])) == len(found)
    found = build(connector_class(45, allow_self_connections=False, rng=sim.NativeRNG(1)), n_pre=20, same=True)
    assert (np.bincount(found[:, own]) == 45).all() and not (found[:, 0] == found[:, 1]).any()
    per_pair = np.bincount(found[:, 0] * 20 + found[:, 1], minlength=400).reshape(20, 20)
    assert set(per_pair[~np.eye(20, dtype=bool)].ravel()) == {2, 3}   # 45 = 2 * 19 + 7
    assert ((per_pair == 3).sum(axis=other) == 7).all()


def test_fixed_number_with_replacement_excludes_self():
    found = build(sim.FixedNumberPreConnector(60, with_replacement=True, allow_self_connections=False,
                                              rng=sim.NativeRNG(4)), n_pre=10, same=True)
    assert (np.bincount(found[:, 1]) == 60).all() and not (found[:, 0] == found[:, 1]).any()
    assert len(np.unique(found[:, 0] * 10 + found[:, 1])) == 90   # repeats, as drawing with replacement gives
    assert chi_square_p(np.bincount(found[:, 0], minlength=10)) > 1e-4


def test_seeds():
    """The same seed gives the same connections; NativeRNG() follows setup(rng_seed=...); projections sharing
    an RNG get different connections (the stream advances, as NEST's does)."""
    connector = lambda rng: sim.FixedNumberPreConnector(5, rng=rng)   # noqa: E731
    assert (build(connector(sim.NativeRNG(7))) == build(connector(sim.NativeRNG(7)))).all()
    assert not np.array_equal(build(connector(sim.NativeRNG(7))), build(connector(sim.NativeRNG(8))))
    assert (build(connector(sim.NativeRNG()), rng_seed=3) == build(connector(sim.NativeRNG()), rng_seed=3)).all()
    assert not np.array_equal(build(connector(sim.NativeRNG()), rng_seed=3),
                              build(connector(sim.NativeRNG()), rng_seed=4))
    sim.setup(timestep=0.1)
    a = sim.Population(40, sim.IF_curr_exp())
    shared = sim.FixedProbabilityConnector(0.2, rng=sim.NativeRNG(9))
    first, second = (pairs(sim.Projection(a, a, shared, sim.StaticSynapse())) for _ in range(2))
    assert not np.array_equal(first, second)


def test_other_numbers_than_pyNN_but_numpy_rng_unchanged():
    """NativeRNG takes the fast path; NumpyRNG still gives PyNN's own draws (see the side-by-side tests)."""
    native = build(sim.FixedProbabilityConnector(0.1, rng=sim.NativeRNG(1)))
    numpy = build(sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(1)))
    draws = np.random.RandomState(1).uniform(size=40 * 40).reshape(40, 40)   # PyNN: column after column
    expected = np.argwhere(draws < 0.1)[:, ::-1]
    assert sorted(map(tuple, numpy)) == sorted(map(tuple, expected))
    assert sorted(map(tuple, native)) != sorted(map(tuple, expected))


@pytest.mark.parametrize("n", [30, 70])   # drawn, and (over half the 90 allowed pairs) permuted
def test_fixed_total_number_without_replacement(n):
    """with_replacement=False (PyNN ignores it; NEST's allow_multapses=False): n distinct pairs, no self-pair
    when excluded, every pair equally likely; more than the pairs there are is refused."""
    counts = np.zeros(100, int)
    for seed in range(60):
        found = build(sim.FixedTotalNumberConnector(n, with_replacement=False, allow_self_connections=False,
                                                    rng=sim.NumpyRNG(seed)), n_pre=10, same=True)
        flat = found[:, 0] * 10 + found[:, 1]
        assert len(found) == n and len(np.unique(flat)) == n and not (found[:, 0] == found[:, 1]).any()
        counts += np.bincount(flat, minlength=100)
    assert chi_square_p(counts[~np.eye(10, dtype=bool).ravel()]) > 1e-4
    with pytest.raises(sim.errors.ConnectionError, match="91.*90 pairs"):
        build(sim.FixedTotalNumberConnector(91, with_replacement=False, allow_self_connections=False), n_pre=10,
              same=True)


def test_edge_cases_of_the_fast_paths():
    """"NoMutual" takes PyNN's path (no self-connection, no pair both ways); a tiny p gives no connection at
    once (the gaps' sum does not wrap); the callback hears of the end; p_connect given as PyNN compares it."""
    sim.setup(timestep=0.1)
    cells = sim.Population(20, sim.IF_cond_exp())
    found = pairs(sim.Projection(cells, cells, sim.FixedProbabilityConnector(
        0.5, allow_self_connections="NoMutual", rng=sim.NativeRNG(1)), sim.StaticSynapse(weight=0.1)))
    assert len(found) and not (found[:, 0] <= found[:, 1]).any()
    for p in (1e-13, 1e-300):
        assert len(sim.Projection(cells, cells, sim.FixedProbabilityConnector(p, rng=sim.NativeRNG(1)))) == 0
    calls = []
    sim.Projection(cells, cells, sim.AllToAllConnector(callback=calls.append))
    assert calls == [1.0]
    assert sim.FixedProbabilityConnector(np.array(0.3)).p_connect == 0.3
    with pytest.raises(sim.errors.ConnectionError, match="NoMutual"):
        sim.Projection(cells, cells, sim.FixedTotalNumberConnector(30, with_replacement=False,
                                                                   allow_self_connections="NoMutual"))
