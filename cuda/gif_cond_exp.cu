// Generalized integrate-and-fire neurons with escape noise as NEST's gif_cond_exp (PyNN's GIF_cond_exp; Mensi et
// al. 2012, Pozzorini et al. 2015):
//   C dV/dt = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) - eta(t) + I_e + I_stim,   dg/dt = -g / tau_syn
// eta (the spike-triggered current, NEST's I_stc) and the threshold V_T = V_T* + gamma(t) (NEST's E_sfa) are sums
// of exponentials; every spike adds q_stc_k (pA) to eta's component k and q_sfa_k (mV) to gamma's. In each step, as
// NEST's update():
//   1. eta = sum of its components, then each decays by exp(-dt/tau_stc_k); V_T = V_T* + sum of gamma's components,
//      then each decays (eta and V_T hold these values during the step and are what is recorded);
//   2. V, g_e, g_i integrated over the step by adaptive RKF45 (cuda/rkf45.cuh) with NEST's y control
//      (gsl_error_tol 1e-3 absolute, 0 relative), in NEST's units (mV, pF, nS, pA); a refractory neuron has
//      dV/dt = 0 and its right-hand side uses V_reset;
//   3. this step's input spikes added to g_e, g_i;
//   4. not refractory: the escape rate lambda = lambda_0 exp((V - V_T) / Delta_V) (lambda_0 in 1/ms); the neuron
//      spikes with probability 1 - exp(-lambda dt) (a uniform draw, device Philox, below it): the components jump,
//      refractory for t_ref steps. V is not reset at the spike: it is set to V_reset at the end of each of the
//      following t_ref steps (so with t_ref = 0 it is never reset: NEST's rule). Refractory: the count goes down,
//      V = V_reset.
//   5. the injected current of this step applies from the next one.
// The components live in per-neuron arrays laid out [component][neuron]; a fresh trial (clock step 0) clears them
// (NEST starts them at 0; they are not PyNN state variables).
#include "neuron.cuh"
#include "philox.cuh"
#include "rkf45.cuh"

#define GIF_GSL_ERROR_TOL 1e-3   // NEST's default gsl_error_tol of gif_cond_exp (absolute; relative 0)
#define GIF_NEST_UNITS ((REAL)1000)   // uS -> nS, nA -> pA

struct GifCondExp {
    REAL c_m, g_l, e_l, v_reset, e_exc, e_inh, tau_exc, tau_inh, i_e, i_stim, stc;
    bool refractory;
    MEMBER void rhs(const REAL* y, REAL* f) const {   // NEST's gif_cond_exp_dynamics, operation by operation
        const REAL v = refractory ? v_reset : y[0];
        const REAL i_syn_exc = y[1] * (v - e_exc);
        const REAL i_syn_inh = y[2] * (v - e_inh);
        const REAL i_l = g_l * (v - e_l);
        f[0] = refractory ? (REAL)0 : (-i_l + i_stim + i_e - i_syn_exc - i_syn_inh - stc) / c_m;
        f[1] = -y[1] / tau_exc;
        f[2] = -y[2] / tau_inh;
    }
};

// The sum of a neuron's components (added to `start`), each then decayed; cleared first in a fresh trial.
// Component k of neuron i is elems[k * n + i]; its decay is the table entry decay[k * n_rows + row].
DEVICE REAL gif_sum_and_decay(REAL start, REAL* RESTRICT elems, const REAL* RESTRICT decay, int count, int n,
                              long long i, int n_rows, int row, bool fresh) {
    REAL sum = start;
    for (int k = 0; k < count; ++k) {
        const long long j = (long long)k * n + i;
        if (fresh) elems[j] = 0;
        sum += elems[j];
        elems[j] = decay[(long long)k * n_rows + row] * elems[j];
    }
    return sum;
}

