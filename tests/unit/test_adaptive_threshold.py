"""IF_cond_exp_adaptive_threshold against closed forms: the decay of theta (also in float32, where one step's
decay is far below theta's precision), the interspike intervals under a constant current as the threshold
climbs, and its parameter checks, state and recording. NEST comparisons: tests/vs_nest/test_adaptive_threshold_vs_nest.py."""
import numpy as np
import pytest
from pyNN import errors

import pynn_cupy as sim
from pynn_cupy.exceptions import NumericalInstabilityError


@pytest.fixture(params=["float64", "float32"])
def precision(request):
    sim.setup(timestep=0.1, precision=request.param)
    yield request.param
    sim.end()


def test_theta_decays_exactly_also_in_float32(precision):
    """tau_theta = 1e8 ms over 1e5 steps: each step takes 2e-8 mV from 20 mV, a hundredth of float32's spacing
    there; summed, theta must still lose 2e-3 mV (naive float32 arithmetic would keep 20 exactly)."""
    cells = sim.Population(2, sim.IF_cond_exp_adaptive_threshold(theta_plus=0.0, tau_theta=[1e8, 50.0]),
                           initial_values={"theta": 20.0})
    cells.record("theta")
    sim.run(10000.0)
    theta = np.asarray(cells.get_data().segments[0].filter(name="theta")[0])
    t = np.arange(theta.shape[0]) * 0.1
    expected = 20.0 * np.exp(-t[:, None] / np.array([1e8, 50.0]))
    tol = 1e-12 if precision == "float64" else 2e-6   # float32: one rounding of 20 mV
    np.testing.assert_allclose(theta, expected, rtol=0, atol=tol)
    assert 20.0 - theta[-1, 0] > 1.9e-3


@pytest.mark.parametrize("tau_theta", [np.inf, 400.0])
def test_intervals_under_constant_current(precision, tau_theta):
    """No synaptic input: after each spike v restarts from v_reset at the end of the refractory period and relaxes
    to v_inf = v_rest + i_offset tau_m / cm; the next spike is the first grid point where v >= v_thresh + theta,
    with theta risen by theta_plus at each spike and decaying in between. The spike times follow from that."""
    p = dict(cm=1.0, tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0, tau_refrac=2.0, i_offset=1.5,
             theta_plus=1.3, tau_theta=tau_theta)
    cells = sim.Population(1, sim.IF_cond_exp_adaptive_threshold(**p), initial_values={"v": -65.0})
    cells.record(["spikes", "theta"])
    sim.run(400.0)
    data = cells.get_data().segments[0]
    spikes = np.asarray(data.spiketrains[0])
    dt, v_inf = 0.1, p["v_rest"] + p["i_offset"] * p["tau_m"] / p["cm"]
    expected, start, theta, margin = [], 0.0, 0.0, np.inf
    steps = np.arange(1, 4001)
    while True:
        v = v_inf + (p["v_reset"] - v_inf) * np.exp(-steps * dt / p["tau_m"])
        threshold = p["v_thresh"] + theta * np.exp(-steps * dt / tau_theta)
        above = np.nonzero(v >= threshold)[0]
        t = start + steps[above[0]] * dt if above.size else np.inf
        if t > 400.0:
            break
        margin = min(margin, np.abs(v - threshold).min())
        expected.append(t)
        theta = theta * np.exp(-steps[above[0]] * dt / tau_theta) + p["theta_plus"]
        start = t + p["tau_refrac"]
        theta *= np.exp(-p["tau_refrac"] / tau_theta)
    assert margin > 1e-4   # no grid point so close to threshold that integration error could decide
    assert len(expected) >= 8 and expected[-1] - expected[-2] > 1.5 * (expected[1] - expected[0])
    np.testing.assert_allclose(spikes, expected, rtol=0, atol=1e-9)
    recorded = np.asarray(data.filter(name="theta")[0])[:, 0]
    assert recorded[int(round(spikes[0] / dt))] == pytest.approx(p["theta_plus"], abs=1e-5)
    assert recorded[-1] == pytest.approx(theta * np.exp(-(400.0 - start) / tau_theta), abs=1e-5)


