"""ACSource, StepCurrentSource, NoisyCurrentSource (and DCSource recording) side by side with pyNN.nest
(spike_precision="on_grid"), float64.

NEST facts followed (models/ac_generator.cpp, step_current_generator.cpp, noise_generator.cpp, NEST 3.10, and
pyNN/nest/standardmodels/electrodes.py):
- pyNN.nest connects a generator with delay min_delay and gives it start - min_delay; a current generator is
  active in the steps s with start < s + 2 <= stop (StimulationDevice::is_active), and a neuron uses the
  current it receives in a step from its next update on. Net effect: the step from t to t + dt gets the
  current with start <= t < stop, and v first moves at start + dt (as DCSource).
- ac_generator: amplitude * sin(omega t + phase) + offset, with pyNN.nest's phase correction (PR #502)
  making the phase relative to start: the step from t gets offset + amplitude * sin(2 pi f (t - start) +
  phase).
- step_current_generator: NEST takes only grid times (BadProperty otherwise); pyNN.nest rounds them first,
  numpy.rint((t - min_delay) / dt), and of several times rounded to one step keeps the last amplitude. The
  amplitude for t acts from the step starting at t. Negative or non-increasing times raise.
- noise_generator: each target its own current mean + std * N(0, 1), redrawn every `dt` (> 0, a multiple of
  the resolution, else NEST refuses) from the first active step on, held in between; its recorded `I` is
  the mean over the targets.
- Recording (pyNN.nest's multimeter on the generator, padded by min_delay): the sample at t is the current
  of the step from t to t + dt, samples from 0 to the end of the run, both included.

Where pyNN.nest is late (a start or step time within 2 * min_delay of 0, changes between runs, which NEST
applies about min_delay + dt later), pyNN.cupy keeps the rule above (as its DCSource does, see
test_time_grid.py): side by side only outside those cases, test_changes_between_runs_take_effect_at_once pins
the rest.

Measured (dt 0.1 / min_delay 0.1 and dt 0.025 / min_delay 1.0): v of IF_curr_exp within 1.5e-12 mV of NEST,
IF_cond_exp within 6.4e-11 mV, spikes included (NEST's RKF45 against RK4 on current input only; the test allows
COND_V_TOL = 1e-8 mV away from spikes), recorded currents within 1.1e-13 nA (AC; step and DC exactly). Noise:
per-draw mean and variance within 4 standard errors of (mean, stdev^2) on both; v mean -57.03 / -57.03 mV,
v variance 2.75 / 2.86 mV^2 (NEST / pyNN.cupy, 100 cells, 320 ms), within 4 standard errors of each other.
"""
import os
import re

import numpy as np
import pytest
from pyNN.errors import InvalidParameterValueError

from helpers import CANDIDATE, REFERENCE, assert_spikes_match, max_abs_diff_away_from_spikes, simulate

MODELS = ["IF_curr_exp", "IF_cond_exp"]
CURR_V_TOL = 1e-9   # mV
COND_V_TOL = 1e-8   # mV, away from spikes (measured: 6.4e-11 mV, spikes included)
I_TOL = 1e-12       # nA, recorded currents


class _Probe:
    """A current source seen as the helpers' population: get_data() gives its recorded current as signal "i"."""

    def __init__(self, source):
        self.source = source

    def get_data(self):
        import neo
        signal = self.source.get_data()
        signal.name = "i"
        segment = neo.Segment()
        segment.analogsignals.append(signal)
        block = neo.Block()
        block.segments.append(segment)
        return block


# -- builders (run in the helpers' worker processes) ----------------------------------------------------

AC = [dict(start=10.0, stop=80.0, amplitude=0.8, offset=0.4, frequency=50.0, phase=30.0),
      dict(start=5.3, stop=60.0, amplitude=1.0, offset=0.0, frequency=20.0, phase=90.0)]
STEP = [dict(times=[10.0, 25.5, 40.0, 70.0], amplitudes=[0.5, 1.2, -0.3, 0.8]),
        # off the grid: pyNN.nest's rounding, two times on one step (the last counts)
        dict(times=[10.02, 10.04, 30.86, 45.049, 61.51], amplitudes=[2.0, 0.6, 1.3, 0.2, 0.9])]
