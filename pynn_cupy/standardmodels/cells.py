"""Standard cell types: PyNN names and units are used natively (mV, nA, nF, uS, ms, Hz); each type carries a
device model that says which kernel updates it, its state arrays, and the per-neuron coefficients that
kernel needs (exact-integration propagators computed here, in float64, from the parameters)."""
from __future__ import annotations

import math

import numpy as np
from pyNN import errors
from pyNN.parameters import Sequence
from pyNN.standardmodels import build_translations, cells

from ..timegrid import duration_steps, grid_steps, spike_stamp_steps, tics, tics_per_step

REAL, INT = "real", "int"
MAX_MEAN_COUNT = 500   # spikes per step and source: the Poisson draw by inverse transform stays exact below it


def _identity(*names):
    return build_translations(*[(name, name) for name in names])


def _check(parameters: dict, positive=(), non_negative=()) -> None:
    for name in positive:
        bad = ~(np.asarray(parameters[name]) > 0)   # NaN too
        if bad.any():
            raise errors.InvalidParameterValueError(
                "%s must be positive, got %s" % (name, np.asarray(parameters[name])[bad][:5]))
    for name in non_negative:
        bad = ~(np.asarray(parameters[name]) >= 0)
        if bad.any():
            raise errors.InvalidParameterValueError(
                "%s must not be negative, got %s" % (name, np.asarray(parameters[name])[bad][:5]))


def _check_reset(parameters: dict) -> None:
    bad = np.asarray(parameters["v_reset"]) >= np.asarray(parameters["v_thresh"])
    if bad.any():
        raise errors.InvalidParameterValueError(
            "v_reset must be below v_thresh, got v_reset=%s, v_thresh=%s"
            % (np.asarray(parameters["v_reset"]), np.asarray(parameters["v_thresh"])))


RKF45_MAX_TRIES = 10000   # step attempts per neuron and time step: RKF45_MAX_TRIES in cuda/rkf45.cuh


def rkf45_overruns(tolerance: str) -> dict:
    """The counter of a model integrated by cuda/rkf45.cuh with NEST's `tolerance`."""
    return {"rkf45_overruns": "neuron-steps needed more than %d RKF45 step attempts to meet NEST's tolerance (%s; "
                              "NEST takes them all): a very stiff parameter, such as a time constant far below the "
                              "time step; the rest of each such step was taken in one step without error control, "
                              "which may be far off" % (RKF45_MAX_TRIES, tolerance)}


def _refractory_steps(parameters: dict, dt: float) -> np.ndarray:
    steps = duration_steps(parameters["tau_refrac"], dt, "tau_refrac")
    if (steps > np.iinfo(np.int32).max).any():
        raise errors.InvalidParameterValueError("tau_refrac must be finite, got %s" % parameters["tau_refrac"])
    return steps.astype(np.int32)


def _relaxation_integral(x):
    """(1 - exp(-x)) / x, stable near x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1 - x / 2 + x * x / 6, -np.expm1(-safe) / safe)


def _ramp_integral(x):
    """(1 - exp(-x) (1 + x)) / x^2, stable near x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    safe = np.where(small, 1.0, x)
    exact = (-np.expm1(-safe) - safe * np.exp(-safe)) / (safe * safe)
    return np.where(small, 0.5 - x / 3 + x * x / 8 - x ** 3 / 30, exact)


def current_propagators(tau_syn, tau_m, cm, dt):
    """Membrane response after dt to a unit exponential current (p_v_i) and to a unit alpha-current
    derivative (p_v_di), both starting at 0 and decaying with tau_syn; NEST's exact-integration propagators."""
    rate_difference = 1.0 / tau_syn - 1.0 / tau_m
    decay = np.exp(-dt / tau_m) / cm
    p_v_i = decay * dt * _relaxation_integral(rate_difference * dt)
    p_v_di = decay * dt * dt * _ramp_integral(rate_difference * dt)
    return p_v_i, p_v_di


