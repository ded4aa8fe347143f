// Spike sources and current sources. Sources emit into the same per-step spike list that neurons use.
#include "common.cuh"
#include "philox.cuh"

// SpikeSourceArray: the spikes of neuron i (coefficient row r) end at spike_end[r] in emit_step (sorted: the
// update step in which each spike is emitted); cursor[i] is the next one not yet emitted.
KERNEL void spike_source_array_update(
    const long long* clock, int n, const long long* spike_end, const long long* emit_step, long long* cursor,
    const int* pop, const int* layout, int* spike_ids, int* spike_counts, int* dropped)
{
    const long long step = clock[0];
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        long long k = cursor[i];
        const long long end = spike_end[m.row];
        while (k < end && emit_step[k] <= step) {
            if (emit_step[k] == step) emit_member_spike(m, out);
            ++k;
        }
        cursor[i] = k;
    }
}

// SpikeSourcePoisson: in each active step, neuron i emits a Poisson-distributed number of spikes with mean
// rate * dt, drawn by inverse transform from one Philox uniform keyed by (seed, stream, trial, step, i).
// `mean_count` is rate*dt per neuron and `p_spike` 1 - exp(-mean_count) (whether there is a spike at all, precise
// however low the rate); the terms of the count's distribution are computed in double from the mean as held
// (a float32 exp(-mean) would make them sum to 1 - 3e-8 at worst: a uniform draw above that ran the count to
// its cap), and the walk stops where a term can no longer change the sum. Active while first_step <= step <
// end_step. Spikes that do not fit the spike list are counted in `dropped` (the host reports them).
#define POISSON_TERMS 8
DEVICE void poisson_spikes(long long i, double u, long long step, const REAL* mean_count, const REAL* p_spike,
                           const long long* first_step, const long long* end_step,
                           const int* pop, const SpikeList& out) {
    const Member m = member_of(i, pop, out.layout);
    if (step < first_step[m.row] || step >= end_step[m.row] || !(mean_count[m.row] > 0)) return;
    if (1.0 - u >= (double)p_spike[m.row]) return;   // no spike: u <= exp(-mean)
    const double mean = (double)mean_count[m.row];
    double probability = exp(-mean);
    double cumulative = probability;
    int count = 1;   // at least one; the next terms without a branch per term (how many of them u exceeds)
    const double steps[POISSON_TERMS] = {1.0, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5, 1.0 / 6, 1.0 / 7, 1.0 / 8};
    for (int k = 0; k < POISSON_TERMS - 1; ++k) {
        probability *= mean * steps[k];
        cumulative += probability;
        count += u > cumulative;
    }
    probability *= mean * steps[POISSON_TERMS - 1];
    cumulative += probability;
    while (u > cumulative && count < 2000 && (count < mean || probability > cumulative * 1e-17)) {
        ++count;
        probability *= mean / count;
        cumulative += probability;
    }
    for (int c = 0; c < count; ++c) emit_member_spike(m, out);
}

KERNEL void spike_source_poisson_update(
    const long long* clock, int n, unsigned long long seed, unsigned int stream,
    const REAL* mean_count, const REAL* p_spike, const long long* first_step,
    const long long* end_step, const int* pop, const int* layout, int* spike_ids, int* spike_counts, int* dropped)
{
    const long long step = clock[0];
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
    GRID_STRIDE(i, n) {
        const Philox4 bits = philox_draw(seed, stream, clock, (unsigned int)i);
        poisson_spikes(i, philox_uniform(bits.v[0], bits.v[1]), step, mean_count, p_spike, first_step,
                       end_step, pop, out);
    }
#else   // the same draws, a tile at a time
    GRID_STRIDE(t, (n + PHILOX_TILE - 1) / PHILOX_TILE) {
        double u[PHILOX_TILE];
        philox_uniform_tile(seed, stream, clock, (unsigned int)(t * PHILOX_TILE), u);
        for (int l = 0; l < PHILOX_TILE && t * PHILOX_TILE + l < n; ++l)
            poisson_spikes(t * PHILOX_TILE + l, u[l], step, mean_count, p_spike, first_step, end_step,
                           pop, out);
    }
#endif
}

// SpikeSourcePoissonRefractory as NEST's ppd_sup_generator with one component process: in each active step
// (first_step <= step < end_step) a neuron that is not dead spikes with probability `hazard` (dt / (1/rate -
// dead time)); after a spike it is dead for `dead_steps` active steps (NEST's dead-time bins).
KERNEL void spike_source_poisson_refractory_update(
    const long long* clock, int n, unsigned long long seed, unsigned int stream,
    const REAL* hazard, const int* dead_steps, const long long* first_step, const long long* end_step,
    int* dead, const int* pop, const int* layout, int* spike_ids, int* spike_counts, int* dropped)
{
    const long long step = clock[0];
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        if (step < first_step[m.row] || step >= end_step[m.row]) continue;
        if (dead[i] > 0) { --dead[i]; continue; }
        if (!(hazard[m.row] > 0)) continue;
        const Philox4 bits = philox_draw(seed, stream, clock, (unsigned int)i);
        if (philox_uniform(bits.v[0], bits.v[1]) < (double)hazard[m.row]) {
            dead[i] = dead_steps[m.row];
            emit_member_spike(m, out);
        }
    }
}

