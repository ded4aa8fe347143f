"""The GPU runtime's host-side logic, run against a stand-in for CuPy (no GPU here): the module is compiled
from every kernel file with the runtime's options, a chunk of steps replays a captured CUDA graph and
launches the remainder directly, and a failed capture falls back to plain launches."""
import types

import numpy as np
import pytest

from pynn_cupy.runtime import gpu, sources


class FakeGraph:
    def __init__(self, calls):
        self.calls, self.launches = calls, 0

    def launch(self, stream=None):
        self.launches += 1


class FakeStream:
    def __init__(self, capture_fails=False):
        self.capture_fails = capture_fails
        self.capturing = False
        self.log = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def begin_capture(self):
        if self.capture_fails:
            raise RuntimeError("capture not supported")
        self.capturing = True
        self.log.clear()

    def end_capture(self):
        self.capturing = False
        return FakeGraph(list(self.log))

    def synchronize(self):
        pass


class FakeFunction:
    def __init__(self, name, stream_of):
        self.name, self.stream_of, self.direct_calls = name, stream_of, 0

    def __call__(self, grid, block, args):
        stream = self.stream_of()
        if stream.capturing:
            stream.log.append(self.name)
        else:
            self.direct_calls += 1


def fake_cupy(capture_fails=False):
    stream = FakeStream(capture_fails)
    compiled = {}

    class RawModule:
        def __init__(self, code, options):
            compiled.update(code=code, options=options)

        def compile(self):
            pass

        def get_function(self, name):
            return FakeFunction(name, lambda: stream)

    cuda = types.SimpleNamespace(Stream=lambda non_blocking=False: stream,
                                 compiler=types.SimpleNamespace(CompileException=RuntimeError))
    return types.SimpleNamespace(RawModule=RawModule, cuda=cuda, asnumpy=np.asarray), compiled, stream


@pytest.fixture
def backend(monkeypatch):
    cupy, compiled, stream = fake_cupy()
    monkeypatch.setattr(gpu, "import_cupy", lambda: cupy)
    return gpu.GpuBackend("float32"), compiled, stream


def test_module_holds_every_kernel_file_with_runtime_options(backend):
    _, compiled, _ = backend
    for path in sources.kernel_files():
        assert '#include "%s"' % path.name in compiled["code"]
    assert compiled["options"] == gpu.nvrtc_options("float32")
    assert "-DREAL=float" in compiled["options"]


def test_steps_replay_a_captured_graph_then_launch_the_rest(backend):
    gpu_backend, _, _ = backend
    kernel = gpu_backend.kernel("step_end")
    plan = gpu_backend.plan([(kernel, 1, 1, (np.zeros(1, np.int64),))])
    plan.run(2 * gpu.STEPS_PER_GRAPH + 7)
    assert plan._graph is not None and plan._graph.launches == 2
    assert len(plan._graph.calls) == gpu.STEPS_PER_GRAPH     # one capture of STEPS_PER_GRAPH steps
    assert kernel.function.direct_calls == 7


def test_failed_capture_falls_back_to_plain_launches(monkeypatch):
    cupy, _, _ = fake_cupy(capture_fails=True)
    monkeypatch.setattr(gpu, "import_cupy", lambda: cupy)
    gpu_backend = gpu.GpuBackend("float64")
    kernel = gpu_backend.kernel("step_end")
    plan = gpu_backend.plan([(kernel, 1, 1, (np.zeros(1, np.int64),))])
    plan.run(gpu.STEPS_PER_GRAPH * 3)
    assert plan._graph is None and kernel.function.direct_calls == gpu.STEPS_PER_GRAPH * 3


def test_gpu_launch_config_covers_n_with_a_capped_grid():
    assert gpu.GpuBackend.launch_config(1) == (1, gpu.THREADS_PER_BLOCK)
    assert gpu.GpuBackend.launch_config(1000) == (4, gpu.THREADS_PER_BLOCK)
    assert gpu.GpuBackend.launch_config(10 ** 9)[0] == gpu.MAX_BLOCKS
