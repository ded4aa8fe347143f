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

// The uniforms of philox_draw for indices first .. first + n - 1 (clock: step, trial), drawn one at a time (tiled
// 0, as the GPU's kernels do) or a tile at a time (1, as the CPU twin's): out[i], the same either way.
KERNEL void philox_uniform_fill(unsigned long long seed, unsigned int stream, const long long* clock,
                                unsigned int first, int n, int tiled, double* out)
{
    GRID_STRIDE(t, (n + PHILOX_TILE - 1) / PHILOX_TILE) {
        double u[PHILOX_TILE];
        const unsigned int base = first + (unsigned int)(t * PHILOX_TILE);
        if (tiled) {
            philox_uniform_tile(seed, stream, clock, base, u);
        } else {
            for (int l = 0; l < PHILOX_TILE; ++l) {
                const Philox4 bits = philox_draw(seed, stream, clock, base + (unsigned int)l);
                u[l] = philox_uniform(bits.v[0], bits.v[1]);
            }
        }
        for (int l = 0; l < PHILOX_TILE && t * PHILOX_TILE + l < n; ++l) out[t * PHILOX_TILE + l] = u[l];
    }
}