DC = dict(start=15.0, stop=50.0, amplitude=0.3)


def build_deterministic(sim, record_sources=True):
    """Per model, 5 cells: AC[0], AC[1], STEP[0], STEP[1], and AC[0] + STEP[0] + DC on one cell (they add up).
    The sources of cells 0, 2 and 3 (IF_curr_exp) and a DCSource of its own are recorded."""
    out = {}
    for model in MODELS:
        cells = sim.Population(5, getattr(sim, model)(tau_refrac=2.0))
        sources = [sim.ACSource(**AC[0]), sim.ACSource(**AC[1]), sim.StepCurrentSource(**STEP[0]),
                   sim.StepCurrentSource(**STEP[1])]
        for i, source in enumerate(sources):
            source.inject_into(cells[i:i + 1])
        for source in (sim.ACSource(**AC[0]), sim.StepCurrentSource(**STEP[0]), sim.DCSource(**DC)):
            cells[4:5].inject(source)
        cells.record(["spikes", "v"])
        out[model] = cells
        if record_sources and model == "IF_curr_exp":
            dc = sim.DCSource(**DC)
            dc.inject_into(cells[4:5])   # cell 4 gets the DC twice
            for name, source in (("i_ac", sources[0]), ("i_ac90", sources[1]), ("i_step", sources[2]),
                                 ("i_step_offgrid", sources[3]), ("i_dc", dc)):
                source.record()
                out[name] = _Probe(source)
    return out


def build_noise(sim, n=100, noise_dt=0.5, start=20.0, stop=420.0, mean=0.4, stdev=0.8):
    """One NoisyCurrentSource into n IF_curr_exp cells that never spike (each its own noise), one into a single
    IF_cond_exp cell (recorded: its injected current), one of dt = time step into a single IF_curr_exp."""
    cells = sim.Population(n, sim.IF_curr_exp(v_thresh=1000.0))
    noise = sim.NoisyCurrentSource(mean=mean, stdev=stdev, start=start, stop=stop, dt=noise_dt)
    noise.inject_into(cells)
    noise.record()
    single = sim.Population(1, sim.IF_cond_exp(v_thresh=1000.0))
    noise1 = sim.NoisyCurrentSource(mean=mean, stdev=stdev, start=start, stop=stop, dt=noise_dt)
    noise1.inject_into(single)
    noise1.record()
    fine = sim.NoisyCurrentSource(mean=mean, stdev=stdev, start=start, stop=stop, dt=sim.get_time_step())
    fine_cell = sim.Population(1, sim.IF_curr_exp(v_thresh=1000.0))
    fine.inject_into(fine_cell)
    fine.record()
    cells.record("v")
    single.record("v")
    return {"cells": cells, "single": single, "i_pop": _Probe(noise), "i_single": _Probe(noise1),
            "i_fine": _Probe(fine)}


def build_targets(sim):
    """Injection into a Population, a PopulationView, an Assembly and single cells, several sources per cell."""
    a = sim.Population(4, sim.IF_curr_exp(v_thresh=1000.0))
    b = sim.Population(3, sim.IF_curr_exp(v_thresh=1000.0, tau_m=12.0))
    sim.ACSource(start=5.0, stop=60.0, amplitude=0.5, offset=0.1, frequency=40.0, phase=45.0).inject_into(a + b)
    sim.StepCurrentSource(times=[8.0, 20.0], amplitudes=[0.7, -0.2]).inject_into(a[1:3])
    step = sim.StepCurrentSource(times=[12.0, 30.0], amplitudes=[0.4, 0.1])
    step.inject_into([a[3], b[0]])
    b[2].inject(sim.DCSource(start=3.0, stop=40.0, amplitude=0.25))
    a.record("v")
    b.record("v")
    return {"a": a, "b": b}


