// Spike-timing-dependent plasticity on a plastic CSR projection: PyNN's STDPMechanism with SpikePairRule and its
// four weight dependences, as NEST's stdp_synapse (all-to-all pairing, delays entirely dendritic: the synapse sees
// a presynaptic spike at once and a postsynaptic one after the connection's delay d).
//
// Traces, in steps (a spike of step q has NEST's time stamp (q + 1) dt):
//   pre trace  Y_i(s) = sum over spikes of presynaptic neuron i at steps p < s of exp(-(s - p) dt / tau_plus)
//   post trace X_j(s) = sum over spikes of postsynaptic neuron j at steps q < s of exp(-(s - q) dt / tau_minus)
// kept per neuron (Y: its current value; X: a ring of its last H values, H > the longest delay).
// NEST updates the weight at each presynaptic spike of step s: first facilitation by the postsynaptic spikes that
// reached the synapse since the previous presynaptic spike (q + d <= s, in order), each with Kplus at its arrival,
// then depression by K- = X_j(s - d) (postsynaptic spikes strictly before t_pre - d). Here the same sequence of
// updates happens as the events reach the synapse: a postsynaptic spike of step q facilitates at step q + d with
// Y_i(q + d) (presynaptic spikes before that step), before the presynaptic spikes of that step depress. Weights are
// thus NEST's whenever a presynaptic spike follows; in between they already hold the facilitation NEST defers.
//
// Weight dependence (NEST's facilitate_/depress_ with w_min added; w_min = 0 is NEST's arithmetic):
//   potentiation  w <- min(w_max, (w / w_max + A_plus (1 - w / w_max)^mu_plus K+) w_max)
//   depression    w <- max(w_min, (w / w_max - A_minus ((w - w_min) / w_max)^mu_minus K-) w_max)
// mu = (0, 0) additive, (1, 1) multiplicative, (0, 1) additive potentiation / multiplicative depression, any: Gutig.
// Vogels2011Rule (rule 1; NEST's vogels_sprekeler_synapse, Vogels et al. 2011), on the same traces (tau_plus =
// tau_minus = tau) with a_plus = eta and a_minus = alpha eta (alpha = 2 rho tau):
//   at a postsynaptic spike's arrival  w <- min(w_max, w + eta K+)
//   at a presynaptic spike             w <- max(w_min, min(w_max, w + eta K-) - alpha eta)
// TripletRule (NEST's stdp_triplet_synapse; Pfister & Gerstner 2006, all-to-all): second traces Y2 (tau_plus_triplet,
// presynaptic) and X2 (tau_minus_triplet, postsynaptic), kept as Y and X; the amplitudes grow with them:
//   at a postsynaptic spike of step q (arriving at q + d)  A_plus  -> A_plus + A_plus_triplet X2_j(q)
//   at a presynaptic spike of step s                      A_minus -> A_minus + A_minus_triplet Y2_i(s)
// in the weight dependence's formulas above (additive with w_min = 0: NEST's rule, its amplitudes divided by Wmax).
// A second spike of a source in the same step sees the first in Y2 (NEST: Kplus_triplet += 1 after each).
// Parameters are arrays read at [k * per_synapse]: one value for the projection, or one per synapse.
#include "common.cuh"

#define RULE_SPIKE_PAIR 0
#define RULE_VOGELS 1
#define RULE_TRIPLET 2

// x^mu, with the exponents of the additive and multiplicative dependences without a call to pow (IEEE pow gives
// exactly 1 and x for them, so the results are NEST's bit for bit)
DEVICE REAL power(REAL x, REAL mu) {
    return mu == (REAL)0 ? (REAL)1 : mu == (REAL)1 ? x : (REAL)pow(x, mu);
}

DEVICE REAL stdp_potentiate(REAL w, REAL k_plus, REAL a_plus, REAL w_max, REAL mu_plus) {
    const REAL norm = w / w_max + a_plus * power((REAL)1 - w / w_max, mu_plus) * k_plus;
    return norm < (REAL)1 ? norm * w_max : w_max;
}