KERNEL void gif_cond_exp_update(
    const long long* clock, int n, int n_rows, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT g_exc_nest,
    REAL* RESTRICT g_inh_nest, REAL* RESTRICT i_eta, REAL* RESTRICT v_t, int* RESTRICT refractory,
    REAL* RESTRICT h_step, REAL* RESTRICT stc_elems, REAL* RESTRICT sfa_elems,
    const REAL* RESTRICT c_m, const REAL* RESTRICT g_l, const REAL* RESTRICT e_l, const REAL* RESTRICT v_reset,
    const REAL* RESTRICT e_exc, const REAL* RESTRICT e_inh, const REAL* RESTRICT tau_exc,
    const REAL* RESTRICT tau_inh, const REAL* RESTRICT i_offset, const REAL* RESTRICT delta_v,
    const REAL* RESTRICT v_t_star, const REAL* RESTRICT lambda_0, const int* RESTRICT refractory_steps,
    const int* RESTRICT n_stc, const REAL* RESTRICT q_stc, const REAL* RESTRICT decay_stc,
    const int* RESTRICT n_sfa, const REAL* RESTRICT q_sfa, const REAL* RESTRICT decay_sfa,
    unsigned long long seed, unsigned int stream,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout,
    int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite, int* RESTRICT rkf45_overruns)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const bool fresh = clock[0] == 0;
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        GifCondExp sys;
        sys.c_m = c_m[m.row]; sys.g_l = g_l[m.row]; sys.e_l = e_l[m.row]; sys.v_reset = v_reset[m.row]; sys.e_exc = e_exc[m.row];
        sys.e_inh = e_inh[m.row]; sys.tau_exc = tau_exc[m.row]; sys.tau_inh = tau_inh[m.row]; sys.i_e = i_offset[m.row];
        sys.i_stim = i_stim[i] * GIF_NEST_UNITS;
        sys.stc = gif_sum_and_decay((REAL)0, stc_elems, decay_stc, n_stc[m.row], n, i, n_rows, m.row, fresh);
        const REAL sfa = gif_sum_and_decay(v_t_star[m.row], sfa_elems, decay_sfa, n_sfa[m.row], n, i, n_rows, m.row, fresh);
        int r = refractory[i];
        sys.refractory = r > 0;

        Rkf45Control<3> con;
        for (int k = 0; k < 3; ++k) con.eps_abs[k] = (REAL)GIF_GSL_ERROR_TOL;
        con.eps_rel = 0;   // gsl_odeiv_control_y_new(gsl_error_tol, 0.0)
        con.a_y = 1;
        con.a_dydt = 0;
        REAL y[3] = {v[i], nest_units_load(g_exc[i], g_exc_nest[i], GIF_NEST_UNITS),
                     nest_units_load(g_inh[i], g_inh_nest[i], GIF_NEST_UNITS)};
        REAL h = h_step[i] > 0 ? h_step[i] : dt;   // 0: a fresh neuron starts with dt, as NEST
        REAL t = 0;
        int tries = 0;
        bool overrun = false;
        while (t < dt) overrun |= rkf45_evolve<3>(sys, con, &t, dt, &h, y, &tries);
        y[1] += take_input(ring, slot + i) * GIF_NEST_UNITS;
        y[2] += take_input(ring, slot + n + i) * GIF_NEST_UNITS;

        bool spiked = false;
        if (r == 0) {
            const REAL lambda = lambda_0[m.row] * exp((y[0] - sfa) / delta_v[m.row]);
            if (lambda > 0) {
                const Philox4 draw = philox_draw(seed, stream, clock, (unsigned int)i);
                if (philox_uniform(draw.v[0], draw.v[1]) < (double)(-expm1(-lambda * dt))) {
                    for (int k = 0; k < n_stc[m.row]; ++k) stc_elems[(long long)k * n + i] += q_stc[(long long)k * n_rows + m.row];
                    for (int k = 0; k < n_sfa[m.row]; ++k) sfa_elems[(long long)k * n + i] += q_sfa[(long long)k * n_rows + m.row];
                    r = refractory_steps[m.row];
                    spiked = true;
                }
            }
        } else {
            --r;
            y[0] = sys.v_reset;
        }

        v[i] = y[0];

        check_finite(m, v[i], non_finite);
        nest_units_store(&g_exc[i], &g_exc_nest[i], y[1], GIF_NEST_UNITS);
        nest_units_store(&g_inh[i], &g_inh_nest[i], y[2], GIF_NEST_UNITS);
        i_eta[i] = sys.stc * (REAL)0.001;   // nA: pyNN.nest records I_stc (pA) * 0.001
        v_t[i] = sfa;
        refractory[i] = r;
        h_step[i] = h;
        i_stim[i] = 0;
        if (overrun) atomicAdd(&rkf45_overruns[m.pop], 1);
        if (spiked) emit_member_spike(m, out);
    }
}

// Integrate-and-fire neurons with spike-frequency adaptation and relative refractoriness as NEST's
// iaf_cond_exp_sfa_rr (PyNN's IF_cond_exp_gsfa_grr; Muller et al. 2007):
//   C dV/dt = -g_L (V - E_L) - g_e (V - E_e) - g_i (V - E_i) - g_sfa (V - E_sfa) - g_rr (V - E_rr) + I_e + I_stim
// with all four conductances decaying exponentially; a spike (V >= V_th after the step) resets V, makes the neuron
// refractory for t_ref steps (dV/dt = 0, V_reset in the right-hand side) and adds q_sfa to g_sfa, q_rr to g_rr.
// As NEST: the right-hand side uses min(V, V_th); RKF45 with y control (1e-3 absolute), in NEST's units (nS, pA);
// input spikes added after the step, then refractoriness / threshold; the injected current from the next step.
struct IafCondSfaRr {
    REAL c_m, g_l, e_l, v_th, v_reset, e_exc, e_inh, e_sfa, e_rr, tau_exc, tau_inh, tau_sfa, tau_rr, i_e, i_stim;
    bool refractory;
    MEMBER void rhs(const REAL* y, REAL* f) const {   // NEST's iaf_cond_exp_sfa_rr_dynamics
        const REAL v = refractory ? v_reset : (y[0] < v_th ? y[0] : v_th);
        const REAL i_syn_exc = y[1] * (v - e_exc);
        const REAL i_syn_inh = y[2] * (v - e_inh);
        const REAL i_l = g_l * (v - e_l);
        const REAL i_sfa = y[3] * (v - e_sfa);
        const REAL i_rr = y[4] * (v - e_rr);
        f[0] = refractory ? (REAL)0 : (-i_l + i_stim + i_e - i_syn_exc - i_syn_inh - i_sfa - i_rr) / c_m;
        f[1] = -y[1] / tau_exc;
        f[2] = -y[2] / tau_inh;
        f[3] = -y[3] / tau_sfa;
        f[4] = -y[4] / tau_rr;
    }
};

