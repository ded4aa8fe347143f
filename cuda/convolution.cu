// Spike propagation through weights shared between connections (storage/kernel.py): the kernel of a
// ConvolutionConnector and the dense weights of a PoolDenseConnector, stored once, after sPyNNaker's local-only
// convolution and pooled dense implementations. Cells of 2-D populations are in raster order (index = row * width
// + column). Positive weights go to the positive receptor, negative ones to the negative receptor, multiplied by
// `negative_sign` (-1 for conductance-based targets, which take positive conductances; +1 for current-based ones,
// which take negative currents). One delay for all connections.
#include "common.cuh"

// A presynaptic cell (row, column) of map i, pooled (divided by the pool stride) and padded, reaches
// postsynaptic cell (q_row, q_col) of every map o through kernel position k = pooled - q * stride for
// 0 <= k < kernel size, with the kernel read flipped (entry [o][i][K - 1 - k]), as sPyNNaker's
// do_convolution_operation. Maps hold pre_map / post_map cells, one after the other (one map: sPyNNaker's case).
// A thread per (spike, postsynaptic map, position).
KERNEL void propagate_convolution(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity,
    int pre_cols, int pool_stride_rows, int pool_stride_cols, int padding_rows, int padding_cols,
    int stride_rows, int stride_cols, int kernel_rows, int kernel_cols, const REAL* kernel, int post_rows,
    int post_cols, int in_maps, int out_maps, int pre_map, int post_map, int delay, int positive_target,
    int negative_target, REAL negative_sign, int slot_size, REAL* ring)
{
    const long long base = slot_after(clock[0] % L, delay, L) * slot_size;
    const int count = spikes_this_step(spike_count, spike_capacity);
    const int positions = kernel_rows * kernel_cols, per_spike = out_maps * positions;
    GRID_STRIDE(t, (long long)count * per_spike) {
        const int pre = spike_ids[t / per_spike], in = pre / pre_map, cell = pre % pre_map;
        const int out = (int)(t % per_spike) / positions, k = (int)(t % per_spike) % positions;
        const int i_row = k / kernel_cols, i_col = k % kernel_cols;
        const int row = (cell / pre_cols) / pool_stride_rows + padding_rows - i_row;
        const int col = (cell % pre_cols) / pool_stride_cols + padding_cols - i_col;
        if (row < 0 || col < 0 || row % stride_rows != 0 || col % stride_cols != 0) continue;
        const int q_row = row / stride_rows, q_col = col / stride_cols;
        if (q_row >= post_rows || q_col >= post_cols) continue;
        const REAL w = kernel[((long long)(out * in_maps + in) * kernel_rows + (kernel_rows - 1 - i_row)) * kernel_cols
                              + (kernel_cols - 1 - i_col)];
        if (w == 0) continue;
        const int post = out * post_map + q_row * post_cols + q_col;
        atomicAdd(&ring[base + (w > 0 ? positive_target : negative_target) + post], w > 0 ? w : negative_sign * w);
    }
}

// A presynaptic cell of map m (maps of pre_map cells, one after the other; one map: sPyNNaker's case) pooled to
// (row, column) of the pooled shape reaches every postsynaptic cell through the weights
// [((m * pooled_rows + row) * pooled_cols + column) * n_post + post]; cells pooled outside the shape reach none.
// A thread per (spike, postsynaptic cell).
KERNEL void propagate_pool_dense(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity,
    int pre_cols, int pool_stride_rows, int pool_stride_cols, int pooled_rows, int pooled_cols, int pre_map,
    const REAL* weight, int n_post, int delay, int positive_target, int negative_target, REAL negative_sign,
    int slot_size, REAL* ring)
{
    const long long base = slot_after(clock[0] % L, delay, L) * slot_size;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * n_post) {
        const int pre = spike_ids[t / n_post], post = (int)(t % n_post), map = pre / pre_map, cell = pre % pre_map;
        const int row = (cell / pre_cols) / pool_stride_rows, col = (cell % pre_cols) / pool_stride_cols;
        if (row >= pooled_rows || col >= pooled_cols) continue;
        const REAL w = weight[(((long long)map * pooled_rows + row) * pooled_cols + col) * n_post + post];
        if (w == 0) continue;
        atomicAdd(&ring[base + (w > 0 ? positive_target : negative_target) + post], w > 0 ? w : negative_sign * w);
    }
}

// Kernel STDP (KernelSTDP, pyNN.cupy's extension; the rule of Kheradpisheh et al. 2018, Neural Networks 99:56,
// eq. 3): in each window of `window_steps` steps, the first postsynaptic spike of each map (the lowest cell index
// among those of the earliest step) wins, or only a few across the maps (kernel_stdp_winner), and each winner's
// map learns at the winner's place only: an entry whose presynaptic cell fired in the window at or before the
// winner's step gains a_plus * (w - w_min) (w_max - w) / (w_max - w_min), every other entry in the image loses
// a_minus times the same (a w (1 - w) for weights in [0, 1], as the paper). Launched after the step's propagation,
// in this order.
KERNEL void kernel_stdp_pre(const long long* clock, const int* spike_ids, const int* spike_count, int spike_capacity,
                            long long* last_spike)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        last_spike[spike_ids[k]] = clock[0];
    }
}

