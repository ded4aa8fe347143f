"""Bad calls to the PyNN API raise pyNN.errors types (or, for an index out of range, Python's IndexError, as
PyNN and numpy do), with a message naming the object and the value, and change nothing: the network then runs
exactly as if the bad call had never been made (the same recorded variables, spikes, traces, weights and delays).

Gaps left by tests/unit/test_bad_input.py, tests/robustness/test_bad_values.py and test_error_types.py:
recording (unrecordable variables in a list, sampling intervals), views (out of range, bad masks, empty),
wrong dimensions (at creation, on views, with the parameter named), connectors' arguments, connections onto
spike sources through views/assemblies/the procedural API, delays (STDP, partly bad arrays), partly bad
multi-parameter calls, use before setup().

Each case is compared with pyNN.nest 0.13 / NEST 3.10 in the same situation. Where pyNN.nest raises the
same pyNN.errors class, test_nest_raises_the_same_error runs the case there too. Elsewhere (checked by hand,
-> what pyNN.cupy does instead):

- sampling_interval 0.05 / 0 / -1 / nan / inf / "abc": NESTErrors.BadProperty or TypeMismatch
  -> InvalidParameterValueError.
- two sampling intervals for one population: PyNN's ValueError, both backends -> InvalidParameterValueError
  (a ValueError).
- record(["gsyn_inh", "foo"]): RecordingError, but gsyn_inh is recorded all the same (PyNN's Recorder.record
  records variable by variable) -> nothing recorded.
- boolean mask of the wrong length: a bare Exception from PyNN's PopulationView; an empty view (p[2:2]): numpy's
  ValueError from np.min -> IndexError or InvalidDimensionsError.
- parameter array of the wrong length at creation: lazyarray's ValueError -> InvalidDimensionsError naming
  the parameter. set() with the wrong shape: InvalidDimensionsError "Array has shape (2,), value has shape
  (3,)" naming neither parameter nor population -> naming both. PopulationView.initialize: AttributeError
  (pyNN.nest's views have no initialize). A weight array of the wrong length without receptor_type: IndexError
  from Projection._guess_receptor_type. initialize(v="abc"): InvalidParameterValueError (pyNN.nest) ->
  the same (pyNN.cupy gave TypeError).
- Projection onto a view of a spike source / with sim.connect: IndexError; onto a PointNeuron receptor it lacks:
  NoModelAvailableError -> ConnectionError. OneToOneConnector between populations of different sizes:
  accepted (connects the first min(n) cells) -> InvalidDimensionsError.
- FromListConnector with a postsynaptic index out of range: ValueError (numpy broadcast); PyNN's generic code
  drops such rows silently (it keeps only local targets) -> ConnectionError, as for presynaptic indices.
- FixedProbabilityConnector(p_connect > 1): accepted (all-to-all); p_connect < 0 and FixedNumberPre(n < 0):
  AssertionError from PyNN's constructors (gone under python -O); FixedTotalNumberConnector(n > all pairs,
  with_replacement=False): accepted, PyNN ignores with_replacement and connects pairs twice
  -> InvalidParameterValueError or ConnectionError.
- Projection.get("foo"): KeyError -> NonExistentParameterError (a KeyError); get(format="foo"): a bare
  Exception -> InvalidParameterValueError.
- STDPMechanism(delay=0): PyNN's constructor takes `delay or min_delay`, so 0 silently becomes min_delay on
  both backends -> ConnectionError naming delay 0, as StaticSynapse(delay=0).
- set(delay=array partly out of range), set(weight=..., delay=bad), set of a heterogeneous array partly bad,
  DCSource.set_parameters(amplitude=..., stop=bad): NEST applies the valid part before raising -> nothing applied.
- initialize(gsyn_exc=nan): accepted -> InvalidParameterValueError. StepCurrentSource with more times than
  amplitudes: IndexError -> InvalidParameterValueError. Negative Poisson rate: BadProperty.
- DCSource.set_parameters(foo=1), Projection.set(tau_plus=1): NonExistentParameterError "valid parameters for
  unknown are: ..." (PyNN builds the ParameterSpace without its component) -> naming the model.
- use before setup(): pyNN.nest fails in get_data / reset (its state has no segment_counter) -> pyNN.cupy
  runs with setup()'s defaults, the same as an explicit setup().
"""
import functools
import importlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from pyNN import errors

