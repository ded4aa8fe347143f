"""GPU target: the kernel sources compiled by NVRTC through CuPy's RawModule (memoized per device and
precision, cached on disk by CuPy), and chunks of steps captured as CUDA graphs and replayed."""
from __future__ import annotations

import warnings
from typing import Sequence

from .. import exceptions as errors
from . import BLOCKS_PER_SM, THREADS_PER_BLOCK, grid_for, sources

STEPS_PER_GRAPH = 50


def nvrtc_options(precision: str) -> tuple[str, ...]:
    """NVRTC options the runtime compiles with (CI compiles every kernel with exactly these)."""
    options = ("-std=c++17", "-DREAL=%s" % sources.real_type(precision), "-I%s" % sources.kernel_dir())
    if precision == "float64":
        options += ("--fmad=false",)  # validation precision: same rounding as the CPU twin
    return options


def module_source(precision: str) -> str:
    # CuPy's compile cache keys on the source text only, so the digest of all included files goes in it.
    return "// pynn_cupy kernels %s\n%s" % (sources.sources_digest(precision), sources.unit_source())


def import_cupy():
    try:
        import cupy
    except ImportError as exc:
        raise errors.BackendUnavailableError(
            "pyNN.cupy: device='gpu' needs CuPy (%s); install it with "
            "'pip install pynn-cupy[cuda12]' or '[cuda13]' to match your CUDA driver, "
            "or use setup(device='cpu') for the CPU twin" % exc) from exc
    return cupy


def gpu_available() -> bool:
    try:
        cupy = import_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


class GpuPlan:
    """A step's launch list run as CUDA graphs: `run(n)` replays the graph of STEPS_PER_GRAPH steps
    n // STEPS_PER_GRAPH times, then the graph of the n % STEPS_PER_GRAPH remaining steps once. A graph is
    captured the first time its length is needed and kept (kernels read the step from the device clock, so
    a graph is valid at any step). If a capture fails, the plan warns and launches step by step from then on;
    a new plan (the simulator makes one after every structural change) tries again."""

    def __init__(self, backend: "GpuBackend", launches: Sequence[tuple]):
        self.backend = backend
        self.launches = list(launches)
        self.graphs: dict[int, object] = {}   # steps -> captured graph
        self.capture_failed = False

    def __len__(self) -> int:
        """Launches per step."""
        return len(self.launches)

    def _launch_steps(self, n_steps: int) -> None:
        for _ in range(n_steps):
            for kernel, grid, block, args in self.launches:
                kernel((grid,), (block,), args)

    def _graph(self, n_steps: int):
        """The graph of n_steps steps, captured now if new (capture records the launches, it runs nothing);
        None if capture fails."""
        if n_steps in self.graphs or self.capture_failed:
            return self.graphs.get(n_steps)
        stream = self.backend.stream
        try:
            stream.begin_capture()
            try:
                self._launch_steps(n_steps)
            finally:
                graph = stream.end_capture()   # the stream leaves capture mode whatever happened
        except Exception as exc:
            self.capture_failed = True
            warnings.warn("pyNN.cupy: capturing a CUDA graph of %d steps failed (%s: %s); this network now "
                          "launches its kernels step by step" % (n_steps, type(exc).__name__, exc),
                          errors.SimulationWarning, stacklevel=4)
            return None
        self.graphs[n_steps] = graph
        return graph

    def _replay(self, n_steps: int, times: int) -> None:
        graph = self._graph(n_steps)
        for _ in range(times):
            if graph is None:
                self._launch_steps(n_steps)
            else:
                graph.launch(self.backend.stream)

    def run(self, n_steps: int) -> None:
        graphs, rest = divmod(n_steps, STEPS_PER_GRAPH)
        with self.backend.stream:
            if graphs:
                self._replay(STEPS_PER_GRAPH, graphs)
            if rest:
                self._replay(rest, 1)


class GpuKernel:
    """A compiled kernel and its name."""

    def __init__(self, name: str, function):
        self.name = name
        self.function = function

    def __call__(self, grid, block, args):
        self.function(grid, block, args)


class GpuBackend:
    """Kernels on the current CUDA device; arrays are CuPy arrays."""
    name = "gpu"
    lanes_per_row = 32   # a warp walks each spiking neuron's synapses

    def __init__(self, precision: str):
        cupy = import_cupy()
        self.xp = cupy
        self.precision = precision
        # A blocking stream: it orders after host-to-device copies made on the default stream.
        self.stream = cupy.cuda.Stream(non_blocking=False)
        try:
            self.module = cupy.RawModule(code=module_source(precision), options=nvrtc_options(precision))
            self.module.compile()
        except cupy.cuda.compiler.CompileException as exc:
            raise errors.KernelCompilationError("pyNN.cupy: NVRTC failed:\n%s" % exc) from exc
        self._kernels = {}
        device = cupy.cuda.runtime.getDevice()
        self.max_blocks = BLOCKS_PER_SM * cupy.cuda.runtime.getDeviceProperties(device)["multiProcessorCount"]

    def kernel(self, name: str) -> "GpuKernel":
        if name not in self._kernels:
            self._kernels[name] = GpuKernel(name, self.module.get_function(name))
        return self._kernels[name]

    def plan(self, launches: Sequence[tuple], threads: int = 1) -> GpuPlan:
        return GpuPlan(self, launches)

    def launch_config(self, n: int, threads: int = 1) -> tuple[int, int]:
        """(grid, block) of a launch over n items: sized by n, capped at BLOCKS_PER_SM blocks per SM."""
        return grid_for(n, THREADS_PER_BLOCK, self.max_blocks), THREADS_PER_BLOCK

    # Every copy and fill runs on the backend's stream, in order with the kernels.
    def asarray(self, host, copy: bool = True):
        with self.stream:
            return self.xp.asarray(host)

    def context(self):
        return self.stream

    def zeros(self, shape, dtype):
        with self.stream:
            return self.xp.zeros(shape, dtype=dtype)

    def write(self, target, value, index=None) -> None:
        """target[index] = value in place (index None: the whole array); value a host array or a scalar."""
        with self.stream:
            if index is None:
                target[...] = self.xp.asarray(value) if hasattr(value, "shape") else value
            else:
                target[self.xp.asarray(index)] = self.xp.asarray(value)

    def to_host(self, array):
        return self.xp.asnumpy(array, stream=self.stream)

    def synchronize(self) -> None:
        self.stream.synchronize()


def nvrtc_check(precision: str, arch: str = "sm_90") -> int:
    """Compile every kernel through NVRTC exactly as RawModule does on a GPU (our options plus the ones CuPy
    adds), without needing a GPU. Returns the size of the compiled code; raises KernelCompilationError."""
    from cupy.cuda import nvrtc
    options = nvrtc_options(precision) + ("--gpu-architecture=%s" % arch, "--device-as-default-execution-space",
                                          "-ftz=true")
    program = nvrtc.createProgram(module_source(precision), "pynn_cupy.cu", [], [])
    try:
        nvrtc.compileProgram(program, list(options))
    except nvrtc.NVRTCError as exc:
        raise errors.KernelCompilationError("NVRTC (%s, %s): %s\n%s"
                                            % (precision, arch, exc, nvrtc.getProgramLog(program))) from exc
    return len(nvrtc.getCUBIN(program))
