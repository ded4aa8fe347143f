// Raw Philox4x32-10 output, for known-answer tests and on-device random draws: out[4*i + k] is word k of
// the block keyed by (seed, stream, step, first_index + i).
#include "common.cuh"
#include "philox.cuh"

KERNEL void philox_fill(unsigned long long seed, unsigned int stream, unsigned long long step,
                        unsigned int first_index, int n, unsigned int* out)
{
    GRID_STRIDE(i, n) {
        const Philox4 block = philox4x32_10(seed, stream, step, first_index + (unsigned int)i);
        for (int k = 0; k < 4; ++k) out[4 * i + k] = block.v[k];
    }
}
