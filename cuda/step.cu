// Step bracketing kernels: every step starts with step_begin and ends with step_end.
#include "common.cuh"

// Clears the per-step spike counters of all groups, first thing in a step.
KERNEL void step_begin(int n_groups, int* spike_counts)
{
    GRID_STRIDE(g, n_groups) {
        spike_counts[g] = 0;
    }
}

// Advances the device clock, last thing in a step.
KERNEL void step_end(long long* clock)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) clock[0] += 1;
}
