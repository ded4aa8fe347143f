"""The kernel sources: each file compiles on its own for both targets, NVRTC compiles the whole set with the
runtime's GPU options, the CPU twin is independent of the launch grid, and Philox matches its known answers."""
import os
import subprocess

import numpy as np
import pytest

from pynn_cupy.runtime import get_backend, gpu, sources, twin


@pytest.mark.parametrize("path", sources.kernel_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_file_compiles_alone_as_cxx(path, precision):
    flags = ["-std=c++17", "-fsyntax-only", "-Wall", "-Werror", "-Wno-unused-function",
             "-DREAL=%s" % sources.real_type(precision), "-I%s" % sources.kernel_dir(), "-x", "c++"]
    result = subprocess.run([twin.compiler(), *flags, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def nvrtc():
    """CuPy's NVRTC binding (needs no GPU). Required in CI, where the test extra installs it."""
    try:
        from cupy.cuda import nvrtc
        nvrtc.getVersion()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip("NVRTC not available: %s" % exc)
    return nvrtc


@pytest.mark.parametrize("path", sources.kernel_files(), ids=lambda p: p.name)
def test_file_compiles_alone_with_nvrtc(path, nvrtc):
    program = nvrtc.createProgram(path.read_text(), path.name, [], [])
    nvrtc.compileProgram(program, list(gpu.nvrtc_options("float32")) + ["--gpu-architecture=sm_90"])


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_runtime_module_compiles_for_sm90(precision, nvrtc):
    assert gpu.nvrtc_check(precision, "sm_90") > 10000


def test_kernel_parameters_are_read_from_sources():
    assert sources.kernel_parameters("step_begin", "float32") == (("n_groups", "int32", False),
                                                                  ("spike_counts", "int32", True))
    names = [dtype for _, dtype, _ in sources.kernel_parameters("iaf_cond_exp_update", "float64")]
    assert names[:6] == ["int64", "int32", "int32", "float64", "float64", "float64"]
    with pytest.raises(TypeError):
        sources.check_arguments("step_begin", "float32", (np.int32(1), np.zeros(1, np.int64)))


@pytest.mark.parametrize("step,index,stream,seed,expected", [
    (0, 0, 0, 0, [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF,
     [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (0x85A308D3243F6A88, 0x13198A2E, 0x03707344, 0x299F31D0A4093822,
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
])
def test_philox_known_answers(step, index, stream, seed, expected):
    """Random123's known-answer vectors: counter (step lo, step hi, index, stream), key (seed lo, seed hi)."""
    backend = get_backend("cpu", "float32")
    out = np.zeros(4, dtype=np.uint32)
    backend.plan([(backend.kernel("philox_fill"), 1, 1,
                   (np.uint64(seed), np.uint32(stream), np.uint64(step), np.uint32(index), np.int32(1), out))]).run(1)
    assert out.tolist() == expected


def test_tiled_draws_are_the_draws_one_at_a_time():
    """The CPU twin draws per-neuron uniforms a tile at a time (vectorized); they equal philox_draw's."""
    backend = get_backend("cpu", "float32")
    clock = np.array([123456789, 3], dtype=np.int64)
    out = {tiled: np.zeros(1000) for tiled in (0, 1)}
    for tiled, values in out.items():
        backend.plan([(backend.kernel("philox_uniform_fill"), 1, 1, (
            np.uint64(0x299F31D0A4093822), np.uint32(7), clock, np.uint32(4000000000), np.int32(1000),
            np.int32(tiled), values))]).run(1)
    assert np.array_equal(out[0], out[1]) and 0.45 < out[0].mean() < 0.55


def _small_network_spikes(threads=1):
    import pyNN.cupy as sim
    sim.setup(timestep=0.1, device="cpu", precision="float64", rng_seed=7, threads=threads)
    noise = sim.Population(50, sim.SpikeSourcePoisson(rate=200.0))
    cells = sim.Population(40, sim.IF_cond_exp())
    sim.Projection(noise, cells, sim.FixedProbabilityConnector(0.3, rng=sim.NumpyRNG(1)),
                   sim.StaticSynapse(weight=0.004, delay=0.5))
    sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.2, rng=sim.NumpyRNG(2)),
                   sim.StaticSynapse(weight=0.02, delay=1.2), receptor_type="inhibitory")
    cells.record(["spikes", "v"])
    sim.run(200.0)
    segment = cells.get_data().segments[0]
    return [np.asarray(st) for st in segment.spiketrains], segment.filter(name="v")[0].magnitude


def test_twin_result_does_not_depend_on_launch_grid(monkeypatch):
    """The GPU's grid and a warp per spiking neuron's row, walked on the host: the same network (only the
    order of additions into the delay buffers changes)."""
    spikes_one_thread, v_one_thread = _small_network_spikes()
    monkeypatch.setenv("PYNN_CUPY_TWIN_GRID", "gpu")
    monkeypatch.setattr(twin.TwinBackend, "lanes_per_row", 32)
    spikes_gpu_grid, v_gpu_grid = _small_network_spikes()
    assert sum(len(s) for s in spikes_one_thread) > 20
    for a, b in zip(spikes_one_thread, spikes_gpu_grid):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(v_one_thread, v_gpu_grid, rtol=0, atol=1e-9)


def test_twin_on_two_host_threads_matches_one():
    """Several host threads change only the order of additions into the delay buffers."""
    spikes_one, v_one = _small_network_spikes(threads=1)
    spikes_two, v_two = _small_network_spikes(threads=2)
    count_one, count_two = sum(len(s) for s in spikes_one), sum(len(s) for s in spikes_two)
    assert count_one > 20 and abs(count_two - count_one) <= 0.02 * count_one
    np.testing.assert_allclose(v_two[:200], v_one[:200], atol=1e-6)


def test_kernels_made_by_a_macro_are_found_and_bound_by_name():
    text = ("#define PARAMS \\\n    const long long* clock, int n, REAL* v\n"
            "#define MAKE(R) KERNEL void step_##R##_update(PARAMS) { \\\n    body<R>(); \\\n}\n"
            "MAKE(4)\nMAKE(16)\nKERNEL void plain(int n)\n")
    assert sources._signatures(text) == {"plain": "int n", "step_4_update": "PARAMS", "step_16_update": "PARAMS"}
    names = sources.kernel_names()
    assert {"aeif_multisynapse_%d_update" % r for r in (4, 8, 16, 32)} <= set(names)
    assert [p.name for p in sources.kernel_parameters("aeif_multisynapse_8_update", "float32")][:4] == \
        ["clock", "n", "n_rows", "L"]