DEVICE REAL stdp_depress(REAL w, REAL k_minus, REAL a_minus, REAL w_min, REAL w_max, REAL mu_minus) {
    const REAL norm = w / w_max - a_minus * power((w - w_min) / w_max, mu_minus) * k_minus;
    const REAL depressed = norm * w_max;
    return depressed > w_min ? depressed : w_min;
}

DEVICE REAL vogels_potentiate(REAL w, REAL k, REAL eta, REAL w_max) {
    const REAL potentiated = w + eta * k;
    return potentiated < w_max ? potentiated : w_max;
}

DEVICE REAL vogels_depress(REAL w, REAL k_minus, REAL eta, REAL alpha_eta, REAL w_min, REAL w_max) {
    const REAL depressed = vogels_potentiate(w, k_minus, eta, w_max) - alpha_eta;
    return depressed > w_min ? depressed : w_min;
}

// The most spikes in the history slots of steps `step - delay_values[dk]` (what a walk over them needs to cover).
DEVICE int busiest_slot(long long step, int H, const int* history_counts, int n_delays, const int* delay_values) {
    int most = 0;
    for (int dk = 0; dk < n_delays; ++dk) {
        const long long from = step - delay_values[dk];
        if (from >= 0 && history_counts[from % H] > most) most = history_counts[from % H];
    }
    return most;
}

// Copies this step's spike list of a population into slot (step % H) of its history (ids, count).
KERNEL void spike_history_store(
    const long long* clock, int H, const int* spike_ids, const int* spike_count, int spike_capacity,
    int* history_ids, int* history_counts)
{
    const long long slot = clock[0] % H;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, spike_capacity) {
        if (k < count) history_ids[slot * spike_capacity + k] = spike_ids[k];
        if (k == 0) history_counts[slot] = count;
    }
}

// As spike_history_store, also keeping with each entry how many spikes its source emitted in the step if it is
// the source's first entry (rank 0), else 0 (history_spikes), so that a later walk takes them all in one thread.
KERNEL void spike_history_store_counted(
    const long long* clock, int H, const int* spike_ids, const int* spike_count, int spike_capacity,
    const int* rank, const int* multiplicity, int* history_ids, int* history_counts, int* history_spikes)
{
    const long long slot = clock[0] % H;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, spike_capacity) {
        if (k < count) {
            history_ids[slot * spike_capacity + k] = spike_ids[k];
            history_spikes[slot * spike_capacity + k] = rank[k] == 0 ? multiplicity[spike_ids[k]] : 0;
        }
        if (k == 0) history_counts[slot] = count;
    }
}

// Trace update, first part: slot (step + 1) % H of a ring of H traces of n neurons = slot step % H times decay.
KERNEL void trace_decay(const long long* clock, int H, int n, REAL decay, REAL* trace)
{
    const long long now = (clock[0] % H) * (long long)n, next = ((clock[0] + 1) % H) * (long long)n;
    GRID_STRIDE(j, n) {
        trace[next + j] = trace[now + j] * decay;
    }
}

// Trace update, second part: each spike of this step adds decay to its neuron's trace in slot (step + 1) % H
// (trace(s + 1) = (trace(s) + spikes(s)) decay; several spikes of a source in one step each add).
KERNEL void trace_spikes(
    const long long* clock, int H, int n, REAL decay, const int* spike_ids, const int* spike_count,
    int spike_capacity, REAL* trace)
{
    const long long next = ((clock[0] + 1) % H) * (long long)n;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        atomicAdd(&trace[next + spike_ids[k]], decay);
    }
}

// Where tau_plus differs between the synapses of a projection (synapse_traces = 1), each synapse keeps its own
// presynaptic trace as NEST's stdp_synapse does: kplus just after the presynaptic neuron's last spike (of step
// last_pre[i], -1 before any), so that Y(s) = kplus exp(-(s - last) dt / tau_plus).
DEVICE REAL synapse_trace(const REAL* kplus, long long s, const long long* last_pre, int pre, long long step, REAL dt,
                          REAL tau_plus) {
    return kplus[s] * (REAL)exp(-(double)(step - last_pre[pre]) * (double)dt / (double)tau_plus);
}

