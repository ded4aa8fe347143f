"""Hodgkin-Huxley cells (Traub & Miles) as NEST's hh_cond_exp_traub: PyNN's HH_cond_exp. The kernel
(cuda/hh_cond_exp.cu) integrates by adaptive RKF45 (cuda/rkf45.cuh) as NEST does with GSL, in NEST's units (the
coefficients below are NEST's parameters as pyNN.nest translates them); the state arrays hold PyNN's, the
conductances also NEST's."""
from __future__ import annotations

import numpy as np
from pyNN.standardmodels import cells

from ..timegrid import duration_steps
from .cells import (INT, REAL, DeviceModel, _check, _identity,
                    rkf45_overruns)

NEST_T_REF = 2.0   # ms: hh_cond_exp_traub's default t_ref, which PyNN's HH_cond_exp leaves as it is


def _values(parameters, name):
    return np.asarray(parameters[name], dtype=float)


class HodgkinHuxleyCondExp(DeviceModel):
    kernel = "hh_cond_exp_update"
    state = {"v": ("v", REAL), "m_act": ("m", REAL), "h_inact": ("h", REAL), "n_act": ("n", REAL),
             "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL), "refractory": (None, INT),
             "h_step": (None, REAL),   # RKF45's next step, 0 = dt
             "g_exc_nest": (None, REAL), "g_inh_nest": (None, REAL)}   # nS (see nest_units_load, cuda/rkf45.cuh)
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh"}
    counters = rkf45_overruns("1e-3")

    def coefficients(self, p, dt):
        # NEST checks C_m > 0 and tau_syn > 0 only; negative conductances make no neuron either
        _check(p, positive=("cm", "tau_syn_E", "tau_syn_I"), non_negative=("gbar_Na", "gbar_K", "g_leak"))
        size = np.broadcast(*(np.asarray(v) for v in p.values())).shape
        return {
            "g_na": _values(p, "gbar_Na") * 1000.0, "g_k": _values(p, "gbar_K") * 1000.0,   # nS
            "g_l": _values(p, "g_leak") * 1000.0, "c_m": _values(p, "cm") * 1000.0,          # nS, pF
            "e_na": p["e_rev_Na"], "e_k": p["e_rev_K"], "e_l": p["e_rev_leak"], "v_t": p["v_offset"],
            "e_exc": p["e_rev_E"], "e_inh": p["e_rev_I"], "tau_exc": p["tau_syn_E"], "tau_inh": p["tau_syn_I"],
            "i_offset": _values(p, "i_offset") * 1000.0,   # pA
            "refractory_steps": np.broadcast_to(duration_steps(NEST_T_REF, dt, "t_ref").astype(np.int32), size),
        }


class HH_cond_exp(cells.HH_cond_exp):
    __doc__ = cells.HH_cond_exp.__doc__
    translations = _identity("gbar_Na", "gbar_K", "g_leak", "cm", "v_offset", "e_rev_Na", "e_rev_K", "e_rev_leak",
                             "e_rev_E", "e_rev_I", "tau_syn_E", "tau_syn_I", "i_offset")
    device_model = HodgkinHuxleyCondExp()
