"""Adaptive exponential integrate-and-fire cells (Brette & Gerstner 2005) as NEST's aeif_cond_exp and
aeif_cond_alpha: PyNN's EIF_cond_exp_isfa_ista and EIF_cond_alpha_isfa_ista. The kernels (cuda/aeif_cond.cu)
integrate the whole state by adaptive RKF45 (cuda/rkf45.cuh) as NEST does with GSL; the state arrays hold PyNN's
units (mV, uS, nA; w in nA as pyNN.nest records it), the kernels integrate in NEST's (mV, pF, nS, pA), so the
coefficients below are NEST's parameters, computed as pyNN.nest translates them, and keep w and g in NEST's units
between steps too."""
from __future__ import annotations

import numpy as np
from pyNN import errors
from pyNN.standardmodels import cells

from .cells import (INT, REAL, DeviceModel, _check, _identity, _refractory_steps,
                    rkf45_overruns)

# NEST refuses (V_peak - V_th) / Delta_T at or above this: exp() would come within 1e20 of overflowing
_MAX_EXP_ARG = np.log(np.finfo(np.float64).max / 1e20)


def _values(parameters, name):
    return np.asarray(parameters[name], dtype=float)


def _check_adexp(p: dict) -> None:
    """NEST's checks of aeif_cond_* (Parameters_::set), with the PyNN names and values."""
    _check(p, positive=("cm", "tau_m", "tau_w", "tau_syn_E", "tau_syn_I"), non_negative=("tau_refrac", "delta_T"))
    v_spike, v_thresh, v_reset, delta_t = (_values(p, name) for name in ("v_spike", "v_thresh", "v_reset", "delta_T"))
    bad = np.broadcast_to(v_spike < v_thresh, np.broadcast(v_spike, v_thresh).shape)
    if bad.any():
        raise errors.InvalidParameterValueError("v_spike must not be below v_thresh, got v_spike=%s, v_thresh=%s"
                                                % (v_spike, v_thresh))
    if np.broadcast_to(v_reset >= v_spike, np.broadcast(v_reset, v_spike).shape).any():
        raise errors.InvalidParameterValueError("v_reset must be below v_spike, got v_reset=%s, v_spike=%s"
                                                % (v_reset, v_spike))
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.where(delta_t > 0, (v_spike - v_thresh) / np.where(delta_t > 0, delta_t, 1.0), 0.0)
    if (exponent >= _MAX_EXP_ARG).any():
        raise errors.InvalidParameterValueError(
            "(v_spike - v_thresh) / delta_T = %g would overflow exp() at the spike (as NEST refuses): increase "
            "delta_T or lower v_spike" % np.max(exponent))


class AdExpCond(DeviceModel):
    """The device side of aeif_cond_exp; AdExpCondAlpha adds the alpha conductances' derivatives."""
    kernel = "aeif_cond_exp_update"
    state = {"v": ("v", REAL), "w": ("w", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL),
             "refractory": (None, INT), "h_step": (None, REAL),   # h_step: RKF45's next step, 0 = dt
             # w (pA), g (nS) in NEST's units between steps (see nest_units_load in cuda/rkf45.cuh)
             "w_nest": (None, REAL), "g_exc_nest": (None, REAL), "g_inh_nest": (None, REAL)}
    recordables = {"v": "v", "w": "w", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh"}
    counters = {
        **rkf45_overruns("1e-6"),
        "merged_spikes": "further spikes of a neuron within one time step (tau_refrac = 0 and a strong drive: "
                         "NEST emits each) were merged into the step's one spike (w was incremented for each)",
    }

    def coefficients(self, p, dt):
        _check_adexp(p)
        delta_t = _values(p, "delta_T")
        return {
            "c_m": _values(p, "cm") * 1000.0, "g_l": _values(p, "cm") / _values(p, "tau_m") * 1000.0,   # pF, nS
            "e_l": p["v_rest"], "delta_t": delta_t,
            "v_th": p["v_thresh"], "v_peak": p["v_spike"],
            "v_detect": np.where(delta_t > 0, p["v_spike"], p["v_thresh"]),   # NEST's V_.V_peak
            "v_reset": p["v_reset"], "e_exc": p["e_rev_E"], "e_inh": p["e_rev_I"],
            "a": p["a"], "b": _values(p, "b") * 1000.0,   # nS, pA
            "tau_w": p["tau_w"], "tau_exc": p["tau_syn_E"], "tau_inh": p["tau_syn_I"],
            "i_offset": _values(p, "i_offset") * 1000.0, "refractory_steps": _refractory_steps(p, dt),   # pA
        }


class AdExpCondAlpha(AdExpCond):
    kernel = "aeif_cond_alpha_update"
    state = dict(AdExpCond.state, dg_exc=(None, REAL), dg_inh=(None, REAL))   # nS/ms

    def coefficients(self, p, dt):
        coefficients = super().coefficients(p, dt)
        coefficients.update(jump_exc=1.0 * np.e / _values(p, "tau_syn_E"),   # NEST's g0 = 1.0 * e / tau
                            jump_inh=1.0 * np.e / _values(p, "tau_syn_I"))
        return coefficients


_ADEXP = ("cm", "tau_refrac", "v_spike", "v_reset", "v_rest", "tau_m", "i_offset", "a", "b", "delta_T", "tau_w",
          "v_thresh", "e_rev_E", "tau_syn_E", "e_rev_I", "tau_syn_I")


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    translations = _identity(*_ADEXP)
    device_model = AdExpCond()


class EIF_cond_alpha_isfa_ista(cells.EIF_cond_alpha_isfa_ista):
    __doc__ = cells.EIF_cond_alpha_isfa_ista.__doc__
    translations = _identity(*_ADEXP)
    device_model = AdExpCondAlpha()
