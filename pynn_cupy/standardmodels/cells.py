"""Standard cell types: PyNN names and units are used natively (mV, nA, nF, uS, ms, Hz); each type carries a
device model that says which kernel updates it, its state arrays, and the per-neuron coefficients that
kernel needs (exact-integration propagators computed here, in float64, from the parameters)."""
from __future__ import annotations

import numpy as np
from pyNN import errors
from pyNN.standardmodels import StandardCellType, build_translations, cells

from ..timegrid import duration_steps

REAL, INT = "real", "int"


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
    cleared_with: dict = {}  # state array -> state arrays set to 0 where initialize() sets it between runs

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


class IafCondExpTheta(IafCondExp):
    kernel = "iaf_cond_exp_theta_update"
    state = {"v": ("v", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL), "theta": ("theta", REAL),
             "theta_lo": (None, REAL), "refractory": (None, INT)}
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh", "theta": "theta"}
    cleared_with = {"theta": ("theta_lo",)}   # theta_lo: what theta's decay lost to rounding (cuda/iaf_cond.cu)

    def coefficients(self, p, dt):
        _check(p, positive=("tau_theta",), non_negative=("theta_plus",))
        if not np.isfinite(np.asarray(p["theta_plus"], dtype=float)).all():
            raise errors.InvalidParameterValueError("theta_plus must be finite, got %s" % p["theta_plus"])
        coefficients = super().coefficients(p, dt)
        coefficients.update(theta_rate=-np.expm1(-dt / np.asarray(p["tau_theta"], dtype=float)),
                            theta_plus=p["theta_plus"])
        return coefficients


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


class IF_cond_exp_adaptive_threshold(StandardCellType):
    """IF_cond_exp with the adaptive threshold of Diehl & Cook 2015 (pyNN.cupy extension; their Brian model of
    the excitatory neurons): the cell spikes when v >= v_thresh + theta. theta (mV, a state variable: initialize,
    record) decays exponentially with tau_theta (ms > 0; inf: no decay) and rises by theta_plus (mV, finite, >= 0)
    at each spike; a theta that is not finite stops the run (pynn_cupy.exceptions.NumericalInstabilityError).
    With theta_plus = 0 and theta = 0 it is IF_cond_exp (NEST iaf_cond_exp), bit for bit; no NEST model has
    this threshold. Per step: v and the conductances as IF_cond_exp, then theta decays, then the threshold test."""
    default_parameters = dict(cells.IF_cond_exp.default_parameters, theta_plus=0.05, tau_theta=1e7)
    recordable = cells.IF_cond_exp.recordable + ["theta"]
    default_initial_values = dict(cells.IF_cond_exp.default_initial_values, theta=0.0)
    units = dict(cells.IF_cond_exp.units, theta="mV", theta_plus="mV", tau_theta="ms")
    translations = _identity(*_LIF, "e_rev_E", "e_rev_I", "theta_plus", "tau_theta")
    device_model = IafCondExpTheta()


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
