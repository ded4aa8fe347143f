// Hodgkin-Huxley neurons after Traub & Miles (1991) as NEST's hh_cond_exp_traub (PyNN's HH_cond_exp):
//   C dV/dt = -g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) + I
// with NEST's rate functions of V - V_T (not guarded at their removable singularities, as NEST's) and exponential
// conductances. The whole state is integrated by adaptive RKF45 (cuda/rkf45.cuh) with NEST's y control
// (absolute tolerance 1e-3, relative 0), in NEST's units (mV, pF, nS, pA); g is kept in both units (nest_units_load).
// NEST's order per step: integrate over dt; add this step's input spikes to the conductances; then a refractory
// neuron counts down, and any other spikes if V >= V_T + 30 mV and V fell during the step (a maximum passed);
// its refractory time is NEST's default t_ref (2 ms: PyNN has no parameter for it). The injected current applies
// from the next step.
#include "neuron.cuh"
#include "rkf45.cuh"

#define HH_TOLERANCE 1e-3   // NEST: gsl_odeiv_control_y_new(1e-3, 0.0)
#define HH_NEST_UNITS ((REAL)1000)   // uS -> nS, nA -> pA

// State y = {V, m, h, n, g_exc, g_inh}, NEST's order.
struct HodgkinHuxley {
    REAL g_na, g_k, g_l, c_m, e_na, e_k, e_l, v_t, e_exc, e_inh, tau_exc, tau_inh, i_e, i_stim;
    MEMBER void rhs(const REAL* y, REAL* f) const {
        const REAL i_na = g_na * y[1] * y[1] * y[1] * y[2] * (y[0] - e_na);
        const REAL i_k = g_k * y[3] * y[3] * y[3] * y[3] * (y[0] - e_k);
        const REAL i_l = g_l * (y[0] - e_l);
        const REAL i_syn_exc = y[4] * (y[0] - e_exc);
        const REAL i_syn_inh = y[5] * (y[0] - e_inh);
        f[0] = (-i_na - i_k - i_l - i_syn_exc - i_syn_inh + i_stim + i_e) / c_m;
        const REAL v = y[0] - v_t;
        const REAL alpha_n = (REAL)0.032 * ((REAL)15 - v) / (exp(((REAL)15 - v) / (REAL)5) - (REAL)1);
        const REAL beta_n = (REAL)0.5 * exp(((REAL)10 - v) / (REAL)40);
        const REAL alpha_m = (REAL)0.32 * ((REAL)13 - v) / (exp(((REAL)13 - v) / (REAL)4) - (REAL)1);
        const REAL beta_m = (REAL)0.28 * (v - (REAL)40) / (exp((v - (REAL)40) / (REAL)5) - (REAL)1);
        const REAL alpha_h = (REAL)0.128 * exp(((REAL)17 - v) / (REAL)18);
        const REAL beta_h = (REAL)4 / ((REAL)1 + exp(((REAL)40 - v) / (REAL)5));
        f[1] = alpha_m - (alpha_m + beta_m) * y[1];
        f[2] = alpha_h - (alpha_h + beta_h) * y[2];
        f[3] = alpha_n - (alpha_n + beta_n) * y[3];
        f[4] = -y[4] / tau_exc;
        f[5] = -y[5] / tau_inh;
    }
};

KERNEL void hh_cond_exp_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT m_act, REAL* RESTRICT h_inact, REAL* RESTRICT n_act, REAL* RESTRICT g_exc,
    REAL* RESTRICT g_inh, REAL* RESTRICT g_exc_nest, REAL* RESTRICT g_inh_nest, int* RESTRICT refractory,
    REAL* RESTRICT h_step,
    const REAL* RESTRICT g_na, const REAL* RESTRICT g_k, const REAL* RESTRICT g_l, const REAL* RESTRICT c_m,
    const REAL* RESTRICT e_na, const REAL* RESTRICT e_k, const REAL* RESTRICT e_l, const REAL* RESTRICT v_t,
    const REAL* RESTRICT e_exc, const REAL* RESTRICT e_inh, const REAL* RESTRICT tau_exc, const REAL* RESTRICT tau_inh,
    const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT rkf45_overruns)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        HodgkinHuxley sys;
        sys.g_na = g_na[m.row]; sys.g_k = g_k[m.row]; sys.g_l = g_l[m.row]; sys.c_m = c_m[m.row]; sys.e_na = e_na[m.row]; sys.e_k = e_k[m.row];
        sys.e_l = e_l[m.row]; sys.v_t = v_t[m.row]; sys.e_exc = e_exc[m.row]; sys.e_inh = e_inh[m.row]; sys.tau_exc = tau_exc[m.row];
        sys.tau_inh = tau_inh[m.row]; sys.i_e = i_offset[m.row]; sys.i_stim = i_stim[i] * HH_NEST_UNITS;
        Rkf45Control<6> con;
        for (int k = 0; k < 6; ++k) con.eps_abs[k] = (REAL)HH_TOLERANCE;
        con.eps_rel = 0;
        con.a_y = 1;
        con.a_dydt = 0;
        const REAL v_old = v[i];
        REAL y[6] = {v_old, m_act[i], h_inact[i], n_act[i], nest_units_load(g_exc[i], g_exc_nest[i], HH_NEST_UNITS),
                     nest_units_load(g_inh[i], g_inh_nest[i], HH_NEST_UNITS)};
        REAL h = h_step[i] > 0 ? h_step[i] : dt;   // 0: a fresh neuron starts with dt, as NEST
        REAL t = 0;
        int tries = 0;
        bool overrun = false;
        while (t < dt) overrun |= rkf45_evolve<6>(sys, con, &t, dt, &h, y, &tries);
        y[4] += take_input(ring, slot + i) * HH_NEST_UNITS;
        y[5] += take_input(ring, slot + n + i) * HH_NEST_UNITS;
        if (refractory[i] > 0) {
            refractory[i] -= 1;
        } else if (y[0] >= sys.v_t + (REAL)30 && v_old > y[0]) {
            refractory[i] = refractory_steps[m.row];
            emit_member_spike(m, out);
        }
        v[i] = y[0];
        check_finite(m, v[i], non_finite);
        m_act[i] = y[1];
        h_inact[i] = y[2];
        n_act[i] = y[3];
        nest_units_store(&g_exc[i], &g_exc_nest[i], y[4], HH_NEST_UNITS);
        nest_units_store(&g_inh[i], &g_inh_nest[i], y[5], HH_NEST_UNITS);
        h_step[i] = h;
        i_stim[i] = 0;
        if (overrun) atomicAdd(&rkf45_overruns[m.pop], 1);
    }
}
