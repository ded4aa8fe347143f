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
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, int* RESTRICT spike_ids, int* RESTRICT spike_count, int spike_capacity, int* RESTRICT dropped)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    GRID_STRIDE(i, n) {
        REAL vm = v[i];
        if (refractory[i] == 0) {
            vm = e_l[i] + (vm - e_l[i]) * p_vv[i] + i_exc[i] * p_v_exc[i] + i_inh[i] * p_v_inh[i]
                 + (i_offset[i] + i_stim[i]) * p_v_i[i];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        i_exc[i] = i_exc[i] * p_exc[i] + take_input(ring, slot + i);
        i_inh[i] = i_inh[i] * p_inh[i] + take_input(ring, slot + n + i);
        threshold(i, &vm, &refractory[i], v_thresh[i], v_reset[i], refractory_steps[i], spike_ids, spike_count, spike_capacity, dropped);
        v[i] = vm;
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
    REAL* RESTRICT ring, REAL* RESTRICT i_stim, int* RESTRICT spike_ids, int* RESTRICT spike_count, int spike_capacity, int* RESTRICT dropped)
{
    const long long slot = input_slot(clock, L, 2, n);   // receptors: 0 excitatory, 1 inhibitory
    GRID_STRIDE(i, n) {
        REAL vm = v[i];
        if (refractory[i] == 0) {
            vm = e_l[i] + (vm - e_l[i]) * p_vv[i]
                 + di_exc[i] * p_v_di_exc[i] + i_exc[i] * p_v_i_exc[i]
                 + di_inh[i] * p_v_di_inh[i] + i_inh[i] * p_v_i_inh[i]
                 + (i_offset[i] + i_stim[i]) * p_v_i[i];
        } else {
            refractory[i] -= 1;
        }
        i_stim[i] = 0;
        i_exc[i] = di_exc[i] * p_i_di_exc[i] + i_exc[i] * p_exc[i];
        di_exc[i] = di_exc[i] * p_exc[i] + jump_exc[i] * take_input(ring, slot + i);
        i_inh[i] = di_inh[i] * p_i_di_inh[i] + i_inh[i] * p_inh[i];
        di_inh[i] = di_inh[i] * p_inh[i] + jump_inh[i] * take_input(ring, slot + n + i);
        threshold(i, &vm, &refractory[i], v_thresh[i], v_reset[i], refractory_steps[i], spike_ids, spike_count, spike_capacity, dropped);
        v[i] = vm;
    }
}
