// Composed point neurons (PyNN's PointNeuron: a LIF or AdExp neuron with any number of named receptors), one
// kernel per neuron family that loops over a receptor table; receptor k of neuron i of a batch of n neurons keeps
// its state at k * n + i ([receptor][neuron], as the input ring's slot), its coefficients at k * n_rows + row.
//
// lif_psc_exp_multisynapse_update: LIF with current-based exponential receptors (CurrExpPostSynapticResponse), NEST's
//   iaf_psc_exp_multisynapse by exact integration, with the arithmetic of iaf_psc_exp_update (cuda/iaf_psc.cu) so
//   that a composed LIF with two receptors is IF_curr_exp bit for bit.
// aeif_multisynapse_<R>_update: AdExp (or LIF: Delta_T = a = b = 0) with up to R receptors of any kind, NEST's
//   aeif_cond_beta_multisynapse / aeif_cond_alpha_multisynapse: state {V, w, (dg_k, g_k)...} integrated by adaptive
//   RKF45 (cuda/rkf45.cuh) with NEST's right-hand side and control, in NEST's units (mV, pF, nS, pA). Every receptor
//   is a beta conductance  dg_k/dt = -dg_k / tau_rise_k,  g_k' = dg_k - g_k / tau_decay_k  whose input adds
//   w * jump_dg_k to dg_k and w * jump_g_k to g_k: alpha (jump_dg = e / tau, tau_rise = tau_decay), beta (NEST's
//   beta normalization factor), exponential (jump_g = 1, dg stays 0); a current-based receptor (conductance_k = 0)
//   adds g_k (pA) to the membrane current instead of g_k (E_rev_k - V). The entry points differ only in R (the
//   compile-time size of the state vector; unused components stay 0 and do not change the step control).
#include "neuron.cuh"
#include "rkf45.cuh"

#define MS_GSL_ERROR_TOL 1e-6       // NEST's default gsl_error_tol
#define MS_NEST_UNITS ((REAL)1000)  // uS -> nS, nA -> pA

KERNEL void lif_psc_exp_multisynapse_update(
    const long long* clock, int n, int n_rows, int L, int n_receptors,
    REAL* RESTRICT v, REAL* RESTRICT isyn, int* RESTRICT refractory,
    const REAL* RESTRICT e_l, const REAL* RESTRICT v_thresh, const REAL* RESTRICT v_reset, const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps,
    const REAL* RESTRICT p_vv, const REAL* RESTRICT p_v_i, const REAL* RESTRICT p_v_syn, const REAL* RESTRICT p_syn,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite)
{
    const long long slot = input_slot(clock, L, n_receptors, n);
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        REAL vm = v[i];
        if (refractory[i] == 0) {
            REAL sum = e_l[m.row] + (vm - e_l[m.row]) * p_vv[m.row];
            for (int k = 0; k < n_receptors; ++k) sum = sum + isyn[k * (long long)n + i] * p_v_syn[k * (long long)n_rows + m.row];
            vm = sum + (i_offset[m.row] + i_stim[i]) * p_v_i[m.row];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        for (int k = 0; k < n_receptors; ++k) {
            const long long j = k * (long long)n + i;
            isyn[j] = isyn[j] * p_syn[k * (long long)n_rows + m.row] + take_input(ring, slot + j);
        }
        threshold(m, &vm, &refractory[i], v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], out);
        v[i] = vm;
        check_finite(m, v[i], non_finite);
    }
}

// y = {V, w, dg_0, g_0, dg_1, g_1, ...} (NEST's layout), R receptors at most, r of them used.
template <int R> struct AeifMulti {
    static constexpr int N = 2 + 2 * R;
    REAL c_m, g_l, e_l, delta_t, v_th, v_peak, v_reset, a, tau_w, i_e, i_stim;
    REAL e_rev[R], tau_rise[R], tau_decay[R], conductance[R];
    int r;
    bool refractory;
    MEMBER void rhs(const REAL* y, REAL* f) const {
        const REAL v = refractory ? v_reset : (v_peak < y[0] ? v_peak : y[0]);
        const REAL w = y[1];
        REAL i_syn = 0;
        for (int k = 0; k < r; ++k)
            i_syn += conductance[k] != 0 ? y[3 + 2 * k] * (e_rev[k] - v) : y[3 + 2 * k];
        const REAL i_spike = delta_t == 0 ? (REAL)0 : delta_t * g_l * exp((v - v_th) / delta_t);
        f[0] = refractory ? (REAL)0 : (-g_l * (v - e_l) + i_spike + i_syn - w + i_e + i_stim) / c_m;
        f[1] = (a * (v - e_l) - w) / tau_w;
        for (int k = 0; k < r; ++k) {
            f[2 + 2 * k] = -y[2 + 2 * k] / tau_rise[k];
            f[3 + 2 * k] = y[2 + 2 * k] - y[3 + 2 * k] / tau_decay[k];
        }
        for (int k = 2 + 2 * r; k < N; ++k) f[k] = 0;
    }
};

#define AEIF_MS_PARAMS \
    const long long* clock, int n, int n_rows, int L, int n_receptors, REAL dt, \
    REAL* RESTRICT v, REAL* RESTRICT w, REAL* RESTRICT w_nest, REAL* RESTRICT g, REAL* RESTRICT g_nest, \
    REAL* RESTRICT dg, int* RESTRICT refractory, REAL* RESTRICT h_step, \
    const REAL* RESTRICT c_m, const REAL* RESTRICT g_l, const REAL* RESTRICT e_l, const REAL* RESTRICT delta_t, \
    const REAL* RESTRICT v_th, const REAL* RESTRICT v_peak, const REAL* RESTRICT v_detect, \
    const REAL* RESTRICT v_reset, const REAL* RESTRICT a, const REAL* RESTRICT b, const REAL* RESTRICT tau_w, \
    const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps, \
    const REAL* RESTRICT e_rev, const REAL* RESTRICT tau_rise, const REAL* RESTRICT tau_decay, \
    const REAL* RESTRICT conductance, const REAL* RESTRICT jump_g, const REAL* RESTRICT jump_dg, \
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, \
    int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite, int* RESTRICT rkf45_overruns, \
    int* RESTRICT merged_spikes

