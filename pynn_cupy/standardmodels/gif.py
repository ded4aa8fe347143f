"""The NEST conductance-based variants of the integrate-and-fire cell: GIF_cond_exp (NEST gif_cond_exp),
IF_cond_exp_gsfa_grr (iaf_cond_exp_sfa_rr) and IF_facets_hardware1 (iaf_cond_exp with fixed parameters).

Generalized integrate-and-fire cells with escape noise as NEST's gif_cond_exp: PyNN's GIF_cond_exp. The kernel
(cuda/gif_cond_exp.cu) integrates V and the conductances by adaptive RKF45 (cuda/rkf45.cuh) with NEST's control, in
NEST's units; the coefficients below are NEST's parameters computed as pyNN.nest translates them. Spikes are drawn on
the device (Philox), so spike trains agree with NEST's statistically; with lambda0 = 0 (no spikes) or an escape
rate so steep that the draw cannot matter, the whole state agrees with NEST's deterministically."""
from __future__ import annotations

import math

import numpy as np
from pyNN import errors
from pyNN.parameters import ArrayParameter
from pyNN.standardmodels import cells

from .cells import (INT, REAL, DeviceModel, IafCondExp, _check, _check_reset, _identity, _refractory_steps,
                    rkf45_overruns)


def _values(parameters, name):
    return np.asarray(parameters[name], dtype=float)


def _rows(values, name: str) -> list:
    """Per-cell float arrays of an ArrayParameter parameter."""
    values = values if isinstance(values, (list, tuple)) or getattr(values, "dtype", None) == object \
        else np.atleast_1d(values)
    rows = [np.asarray(value.value if isinstance(value, ArrayParameter) else value, dtype=float).ravel()
            for value in values]
    for row in rows:
        if np.isnan(row).any():
            raise errors.InvalidParameterValueError("%s must be numbers, got %s" % (name, row[:10]))
    return rows


def _exp_of(x: np.ndarray) -> np.ndarray:
    """exp elementwise by the C library (what NEST's std::exp gives), over the distinct values only."""
    unique, inverse = np.unique(x, return_inverse=True)
    return np.array([math.exp(u) for u in unique])[inverse].reshape(x.shape)


def _components(p: dict, tau_name: str, q_name: str, scale: float, size: int, dt: float) -> tuple:
    """(count per cell, q laid out [component][cell], exp(-dt / tau) likewise) of one sum of exponentials."""
    taus, qs = _rows(p[tau_name], tau_name), _rows(p[q_name], q_name)
    if len(taus) == 1 and size > 1:
        taus = taus * size
    if len(qs) == 1 and size > 1:
        qs = qs * size
    for tau, q in zip(taus, qs):
        if tau.size != q.size:
            raise errors.InvalidParameterValueError(
                "%s and %s must have the same length (as NEST's tau/q pairs), got %s and %s"
                % (tau_name, q_name, tau.tolist(), q.tolist()))
        if not (tau > 0).all():
            raise errors.InvalidParameterValueError("%s must be positive, got %s" % (tau_name, tau[~(tau > 0)][:5]))
    counts = np.array([tau.size for tau in taus], dtype=np.int32)
    width = max(1, int(counts.max()) if counts.size else 1)
    q_table, decay_table = np.zeros((width, size)), np.ones((width, size))
    for i, (tau, q) in enumerate(zip(taus, qs)):
        q_table[:tau.size, i] = q * scale
        decay_table[:tau.size, i] = _exp_of(-dt / tau)   # NEST: std::exp(-h / tau)
    return counts, q_table, decay_table


class GifCondExp(DeviceModel):
    kernel = "gif_cond_exp_update"
    rng_purpose = "gif"
    state = {"v": ("v", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL),
             "i_eta": ("i_eta", REAL), "v_t": ("v_t", REAL),   # recomputed every step (NEST: not settable)
             "refractory": (None, INT), "h_step": (None, REAL),   # h_step: RKF45's next step, 0 = dt
             "g_exc_nest": (None, REAL), "g_inh_nest": (None, REAL)}   # nS (see nest_units_load, cuda/rkf45.cuh)
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh", "i_eta": "i_eta", "v_t": "v_t"}
    counters = rkf45_overruns("1e-3")

    def coefficients(self, p, dt):
        # NEST's checks (Parameters_::set), with the PyNN names and values
        _check(p, positive=("cm", "tau_m", "delta_v", "tau_syn_E", "tau_syn_I"),
               non_negative=("tau_refrac", "lambda0"))
        size = np.broadcast(*(np.asarray(p[name]) for name in ("cm", "tau_m", "v_rest"))).shape
        size = int(np.prod(size)) if size else 1
        n_stc, q_stc, decay_stc = _components(p, "tau_eta", "a_eta", 1000.0, size, dt)   # nA -> pA
        n_sfa, q_sfa, decay_sfa = _components(p, "tau_gamma", "a_gamma", 1.0, size, dt)   # mV
        return {
            "c_m": _values(p, "cm") * 1000.0, "g_l": _values(p, "cm") / _values(p, "tau_m") * 1000.0,   # pF, nS
            "e_l": p["v_rest"], "v_reset": p["v_reset"], "e_exc": p["e_rev_E"], "e_inh": p["e_rev_I"],
            "tau_exc": p["tau_syn_E"], "tau_inh": p["tau_syn_I"],
            "i_offset": _values(p, "i_offset") * 1000.0,   # pA
            "delta_v": p["delta_v"], "v_t_star": p["v_t_star"],
            "lambda_0": _values(p, "lambda0") / 1000.0,   # Hz -> 1/ms, as NEST divides lambda_0
            "refractory_steps": _refractory_steps(p, dt),
            "n_stc": n_stc, "q_stc": q_stc, "decay_stc": decay_stc,
            "n_sfa": n_sfa, "q_sfa": q_sfa, "decay_sfa": decay_sfa,
        }

    def live_state(self):
        return tuple(self.state) + ("stc_elems", "sfa_elems")

    def after_write(self, batch) -> None:
        """The components of eta and gamma (as many per cell as the widest tau_eta / tau_gamma of the batch) live
        in [component][neuron] arrays of their own (cleared by the kernel at the first step of a trial)."""
        sim = batch.sim
        for elems, table in (("stc_elems", "q_stc"), ("sfa_elems", "q_sfa")):
            shape = (batch.device[table].shape[0], batch.size)
            old = batch.device.get(elems)
            if old is None or old.shape != shape:
                batch.device[elems] = sim.zeros(shape, sim.real)
                if old is not None and old.shape[1] == shape[1]:   # more or fewer components: keep the common ones
                    depth = min(old.shape[0], shape[0])
                    sim.write(batch.device[elems][:depth], old[:depth])


