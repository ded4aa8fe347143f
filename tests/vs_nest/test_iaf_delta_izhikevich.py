"""IF_curr_delta and Izhikevich side by side with pyNN.nest (spike_precision="on_grid"), float64, at
dt = 0.1 and 1.0 ms.

NEST models: ``iaf_psc_delta`` (exact integration; an input spike of weight w makes v jump by w mV;
inputs arriving while the neuron is refractory are discarded, NEST's default
``refractory_input=False``, which pyNN.nest keeps) and ``izhikevich`` (forward Euler with
``consistent_integration=True``, NEST's default, which pyNN.nest keeps: per step
v += h (0.04 v^2 + 5 v + 140 - u + I + I_e) + input, u += h a (b v_old - u_old), then v >= 30 mV:
v = c, u += d; I in pA = 1000 x nA, input weights in mV on both receptors).

Tolerances: IF_curr_delta gives the same spike times as NEST and v within DELTA_V_TOL = 1e-9 mV
(measured at most 1.7e-13 mV: pyNN.cupy keeps v, NEST v - E_L, and propagators in nA/nF against
NEST's pA/pF); Izhikevich takes NEST's operations in NEST's order, so spike times, v and u agree
bit for bit in float64 (IZH_TOL = 0, measured 0 in every scenario here at both time steps).
Networks (cupy in float32): mean rates within 5 % of NEST's, each side averaged over two seeds
(NEST's seed-to-seed sd, 6 seeds: IF_curr_delta 0.8 % exc, 0.5 % inh at about 48 Hz; Izhikevich
0.6 % exc at 12 Hz, 0.7 % inh at 41 Hz; measured differences at most 1 %).

pyNN.nest 0.13 cannot record or initialize v of IF_curr_delta (no variable_map, see
_patch_pynn_nest): the NEST side gets the map in its worker.
"""
import numpy as np
import pytest

from helpers import CANDIDATE, REFERENCE, simulate

MODELS = ["IF_curr_delta", "Izhikevich"]
DTS = [0.1, 1.0]
DELTA_V_TOL = 1e-9  # mV
IZH_TOL = 0.0       # mV and mV/ms: bit for bit
# (excitatory, inhibitory) weights, mV for both models
WEIGHTS = {"IF_curr_delta": (3.0, -2.0), "Izhikevich": (6.0, -4.0)}
# delays (ms) of the two excitatory and the two inhibitory projections, on each time grid
DELAYS = {0.1: ((1.0, 2.3), (1.5, 3.7)), 1.0: ((1.0, 3.0), (2.0, 4.0))}


def _grid(dt):
    """Input spike times lie on a 0.5 ms grid at dt 0.1 (pyNN.nest, on_grid, delivers about 1 % of
    inputs given on the 0.1 ms grid one step late: float fuzz in spike_time - min_delay) and on the
    1 ms grid at dt 1.0."""
    return max(dt, 0.5)


def _patch_pynn_nest(sim):
    """pyNN.nest 0.13's IF_curr_delta has no variable_map, so recording or initializing v asks NEST
    for a variable "v" that iaf_psc_delta does not have (NEST calls it V_m): supply the map."""
    if sim.__name__ == "pyNN.nest" and not hasattr(sim.IF_curr_delta, "variable_map"):
        sim.IF_curr_delta.variable_map = {"v": "V_m"}
        sim.IF_curr_delta.scale_factors = {"v": 1}


def _record(pop):
    pop.record(["spikes", "v"] + (["u"] if "u" in pop.celltype.recordable else []))


def _input_times(seed, rate, t_stop, dt):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1000.0 / rate, int(rate * t_stop / 500)))
    g = _grid(dt)
    burst = np.concatenate([t0 + g * np.arange(6) for t0 in (60.0, 130.0, 170.0)])
    t = np.round(np.concatenate([t, burst]) / g) * g
    return np.unique(t[(t > 1.0) & (t < t_stop)])


def build_current(sim, model, dt):
    """(a) neuron 0 driven by a DCSource switched on and off in the run, neuron 1 by i_offset."""
    _patch_pynn_nest(sim)
    if model == "IF_curr_delta":
        celltype, amplitude = sim.IF_curr_delta(i_offset=[0.0, 1.1], tau_refrac=2.0), 1.3
    else:
        celltype, amplitude = sim.Izhikevich(i_offset=[0.0, 0.01]), 0.015
    pop = sim.Population(2, celltype)
    sim.DCSource(start=20.0, stop=150.0, amplitude=amplitude).inject_into(pop[0:1])
    _record(pop)
    return {"cells": pop}


