"""Demo: the Vogels-Abbott conductance-based balanced network (4000 IF_cond_exp neurons, Brette et al. 2007,
benchmark 1) on pyNN.cupy, with a raster plot of 200 neurons saved as a PNG.

    python examples/va_demo.py [--device auto|gpu|cpu] [--sim-time 1000] [--output va_raster.png]

The script is plain PyNN: change the import to `pyNN.nest` and it runs on NEST.
"""
import argparse
import time

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import pyNN.cupy as sim  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402


def build_and_run(device: str, sim_time: float, seed: int = 98765):
    sim.setup(timestep=0.1, min_delay=0.2, max_delay=1.0, device=device)
    rng = NumpyRNG(seed)
    cell_parameters = dict(tau_m=20.0, cm=0.2, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
                           e_rev_E=0.0, e_rev_I=-80.0, tau_syn_E=5.0, tau_syn_I=10.0, i_offset=0.0)
    cells = sim.Population(4000, sim.IF_cond_exp(**cell_parameters), label="VA")
    cells.initialize(v=RandomDistribution("uniform", (-60.0, -50.0), rng=rng))
    excitatory, inhibitory = cells[:3200], cells[3200:]
    connector = sim.FixedProbabilityConnector(0.02, rng=rng)
    sim.Projection(excitatory, cells, connector, sim.StaticSynapse(weight=0.004, delay=0.2),
                   receptor_type="excitatory")
    sim.Projection(inhibitory, cells, connector, sim.StaticSynapse(weight=0.051, delay=0.2),
                   receptor_type="inhibitory")
    kick = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0), label="kick")
    sim.Projection(kick, cells, sim.FixedProbabilityConnector(0.01, rng=rng),
                   sim.StaticSynapse(weight=0.1, delay=0.2), receptor_type="excitatory")
    cells.record("spikes")
    start = time.perf_counter()
    sim.run(sim_time)
    elapsed = time.perf_counter() - start
    spikes = cells.get_data("spikes").segments[0].spiketrains[:200]
    rate = cells.mean_spike_count() * 1000.0 / sim_time
    device_used = sim.simulator.state.device
    sim.end()
    return spikes, rate, elapsed, device_used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--sim-time", type=float, default=1000.0)
    parser.add_argument("--output", default="va_raster.png")
    args = parser.parse_args()
    spikes, rate, elapsed, device = build_and_run(args.device, args.sim_time)
    print("device %s: %.0f ms simulated in %.2f s; mean rate %.1f Hz" % (device, args.sim_time, elapsed, rate))
    figure, axis = plt.subplots(figsize=(8, 4))
    for index, train in enumerate(spikes):
        axis.plot(np.asarray(train), np.full(len(train), index), "|", color="k", markersize=2)
    axis.set(xlabel="time (ms)", ylabel="neuron", xlim=(0, args.sim_time),
             title="VA COBA network on pyNN.cupy (%s), %.1f Hz" % (device, rate))
    figure.tight_layout()
    figure.savefig(args.output, dpi=120)
    print("raster plot written to %s" % args.output)


if __name__ == "__main__":
    main()
