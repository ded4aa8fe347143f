"""Bad values are refused where they are given, with a pyNN.errors type naming the object and the value,
and leave the network as it was: the same run afterwards gives the same result as without the bad call.
(Found by trying pyNN.cupy as a new user would; NEST refuses each of these too, except where noted.)"""
import functools

import numpy as np
import pytest

import pyNN.cupy as sim
from pyNN import errors


def _network():
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0, device="cpu", precision="float32", rng_seed=3)
    sources = sim.Population(3, sim.SpikeSourceArray(spike_times=[[1.0, 4.0], [2.0], [3.0, 3.0]]), label="in")
    noise = sim.Population(2, sim.SpikeSourcePoisson(rate=500.0), label="noise")
    cells = sim.Population(4, sim.IF_cond_exp(), label="cells")
    dc = sim.DCSource(amplitude=0.5, start=2.0, stop=8.0)
    dc.inject_into(cells)
    projection = sim.Projection(sources, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.02, delay=0.5),
                                label="in->cells")
    sim.Projection(noise, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    cells.record("v")
    return dict(sources=sources, noise=noise, cells=cells, dc=dc, projection=projection)


def _v(objects):
    sim.run(10.0)
    return objects["cells"].get_data().segments[0].filter(name="v")[0].magnitude


@functools.lru_cache(maxsize=None)
def _reference():
    return _v(_network())


BAD_CALLS = {
    "weight overflowing float32": (lambda o: o["projection"].set(weight=1e39), errors.InvalidWeightError, None),
    "NaN rate": (lambda o: o["noise"].set(rate=float("nan")), errors.InvalidParameterValueError, "'noise'"),
    "NaN parameter": (lambda o: o["cells"].set(tau_m=float("nan")), errors.InvalidParameterValueError, "tau_m"),
    "NaN spike time": (lambda o: o["sources"].set(spike_times=[np.array([np.nan, 1.0])] * 3),
                       errors.InvalidParameterValueError, "finite"),
    "negative spike time": (lambda o: o["sources"][0:1].set(spike_times=[-1.0, 1.0]),
                            errors.InvalidParameterValueError, "-1"),
    "spike at 0": (lambda o: o["sources"][0:1].set(spike_times=[0.0, 1.0]), errors.InvalidParameterValueError, "0 ms"),
    "DC stop before start": (lambda o: o["dc"].set_parameters(stop=1.0), errors.InvalidParameterValueError, "stop"),
    "DC amplitude NaN": (lambda o: o["dc"].set_parameters(amplitude=float("nan")),
                         errors.InvalidParameterValueError, "amplitude"),
    "DC start off the grid": (lambda o: o["dc"].set_parameters(start=2.05), errors.InvalidParameterValueError, "2.05"),
    "initialize NaN": (lambda o: o["cells"].initialize(v=float("nan")), errors.InvalidParameterValueError, "v="),
    "initialize unknown": (lambda o: o["cells"].initialize(foo=1.0), errors.NonExistentParameterError, "foo"),
    "initialize wrong length": (lambda o: o["cells"].initialize(v=[-60.0, -61.0]), errors.InvalidDimensionsError, "v="),
    "get unknown": (lambda o: o["cells"].get("foo"), errors.NonExistentParameterError, "foo"),
    "FromList pre -1": (lambda o: sim.Projection(o["sources"], o["cells"], sim.FromListConnector([(-1, 1, 0.1, 1.0)])),
                        errors.ConnectionError, "-1"),
    "FromList pre -3": (lambda o: sim.Projection(o["sources"], o["cells"], sim.FromListConnector([(-3, 1, 0.1, 1.0)])),
                        errors.ConnectionError, "-3"),
    "FromList fractional index": (lambda o: sim.Projection(o["sources"], o["cells"],
                                                           sim.FromListConnector([(0, 1.7, 0.1, 1.0)])),
                                  errors.ConnectionError, "1.7"),
    "onto a spike source": (lambda o: sim.Projection(o["cells"], o["sources"], sim.AllToAllConnector()),
                            errors.ConnectionError, "'in'"),
    "weight None": (lambda o: o["projection"].set(weight=None), errors.InvalidParameterValueError, "weight=None"),
    "complex weight": (lambda o: o["projection"].set(weight=1 + 1j), errors.InvalidParameterValueError, "weight="),
    "weight list too short": (lambda o: o["projection"].set(weight=[0.1, 0.2]), errors.InvalidDimensionsError,
                              "one value per connected"),
    "delay beyond max_delay": (lambda o: o["projection"].set(delay=10.06), errors.ConnectionError, "10.06"),
    "delay below a step": (lambda o: o["projection"].set(delay=0.04), errors.ConnectionError, "0.04"),
    "empty population": (lambda o: sim.Population(0, sim.IF_curr_exp()), errors.InvalidDimensionsError, "0"),
    "run NaN": (lambda o: sim.run(float("nan")), errors.InvalidParameterValueError, "nan"),
    "run inf": (lambda o: sim.run(float("inf")), errors.InvalidParameterValueError, "inf"),
    "run into the past": (lambda o: sim.run(-1.0), errors.InvalidParameterValueError, "past"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_bad_value_is_refused_and_changes_nothing(name):
    call, error, match = BAD_CALLS[name]
    objects = _network()
    with pytest.raises(error, match=None if match is None else match.replace("(", r"\(")):
        call(objects)
    np.testing.assert_array_equal(_v(objects), _reference())


def test_delay_rounding_to_max_delay_is_accepted():
    """As NEST: a delay is checked in steps, so 10.04 ms (100 steps at dt 0.1) is within max_delay 10."""
    objects = _network()
    objects["projection"].set(delay=10.04)
    assert set(objects["projection"].get("delay", format="array").ravel()) == {10.0}


def test_float32_denormal_weight_reads_back_as_zero():
    sim.setup(timestep=0.1, device="cpu")
    a, b = sim.Population(1, sim.IF_curr_exp()), sim.Population(1, sim.IF_curr_exp())
    projection = sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=1e-45))
    assert projection.get("weight", format="list")[0][2] == 0.0


def test_pynn_nest_names_are_exported():
    for name in ("Sequence", "ArrayParameter", "ParameterSpace", "set"):
        assert hasattr(sim, name), name


def test_current_source_into_a_single_cell():
    sim.setup(timestep=0.1, device="cpu")
    cells = sim.Population(3, sim.IF_curr_exp())
    cells.record("v")
    sim.DCSource(amplitude=1.0, start=1.0, stop=5.0).inject_into(cells[1])
    sim.run(3.0)
    v = cells.get_data().segments[0].filter(name="v")[0].magnitude[-1]
    assert v[1] > -65.0 and v[0] == v[2] == -65.0