def test_without_adaptation_equals_if_cond_exp(precision):
    """theta_plus = 0: the kernel is IF_cond_exp's, bit for bit (same inputs, same arithmetic)."""
    p = dict(tau_refrac=2.0, tau_syn_E=2.0, i_offset=0.3)
    a = sim.Population(3, sim.IF_cond_exp_adaptive_threshold(theta_plus=0.0, **p))
    b = sim.Population(3, sim.IF_cond_exp(**p))
    source = sim.Population(3, sim.SpikeSourcePoisson(rate=[400.0, 800.0, 1500.0]))
    for target in (a, b):
        sim.Projection(source, target, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.02, delay=0.5))
        target.record(["spikes", "v", "gsyn_exc"])
    sim.run(500.0)
    da, db = a.get_data().segments[0], b.get_data().segments[0]
    assert [len(s) for s in da.spiketrains] == [len(s) for s in db.spiketrains]
    assert sum(len(s) for s in da.spiketrains) > 10
    for name in ("v", "gsyn_exc"):
        assert np.array_equal(np.asarray(da.filter(name=name)[0]), np.asarray(db.filter(name=name)[0]))


def test_state_initialize_reset_and_set():
    sim.setup(timestep=0.1)
    cells = sim.Population(2, sim.IF_cond_exp_adaptive_threshold(i_offset=2.0, theta_plus=[0.5, 0.0]))
    cells.initialize(theta=[1.0, 3.0])
    cells.record("theta")
    sim.run(100.0)
    after = np.asarray(cells.get_data().segments[0].filter(name="theta")[0])[-1]
    assert after[0] > 3.0 and after[1] < 3.0   # spikes raised cell 0; cell 1 only decays
    sim.reset()
    sim.run(1.0)
    assert np.asarray(cells.get_data().segments[1].filter(name="theta")[0])[0].tolist() == [1.0, 3.0]
    cells.set(theta_plus=0.0, tau_theta=np.inf)   # frozen thresholds, as Diehl & Cook's test phase
    theta = np.asarray(cells.get_data().segments[1].filter(name="theta")[0])[-1]
    sim.run(100.0)
    assert np.array_equal(np.asarray(cells.get_data().segments[1].filter(name="theta")[0])[-1], theta)
    assert np.all(cells.get("theta_plus") == 0.0)
    sim.end()


@pytest.mark.parametrize("bad", [dict(tau_theta=0.0), dict(tau_theta=-5.0), dict(tau_theta=np.nan),
                                 dict(theta_plus=np.nan), dict(theta_plus=np.inf), dict(theta_plus=-0.1)])
def test_bad_parameters(bad):
    sim.setup(timestep=0.1)
    with pytest.raises(errors.InvalidParameterValueError, match="tau_theta|theta_plus"):
        sim.Population(2, sim.IF_cond_exp_adaptive_threshold(**bad))
        sim.run(1.0)
    sim.end()


def test_theta_beyond_the_precision_stops_the_run():
    """A theta that overflows float32 (given as 1e300) stops the run with NumericalInstabilityError naming the
    population, as a membrane potential would."""
    sim.setup(timestep=0.1, precision="float32")
    cells = sim.Population(2, sim.IF_cond_exp_adaptive_threshold(), label="huge theta")
    cells.initialize(theta=1e300)
    with pytest.raises(NumericalInstabilityError, match="huge theta.*adaptive threshold"), \
            np.errstate(over="ignore"):   # numpy's overflow in the cast to float32
        sim.run(1.0)
    sim.end()


def test_initialize_between_runs_sets_theta_exactly():
    """initialize(theta=...) between runs also clears what the compensated decay carried for the old theta
    (float32: from theta = 1000 mV, tau_theta 1e7 ms, that is about 1e-5 mV)."""
    sim.setup(timestep=0.1, precision="float32")
    cells = sim.Population(1, sim.IF_cond_exp_adaptive_threshold(theta_plus=0.0), initial_values={"theta": 1000.0})
    cells.record("theta")
    sim.run(100.0)
    cells.initialize(theta=0.001)
    cells.set(tau_theta=np.inf)
    sim.run(10.0)
    theta = np.asarray(cells.get_data().segments[0].filter(name="theta")[0])[-1, 0]
    assert theta == np.float32(0.001)
    sim.end()
