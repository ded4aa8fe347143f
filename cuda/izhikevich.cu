// Izhikevich (2003) neurons as NEST's izhikevich with consistent_integration = true (NEST's default, which
// pyNN.nest keeps): one forward Euler step of
//   dv/dt = 0.04 v^2 + 5 v + 140 - u + I,   du/dt = a (b v - u)
// from the old (v, u) for both variables, I = i_stim + i_offset in pA (1000 x nA: NEST's I_e and current
// events), then the input spikes of the step (weights in mV, either receptor) added to v; then v >= 30 mV:
// spike, v = c, u += d. No refractory period. Each operation in NEST's order, so that float64 results are
// NEST's bit for bit. NEST's V_min (no lower bound by default) is not a PyNN parameter and is not modelled.
#include "neuron.cuh"

#define IZHIKEVICH_V_PEAK REAL(30.0)   // NEST's V_th default: not a PyNN parameter

KERNEL void izhikevich_update(
    const long long* clock, int n, int L, REAL dt,
    REAL* RESTRICT v, REAL* RESTRICT u,
    const REAL* RESTRICT a, const REAL* RESTRICT b, const REAL* RESTRICT c, const REAL* RESTRICT d, const REAL* RESTRICT i_offset_pa,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        const REAL input = take_input(ring, slot + i) + take_input(ring, slot + n + i);
        const REAL v_old = v[i], u_old = u[i];
        const REAL i_pa = i_stim[i] * REAL(1000.0);
        i_stim[i] = 0;
        REAL vm = v_old + (dt * (REAL(0.04) * v_old * v_old + REAL(5.0) * v_old + REAL(140.0) - u_old + i_pa + i_offset_pa[m.row])
                           + input);
        REAL um = u_old + dt * a[m.row] * (b[m.row] * v_old - u_old);
        if (vm >= IZHIKEVICH_V_PEAK) {
            vm = c[m.row];
            um = um + d[m.row];
            emit_member_spike(m, out);
        }
        v[i] = vm;
        check_finite(m, v[i], non_finite);
        u[i] = um;
    }
}
