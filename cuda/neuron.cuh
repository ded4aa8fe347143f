// Helpers shared by the neuron kernels.
#pragma once
#include "common.cuh"

// The input ring of a batch of n neurons is laid out [slot][receptor][neuron], L slots of n_receptors * n
// values; the input of step s sits in slot s % L. This is the offset of the current step's slot.
DEVICE long long input_slot(const long long* clock, int L, int n_receptors, int n) {
    return (clock[0] % L) * n_receptors * (long long)n;
}

// Reads this step's input from the ring (slot + receptor * n + i) and clears it for reuse L steps later.
DEVICE REAL take_input(REAL* ring, long long index) {
    const REAL value = ring[index];
    ring[index] = 0;
    return value;
}

// Counts a neuron-step whose membrane potential is not a finite number (NaN or infinite) for its population;
// the host raises NumericalInstabilityError (NEST stops with NumericalInstability or a GSL solver failure).
DEVICE void check_finite(const Member& m, REAL v, int* non_finite) {
    if (!isfinite(v)) atomicAdd(&non_finite[m.pop], 1);
}

// NEST's threshold rule: at or above threshold the neuron spikes, is reset and starts its refractory count.
// True if it spiked.
DEVICE bool threshold(const Member& m, REAL* vm, int* refractory, REAL v_thresh, REAL v_reset, int refractory_steps,
                      const SpikeList& out) {
    if (*vm >= v_thresh) {
        *refractory = refractory_steps;
        *vm = v_reset;
        emit_member_spike(m, out);
        return true;
    }
    return false;
}
