"""Every error a user can cause is a pyNN.errors type (pyNN.cupy's own errors subclass them, and the
built-in type that fits), with a message naming the object and the value."""
import numpy as np
import pytest

import pyNN.cupy as sim
from pyNN import errors as pynn_errors
from pynn_cupy import exceptions


@pytest.mark.parametrize("error, pynn_type, builtin", [
    (exceptions.DeviceMemoryError, pynn_errors.InvalidDimensionsError, MemoryError),
    (exceptions.SpikeBufferOverflowError, pynn_errors.InvalidParameterValueError, RuntimeError),
    (exceptions.InjectionError, pynn_errors.ConnectionError, TypeError),
    (exceptions.BackendUnavailableError, pynn_errors.NoModelAvailableError, Exception),
    (exceptions.KernelCompilationError, pynn_errors.NoModelAvailableError, Exception),
])
def test_errors_subclass_pynn_types(error, pynn_type, builtin):
    assert issubclass(error, pynn_type) and issubclass(error, builtin)


def test_injecting_into_a_spike_source():
    sim.setup(timestep=0.1, device="cpu")
    sources = sim.Population(2, sim.SpikeSourcePoisson(rate=10.0))
    with pytest.raises(exceptions.InjectionError, match="spike source"):
        sim.DCSource(amplitude=1.0).inject_into(sources)


@pytest.mark.parametrize("kwargs, match", [
    (dict(timestep=0.0), "timestep"), (dict(timestep=-0.1), "timestep"), (dict(timestep=0.0005), "timestep"),
    (dict(timestep=0.1, min_delay=0.05), "min_delay"), (dict(timestep=0.1, min_delay=2.0, max_delay=1.0), "min_delay"),
    (dict(timestep=0.1, device="tpu"), "device"), (dict(timestep=0.1, precision="float16"), "precision"),
    (dict(timestep=0.1, threads=0), "threads"),
])
def test_bad_setup_arguments(kwargs, match):
    with pytest.raises(pynn_errors.InvalidParameterValueError, match=match):
        sim.setup(**dict({"device": "cpu"}, **kwargs))


def test_from_list_errors_name_the_column_and_the_index():
    sim.setup(timestep=0.1, device="cpu")
    a, b = sim.Population(3, sim.IF_curr_exp()), sim.Population(3, sim.IF_curr_exp())
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="'tau_rec'"):
        sim.Projection(a, b, sim.FromListConnector([(0, 1, 0.5)], column_names=["tau_rec"]))
    with pytest.raises(pynn_errors.ConnectionError, match="index 7"):
        sim.Projection(a, b, sim.FromListConnector([(7, 1)]))


def test_poisson_rate_beyond_what_a_step_can_hold():
    sim.setup(timestep=1.0, min_delay=1.0, device="cpu")
    with pytest.raises(pynn_errors.InvalidParameterValueError, match="1e\\+06 Hz"):
        sim.Population(2, sim.SpikeSourcePoisson(rate=np.array([10.0, 1e6])))
