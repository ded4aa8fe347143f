"""Random numbers: every (purpose, object) has its own Philox stream; the counter holds the step and a trial
number that reset() advances, so each trial draws fresh noise (as pyNN.nest does), while a script run twice
with the same rng_seed gives identical results. The seed is checked by setup()."""
import numpy as np
import pytest

import pyNN.cupy as sim
from pyNN.errors import InvalidParameterValueError


def _poisson_trials(seed, trials=2, size=5):
    sim.setup(timestep=0.1, device="cpu", rng_seed=seed)
    first = sim.Population(size, sim.SpikeSourcePoisson(rate=200.0))
    second = sim.Population(size, sim.SpikeSourcePoisson(rate=200.0))
    for population in (first, second):
        population.record("spikes")
    for trial in range(trials):
        if trial:
            sim.reset()
        sim.run(200.0)
    return [[[np.asarray(st).tolist() for st in segment.spiketrains] for segment in p.get_data().segments]
            for p in (first, second)]


def test_each_trial_draws_fresh_noise():
    (first, _) = _poisson_trials(seed=11, trials=3)
    assert first[0] != first[1] and first[1] != first[2] and first[0] != first[2]


def test_same_seed_same_trials():
    assert _poisson_trials(seed=11) == _poisson_trials(seed=11)


def test_other_seed_other_noise():
    assert _poisson_trials(seed=11)[0][0] != _poisson_trials(seed=12)[0][0]


def test_each_population_has_its_own_stream():
    first, second = _poisson_trials(seed=11, trials=1)
    assert first[0] != second[0]


def test_trial_after_reset_equals_that_trial_of_the_same_script():
    """Trial 2 of a script depends only on the seed and the trial: a second invocation agrees with it."""
    assert _poisson_trials(seed=3, trials=3)[0][2] == _poisson_trials(seed=3, trials=3)[0][2]


@pytest.mark.parametrize("seed", [-1, 2 ** 64, 1.5, "seven", [1]])
def test_bad_seed_is_refused_by_setup(seed):
    sim.setup(timestep=0.1, device="cpu", rng_seed=4)
    sim.Population(2, sim.IF_curr_exp())
    with pytest.raises(InvalidParameterValueError, match="rng_seed"):
        sim.setup(timestep=0.1, device="cpu", rng_seed=seed)
    assert sim.simulator.state.rng_seed == 4 and len(sim.simulator.state.groups) == 1   # nothing changed


@pytest.mark.parametrize("seed", [0, 2 ** 64 - 1, 42.0, np.int64(9)])
def test_good_seeds(seed):
    sim.setup(timestep=0.1, device="cpu", rng_seed=seed)
    sim.Population(2, sim.SpikeSourcePoisson(rate=100.0))
    sim.run(10.0)
    assert sim.simulator.state.rng_seed == int(seed)