class DeviceModel:
    """How the populations of one cell type live on the device, in one batch (groups.NeuronBatch): the kernel,
    whose parameters are bound by name to the batch's arrays (state, coefficient tables, input ring, spike list,
    layout, counters) and to the scalars clock, n (neurons), n_rows (table rows), L (ring slots) and dt.

    `coefficients` gives per-population values: scalars, arrays of one value per neuron, or [K][neuron] arrays
    (K entries per neuron, read by the kernel at k * n_rows + row), and the `pooled` data of variable length
    (several values per neuron, located by per-neuron begin/end coefficients, e.g. spike times)."""
    kernel = ""
    is_source = False
    receptors: tuple = ("excitatory", "inhibitory")   # PyNN receptor types, in the order of the input ring
    state: dict = {}        # state array -> (PyNN initial-value name or None for 0, kind)
    recordables: dict = {}  # PyNN variable -> state array
    rng_purpose = ""        # models drawing random numbers: their purpose (simulator.RNG_PURPOSES): seed, stream
    # int32 event counters the kernel increments (last arguments) -> what an event means (a template filled
    # by counter_context); the host warns
    counters: dict = {}
    pooled: dict = {}       # (begin, end) coefficient names -> names of the pooled data arrays they index

    @property
    def pooled_names(self) -> set:
        return {name for names in self.pooled.values() for name in names}

    def batch_key(self) -> tuple:
        """Populations whose models have the same key share a batch (and so the kernel and coefficient names)."""
        return (self.kernel, self.receptors)

    def live_state(self) -> tuple:
        """The batch's arrays that hold neuron state, carried over when the batch grows."""
        return tuple(self.state)

    def counter_context(self, dt: float) -> dict:
        return {}

    def spike_capacity(self, size: int, coefficients: dict) -> int:
        """The most spikes the population can emit in one step (a neuron spikes at most once a step)."""
        return size

    def max_spikes_per_step(self, n_cells: int, capacity: int) -> int:
        """The most spikes `n_cells` of the population can emit in one step."""
        return min(n_cells, capacity)

    def build_state(self, batch) -> None:
        """Device arrays beyond `state` (e.g. state arrays sharing one storage), made before the state arrays."""

    def after_write(self, batch) -> None:
        """Called after the coefficient tables were written (and after a reset)."""

    def coefficients(self, p: dict, dt: float) -> dict:
        """Per-neuron kernel coefficients from the parameters (validating them), by kernel parameter name."""
        raise NotImplementedError

    def kernel_arguments(self, batch) -> dict:
        """What the kernel's parameters are bound to, by name."""
        arguments = batch.kernel_arguments()
        if self.rng_purpose:
            sim = batch.sim
            arguments.update(seed=np.uint64(sim.rng_seed), stream=sim.rng_stream(self.rng_purpose, batch.index))
        return arguments