SETUP = dict(timestep=0.1, min_delay=0.1, max_delay=10.0)
EXTRA = {"cupy": dict(device="cpu", precision="float64", rng_seed=3), "nest": dict(verbosity="error")}


def _sim(backend="cupy"):
    return importlib.import_module("pyNN." + backend)


def _network(sim):
    sim.setup(**SETUP, **EXTRA[sim.__name__.split(".")[-1]])
    o = dict(sim=sim)
    o["src"] = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 4.0], [2.0], [3.0, 6.5]]), label="src")
    o["noise"] = sim.Population(2, sim.SpikeSourcePoisson(rate=500.0), label="noise")
    o["cells"] = sim.Population(4, sim.IF_curr_exp(), label="cells")
    o["cond"] = sim.Population(3, sim.IF_cond_exp(), label="cond")
    o["quiet"] = sim.Population(2, sim.IF_curr_exp(i_offset=1.0), label="quiet")   # records nothing
    o["prj"] = sim.Projection(o["src"], o["cells"], sim.AllToAllConnector(),
                              sim.StaticSynapse(weight=0.5, delay=1.0), label="prj")
    o["vprj"] = sim.Projection(o["src"][0:2], o["cells"][1:3], sim.AllToAllConnector(),
                               sim.StaticSynapse(weight=0.3, delay=2.0), label="vprj")
    sim.Projection(o["noise"], o["cond"], sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    sim.Projection(o["src"], o["cond"], sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02, delay=0.5))
    o["dc"] = sim.DCSource(amplitude=0.5, start=2.0, stop=8.0)
    o["dc"].inject_into(o["cells"])
    o["cells"].record(["v", "spikes"])
    o["cond"].record(["v", "gsyn_exc", "spikes"])
    o["noise"].record("spikes")
    return o


def _result(o) -> dict:
    """Run 10 ms; everything the network recorded and holds."""
    sim = o["sim"]
    sim.run(10.0)
    out = {}
    for name in ("cells", "cond", "noise", "quiet"):
        segment = o[name].get_data().segments[-1]
        out[name + ".signals"] = sorted(s.name for s in segment.analogsignals)
        out[name + ".spikes"] = [np.asarray(t.magnitude).tolist() for t in segment.spiketrains]
        for signal in segment.analogsignals:
            out[name + "." + signal.name] = np.asarray(signal.magnitude).tolist()
    for name in ("prj", "vprj"):
        out[name] = sorted(map(tuple, np.asarray(o[name].get(["weight", "delay"], format="list")).tolist()))
    for name in ("tau_m", "cm", "i_offset"):
        out["cells." + name] = np.asarray(o["cells"].get(name, simplify=False)).tolist()
    out["dc"] = [float(getattr(o["dc"], name).base_value) for name in ("amplitude", "start", "stop")]
    return out


@functools.lru_cache(maxsize=None)
def _reference_json():
    return json.dumps(_result(_network(_sim())))


def _stdp(sim, **kwargs):
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(),
                             weight_dependence=sim.AdditiveWeightDependence(w_max=1.0), **kwargs)


def _connect(o, connector, **synapse):
    sim = o["sim"]
    return sim.Projection(o["src"], o["cells"], connector(sim),
                          sim.StaticSynapse(**dict(dict(weight=0.5, delay=1.0), **synapse)))


def _row(values, index, value):
    values = np.array(values, dtype=float)
    values[index] = value
    return values


IE, CE, DE, RE = (errors.InvalidParameterValueError, errors.ConnectionError, errors.InvalidDimensionsError,
                  errors.RecordingError)

