// Conductance-based leaky integrate-and-fire neurons as NEST's iaf_cond_exp / iaf_cond_alpha.
// Per step: integrate over dt, then add this step's input spikes to the conductances; a refractory neuron is
// clamped to v_reset, otherwise the threshold is tested (NEST's order).
// Integration: the conductances evolve exactly (exponential / alpha decay, factors precomputed on the host);
// v follows the linear ODE  C dv/dt = -g_leak (v - e_l) - g_exc(t) (v - e_exc) - g_inh(t) (v - e_inh) + i
// with the conductances' exact values at the Runge-Kutta stage times (classic RK4). Sub-steps keep h times the
// fastest rate in the step (g_total / C, and 1/tau_syn of each active conductance) <= MAX_STIFFNESS, which
// keeps v within about 1e-7 mV of the exact solution, far below NEST's own tolerance (GSL rkf45, 1e-3 mV).
// A neuron that would need more than 2^MAX_HALVINGS sub-steps (a huge or infinite conductance) takes that many
// sub-steps of the exponential midpoint rule instead, which is stable at any stiffness, and is counted in
// `stiff_steps` (the host warns).
#include "neuron.cuh"

#define MAX_STIFFNESS ((REAL)0.1)
#define MAX_HALVINGS 8

struct CondPoint {
    REAL inv_c_m, g_leak, e_l, e_exc, e_inh, i_total;
    MEMBER REAL dvdt(REAL v, REAL g_exc, REAL g_inh) const {
        return (-g_leak * (v - e_l) - g_exc * (v - e_exc) - g_inh * (v - e_inh) + i_total) * inv_c_m;
    }
    // Fastest rate of change in the step: membrane conductance, and the time constants of active synapses.
    MEMBER REAL stiffness(REAL g_exc, REAL g_inh, REAL rate_exc, REAL rate_inh) const {
        REAL rate = (g_leak + g_exc + g_inh) * inv_c_m;
        if (g_exc != 0 && rate_exc > rate) rate = rate_exc;
        if (g_inh != 0 && rate_inh > rate) rate = rate_inh;
        return rate;
    }
};

// One RK4 step of length h for v, given the conductances at the start, middle and end of the step.
DEVICE REAL rk4_v(const CondPoint& p, REAL v, REAL h, REAL ge0, REAL gi0, REAL ge_mid, REAL gi_mid,
                  REAL ge1, REAL gi1) {
    const REAL k1 = p.dvdt(v, ge0, gi0);
    const REAL k2 = p.dvdt(v + (REAL)0.5 * h * k1, ge_mid, gi_mid);
    const REAL k3 = p.dvdt(v + (REAL)0.5 * h * k2, ge_mid, gi_mid);
    const REAL k4 = p.dvdt(v + h * k3, ge1, gi1);
    return v + h * (REAL)(1.0 / 6) * (k1 + (REAL)2 * k2 + (REAL)2 * k3 + k4);
}

// The exponential midpoint rule for v over h: the conductances frozen at their midpoint values, v relaxes
// exactly towards its steady state. Second order, and stable for any conductance.
DEVICE REAL exp_midpoint_v(const CondPoint& p, REAL v, REAL h, REAL ge_mid, REAL gi_mid) {
    const REAL g = p.g_leak + ge_mid + gi_mid;
    const REAL v_inf = (p.g_leak * p.e_l + ge_mid * p.e_exc + gi_mid * p.e_inh + p.i_total) / g;
    return v_inf + (v - v_inf) * exp(-h * g * p.inv_c_m);
}

// Alpha conductances: dg/dt = dg_ - g/tau, d(dg_)/dt = -dg_/tau, so g(t) = (g + t dg_) e^{-t/tau}, dg_(t) = dg_ e^{-t/tau};
// a spike of weight w adds w*e/tau to dg_, so that g peaks at w after tau. With dg_ = 0: an exponential conductance.
DEVICE REAL alpha_at(REAL g, REAL dg, REAL t, REAL decay) { return (g + t * dg) * decay; }

// A step too stiff for RK4 sub-steps (rare): 2^MAX_HALVINGS sub-steps of the exponential midpoint rule, the
// conductances advanced exactly. Returns v; updates the conductances (exponential ones pass dg = 0).
COLD REAL stiff_step(const CondPoint& p, REAL v, REAL dt, REAL* ge, REAL* gi, REAL* dge, REAL* dgi,
                       REAL rate_exc, REAL rate_inh) {
    const REAL h = dt / (REAL)(1 << MAX_HALVINGS);
    const REAL de = exp(-h * rate_exc), di = exp(-h * rate_inh);
    const REAL de_half = exp((REAL)-0.5 * h * rate_exc), di_half = exp((REAL)-0.5 * h * rate_inh);
    for (int s = 0; s < (1 << MAX_HALVINGS); ++s) {
        v = exp_midpoint_v(p, v, h, alpha_at(*ge, *dge, (REAL)0.5 * h, de_half), alpha_at(*gi, *dgi, (REAL)0.5 * h, di_half));
        *ge = alpha_at(*ge, *dge, h, de);
        *gi = alpha_at(*gi, *dgi, h, di);
        *dge *= de;
        *dgi *= di;
    }
    return v;
}

