"""Runtime behaviour that users see: device selection, errors that say what to install, out-of-memory
messages, the `python -m pynn_cupy` report, and the PyNN entry points."""
import subprocess
import sys

import numpy as np
import pytest

import pyNN.cupy as sim
from pynn_cupy import exceptions as errors
from pynn_cupy.runtime import twin


def test_missing_compiler_says_what_to_install(monkeypatch):
    monkeypatch.setenv("CXX", "no-such-compiler-xyz")
    with pytest.raises(errors.BackendUnavailableError, match="C\\+\\+17 compiler.*no-such-compiler-xyz"):
        twin.compiler()


def test_gpu_request_without_gpu_is_a_clear_error():
    from pynn_cupy.runtime.gpu import gpu_available
    if gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises(errors.BackendUnavailableError, match="device='cpu'"):
        sim.setup(device="gpu")


def test_failed_setup_keeps_the_previous_state():
    sim.setup(timestep=0.1, device="cpu")
    pop = sim.Population(3, sim.IF_curr_exp())
    with pytest.raises(Exception):
        sim.setup(timestep=0.1, device="tpu")
    assert sim.simulator.state.groups == [pop._group]


def test_out_of_memory_says_how_much_was_needed():
    sim.setup(device="cpu")
    with pytest.raises(errors.DeviceMemoryError, match=r"8388608\.0 MiB"):
        sim.simulator.state.zeros((1 << 40,), np.float64)


def test_python_m_pynn_cupy_reports_device_and_compiler():
    result = subprocess.run([sys.executable, "-m", "pynn_cupy"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "default device:" in result.stdout and "CPU-twin kernel cache" in result.stdout


def test_pynn_finds_the_backend_by_name(monkeypatch):
    import pynn_cupy
    from pyNN.utility import get_simulator
    monkeypatch.setattr(sys, "argv", ["script.py", "cupy"])
    module, _ = get_simulator()
    assert module.setup is pynn_cupy.setup and module.Population is pynn_cupy.Population
    assert set(module.list_standard_models()) >= {"IF_curr_exp", "IF_cond_alpha", "SpikeSourcePoisson"}


def test_float64_and_float32_give_the_same_spikes_for_a_simple_neuron():
    trains = []
    for precision in ("float64", "float32"):
        sim.setup(timestep=0.1, device="cpu", precision=precision)
        pop = sim.Population(1, sim.IF_curr_exp(i_offset=1.0))
        pop.record("spikes")
        sim.run(200.0)
        trains.append(np.asarray(pop.get_data().segments[0].spiketrains[0]))
    assert len(trains[0]) > 5
    np.testing.assert_allclose(trains[0], trains[1])