// SpikeSourceGamma as NEST's gamma_sup_generator with one component process: the process passes through
// `shape` states; in each active step it moves to the next with probability `transition` (beta * dt), and
// spikes when it leaves the last. `remaining` counts the transitions left before the spiking one (0 at
// the start: NEST starts the process in its last state).
KERNEL void spike_source_gamma_update(
    const long long* clock, int n, unsigned long long seed, unsigned int stream,
    const REAL* transition, const int* shape, const long long* first_step, const long long* end_step,
    int* remaining, const int* pop, const int* layout, int* spike_ids, int* spike_counts, int* dropped)
{
    const long long step = clock[0];
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        if (step < first_step[m.row] || step >= end_step[m.row] || !(transition[m.row] > 0)) continue;
        const Philox4 bits = philox_draw(seed, stream, clock, (unsigned int)i);
        if (philox_uniform(bits.v[0], bits.v[1]) >= (double)transition[m.row]) continue;
        const int left = remaining[i] < shape[m.row] ? remaining[i] : shape[m.row] - 1;   // shape may have been lowered
        if (left > 0) {
            remaining[i] = left - 1;
        } else {
            remaining[i] = shape[m.row] - 1;
            emit_member_spike(m, out);
        }
    }
}

// log Q(a, x), Q the regularized upper incomplete gamma function (the survival function of a Gamma(a, 1)
// variable at x), for a > 0, x >= 0; lgamma_a = log Gamma(a). Series for P below x = a + 1, Lentz's continued
// fraction for Q above (Numerical Recipes 6.2), both to double precision.
DEVICE double log_gamma_q(double a, double x, double lgamma_a) {
    if (!(x > 0)) return 0.0;
    const double log_prefactor = -x + a * log(x) - lgamma_a;
    if (x < a + 1) {
        double term = 1.0 / a, sum = term, ap = a;
        for (int k = 0; k < 100000 && fabs(term) > fabs(sum) * 1e-16; ++k) {
            ap += 1;
            term *= x / ap;
            sum += term;
        }
        return log1p(-sum * exp(log_prefactor));
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int k = 1; k < 100000; ++k) {
        const double an = -k * (k - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (fabs(delta - 1) < 1e-16) break;
    }
    return log_prefactor + log(h);
}

// SpikeSourceInhGamma: a gamma renewal process whose shape a and scale b (per ms: inv_scale = 1 / b) change at
// the bin edges (PyNN's definition; NEST 2's inh_gamma_generator: the hazard of Gamma(a(t), b(t)) at the age
// t - t_last, realized by thinning). On the grid: a neuron of age tau (ms since its last spike, or since 0)
// spikes in a step with the probability that the Gamma(a, b) interval ends within the step given that it
// exceeds tau, 1 - Q(a, (tau + dt) / b) / Q(a, tau / b), with the bin in force at the step's start. The bins of
// neuron i (coefficient row r) are bin_step[bin_begin[r] .. bin_end[r]) (the first step of each, sorted); no spikes
// before its first bin. The process runs in every step; spikes are emitted while first_step <= step < end_step.
KERNEL void spike_source_inh_gamma_update(
    const long long* clock, int n, REAL dt, unsigned long long seed, unsigned int stream,
    const long long* bin_begin, const long long* bin_end, const long long* bin_step, const REAL* shape, const REAL* inv_scale,
    const REAL* lgamma_shape, const long long* first_step, const long long* end_step,
    int* age, const int* pop, const int* layout, int* spike_ids, int* spike_counts, int* dropped)
{
    const long long step = clock[0];
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        const int steps = age[i];
        age[i] = steps < 2147483647 ? steps + 1 : steps;
        long long lo = bin_begin[m.row], hi = bin_end[m.row];   // the last bin with bin_step <= step
        if (lo == hi || bin_step[lo] > step) continue;
        while (hi - lo > 1) {
            const long long mid = lo + (hi - lo) / 2;
            if (bin_step[mid] <= step) lo = mid; else hi = mid;
        }
        const double a = (double)shape[lo], rate = (double)inv_scale[lo], tau = (double)steps * (double)dt;
        const double log_survival = log_gamma_q(a, (tau + (double)dt) * rate, (double)lgamma_shape[lo])
                                    - log_gamma_q(a, tau * rate, (double)lgamma_shape[lo]);
        const double probability = -expm1(log_survival);
        const Philox4 bits = philox_draw(seed, stream, clock, (unsigned int)i);
        if (philox_uniform(bits.v[0], bits.v[1]) < probability) {
            age[i] = 0;
            if (step >= first_step[m.row] && step < end_step[m.row])
                emit_member_spike(m, out);
        }
    }
}

// DCSource: adds `amplitude` to the injected current of each target while first_step <= step < end_step.
KERNEL void dc_source_apply(
    const long long* clock, int n_targets, const int* targets, REAL amplitude, long long first_step,
    long long end_step, REAL* i_stim)
{
    const long long step = clock[0];
    if (step < first_step || step >= end_step) return;
    GRID_STRIDE(k, n_targets) {
        atomicAdd(&i_stim[targets[k]], amplitude);
    }
}