def build_synaptic(sim, model, dt):
    """(b) one neuron receiving spikes through both receptors, two delays each; Izhikevich with a
    small i_offset that keeps it near threshold."""
    _patch_pynn_nest(sim)
    w_exc, w_inh = WEIGHTS[model]
    (d_exc1, d_exc2), (d_inh1, d_inh2) = DELAYS[dt]
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[_input_times(1, 120.0, 200.0, dt),
                                                              _input_times(2, 60.0, 200.0, dt)]))
    if model == "IF_curr_delta":
        celltype = sim.IF_curr_delta(tau_refrac=1.5, i_offset=0.5)
    else:
        celltype = sim.Izhikevich(i_offset=0.003)
    cell = sim.Population(1, celltype)
    for pre, w, delays, receptor in ((src[0:1], w_exc, (d_exc1, d_exc2), "excitatory"),
                                     (src[1:2], w_inh, (d_inh1, d_inh2), "inhibitory")):
        for k, delay in enumerate(delays):
            sim.Projection(pre, cell, sim.AllToAllConnector(),
                           sim.StaticSynapse(weight=w * (1.0 - 0.25 * k), delay=delay),
                           receptor_type=receptor)
    _record(cell)
    src.record("spikes")
    return {"cell": cell, "source": src}


def build_heterogeneous(sim, model, dt):
    """(c) array and RandomDistribution parameters in one population, initialize(...)."""
    _patch_pynn_nest(sim)
    n = 6
    rd = lambda low, high, seed: sim.RandomDistribution(  # noqa: E731
        "uniform", (low, high), rng=sim.NumpyRNG(seed=seed))
    if model == "IF_curr_delta":
        params = dict(tau_m=np.linspace(10.0, 25.0, n), cm=np.linspace(0.5, 1.5, n),
                      v_rest=np.linspace(-70.0, -60.0, n), v_thresh=rd(-55.0, -50.0, 11),
                      v_reset=np.linspace(-72.0, -62.0, n),
                      tau_refrac=np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0]), i_offset=rd(0.7, 1.6, 13))
        initial = dict(v=rd(-70.0, -52.0, 15))
    else:
        # regular spiking, intrinsically bursting, chattering, fast spiking, and two others
        params = dict(a=np.array([0.02, 0.02, 0.02, 0.1, 0.02, 0.1]),
                      b=np.array([0.2, 0.2, 0.2, 0.2, 0.25, 0.26]),
                      c=np.array([-65.0, -55.0, -50.0, -65.0, -65.0, -65.0]),
                      d=np.array([8.0, 4.0, 2.0, 2.0, 0.05, 2.0]), i_offset=rd(0.004, 0.012, 13))
        initial = dict(v=rd(-75.0, -60.0, 15), u=rd(-16.0, -12.0, 16))
    pop = sim.Population(n, getattr(sim, model)(**params))
    pop.initialize(**initial)
    w_exc, w_inh = WEIGHTS[model]
    (d_exc, _), (_, d_inh) = DELAYS[dt]
    src = sim.Population(2, sim.SpikeSourceArray(spike_times=[_input_times(3, 100.0, 200.0, dt),
                                                              _input_times(4, 80.0, 200.0, dt)]))
    sim.Projection(src[0:1], pop, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=0.4 * w_exc, delay=d_exc), receptor_type="excitatory")
    sim.Projection(src[1:2], pop, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=0.4 * w_inh, delay=d_inh), receptor_type="inhibitory")
    _record(pop)
    return {"cells": pop}


