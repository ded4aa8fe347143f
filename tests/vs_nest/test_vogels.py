"""Vogels2011Rule (pyNN.nest 0.13 has none) against NEST's vogels_sprekeler_synapse used directly through the nest
module, float64: pyNN.cupy runs irregular presynaptic trains into cells that a separate drive makes fire; NEST is
then given the same presynaptic trains and the postsynaptic spikes pyNN.cupy produced (parrot neurons, the
plastic synapses on the parrots' non-repeating port), and every final weight must agree (after a last presynaptic
spike of every input, which makes NEST apply the potentiation it defers)."""
import json
import subprocess
import sys

import numpy as np

from helpers import CANDIDATE, NEST_REPLAY, irregular_trains, simulate

N_PRE, N_POST, T_STOP = 20, 5, 1000.0
TAU, ETA, RHO, W_MAX = 20.0, 0.002, 5.0, 0.02


def build_vogels(sim):
    pre_trains = [np.append(t, T_STOP - 10.0) for t in irregular_trains(N_PRE, 15.0, 1, T_STOP - 100.0)]
    pre = sim.Population(N_PRE, sim.SpikeSourceArray(spike_times=pre_trains))
    post = sim.Population(N_POST, sim.IF_curr_exp(tau_syn_E=0.5, tau_refrac=2.0))
    drive = sim.Population(N_POST, sim.SpikeSourceArray(spike_times=irregular_trains(N_POST, 20.0, 2, T_STOP - 100.0)))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    stdp = sim.STDPMechanism(timing_dependence=sim.Vogels2011Rule(tau=TAU, eta=ETA, rho=RHO),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX),
                             weight=0.01, delay=1.0)
    plastic = sim.Projection(pre, post, sim.AllToAllConnector(), stdp, receptor_type="excitatory")
    plastic.set(delay=np.random.default_rng(3).choice([1.0, 2.0], (N_PRE, N_POST)))
    post.record("spikes")
    pre.record("spikes")
    return {"pre": pre, "post": post, "plastic": plastic}


NEST_SCRIPT = NEST_REPLAY + """
post.tau_minus = d["tau"]
for i, j, w, delay in d["connections"]:
    nest.Connect(pre[int(i)], post[int(j)], syn_spec={"synapse_model": "vogels_sprekeler_synapse", "weight": w,
                 "delay": delay, "tau": d["tau"], "eta": d["eta"], "alpha": d["alpha"], "Wmax": d["w_max"],
                 "receptor_type": 1})
nest.Simulate(d["t_stop"])
out = [[i, j, nest.GetConnections(pre[int(i)], post[int(j)]).get("weight")] for i, j, _, _ in d["connections"]]
print(json.dumps(out))
"""


def test_weights_equal_nest_vogels_sprekeler():
    result = simulate(CANDIDATE, build_vogels, T_STOP)
    post_spikes = [train.tolist() for train in result["post"]["spikes"]]
    assert all(len(train) > 5 for train in post_spikes)
    assert all(train[-1] < T_STOP - 50.0 for train in post_spikes)   # no post spike near the readout
    delays = np.random.default_rng(3).choice([1.0, 2.0], (N_PRE, N_POST))
    connections = [[i, j, 0.01, float(delays[i, j])] for i in range(N_PRE) for j in range(N_POST)]
    request = {"pre": [train.tolist() for train in result["pre"]["spikes"]], "post": post_spikes, "tau": TAU,
               "eta": ETA, "alpha": 2 * RHO * TAU / 1000.0, "w_max": W_MAX, "connections": connections,
               "t_stop": T_STOP}
    out = subprocess.run([sys.executable, "-c", NEST_SCRIPT], input=json.dumps(request), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    nest_w = np.array(json.loads(out.stdout.strip().splitlines()[-1]))[:, 2]
    cupy_w = result["plastic"]["connections"][:, 2]   # sorted by (pre, post): the order above
    assert np.abs(nest_w - 0.01).max() > 1e-3   # learning happened
    np.testing.assert_allclose(cupy_w, nest_w, rtol=1e-9, atol=1e-15)
