"""Kernel loading and launching on the two targets: the GPU (CuPy/NVRTC) and the CPU twin (host C++)."""
from __future__ import annotations

import os
from functools import lru_cache

from .. import exceptions as errors

DEVICES = ("auto", "gpu", "cpu")
PRECISIONS = ("float32", "float64")

THREADS_PER_BLOCK = 256
# Grids are capped at BLOCKS_PER_SM blocks per streaming multiprocessor: 8 blocks of 256 threads are the 2048
# resident threads of an SM on sm_80/sm_90, one full wave; kernels grid-stride over anything larger.
BLOCKS_PER_SM = 8


def grid_for(n: int, threads_per_block: int, max_blocks: int) -> int:
    """Blocks of a grid-stride launch over n items: enough to cover them, at most max_blocks, at least 1."""
    return max(1, min(max_blocks, -(-int(n) // threads_per_block)))


def resolve_device(device: str) -> str:
    if device == "auto":
        device = os.environ.get("PYNN_CUPY_DEVICE", "auto")
    if device not in DEVICES:
        raise errors.InvalidParameterValueError(
            "setup(device=%r): device must be one of %s" % (device, ", ".join(DEVICES)))
    if device == "auto":
        from .gpu import gpu_available
        device = "gpu" if gpu_available() else "cpu"
    return device


@lru_cache(maxsize=None)
def _backend(device: str, precision: str, cuda_device: int):
    if device == "gpu":
        from .gpu import GpuBackend
        return GpuBackend(precision)
    from .twin import TwinBackend
    return TwinBackend(precision)


def get_backend(device: str, precision: str):
    """The memoized kernel backend for a device ('auto', 'gpu' or 'cpu') and precision."""
    if precision not in PRECISIONS:
        raise errors.InvalidParameterValueError(
            "setup(precision=%r): precision must be one of %s" % (precision, ", ".join(PRECISIONS)))
    device = resolve_device(device)
    cuda_device = 0
    if device == "gpu":
        from .gpu import gpu_available, import_cupy
        cupy = import_cupy()
        if not gpu_available():
            raise errors.BackendUnavailableError(
                "pyNN.cupy: device='gpu' but CuPy finds no usable CUDA device (see 'python -m pynn_cupy'); "
                "use setup(device='cpu') for the CPU twin")
        cuda_device = cupy.cuda.runtime.getDevice()
    return _backend(device, precision, cuda_device)
