// Helpers shared by the neuron kernels.
#pragma once
#include "common.cuh"

// Reads this step's input from a ring-buffer slot and clears the slot for reuse L steps later.
DEVICE REAL take_input(REAL* ring, long long index) {
    const REAL value = ring[index];
    ring[index] = 0;
    return value;
}

// Appends neuron i to this step's spike list.
DEVICE void emit_spike(long long i, int* spike_ids, int* spike_count) {
    spike_ids[atomicAdd(spike_count, 1)] = (int)i;
}

// NEST's threshold rule: at or above threshold the neuron spikes, is reset and starts its refractory count.
DEVICE void threshold(long long i, REAL* vm, int* refractory, REAL v_thresh, REAL v_reset, int refractory_steps,
                      int* spike_ids, int* spike_count) {
    if (*vm >= v_thresh) {
        *refractory = refractory_steps;
        *vm = v_reset;
        emit_spike(i, spike_ids, spike_count);
    }
}
