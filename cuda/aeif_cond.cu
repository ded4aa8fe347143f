// Adaptive exponential integrate-and-fire neurons as NEST's aeif_cond_exp / aeif_cond_alpha (PyNN's
// EIF_cond_exp_isfa_ista / EIF_cond_alpha_isfa_ista):
//   C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th) / Delta_T) - g_e (V - E_e) - g_i (V - E_i) - w + I
//   tau_w dw/dt = a (V - E_L) - w
// with exponential (dg/dt = -g/tau) or alpha (dg/dt = dg_ - g/tau, d(dg_)/dt = -dg_/tau) conductances.
// As NEST: the right-hand side uses min(V, V_peak) (the exponential stays finite), and V_reset with dV/dt = 0 while
// refractory; the whole state is integrated by adaptive RKF45 (cuda/rkf45.cuh) with NEST's yp control and
// gsl_error_tol = 1e-6. After every accepted RKF45 step inside the time step, a refractory neuron is clamped to
// V_reset, and a neuron at or above V_peak (V_th when Delta_T = 0) spikes: V = V_reset, w += b, and refractory for
// the rest of the step and t_ref steps more (with t_ref = 0 it integrates on and may spike again in the same step:
// NEST sends each spike; here the step's spikes are one, the others counted in `merged_spikes`). Then the
// refractory count goes down and this step's input spikes are added to the conductances (alpha: to dg_, times
// e/tau); the injected current applies from the next step.
// Units: the integration runs in NEST's (mV, pF, nS, pA; parameters given so by the host), with the right-hand side
// written as NEST's, so that both take the same RKF45 steps (the step-size control compares errors in these units)
// and round alike; w and g are kept in both units (see nest_units_load), dg_ (not recordable) in nS/ms only.
#include "neuron.cuh"
#include "rkf45.cuh"

#define AEIF_GSL_ERROR_TOL 1e-6   // NEST's default gsl_error_tol (absolute and relative)
#define NEST_UNITS ((REAL)1000)     // uS -> nS, nA -> pA

// State y = {V, w, g_exc, g_inh} (exponential) or {V, w, g_exc, g_inh, dg_exc, dg_inh} (alpha).
template <int N> struct AdExp {
    REAL c_m, g_l, e_l, delta_t, v_th, v_peak, v_reset, e_exc, e_inh, a, tau_w, tau_exc, tau_inh, i_e, i_stim;
    bool refractory;
    MEMBER void rhs(const REAL* y, REAL* f) const {
        const REAL v = refractory ? v_reset : (v_peak < y[0] ? v_peak : y[0]);
        const REAL w = y[1], g_exc = y[2], g_inh = y[3];
        const REAL i_spike = delta_t == 0 ? (REAL)0 : g_l * delta_t * exp((v - v_th) / delta_t);
        f[0] = refractory ? (REAL)0
             : (-g_l * (v - e_l) + i_spike - g_exc * (v - e_exc) - g_inh * (v - e_inh) - w + i_e + i_stim) / c_m;
        f[1] = (a * (v - e_l) - w) / tau_w;
        if constexpr (N == 6) {
            f[2] = y[4] - g_exc / tau_exc;
            f[3] = y[5] - g_inh / tau_inh;
            f[4] = -y[4] / tau_exc;
            f[5] = -y[5] / tau_inh;
        } else {
            f[2] = -g_exc / tau_exc;
            f[3] = -g_inh / tau_inh;
        }
    }
};

// Integrates one neuron over the time step (spikes inside it, as NEST); returns the spikes of the step.
template <int N>
DEVICE int aeif_step(AdExp<N>& sys, REAL* y, REAL dt, REAL* h, int* refractory, int refractory_steps, REAL v_detect,
                     REAL b, bool* overrun) {
    Rkf45Control<N> con;
    for (int k = 0; k < N; ++k) con.eps_abs[k] = (REAL)AEIF_GSL_ERROR_TOL;
    con.eps_rel = (REAL)AEIF_GSL_ERROR_TOL;
    con.a_y = 0;
    con.a_dydt = 1;
    int spikes = 0, tries = 0;
    REAL t = 0;
    sys.refractory = *refractory > 0;
    while (t < dt) {
        *overrun |= rkf45_evolve<N>(sys, con, &t, dt, h, y, &tries);
        if (*refractory > 0) {
            y[0] = sys.v_reset;
        } else if (y[0] >= v_detect) {
            y[0] = sys.v_reset;
            y[1] += b;
            *refractory = refractory_steps > 0 ? refractory_steps + 1 : 0;
            sys.refractory = *refractory > 0;
            ++spikes;
        }
    }
    if (*refractory > 0) *refractory -= 1;
    return spikes;
}

#define AEIF_PARAMS \
    const REAL* RESTRICT c_m, const REAL* RESTRICT g_l, const REAL* RESTRICT e_l, const REAL* RESTRICT delta_t, \
    const REAL* RESTRICT v_th, const REAL* RESTRICT v_peak, const REAL* RESTRICT v_detect, \
    const REAL* RESTRICT v_reset, \
    const REAL* RESTRICT e_exc, const REAL* RESTRICT e_inh, const REAL* RESTRICT a, const REAL* RESTRICT b, \
    const REAL* RESTRICT tau_w, const REAL* RESTRICT tau_exc, const REAL* RESTRICT tau_inh, \
    const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps

