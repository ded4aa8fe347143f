// Leaky integrate-and-fire neurons with delta-shaped synaptic currents, exact integration as NEST's
// iaf_psc_delta: an input spike of weight w (mV, either receptor; inhibitory weights are negative) makes v
// jump by w in the step it arrives. Per step, as NEST's update:
//   not refractory: v = e_l + p_v_i (i_stim + i_offset) + p_vv (v - e_l) + input   (input of this step)
//   refractory:     the input of this step is discarded (NEST's default refractory_input = false, which
//                   pyNN.nest keeps) and the count goes down;
// then the threshold test (spike, v = v_reset, refractory count = refractory_steps). The injected current of
// the step (i_stim) was set by the current sources before this kernel. NEST's V_min (no lower bound by
// default) is not a PyNN parameter and is not modelled.
#include "neuron.cuh"

KERNEL void iaf_psc_delta_update(
    const long long* clock, int n, int L,
    REAL* RESTRICT v, int* RESTRICT refractory,
    const REAL* RESTRICT e_l, const REAL* RESTRICT v_thresh, const REAL* RESTRICT v_reset, const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps,
    const REAL* RESTRICT p_vv, const REAL* RESTRICT p_v_i,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        const REAL input = take_input(ring, slot + i) + take_input(ring, slot + n + i);
        REAL vm = v[i];
        if (refractory[i] == 0) {
            const REAL y = p_v_i[m.row] * (i_stim[i] + i_offset[m.row]) + p_vv[m.row] * (vm - e_l[m.row]) + input;
            vm = y + e_l[m.row];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        threshold(m, &vm, &refractory[i], v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], out);
        v[i] = vm;
        check_finite(m, v[i], non_finite);
    }
}