# name: (the bad call on the objects of _network, the error(s) expected, words the message must contain,
#        whether pyNN.nest raises the same pyNN.errors class)
CASES = {
    # recording
    "record v of a Poisson source": (lambda o: o["noise"].record("v"), RE, ["'v'", "SpikeSourcePoisson"], True),
    "record gsyn of a current-based cell": (lambda o: o["cells"].record("gsyn_exc"), RE,
                                            ["gsyn_exc", "IF_curr_exp"], True),
    "record a list with one bad variable": (lambda o: o["cond"].record(["gsyn_inh", "foo"]), RE, ["foo"], True),
    "record on a view, bad variable": (lambda o: o["cells"][1:3].record("foo"), RE, ["foo"], True),
    "sampling_interval off the grid": (lambda o: o["quiet"].record("v", sampling_interval=0.15), IE,
                                       ["sampling_interval", "0.15"], False),
    "sampling_interval nan": (lambda o: o["quiet"].record("v", sampling_interval=float("nan")), IE,
                              ["sampling_interval", "nan"], False),
    "sampling_interval inf": (lambda o: o["quiet"].record("v", sampling_interval=float("inf")), IE,
                              ["sampling_interval", "inf"], False),
    "sampling_interval a string": (lambda o: o["quiet"].record("v", sampling_interval="abc"), IE,
                                   ["sampling_interval", "abc"], False),
    "two sampling intervals for one population": (lambda o: o["cond"].record("v", sampling_interval=1.0), IE,
                                                  ["sampling interval"], False),
    # views
    "view index out of range": (lambda o: o["cells"][7], IndexError, ["7"], True),
    "view negative index out of range": (lambda o: o["cells"][-5], IndexError, ["-5"], True),
    "view index list out of range": (lambda o: o["cells"][[0, 7]], IndexError, ["7"], True),
    "PopulationView index out of range": (lambda o: o["sim"].PopulationView(o["cells"], [9]), IndexError, ["9"],
                                          True),
    "boolean mask too short": (lambda o: o["cells"][np.array([True, False])], (IndexError, DE), ["2", "4"], False),
    "boolean mask too long": (lambda o: o["cells"][np.ones(5, bool)], (IndexError, DE), ["5", "4"], False),
    "empty view": (lambda o: o["cells"][2:2].set(tau_m=30.0), (IndexError, DE), ["cells"], False),
    # dimensions
    "array of the wrong length at creation": (
        lambda o: o["sim"].Population(3, o["sim"].IF_curr_exp(tau_m=np.array([10.0, 20.0]))), DE,
        ["tau_m", "(2,)", "3"], False),
    "spike_times for the wrong number of cells": (
        lambda o: o["sim"].Population(3, o["sim"].SpikeSourceArray(
            spike_times=[o["sim"].Sequence([1.0]), o["sim"].Sequence([2.0])])), DE, ["spike_times", "(2,)", "3"],
        False),
    "set on a view, wrong length": (lambda o: o["cells"][0:2].set(tau_m=np.array([11.0, 12.0, 13.0])), DE,
                                    ["tau_m", "cells", "(3,)"], True),
    "set a 2-d array": (lambda o: o["cells"].set(i_offset=np.ones((4, 2))), DE, ["i_offset", "cells", "(4, 2)"],
                        True),
    "initialize a view, wrong length": (lambda o: o["cells"][0:2].initialize(v=np.array([-60.0, -61.0, -62.0])),
                                        DE, ["v=", "cells", "(3,)"], False),
    "initialize with a string": (lambda o: o["cells"].initialize(v="abc"), IE, ["abc"], True),
    "projection set, wrong shape": (lambda o: o["prj"].set(weight=np.ones((2, 2))), DE,
                                    ["weight", "prj", "(2, 2)"], True),
    "weight array of the wrong length, receptor guessed": (
        lambda o: _connect(o, lambda s: s.AllToAllConnector(), weight=np.array([0.1, 0.2])), DE, ["(2,)"], False),
    # connections
    "onto a view of a spike source": (
        lambda o: o["sim"].Projection(o["cells"], o["src"][0:2], o["sim"].AllToAllConnector(),
                                      o["sim"].StaticSynapse(weight=0.5, delay=1.0)), CE, ["src", "spike source"],
        False),
    "onto an assembly with a spike source": (
        lambda o: o["sim"].Projection(o["cells"], o["src"] + o["cells"], o["sim"].AllToAllConnector(),
                                      o["sim"].StaticSynapse(weight=0.5, delay=1.0)), CE, [], True),
    "connect() onto a spike source": (lambda o: o["sim"].connect(o["cells"], o["src"], weight=0.5, delay=1.0), CE,
                                      ["src"], False),
    "receptor a PointNeuron lacks": (
        lambda o: o["sim"].Projection(o["src"], o["sim"].Population(2, o["sim"].PointNeuron(
            o["sim"].LIF(), AMPA=o["sim"].CondExpPostSynapticResponse()), label="pn"), o["sim"].AllToAllConnector(),
            o["sim"].StaticSynapse(weight=0.5, delay=1.0), receptor_type="GABA"), CE, ["GABA", "AMPA"], False),
    "OneToOne between different sizes": (lambda o: _connect(o, lambda s: s.OneToOneConnector()), (CE, DE),
                                         ["3", "4"], False),
    "FromList postsynaptic index too large": (
        lambda o: _connect(o, lambda s: s.FromListConnector([(0, 1, 0.5, 1.0), (0, 9, 0.5, 1.0)])), CE, ["9"],
        False),
    "FromList postsynaptic index negative": (
        lambda o: _connect(o, lambda s: s.FromListConnector([(0, 1, 0.5, 1.0), (0, -1, 0.5, 1.0)])), CE, ["-1"],
        False),
    "FixedProbability p_connect > 1": (lambda o: _connect(o, lambda s: s.FixedProbabilityConnector(1.5)),
                                       (IE, CE), ["1.5"], False),
    "FixedProbability p_connect < 0": (lambda o: _connect(o, lambda s: s.FixedProbabilityConnector(-0.1)),
                                       (IE, CE), ["-0.1"], False),
    "FixedNumberPre n < 0": (lambda o: _connect(o, lambda s: s.FixedNumberPreConnector(-1)), (IE, CE), ["-1"], False),
    "FixedTotalNumber more than all pairs without replacement": (
        lambda o: _connect(o, lambda s: s.FixedTotalNumberConnector(20, with_replacement=False)), (IE, CE),
        ["20", "12"], False),
    "presynaptic side not a population": (
        lambda o: o["sim"].Projection([1, 2], o["cells"], o["sim"].AllToAllConnector()), CE, ["list"], True),
    "projection get of an unknown attribute": (lambda o: o["prj"].get("foo", format="list"),
                                               errors.NonExistentParameterError, ["foo"], False),
    "projection get in an unknown format": (lambda o: o["prj"].get("weight", format="foo"), IE, ["foo"], False),
    # delays
    "STDP delay 0": (lambda o: o["sim"].Projection(
        o["src"], o["cells"], o["sim"].AllToAllConnector(), _stdp(o["sim"], weight=0.5, delay=0.0)), CE,
        ["delay", "0"], False),
    "STDP delay beyond max_delay": (lambda o: o["sim"].Projection(
        o["src"], o["cells"], o["sim"].AllToAllConnector(), _stdp(o["sim"], weight=0.5, delay=12.0)), CE,
        ["delay", "12"], False),
    "set delays, one out of range": (lambda o: o["prj"].set(delay=_row(np.ones((3, 4)), (2, 3), 20.0)), CE,
                                     ["delay", "20"], False),
    "set weight and a bad delay": (lambda o: o["prj"].set(weight=0.9, delay=-1.0), CE, ["delay", "-1"], False),
    "set a view projection's delay below a step": (lambda o: o["vprj"].set(delay=0.04), CE, ["delay", "0.04"],
                                                   False),
    "random delays partly negative": (
        lambda o: _connect(o, lambda s: s.AllToAllConnector(), delay=o["sim"].RandomDistribution(
            "uniform", (-2.0, 2.0), rng=o["sim"].NumpyRNG(1))), CE, ["delay"], True),
    "NaN delay": (lambda o: _connect(o, lambda s: s.AllToAllConnector(), delay=float("nan")), CE,
                  ["delay", "nan"], False),
    # parameters
    "set two parameters, the second bad": (lambda o: o["cells"].set(tau_m=30.0, cm=-1.0), IE, ["cm", "-1"], False),
    "set a heterogeneous array, one value bad": (
        lambda o: o["cells"].set(tau_m=np.array([30.0, -1.0, 30.0, 30.0])), IE, ["tau_m", "-1"], False),
    "set on a view, bad value": (lambda o: o["cells"][1:3].set(tau_refrac=-1.0), IE, ["tau_refrac", "-1"], False),
    "set through a cell ID": (lambda o: setattr(o["cells"][0], "tau_m", -3.0), IE, ["tau_m", "-3"], False),
    "DC source: amplitude and a bad stop": (lambda o: o["dc"].set_parameters(amplitude=2.0, stop=1.0), IE,
                                            ["stop", "1"], False),
    "DC source: unknown parameter": (lambda o: o["dc"].set_parameters(foo=1.0), errors.NonExistentParameterError,
                                     ["foo", "DCSource"], True),
    "projection set of an unknown parameter": (lambda o: o["prj"].set(tau_plus=1.0),
                                               errors.NonExistentParameterError, ["tau_plus", "StaticSynapse"],
                                               True),
    "initialize two variables, the second NaN": (lambda o: o["cond"].initialize(v=-60.0, gsyn_exc=float("nan")),
                                                 IE, ["gsyn_exc", "nan"], False),
    "initialize a parameter": (lambda o: o["cells"].initialize(tau_m=3.0), errors.NonExistentParameterError,
                               ["tau_m"], False),
    "step source, times and amplitudes of different lengths": (
        lambda o: o["sim"].StepCurrentSource(times=[1.0, 2.0], amplitudes=[0.5]).inject_into(o["cells"]), IE,
        ["2 times", "1 amplitudes"], False),
    "negative rate on a view": (lambda o: o["noise"][0:1].set(rate=-1.0), IE, ["rate", "-1"], False),
    "a string for a number": (lambda o: o["cells"].set(tau_m="abc"), IE, ["tau_m"], True),
    "a source parameter on a cell": (lambda o: o["cells"].set(spike_times=[1.0]), errors.NonExistentParameterError,
                                     ["spike_times", "IF_curr_exp"], True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_call_raises_names_and_changes_nothing(name):
    call, error, words, _ = CASES[name]
    objects = _network(_sim())
    with pytest.raises(error) as info:
        call(objects)
    message = str(info.value)
    if isinstance(info.value, KeyError) and info.value.args:
        message = str(info.value.args[0])
    for word in words:
        assert word.lower() in message.lower(), "%r not in the message %r" % (word, message)
    assert json.dumps(_result(objects)) == _reference_json(), "the network changed after the refused call"


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[3]])
def test_nest_raises_the_same_error(name):
    """The cases where pyNN.nest raises the same error class: checks the expectations above against it."""
    call, error, _, _ = CASES[name]
    objects = _network(_sim("nest"))
    with pytest.raises(error):
        call(objects)


def test_a_large_sampling_interval_is_refused_or_works():
    """A sampling interval beyond any run (1e9 ms, 1e10 steps): refused by record(), or one sample at t = 0."""
    sim = _sim()
    sim.setup(**SETUP, **EXTRA["cupy"])
    cells = sim.Population(2, sim.IF_curr_exp(i_offset=1.0), label="cells")
    try:
        cells.record("v", sampling_interval=1e9)
    except errors.InvalidParameterValueError as exc:
        assert "sampling_interval" in str(exc)
        cells.record("v", sampling_interval=1.0)   # and nothing stays half-set
        sim.run(5.0)
        assert cells.get_data().segments[0].analogsignals[0].shape == (6, 2)
        return
    sim.run(5.0)
    signal = cells.get_data().segments[0].filter(name="v")[0]
    assert signal.shape == (1, 2)


def test_use_before_setup_runs_with_the_defaults():
    """No setup(): either a pyNN.errors type, or the same results as an explicit setup() with its defaults."""
    script = textwrap.dedent("""
        import json, numpy as np
        import pyNN.cupy as sim
        from pyNN import errors

        def run():
            cells = sim.Population(2, sim.IF_curr_exp(i_offset=np.array([0.9, 1.2])), label="cells")
            src = sim.Population(1, sim.SpikeSourcePoisson(rate=300.0), label="src")
            sim.Projection(src, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
            cells.record(["v", "spikes"])
            sim.run(30.0)
            sim.reset()
            sim.run(5.0)
            block = cells.get_data()
            return dict(t=sim.get_current_time(), dt=sim.get_time_step(), segments=len(block.segments),
                        v=np.asarray(block.segments[0].filter(name="v")[0].magnitude).tolist(),
                        spikes=[np.asarray(t.magnitude).tolist() for t in block.segments[0].spiketrains])

        try:
            without = run()
        except Exception as exc:   # what was raised, and whether it is a pyNN.errors type
            without = dict(error=type(exc).__name__,
                           pynn=any(c.__module__ == "pyNN.errors" for c in type(exc).__mro__))
        sim.setup()
        print(json.dumps(dict(without=without, explicit=run())))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(__import__("os").environ, PYNN_CUPY_DEVICE="cpu"))
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in result["without"]:
        assert result["without"]["pynn"], "use before setup() raised %s" % result["without"]["error"]
    else:
        assert result["without"] == result["explicit"]
        assert result["explicit"]["segments"] == 2 and sum(map(len, result["explicit"]["spikes"])) > 0
