"""A balanced random network, cupy (float32) against pyNN.nest: mean rates per population within 5 %.

800 exc + 200 inh IF_curr_exp neurons, FixedProbabilityConnector(p=0.1), relative inhibition g = 6,
each neuron driven by its own SpikeSourcePoisson (one-to-one), 1 s of model time, rates counted
over [200, 1000) ms. The two backends draw different connectivity and Poisson spikes, so this
compares statistics only.
"""
import numpy as np
import pytest

from helpers import CANDIDATE, REFERENCE, simulate

P = dict(n_exc=800, n_inh=200, p_connect=0.1, w_exc=0.1, g=6.0, delay=1.5, w_ext=0.1,
         rate_ext=2000.0, rate_ext_inh=2400.0)
T_STOP, T_COUNT = 1000.0, 200.0
CELL = dict(tau_m=20.0, cm=1.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-50.0, tau_refrac=2.0,
            tau_syn_E=5.0, tau_syn_I=5.0)


def build_balanced(sim, conn_seed, n_exc, n_inh, p_connect, w_exc, g, delay, w_ext, rate_ext,
                   rate_ext_inh):
    rng = sim.NumpyRNG(seed=conn_seed)
    exc = sim.Population(n_exc, sim.IF_curr_exp(**CELL), label="exc")
    inh = sim.Population(n_inh, sim.IF_curr_exp(**CELL), label="inh")
    v0 = sim.RandomDistribution("uniform", (-65.0, -50.0), rng=rng)
    for pop, rate in ((exc, rate_ext), (inh, rate_ext_inh)):
        pop.initialize(v=v0)
        drive = sim.Population(pop.size, sim.SpikeSourcePoisson(rate=rate))
        sim.Projection(drive, pop, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=w_ext, delay=delay), receptor_type="excitatory")
        pop.record("spikes")
    connector = sim.FixedProbabilityConnector(p_connect, allow_self_connections=False, rng=rng)
    for pre, w, receptor in ((exc, w_exc, "excitatory"), (inh, -g * w_exc, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, connector, sim.StaticSynapse(weight=w, delay=delay),
                           receptor_type=receptor)
    return {"exc": exc, "inh": inh}


def mean_rates(result):
    """Mean rate (Hz) per population over [T_COUNT, T_STOP)."""
    return {k: np.mean([np.count_nonzero((s >= T_COUNT) & (s < T_STOP)) for s in r["spikes"]])
            / (T_STOP - T_COUNT) * 1000.0 for k, r in result.items()}


def run(backend, seed):
    # NEST runs on 2 threads; the cupy side in float32, the default precision for networks
    return simulate(backend, build_balanced, T_STOP, seed=seed, conn_seed=seed, precision="float32",
                    setup={"threads": 2} if backend == "nest" else None, **P)


@pytest.mark.parametrize("seed", [101])
def test_balanced_rates(seed):
    ref = mean_rates(run(REFERENCE, seed))
    test = mean_rates(run(CANDIDATE, seed + 1))  # other seed: what must agree is the statistics
    for k in ref:
        assert abs(test[k] / ref[k] - 1) < 0.05, (k, test[k], ref[k])
    assert 10.0 < ref["exc"] < ref["inh"]  # a regime where the rates and their difference count