// One time step of neuron i: NEST's update loop (spikes and refractory clamp after each accepted RKF45 step, then
// the refractory count, then this step's input spikes), as aeif_step in cuda/aeif_cond.cu.
template <int R>
DEVICE void aeif_multisynapse_neuron(long long i, AEIF_MS_PARAMS) {
    typedef AeifMulti<R> S;
    const int N = S::N;
    const Member m = member_of(i, pop, layout);
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    S sys;
    sys.c_m = c_m[m.row]; sys.g_l = g_l[m.row]; sys.e_l = e_l[m.row]; sys.delta_t = delta_t[m.row]; sys.v_th = v_th[m.row];
    sys.v_peak = v_peak[m.row]; sys.v_reset = v_reset[m.row]; sys.a = a[m.row]; sys.tau_w = tau_w[m.row]; sys.i_e = i_offset[m.row];
    sys.i_stim = i_stim[i] * MS_NEST_UNITS;
    sys.r = n_receptors;
    REAL y[N];
    for (int k = 0; k < N; ++k) y[k] = 0;
    y[0] = v[i];
    y[1] = nest_units_load(w[i], w_nest[i], MS_NEST_UNITS);
    for (int k = 0; k < n_receptors; ++k) {
        const long long j = k * (long long)n + i, c = k * (long long)n_rows + m.row;
        sys.e_rev[k] = e_rev[c]; sys.tau_rise[k] = tau_rise[c]; sys.tau_decay[k] = tau_decay[c];
        sys.conductance[k] = conductance[c];
        y[2 + 2 * k] = dg[j];
        y[3 + 2 * k] = nest_units_load(g[j], g_nest[j], MS_NEST_UNITS);
    }
    for (int k = n_receptors; k < R; ++k) {
        sys.e_rev[k] = 0; sys.tau_rise[k] = 1; sys.tau_decay[k] = 1; sys.conductance[k] = 0;
    }
    Rkf45Control<N> con;
    for (int k = 0; k < N; ++k) con.eps_abs[k] = (REAL)MS_GSL_ERROR_TOL;
    con.eps_rel = (REAL)MS_GSL_ERROR_TOL;
    con.a_y = 0;
    con.a_dydt = 1;
    REAL h = h_step[i] > 0 ? h_step[i] : dt;   // 0: a fresh neuron starts with dt, as NEST
    int r = refractory[i], spikes = 0, tries = 0;
    bool overrun = false;
    REAL t = 0;
    sys.refractory = r > 0;
    while (t < dt) {
        overrun |= rkf45_evolve<N>(sys, con, &t, dt, &h, y, &tries);
        if (r > 0) {
            y[0] = sys.v_reset;
        } else if (y[0] >= v_detect[m.row]) {
            y[0] = sys.v_reset;
            y[1] += b[m.row];
            r = refractory_steps[m.row] > 0 ? refractory_steps[m.row] + 1 : 0;
            sys.refractory = r > 0;
            ++spikes;
        }
    }
    if (r > 0) r -= 1;
    const long long slot = input_slot(clock, L, n_receptors, n);
    v[i] = y[0];
    check_finite(m, v[i], non_finite);
    nest_units_store(&w[i], &w_nest[i], y[1], MS_NEST_UNITS);
    for (int k = 0; k < n_receptors; ++k) {
        const long long j = k * (long long)n + i, c = k * (long long)n_rows + m.row;
        const REAL input = take_input(ring, slot + j) * MS_NEST_UNITS;
        dg[j] = y[2 + 2 * k] + input * jump_dg[c];
        nest_units_store(&g[j], &g_nest[j], y[3 + 2 * k] + input * jump_g[c], MS_NEST_UNITS);
    }
    refractory[i] = r;
    h_step[i] = h;
    i_stim[i] = 0;
    if (overrun) atomicAdd(&rkf45_overruns[m.pop], 1);
    if (spikes > 0) {
        emit_member_spike(m, out);
        if (spikes > 1) atomicAdd(&merged_spikes[m.pop], spikes - 1);
    }
}

#define AEIF_MS_ARGS clock, n, n_rows, L, n_receptors, dt, v, w, w_nest, g, g_nest, dg, refractory, h_step, c_m, g_l, e_l, \
    delta_t, v_th, v_peak, v_detect, v_reset, a, b, tau_w, i_offset, refractory_steps, e_rev, tau_rise, tau_decay, \
    conductance, jump_g, jump_dg, ring, i_stim, pop, layout, spike_ids, spike_counts, dropped, non_finite, rkf45_overruns, \
    merged_spikes

// One entry point per receptor capacity R (the registry finds kernels made by such a macro: runtime/sources.py).
#define AEIF_MULTISYNAPSE_KERNEL(R) KERNEL void aeif_multisynapse_##R##_update(AEIF_MS_PARAMS) { \
    GRID_STRIDE(i, n) aeif_multisynapse_neuron<R>(i, AEIF_MS_ARGS); \
}
AEIF_MULTISYNAPSE_KERNEL(4)
AEIF_MULTISYNAPSE_KERNEL(8)
AEIF_MULTISYNAPSE_KERNEL(16)
AEIF_MULTISYNAPSE_KERNEL(32)
