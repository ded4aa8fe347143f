"""Spike sources: PyNN's SpikeSourceArray, SpikeSourcePoisson, SpikeSourcePoissonRefractory, SpikeSourceGamma and
SpikeSourceInhGamma with their device models (cuda/sources.cu); random sources draw from the device's Philox
streams (cuda/philox.cuh), fresh each trial."""
from __future__ import annotations

import math
from copy import copy as shallow_copy, deepcopy

import numpy as np
from pyNN import errors
from pyNN.parameters import Sequence
from pyNN.standardmodels import cells

from ..timegrid import grid_steps, spike_stamp_steps, tics, tics_per_step
from .cells import INT, DeviceModel, _check, _identity

MAX_MEAN_COUNT = 500   # spikes per step and source: the Poisson draw by inverse transform stays exact below it


class SpikeArraySource(DeviceModel):
    kernel = "spike_source_array_update"
    is_source = True
    receptors = ()

    pooled = {("spike_begin", "spike_end"): ("emit_step",)}

    @staticmethod
    def _trains(p) -> list:
        """The spike times of each neuron (one train for all where the population's are one value)."""
        return [np.asarray(value.value if isinstance(value, Sequence) else value, dtype=float).ravel()
                for value in np.atleast_1d(p["spike_times"])]

    def coefficients(self, p, dt):
        """The emission steps of each neuron's spikes: a spike at time t is emitted in the update step that ends
        at t (times between grid points go to the next grid point, as with pyNN.nest on the grid)."""
        trains = self._trains(p)
        offsets = np.concatenate([[0], np.cumsum([train.size for train in trains])]).astype(np.int64)
        flat = np.concatenate(trains) if trains else np.zeros(0)
        bad = ~np.isfinite(flat)
        falls = np.flatnonzero(np.diff(flat) < 0) + 1   # a time below the one before it, within one train
        bad[falls[np.isin(falls, offsets, invert=True)]] = True
        if bad.any():
            train = trains[int(np.searchsorted(offsets, np.flatnonzero(bad)[0], side="right")) - 1]
            raise errors.InvalidParameterValueError(
                "spike_times must be finite, got %s" % train[:10] if not np.isfinite(train).all() else
                "spike_times must be sorted in increasing order, got %s" % train[:10])
        stamp = spike_stamp_steps(np.maximum(flat, 0.0), dt)   # off-grid times round up, as NEST
        if (flat < 0).any() or (stamp < 1).any():
            raise errors.InvalidParameterValueError(
                "spike_times must be after 0 ms (as NEST: no step emits a spike at 0), got %g ms"
                % flat[(flat < 0) | (stamp < 1)][0])
        emit_step = stamp - 1
        return {"spike_begin": offsets[:-1], "spike_end": offsets[1:],
                "emit_step": emit_step if emit_step.size else np.full(1, -1, np.int64)}

    def exact_times(self, p, dt: float, local: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """The given times of recorded spikes (neuron `local` of the population, emitted in step `steps`), for
        setup(spike_precision="off_grid"), as NEST records its spike generators' precise times: the k-th spike of a
        neuron in a step is its k-th time stamped there."""
        trains = self._trains(p)
        sizes = np.array([train.size for train in trains])
        flat = np.concatenate(trains) if trains else np.zeros(0)
        if flat.size == 0 or local.size == 0:
            return np.zeros(0)
        emit = spike_stamp_steps(np.maximum(flat, 0.0), dt) - 1
        span = int(max(emit.max(), steps.max())) + 2
        train = local if len(trains) > 1 else np.zeros_like(local)
        keys = np.repeat(np.arange(len(trains)), sizes) * span + emit   # sorted: trains in order, times sorted
        wanted = train.astype(np.int64) * span + steps
        order = np.lexsort((steps, local))   # the spikes of one neuron in one step: their rank among them
        ranked = (local[order].astype(np.int64) * span + steps[order])
        first = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        rank = np.empty(local.size, dtype=np.int64)
        rank[order] = np.arange(local.size) - np.repeat(first, np.diff(np.r_[first, local.size]))
        return flat[np.minimum(np.searchsorted(keys, wanted) + rank, flat.size - 1)]

    def after_write(self, batch) -> None:
        """Point each neuron's cursor at its first spike not yet emitted."""
        tables, rows = batch.host_tables, batch.neuron_rows()
        begin, end = tables["spike_begin"][rows], tables["spike_end"][rows]
        before = np.concatenate([[0], np.cumsum(tables["emit_step"] < batch.sim.step)])
        cursor = begin + before[end] - before[begin]
        if "cursor" in batch.device and batch.device["cursor"].size == cursor.size:
            batch.sim.write(batch.device["cursor"], cursor)   # in place: the plan holds it
        else:
            batch.device["cursor"] = batch.sim.device_array(cursor, np.int64)

    def spike_capacity(self, size, coefficients):
        """The most spikes given for any one step (several per neuron where times share a step)."""
        emit_step = coefficients["emit_step"]
        return int(np.unique(emit_step, return_counts=True)[1].max())

    def max_spikes_per_step(self, n_cells, capacity):
        return capacity




class PoissonSource(DeviceModel):
    kernel = "spike_source_poisson_update"
    is_source = True
    rng_purpose = "poisson"
    receptors = ()

    def spike_capacity(self, size, coefficients):
        """The population's count in a step is Poisson with mean M = sum of rate * dt: M + 10 sqrt(M) + 16
        is exceeded with probability below 1e-20 per step."""
        mean = float(np.broadcast_to(coefficients["mean_count"], (size,)).sum())
        return int(np.ceil(mean + 10 * np.sqrt(mean) + 16))

    def max_spikes_per_step(self, n_cells, capacity):
        return capacity

    def coefficients(self, p, dt):
        _check(p, non_negative=("rate", "start", "duration"))
        mean_count = np.asarray(p["rate"], dtype=float) * dt / 1000.0
        if (mean_count > MAX_MEAN_COUNT).any():
            raise errors.InvalidParameterValueError(
                "SpikeSourcePoisson rate %g Hz at a time step of %g ms is more than %d spikes per step"
                % (np.max(p["rate"]), dt, MAX_MEAN_COUNT))
        # the probability of some spike in a step, -expm1(-mean) (precise in float32 however low the rate)
        return {"mean_count": mean_count, "p_spike": -np.expm1(-mean_count),
                **_active_steps(p, dt, "SpikeSourcePoisson")}


def _active_steps(p, dt, what):
    """first_step, end_step of a source whose spikes lie in (start, start + duration], as PyNN defines it."""
    return {"first_step": grid_steps(p["start"], dt, "%s start" % what),
            "end_step": grid_steps(np.asarray(p["start"], dtype=float) + p["duration"], dt,
                                   "%s start + duration" % what)}


class PoissonRefractorySource(DeviceModel):
    """NEST's ppd_sup_generator with one component process (what pyNN.nest uses): in each step a live source
    spikes with probability dt / (1000 / rate - tau_refrac); after a spike it is dead for floor(tau_refrac / dt)
    steps (NEST's dead-time bins, counted here in whole tics), so the mean interval stays 1000 / rate when
    tau_refrac is a multiple of dt. At most one spike per step."""
    kernel = "spike_source_poisson_refractory_update"
    is_source = True
    rng_purpose = "poisson_refractory"
    receptors = ()
    state = {"dead": (None, INT)}

    def coefficients(self, p, dt):
        _check(p, non_negative=("rate", "tau_refrac", "start", "duration"))
        rate, tau_refrac = np.asarray(p["rate"], dtype=float), np.asarray(p["tau_refrac"], dtype=float)
        dead = np.where(rate > 0, tau_refrac, 0.0)   # rate 0: never spikes, whatever the dead time
        bad = rate * dead >= 1000.0
        if bad.any():
            raise errors.InvalidParameterValueError(
                "SpikeSourcePoissonRefractory: the mean interval 1000 / rate must be longer than tau_refrac "
                "(as NEST's ppd_sup_generator), got rate=%g Hz, tau_refrac=%g ms"
                % (np.broadcast_to(rate, bad.shape)[bad][0], np.broadcast_to(tau_refrac, bad.shape)[bad][0]))
        hazard = rate * dt / (1000.0 - rate * dead)
        if (hazard > 1).any():
            rate, tau_refrac, hazard = np.broadcast_arrays(rate, tau_refrac, hazard)
            k = np.argmax(hazard)
            raise errors.InvalidParameterValueError(
                "SpikeSourcePoissonRefractory: rate %g Hz with tau_refrac %g ms is too high for a time step of "
                "%g ms (spike probability per step dt / (1000 / rate - tau_refrac) = %g > 1)"
                % (rate.flat[k], tau_refrac.flat[k], dt, hazard.flat[k]))
        dead_steps = np.minimum(tics(np.minimum(tau_refrac, 1e12)) // tics_per_step(dt), np.iinfo(np.int32).max)
        return {"hazard": hazard, "dead_steps": dead_steps.astype(np.int32),
                **_active_steps(p, dt, "SpikeSourcePoissonRefractory")}


class GammaSource(DeviceModel):
    """NEST's gamma_sup_generator with one component process (what pyNN.nest uses): the process moves through
    alpha states, one transition with probability p = beta * dt per step (beta in Hz, dt in s), and spikes on
    leaving the last; it starts in the last state. Intervals are sums of alpha geometric waits: mean alpha / beta,
    CV^2 = (1 - p) / alpha. At most one spike per step."""
    kernel = "spike_source_gamma_update"
    is_source = True
    rng_purpose = "gamma"
    receptors = ()
    state = {"remaining": (None, INT)}

    def coefficients(self, p, dt):
        _check(p, non_negative=("beta", "start", "duration"))
        alpha = np.asarray(p["alpha"], dtype=float)
        bad = ~((alpha >= 1) & (alpha == np.round(alpha)) & (alpha < 2 ** 31))
        if bad.any():
            raise errors.InvalidParameterValueError(
                "SpikeSourceGamma alpha must be a whole number >= 1 (NEST's gamma_shape), got %s" % alpha[bad][:5])
        transition = np.asarray(p["beta"], dtype=float) * dt / 1000.0
        if (transition > 1).any():
            raise errors.InvalidParameterValueError(
                "SpikeSourceGamma beta %g Hz is too high for a time step of %g ms (transition probability "
                "beta * dt = %g > 1)" % (np.max(p["beta"]), dt, np.max(transition)))
        return {"transition": transition, "shape": alpha.astype(np.int32),
                **_active_steps(p, dt, "SpikeSourceGamma")}


class InhGammaSource(DeviceModel):
    """A gamma renewal process with shape a and scale b (s) that change at the times tbins (ms): the hazard of
    Gamma(a(t), b(t)) at the time since the last spike (since 0 before the first), as NEST 2's
    inh_gamma_generator (pyNN.nest's model, gone from NEST 3); on the grid, each step spikes with the
    probability that the interval ends within it (cuda/sources.cu). At most one spike per step."""
    kernel = "spike_source_inh_gamma_update"
    is_source = True
    rng_purpose = "inh_gamma"
    receptors = ()
    state = {"age": (None, INT)}
    pooled = {("bin_begin", "bin_end"): ("bin_step", "shape", "inv_scale", "lgamma_shape")}

    def coefficients(self, p, dt):
        _check(p, non_negative=("start", "duration"))
        a, b, tbins = (_sequences(p[name], name) for name in ("a", "b", "tbins"))
        for i, (a_i, b_i, t_i) in enumerate(zip(a, b, tbins)):
            if not a_i.size == b_i.size == t_i.size:
                raise errors.InvalidParameterValueError(
                    "SpikeSourceInhGamma a, b and tbins must have the same length, got %d, %d, %d (cell %d)"
                    % (a_i.size, b_i.size, t_i.size, i))
            if t_i.size > 1 and np.any(np.diff(t_i) < 0):
                raise errors.InvalidParameterValueError(
                    "SpikeSourceInhGamma tbins must be sorted in increasing order, got %s" % t_i[:10])
        offsets = np.concatenate([[0], np.cumsum([t_i.size for t_i in tbins])]).astype(np.int64)
        shape, scale, times = (np.concatenate(x) if x else np.zeros(0) for x in (a, b, tbins))
        for name, values in (("a", shape), ("b", scale)):
            if not (values > 0).all():
                raise errors.InvalidParameterValueError(
                    "SpikeSourceInhGamma %s must be positive, got %s" % (name, values[~(values > 0)][:5]))
        if not np.isfinite(shape).all() or not np.isfinite(times).all():
            raise errors.InvalidParameterValueError("SpikeSourceInhGamma a and tbins must be finite")
        # a bin is in force from the first step that starts at or after its time
        bin_step = -(-tics(np.maximum(times, 0.0)) // tics_per_step(dt))
        if shape.size == 0:
            shape = scale = bin_step = np.ones(1)
        return {"bin_begin": offsets[:-1], "bin_end": offsets[1:], "bin_step": bin_step.astype(np.int64), "shape": shape,
                "inv_scale": 1.0 / (1000.0 * scale), "lgamma_shape": np.array([math.lgamma(x) for x in shape]),
                **_active_steps(p, dt, "SpikeSourceInhGamma")}


def _sequences(values, name: str) -> list:
    """Per-cell float arrays of a Sequence parameter."""
    out = [np.asarray(value.value if isinstance(value, Sequence) else value, dtype=float).ravel()
           for value in np.atleast_1d(values)]
    for array in out:
        if np.isnan(array).any():
            raise errors.InvalidParameterValueError("%s must be numbers, got %s" % (name, array[:10]))
    return out


def _copied(value):
    """A copy of one parameter value: spike-time Sequences by their arrays, anything else as deepcopy would."""
    if isinstance(value, Sequence):
        return Sequence(np.array(value.value))
    if isinstance(value, np.ndarray) and value.dtype == object:
        out = np.empty(value.shape, dtype=object)
        out.ravel()[:] = [_copied(item) for item in value.ravel()]
        return out
    return deepcopy(value)


class _QuickTranslation:
    """translate() of identity translations copying each value, not deep-copying the parameter space: PyNN's
    deepcopy takes about 12 ms for 1568 spike-time sequences, which a stimulus loop sets for every image."""

    def translate(self, parameters, copy=True):
        if copy:
            parameters, values = shallow_copy(parameters), parameters.items()
            parameters._parameters = {name: _copied_lazy(lazy) for name, lazy in values}
        return super().translate(parameters, copy=False)


def _copied_lazy(lazy):
    if not hasattr(lazy, "base_value"):   # a parameter space evaluated already holds arrays
        return _copied(lazy)
    new = shallow_copy(lazy)
    new.base_value = _copied(lazy.base_value)
    new.operations = list(lazy.operations)
    return new


class SpikeSourceArray(_QuickTranslation, cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity("spike_times")
    device_model = SpikeArraySource()


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity("rate", "start", "duration")
    device_model = PoissonSource()


class SpikeSourcePoissonRefractory(cells.SpikeSourcePoissonRefractory):
    __doc__ = cells.SpikeSourcePoissonRefractory.__doc__
    translations = _identity("rate", "tau_refrac", "start", "duration")
    device_model = PoissonRefractorySource()


class SpikeSourceGamma(cells.SpikeSourceGamma):
    __doc__ = cells.SpikeSourceGamma.__doc__
    translations = _identity("alpha", "beta", "start", "duration")
    device_model = GammaSource()


class SpikeSourceInhGamma(cells.SpikeSourceInhGamma):
    __doc__ = cells.SpikeSourceInhGamma.__doc__
    translations = _identity("a", "b", "tbins", "start", "duration")
    device_model = InhGammaSource()
