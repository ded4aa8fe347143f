// Spike sources and current sources. Sources emit into the same per-step spike list that neurons use.
#include "common.cuh"
#include "philox.cuh"

// SpikeSourceArray: neuron i's spikes are emit_step[offsets[i] .. offsets[i+1]) (sorted), the update step in
// which each spike is emitted; cursor[i] is the next one not yet emitted.
KERNEL void spike_source_array_update(
    const long long* clock, int n, const long long* offsets, const long long* emit_step, long long* cursor,
    int* spike_ids, int* spike_count, int spike_capacity, int* dropped)
{
    const long long step = clock[0];
    GRID_STRIDE(i, n) {
        long long k = cursor[i];
        const long long end = offsets[i + 1];
        while (k < end && emit_step[k] <= step) {
            if (emit_step[k] == step) emit_spike(i, spike_ids, spike_count, spike_capacity, dropped);
            ++k;
        }
        cursor[i] = k;
    }
}

// SpikeSourcePoisson: in each active step, neuron i emits a Poisson-distributed number of spikes with mean
// rate * dt, drawn by inverse transform from one Philox uniform keyed by (seed, stream, trial, step, i).
// `mean_count` is rate*dt per neuron; active while first_step <= step < end_step. Spikes that do not fit
// the spike list are counted in `dropped` (the host reports them).
KERNEL void spike_source_poisson_update(
    const long long* clock, int n, unsigned long long seed, unsigned int stream,
    const REAL* mean_count, const long long* first_step, const long long* end_step,
    int* spike_ids, int* spike_count, int spike_capacity, int* dropped)
{
    const long long step = clock[0];
    GRID_STRIDE(i, n) {
        if (step < first_step[i] || step >= end_step[i] || !(mean_count[i] > 0)) continue;
        const Philox4 bits = philox_draw(seed, stream, clock, (unsigned int)i);
        const double u = philox_uniform(bits.v[0], bits.v[1]);
        const double mean = (double)mean_count[i];
        double probability = exp(-mean);
        double cumulative = probability;
        int count = 0;
        while (u > cumulative && count < 2000) {   // 4x the largest mean allowed (MAX_MEAN_COUNT)
            ++count;
            probability *= mean / count;
            cumulative += probability;
        }
        for (int c = 0; c < count; ++c) emit_spike(i, spike_ids, spike_count, spike_capacity, dropped);
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