// Sub-steps of dt as a power of two (2^halvings) for the fastest rate `stiffness` (1/ms), so that the
// decay factors of a sub-step follow from those of dt by square roots. MAX_HALVINGS + 1 means too stiff.
DEVICE int halvings(REAL stiffness, REAL dt) {
    REAL ratio = stiffness * dt / MAX_STIFFNESS;
    int k = 0;
    while (ratio > (REAL)1 && k <= MAX_HALVINGS) { ratio *= (REAL)0.5; ++k; }
    return k;
}

// After the conductances received this step's spikes: a refractory neuron is clamped to v_reset, the
// others tested against the threshold (NEST's iaf_cond_* order); then the state is stored. True if it spiked.
DEVICE bool cond_finish(long long i, const Member& m, REAL vm, REAL* v, int* refractory, REAL v_thresh, REAL v_reset,
                        int refractory_steps, REAL* i_stim, const SpikeList& out, int* non_finite) {
    i_stim[i] = 0;
    bool spiked = false;
    if (refractory[i] > 0) {
        refractory[i] -= 1;
        vm = v_reset;
    } else {
        spiked = threshold(m, &vm, &refractory[i], v_thresh, v_reset, refractory_steps, out);
    }
    v[i] = vm;
    check_finite(m, v[i], non_finite);
    return spiked;
}

#define COND_COMMON_PARAMS \
    const REAL* RESTRICT inv_c_m, const REAL* RESTRICT g_leak, const REAL* RESTRICT e_l, const REAL* RESTRICT e_exc, const REAL* RESTRICT e_inh, \
    const REAL* RESTRICT rate_exc, const REAL* RESTRICT rate_inh, const REAL* RESTRICT i_offset, const REAL* RESTRICT v_thresh, const REAL* RESTRICT v_reset, \
    const int* RESTRICT refractory_steps, const REAL* RESTRICT decay_exc, const REAL* RESTRICT decay_inh, const REAL* RESTRICT decay_exc_half, \
    const REAL* RESTRICT decay_inh_half

#define COND_LOAD_POINT(P, i) \
    P.inv_c_m = inv_c_m[m.row]; P.g_leak = g_leak[m.row]; P.e_l = e_l[m.row]; P.e_exc = e_exc[m.row]; P.e_inh = e_inh[m.row]; \
    P.i_total = i_offset[m.row] + i_stim[i]

// One step of iaf_cond_exp's v and exponential conductances, before this step's input: RK4 sub-steps, or the
// stiff path (counted in stiff_steps).
DEVICE REAL cond_exp_step(const CondPoint& p, const Member& m, REAL vm, REAL* ge, REAL* gi, REAL rate_e, REAL rate_i,
                          REAL de, REAL di, REAL de_half, REAL di_half, REAL dt, int* stiff_steps) {
    const int k = halvings(p.stiffness(*ge, *gi, rate_e, rate_i), dt);   // g only decays in the step
    if (k > MAX_HALVINGS) {
        atomicAdd(&stiff_steps[m.pop], 1);
        REAL rise_exc = 0, rise_inh = 0;   // exponential conductances: no rise
        return stiff_step(p, vm, dt, ge, gi, &rise_exc, &rise_inh, rate_e, rate_i);
    }
    for (int j = 0; j < k; ++j) {
        de = de_half; di = di_half;
        de_half = sqrt(de_half); di_half = sqrt(di_half);
    }
    const REAL h = dt / (REAL)(1 << k);
    REAL e = *ge, g = *gi;
    for (int s = 0; s < (1 << k); ++s) {
        vm = rk4_v(p, vm, h, e, g, e * de_half, g * di_half, e * de, g * di);
        e *= de;
        g *= di;
    }
    *ge = e;
    *gi = g;
    return vm;
}

#define COND_EXP_STEP(vm, ge, gi) \
    cond_exp_step(p, m, vm, &ge, &gi, rate_exc[m.row], rate_inh[m.row], decay_exc[m.row], decay_inh[m.row], \
                  decay_exc_half[m.row], decay_inh_half[m.row], dt, stiff_steps)

