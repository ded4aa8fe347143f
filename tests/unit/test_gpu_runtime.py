"""The GPU runtime's host-side logic, run against a stand-in for CuPy (no GPU here): the module is compiled
from every kernel file with the runtime's options, a chunk of steps replays captured CUDA graphs (one per
length, cached per plan), a failed capture warns once and falls back to plain launches, and grids are capped
at a multiple of the SM count."""
import types
import warnings

import numpy as np
import pytest

from pynn_cupy import exceptions as errors
from pynn_cupy.runtime import BLOCKS_PER_SM, THREADS_PER_BLOCK, grid_for, gpu, sources

SM_COUNT = 4   # the stand-in device's multiProcessorCount
STEPS = gpu.STEPS_PER_GRAPH


class FakeGraph:
    def __init__(self, calls):
        self.calls, self.launches = calls, 0

    def launch(self, stream=None):
        self.launches += 1


class FakeStream:
    """Capture records kernel calls (it runs nothing). `fail` makes capture fail: 'begin' at begin_capture,
    'kernel' at the first kernel launched during capture (end_capture then raises, as CUDA's does)."""

    def __init__(self):
        self.fail = None
        self.capturing = False
        self.log = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def begin_capture(self):
        if self.fail == "begin":
            raise RuntimeError("capture not supported")
        self.capturing, self.invalidated = True, False
        self.log = []

    def end_capture(self):
        self.capturing = False
        if self.invalidated:
            raise RuntimeError("cudaErrorStreamCaptureInvalidated")
        return FakeGraph(self.log)

    def synchronize(self):
        pass


class FakeFunction:
    def __init__(self, name, stream):
        self.name, self.stream, self.direct_calls = name, stream, 0

    def __call__(self, grid, block, args):
        if not self.stream.capturing:
            self.direct_calls += 1
        elif self.stream.fail == "kernel":
            self.stream.invalidated = True
            raise RuntimeError("operation not permitted when stream is capturing")
        else:
            self.stream.log.append(self.name)


def fake_cupy():
    stream = FakeStream()
    compiled = {}

    class RawModule:
        def __init__(self, code, options):
            compiled.update(code=code, options=options)

        def compile(self):
            pass

        def get_function(self, name):
            return FakeFunction(name, stream)

    runtime = types.SimpleNamespace(getDevice=lambda: 0,
                                    getDeviceProperties=lambda device: {"multiProcessorCount": SM_COUNT})
    cuda = types.SimpleNamespace(Stream=lambda non_blocking=False: stream, runtime=runtime,
                                 compiler=types.SimpleNamespace(CompileException=RuntimeError))
    return types.SimpleNamespace(RawModule=RawModule, cuda=cuda, asnumpy=np.asarray), compiled, stream


@pytest.fixture
def backend(monkeypatch):
    cupy, compiled, stream = fake_cupy()
    monkeypatch.setattr(gpu, "import_cupy", lambda: cupy)
    return gpu.GpuBackend("float32"), compiled, stream


def _plan(gpu_backend):
    kernel = gpu_backend.kernel("step_end")
    return gpu_backend.plan([(kernel, 1, 1, (np.zeros(1, np.int64),))]), kernel.function


def _steps_run(plan, function):
    """Steps executed: graph replays times their length, plus direct launches (capture runs nothing)."""
    return sum(graph.launches * len(graph.calls) for graph in plan.graphs.values()) + function.direct_calls


def _run(plan, *chunks):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n_steps in chunks:
            plan.run(n_steps)
    return [w for w in caught if issubclass(w.category, errors.SimulationWarning)]


def test_module_holds_every_kernel_file_with_runtime_options(backend):
    _, compiled, _ = backend
    for path in sources.kernel_files():
        assert '#include "%s"' % path.name in compiled["code"]
    assert compiled["options"] == gpu.nvrtc_options("float32")
    assert "-DREAL=float" in compiled["options"]


def test_steps_replay_one_cached_graph_per_chunk_length(backend):
    plan, function = _plan(backend[0])
    assert _run(plan, 2 * STEPS + 7, 7, STEPS + 7, 3) == []
    assert sorted(plan.graphs) == [3, 7, STEPS]
    assert {n: len(g.calls) for n, g in plan.graphs.items()} == {3: 3, 7: 7, STEPS: STEPS}
    assert {n: g.launches for n, g in plan.graphs.items()} == {3: 1, 7: 3, STEPS: 3}
    assert function.direct_calls == 0
    assert _steps_run(plan, function) == 3 * STEPS + 24


@pytest.mark.parametrize("fail", ["begin", "kernel"])
def test_failed_capture_warns_once_and_runs_every_step_once(backend, fail):
    gpu_backend, _, stream = backend
    stream.fail = fail
    plan, function = _plan(gpu_backend)
    caught = _run(plan, 3 * STEPS + 7, 7, STEPS)
    assert len(caught) == 1
    assert "RuntimeError" in str(caught[0].message)
    assert not stream.capturing                  # the stream left capture mode
    assert plan.graphs == {} and function.direct_calls == 4 * STEPS + 14


def test_a_new_plan_retries_capture(backend):
    gpu_backend, _, stream = backend
    stream.fail = "kernel"
    failed, function = _plan(gpu_backend)
    assert len(_run(failed, STEPS)) == 1 and function.direct_calls == STEPS
    stream.fail = None
    plan, _ = _plan(gpu_backend)
    assert _run(plan, STEPS + 1) == []
    assert sorted(plan.graphs) == [1, STEPS] and _steps_run(plan, function) == 2 * STEPS + 1


def test_grid_for_covers_n_up_to_a_cap():
    assert grid_for(0, 256, 10) == 1
    assert grid_for(256, 256, 10) == 1 and grid_for(257, 256, 10) == 2
    assert grid_for(10 ** 9, 256, 10) == 10


def test_gpu_launch_config_is_capped_at_a_multiple_of_the_sm_count(backend):
    gpu_backend = backend[0]
    assert gpu_backend.max_blocks == BLOCKS_PER_SM * SM_COUNT
    assert gpu_backend.launch_config(1) == (1, THREADS_PER_BLOCK)
    assert gpu_backend.launch_config(1000) == (4, THREADS_PER_BLOCK)
    assert gpu_backend.launch_config(10 ** 9) == (BLOCKS_PER_SM * SM_COUNT, THREADS_PER_BLOCK)
