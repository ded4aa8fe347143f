"""The CPU twin walking a GPU's grid (PYNN_CUPY_TWIN_GRID=gpu), truncated at a pretend SM count so that launches
take the grid-stride path, gives the same network as the twin's default chunked loops."""
import numpy as np

import pyNN.cupy as sim
from pynn_cupy import simulator
from pynn_cupy.runtime import THREADS_PER_BLOCK, twin

N_CELLS = 2500   # per population: more than the 2048 threads of the twin's capped grid


def _network():
    """Spikes and v of a few cells, and the (grid, block) of each launch."""
    sim.setup(timestep=0.1, device="cpu", precision="float64", rng_seed=11)
    noise = sim.Population(200, sim.SpikeSourcePoisson(rate=50.0))
    cond = sim.Population(N_CELLS, sim.IF_cond_exp())
    curr = sim.Population(N_CELLS, sim.IF_curr_exp())
    cells = cond + curr
    sim.Projection(noise, cond, sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=0.006, delay=0.5))
    sim.Projection(noise, curr, sim.FixedProbabilityConnector(0.1, rng=sim.NumpyRNG(2)),
                   sim.StaticSynapse(weight=0.25, delay=0.5))
    for seed, (target, weight) in enumerate([(cond, 0.02), (curr, -0.2)]):
        sim.Projection(cells, target, sim.FixedProbabilityConnector(0.003, rng=sim.NumpyRNG(3 + seed)),
                       sim.StaticSynapse(weight=weight, delay=1.0), receptor_type="inhibitory")
    cells.record("spikes")
    cells[250::500].record("v")   # cells 2250 and 4750 lie beyond the capped grid
    sim.run(100.0)
    grids = simulator.state._plan.grids
    segment = cells.get_data().segments[0]
    return [np.asarray(st) for st in segment.spiketrains], segment.filter(name="v")[0].magnitude, grids


def test_truncated_gpu_grid_matches_chunked_twin(monkeypatch):
    spikes_chunked, v_chunked, _ = _network()
    monkeypatch.setenv("PYNN_CUPY_TWIN_GRID", "gpu")
    monkeypatch.setattr(twin.TwinBackend, "lanes_per_row", 32)   # a warp per spiking neuron's row, as on a GPU
    spikes_grid, v_grid, grids = _network()
    max_blocks = twin.BLOCKS_PER_SM * twin.TWIN_GRID_SMS
    assert max(grid for grid, _ in grids) == max_blocks < N_CELLS / THREADS_PER_BLOCK
    assert min(sum(map(len, spikes_chunked[:N_CELLS])), sum(map(len, spikes_chunked[N_CELLS:]))) > 1000
    for a, b in zip(spikes_chunked, spikes_grid):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(v_grid, v_chunked, rtol=0, atol=1e-9)
