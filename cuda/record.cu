// Device-side recording: spikes as (step, id) pairs and sampled state variables as rows of a matrix.
// Buffers are copied to the host in bulk between chunks of steps.
#include "common.cuh"

// Stores each spike of this step from a recorded neuron (recorded[id] != 0). `stored` counts all spikes,
// including those beyond `capacity` (the host checks and reports overflow).
KERNEL void record_spikes(
    const long long* clock, const int* spike_ids, const int* spike_count, int spike_capacity,
    const unsigned char* recorded, int capacity, int* out_id, long long* out_step, int* stored)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        const int id = spike_ids[k];
        if (!recorded[id]) continue;
        const int slot = atomicAdd(stored, 1);
        if (slot < capacity) {
            out_id[slot] = id;
            out_step[slot] = clock[0];
        }
    }
}

// Samples `values[index[j]]` into row (step - window[0]) / interval of `out` when that division is exact and
// the row is below window[1]. Runs at the start of a step, so it records the state at time step * dt.
// The host sets `window` (first sample step, rows) before each chunk.
KERNEL void record_values(
    const long long* clock, const long long* window, int interval, int n_recorded, const int* index,
    const REAL* values, REAL* out)
{
    const long long offset = clock[0] - window[0];
    if (offset < 0 || offset % interval != 0 || offset / interval >= window[1]) return;
    REAL* row = out + (offset / interval) * (long long)n_recorded;
    GRID_STRIDE(j, n_recorded) {
        row[j] = values[index[j]];
    }
}

// As record_values, for recorded items spread over several launches (e.g. the blocks of a projection): sample
// `values[index[j]]` into column columns[j] of row (step - window[0]) / interval of `out` (rows of row_size).
KERNEL void record_columns(
    const long long* clock, const long long* window, int interval, int n_recorded, const int* index,
    const int* columns, int row_size, const REAL* values, REAL* out)
{
    const long long offset = clock[0] - window[0];
    if (offset < 0 || offset % interval != 0 || offset / interval >= window[1]) return;
    REAL* row = out + (offset / interval) * (long long)row_size;
    GRID_STRIDE(j, n_recorded) {
        row[columns[j]] = values[index[j]];
    }
}