def build_two_runs(sim):
    """set_parameters between runs, with effects NEST applies on time (step times beyond its latency):
    run 50 ms, new step times and amplitudes (more of them), run on (the helper runs the rest)."""
    cells = sim.Population(1, sim.IF_curr_exp(tau_refrac=2.0))
    step = sim.StepCurrentSource(times=[10.0, 30.0], amplitudes=[0.6, 1.5])
    step.inject_into(cells)
    step.record()
    cells.record(["spikes", "v"])
    sim.run(50.0)
    step.set_parameters(times=[60.0, 70.5, 80.0], amplitudes=[0.2, 1.1, 0.0])
    return {"cells": cells, "i_step": _Probe(step)}


# -- side by side ---------------------------------------------------------------------------------------

GRIDS = [pytest.param(0.1, 0.1, id="dt0.1-md0.1"), pytest.param(0.025, 1.0, id="dt0.025-md1.0")]


def _pair(build, t_stop, dt, min_delay, **params):
    ref = simulate(REFERENCE, build, t_stop, timestep=dt, min_delay=min_delay, **params)
    test = simulate(CANDIDATE, build, t_stop, timestep=dt, min_delay=min_delay, **params)
    return ref, test


def _first_move(rec, column):
    moved = np.nonzero(rec["v"][:, column] != rec["v"][0, column])[0]
    return float(rec["times"][moved[0]]) if moved.size else None


@pytest.mark.parametrize("dt, min_delay", GRIDS)
@pytest.mark.parametrize("model", MODELS)
def test_ac_and_step_v(model, dt, min_delay):
    """v of each cell as NEST's (current-based 1e-9 mV, conductance-based 1e-5 mV away from spikes), same
    spikes; v first moves one step after start / the first step time."""
    ref, test = _pair(build_deterministic, 100.0, dt, min_delay)
    r, c = ref[model], test[model]
    assert r["v"].shape == c["v"].shape
    np.testing.assert_allclose(c["times"], r["times"], rtol=0, atol=1e-9)
    assert_spikes_match(r["spikes"], c["spikes"], dt, model)
    assert sum(len(s) for s in r["spikes"]) > 0   # the currents make the cells fire
    if model == "IF_curr_exp":
        err = np.abs(c["v"] - r["v"]).max()
        assert err <= CURR_V_TOL, f"{model}: v differs by {err} mV"
    else:
        err = max_abs_diff_away_from_spikes(r["times"], r["v"], c["v"], r["spikes"], dt, 2.0 + 2 * dt)
        assert err <= COND_V_TOL, f"{model}: v differs by {err} mV away from spikes"
    starts = [AC[0]["start"], AC[1]["start"], STEP[0]["times"][0], None, 10.0]   # 3: off the grid, rounded
    for i, start in enumerate(starts):
        assert _first_move(c, i) == pytest.approx(_first_move(r, i), abs=1e-9), (model, i)
        if start is not None:
            assert _first_move(c, i) == pytest.approx(start + dt, abs=1e-9), (model, i)


@pytest.mark.parametrize("dt, min_delay", GRIDS)
def test_recorded_currents(dt, min_delay):
    """source.record() / get_data(): the same AnalogSignal as pyNN.nest (t = 0 to the end, dt apart; the
    sample at t is the current of the step from t), values within I_TOL."""
    ref, test = _pair(build_deterministic, 100.0, dt, min_delay)
    for name in ("i_ac", "i_ac90", "i_step", "i_step_offgrid", "i_dc"):
        r, c = ref[name], test[name]
        assert c["i"].shape == r["i"].shape == (int(round(100.0 / dt)) + 1, 1), name
        np.testing.assert_allclose(c["times"], r["times"], rtol=0, atol=1e-9, err_msg=name)
        err = np.abs(c["i"] - r["i"]).max()
        assert err <= I_TOL, f"{name}: recorded current differs by {err} nA"
    i = test["i_ac90"]["i"][:, 0]
    k = int(round(AC[1]["start"] / dt))
    assert i[k - 1] == 0 and i[k] == pytest.approx(AC[1]["amplitude"], abs=1e-12)   # phase 90 at start


