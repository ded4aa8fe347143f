"""Simulation state: the clock, the device arrays of every population and projection, and the step loop.

The network is built on the first run (and rebuilt after structural changes). `run` advances in chunks of
steps; within a chunk the host does not synchronize: the step's launch list is replayed by the device
(a CUDA graph on the GPU, one call into the compiled library on the CPU twin). Between chunks, recorded
data come back to the host in bulk.
"""
from __future__ import annotations

import warnings

import numpy as np
from pyNN import common
from pyNN.errors import RoundingWarning

from . import exceptions as errors
from .groups import NeuronBatch
from .runtime import get_backend
from .runtime.sources import bind
from .timegrid import FOREVER, TICS_PER_MS, nearest_steps, tics, tics_per_step

name = "cupy"

MAX_CHUNK_STEPS = 10000   # steps between host synchronizations (fewer when recording buffers need it)
# Random-number purposes: each (purpose, object) pair has its own Philox stream (cuda/philox.cuh).
RNG_PURPOSES = {"poisson": 1, "poisson_refractory": 2, "gamma": 3, "inh_gamma": 4, "noise_current": 5, "gif": 6,
                "synapse_release": 7}


class ID(int, common.IDMixin):
    # numpy asks for this whenever an ID meets an array; without it IDMixin.__getattr__ would look it up as a
    # cell parameter (a whole get_parameters() each time). The value is numpy's default for non-arrays.
    __array_priority__ = -1000000.0

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """The global state of the pyNN.cupy simulator."""

    def __init__(self):
        super().__init__()
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.device = "auto"
        self.precision = "float32"
        self.rng_seed = 0
        self.native_rng = np.random.RandomState(np.random.MT19937(0))   # NativeRNG() without a seed
        self.trial = -1   # clear() resets, which starts trial 0 (as after setup())
        self.threads = 1
        self._backend = None
        self.clear()

    # -- configuration -------------------------------------------------------------------------
    def configure(self, dt: float, min_delay, max_delay, device: str, precision: str, rng_seed: int,
                  threads: int = 1) -> None:
        tics_per_step(dt)   # everything is checked before anything changes
        seed = _check_seed(rng_seed)
        backend = get_backend(device, precision)
        if int(threads) < 1:
            raise errors.InvalidParameterValueError("setup(threads=%r): threads must be at least 1" % threads)
        self.trial = -1   # clear() resets, which starts trial 0
        self.clear()
        self.threads = int(threads)
        self.dt, self.min_delay, self.max_delay = dt, min_delay, max_delay
        self.device, self.precision, self.rng_seed = backend.name, precision, seed
        self.native_rng = np.random.RandomState(np.random.MT19937(seed))
        self._backend = backend

    @property
    def min_delay(self):
        """The min_delay given to setup(); with 'auto', the shortest delay of any projection (else dt)."""
        if self._min_delay != "auto":
            return self._min_delay
        delays = [d for d in (p.min_delay() for p in self.projections) if d is not None]
        return min(delays) if delays else self.dt

    @min_delay.setter
    def min_delay(self, value):
        self._min_delay = value

    @property
    def backend(self):
        if self._backend is None:
            self._backend = get_backend(self.device, self.precision)
        return self._backend

    @property
    def real(self):
        return np.float32 if self.precision == "float32" else np.float64

    @property
    def xp(self):
        return self.backend.xp

    @property
    def t(self) -> float:
        return float(self.time_of(self.step))

    def time_of(self, steps):
        """Time (ms) of a step count, rounded to 1e-12 ms so that e.g. step 579 at dt 0.1 reads 57.9."""
        return np.round(np.asarray(steps, dtype=np.float64) * self.dt, 12)

    def steps(self, time: float) -> int:
        """A run time in steps: the nearest step (timegrid.nearest_steps), with a RoundingWarning if it is off
        the grid; InvalidParameterValueError if it is not finite."""
        if not np.isfinite(time) or time * TICS_PER_MS >= FOREVER:
            raise errors.InvalidParameterValueError("run until %r ms: the time must be finite" % (time,))
        steps = int(nearest_steps(time, self.dt))
        if tics(time) != steps * tics_per_step(self.dt):
            warnings.warn("run until %g ms: not a multiple of the time step (%g ms), rounded to %g ms"
                          % (time, self.dt, self.time_of(steps)), RoundingWarning)
        return steps

    def clear(self) -> None:
        self.recorders = set()
        self.groups = []    # every population's NeuronGroup, in creation order
        self.batches = []   # the NeuronBatch of each device model
        self.projections = []
        self.current_sources = []
        self.id_counter = 0
        self.segment_counter = -1
        self.write_on_end = []
        self._plan = None
        self._ring_slots = 0
        self._clock = None
        self._spike_counts = None
        self.reset()

    def reset(self) -> None:
        """Back to t = 0: state variables to their initial values, delay buffers emptied; a new trial, so
        random draws differ from the previous trial's."""
        self.step = 0
        self.trial += 1
        self.running = False
        self.t_start = 0
        self.segment_counter += 1
        if self._clock is not None:
            self.write(self._clock, [0, self.trial])
        for batch in self.batches:
            batch.reset()
        for projection in self.projections:
            projection._device.reset()
        for recorder in self.recorders:
            recorder._clear_simulator()

    def add_group(self, group) -> None:
        """A new population: into the batch of its device model (a new batch for a new model)."""
        key = group.model.batch_key()
        batch = next((b for b in self.batches if b.model.batch_key() == key), None)
        if batch is None:
            batch = NeuronBatch(self, group.model, len(self.batches))
            self.batches.append(batch)
        batch.add(group)
        self.groups.append(group)
        self.invalidate()

    def invalidate(self) -> None:
        """Something structural changed: rebuild the launch list before the next step."""
        self._plan = None

    # -- building ------------------------------------------------------------------------------
    def device_array(self, host, dtype=None, copy: bool = True):
        """A device array of `host`'s values; with copy=False the twin may hold `host` itself (the caller lets
        it go)."""
        host = np.ascontiguousarray(host, dtype=dtype)
        return self._allocate(host.nbytes, lambda: self.backend.asarray(host, copy))

    def on_device(self):
        """The context for array operations on device arrays (the GPU backend's stream)."""
        return self.backend.context()

    def zeros(self, shape, dtype):
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        return self._allocate(nbytes, lambda: self.backend.zeros(shape, dtype))

    def write(self, target, value, index=None) -> None:
        """target[index] = value on the device, in order with the kernels (index None: all of it)."""
        if isinstance(value, (np.ndarray, list, tuple)):   # a host array (device arrays are copied as they are)
            value = np.ascontiguousarray(value, dtype=target.dtype)
        self.backend.write(target, value, None if index is None else np.ascontiguousarray(index, np.int64))

    def _allocate(self, nbytes: int, make):
        try:
            return make()
        except MemoryError as exc:   # cupy's OutOfMemoryError is a MemoryError
            raise errors.DeviceMemoryError(
                "pyNN.cupy: out of %s memory allocating %.1f MiB (%s)"
                % ("GPU" if self.device == "gpu" else "host", nbytes / 2 ** 20, exc)) from exc

    def launch_config(self, n: int) -> tuple[int, int]:
        return self.backend.launch_config(n, self.threads)

    def launch(self, kernel: str, n: int, arguments: dict) -> tuple:
        """One launch of `kernel` over n items, its parameters bound by name from `arguments`."""
        grid, block = self.launch_config(n)
        return self.backend.kernel(kernel), grid, block, bind(kernel, self.precision, arguments)

    def _build(self) -> None:
        if self._clock is None:
            self._clock = self.device_array([self.step, self.trial], np.int64)   # read by kernels
        if self._spike_counts is None or self._spike_counts.size < len(self.groups):
            self._spike_counts = self.zeros(max(1, len(self.groups)), np.int32)
        slots = max(2, self._ring_slots)   # the input rings never shrink: input pending under longer delays stays
        for projection in self.projections:
            slots = max(slots, projection.max_delay_steps() + 1)
        self._ring_slots = slots
        counter_base = 0
        for batch in self.batches:
            batch.build(slots, counter_base)
            counter_base += len(batch.members)
        for projection in self.projections:
            projection._device.build()
        launches = [self.launch("step_begin", 1, {"n_groups": np.int32(len(self.groups)),
                                                  "spike_counts": self._spike_counts})]
        for recorder in self.recorders:
            launches += recorder._sample_launches()
        for batch in self.batches:
            if batch.model.is_source:
                launches += batch.launches()
        for source in self.current_sources:
            launches += source._launches()
        for batch in self.batches:
            if not batch.model.is_source:
                launches += batch.launches()
        for recorder in self.recorders:
            launches += recorder._spike_launches()
        for projection in self.projections:
            launches += projection._device.launches()
        launches.append(self.launch("step_end", 1, {"clock": self._clock}))
        self._plan = self.backend.plan(launches, self.threads)

    def rng_stream(self, purpose: str, index: int) -> np.uint32:
        """The Philox stream of one object's draws for one purpose (index: the object's number, < 2^24)."""
        return np.uint32((RNG_PURPOSES[purpose] << 24) | index)

    # -- running -------------------------------------------------------------------------------
    def run(self, simtime: float) -> None:
        self.run_until(self.t + simtime)

    def run_until(self, tstop: float) -> None:
        n_steps = self.steps(tstop) - self.step
        if self._plan is None:
            self._build()
        self.running = True
        while n_steps > 0:
            chunk = self._chunk_steps(n_steps)
            for recorder in self.recorders:
                recorder._begin_chunk(self.step, chunk)
            self._plan.run(chunk)
            self.step += chunk
            n_steps -= chunk
            for recorder in self.recorders:
                recorder._end_chunk()
            for batch in self.batches:
                batch.check_events((self.step - chunk, self.step))
        for recorder in self.recorders:
            recorder._end_run()
        for batch in self.batches:
            batch.warn_events()
        self.backend.synchronize()   # the run is complete on the device when run() returns

    def _chunk_steps(self, n_steps: int) -> int:
        chunk = min(n_steps, MAX_CHUNK_STEPS)
        for recorder in self.recorders:
            chunk = min(chunk, recorder._max_chunk_steps())
        return max(1, chunk)


def _check_seed(rng_seed) -> int:
    """setup(rng_seed=...) as an integer in [0, 2^64); None means 0."""
    if rng_seed is None:
        return 0
    try:
        seed = int(rng_seed)
        integral = seed == rng_seed
    except (TypeError, ValueError, OverflowError):
        integral = False
    if not integral or not 0 <= seed < 2 ** 64:
        raise errors.InvalidParameterValueError(
            "setup(rng_seed=%r): the seed must be an integer between 0 and 2**64 - 1" % (rng_seed,))
    return seed


state = State()