// winner: per postsynaptic map, [the window of its last winner (-1: none yet), its step, its cell], then the last
// step in which any map won (read first by kernel_stdp_update, which has nothing to do in most steps). Without a limit
// (max_winners < 0), a thread per map: its first spike wins. With one (SpykeTorch's get_k_winners for Kheradpisheh
// et al.), one thread: in each step, the lowest-index spike of a map without a winner in this window and farther
// than `radius` cells (rows or columns) from every winner of this window, in any map, wins, again and again until
// the window has max_winners winners or no such spike is left.
KERNEL void kernel_stdp_winner(const long long* clock, const int* post_spike_ids, const int* post_spike_count,
                               int post_spike_capacity, long long window_steps, int out_maps, int post_map,
                               int post_cols, int max_winners, int radius, long long* winner)
{
    const int count = spikes_this_step(post_spike_count, post_spike_capacity);
    const long long window = clock[0] / window_steps;
    if (max_winners >= 0) {
        GRID_STRIDE(one, count > 0 ? 1 : 0) {
            int found = 0;
            for (int map = 0; map < out_maps; ++map) found += winner[3 * map] == window;
            while (found < max_winners) {
                int best = -1;
                for (int j = 0; j < count; ++j) {
                    const int id = post_spike_ids[j], cell = id % post_map;
                    if ((best >= 0 && id >= best) || winner[3 * (id / post_map)] == window) continue;
                    bool apart = true;
                    for (int map = 0; map < out_maps && apart; ++map) {
                        const long long* w = winner + 3 * map;
                        const int d_row = (int)w[2] / post_cols - cell / post_cols;
                        const int d_col = (int)w[2] % post_cols - cell % post_cols;
                        apart = w[0] != window || d_row > radius || -d_row > radius || d_col > radius ||
                                -d_col > radius;
                    }
                    if (apart) best = id;
                }
                if (best < 0) break;
                long long* w = winner + 3 * (best / post_map);
                w[0] = window;
                w[1] = clock[0];
                w[2] = best % post_map;
                winner[3 * out_maps] = clock[0];
                ++found;
            }
        }
        return;
    }
    GRID_STRIDE(map, out_maps) {
        long long* w = winner + 3 * map;
        if (count == 0 || w[0] == window) continue;
        int first = -1;
        for (int j = 0; j < count; ++j) {
            const int id = post_spike_ids[j];
            if (id / post_map == map && (first < 0 || id < first)) first = id;
        }
        if (first < 0) continue;
        w[0] = window;
        w[1] = clock[0];
        w[2] = first % post_map;
        winner[3 * out_maps] = clock[0];   // the same value from every thread that writes it
    }
}

// A thread per kernel entry (o, i, position k): the presynaptic cell q * stride + k - padding of map i reaches the
// winner q of map o through entry [o][i][K - 1 - k] (propagate_convolution's mapping, without pooling).
KERNEL void kernel_stdp_update(
    const long long* clock, const long long* winner, long long window_steps, const long long* last_spike,
    int pre_rows, int pre_cols, int padding_rows, int padding_cols, int stride_rows, int stride_cols,
    int kernel_rows, int kernel_cols, int post_cols, int in_maps, int out_maps, int pre_map, REAL a_plus,
    REAL a_minus, REAL w_min, REAL w_max, REAL* kernel)
{
    const long long now = clock[0];
    if (winner[3 * out_maps] != now) return;   // no map won in this step
    const int positions = kernel_rows * kernel_cols;
    GRID_STRIDE(e, (long long)out_maps * in_maps * positions) {
        const int out = (int)(e / ((long long)in_maps * positions)), in = (int)(e / positions) % in_maps;
        if (winner[3 * out + 1] != now) continue;
        const int q = (int)winner[3 * out + 2], k = (int)(e % positions);
        const int i_row = k / kernel_cols, i_col = k % kernel_cols;
        const int row = (q / post_cols) * stride_rows + i_row - padding_rows;
        const int col = (q % post_cols) * stride_cols + i_col - padding_cols;
        if (row < 0 || col < 0 || row >= pre_rows || col >= pre_cols) continue;
        const long long start = now / window_steps * window_steps;
        REAL* w = &kernel[((long long)(out * in_maps + in) * kernel_rows + (kernel_rows - 1 - i_row)) * kernel_cols
                          + (kernel_cols - 1 - i_col)];
        const REAL bound = (*w - w_min) * (w_max - *w) / (w_max - w_min);
        *w += (last_spike[(long long)in * pre_map + row * pre_cols + col] >= start ? a_plus : -a_minus) * bound;
    }
}