KERNEL void iaf_cond_exp_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, int* RESTRICT refractory,
    COND_COMMON_PARAMS,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT stiff_steps)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        CondPoint p;
        COND_LOAD_POINT(p, i);
        REAL ge = g_exc[i], gi = g_inh[i];
        const REAL vm = COND_EXP_STEP(v[i], ge, gi);
        g_exc[i] = ge + take_input(ring, slot + i);
        g_inh[i] = gi + take_input(ring, slot + n + i);
        cond_finish(i, m, vm, v, refractory, v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], i_stim, out, non_finite);
    }
}

// iaf_cond_exp with the adaptive threshold of Diehl & Cook 2015: the neuron spikes at v >= v_thresh + theta; theta
// decays with tau_theta (theta_rate = 1 - exp(-dt / tau_theta)) before the test and jumps by theta_plus at each
// spike. theta_lo carries what the per-step decay loses to rounding in theta (compensated summation), so that
// tau_theta = 1e7 ms acts in float32 too, where theta * theta_rate is far below theta's precision.
KERNEL void iaf_cond_exp_theta_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT theta, REAL* RESTRICT theta_lo,
    int* RESTRICT refractory,
    COND_COMMON_PARAMS, const REAL* RESTRICT theta_rate, const REAL* RESTRICT theta_plus,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT stiff_steps)
{
    const long long slot = input_slot(clock, L, 2, n);
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        CondPoint p;
        COND_LOAD_POINT(p, i);
        REAL ge = g_exc[i], gi = g_inh[i];
        const REAL vm = COND_EXP_STEP(v[i], ge, gi);
        g_exc[i] = ge + take_input(ring, slot + i);
        g_inh[i] = gi + take_input(ring, slot + n + i);
        REAL th = theta[i], lo = theta_lo[i] - th * theta_rate[m.row];
        REAL sum = th + lo;
        lo -= sum - th;
        th = sum;
        if (cond_finish(i, m, vm, v, refractory, v_thresh[m.row] + th, v_reset[m.row], refractory_steps[m.row], i_stim, out, non_finite)) {
            sum = th + theta_plus[m.row];
            lo += theta_plus[m.row] - (sum - th);
            th = sum;
        }
        theta[i] = th;
        theta_lo[i] = lo;
        check_finite(m, th, non_finite);
    }
}

// The sub-step set-up below repeats that of iaf_cond_exp_update on purpose: factored into a helper returning
// a struct it measured 10-20 % slower on the CPU twin (VA benchmark, 3 interleaved runs each).

KERNEL void iaf_cond_alpha_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT g_exc, REAL* RESTRICT g_inh, REAL* RESTRICT dg_exc, REAL* RESTRICT dg_inh, int* RESTRICT refractory,
    COND_COMMON_PARAMS, const REAL* RESTRICT jump_exc, const REAL* RESTRICT jump_inh,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite,
    int* RESTRICT stiff_steps)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        CondPoint p;
        COND_LOAD_POINT(p, i);
        REAL vm = v[i], ge = g_exc[i], gi = g_inh[i], dge = dg_exc[i], dgi = dg_inh[i];
        // g rises then decays: bound the stiffness by its largest value over the step (alpha peaks are convex).
        const REAL ge_peak = dge > 0 ? ge + dge / rate_exc[m.row] : ge, gi_peak = dgi > 0 ? gi + dgi / rate_inh[m.row] : gi;
        const int k = halvings(p.stiffness(ge_peak, gi_peak, rate_exc[m.row], rate_inh[m.row]), dt);
        if (k > MAX_HALVINGS) {
            atomicAdd(&stiff_steps[m.pop], 1);
            vm = stiff_step(p, vm, dt, &ge, &gi, &dge, &dgi, rate_exc[m.row], rate_inh[m.row]);
        } else {
            REAL de = decay_exc[m.row], di = decay_inh[m.row], de_half = decay_exc_half[m.row], di_half = decay_inh_half[m.row];
            for (int j = 0; j < k; ++j) {
                de = de_half; di = di_half;
                de_half = sqrt(de_half); di_half = sqrt(di_half);
            }
            const REAL h = dt / (REAL)(1 << k);
            for (int s = 0; s < (1 << k); ++s) {
                vm = rk4_v(p, vm, h, ge, gi,
                           alpha_at(ge, dge, (REAL)0.5 * h, de_half), alpha_at(gi, dgi, (REAL)0.5 * h, di_half),
                           alpha_at(ge, dge, h, de), alpha_at(gi, dgi, h, di));
                ge = alpha_at(ge, dge, h, de);
                gi = alpha_at(gi, dgi, h, di);
                dge *= de;
                dgi *= di;
            }
        }
        g_exc[i] = ge;
        g_inh[i] = gi;
        dg_exc[i] = dge + jump_exc[m.row] * take_input(ring, slot + i);
        dg_inh[i] = dgi + jump_inh[m.row] * take_input(ring, slot + n + i);
        cond_finish(i, m, vm, v, refractory, v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], i_stim, out, non_finite);
    }
}