// Facilitation: the postsynaptic spikes of step (step - D) reach their synapses of delay D now. For each delay
// index dk (delay_values[dk] = D) and each such spike j, the synapses of the column segment (j, dk) (col_ptr
// [j * n_delays + dk] ..; perm: the synapse's place in the row-major arrays; col_pre: its presynaptic neuron)
// are potentiated with the presynaptic trace. `lanes` threads share a segment.
KERNEL void stdp_facilitate(
    const long long* clock, int H, const int* history_ids, const int* history_counts, int history_capacity,
    int lanes, int n_delays, const int* delay_values, const long long* col_ptr, const int* perm, const int* col_pre,
    const REAL* pre_trace, REAL* weight, const REAL* a_plus, const REAL* w_max, const REAL* mu_plus, int per_synapse,
    int rule, int synapse_traces, const REAL* kplus, const long long* last_pre, const REAL* tau_plus, REAL dt,
    int n_post, const REAL* post_trace2, const REAL* a3_plus)
{
    const long long step = clock[0];
    const int most = busiest_slot(step, H, history_counts, n_delays, delay_values);
    GRID_STRIDE(t, (long long)most * lanes) {
        const int k = (int)(t / lanes), lane = (int)(t % lanes);
        for (int dk = 0; dk < n_delays; ++dk) {
            const long long from = step - delay_values[dk];
            if (from < 0) continue;
            const long long slot = from % H;
            if (k >= history_counts[slot]) continue;
            const int post = history_ids[slot * history_capacity + k];
            const long long segment = (long long)post * n_delays + dk;
            const long long end = col_ptr[segment + 1];
            if (synapse_traces || per_synapse || rule != RULE_SPIKE_PAIR) {
                const REAL x2 = rule == RULE_TRIPLET ? post_trace2[slot * n_post + post] : (REAL)0;
                for (long long c = col_ptr[segment] + lane; c < end; c += lanes) {
                    const int s = perm[c];
                    PREFETCH(weight, perm, c + 16 * lanes, end);
                    const long long p = (long long)s * per_synapse;
                    const REAL k_plus = synapse_traces
                        ? synapse_trace(kplus, s, last_pre, col_pre[c], step, dt, tau_plus[s]) : pre_trace[col_pre[c]];
                    const REAL a = rule == RULE_TRIPLET ? a_plus[p] + a3_plus[p] * x2 : a_plus[p];
                    weight[s] = rule == RULE_VOGELS ? vogels_potentiate(weight[s], k_plus, a, w_max[p])
                                                    : stdp_potentiate(weight[s], k_plus, a, w_max[p], mu_plus[p]);
                }
                continue;
            }
            const REAL a = a_plus[0], w_top = w_max[0], mu = mu_plus[0];   // the common case: one value of each
            for (long long c = col_ptr[segment] + lane; c < end; c += lanes) {
                const int s = perm[c];
                PREFETCH(weight, perm, c + 16 * lanes, end);
                weight[s] = stdp_potentiate(weight[s], pre_trace[col_pre[c]], a, w_top, mu);
            }
        }
    }
}

// After the depression walk: the step of each presynaptic neuron's last spike (for the per-synapse traces).
KERNEL void last_spike_store(const long long* clock, const int* spike_ids, const int* spike_count, int spike_capacity,
                             long long* last_pre)
{
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(k, count) {
        last_pre[spike_ids[k]] = clock[0];
    }
}