KERNEL void iaf_cond_exp_sfa_rr_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT g_exc_nest,
    REAL* RESTRICT g_inh_nest, REAL* RESTRICT g_sfa, REAL* RESTRICT g_rr, int* RESTRICT refractory,
    REAL* RESTRICT h_step,
    const REAL* RESTRICT c_m, const REAL* RESTRICT g_l, const REAL* RESTRICT e_l, const REAL* RESTRICT v_th,
    const REAL* RESTRICT v_reset, const REAL* RESTRICT e_exc, const REAL* RESTRICT e_inh,
    const REAL* RESTRICT e_sfa, const REAL* RESTRICT e_rr, const REAL* RESTRICT tau_exc,
    const REAL* RESTRICT tau_inh, const REAL* RESTRICT tau_sfa, const REAL* RESTRICT tau_rr,
    const REAL* RESTRICT q_sfa, const REAL* RESTRICT q_rr, const REAL* RESTRICT i_offset,
    const int* RESTRICT refractory_steps,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout,
    int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite, int* RESTRICT rkf45_overruns)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        IafCondSfaRr sys;
        sys.c_m = c_m[m.row]; sys.g_l = g_l[m.row]; sys.e_l = e_l[m.row]; sys.v_th = v_th[m.row]; sys.v_reset = v_reset[m.row];
        sys.e_exc = e_exc[m.row]; sys.e_inh = e_inh[m.row]; sys.e_sfa = e_sfa[m.row]; sys.e_rr = e_rr[m.row];
        sys.tau_exc = tau_exc[m.row]; sys.tau_inh = tau_inh[m.row]; sys.tau_sfa = tau_sfa[m.row]; sys.tau_rr = tau_rr[m.row];
        sys.i_e = i_offset[m.row]; sys.i_stim = i_stim[i] * GIF_NEST_UNITS;
        int r = refractory[i];
        sys.refractory = r > 0;
        Rkf45Control<5> con;
        for (int k = 0; k < 5; ++k) con.eps_abs[k] = (REAL)GIF_GSL_ERROR_TOL;   // NEST: 1e-3 fixed
        con.eps_rel = 0;
        con.a_y = 1;
        con.a_dydt = 0;
        REAL y[5] = {v[i], nest_units_load(g_exc[i], g_exc_nest[i], GIF_NEST_UNITS),
                     nest_units_load(g_inh[i], g_inh_nest[i], GIF_NEST_UNITS), g_sfa[i], g_rr[i]};
        REAL h = h_step[i] > 0 ? h_step[i] : dt;
        REAL t = 0;
        int tries = 0;
        bool overrun = false;
        while (t < dt) overrun |= rkf45_evolve<5>(sys, con, &t, dt, &h, y, &tries);
        y[1] += take_input(ring, slot + i) * GIF_NEST_UNITS;
        y[2] += take_input(ring, slot + n + i) * GIF_NEST_UNITS;
        bool spiked = false;
        if (r > 0) {
            --r;
            y[0] = sys.v_reset;
        } else if (y[0] >= sys.v_th) {
            r = refractory_steps[m.row];
            y[0] = sys.v_reset;
            y[3] += q_sfa[m.row];
            y[4] += q_rr[m.row];
            spiked = true;
        }
        v[i] = y[0];
        check_finite(m, v[i], non_finite);
        nest_units_store(&g_exc[i], &g_exc_nest[i], y[1], GIF_NEST_UNITS);
        nest_units_store(&g_inh[i], &g_inh_nest[i], y[2], GIF_NEST_UNITS);
        g_sfa[i] = y[3];   // nS, PyNN's unit too
        g_rr[i] = y[4];
        refractory[i] = r;
        h_step[i] = h;
        i_stim[i] = 0;
        if (overrun) atomicAdd(&rkf45_overruns[m.pop], 1);
        if (spiked) emit_member_spike(m, out);
    }
}
