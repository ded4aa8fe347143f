// Shared definitions for every kernel file. Each .cu includes this first, so each compiles on its own:
// with NVRTC (GPU), and with the host C++ compiler through the CPU-twin shim below.
#pragma once

#ifndef REAL
#define REAL float  // set by the runtime: -DREAL=float or -DREAL=double
#endif

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define KERNEL extern "C" __global__
#define DEVICE __device__ __forceinline__
#define COLD __device__ __noinline__
#define MEMBER __device__ __forceinline__
#else
#include "twin_shim.hpp"
#define KERNEL extern "C"
#define DEVICE static inline
#define COLD static __attribute__((noinline, cold))   // a rare path, kept out of the hot loop
#define MEMBER inline
#endif

// Kernel pointer arguments never alias one another.
#define RESTRICT __restrict__

// Grid-stride loop over [0, n): the only way kernels iterate, so any grid covers the data. On the host, each
// thread of the CPU twin takes a contiguous part instead (see twin_shim.hpp).
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x, i##_stride = (long long)blockDim.x * gridDim.x; \
         i < (long long)(n); i += i##_stride)
#else
#define GRID_STRIDE(i, n) \
    for (long long i = twin_begin(n), i##_stride = twin_stride(), i##_end = twin_end(n); i < i##_end; i += i##_stride)
#endif

// Appends i to this step's spike list of `capacity` entries; a spike that does not fit is counted in
// `dropped` (the host reports it). Every writer of a spike list goes through here.
DEVICE void emit_spike(long long i, int* spike_ids, int* spike_count, int capacity, int* dropped) {
    const int slot = atomicAdd(spike_count, 1);
    if (slot < capacity) spike_ids[slot] = (int)i;
    else atomicAdd(dropped, 1);
}

// A hint to fetch values[index[k]] ahead of its use (k < end) where the hardware cannot guess the address: on
// the CPU twin, whose walks of a column of synapses jump through the weights; nothing on the GPU.
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define PREFETCH(values, index, k, end)
#else
#define PREFETCH(values, index, k, end) if ((k) < (end)) __builtin_prefetch(&(values)[(index)[k]], 1)
#endif

// Slots of a ring of `size` steps without a division per synapse: `now` is step % size and 0 <= d < size.
DEVICE long long slot_after(long long now, int d, int size) {
    const long long slot = now + d;
    return slot >= size ? slot - size : slot;
}
DEVICE long long slot_before(long long now, int d, int size) {
    const long long slot = now - d;
    return slot < 0 ? slot + size : slot;
}

// The entries of a spike list in use this step (a count beyond the capacity is an overflow, reported by the host).
DEVICE int spikes_this_step(const int* spike_count, int spike_capacity) {
    return spike_count[0] < spike_capacity ? spike_count[0] : spike_capacity;
}

// A neuron batch holds every population of one device model end to end: neuron i of the batch belongs to
// population pop[i], described by LAYOUT_FIELDS ints of `layout`: its first neuron, its first row in the
// coefficient tables, whether it has a row per neuron (parameters that differ between its neurons) or one row
// for all, and its segment of the batch's spike list (first entry, capacity), which holds population-local ids.
#define LAYOUT_FIELDS 5
enum { LAYOUT_FIRST = 0, LAYOUT_ROW = 1, LAYOUT_WIDE = 2, LAYOUT_SPIKE_BASE = 3, LAYOUT_SPIKE_CAPACITY = 4 };

struct Member {
    int pop;     // the population's place in the batch
    int local;   // the neuron's index in its population
    int row;     // the neuron's row in the coefficient tables
};

DEVICE Member member_of(long long i, const int* pop, const int* layout) {
    Member m;
    m.pop = pop[i];
    const int* entry = layout + m.pop * LAYOUT_FIELDS;
    m.local = (int)(i - entry[LAYOUT_FIRST]);
    m.row = entry[LAYOUT_ROW] + (entry[LAYOUT_WIDE] ? m.local : 0);
    return m;
}

// A batch's spike list: `ids` in per-population segments, one count and one dropped counter per population.
struct SpikeList {
    const int* layout;
    int* ids;
    int* counts;
    int* dropped;
};

DEVICE void emit_member_spike(const Member& m, const SpikeList& out) {
    const int* entry = out.layout + m.pop * LAYOUT_FIELDS;
    emit_spike(m.local, out.ids + entry[LAYOUT_SPIKE_BASE], out.counts + m.pop, entry[LAYOUT_SPIKE_CAPACITY],
               out.dropped + m.pop);
}

// The key of the r-th of several spikes of one source in a step: a distinct Philox key for each r (r = 0: seed).
DEVICE unsigned long long occurrence_seed(unsigned long long seed, int r) {
    return seed + (unsigned long long)r * 0x9E3779B97F4A7C15ull;
}