// Depression and transmission: each presynaptic spike of this step walks its row; each synapse is depressed with
// the postsynaptic trace X_j(step - d) (post_trace: ring of H slots of n_post; j = target - target_base) and its
// new weight is added into the input ring at slot (step + d) % L, as propagate_static does.
KERNEL void stdp_depress_propagate(
    const long long* clock, int L, const int* spike_ids, const int* spike_count, int spike_capacity, int lanes,
    const long long* row_ptr, const int* target, REAL* weight, const unsigned short* delay_steps, int slot_size,
    REAL* ring, int H, int n_post, int target_base, const REAL* post_trace, const REAL* a_minus, const REAL* w_min,
    const REAL* w_max, const REAL* mu_minus, int per_synapse, const REAL* a_plus, int rule, const int* rank,
    const int* multiplicity, int synapse_traces, REAL* kplus, const long long* last_pre, const REAL* tau_plus, REAL dt,
    const REAL* pre_trace2, const REAL* a3_minus)
{
    const long long step = clock[0], now_h = step % H, now_l = step % L;
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        if (rank[t / lanes] != 0) continue;   // the first entry of a source takes all its spikes of this step
        const int pre = spike_ids[t / lanes], spikes = multiplicity[pre];
        for (long long j = row_ptr[pre] + t % lanes; j < row_ptr[pre + 1]; j += lanes) {
            const int d = delay_steps[j];
            const long long p = j * per_synapse;
            const long long slot = slot_before(now_h, d, H);   // before step 0 the ring holds zeros
            const REAL k_minus = post_trace[slot * n_post + (target[j] - target_base)];
            REAL w = weight[j];
            for (int r = 0; r < spikes; ++r) {
                const REAL a = rule == RULE_TRIPLET ? a_minus[p] + a3_minus[p] * (pre_trace2[pre] + (REAL)r) : a_minus[p];
                w = rule == RULE_VOGELS ? vogels_depress(w, k_minus, a_plus[p], a_minus[p], w_min[p], w_max[p])
                                        : stdp_depress(w, k_minus, a, w_min[p], w_max[p], mu_minus[p]);
                atomicAdd(&ring[slot_after(now_l, d, L) * slot_size + target[j]], w);
            }
            weight[j] = w;
            if (synapse_traces)   // NEST: Kplus = Kplus exp((t_last - t) / tau_plus) + 1, for each spike
                kplus[j] = synapse_trace(kplus, j, last_pre, pre, step, dt, tau_plus[j]) + (REAL)spikes;
        }
    }
}

// With axonal delays and tau_plus per synapse (synapse_traces = 1), each synapse keeps its trace of the
// presynaptic spikes that reached it: kplus at its last arrival (step last_arrival, -1 before any) without that
// arrival's spikes (kplus_pending). Its value at `step` of the arrivals strictly before `step`:
DEVICE REAL arrival_trace(const REAL* kplus, const REAL* kplus_pending, const long long* last_arrival, long long s,
                          long long step, REAL dt, REAL tau_plus) {
    if (last_arrival[s] == step) return kplus[s];
    return (REAL)((double)(kplus[s] + kplus_pending[s])
                  * exp(-(double)(step - last_arrival[s]) * (double)dt / (double)tau_plus));
}

// Delays entirely axonal (dendritic_delay_fraction = 0): a presynaptic spike of step p reaches the synapse (and
// the soma) at step p + d, a postsynaptic spike reaches the synapse at once. The roles of the traces swap: the
// presynaptic trace keeps a ring of H values and the presynaptic spike lists a history; the postsynaptic trace
// only its current value. Pairs at the same step contribute nothing (each trace holds strictly earlier spikes).
//
// Facilitation at a postsynaptic spike of this step: its whole column, each synapse with Y_i(step - d) (the
// presynaptic spikes that had reached the synapse before the postsynaptic one).
KERNEL void stdp_facilitate_axonal(
    const long long* clock, int H, const int* spike_ids, const int* spike_count, int spike_capacity, int lanes,
    int n_delays, const int* delay_values, const long long* col_ptr, const int* perm, const int* col_pre, int n_pre,
    const REAL* pre_trace, REAL* weight, const REAL* a_plus, const REAL* w_max, const REAL* mu_plus, int per_synapse,
    int rule, int synapse_traces, const REAL* kplus, const REAL* kplus_pending, const long long* last_arrival,
    const REAL* tau_plus, REAL dt, const REAL* post_trace2, const REAL* a3_plus)
{
    const long long step = clock[0];
    const int count = spikes_this_step(spike_count, spike_capacity);
    GRID_STRIDE(t, (long long)count * lanes) {
        const int post = spike_ids[t / lanes], lane = (int)(t % lanes);
        const REAL x2 = rule == RULE_TRIPLET ? post_trace2[post] : (REAL)0;   // not yet updated by this step's spikes
        for (int dk = 0; dk < n_delays; ++dk) {
            const long long slot = slot_before(step % H, delay_values[dk], H);   // before step 0: zeros
            const long long segment = (long long)post * n_delays + dk;
            const long long end = col_ptr[segment + 1];
            for (long long c = col_ptr[segment] + lane; c < end; c += lanes) {
                const int s = perm[c];
                PREFETCH(weight, perm, c + 16 * lanes, end);
                const long long p = (long long)s * per_synapse;
                const REAL k_plus = synapse_traces
                    ? arrival_trace(kplus, kplus_pending, last_arrival, s, step, dt, tau_plus[s])
                    : pre_trace[slot * n_pre + col_pre[c]];
                const REAL a = rule == RULE_TRIPLET ? a_plus[p] + a3_plus[p] * x2 : a_plus[p];
                weight[s] = rule == RULE_VOGELS ? vogels_potentiate(weight[s], k_plus, a, w_max[p])
                                                : stdp_potentiate(weight[s], k_plus, a, w_max[p], mu_plus[p]);
            }
        }
    }
}

