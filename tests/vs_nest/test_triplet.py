"""TripletRule (pyNN.cupy's extension; pyNN.nest 0.13 has none) against NEST's stdp_triplet_synapse (the
all-to-all triplet model of Pfister & Gerstner 2006) used directly through the nest module, float64: pyNN.cupy runs
irregular presynaptic trains into cells that a separate drive makes fire in bursts; NEST is then given the same
presynaptic trains and the postsynaptic spikes pyNN.cupy produced (parrot neurons, the plastic synapses on the
parrots' non-repeating port), and every final weight must agree (after a last presynaptic spike of every input,
which makes NEST apply the potentiation it defers). The same NEST network with the triplet amplitudes zero shows
that the triplet terms matter."""
import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import CANDIDATE, NEST_REPLAY, REFERENCE, irregular_trains, simulate

N_PRE, N_POST, T_STOP = 20, 5, 1000.0
W_INIT, W_MAX = 0.01, 0.02
TAUS = dict(tau_plus=16.8, tau_minus=33.7, tau_plus_triplet=101.0, tau_minus_triplet=125.0)
AMPLITUDES = dict(A_plus=0.005, A_minus=0.007, A_plus_triplet=0.01, A_minus_triplet=0.003)


def _bursts(n, seed, t_end):
    """Bursts of 1 to 4 spikes 4 ms apart, starting at about 10 Hz: 20 to 30 Hz, with o2 well above o1."""
    rng = np.random.default_rng(seed)
    trains = []
    for _ in range(n):
        onsets = np.round(np.cumsum(16.0 + rng.exponential(80.0, int(t_end / 50))) * 2) / 2   # no overlap
        train = np.concatenate([onset + 4.0 * np.arange(rng.integers(1, 5)) for onset in onsets])
        trains.append(train[(train > 1.0) & (train < t_end)])
    return trains


def build_triplet(sim):
    pre_trains = [np.append(t, T_STOP - 10.0) for t in irregular_trains(N_PRE, 15.0, 1, T_STOP - 100.0)]
    pre = sim.Population(N_PRE, sim.SpikeSourceArray(spike_times=pre_trains))
    post = sim.Population(N_POST, sim.IF_curr_exp(tau_syn_E=0.5, tau_refrac=2.0))
    drive = sim.Population(N_POST, sim.SpikeSourceArray(spike_times=_bursts(N_POST, 2, T_STOP - 100.0)))
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=40.0, delay=0.1))
    stdp = sim.STDPMechanism(timing_dependence=sim.TripletRule(**TAUS, **AMPLITUDES),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX),
                             weight=W_INIT, delay=1.0)
    plastic = sim.Projection(pre, post, sim.AllToAllConnector(), stdp, receptor_type="excitatory")
    plastic.set(delay=np.random.default_rng(3).choice([1.0, 2.0], (N_PRE, N_POST)))
    post.record("spikes")
    pre.record("spikes")
    return {"pre": pre, "post": post, "plastic": plastic}


NEST_SCRIPT = NEST_REPLAY + """
post.tau_minus = d["tau_minus"]
post.tau_minus_triplet = d["tau_minus_triplet"]
nest.CopyModel("stdp_triplet_synapse", "pair_only")
w_max = d["w_max"]
models = {"stdp_triplet_synapse": (d["A_plus_triplet"], d["A_minus_triplet"]), "pair_only": (0.0, 0.0)}
for model, (a_plus_triplet, a_minus_triplet) in models.items():
    for i, j, w, delay in d["connections"]:
        nest.Connect(pre[int(i)], post[int(j)], syn_spec={
            "synapse_model": model, "weight": w, "delay": delay, "tau_plus": d["tau_plus"],
            "tau_plus_triplet": d["tau_plus_triplet"], "Aplus": d["A_plus"] * w_max, "Aminus": d["A_minus"] * w_max,
            "Aplus_triplet": a_plus_triplet * w_max, "Aminus_triplet": a_minus_triplet * w_max, "Wmax": w_max,
            "receptor_type": 1})
nest.Simulate(d["t_stop"])
out = {model: [nest.GetConnections(pre[int(i)], post[int(j)], synapse_model=model).get("weight")
               for i, j, _, _ in d["connections"]] for model in models}
print(json.dumps(out))
"""


def test_weights_equal_nest_stdp_triplet_synapse():
    if CANDIDATE == REFERENCE:
        pytest.skip("pyNN.cupy only (pyNN.nest has no TripletRule)")
    result = simulate(CANDIDATE, build_triplet, T_STOP)
    post_spikes = [train.tolist() for train in result["post"]["spikes"]]
    assert all(len(train) > 15 for train in post_spikes)
    assert all(train[-1] < T_STOP - 50.0 for train in post_spikes)   # no post spike near the readout
    delays = np.random.default_rng(3).choice([1.0, 2.0], (N_PRE, N_POST))
    connections = [[i, j, W_INIT, float(delays[i, j])] for i in range(N_PRE) for j in range(N_POST)]
    request = dict(pre=[train.tolist() for train in result["pre"]["spikes"]], post=post_spikes, w_max=W_MAX,
                   connections=connections, t_stop=T_STOP, **TAUS, **AMPLITUDES)
    out = subprocess.run([sys.executable, "-c", NEST_SCRIPT], input=json.dumps(request), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    weights = json.loads(out.stdout.strip().splitlines()[-1])
    nest_w, pair_w = np.array(weights["stdp_triplet_synapse"]), np.array(weights["pair_only"])
    cupy_w = result["plastic"]["connections"][:, 2]   # sorted by (pre, post): the order above
    assert np.abs(nest_w - W_INIT).max() > 2e-3   # learning happened
    assert ((nest_w > 0.0) & (nest_w < W_MAX)).mean() > 0.5   # mostly between the bounds
    assert np.abs(nest_w - pair_w).max() > 1e-3   # the triplet terms matter
    np.testing.assert_allclose(cupy_w, nest_w, rtol=1e-9, atol=1e-15)