def test_step_times_read_back_rounded(cupy_sim):
    """StepCurrentSource times off the grid read back as the grid times pyNN.nest uses (plus its min_delay),
    duplicates on one step merged, the last amplitude kept (PyNN's test_issue512 values)."""
    sim = cupy_sim()
    step = sim.StepCurrentSource(times=[0.41, 0.42, 0.86], amplitudes=[0.5, -0.5, 0.5])
    np.testing.assert_allclose(np.asarray(step.times.evaluate()), [0.4, 0.9], atol=1e-12)
    np.testing.assert_array_equal(np.asarray(step.amplitudes.evaluate()), [-0.5, 0.5])


@pytest.mark.parametrize("dt, min_delay", GRIDS[:1])
def test_injection_targets(dt, min_delay):
    """Population, PopulationView, Assembly, list of IDs, single ID; several sources on one cell add up."""
    ref, test = _pair(build_targets, 70.0, dt, min_delay)
    for label in ("a", "b"):
        err = np.abs(test[label]["v"] - ref[label]["v"]).max()
        assert err <= CURR_V_TOL, f"{label}: v differs by {err} mV"
        assert np.all(test[label]["v"][-1] != test[label]["v"][0])


def test_set_parameters_between_runs():
    """New step times and amplitudes between runs (more of them than before), as NEST."""
    ref, test = _pair(build_two_runs, 50.0, 0.1, 0.1)
    r, c = ref["cells"], test["cells"]
    assert_spikes_match(r["spikes"], c["spikes"], 0.1)
    err = np.abs(c["v"] - r["v"]).max()
    assert err <= CURR_V_TOL, f"v differs by {err} mV"
    err = np.abs(test["i_step"]["i"] - ref["i_step"]["i"]).max()
    assert test["i_step"]["i"].shape == (1001, 1) and err <= I_TOL


# -- noise: statistics -----------------------------------------------------------------------------------

NOISE = dict(n=100, noise_dt=0.5, start=20.0, stop=420.0, mean=0.4, stdev=0.8)


def _held(i, start, stop, dt, hold):
    """The recorded current is 0 outside [start, stop) and constant within each `hold` from start."""
    k0, k1, h = (int(round(x / dt)) for x in (start, stop, hold))
    assert np.all(i[:k0] == 0) and np.all(i[k1:] == 0)
    windows = i[k0:k1].reshape(-1, h)
    assert np.all(windows == windows[:, :1])
    return windows[:, 0]


@pytest.mark.parametrize("backend", sorted({REFERENCE, CANDIDATE}))
def test_noise_current_statistics(backend):
    """The injected current: mean and stdev per draw, redrawn every dt from start, 0 outside [start, stop);
    the recorded current of a source into n cells is their mean (variance stdev^2 / n)."""
    rec = simulate(backend, build_noise, 450.0, **NOISE)
    p = NOISE
    draws = _held(rec["i_single"]["i"][:, 0], p["start"], p["stop"], 0.1, p["noise_dt"])
    fine = _held(rec["i_fine"]["i"][:, 0], p["start"], p["stop"], 0.1, 0.1)
    assert fine.size == 4000 and draws.size == 800
    for values, what in ((draws, "dt 0.5"), (fine, "dt 0.1")):
        n = values.size
        assert abs(values.mean() - p["mean"]) < 4 * p["stdev"] / np.sqrt(n), (what, values.mean())
        assert abs(values.var() / p["stdev"] ** 2 - 1) < 4 * np.sqrt(2 / n), (what, values.std())
    pop = _held(rec["i_pop"]["i"][:, 0], p["start"], p["stop"], 0.1, p["noise_dt"])
    assert abs(pop.mean() - p["mean"]) < 4 * p["stdev"] / np.sqrt(pop.size * p["n"])
    assert abs(pop.var() * p["n"] / p["stdev"] ** 2 - 1) < 4 * np.sqrt(2 / pop.size), pop.std()
    # each cell its own noise: v of two cells differ, and v moves first one step after start
    v = rec["cells"]["v"]
    assert np.all(v[: int(p["start"] / 0.1) + 1] == v[0]) and np.all(v[int(p["start"] / 0.1) + 1] != v[0])
    assert np.all(v[1000:4200].std(axis=1) > 1.0)   # across cells, at each time