class GIF_cond_exp(cells.GIF_cond_exp):
    __doc__ = cells.GIF_cond_exp.__doc__
    translations = _identity("v_rest", "cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "e_rev_E", "e_rev_I",
                             "v_reset", "i_offset", "delta_v", "v_t_star", "lambda0", "tau_eta", "tau_gamma",
                             "a_eta", "a_gamma")
    device_model = GifCondExp()


class IafCondSfaRr(DeviceModel):
    """NEST's iaf_cond_exp_sfa_rr (cuda/gif_cond_exp.cu): RKF45 with NEST's control in NEST's units; g_sfa and g_rr
    in nS, PyNN's unit for them as well."""
    kernel = "iaf_cond_exp_sfa_rr_update"
    state = {"v": ("v", REAL), "g_exc": ("gsyn_exc", REAL), "g_inh": ("gsyn_inh", REAL),
             "g_sfa": ("g_s", REAL), "g_rr": ("g_r", REAL),
             "refractory": (None, INT), "h_step": (None, REAL),
             "g_exc_nest": (None, REAL), "g_inh_nest": (None, REAL)}
    recordables = {"v": "v", "gsyn_exc": "g_exc", "gsyn_inh": "g_inh", "g_s": "g_sfa", "g_r": "g_rr"}
    counters = GifCondExp.counters

    def coefficients(self, p, dt):
        # NEST's checks (Parameters_::set), with the PyNN names and values
        _check(p, positive=("cm", "tau_m", "tau_syn_E", "tau_syn_I", "tau_sfa", "tau_rr"),
               non_negative=("tau_refrac",))
        _check_reset(p)
        return {
            "c_m": _values(p, "cm") * 1000.0, "g_l": _values(p, "cm") / _values(p, "tau_m") * 1000.0,   # pF, nS
            "e_l": p["v_rest"], "v_th": p["v_thresh"], "v_reset": p["v_reset"],
            "e_exc": p["e_rev_E"], "e_inh": p["e_rev_I"], "e_sfa": p["e_rev_sfa"], "e_rr": p["e_rev_rr"],
            "tau_exc": p["tau_syn_E"], "tau_inh": p["tau_syn_I"], "tau_sfa": p["tau_sfa"], "tau_rr": p["tau_rr"],
            "q_sfa": p["q_sfa"], "q_rr": p["q_rr"],   # nS
            "i_offset": _values(p, "i_offset") * 1000.0,   # pA
            "refractory_steps": _refractory_steps(p, dt),
        }


class IF_cond_exp_gsfa_grr(cells.IF_cond_exp_gsfa_grr):
    __doc__ = cells.IF_cond_exp_gsfa_grr.__doc__
    translations = _identity("v_rest", "cm", "tau_m", "tau_refrac", "tau_syn_E", "tau_syn_I", "e_rev_E", "e_rev_I",
                             "v_thresh", "v_reset", "i_offset", "tau_sfa", "e_rev_sfa", "q_sfa", "tau_rr",
                             "e_rev_rr", "q_rr")
    device_model = IafCondSfaRr()


FACETS_CM, FACETS_TAU_REFRAC, FACETS_E_REV_E = 0.2, 1.0, 0.0   # nF, ms, mV: pyNN.nest's extra_parameters


class IafCondExpFacets(IafCondExp):
    """IF_facets_hardware1 as pyNN.nest runs it: iaf_cond_exp with C_m = 200 pF, t_ref = 1 ms, E_ex = 0 mV, I_e = 0
    and g_L = g_leak (nS); the IF_cond_exp kernel with those parameters."""

    def coefficients(self, p, dt):
        _check(p, positive=("g_leak",))
        g_leak = _values(p, "g_leak") / 1000.0   # nS -> uS
        full = dict(p, cm=np.full_like(g_leak, FACETS_CM), tau_m=FACETS_CM / g_leak,
                    tau_refrac=np.full_like(g_leak, FACETS_TAU_REFRAC), e_rev_E=np.full_like(g_leak, FACETS_E_REV_E),
                    i_offset=np.zeros_like(g_leak))
        coefficients = super().coefficients(full, dt)
        coefficients["g_leak"] = g_leak   # NEST is given g_L itself, not C_m / tau_m
        return coefficients


class IF_facets_hardware1(cells.IF_facets_hardware1):
    __doc__ = cells.IF_facets_hardware1.__doc__
    translations = _identity("g_leak", "tau_syn_E", "tau_syn_I", "v_reset", "e_rev_I", "v_rest", "v_thresh")
    device_model = IafCondExpFacets()
