// Philox4x32-10 counter-based generator (Salmon et al., SC'11). A draw is a pure function of
// (seed, stream, step, index), so the GPU and the CPU twin produce identical numbers in any launch order.
#pragma once
#include "common.cuh"

struct Philox4 { unsigned int v[4]; };

// The rounds unrolled: on the host this lets a loop of draws over consecutive indices vectorize (philox_uniform_tile).
#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define PHILOX_UNROLL _Pragma("unroll")
#else
#define PHILOX_UNROLL _Pragma("GCC unroll 10")
#endif

DEVICE unsigned int philox_mulhilo(unsigned int a, unsigned int b, unsigned int* hi) {
    unsigned long long product = (unsigned long long)a * (unsigned long long)b;
    *hi = (unsigned int)(product >> 32);
    return (unsigned int)product;
}

DEVICE Philox4 philox4x32_10(unsigned long long seed, unsigned int stream, unsigned long long step,
                             unsigned int index) {
    unsigned int c0 = (unsigned int)step, c1 = (unsigned int)(step >> 32), c2 = index, c3 = stream;
    unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
    PHILOX_UNROLL
    for (int round = 0; round < 10; ++round) {
        unsigned int hi0, hi1;
        unsigned int lo0 = philox_mulhilo(0xD2511F53u, c0, &hi0);
        unsigned int lo1 = philox_mulhilo(0xCD9E8D57u, c2, &hi1);
        c0 = hi1 ^ c1 ^ k0; c1 = lo1; c2 = hi0 ^ c3 ^ k1; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    Philox4 out; out.v[0] = c0; out.v[1] = c1; out.v[2] = c2; out.v[3] = c3;
    return out;
}

// A simulation draw: `clock` holds (step, trial); the trial, advanced by reset(), takes the 16 high bits of
// the 64-bit step word (steps below 2^48, trials wrapping at 2^16), so every trial draws fresh numbers.
DEVICE Philox4 philox_draw(unsigned long long seed, unsigned int stream, const long long* clock, unsigned int index) {
    const unsigned long long step = (unsigned long long)clock[0] & 0xFFFFFFFFFFFFull;
    const unsigned long long trial = (unsigned long long)clock[1] & 0xFFFFull;
    return philox4x32_10(seed, stream, step | (trial << 48), index);
}

// Uniform double in the open interval (0, 1) from two 32-bit words (53 bits).
DEVICE double philox_uniform(unsigned int a, unsigned int b) {
    unsigned long long bits = ((unsigned long long)(a >> 5) << 26) | (unsigned long long)(b >> 6);
    return ((double)bits + 0.5) * (1.0 / 9007199254740992.0);
}

// The uniforms of philox_draw(seed, stream, clock, first + l) for l < PHILOX_TILE, side by side: the CPU twin's
// per-neuron draws, which the host compiler vectorizes (about 4x faster than one at a time); the same numbers.
#define PHILOX_TILE 16
DEVICE void philox_uniform_tile(unsigned long long seed, unsigned int stream, const long long* clock,
                                unsigned int first, double* u) {
    const unsigned long long step = ((unsigned long long)clock[0] & 0xFFFFFFFFFFFFull)
                                    | (((unsigned long long)clock[1] & 0xFFFFull) << 48);
    for (int l = 0; l < PHILOX_TILE; ++l) {
        const Philox4 bits = philox4x32_10(seed, stream, step, first + (unsigned int)l);
        u[l] = philox_uniform(bits.v[0], bits.v[1]);
    }
}
