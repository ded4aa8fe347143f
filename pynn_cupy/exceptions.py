"""Errors and warnings specific to pyNN.cupy. Each error subclasses a `pyNN.errors` type (and, where Python has
one that fits, the matching built-in type, so that `except MemoryError` still catches an out-of-memory)."""
import numpy as np
from pyNN.errors import (ConnectionError, InvalidDimensionsError, InvalidParameterValueError,
                         NoModelAvailableError)


class BackendUnavailableError(NoModelAvailableError):
    """The requested device (GPU via CuPy, or the CPU twin's C++ compiler) cannot be used."""


class KernelCompilationError(NoModelAvailableError):
    """A CUDA kernel source failed to compile for the selected target."""


class DeviceMemoryError(InvalidDimensionsError, MemoryError):
    """The network does not fit the device's memory; the message says how much was needed."""


class SpikeBufferOverflowError(InvalidParameterValueError, RuntimeError):
    """More spikes were emitted in one step than a spike list can hold; the message names the population
    and the count. Spike lists are sized from what the parameters allow, so this needs extreme chance."""


class NumericalInstabilityError(InvalidParameterValueError, ArithmeticError):
    """A neuron's membrane potential (or adaptive threshold) stopped being a finite number (NaN or infinite)
    during a run; the message names the population, the count and the time window. NEST stops such a run too
    (NumericalInstability, or a GSL solver failure); the parameters or inputs drive the model beyond what its integration can follow."""


class InjectionError(ConnectionError, TypeError):
    """A current source cannot be injected into these cells (e.g. spike sources)."""


def shape_error(call: str, values: dict, shape: tuple, exc: Exception) -> InvalidDimensionsError:
    """An InvalidDimensionsError for `call` (e.g. "cells.set") naming the values whose arrays (numpy or lazy) do
    not have `shape` (all of them when none can be told), with PyNN's or lazyarray's own message."""
    def shape_of(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            return np.shape(value)
        return getattr(value, "shape", None) if getattr(value, "is_homogeneous", True) is False else None

    shapes = {name: shape_of(value) for name, value in values.items()}
    wrong = [name for name, value_shape in shapes.items() if value_shape not in (None, shape)] or list(values)
    given = ", ".join("%s=<shape %s>" % (name, shapes[name]) if shapes[name] else "%s=..." % name for name in wrong)
    return InvalidDimensionsError("%s(%s): %s; expected shape %s" % (call, given, exc, shape))


class SimulationWarning(UserWarning):
    """Something in a run deserves attention but did not stop it (a slow fallback, a stiff neuron)."""


__all__ = ["BackendUnavailableError", "KernelCompilationError", "DeviceMemoryError",
           "SpikeBufferOverflowError", "NumericalInstabilityError", "InjectionError", "SimulationWarning", "InvalidParameterValueError"]
