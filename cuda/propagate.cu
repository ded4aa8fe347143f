// Spike propagation through a static projection stored pre-major (CSR): each spike of step s walks its row
// and adds the weight into the target population's input ring at slot (s + delay) % L, read by the target in
// step s + delay. A synapse's target is receptor * n_post + neuron, its place within a slot of
// `slot_size` = n_receptors * n_post values. `lanes` threads share a row (32 on the GPU: a warp reads
// consecutive synapses; 1 on the CPU twin).
#include "common.cuh"

KERNEL void propagate_static(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity, int lanes,
    const long long* row_ptr, const int* target, const REAL* weight, const unsigned short* delay_steps,
    int slot_size, REAL* ring)
{
    const long long now = clock[0] % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        const int pre = spike_ids[t / lanes];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes) {
            const long long slot = slot_after(now, delay_steps[j], L);
            atomicAdd(&ring[slot * slot_size + target[j]], weight[j]);
        }
    }
}

// A presynaptic source can emit several spikes in one step (several entries with its id in the spike list).
// Synapses with per-synapse state (plastic, short-term, stochastic) take them one after another in one thread:
// spike_multiplicity counts each id's entries (multiplicity[id]) and gives each entry its rank among them; the
// walk of the entry of rank 0 applies all of them, in order; multiplicity_clear resets the counts.
KERNEL void spike_multiplicity(const int* spike_ids, const int* spike_count, int spike_capacity, int* multiplicity,
                               int* rank)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        rank[k] = atomicAdd(&multiplicity[spike_ids[k]], 1);
    }
}

KERNEL void multiplicity_clear(const int* spike_ids, const int* spike_count, int spike_capacity, int* multiplicity)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        multiplicity[spike_ids[k]] = 0;
    }
}

// As propagate_static, with each synapse's target (24 low bits) and delay in steps (8 high bits) in one word.
KERNEL void propagate_static_packed(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity, int lanes,
    const long long* row_ptr, const unsigned int* synapse, const REAL* weight, int slot_size, REAL* ring)
{
    const long long now = clock[0] % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        const int pre = spike_ids[t / lanes];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes) {
            const unsigned int word = synapse[j];
            const long long slot = slot_after(now, (int)(word >> 24), L);
            atomicAdd(&ring[slot * slot_size + (word & 0xFFFFFFu)], weight[j]);
        }
    }
}
