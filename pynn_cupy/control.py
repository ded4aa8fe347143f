"""setup / end / run and the state queries."""
from __future__ import annotations

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_MIN_DELAY, DEFAULT_TIMESTEP
from pyNN.errors import InvalidParameterValueError
from pyNN.recording import get_io

from . import simulator


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, max_delay=DEFAULT_MAX_DELAY,
          rng_seed: int | None = None, precision: str = "float32", device: str = "auto", threads: int = 1,
          **extra_params):
    """Set up pyNN.cupy. Beyond PyNN's arguments: `precision` ('float32' or 'float64'), `device` ('auto',
    'gpu' or 'cpu', the CPU twin; the PYNN_CUPY_DEVICE environment variable sets what 'auto' means) and
    `rng_seed` (the seed of on-device random numbers, e.g. Poisson sources), and `threads`: host threads of
    the CPU twin (default 1, which gives bit-reproducible runs; with more, the order of floating-point
    additions into the delay buffers varies, as on a GPU). `spike_precision="off_grid"` records spike sources'
    spikes at the times given (SpikeSourceArray), as NEST records its spike generators'; neurons stay on the time
    grid. Other backends' options are accepted and ignored."""
    if min_delay != "auto" and (min_delay < timestep or (max_delay != "auto" and min_delay > max_delay)):
        raise InvalidParameterValueError("setup(timestep=%r, min_delay=%r, max_delay=%r): min_delay must lie "
                                         "between the time step and max_delay" % (timestep, min_delay, max_delay))
    common.setup(timestep, min_delay, max_delay=max_delay, **extra_params)
    simulator.state.configure(timestep, min_delay, max_delay, device, precision, rng_seed, threads)
    simulator.state.spike_precision = extra_params.get("spike_precision", "on_grid")
    return rank()


def end(compatible_output=True):
    """Write data requested with `write_data` at the end of the simulation."""
    for population, variables, filename in simulator.state.write_on_end:
        population.write_data(get_io(filename), variables)
    simulator.state.write_on_end = []


_run, _run_until = common.build_run(simulator)


def run_until(time_point: float, callbacks=None) -> float:
    if not time_point >= simulator.state.t - simulator.state.dt / 2:   # NaN too
        raise InvalidParameterValueError("run_until(%r): the time must be a number, not in the past (now %g ms)"
                                         % (time_point, simulator.state.t))
    return _run_until(time_point, callbacks)


def run(simtime: float, callbacks=None) -> float:
    return run_until(simulator.state.t + simtime, callbacks)


run.__doc__, run_until.__doc__ = _run.__doc__, _run_until.__doc__
run_for = run
reset = common.build_reset(simulator)
initialize = common.initialize
get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank = \
    common.build_state_queries(simulator)