def compare(build, model, dt, t_stop=200.0, first_sample=0):
    kw = dict(timestep=dt, min_delay=dt, model=model, dt=dt)
    ref = simulate(REFERENCE, build, t_stop, **kw)
    test = simulate(CANDIDATE, build, t_stop, **kw)
    for label in ref:
        r, c = ref[label], test[label]
        assert len(c["spikes"]) == len(r["spikes"])
        for i, (a, b) in enumerate(zip(r["spikes"], c["spikes"])):
            # the same steps: identical spike times
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-9, err_msg=f"{model} {label} spikes of {i}")
        if "v" not in r:
            continue
        assert c["v"].shape == r["v"].shape, f"{label}: v shape {c['v'].shape} vs {r['v'].shape}"
        np.testing.assert_allclose(c["times"], r["times"], rtol=0, atol=1e-9)
        for name in ("v", "u"):
            if name not in r:
                continue
            err = np.abs(c[name][first_sample:] - r[name][first_sample:]).max()
            print(f"{model} {build.__name__} dt={dt} {label}: max |d{name}| = {err:.3g}")
            tol = DELTA_V_TOL if model == "IF_curr_delta" else IZH_TOL
            assert err <= tol, f"{model} {label} dt={dt}: max |d{name}| = {err}"
    return ref


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", MODELS)
def test_current_injection(model, dt):
    ref = compare(build_current, model, dt)
    spikes = ref["cells"]["spikes"]
    assert min(len(s) for s in spikes) >= 5, spikes  # both neurons fire regularly
    assert spikes[0].min() > 20.0 and spikes[0].max() < 160.0


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", MODELS)
def test_synaptic_input(model, dt):
    ref = compare(build_synaptic, model, dt)
    n_in = len(ref["source"]["spikes"][0]) + len(ref["source"]["spikes"][1])
    assert 3 <= len(ref["cell"]["spikes"][0]) < n_in / 3  # fires sometimes, not on every input


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("model", MODELS)
def test_heterogeneous(model, dt):
    # pyNN.nest records as the t = 0 sample a second draw from the RandomDistribution given to
    # initialize() (the cells start from the first draw): compare from t = dt
    ref = compare(build_heterogeneous, model, dt, first_sample=1)
    assert sum(len(s) > 0 for s in ref["cells"]["spikes"]) >= 4


# -- NEST's conventions, pinned on each backend ---------------------------------------------------

def build_refractory(sim, dt):
    """Three IF_curr_delta neurons kicked over threshold by one input at 10 ms (delay 1 ms: spike at
    11 ms, refractory for tau_refrac = 2 - dt, so that the first free step is 13 ms at either dt).
    Neuron 0 also receives 1 mV inputs every grid point from 10.5 (or 11) ms to 20 ms, neuron 2 the
    same train with -1 mV on the inhibitory receptor; neuron 1 the kick alone."""
    _patch_pynn_nest(sim)
    g = _grid(dt)
    cells = sim.Population(3, sim.IF_curr_delta(tau_refrac=2.0 - dt))
    kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    train = sim.Population(1, sim.SpikeSourceArray(spike_times=np.arange(10.0 + g, 20.0 + g / 2, g)))
    sim.Projection(kick, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=20.0, delay=1.0))
    sim.Projection(train, cells[0:1], sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=1.0, delay=1.0), receptor_type="excitatory")
    sim.Projection(train, cells[2:3], sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=-1.0, delay=1.0), receptor_type="inhibitory")
    _record(cells)
    return {"cells": cells}


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("backend", sorted({REFERENCE, CANDIDATE}))
def test_refractory_input_discarded(backend, dt):
    """iaf_psc_delta (refractory_input=False): inputs arriving while refractory are lost; the first
    one counted arrives in the first step after the refractory period (13 ms)."""
    r = simulate(backend, build_refractory, 30.0, timestep=dt, min_delay=dt, dt=dt)["cells"]
    for spikes in r["spikes"]:
        np.testing.assert_allclose(spikes, [11.0], atol=1e-9)
    t, v = r["times"], r["v"]
    free = np.argmin(np.abs(t - 13.0))
    assert np.all(v[np.argmin(np.abs(t - 11.0)):free, :] == -65.0)  # clamped: inputs ignored
    assert np.all(v[:free] == v[:free, 1:2])
    # in the first free step the input of that step counts, undamped
    assert v[free, 0] - v[free, 1] == pytest.approx(1.0, abs=1e-12)
    assert v[free, 2] - v[free, 1] == pytest.approx(-1.0, abs=1e-12)


def build_izhikevich_order(sim, dt):
    """One Izhikevich neuron at rest receiving one input of 10 mV at 5 ms (delay 1 ms)."""
    cell = sim.Population(1, sim.Izhikevich())
    cell.initialize(v=-70.0, u=-14.0)
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0]))
    sim.Projection(src, cell, sim.AllToAllConnector(), sim.StaticSynapse(weight=10.0, delay=1.0))
    _record(cell)
    return {"cell": cell}


