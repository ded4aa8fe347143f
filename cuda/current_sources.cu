// Current sources beyond DCSource (dc_source_apply, sources.cu): a sine (ACSource), a piecewise constant
// current (StepCurrentSource) and Gaussian noise (NoisyCurrentSource). A launch adds the source's current of
// this update step to i_stim of its targets; the neuron update of the same step uses it (for the whole step,
// as NEST) and clears it. Parameters live in small device arrays, so that changes between runs are written
// in place. Kernels are stateless (everything follows from the step), so reset() needs nothing here.
#include "common.cuh"
#include "philox.cuh"

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
using std::sin; using std::cos;
#endif

#define CURRENT_SOURCE_TWO_PI 6.283185307179586

// ACSource: offset + amplitude * sin(2 pi (cycles_per_step * (step - first_step) + phase_cycles)) while
// first_step <= step < end_step. The phase comes from the step count in double precision, reduced to one
// cycle before the sine, so it does not drift over long runs (in float32 as in float64).
// params: amplitude, offset, cycles_per_step, phase_cycles (nA, nA, cycles, cycles); window: first, end step.
KERNEL void ac_source_apply(
    const long long* clock, int n_targets, const int* targets, const double* params, const long long* window,
    REAL* i_stim)
{
    const long long step = clock[0];
    if (step < window[0] || step >= window[1]) return;
    const double cycles = params[2] * (double)(step - window[0]);
    const double turn = (cycles - floor(cycles)) + params[3];
    const REAL value = (REAL)(params[1] + params[0] * sin(CURRENT_SOURCE_TWO_PI * turn));
    GRID_STRIDE(k, n_targets) {
        atomicAdd(&i_stim[targets[k]], value);
    }
}

// StepCurrentSource: amplitudes[j] from update step step_at[j] on (step_at sorted, strictly increasing): the
// last j with step_at[j] <= step, found by binary search. Before step_at[0], nothing, except from step
// carry[0] on in trial carry[1]: amplitudes[n_times] (the amplitude in effect when new times were set).
KERNEL void step_current_apply(
    const long long* clock, int n_targets, const int* targets, int n_times, const long long* step_at,
    const REAL* amplitudes, const long long* carry, REAL* i_stim)
{
    const long long step = clock[0];
    int lo = 0, hi = n_times;   // the first j with step_at[j] > step
    while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (step_at[mid] <= step) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0 && (step < carry[0] || clock[1] != carry[1])) return;
    const REAL value = amplitudes[lo == 0 ? n_times : lo - 1];
    GRID_STRIDE(k, n_targets) {
        atomicAdd(&i_stim[targets[k]], value);
    }
}

// NoisyCurrentSource as NEST's noise_generator: each target has its own current, mean + stdev * N(0, 1), drawn
// anew every window[2] steps from window[0] on and held in between, while window[0] <= step < window[1].
// The draw of target k in the interval starting at step w is keyed by (seed, stream, trial, w,
// first_index + k) (Box-Muller on one Philox block), so it is the same in any launch order and fresh in
// every trial. params: mean, stdev (nA). With apply = 0 nothing is injected (the host's look at the
// current of the coming step). Recording: record = (first step, rows); weight * current is added to
// record_out[step - record[0]] for each target (weight = 1 / number of targets: NEST's mean over them).
KERNEL void noise_current_apply(
    const long long* clock, unsigned long long seed, unsigned int stream, int n_targets, const int* targets,
    int first_index, int apply, const double* params, const long long* window, REAL* i_stim,
    const long long* record, REAL weight, REAL* record_out)
{
    const long long step = clock[0];
    if (step < window[0] || step >= window[1]) return;
    const long long key[2] = {window[0] + (step - window[0]) / window[2] * window[2], clock[1]};
    const long long row = step - record[0];
    const bool recorded = row >= 0 && row < record[1];
    GRID_STRIDE(k, n_targets) {
        const Philox4 bits = philox_draw(seed, stream, key, (unsigned int)(first_index + k));
        const double u = philox_uniform(bits.v[0], bits.v[1]), angle = philox_uniform(bits.v[2], bits.v[3]);
        const double normal = sqrt(-2.0 * log(u)) * cos(CURRENT_SOURCE_TWO_PI * angle);
        const REAL value = (REAL)(params[0] + params[1] * normal);
        if (apply) atomicAdd(&i_stim[targets[k]], value);
        if (recorded) atomicAdd(&record_out[row], value * weight);
    }
}
