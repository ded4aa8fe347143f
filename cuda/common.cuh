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
