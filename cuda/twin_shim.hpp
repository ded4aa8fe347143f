// CPU-twin shim: lets the CUDA kernel sources compile as C++17 on the host.
// pynn_cupy/runtime/twin.py runs a launch list for many steps in one call, on one or more host threads
// (OpenMP; the grid coordinates are per thread, atomics are atomic when there are several).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

using std::isfinite;

struct TwinDim3 { unsigned x = 1, y = 1, z = 1; };
extern thread_local TwinDim3 threadIdx __attribute__((tls_model("initial-exec")));
extern thread_local TwinDim3 blockIdx __attribute__((tls_model("initial-exec")));
extern thread_local TwinDim3 blockDim __attribute__((tls_model("initial-exec")));
extern thread_local TwinDim3 gridDim __attribute__((tls_model("initial-exec")));
extern int twin_threads;   // host threads of the current run: atomics are plain adds when it is 1

// How a host thread covers a grid-stride loop: by default ("chunked") each host thread calls a kernel once
// and takes one contiguous part of [0, n); otherwise it walks the CUDA grid (blockIdx, threadIdx).
struct TwinThread { long long id = 0, count = 1; bool chunked = true; };
extern thread_local TwinThread twin_thread __attribute__((tls_model("initial-exec")));

inline long long twin_begin(long long n) {
    if (!twin_thread.chunked) return (long long)blockIdx.x * blockDim.x + threadIdx.x;
    const long long part = (n + twin_thread.count - 1) / twin_thread.count, begin = twin_thread.id * part;
    return begin < n ? begin : n;
}
inline long long twin_end(long long n) {
    if (!twin_thread.chunked) return n;
    const long long part = (n + twin_thread.count - 1) / twin_thread.count, end = (twin_thread.id + 1) * part;
    return end < n ? end : n;
}
inline long long twin_stride() { return twin_thread.chunked ? 1 : (long long)blockDim.x * gridDim.x; }

using std::exp; using std::expm1; using std::log; using std::sqrt; using std::fabs; using std::pow;
using std::fmin; using std::fmax; using std::floor; using std::ceil;

template <typename T> inline T atomicAdd(T* address, T value) {
    T old = *address;
    if (twin_threads <= 1) {
        *address = old + value;
    } else if constexpr (std::is_integral_v<T>) {
        old = __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
    } else {
        T desired;
        do { desired = old + value; }
        while (!__atomic_compare_exchange(address, &old, &desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    }
    return old;
}
