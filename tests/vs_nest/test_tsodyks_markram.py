"""TsodyksMarkramSynapse side by side with pyNN.nest (NEST's tsodyks_synapse), float64: the postsynaptic
membrane potential under a presynaptic train (a 50 Hz burst, a pause, recovery spikes) through depressing,
facilitating and mixed synapses, onto both receptors, with parameters per connection."""
import numpy as np
import pytest

from helpers import CANDIDATE, REFERENCE, simulate

TRAIN = [float(t) for t in list(np.arange(10.0, 210.0, 20.0)) + [300.0, 310.0, 500.0, 800.0]]
CASES = {   # U, tau_rec, tau_facil
    "depressing": (0.5, 100.0, 0.0),
    "facilitating": (0.1, 50.0, 500.0),
    "mixed": (0.25, 300.0, 120.0),
}


def build_responses(sim, receptor, cell="IF_curr_exp"):
    """One post cell per case (and one with U per connection), each fed by its own copy of TRAIN."""
    n = len(CASES) + 1
    pre = sim.Population(n, sim.SpikeSourceArray(spike_times=TRAIN))
    post = sim.Population(n, getattr(sim, cell)(tau_syn_E=3.0, tau_syn_I=7.0))
    weight = 0.5 if cell == "IF_curr_exp" else 0.01
    if receptor == "inhibitory" and cell == "IF_curr_exp":
        weight = -weight
    U, tau_rec, tau_facil = (np.array([case[k] for case in CASES.values()] + [list(CASES.values())[0][k]])
                             for k in range(3))
    U[-1] = 0.8   # the last connection: the depressing synapse with another U
    synapse = sim.TsodyksMarkramSynapse(weight=weight, delay=1.0, U=0.5, tau_rec=100.0, tau_facil=0.0)
    projection = sim.Projection(pre, post, sim.OneToOneConnector(), synapse, receptor_type=receptor)
    projection.set(U=np.diag(U), tau_rec=np.diag(tau_rec), tau_facil=np.diag(tau_facil))
    post.record("v")
    return {"post": post}


@pytest.mark.parametrize("receptor", ["excitatory", "inhibitory"])
def test_current_based_responses(receptor):
    """IF_curr_exp integrates exactly: v within 1e-9 mV of NEST (measured: 1e-12)."""
    ref = simulate(REFERENCE, build_responses, 1000.0, receptor=receptor)["post"]["v"]
    test = simulate(CANDIDATE, build_responses, 1000.0, receptor=receptor)["post"]["v"]
    assert np.abs(ref - ref[0]).max(axis=0).min() > 0.1   # every cell responded
    np.testing.assert_allclose(test, ref, rtol=0, atol=1e-9)
    # the responses differ between the cases (the parameters per connection took effect)
    assert np.abs(np.diff(ref, axis=1)).max() > 0.05


def test_conductance_based_responses():
    """IF_cond_exp: v within 1e-5 mV of NEST (the conductance model's own agreement)."""
    ref = simulate(REFERENCE, build_responses, 1000.0, receptor="excitatory", cell="IF_cond_exp")["post"]["v"]
    test = simulate(CANDIDATE, build_responses, 1000.0, receptor="excitatory", cell="IF_cond_exp")["post"]["v"]
    np.testing.assert_allclose(test, ref, rtol=0, atol=1e-5)