#define AEIF_LOAD(S, i) \
    S.c_m = c_m[m.row]; S.g_l = g_l[m.row]; S.e_l = e_l[m.row]; S.delta_t = delta_t[m.row]; S.v_th = v_th[m.row]; S.v_peak = v_peak[m.row]; \
    S.v_reset = v_reset[m.row]; S.e_exc = e_exc[m.row]; S.e_inh = e_inh[m.row]; S.a = a[m.row]; S.tau_w = tau_w[m.row]; \
    S.tau_exc = tau_exc[m.row]; S.tau_inh = tau_inh[m.row]; S.i_e = i_offset[m.row]; S.i_stim = i_stim[i] * NEST_UNITS

// The end of a neuron's step: the spike (one per step), the counters, the injected current consumed.
DEVICE void aeif_finish(long long i, const Member& m, int spikes, bool overrun, REAL* i_stim, const SpikeList& out,
                        int* rkf45_overruns, int* merged_spikes) {
    i_stim[i] = 0;
    if (overrun) atomicAdd(&rkf45_overruns[m.pop], 1);
    if (spikes > 0) {
        emit_member_spike(m, out);
        if (spikes > 1) atomicAdd(&merged_spikes[m.pop], spikes - 1);
    }
}

KERNEL void aeif_cond_exp_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT w, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT w_nest,
    REAL* RESTRICT g_exc_nest, REAL* RESTRICT g_inh_nest, int* RESTRICT refractory, REAL* RESTRICT h_step,
    AEIF_PARAMS,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT rkf45_overruns, int* RESTRICT merged_spikes)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        AdExp<4> sys;
        AEIF_LOAD(sys, i);
        REAL y[4] = {v[i], nest_units_load(w[i], w_nest[i], NEST_UNITS),
                     nest_units_load(g_exc[i], g_exc_nest[i], NEST_UNITS),
                     nest_units_load(g_inh[i], g_inh_nest[i], NEST_UNITS)};
        REAL h = h_step[i] > 0 ? h_step[i] : dt;   // 0: a fresh neuron starts with dt, as NEST
        int r = refractory[i];
        bool overrun = false;
        const int spikes = aeif_step<4>(sys, y, dt, &h, &r, refractory_steps[m.row], v_detect[m.row], b[m.row], &overrun);
        v[i] = y[0];
        check_finite(m, v[i], non_finite);
        nest_units_store(&w[i], &w_nest[i], y[1], NEST_UNITS);
        nest_units_store(&g_exc[i], &g_exc_nest[i], y[2] + take_input(ring, slot + i) * NEST_UNITS, NEST_UNITS);
        nest_units_store(&g_inh[i], &g_inh_nest[i], y[3] + take_input(ring, slot + n + i) * NEST_UNITS, NEST_UNITS);
        refractory[i] = r;
        h_step[i] = h;
        aeif_finish(i, m, spikes, overrun, i_stim, out, rkf45_overruns,
                    merged_spikes);
    }
}

KERNEL void aeif_cond_alpha_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT w, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT w_nest,
    REAL* RESTRICT g_exc_nest, REAL* RESTRICT g_inh_nest, REAL* RESTRICT dg_exc, REAL* RESTRICT dg_inh,
    int* RESTRICT refractory, REAL* RESTRICT h_step,
    AEIF_PARAMS, const REAL* RESTRICT jump_exc, const REAL* RESTRICT jump_inh,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT rkf45_overruns, int* RESTRICT merged_spikes)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        AdExp<6> sys;
        AEIF_LOAD(sys, i);
        REAL y[6] = {v[i], nest_units_load(w[i], w_nest[i], NEST_UNITS),
                     nest_units_load(g_exc[i], g_exc_nest[i], NEST_UNITS),
                     nest_units_load(g_inh[i], g_inh_nest[i], NEST_UNITS),
                     dg_exc[i], dg_inh[i]};
        REAL h = h_step[i] > 0 ? h_step[i] : dt;
        int r = refractory[i];
        bool overrun = false;
        const int spikes = aeif_step<6>(sys, y, dt, &h, &r, refractory_steps[m.row], v_detect[m.row], b[m.row], &overrun);
        v[i] = y[0];
        check_finite(m, v[i], non_finite);
        nest_units_store(&w[i], &w_nest[i], y[1], NEST_UNITS);
        nest_units_store(&g_exc[i], &g_exc_nest[i], y[2], NEST_UNITS);
        nest_units_store(&g_inh[i], &g_inh_nest[i], y[3], NEST_UNITS);
        dg_exc[i] = y[4] + take_input(ring, slot + i) * NEST_UNITS * jump_exc[m.row];   // nS/ms
        dg_inh[i] = y[5] + take_input(ring, slot + n + i) * NEST_UNITS * jump_inh[m.row];
        refractory[i] = r;
        h_step[i] = h;
        aeif_finish(i, m, spikes, overrun, i_stim, out, rkf45_overruns,
                    merged_spikes);
    }
}
