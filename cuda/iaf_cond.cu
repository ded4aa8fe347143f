// Conductance-based leaky integrate-and-fire neurons as NEST's iaf_cond_exp / iaf_cond_alpha: the ODEs are
// integrated over each step by an adaptive Runge-Kutta-Fehlberg 4(5) scheme (NEST uses GSL's rkf45), keeping
// each neuron's last internal step size. After integration, this step's input spikes are added to the
// conductances; a refractory neuron is clamped to v_reset, otherwise the threshold is tested.
#include "common.cuh"

// Reciprocals of the capacitance and time constants, so that the right-hand sides need no division.
struct CondParams {
    REAL inv_c_m, g_leak, e_l, e_exc, e_inh, inv_tau_exc, inv_tau_inh, i_total;
};

// y = (v, g_exc, g_inh)
struct CondExpRhs {
    CondParams p;
    static const int size = 3;
    MEMBER void operator()(const REAL* y, REAL* f) const {
        f[0] = (-p.g_leak * (y[0] - p.e_l) - y[1] * (y[0] - p.e_exc) - y[2] * (y[0] - p.e_inh) + p.i_total) * p.inv_c_m;
        f[1] = -y[1] * p.inv_tau_exc;
        f[2] = -y[2] * p.inv_tau_inh;
    }
};

// y = (v, g_exc, g_inh, dg_exc, dg_inh)
struct CondAlphaRhs {
    CondParams p;
    static const int size = 5;
    MEMBER void operator()(const REAL* y, REAL* f) const {
        f[0] = (-p.g_leak * (y[0] - p.e_l) - y[1] * (y[0] - p.e_exc) - y[2] * (y[0] - p.e_inh) + p.i_total) * p.inv_c_m;
        f[1] = y[3] - y[1] * p.inv_tau_exc;
        f[2] = y[4] - y[2] * p.inv_tau_inh;
        f[3] = -y[3] * p.inv_tau_exc;
        f[4] = -y[4] * p.inv_tau_inh;
    }
};

// Advance y over `span` ms with error control on each component: |err_k| <= 1 / inv_tolerance[k].
// `h_step` carries the internal step size from one call to the next.
// Step-size factor (0.9 * ratio^(-1/4), within [0.2, 5]) from square roots only.
DEVICE REAL step_factor(REAL error_ratio) {
    if (error_ratio < (REAL)1.6e-3) return (REAL)5;
    const REAL factor = (REAL)0.9 / sqrt(sqrt(error_ratio));
    return factor < (REAL)0.2 ? (REAL)0.2 : factor;
}

template <class Rhs>
DEVICE void rkf45_advance(const Rhs& rhs, REAL* y, REAL span, REAL* h_step, const REAL* inv_tolerance) {
    const int N = Rhs::size;
    REAL k1[N], k2[N], k3[N], k4[N], k5[N], k6[N], tmp[N];
    REAL t = 0, h = *h_step;
    if (!(h > 0) || h > span) h = span;
    for (int iteration = 0; iteration < 100000 && t < span; ++iteration) {
        const bool last = (h >= span - t);
        if (last) h = span - t;
        rhs(y, k1);
        for (int k = 0; k < N; ++k) tmp[k] = y[k] + h * (REAL)(1.0 / 4) * k1[k];
        rhs(tmp, k2);
        for (int k = 0; k < N; ++k) tmp[k] = y[k] + h * ((REAL)(3.0 / 32) * k1[k] + (REAL)(9.0 / 32) * k2[k]);
        rhs(tmp, k3);
        for (int k = 0; k < N; ++k)
            tmp[k] = y[k] + h * ((REAL)(1932.0 / 2197) * k1[k] - (REAL)(7200.0 / 2197) * k2[k]
                                 + (REAL)(7296.0 / 2197) * k3[k]);
        rhs(tmp, k4);
        for (int k = 0; k < N; ++k)
            tmp[k] = y[k] + h * ((REAL)(439.0 / 216) * k1[k] - (REAL)8 * k2[k] + (REAL)(3680.0 / 513) * k3[k]
                                 - (REAL)(845.0 / 4104) * k4[k]);
        rhs(tmp, k5);
        for (int k = 0; k < N; ++k)
            tmp[k] = y[k] + h * (-(REAL)(8.0 / 27) * k1[k] + (REAL)2 * k2[k] - (REAL)(3544.0 / 2565) * k3[k]
                                 + (REAL)(1859.0 / 4104) * k4[k] - (REAL)(11.0 / 40) * k5[k]);
        rhs(tmp, k6);
        REAL error_ratio = 0;
        for (int k = 0; k < N; ++k) {
            const REAL err = h * ((REAL)(1.0 / 360) * k1[k] - (REAL)(128.0 / 4275) * k3[k]
                                  - (REAL)(2197.0 / 75240) * k4[k] + (REAL)(1.0 / 50) * k5[k] + (REAL)(2.0 / 55) * k6[k]);
            const REAL ratio = fabs(err) * inv_tolerance[k];
            if (ratio > error_ratio) error_ratio = ratio;
        }
        if (error_ratio <= 1 || h <= span * (REAL)1e-6) {
            for (int k = 0; k < N; ++k)
                y[k] += h * ((REAL)(16.0 / 135) * k1[k] + (REAL)(6656.0 / 12825) * k3[k]
                             + (REAL)(28561.0 / 56430) * k4[k] - (REAL)(9.0 / 50) * k5[k] + (REAL)(2.0 / 55) * k6[k]);
            t = last ? span : t + h;
            h *= step_factor(error_ratio);
            if (last) *h_step = h < span ? h : span;
        } else {
            h *= step_factor(error_ratio);
        }
    }
}

