"""Errors specific to pyNN.cupy, subclassing PyNN's error types."""
from pyNN.errors import NoModelAvailableError, InvalidParameterValueError


class BackendUnavailableError(NoModelAvailableError):
    """The requested device (GPU via CuPy, or the CPU twin's C++ compiler) cannot be used."""


class KernelCompilationError(NoModelAvailableError):
    """A CUDA kernel source failed to compile for the selected target."""


class DeviceMemoryError(MemoryError):
    """The device ran out of memory; the message says how much was needed."""


class SpikeBufferOverflowError(RuntimeError):
    """More spikes were emitted in one step than a spike list can hold."""


__all__ = ["BackendUnavailableError", "KernelCompilationError", "DeviceMemoryError",
           "SpikeBufferOverflowError", "InvalidParameterValueError"]