class IafPscExp(DeviceModel):
    kernel = "iaf_psc_exp_update"
    state = {"v": ("v", REAL), "i_exc": ("isyn_exc", REAL), "i_inh": ("isyn_inh", REAL),
             "refractory": (None, INT)}
    recordables = {"v": "v", "isyn_exc": "i_exc", "isyn_inh": "i_inh"}

    def coefficients(self, p, dt):
        _check(p, positive=("tau_m", "cm", "tau_syn_E", "tau_syn_I"), non_negative=("tau_refrac",))
        _check_reset(p)
        p_v_exc, _ = current_propagators(p["tau_syn_E"], p["tau_m"], p["cm"], dt)
        p_v_inh, _ = current_propagators(p["tau_syn_I"], p["tau_m"], p["cm"], dt)
        return {
            "e_l": p["v_rest"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"], "i_offset": p["i_offset"],
            "refractory_steps": _refractory_steps(p, dt),
            "p_vv": np.exp(-dt / p["tau_m"]), "p_v_exc": p_v_exc, "p_v_inh": p_v_inh,
            "p_v_i": -p["tau_m"] / p["cm"] * np.expm1(-dt / p["tau_m"]),
            "p_exc": np.exp(-dt / p["tau_syn_E"]), "p_inh": np.exp(-dt / p["tau_syn_I"]),
        }


class IafPscAlpha(DeviceModel):
    kernel = "iaf_psc_alpha_update"
    state = {"v": ("v", REAL), "i_exc": ("isyn_exc", REAL), "i_inh": ("isyn_inh", REAL),
             "di_exc": ("isyn_exc_dot", REAL), "di_inh": ("isyn_inh_dot", REAL), "refractory": (None, INT)}
    recordables = {"v": "v", "isyn_exc": "i_exc", "isyn_inh": "i_inh"}

    def coefficients(self, p, dt):
        _check(p, positive=("tau_m", "cm", "tau_syn_E", "tau_syn_I"), non_negative=("tau_refrac",))
        _check_reset(p)
        p_v_i_exc, p_v_di_exc = current_propagators(p["tau_syn_E"], p["tau_m"], p["cm"], dt)
        p_v_i_inh, p_v_di_inh = current_propagators(p["tau_syn_I"], p["tau_m"], p["cm"], dt)
        p_exc, p_inh = np.exp(-dt / p["tau_syn_E"]), np.exp(-dt / p["tau_syn_I"])
        return {
            "e_l": p["v_rest"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"], "i_offset": p["i_offset"],
            "refractory_steps": _refractory_steps(p, dt),
            "p_vv": np.exp(-dt / p["tau_m"]),
            "p_v_di_exc": p_v_di_exc, "p_v_i_exc": p_v_i_exc, "p_v_di_inh": p_v_di_inh, "p_v_i_inh": p_v_i_inh,
            "p_v_i": -p["tau_m"] / p["cm"] * np.expm1(-dt / p["tau_m"]),
            "p_exc": p_exc, "p_inh": p_inh, "p_i_di_exc": dt * p_exc, "p_i_di_inh": dt * p_inh,
            "jump_exc": np.e / p["tau_syn_E"], "jump_inh": np.e / p["tau_syn_I"],
        }


class IafCond(DeviceModel):
    counters = {"stiff_steps": "neuron-steps were stiffer than 2^8 RK4 sub-steps of the time step follow (a rate "
                               "above {max_rate:g} per ms: total conductance / cm, or 1 / tau_syn) and were "
                               "integrated by the exponential midpoint rule instead"}
    MAX_RATE_TIMES_DT = 0.1 * 2 ** 8   # MAX_STIFFNESS * 2^MAX_HALVINGS in cuda/iaf_cond.cu

    def counter_context(self, dt):
        return {"max_rate": self.MAX_RATE_TIMES_DT / dt}

    def coefficients(self, p, dt):
        _check(p, positive=("tau_m", "cm", "tau_syn_E", "tau_syn_I"), non_negative=("tau_refrac",))
        _check_reset(p)
        return {
            "inv_c_m": 1.0 / p["cm"], "g_leak": p["cm"] / p["tau_m"], "e_l": p["v_rest"], "e_exc": p["e_rev_E"],
            "e_inh": p["e_rev_I"], "rate_exc": 1.0 / p["tau_syn_E"], "rate_inh": 1.0 / p["tau_syn_I"],
            "i_offset": p["i_offset"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"],
            "refractory_steps": _refractory_steps(p, dt),
            "decay_exc": np.exp(-dt / p["tau_syn_E"]), "decay_inh": np.exp(-dt / p["tau_syn_I"]),
            "decay_exc_half": np.exp(-0.5 * dt / p["tau_syn_E"]), "decay_inh_half": np.exp(-0.5 * dt / p["tau_syn_I"]),
        }


class IafCondExp(IafCond):
    kernel = "iaf_cond_exp_update"
    state = {"v": ("v", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL),
             "refractory": (None, INT)}
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh"}


class IafCondAlpha(IafCond):
    kernel = "iaf_cond_alpha_update"
    state = {"v": ("v", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL),
             "dg_exc": ("gsyn_exc_dot", REAL), "dg_inh": ("gsyn_inh_dot", REAL),
             "refractory": (None, INT)}
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh"}

    def coefficients(self, p, dt):
        coefficients = super().coefficients(p, dt)
        coefficients.update(jump_exc=np.e / p["tau_syn_E"], jump_inh=np.e / p["tau_syn_I"])
        return coefficients


class SpikeArraySource(DeviceModel):
    kernel = "spike_source_array_update"
    is_source = True
    receptors = ()

    pooled = {("spike_begin", "spike_end"): ("emit_step",)}

    def coefficients(self, p, dt):
        """The emission steps of each neuron's spikes: a spike at time t is emitted in the update step that ends
        at t (times between grid points go to the next grid point, as with pyNN.nest on the grid)."""
        trains = [np.asarray(value.value if isinstance(value, Sequence) else value, dtype=float).ravel()
                  for value in np.atleast_1d(p["spike_times"])]
        for train in trains:
            if not np.isfinite(train).all():
                raise errors.InvalidParameterValueError("spike_times must be finite, got %s" % train[:10])
            if train.size > 1 and np.any(np.diff(train) < 0):
                raise errors.InvalidParameterValueError(
                    "spike_times must be sorted in increasing order, got %s" % train[:10])
        offsets = np.concatenate([[0], np.cumsum([train.size for train in trains])]).astype(np.int64)
        flat = np.concatenate(trains) if trains else np.zeros(0)
        stamp = spike_stamp_steps(np.maximum(flat, 0.0), dt)   # off-grid times round up, as NEST
        if (flat < 0).any() or (stamp < 1).any():
            raise errors.InvalidParameterValueError(
                "spike_times must be after 0 ms (as NEST: no step emits a spike at 0), got %g ms"
                % flat[(flat < 0) | (stamp < 1)][0])
        emit_step = stamp - 1
        return {"spike_begin": offsets[:-1], "spike_end": offsets[1:],
                "emit_step": emit_step if emit_step.size else np.full(1, -1, np.int64)}

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
        return {"mean_count": mean_count, **_active_steps(p, dt, "SpikeSourcePoisson")}


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


_LIF = ("tau_m", "cm", "v_rest", "v_thresh", "v_reset", "tau_refrac", "i_offset", "tau_syn_E", "tau_syn_I")


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    translations = _identity(*_LIF)
    device_model = IafPscExp()


class IF_curr_alpha(cells.IF_curr_alpha):
    __doc__ = cells.IF_curr_alpha.__doc__
    translations = _identity(*_LIF)
    device_model = IafPscAlpha()


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    translations = _identity(*_LIF, "e_rev_E", "e_rev_I")
    device_model = IafCondExp()


class IF_cond_alpha(cells.IF_cond_alpha):
    __doc__ = cells.IF_cond_alpha.__doc__
    translations = _identity(*_LIF, "e_rev_E", "e_rev_I")
    device_model = IafCondAlpha()


class SpikeSourceArray(cells.SpikeSourceArray):
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


class IafPscDelta(DeviceModel):
    """NEST's iaf_psc_delta: an input of weight w (mV) makes v jump by w; inputs arriving while refractory are
    discarded (NEST's default refractory_input = false)."""
    kernel = "iaf_psc_delta_update"
    state = {"v": ("v", REAL), "refractory": (None, INT)}
    recordables = {"v": "v"}

    def coefficients(self, p, dt):
        _check(p, positive=("tau_m", "cm"), non_negative=("tau_refrac",))
        _check_reset(p)
        return {
            "e_l": p["v_rest"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"], "i_offset": p["i_offset"],
            "refractory_steps": _refractory_steps(p, dt),
            "p_vv": np.exp(-dt / p["tau_m"]), "p_v_i": -p["tau_m"] / p["cm"] * np.expm1(-dt / p["tau_m"]),
        }


class IzhikevichModel(DeviceModel):
    """NEST's izhikevich with consistent_integration = true (forward Euler from the old v and u, input spikes
    added to v after the step, threshold 30 mV); currents in pA as NEST (1000 x nA)."""
    kernel = "izhikevich_update"
    state = {"v": ("v", REAL), "u": ("u", REAL)}
    recordables = {"v": "v", "u": "u"}

    def coefficients(self, p, dt):
        return {"a": p["a"], "b": p["b"], "c": p["c"], "d": p["d"],
                "i_offset_pa": np.asarray(p["i_offset"], dtype=float) * 1000.0}


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    translations = _identity("tau_m", "cm", "v_rest", "v_thresh", "v_reset", "tau_refrac", "i_offset")
    device_model = IafPscDelta()


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    translations = _identity("a", "b", "c", "d", "i_offset")
    device_model = IzhikevichModel()
