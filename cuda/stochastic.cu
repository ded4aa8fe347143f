// Stochastic synapses. Draws come from Philox keyed by (seed, stream, trial, step, synapse): the synapse's index
// in its projection (first_synapse of the block + j), so every synapse, step and trial draws afresh and
// reproducibly, identically on the GPU and the CPU twin. Parameters are arrays read
// at [j * per_synapse]: one value for the projection, or one per synapse. Time stamps are in steps (a spike of step
// s has the stamp s + 1, NEST's time stamp over dt).
//
// bernoulli_propagate: PyNN's SimpleStochasticSynapse as NEST's bernoulli_synapse: each synapse transmits each
//   presynaptic spike with probability p.
#include "common.cuh"
#include "philox.cuh"

KERNEL void bernoulli_propagate(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity, int lanes,
    const long long* row_ptr, const int* target, const REAL* weight, const unsigned short* delay_steps,
    int slot_size, REAL* ring, unsigned long long seed, unsigned int stream, long long first_synapse,
    const REAL* p, int per_synapse,
    const int* rank, const int* multiplicity)
{
    const long long step = clock[0], now_l = step % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        if (rank[t / lanes] != 0) continue;   // the first entry of a source takes all its spikes of this step
        const int pre = spike_ids[t / lanes], spikes = multiplicity[pre];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes) {
            int transmitted = 0;
            for (int r = 0; r < spikes; ++r) {   // a draw per spike
                const Philox4 bits = philox_draw(occurrence_seed(seed, r), stream, clock,
                                                   (unsigned int)(first_synapse + j));
                transmitted += philox_uniform(bits.v[0], bits.v[1]) < (double)p[j * per_synapse];
            }
            if (transmitted)
                atomicAdd(&ring[slot_after(now_l, delay_steps[j], L) * slot_size + target[j]],
                          (REAL)transmitted * weight[j]);
        }
    }
}

// stochastic_tsodyks_markram_propagate: PyNN's StochasticTsodyksMarkramSynapse as pyNN.nest's
//   stochastic_stp_synapse (Fuhrmann et al. 2002): u facilitates as in tsodyks_synapse (u = U without facilitation);
//   an unrecovered site recovers with probability 1 - exp(-(t - t_surv) / tau_rec) (else t_surv = t); a recovered
//   site releases with probability u (then it is unrecovered and t_surv = t), transmitting the full weight.
KERNEL void stochastic_tsodyks_markram_propagate(
    const long long* clock, int L, REAL dt, const int* spike_ids, const int* spike_count, int spike_capacity,
    int lanes, const long long* row_ptr, const int* target, const REAL* weight, const unsigned short* delay_steps,
    int slot_size, REAL* ring, unsigned long long seed, unsigned int stream, long long first_synapse,
    REAL* u, unsigned char* recovered,
    long long* survival_stamp, long long* last_stamp, const REAL* U, const REAL* tau_rec, const REAL* tau_facil,
    int per_synapse, const int* rank, const int* multiplicity)
{
    const long long step = clock[0], stamp = step + 1, now_l = step % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        if (rank[t / lanes] != 0) continue;   // the first entry of a source takes all its spikes of this step
        const int pre = spike_ids[t / lanes], spikes = multiplicity[pre];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes)
        for (int r = 0; r < spikes; ++r) {   // one after another, each with its own draws
            const long long k = j * per_synapse;
            double uj = u[j];
            if (tau_facil[k] > 1.0e-10) {
                uj *= exp(-(double)(stamp - last_stamp[j]) * (double)dt / (double)tau_facil[k]);
                uj += (double)U[k] * (1.0 - uj);
            } else {
                uj = U[k];
            }
            u[j] = (REAL)uj;
            last_stamp[j] = stamp;
            const Philox4 bits = philox_draw(occurrence_seed(seed, r), stream, clock,
                                                   (unsigned int)(first_synapse + j));
            if (!recovered[j]) {
                const double survival = exp(-(double)(stamp - survival_stamp[j]) * (double)dt / (double)tau_rec[k]);
                if (philox_uniform(bits.v[0], bits.v[1]) > survival) recovered[j] = 1;
                else survival_stamp[j] = stamp;
            }
            if (recovered[j] && philox_uniform(bits.v[2], bits.v[3]) < uj) {
                recovered[j] = 0;
                survival_stamp[j] = stamp;
                atomicAdd(&ring[slot_after(now_l, delay_steps[j], L) * slot_size + target[j]], weight[j]);
            }
        }
    }
}

// The number of successes of n trials of probability p, by inverse transform from one uniform.
DEVICE int binomial_draw(int n, double p, double uniform) {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    double probability = pow(1.0 - p, (double)n), cumulative = probability;
    int k = 0;
    while (uniform > cumulative && k < n) {
        probability *= (double)(n - k) / (double)(k + 1) * p / (1.0 - p);
        ++k;
        cumulative += probability;
    }
    return k;
}

// quantal_propagate: PyNN's MultiQuantalSynapse as NEST's quantal_stp_synapse (Loebel et al. 2009): of n release
//   sites, `available` are ready. From the second spike on, u = U + u (1 - U) exp(-h / tau_facil) and each depleted
//   site has recovered with probability 1 - exp(-h / tau_rec); then each available site releases with probability
//   u. The released count (binomial) transmits count * weight and depletes as many sites. NEST draws site by site;
//   the binomial counts have the same distribution. `last_stamp` is -1 before the first spike.
KERNEL void quantal_propagate(
    const long long* clock, int L, REAL dt, const int* spike_ids, const int* spike_count, int spike_capacity,
    int lanes, const long long* row_ptr, const int* target, const REAL* weight, const unsigned short* delay_steps,
    int slot_size, REAL* ring, unsigned long long seed, unsigned int stream, long long first_synapse,
    int* available, REAL* u,
    long long* last_stamp, const REAL* U, const int* n, const REAL* tau_rec, const REAL* tau_facil, int per_synapse,
    const int* rank, const int* multiplicity)
{
    const long long step = clock[0], stamp = step + 1, now_l = step % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        if (rank[t / lanes] != 0) continue;   // the first entry of a source takes all its spikes of this step
        const int pre = spike_ids[t / lanes], spikes = multiplicity[pre];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes)
        for (int r = 0; r < spikes; ++r) {   // one after another, each with its own draws
            const long long k = j * per_synapse;
            const Philox4 bits = philox_draw(occurrence_seed(seed, r), stream, clock,
                                                   (unsigned int)(first_synapse + j));
            int a = available[j];
            double uj = u[j];
            if (last_stamp[j] >= 0) {
                const double h = (double)(stamp - last_stamp[j]) * (double)dt;
                const double u_decay = tau_facil[k] < 1.0e-10 ? 0.0 : exp(-h / (double)tau_facil[k]);
                uj = (double)U[k] + uj * (1.0 - (double)U[k]) * u_decay;
                a += binomial_draw(n[k] - a, 1.0 - exp(-h / (double)tau_rec[k]), philox_uniform(bits.v[0], bits.v[1]));
            }
            const int released = binomial_draw(a, uj, philox_uniform(bits.v[2], bits.v[3]));
            available[j] = a - released;
            u[j] = (REAL)uj;
            last_stamp[j] = stamp;
            if (released > 0)
                atomicAdd(&ring[slot_after(now_l, delay_steps[j], L) * slot_size + target[j]],
                          (REAL)released * weight[j]);
        }
    }
}