// Depression and transmission of the presynaptic spikes that reach their synapses at step + 1 (emitted at step
// + 1 - D, from the history), before the neurons' update of that step: the row segment (pre, dk) of each such
// spike (row_ptr_delay[pre * n_delays + dk]: places in row_perm, which lists each row's synapses by delay), each
// synapse with X_j(step + 1) (post_trace: its current value, updated earlier in this step), its new weight into
// the input ring's slot (step + 1) % L.
KERNEL void stdp_depress_axonal(
    const long long* clock, int H, const int* history_ids, const int* history_counts, int history_capacity,
    int lanes, int n_delays, const int* delay_values, const long long* row_ptr_delay, const int* row_perm,
    const int* target, REAL* weight, int L, int slot_size, REAL* ring, int target_base, const REAL* post_trace, const REAL* a_plus,
    const REAL* a_minus, const REAL* w_min, const REAL* w_max, const REAL* mu_minus, int per_synapse, int rule,
    const int* history_spikes, int synapse_traces, REAL* kplus, REAL* kplus_pending, long long* last_arrival,
    const REAL* tau_plus, REAL dt, int n_pre, const REAL* pre_trace2, const REAL* a3_minus)
{
    const long long arrival = clock[0] + 1, arrival_slot = arrival % L;
    const int most = busiest_slot(arrival, H, history_counts, n_delays, delay_values);
    GRID_STRIDE(t, (long long)most * lanes) {
        const int k = (int)(t / lanes), lane = (int)(t % lanes);
        for (int dk = 0; dk < n_delays; ++dk) {
            const long long from = arrival - delay_values[dk];
            if (from < 0) continue;
            const long long slot = from % H;
            if (k >= history_counts[slot]) continue;
            const int spikes = history_spikes[slot * history_capacity + k];   // 0: not its source's first entry
            if (spikes == 0) continue;
            const int pre = history_ids[slot * history_capacity + k];
            const long long segment = (long long)pre * n_delays + dk;
            const long long end = row_ptr_delay[segment + 1];
            // Y2 of the arrivals before this one: the emissions before step `from`
            const REAL y2 = rule == RULE_TRIPLET ? pre_trace2[slot * n_pre + pre] : (REAL)0;
            for (long long i = row_ptr_delay[segment] + lane; i < end; i += lanes) {
                const int j = row_perm[i];
                PREFETCH(weight, row_perm, i + 16 * lanes, end);
                const long long p = (long long)j * per_synapse;
                const REAL k_minus = post_trace[target[j] - target_base];
                REAL w = weight[j];
                for (int r = 0; r < spikes; ++r) {
                    const REAL a = rule == RULE_TRIPLET ? a_minus[p] + a3_minus[p] * (y2 + (REAL)r) : a_minus[p];
                    w = rule == RULE_VOGELS ? vogels_depress(w, k_minus, a_plus[p], a_minus[p], w_min[p], w_max[p])
                                            : stdp_depress(w, k_minus, a, w_min[p], w_max[p], mu_minus[p]);
                    atomicAdd(&ring[arrival_slot * slot_size + target[j]], w);
                }
                weight[j] = w;
                if (synapse_traces) {
                    kplus[j] = arrival_trace(kplus, kplus_pending, last_arrival, j, arrival, dt, tau_plus[j]);
                    kplus_pending[j] = (REAL)spikes;
                    last_arrival[j] = arrival;
                }
            }
        }
    }
}
