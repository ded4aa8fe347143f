// Current-based leaky integrate-and-fire neurons, exact integration as NEST's iaf_psc_exp / iaf_psc_alpha.
// Per step: the membrane update uses the synaptic currents of the previous step (skipped while refractory),
// then the currents decay and this step's input spikes (the ring's slot of this step) are added, then the
// threshold is tested. Propagators (p_*) are computed on the host from the parameters and the time step.
#include "neuron.cuh"

KERNEL void iaf_psc_exp_update(
    const long long* clock, int n, int L,
    REAL* RESTRICT v, REAL* RESTRICT i_exc, REAL* RESTRICT i_inh, int* RESTRICT refractory,
    const REAL* RESTRICT e_l, const REAL* RESTRICT v_thresh, const REAL* RESTRICT v_reset, const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps,
    const REAL* RESTRICT p_vv, const REAL* RESTRICT p_v_exc, const REAL* RESTRICT p_v_inh, const REAL* RESTRICT p_v_i, const REAL* RESTRICT p_exc, const REAL* RESTRICT p_inh,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        REAL vm = v[i];
        if (refractory[i] == 0) {
            vm = e_l[m.row] + (vm - e_l[m.row]) * p_vv[m.row] + i_exc[i] * p_v_exc[m.row] + i_inh[i] * p_v_inh[m.row]
                 + (i_offset[m.row] + i_stim[i]) * p_v_i[m.row];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        i_exc[i] = i_exc[i] * p_exc[m.row] + take_input(ring, slot + i);
        i_inh[i] = i_inh[i] * p_inh[m.row] + take_input(ring, slot + n + i);
        threshold(m, &vm, &refractory[i], v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], out);
        v[i] = vm;
        check_finite(m, v[i], non_finite);
    }
}

// Alpha-shaped currents: d(di)/dt = -di/tau, di_syn/dt = di - i_syn/tau; a spike of weight w adds w*e/tau to di,
// so that the current peaks at w after tau.
KERNEL void iaf_psc_alpha_update(
    const long long* clock, int n, int L,
    REAL* RESTRICT v, REAL* RESTRICT i_exc, REAL* RESTRICT i_inh, REAL* RESTRICT di_exc, REAL* RESTRICT di_inh, int* RESTRICT refractory,
    const REAL* RESTRICT e_l, const REAL* RESTRICT v_thresh, const REAL* RESTRICT v_reset, const REAL* RESTRICT i_offset, const int* RESTRICT refractory_steps,
    const REAL* RESTRICT p_vv, const REAL* RESTRICT p_v_di_exc, const REAL* RESTRICT p_v_i_exc, const REAL* RESTRICT p_v_di_inh, const REAL* RESTRICT p_v_i_inh,
    const REAL* RESTRICT p_v_i, const REAL* RESTRICT p_exc, const REAL* RESTRICT p_inh, const REAL* RESTRICT p_i_di_exc, const REAL* RESTRICT p_i_di_inh,
    const REAL* RESTRICT jump_exc, const REAL* RESTRICT jump_inh,
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, const int* RESTRICT pop, const int* RESTRICT layout, int* RESTRICT spike_ids, int* RESTRICT spike_counts, int* RESTRICT dropped, int* RESTRICT non_finite)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    const SpikeList out = {layout, spike_ids, spike_counts, dropped};
    GRID_STRIDE(i, n) {
        const Member m = member_of(i, pop, layout);
        REAL vm = v[i];
        if (refractory[i] == 0) {
            vm = e_l[m.row] + (vm - e_l[m.row]) * p_vv[m.row]
                 + di_exc[i] * p_v_di_exc[m.row] + i_exc[i] * p_v_i_exc[m.row]
                 + di_inh[i] * p_v_di_inh[m.row] + i_inh[i] * p_v_i_inh[m.row]
                 + (i_offset[m.row] + i_stim[i]) * p_v_i[m.row];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        i_exc[i] = di_exc[i] * p_i_di_exc[m.row] + i_exc[i] * p_exc[m.row];
        di_exc[i] = di_exc[i] * p_exc[m.row] + jump_exc[m.row] * take_input(ring, slot + i);
        i_inh[i] = di_inh[i] * p_i_di_inh[m.row] + i_inh[i] * p_inh[m.row];
        di_inh[i] = di_inh[i] * p_inh[m.row] + jump_inh[m.row] * take_input(ring, slot + n + i);
        threshold(m, &vm, &refractory[i], v_thresh[m.row], v_reset[m.row], refractory_steps[m.row], out);
        v[i] = vm;
        check_finite(m, v[i], non_finite);
    }
}
