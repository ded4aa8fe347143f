"""Times and durations in ms to whole time steps, with NEST's rounding rules (nestkernel/nest_time.h).

NEST counts time in tics of 1 us: a value in ms becomes floor(ms * 1000 + 0.5) tics, and the time step is a
whole number of tics. Each kind of quantity has its own rule; each function here is one rule, used for every
quantity of that kind, so that pyNN.cupy and NEST put every event on the same step.
"""
from __future__ import annotations

import numpy as np
from pyNN.errors import InvalidParameterValueError

TICS_PER_MS = 1000.0
FOREVER = np.int64(1) << 60   # steps of an infinite time (stop=inf); far beyond any run


def tics(ms) -> np.ndarray:
    """NEST's Time::ms: the nearest tic (halves up), for times >= 0."""
    return np.floor(np.asarray(ms, dtype=float) * TICS_PER_MS + 0.5).astype(np.int64)


def tics_per_step(dt: float) -> int:
    """The time step in tics; raises InvalidParameterValueError unless dt is a positive multiple of 1 us."""
    dt = float(dt)
    n = int(tics(dt)) if np.isfinite(dt) else 0
    if n < 1 or abs(dt * TICS_PER_MS - n) > 1e-6:
        raise InvalidParameterValueError(
            "setup(timestep=%r): the time step must be a positive multiple of 0.001 ms (NEST's tic)" % dt)
    return n


def _finite(ms, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(values as floats, mask of infinite values); raises for negative values or NaN."""
    ms = np.asarray(ms, dtype=float)
    bad = np.isnan(ms) | (ms < 0)
    if bad.any():
        raise InvalidParameterValueError("%s must be a time >= 0 ms, got %s" % (what, float(ms[bad].ravel()[0])))
    infinite = ms > FOREVER / TICS_PER_MS / 1e3
    return np.where(infinite, 0.0, ms), infinite


def duration_steps(ms, dt: float, what: str = "duration") -> np.ndarray:
    """A duration (refractory period, dead time) in steps: its tics rounded UP to whole steps, as NEST's
    Time::get_steps (2.04 ms at dt 0.1 is 21 steps; 0.1 ms at dt 1.0 is one step)."""
    ms, infinite = _finite(ms, what)
    per_step = tics_per_step(dt)
    return np.where(infinite, FOREVER, -(-tics(ms) // per_step))


def delay_steps(ms, dt: float) -> np.ndarray:
    """A synaptic delay in steps, rounded to the nearest step with halves up: NEST's
    Time::delay_ms_to_steps, floor(ms * steps_per_ms + 0.5) in double precision."""
    steps_per_ms = 1.0 / (tics_per_step(dt) / TICS_PER_MS)
    return np.floor(np.asarray(ms, dtype=float) * steps_per_ms + 0.5).astype(np.int64)


def spike_stamp_steps(ms, dt: float) -> np.ndarray:
    """The grid time (in steps) of a spike given at `ms`: the first grid point at or after it, as NEST's
    Time::ms_stamp (pyNN.nest's spike_generator uses precise times). A spike stamped at step s is emitted
    by the update from s - 1 to s."""
    ms = np.asarray(ms, dtype=float)
    per_step = tics_per_step(dt)
    n = np.trunc(ms * TICS_PER_MS).astype(np.int64)
    n -= n % per_step
    on_or_after = n * (1.0 / per_step) * (per_step / TICS_PER_MS) >= ms
    return n // per_step + np.where(on_or_after, 0, 1)


def grid_steps(ms, dt: float, what: str) -> np.ndarray:
    """A time that must lie on the grid (device start/stop, sampling interval) in steps. As NEST, a value
    that is not a whole number of steps (at the tic level) is refused: InvalidParameterValueError naming
    `what`. Infinite values give FOREVER."""
    ms, infinite = _finite(ms, what)
    per_step = tics_per_step(dt)
    t = tics(ms)
    off = (t % per_step != 0) & ~infinite
    if off.any():
        raise InvalidParameterValueError("%s = %s ms is not a multiple of the time step (%g ms)"
                                         % (what, float(np.asarray(ms)[off].ravel()[0]), dt))
    return np.where(infinite, FOREVER, t // per_step)


def nearest_steps(ms, dt: float) -> np.ndarray:
    """A run time in steps, to the nearest step (halves up). NEST refuses run times off the grid; PyNN's
    run_until accepts times within dt/2 of the grid, so pyNN.cupy rounds."""
    per_step = tics_per_step(dt)
    return (tics(ms) + per_step // 2) // per_step