@pytest.mark.parametrize("dt", DTS)
@pytest.mark.parametrize("backend", sorted({REFERENCE, CANDIDATE}))
def test_izhikevich_update_order(backend, dt):
    """izhikevich (consistent_integration=True): the Euler step uses the old v and u for both
    variables; the input arriving in a step is added to v after the Euler step, u sees it a step
    later; threshold 30 mV, then v = c, u += d."""
    r = simulate(backend, build_izhikevich_order, 20.0, timestep=dt, min_delay=dt, dt=dt)["cell"]
    v, u = r["v"][:, 0], r["u"][:, 0]
    a, b, h = 0.02, 0.2, dt
    k = int(round(6.0 / dt))   # the sample at 6 ms holds the input
    v_old, u_old = v[k - 1], u[k - 1]
    assert v[k] == v_old + (h * (0.04 * v_old * v_old + 5.0 * v_old + 140.0 - u_old + 0.0 + 0.0) + 10.0)
    assert u[k] == u_old + h * a * (b * v_old - u_old)
    assert u[k + 1] == u[k] + h * a * (b * v[k] - u[k])
    assert v[0] == -70.0 and u[0] == -14.0


# -- small recurrent networks: statistics ---------------------------------------------------------

# Brunel (2000)-like: IF_curr_delta, 800 exc + 200 inh, 10 % connectivity, J = 0.1 mV, g = 5,
# delay 1.5 ms, Poisson drive of 1.4 x the threshold rate on one synapse per neuron (about 48 Hz)
DELTA_NET = dict(n_exc=800, n_inh=200, p_connect=0.1, w_exc=0.1, g=5.0, delay=1.5, w_ext=0.1,
                 rate_ext=14000.0)
DELTA_CELL = dict(tau_m=20.0, cm=1.0, v_rest=-70.0, v_reset=-60.0, v_thresh=-50.0, tau_refrac=2.0)
# Izhikevich (2003)-like: 400 regular-spiking exc, 100 fast-spiking inh, Poisson drive (about 12 and
# 41 Hz)
IZH_NET = dict(n_exc=400, n_inh=100, p_connect=0.1, w_exc=0.5, g=3.0, delay=1.0, w_ext=4.0,
               rate_ext=1000.0)
NET_T_STOP, NET_T_COUNT = 1000.0, 200.0


def build_network(sim, model, conn_seed, n_exc, n_inh, p_connect, w_exc, g, delay, w_ext, rate_ext):
    _patch_pynn_nest(sim)
    rng = sim.NumpyRNG(seed=conn_seed)
    if model == "IF_curr_delta":
        exc_type = inh_type = sim.IF_curr_delta(**DELTA_CELL)
        v0 = dict(v=sim.RandomDistribution("uniform", (-70.0, -50.0), rng=rng))
    else:
        exc_type = sim.Izhikevich(a=0.02, b=0.2, c=-65.0, d=8.0)
        inh_type = sim.Izhikevich(a=0.1, b=0.2, c=-65.0, d=2.0)
        v0 = dict(v=sim.RandomDistribution("uniform", (-70.0, -60.0), rng=rng), u=-13.0)
    exc = sim.Population(n_exc, exc_type, label="exc")
    inh = sim.Population(n_inh, inh_type, label="inh")
    for pop in (exc, inh):
        pop.initialize(**v0)
        drive = sim.Population(pop.size, sim.SpikeSourcePoisson(rate=rate_ext))
        sim.Projection(drive, pop, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=w_ext, delay=delay), receptor_type="excitatory")
        pop.record("spikes")
    connector = sim.FixedProbabilityConnector(p_connect, allow_self_connections=False, rng=rng)
    for pre, w, receptor in ((exc, w_exc, "excitatory"), (inh, -g * w_exc, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, connector, sim.StaticSynapse(weight=w, delay=delay),
                           receptor_type=receptor)
    return {"exc": exc, "inh": inh}


def _mean_rates(backend, model, seeds, dt=0.1):
    params = DELTA_NET if model == "IF_curr_delta" else IZH_NET
    rates = []
    for seed in seeds:
        # cupy in float32, the default precision for networks
        result = simulate(backend, build_network, NET_T_STOP, timestep=dt, min_delay=dt, seed=seed,
                          precision="float32", conn_seed=seed, model=model, **params)
        rates.append({k: np.mean([np.count_nonzero((s >= NET_T_COUNT) & (s < NET_T_STOP))
                                  for s in r["spikes"]]) / (NET_T_STOP - NET_T_COUNT) * 1000.0
                      for k, r in result.items()})
    return {k: np.mean([r[k] for r in rates]) for k in rates[0]}


@pytest.mark.parametrize("model", MODELS)
def test_network_rates(model):
    ref = _mean_rates(REFERENCE, model, [101, 102])
    test = _mean_rates(CANDIDATE, model, [201, 202])
    print(model, "NEST", ref, CANDIDATE, test)
    assert min(ref.values()) > 2.0, ref
    for k in ref:
        assert abs(test[k] / ref[k] - 1) < 0.05, (k, test[k], ref[k])