def test_noise_v_statistics():
    """The recorded noise has NEST's samples; v driven by the noise: mean and variance over 100 cells and the stationary part of the window
    (from 100 ms) as NEST's, within 4 standard errors of the difference (the cells are independent)."""
    ref, test = _pair(build_noise, 450.0, 0.1, 0.1, **NOISE)
    for name in ("i_pop", "i_single", "i_fine"):   # the recorded signals: same samples, nonzero in the same steps
        assert test[name]["i"].shape == ref[name]["i"].shape == (4501, 1), name
        np.testing.assert_allclose(test[name]["times"], ref[name]["times"], rtol=0, atol=1e-9)
        np.testing.assert_array_equal(test[name]["i"] != 0, ref[name]["i"] != 0)
    window = slice(1000, 4200)
    stats = {}
    for name, rec in (("nest", ref), ("cupy", test)):
        v = rec["cells"]["v"][window]
        per_cell_mean, per_cell_var = v.mean(axis=0), v.var(axis=0)
        stats[name] = (per_cell_mean, per_cell_var)
    (m_r, s_r), (m_c, s_c) = stats["nest"], stats["cupy"]
    se = np.sqrt(m_r.var() / m_r.size + m_c.var() / m_c.size)
    assert abs(m_r.mean() - m_c.mean()) < 4 * se, (m_r.mean(), m_c.mean(), se)
    se = np.sqrt(s_r.var() / s_r.size + s_c.var() / s_c.size)
    assert abs(s_r.mean() - s_c.mean()) < 4 * se, (s_r.mean(), s_c.mean(), se)
    # and the analytic values of the (filtered, piecewise constant) process: mean v_rest + R * mean
    assert m_c.mean() == pytest.approx(-65.0 + 20.0 * NOISE["mean"], abs=4 * se + 0.1)


# -- pyNN.cupy in this process ---------------------------------------------------------------------------

@pytest.fixture
def cupy_sim():
    """pyNN.cupy in this process: call with dt (and setup arguments) to set it up; ended after the test."""
    import pyNN.cupy as sim

    def setup(dt=0.1, **extra):
        extra.setdefault("precision", "float64")
        sim.setup(timestep=dt, min_delay=dt, device=os.environ.get("PYNN_CUPY_DEVICE", "cpu"), **extra)
        return sim
    yield setup
    sim.end()


def _noise_trial(sim):
    cells = sim.Population(3, sim.IF_curr_exp(v_thresh=1000.0))
    noise = sim.NoisyCurrentSource(mean=0.0, stdev=1.0, start=1.0, stop=50.0, dt=0.2)
    noise.inject_into(cells)
    noise.record()
    cells.record("v")
    sim.run(20.0)
    return noise, cells


def test_noise_fresh_after_reset_and_reproducible(cupy_sim):
    """reset() draws fresh noise (a new trial); the same seed gives the same trials again."""
    if CANDIDATE == REFERENCE:
        pytest.skip("pyNN.cupy only")
    sim = cupy_sim(rng_seed=11)
    noise, cells = _noise_trial(sim)
    first = np.asarray(noise.get_data()).copy()
    sim.reset()
    sim.run(20.0)
    second = np.asarray(noise.get_data()).copy()
    assert first.shape == second.shape == (201, 1)
    assert np.all(first[:10] == 0) and np.all(second[:10] == 0)
    assert not np.any(first[10:] == second[10:])
    v = cells.get_data().segments
    assert not np.allclose(np.asarray(v[0].analogsignals[0]), np.asarray(v[1].analogsignals[0]))
    sim = cupy_sim(rng_seed=11)
    noise, _ = _noise_trial(sim)
    np.testing.assert_array_equal(np.asarray(noise.get_data()), first)
    sim.reset()
    sim.run(20.0)
    np.testing.assert_array_equal(np.asarray(noise.get_data()), second)


