"""Standard cell types: PyNN names and units are used natively (mV, nA, nF, uS, ms, Hz); each type carries a
device model that says which kernel updates it, its state arrays, and the per-neuron coefficients that
kernel needs (exact-integration propagators computed here, in float64, from the parameters)."""
from __future__ import annotations

import numpy as np
from pyNN import errors
from pyNN.parameters import Sequence
from pyNN.standardmodels import build_translations, cells

from ..timegrid import duration_steps, grid_steps, spike_stamp_steps

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
    """How a population of one cell type lives on the device: its kernel, whose parameters are bound by name
    to the population's device arrays (state, coefficients, input ring, spike list, counters) and to the
    scalars clock, n, L (ring slots) and dt."""
    kernel = ""
    is_source = False
    receptors: tuple = ("excitatory", "inhibitory")   # PyNN receptor types, in the order of the input ring
    state: dict = {}        # state array -> (PyNN initial-value name or None for 0, kind)
    recordables: dict = {}  # PyNN variable -> state array
    # int32 event counters the kernel increments (last arguments) -> what an event means (a template filled
    # by counter_context); the host warns
    counters: dict = {}

    def counter_context(self, dt: float) -> dict:
        return {}

    def spike_capacity(self, size: int, coefficients: dict) -> int:
        """The most spikes the population can emit in one step (a neuron spikes at most once a step)."""
        return size

    def max_spikes_per_step(self, n_cells: int, capacity: int) -> int:
        """The most spikes `n_cells` of the population can emit in one step."""
        return min(n_cells, capacity)

    def coefficients(self, p: dict, dt: float) -> dict:
        """Per-neuron kernel coefficients from the parameters (validating them), in kernel argument order."""
        raise NotImplementedError

    def kernel_arguments(self, group) -> dict:
        """What the kernel's parameters are bound to, by name."""
        sim = group.sim
        return dict(group.device, clock=sim._clock, n=np.int32(group.size), L=np.int32(group.slots),
                    dt=sim.real(sim.dt), **group.spike_list())


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

    def coefficients(self, p, dt):
        """CSR of emission steps: a spike at time t is emitted in the update step that ends at t (times between
        grid points go to the next grid point, as with pyNN.nest on the grid)."""
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
        return {"offsets": offsets, "emit_step": emit_step if emit_step.size else np.full(1, -1, np.int64)}

    def spike_capacity(self, size, coefficients):
        """The most spikes given for any one step (several per neuron where times share a step)."""
        emit_step = coefficients["emit_step"]
        return int(np.unique(emit_step, return_counts=True)[1].max()) if emit_step.size else 1

    def max_spikes_per_step(self, n_cells, capacity):
        return capacity




class PoissonSource(DeviceModel):
    kernel = "spike_source_poisson_update"
    is_source = True
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
        return {"mean_count": mean_count,
                "first_step": grid_steps(p["start"], dt, "SpikeSourcePoisson start"),
                "end_step": grid_steps(np.asarray(p["start"], dtype=float) + p["duration"], dt,
                                       "SpikeSourcePoisson start + duration")}

    def kernel_arguments(self, group):
        sim = group.sim
        return dict(super().kernel_arguments(group), seed=np.uint64(sim.rng_seed),
                    stream=sim.rng_stream("poisson", group.index))


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
