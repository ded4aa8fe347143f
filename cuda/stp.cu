// Short-term plasticity: PyNN's TsodyksMarkramSynapse as NEST's tsodyks_synapse (Tsodyks, Uziel & Markram 2000).
// Each synapse keeps the fraction of resources available (x), in use (y, decaying with the postsynaptic current's
// time constant tau_psc) and the utilization u, and the time stamp of its last presynaptic spike (in steps: a
// spike of step s has the time stamp (s + 1) dt; 0 before the first spike, as NEST's t_lastspike_). At each
// presynaptic spike, in NEST's order: propagate u, x, y over the interval h since the last spike, then
// u += U (1 - u), transmit weight * u * x, move u * x from x to y. Parameters are arrays read at
// [k * per_synapse]: one value for the projection, or one per synapse.
#include "common.cuh"

KERNEL void tsodyks_markram_propagate(
    const long long* clock, int L, REAL dt, const int* spike_ids, const int* spike_count, int spike_capacity,
    int lanes, const long long* row_ptr, const int* target, const REAL* weight, const unsigned short* delay_steps,
    int slot_size, REAL* ring, REAL* x, REAL* y, REAL* u, long long* last_stamp, const REAL* U,
    const REAL* tau_rec, const REAL* tau_facil, const REAL* tau_psc, int per_synapse, const int* rank,
    const int* multiplicity)
{
    const long long step = clock[0], now_l = step % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        if (rank[t / lanes] != 0) continue;   // the first entry of a source takes all its spikes of this step
        const int pre = spike_ids[t / lanes], spikes = multiplicity[pre];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes) {
            const long long p = j * per_synapse;
            double xj = x[j], yj = y[j], uj = u[j];
            for (int r = 0; r < spikes; ++r) {   // several spikes of the step: one after another, h = 0 between
                const double h = r == 0 ? (double)(step + 1 - last_stamp[j]) * (double)dt : 0.0;
                const double p_uu = tau_facil[p] == 0 ? 0.0 : exp(-h / (double)tau_facil[p]);
                const double p_yy = exp(-h / (double)tau_psc[p]);
                const double p_zz = expm1(-h / (double)tau_rec[p]);
                const double p_xy = (p_zz * (double)tau_rec[p] - (p_yy - 1.0) * (double)tau_psc[p])
                                    / ((double)tau_psc[p] - (double)tau_rec[p]);
                const double z = 1.0 - xj - yj;
                uj *= p_uu;
                xj += p_xy * yj - p_zz * z;
                yj *= p_yy;
                uj += (double)U[p] * (1.0 - uj);
                const double released = uj * xj;
                xj -= released;
                yj += released;
                atomicAdd(&ring[slot_after(now_l, delay_steps[j], L) * slot_size + target[j]],
                          (REAL)(released * weight[j]));
            }
            last_stamp[j] = step + 1;
            x[j] = (REAL)xj;
            y[j] = (REAL)yj;
            u[j] = (REAL)uj;
        }
    }
}
