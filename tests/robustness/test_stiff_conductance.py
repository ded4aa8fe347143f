"""Stiff conductance-based neurons: a conductance so large that RK4 would need more than 2^8 sub-steps a
step is integrated by the exponential midpoint rule instead (stable at any stiffness), the run stays fast,
and one SimulationWarning per run names the population. Reference: the membrane equation solved by
scipy's Radau (rtol 1e-10) with the exact conductance waveform."""
import time
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import pyNN.cupy as sim
from pyNN.errors import InvalidWeightError
from pynn_cupy.exceptions import SimulationWarning

T_IN = 6.0   # the input's spike at 5.0 ms arrives after a 1.0 ms delay
CELL = dict(v_thresh=20.0, v_reset=-70.0, v_rest=-65.0, tau_syn_E=2.0, cm=1.0, tau_m=20.0, e_rev_E=0.0)


def _run(model, weight, t_stop=30.0):
    sim.setup(timestep=0.1, device="cpu", precision="float64")
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cell = sim.Population(1, getattr(sim, model)(**CELL), label="stiff cell")
    cell.record("v")
    sim.Projection(source, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        sim.run(t_stop)
        elapsed = time.perf_counter() - start
    signal = cell.get_data().segments[0].filter(name="v")[0]
    return np.asarray(signal.times), np.asarray(signal.magnitude)[:, 0], caught, elapsed


def _reference(model, weight, times):
    tau, cm, g_leak = CELL["tau_syn_E"], CELL["cm"], CELL["cm"] / CELL["tau_m"]

    def g(t):
        s = t - T_IN
        return weight * (np.exp(-s / tau) if model == "IF_cond_exp" else s / tau * np.exp(1 - s / tau))

    def dvdt(t, v):
        return (-g_leak * (v - CELL["v_rest"]) - g(t) * (v - CELL["e_rev_E"])) / cm

    after = times[times >= T_IN]
    solution = solve_ivp(dvdt, (T_IN, after[-1]), [CELL["v_rest"]], method="Radau", t_eval=after,
                         rtol=1e-10, atol=1e-10)
    return after, solution.y[0]


@pytest.mark.parametrize("model", ["IF_cond_exp", "IF_cond_alpha"])
def test_stiff_conductance_is_integrated_stably_and_reported(model):
    times, v, caught, elapsed = _run(model, weight=500.0)   # 500 uS on 1 nF: a rate of 500 per ms
    messages = [str(w.message) for w in caught if issubclass(w.category, SimulationWarning)]
    assert len(messages) == 1 and "stiff cell" in messages[0], messages
    after, reference = _reference(model, 500.0, times)
    error = np.abs(v[times >= T_IN] - reference).max()
    assert error < 2e-3, "max |v - Radau| = %g mV" % error
    assert elapsed < 5.0


@pytest.mark.parametrize("model", ["IF_cond_exp", "IF_cond_alpha"])
def test_enormous_conductance_does_not_hang(model):
    """1e30 uS: before the bound, RK4 halved the step up to 2^30 times (a hang); now v goes to e_rev_E."""
    times, v, caught, elapsed = _run(model, weight=1e30)
    assert np.isfinite(v).all() and abs(v[-1] - CELL["e_rev_E"]) < 1e-6
    assert any(issubclass(w.category, SimulationWarning) for w in caught)
    assert elapsed < 5.0


def test_ordinary_conductances_do_not_warn():
    times, v, caught, _ = _run("IF_cond_exp", weight=0.05)
    assert not [w for w in caught if issubclass(w.category, SimulationWarning)]


@pytest.mark.parametrize("weight", [np.inf, np.nan])
def test_non_finite_weight_is_refused(weight):
    sim.setup(timestep=0.1, device="cpu")
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    cell = sim.Population(1, sim.IF_cond_exp(), label="target")
    with pytest.raises(InvalidWeightError, match="finite"):
        sim.Projection(source, cell, sim.OneToOneConnector(), sim.StaticSynapse(weight=weight, delay=1.0))
