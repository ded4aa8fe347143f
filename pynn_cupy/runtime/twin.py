"""CPU twin: the CUDA kernel sources compiled by the host C++ compiler into a cached shared library.

Kernels run over their launch grid one block after another (grid-stride loops make any grid cover the data);
a whole chunk of steps runs as one call into the library, which replays the step's launch list.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import exceptions as errors
from . import BLOCKS_PER_SM, THREADS_PER_BLOCK, grid_for, sources

# In GPU-grid mode (PYNN_CUPY_TWIN_GRID=gpu) the twin pretends to be a GPU with this many SMs, so its grids are
# capped at BLOCKS_PER_SM * TWIN_GRID_SMS blocks (2048 threads) as the GPU's are at its SM count: a launch over
# more than a couple of thousand items takes the grid-stride path, which small test networks thus exercise.
TWIN_GRID_SMS = 1

_LAUNCHER = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p))

_MAIN_TEMPLATE = r"""
#include "common.cuh"
#include <utility>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
thread_local TwinDim3 threadIdx, blockIdx, blockDim, gridDim;
thread_local TwinThread twin_thread;
int twin_threads = 1;
%(units)s
template <typename... A, std::size_t... I>
static void twin_invoke(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<A*>(args[I])...);
}
// Chunked: one call per host thread (it takes its part of each loop), then a barrier. Otherwise: the CUDA
// grid, block after block, one call per (block, thread).
template <typename... A>
static void twin_grid(void (*kernel)(A...), unsigned grid, unsigned block, void** args) {
    if (twin_thread.chunked) {
        gridDim.x = (unsigned)twin_thread.count; blockDim.x = 1;
        blockIdx.x = (unsigned)twin_thread.id; threadIdx.x = 0;
        twin_invoke(kernel, args, std::index_sequence_for<A...>{});
#ifdef _OPENMP
#pragma omp barrier
#endif
        return;
    }
    gridDim.x = grid; blockDim.x = block;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (unsigned b = 0; b < grid; ++b) {
        blockIdx.x = b;
        for (unsigned t = 0; t < block; ++t) {
            threadIdx.x = t;
            twin_invoke(kernel, args, std::index_sequence_for<A...>{});
        }
    }
}
template <auto K> static void twin_launcher(unsigned grid, unsigned block, void** args) { twin_grid(K, grid, block, args); }
typedef void (*TwinLauncher)(unsigned, unsigned, void**);
struct TwinLaunch { TwinLauncher launcher; unsigned grid, block; void** args; };
extern "C" TwinLauncher twin_find(const char* name) {
%(table)s
    return nullptr;
}
// Runs n_steps of the launch list on `threads` host threads; every thread walks the whole list and the
// barrier after each launch keeps launches in order.
// In single precision, denormals are flushed to zero as on the GPU (CuPy compiles with -ftz=true).
extern "C" void twin_run(const TwinLaunch* launches, int n_launches, long long n_steps, int threads, int chunked) {
    twin_threads = threads;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
#endif
    {
#if defined(__SSE__)
        const unsigned int saved_csr = _mm_getcsr();
        if (sizeof(REAL) == 4) _mm_setcsr(saved_csr | 0x8040);   // flush-to-zero and denormals-are-zero
#endif
#ifdef _OPENMP
        twin_thread.id = omp_get_thread_num();
        twin_thread.count = omp_get_num_threads();
#endif
        twin_thread.chunked = chunked != 0;
        for (long long s = 0; s < n_steps; ++s)
            for (int k = 0; k < n_launches; ++k)
                launches[k].launcher(launches[k].grid, launches[k].block, launches[k].args);
#if defined(__SSE__)
        _mm_setcsr(saved_csr);
#endif
    }
}
"""


class _TwinLaunch(ctypes.Structure):
    _fields_ = [("launcher", ctypes.c_void_p), ("grid", ctypes.c_uint), ("block", ctypes.c_uint),
                ("args", ctypes.POINTER(ctypes.c_void_p))]


_SCALAR_CTYPES = {np.dtype(np.int32): ctypes.c_int32, np.dtype(np.uint32): ctypes.c_uint32,
                  np.dtype(np.int64): ctypes.c_int64, np.dtype(np.uint64): ctypes.c_uint64,
                  np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


def cache_dir() -> Path:
    path = Path(os.environ.get("PYNN_CUPY_CACHE", Path.home() / ".cache" / "pynn_cupy"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def compiler() -> str:
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        raise errors.BackendUnavailableError(
            "pyNN.cupy: the CPU twin needs a C++17 compiler ('%s' not found); install g++ "
            "(e.g. 'apt install g++') or set CXX" % cxx)
    return cxx


def _compiler_version(cxx: str) -> str:
    return subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]


def compile_flags(precision: str, native: bool = True) -> list[str]:
    """Host compiler flags. In single precision, multiply-adds may fuse, as on the GPU (NVRTC's default);
    double precision keeps every rounding, as the GPU does with --fmad=false. `native` targets this CPU."""
    return (["-O3", "-std=c++17", "-shared", "-fPIC", "-fopenmp", "-fno-fast-math"]
            + (["-march=native"] if native else [])
            + ["-ffp-contract=%s" % ("fast" if precision == "float32" else "off"),
               "-DREAL=%s" % sources.real_type(precision), "-I%s" % sources.kernel_dir()])


def _host_cpu() -> str:
    """What -march=native compiles for: a library built for one CPU may not run on another."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((line for line in cpuinfo if line.startswith(("flags", "Features"))), platform.machine())
    except OSError:
        return platform.machine()


def build_library(precision: str) -> Path:
    """Compile (or find in the cache) the twin library for `precision` on this CPU."""
    cxx = compiler()
    key = sources.sources_digest(precision, " ".join(compile_flags(precision)[:-1]), _compiler_version(cxx),
                                 _host_cpu(), _MAIN_TEMPLATE)
    target = cache_dir() / ("twin_%s_%s.so" % (precision, key))
    if target.exists():
        return target
    table = "\n".join('    if (!std::strcmp(name, "%s")) return &twin_launcher<&%s>;' % (name, name)
                      for name in sources.kernel_names())
    main = _MAIN_TEMPLATE % {"units": sources.unit_source(), "table": table}
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        source = Path(tmp) / "twin_main.cpp"
        source.write_text(main)
        output = Path(tmp) / target.name
        for native in (True, False):   # a compiler without -march=native still builds a portable library
            result = subprocess.run([cxx, *compile_flags(precision, native), str(source), "-o", str(output)],
                                    capture_output=True, text=True)
            if result.returncode == 0:
                break
        else:
            raise errors.KernelCompilationError("pyNN.cupy: compiling the CPU twin failed:\n" + result.stderr)
        os.replace(output, target)
    return target


def gpu_grid_mode() -> bool:
    """Whether the twin walks the CUDA grid (PYNN_CUPY_TWIN_GRID=gpu) rather than chunked loops."""
    return os.environ.get("PYNN_CUPY_TWIN_GRID") == "gpu"


class TwinKernel:
    def __init__(self, name: str, launcher: int):
        self.name = name
        self.launcher = launcher


class TwinPlan:
    """A step's launch list bound to its arguments, replayed for a number of steps in one call."""

    def __init__(self, library: ctypes.CDLL, launches: Sequence[tuple], threads: int = 1):
        self._library = library
        self._threads = threads
        self._chunked = not gpu_grid_mode()   # read once, as the launch grids were
        self._keep = []
        self._launches = (_TwinLaunch * max(1, len(launches)))()
        self._count = len(launches)
        for slot, (kernel, grid, block, args) in zip(self._launches, launches):
            pointers = (ctypes.c_void_p * max(1, len(args)))()
            for k, arg in enumerate(args):
                holder = self._hold(arg)
                pointers[k] = ctypes.addressof(holder)
            slot.launcher = kernel.launcher
            slot.grid, slot.block = grid, block
            slot.args = ctypes.cast(pointers, ctypes.POINTER(ctypes.c_void_p))
            self._keep.append(pointers)

    def _hold(self, arg):
        if isinstance(arg, np.ndarray):
            if not arg.flags.c_contiguous:
                raise ValueError("kernel array arguments must be contiguous")
            holder = ctypes.c_void_p(arg.ctypes.data)
            self._keep.append(arg)
        else:
            holder = _SCALAR_CTYPES[np.asarray(arg).dtype](arg)
        self._keep.append(holder)
        return holder

    def __len__(self) -> int:
        """Launches per step."""
        return self._count

    @property
    def grids(self) -> list[tuple[int, int]]:
        """(grid, block) of each launch."""
        return [(launch.grid, launch.block) for launch in self._launches[:self._count]]

    def run(self, n_steps: int) -> None:
        self._library.twin_run(self._launches, self._count, ctypes.c_longlong(n_steps), self._threads,
                               int(self._chunked))


class TwinBackend:
    """Kernels of the CPU twin; arrays are NumPy arrays."""
    name = "cpu"
    xp = np
    lanes_per_row = 1

    def __init__(self, precision: str):
        self.precision = precision
        self.library_path = build_library(precision)
        # Threads that wait at the per-launch barriers sleep rather than spin: spinning threads starve the
        # others when the cores are shared (read by OpenMP when the library loads).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._library = ctypes.CDLL(str(self.library_path))
        self._library.twin_find.restype = ctypes.c_void_p
        self._library.twin_find.argtypes = [ctypes.c_char_p]
        self._library.twin_run.argtypes = [ctypes.POINTER(_TwinLaunch), ctypes.c_int, ctypes.c_longlong,
                                           ctypes.c_int, ctypes.c_int]
        self._kernels = {}

    def kernel(self, name: str) -> TwinKernel:
        if name not in self._kernels:
            launcher = self._library.twin_find(name.encode())
            if not launcher:
                raise errors.KernelCompilationError("pyNN.cupy: no kernel named %r" % name)
            self._kernels[name] = TwinKernel(name, launcher)
        return self._kernels[name]

    def plan(self, launches: Sequence[tuple], threads: int = 1) -> TwinPlan:
        return TwinPlan(self._library, launches, threads)

    @staticmethod
    def launch_config(n: int, threads: int = 1) -> tuple[int, int]:
        """The grid of a launch: unused by the default (chunked) twin, where each host thread takes a
        contiguous part of every loop; PYNN_CUPY_TWIN_GRID=gpu walks a GPU's grid instead, capped as on a
        GPU of TWIN_GRID_SMS SMs."""
        if gpu_grid_mode():
            return grid_for(n, THREADS_PER_BLOCK, BLOCKS_PER_SM * TWIN_GRID_SMS), THREADS_PER_BLOCK
        return 1, 1

    @staticmethod
    def asarray(host, copy: bool = True) -> np.ndarray:
        return np.array(host, copy=True) if copy else np.asarray(host)

    @staticmethod
    def context():
        return contextlib.nullcontext()

    @staticmethod
    def zeros(shape, dtype) -> np.ndarray:
        return np.zeros(shape, dtype=dtype)

    @staticmethod
    def write(target, value, index=None) -> None:
        """target[index] = value in place (index None: the whole array)."""
        if index is None:
            target[...] = value
        else:
            target[index] = value

    @staticmethod
    def to_host(array) -> np.ndarray:
        return np.asarray(array)

    def synchronize(self) -> None:
        pass