def test_noise_split_runs_equal_one_run(cupy_sim):
    """The noise of run(7.3) + run(12.7) is that of run(20) (draws keyed by the step, not by the run)."""
    if CANDIDATE == REFERENCE:
        pytest.skip("pyNN.cupy only")
    sim = cupy_sim(rng_seed=5)
    noise, cells = _noise_trial(sim)
    one = np.asarray(noise.get_data()).copy(), np.asarray(cells.get_data().segments[0].analogsignals[0])
    sim = cupy_sim(rng_seed=5)
    cells = sim.Population(3, sim.IF_curr_exp(v_thresh=1000.0))
    noise = sim.NoisyCurrentSource(mean=0.0, stdev=1.0, start=1.0, stop=50.0, dt=0.2)
    noise.inject_into(cells)
    noise.record()
    cells.record("v")
    sim.run(7.3)
    sim.run(12.7)
    np.testing.assert_array_equal(np.asarray(noise.get_data()), one[0])
    np.testing.assert_array_equal(np.asarray(cells.get_data().segments[0].analogsignals[0]), one[1])


def test_changes_between_runs_take_effect_at_once(cupy_sim):
    """A change between runs acts from the first step of the next run (pyNN.nest: about min_delay + dt later,
    its events already in flight); the recorded current shows what was injected."""
    if CANDIDATE == REFERENCE:
        pytest.skip("pins the candidate where pyNN.nest is late")
    sim = cupy_sim()
    cells = sim.Population(3, sim.IF_curr_exp(v_thresh=1000.0))
    ac = sim.ACSource(start=2.0, stop=100.0, amplitude=0.5, offset=0.1, frequency=100.0, phase=90.0)
    step = sim.StepCurrentSource(times=[0.0], amplitudes=[0.0])
    noise = sim.NoisyCurrentSource(mean=0.5, stdev=0.0, start=2.0, stop=100.0, dt=0.3)
    for i, source in enumerate((ac, step, noise)):
        source.inject_into(cells[i:i + 1])
        source.record()
    cells.record("v")
    sim.run(5.0)
    ac.amplitude = 1.0
    step.set_parameters(times=[3.0, 5.0, 5.5], amplitudes=[9.0, 1.0, 0.5])   # 3.0 is past: 5.0 counts
    noise.mean = 2.0
    sim.run(5.0)
    i_ac, i_step, i_noise = (np.asarray(s.get_data())[:, 0] for s in (ac, step, noise))
    t = np.arange(101) * 0.1
    expected = 0.1 + np.where(t < 5.0, 0.5, 1.0) * np.sin(2 * np.pi * 100.0 * (t - 2.0) / 1000.0 + np.pi / 2)
    np.testing.assert_allclose(i_ac[20:], expected[20:], atol=1e-12)
    np.testing.assert_array_equal(i_step[48:57], [0, 0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
    np.testing.assert_array_equal(i_noise[48:52], [0.5, 0.5, 2.0, 2.0])
    v = cells.get_data().segments[0].analogsignals[0].magnitude
    assert v[50, 1] == v[0, 1] and v[51, 1] > v[50, 1]   # the step current moves v from 5.1 on


def _long_ac_run(sim):
    cell = sim.Population(1, sim.IF_curr_exp(v_thresh=1000.0, tau_m=5.0))
    ac = sim.ACSource(start=0.5, amplitude=2.0, offset=0.0, frequency=37.3, phase=10.0)
    ac.inject_into(cell)
    sim.run(99990.0)
    ac.record()
    cell.record("v")
    sim.run(10.0)
    return np.asarray(ac.get_data())[:, 0], cell.get_data().segments[0].analogsignals[0].magnitude[:, 0]


def test_ac_phase_does_not_drift_in_float32(cupy_sim):
    """float32, 10^6 steps: the AC current at the end is the double-precision sine rounded to float32, and v
    follows it as in float64 (a phase computed in float32 would be off by about 0.4 rad by then)."""
    if CANDIDATE == REFERENCE:
        pytest.skip("pyNN.cupy only")
    i, v32 = _long_ac_run(cupy_sim(precision="float32"))
    t = 99990.0 + 0.1 * np.arange(i.size)
    exact = 2.0 * np.sin(2 * np.pi * 37.3 * (t - 0.5) / 1000.0 + np.deg2rad(10.0))
    assert np.abs(i - exact).max() < 4e-7   # float32 rounding of values up to 2 nA (half an ulp: 1.2e-7)
    _, v64 = _long_ac_run(cupy_sim(precision="float64"))
    assert np.ptp(v64) > 1.0 and np.abs(v32 - v64).max() < 1e-3


BAD = [  # (what to build, parameters, the value the message names)
    pytest.param("step", dict(times=[0.4, 0.2, 0.8], amplitudes=[0.5, -0.5, 0.5]), "0.2", id="step-unsorted"),
    pytest.param("step", dict(times=[0.4, 0.4, 0.8], amplitudes=[0.5, -0.5, 0.5]), "0.4", id="step-repeated"),
    pytest.param("step", dict(times=[0.4, -0.6, 0.8], amplitudes=[0.5, -0.5, 0.5]), "-0.6", id="step-negative"),
    pytest.param("step", dict(times=[0.4, float("nan")], amplitudes=[0.5, 0.1]), "nan", id="step-nan"),
    pytest.param("step", dict(times=[0.4, 0.8], amplitudes=[0.5]), "0.8", id="step-lengths"),
    pytest.param("step", dict(times=[0.4], amplitudes=[float("inf")]), "inf", id="step-amplitude-inf"),
    pytest.param("noise", dict(dt=-0.1), "-0.1", id="noise-dt-negative"),
    pytest.param("noise", dict(dt=0.0), "0", id="noise-dt-zero"),
    pytest.param("noise", dict(dt=0.15), "0.15", id="noise-dt-off-grid"),
    pytest.param("noise", dict(stdev=-1.0), "-1", id="noise-stdev-negative"),
    pytest.param("noise", dict(start=1.05), "1.05", id="noise-start-off-grid"),
    pytest.param("noise", dict(mean=float("nan")), "nan", id="noise-mean-nan"),
    pytest.param("ac", dict(start=2.0, stop=1.0), "1", id="ac-stop-before-start"),
    pytest.param("ac", dict(stop=10.03), "10.03", id="ac-stop-off-grid"),
    pytest.param("ac", dict(frequency=float("inf")), "inf", id="ac-frequency-inf"),
]
KINDS = {"step": "StepCurrentSource", "noise": "NoisyCurrentSource", "ac": "ACSource"}


@pytest.mark.parametrize("kind, params, named", BAD)
def test_bad_values_refused(cupy_sim, kind, params, named):
    """At creation and in set_parameters: InvalidParameterValueError (a ValueError) naming the value."""
    sim = cupy_sim()
    source_class = getattr(sim, KINDS[kind])
    with pytest.raises(InvalidParameterValueError) as info:
        source_class(**params)
    assert re.search(re.escape(named) + r"(?!\d)", str(info.value)), str(info.value)
    source = source_class(**({"times": [1.0], "amplitudes": [0.5]} if kind == "step" else {}))
    before = source.get_parameters()
    with pytest.raises(InvalidParameterValueError):
        source.set_parameters(**params)
    after = source.get_parameters()   # nothing changed
    for name in before.keys():
        np.testing.assert_array_equal(np.asarray(after[name].base_value), np.asarray(before[name].base_value))


def build_refused(sim, kind, params):
    getattr(sim, KINDS[kind])(**params)
    return {}


@pytest.mark.parametrize("kind, params", [
    pytest.param("noise", dict(dt=-0.1), id="noise-dt-negative"),
    pytest.param("noise", dict(dt=0.15), id="noise-dt-off-grid"),
    pytest.param("noise", dict(stdev=-1.0), id="noise-stdev-negative"),
    pytest.param("noise", dict(start=1.05), id="noise-start-off-grid"),
    pytest.param("ac", dict(stop=10.03), id="ac-stop-off-grid"),
    pytest.param("step", dict(times=[0.4, 0.2, 0.8], amplitudes=[0.5, -0.5, 0.5]), id="step-unsorted"),
])
def test_nest_refuses_too(kind, params):
    """What pyNN.cupy refuses above, pyNN.nest (or NEST) refuses as well."""
    with pytest.raises(RuntimeError, match="run failed"):
        simulate(REFERENCE, build_refused, 1.0, kind=kind, params=params)
