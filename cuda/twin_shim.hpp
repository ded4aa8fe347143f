// CPU-twin shim: lets the CUDA kernel sources compile as C++17 on the host.
// Kernels are launched by pynn_cupy/runtime/twin_main.cpp over the same grid the GPU would use,
// one block after another on one host thread, so atomics need not be atomic and the grid coordinates are
// plain globals.
#pragma once
#include <cmath>
#include <cstdint>

struct TwinDim3 { unsigned x = 1, y = 1, z = 1; };
extern TwinDim3 threadIdx, blockIdx, blockDim, gridDim;

using std::exp; using std::expm1; using std::log; using std::sqrt; using std::fabs; using std::pow;
using std::fmin; using std::fmax; using std::floor; using std::ceil;

template <typename T> inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }
