// Spike propagation through weights shared between connections (storage/kernel.py): the kernel of a
// ConvolutionConnector and the dense weights of a PoolDenseConnector, stored once, after sPyNNaker's local-only
// convolution and pooled dense implementations. Cells of 2-D populations are in raster order (index = row * width
// + column). Positive weights go to the positive receptor, negative ones to the negative receptor, multiplied by
// `negative_sign` (-1 for conductance-based targets, which take positive conductances; +1 for current-based ones,
// which take negative currents). One delay for all connections.
#include "common.cuh"

// A presynaptic cell (row, column), pooled (divided by the pool stride) and padded, reaches postsynaptic cell
// (q_row, q_col) through kernel position i = pooled - q * stride for 0 <= i < kernel size, with the kernel read
// flipped (weight index K - 1 - i), as sPyNNaker's do_convolution_operation. A thread per (spike, position).
KERNEL void propagate_convolution(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity,
    int pre_cols, int pool_stride_rows, int pool_stride_cols, int padding_rows, int padding_cols,
    int stride_rows, int stride_cols, int kernel_rows, int kernel_cols, const REAL* kernel, int post_rows,
    int post_cols, int delay, int positive_target, int negative_target, REAL negative_sign, int slot_size,
    REAL* ring)
{
    const long long base = slot_after(clock[0] % L, delay, L) * slot_size;
    const int count = spikes_this_step(spike_count, spike_capacity);
    const int positions = kernel_rows * kernel_cols;
    GRID_STRIDE(t, (long long)count * positions) {
        const int pre = spike_ids[t / positions];
        const int i_row = (int)(t % positions) / kernel_cols, i_col = (int)(t % positions) % kernel_cols;
        const int row = (pre / pre_cols) / pool_stride_rows + padding_rows - i_row;
        const int col = (pre % pre_cols) / pool_stride_cols + padding_cols - i_col;
        if (row < 0 || col < 0 || row % stride_rows != 0 || col % stride_cols != 0) continue;
        const int q_row = row / stride_rows, q_col = col / stride_cols;
        if (q_row >= post_rows || q_col >= post_cols) continue;
        const REAL w = kernel[(kernel_rows - 1 - i_row) * kernel_cols + (kernel_cols - 1 - i_col)];
        if (w == 0) continue;
        const int post = q_row * post_cols + q_col;
        atomicAdd(&ring[base + (w > 0 ? positive_target : negative_target) + post], w > 0 ? w : negative_sign * w);
    }
}

// A presynaptic cell pooled to (row, column) of the pooled shape reaches every postsynaptic cell through the
// weights [(row * pooled_cols + column) * n_post + post]; cells pooled outside the shape reach none. A thread per
// (spike, postsynaptic cell).
KERNEL void propagate_pool_dense(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity,
    int pre_cols, int pool_stride_rows, int pool_stride_cols, int pooled_rows, int pooled_cols,
    const REAL* weight, int n_post, int delay, int positive_target, int negative_target, REAL negative_sign,
    int slot_size, REAL* ring)
{
    const long long base = slot_after(clock[0] % L, delay, L) * slot_size;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * n_post) {
        const int pre = spike_ids[t / n_post], post = (int)(t % n_post);
        const int row = (pre / pre_cols) / pool_stride_rows, col = (pre % pre_cols) / pool_stride_cols;
        if (row >= pooled_rows || col >= pooled_cols) continue;
        const REAL w = weight[((long long)row * pooled_cols + col) * n_post + post];
        if (w == 0) continue;
        atomicAdd(&ring[base + (w > 0 ? positive_target : negative_target) + post], w > 0 ? w : negative_sign * w);
    }
}

// Kernel STDP (KernelSTDP, pyNN.cupy's extension; the rule of Kheradpisheh et al. 2018, Neural Networks 99:56,
// eq. 3, with a winner per feature map): in each window of `window_steps` steps, the first postsynaptic spike of
// the map (the lowest cell index among those of the earliest step) wins, and the kernel learns at the winner's
// place only: an entry whose presynaptic cell fired in the window at or before the winner's step gains
// a_plus * (w - w_min) (w_max - w) / (w_max - w_min), every other entry in the image loses a_minus times the same
// (a w (1 - w) for weights in [0, 1], as the paper). Launched after the step's propagation, in this order.
KERNEL void kernel_stdp_pre(const long long* clock, const int* spike_ids, const int* spike_count, int spike_capacity,
                            long long* last_spike)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        last_spike[spike_ids[k]] = clock[0];
    }
}

// winner: [the window of the last winner (-1: none yet), its step, its cell]; one thread.
KERNEL void kernel_stdp_winner(const long long* clock, const int* post_spike_ids, const int* post_spike_count,
                               int post_spike_capacity, long long window_steps, long long* winner)
{
    const int count = spikes_this_step(post_spike_count, post_spike_capacity);
    GRID_STRIDE(k, 1) {
        const long long window = clock[0] / window_steps;
        if (count > 0 && winner[0] != window) {
            int first = post_spike_ids[0];
            for (int j = 1; j < count; ++j) first = post_spike_ids[j] < first ? post_spike_ids[j] : first;
            winner[0] = window;
            winner[1] = clock[0];
            winner[2] = first;
        }
    }
}

// A thread per kernel position i: the presynaptic cell q * stride + i - padding reaches the winner q through
// entry K - 1 - i (propagate_convolution's mapping, without pooling).
KERNEL void kernel_stdp_update(
    const long long* clock, const long long* winner, long long window_steps, const long long* last_spike,
    int pre_rows, int pre_cols, int padding_rows, int padding_cols, int stride_rows, int stride_cols,
    int kernel_rows, int kernel_cols, int post_cols, REAL a_plus, REAL a_minus, REAL w_min, REAL w_max,
    REAL* kernel)
{
    const long long now = clock[0];
    GRID_STRIDE(e, (long long)kernel_rows * kernel_cols) {
        if (winner[1] != now) continue;
        const int q = (int)winner[2];
        const int i_row = (int)e / kernel_cols, i_col = (int)e % kernel_cols;
        const int row = (q / post_cols) * stride_rows + i_row - padding_rows;
        const int col = (q % post_cols) * stride_cols + i_col - padding_cols;
        if (row < 0 || col < 0 || row >= pre_rows || col >= pre_cols) continue;
        const long long start = now / window_steps * window_steps;
        REAL* w = &kernel[(kernel_rows - 1 - i_row) * kernel_cols + (kernel_cols - 1 - i_col)];
        const REAL bound = (*w - w_min) * (w_max - *w) / (w_max - w_min);
        *w += (last_spike[(long long)row * pre_cols + col] >= start ? a_plus : -a_minus) * bound;
    }
}