#define COND_COMMON_PARAMS \
    const REAL* c_m, const REAL* g_leak, const REAL* e_l, const REAL* e_exc, const REAL* e_inh, \
    const REAL* tau_exc, const REAL* tau_inh, const REAL* i_offset, const REAL* v_thresh, const REAL* v_reset, \
    const int* refractory_steps

#define COND_LOAD_PARAMS(P, i) \
    P.inv_c_m = (REAL)1 / c_m[i]; P.g_leak = g_leak[i]; P.e_l = e_l[i]; P.e_exc = e_exc[i]; P.e_inh = e_inh[i]; \
    P.inv_tau_exc = (REAL)1 / tau_exc[i]; P.inv_tau_inh = (REAL)1 / tau_inh[i]; P.i_total = i_offset[i] + i_stim[i]

// Refractory clamp or threshold test after the conductances received this step's spikes.
DEVICE void cond_threshold(long long i, REAL* vm, int* refractory, REAL v_thresh, REAL v_reset, int refractory_steps,
                           int* spike_ids, int* spike_count) {
    if (*refractory > 0) {
        *refractory -= 1;
        *vm = v_reset;
    } else if (*vm >= v_thresh) {
        *refractory = refractory_steps;
        *vm = v_reset;
        spike_ids[atomicAdd(spike_count, 1)] = (int)i;
    }
}

KERNEL void iaf_cond_exp_update(
    const long long* clock, int n, int L, REAL dt, REAL tolerance_v, REAL tolerance_g,
    REAL* v, REAL* g_exc, REAL* g_inh, int* refractory, REAL* h_step,
    COND_COMMON_PARAMS,
    REAL* ring_exc, REAL* ring_inh, REAL* i_stim, int* spike_ids, int* spike_count)
{
    const long long slot = (clock[0] % L) * (long long)n;
    const REAL inv_tolerance[3] = {1 / tolerance_v, 1 / tolerance_g, 1 / tolerance_g};
    GRID_STRIDE(i, n) {
        CondExpRhs rhs;
        COND_LOAD_PARAMS(rhs.p, i);
        REAL y[3] = {v[i], g_exc[i], g_inh[i]};
        rkf45_advance(rhs, y, dt, &h_step[i], inv_tolerance);
        i_stim[i] = 0;
        g_exc[i] = y[1] + ring_exc[slot + i];
        g_inh[i] = y[2] + ring_inh[slot + i];
        ring_exc[slot + i] = 0;
        ring_inh[slot + i] = 0;
        cond_threshold(i, &y[0], &refractory[i], v_thresh[i], v_reset[i], refractory_steps[i], spike_ids, spike_count);
        v[i] = y[0];
    }
}

KERNEL void iaf_cond_alpha_update(
    const long long* clock, int n, int L, REAL dt, REAL tolerance_v, REAL tolerance_g,
    REAL* v, REAL* g_exc, REAL* g_inh, REAL* dg_exc, REAL* dg_inh, int* refractory, REAL* h_step,
    COND_COMMON_PARAMS, const REAL* jump_exc, const REAL* jump_inh,
    REAL* ring_exc, REAL* ring_inh, REAL* i_stim, int* spike_ids, int* spike_count)
{
    const long long slot = (clock[0] % L) * (long long)n;
    const REAL inv_tolerance[5] = {1 / tolerance_v, 1 / tolerance_g, 1 / tolerance_g, 1 / tolerance_g, 1 / tolerance_g};
    GRID_STRIDE(i, n) {
        CondAlphaRhs rhs;
        COND_LOAD_PARAMS(rhs.p, i);
        REAL y[5] = {v[i], g_exc[i], g_inh[i], dg_exc[i], dg_inh[i]};
        rkf45_advance(rhs, y, dt, &h_step[i], inv_tolerance);
        i_stim[i] = 0;
        g_exc[i] = y[1];
        g_inh[i] = y[2];
        dg_exc[i] = y[3] + jump_exc[i] * ring_exc[slot + i];
        dg_inh[i] = y[4] + jump_inh[i] * ring_inh[slot + i];
        ring_exc[slot + i] = 0;
        ring_inh[slot + i] = 0;
        cond_threshold(i, &y[0], &refractory[i], v_thresh[i], v_reset[i], refractory_steps[i], spike_ids, spike_count);
        v[i] = y[0];
    }
}
