"""Plastic CSR for STDP (cuda/stdp.cu: SpikePairRule and TripletRule with PyNN's weight dependences,
Vogels2011Rule): the static CSR blocks plus per block a post-major permutation in segments of one (postsynaptic
neuron, delay) (and, with axonal delays, a permutation of each row into segments of one delay), one trace value per
neuron (two with TripletRule), a ring over the longest delay of one side's traces and spike lists (the postsynaptic
side when delays are dendritic, NEST's convention; the presynaptic side when they are axonal), and the rule's
parameters (one value, or one per synapse where they differ). The device holds the weights: get() reads them back,
set() writes them in place."""
from __future__ import annotations

import numpy as np
from pyNN import errors

from .. import simulator
from ..standardmodels.synapses import check_stdp
from .layout import SORT_CHUNK, counting_sort
from .static import StaticCSR, steps_of, uniform

RULE_SPIKE_PAIR, RULE_VOGELS, RULE_TRIPLET = 0, 1, 2   # cuda/stdp.cu
TRACES = ("pre_trace", "post_trace", "pre_trace2", "post_trace2")   # the second pair: TripletRule's
RINGS = TRACES + ("history_ids", "history_counts", "history_spikes")   # a block's state over steps


def rule_arrays(values: dict) -> dict:
    """The kernel's per-connection parameters (a_plus, a_minus, w_min, w_max, mu_plus, mu_minus, and TripletRule's
    a3_plus, a3_minus; connection order) from the connection attributes of the timing dependence."""
    if "eta" in values:   # Vogels2011Rule: alpha = 2 rho tau (rho in Hz, tau in ms), as Vogels et al. 2011
        alpha = 2.0 * values["rho"] * values["tau"] / 1000.0
        zero = np.broadcast_to(0.0, values["eta"].shape)
        return {"a_plus": values["eta"], "a_minus": alpha * values["eta"], "w_min": values["w_min"],
                "w_max": values["w_max"], "mu_plus": zero, "mu_minus": zero}
    arrays = {name.lower() if name.startswith("A_") else name: values[name]
              for name in ("A_plus", "A_minus", "w_min", "w_max", "mu_plus", "mu_minus")}
    if "A_plus_triplet" in values:
        arrays.update(a3_plus=values["A_plus_triplet"], a3_minus=values["A_minus_triplet"])
    return arrays


def rule_constants(values: dict) -> dict:
    """One value per projection: the rule and the traces' time constants."""
    if "eta" in values:
        return {"rule": RULE_VOGELS, "tau_plus": values["tau"][0], "tau_minus": values["tau"][0]}
    if "A_plus_triplet" in values:
        return {"rule": RULE_TRIPLET, **{name: values[name][0] for name in (
            "tau_plus", "tau_minus", "tau_plus_triplet", "tau_minus_triplet")}}
    return {"rule": RULE_SPIKE_PAIR, "tau_plus": values["tau_plus"][0], "tau_minus": values["tau_minus"][0]}


class PlasticCSR(StaticCSR):
    """Bytes per synapse: the static 10 or 14, plus 8 for the post-major permutation and presynaptic index (4 more
    with axonal delays), plus 24 (or 48 in float64; 32 or 64 with TripletRule) where the rule's parameters differ
    between connections."""

    def __init__(self, projection):
        self.uploaded = ("weight", "delay") + tuple(projection.synapse_type.get_parameter_names())
        super().__init__(projection)
        self.check(projection._values)

    def check(self, values: dict) -> None:
        if "weight" not in values:   # the bounds are checked against the weights the device holds
            values = dict(values, weight=self.read("weight"))
        check_stdp(values, self.projection.label)

    def _check_weights(self, block: dict, weight):
        """Weights within the rule's bounds [w_min, w_max] (check_stdp's rule), on the device, in the weights'
        precision; a weight that the rounding puts at most 4 ulps beyond a bound is set to it."""
        state, values, span = simulator.state, self.projection._values, block["span"]
        xp, dtype = state.backend.xp, weight.dtype
        with state.on_device():
            low, high = [state.device_array(np.ascontiguousarray(np.broadcast_to(values[name], (self.size,))[span]),
                                            dtype) if not uniform(values[name]) else dtype.type(values[name][0])
                         for name in ("w_min", "w_max")]
            slack = 4 * np.finfo(dtype).eps
            weight = xp.where((weight > high) & (weight - high <= slack * abs(high)), high, weight)
            weight = xp.where((weight < low) & (low - weight <= slack * abs(low)), low, weight).astype(dtype)
            first = state.backend.to_host(xp.flatnonzero(~((weight >= low) & (weight <= high)))[:1])
        if first.size:
            k = int(first[0])
            raise errors.InvalidParameterValueError(
                "%s.normalize_weights: connection %d would get weight %r, outside its STDP bounds [w_min, w_max] = "
                "[%r, %r]; nothing was changed" % (
                    self.projection.label, span.start + k, float(state.backend.to_host(weight[k:k + 1])[0]),
                    *(float(np.broadcast_to(values[name], (self.size,))[span.start + k]) for name in ("w_min", "w_max"))))
        return weight

    @property
    def triplet(self) -> bool:
        """TripletRule: a second trace on each side."""
        return "A_plus_triplet" in self.projection._values

    @property
    def axonal(self) -> bool:
        """Delays entirely axonal (dendritic_delay_fraction = 0) rather than dendritic (1, NEST's)."""
        return self.projection.synapse_type.dendritic_delay_fraction == 0

    def _build_block(self, block: dict) -> None:
        """The post-major permutation and the traces (once, and anew when delays change), the rule's parameters."""
        if "perm" not in block:
            self._columns(block)
        if "a_plus" not in block:
            self._write_parameters(block)

    def _columns(self, block: dict) -> None:
        state = simulator.state
        n_pre, n_post = block["pre"].size, block["post"].size
        n = block["span"].stop - block["span"].start
        if n >= 2 ** 31:
            raise MemoryError("pyNN.cupy: a plastic block of more than 2^31 synapses")
        steps = self._steps(block)
        delay_values = np.unique(steps)
        n_delays = delay_values.size
        lookup = np.zeros(int(delay_values.max()) + 1, dtype=np.int32)   # delay (steps) -> its segment
        lookup[delay_values] = np.arange(n_delays, dtype=np.int32)
        dk = lookup[steps]
        del steps
        # the post-major permutation, in segments (post, delay), and each entry's presynaptic cell
        keys = [self._post_local(block)]
        if n_delays > 1:
            keys[0] *= np.int32(n_delays)
            keys[0] += dk
        counts, perm, _ = counting_sort(keys, n_post * n_delays, None, [])
        col_ptr = np.zeros(n_post * n_delays + 1, dtype=np.int64)
        np.cumsum(counts, out=col_ptr[1:])
        col_pre = np.empty(n, dtype=np.int32)
        for first in range(0, n, SORT_CHUNK):
            col_pre[first:first + SORT_CHUNK] = np.searchsorted(block["rows"], perm[first:first + SORT_CHUNK],
                                                                side="right") - 1
        block.update(delay_values=state.device_array(delay_values, np.int32), n_delays=n_delays,
                     col_ptr=state.device_array(col_ptr, np.int64), perm=state.device_array(perm, np.int32, copy=False),
                     col_pre=state.device_array(col_pre, np.int32, copy=False))
        del perm, col_pre, col_ptr
        if self.axonal:   # each row in segments of one delay, for the walk of arriving presynaptic spikes
            keys = [np.repeat(np.arange(n_pre, dtype=np.int32) * np.int32(n_delays), np.diff(block["rows"]))]
            keys[0] += dk
            counts, row_perm, _ = counting_sort(keys, n_pre * n_delays, None, [])
            row_ptr_delay = np.zeros(n_pre * n_delays + 1, dtype=np.int64)
            np.cumsum(counts, out=row_ptr_delay[1:])
            block.update(row_ptr_delay=state.device_array(row_ptr_delay, np.int64),
                         row_perm=state.device_array(row_perm, np.int32, copy=False))
        history = int(delay_values.max()) + 2   # slots: the longest delay, the step written and the one read
        # the side whose trace and spike lists need a history: post (delays dendritic) or pre (axonal)
        remembered = block["pre"] if self.axonal else block["post"]
        capacity = int(remembered.spike_list()["spike_capacity"])
        # new delays: the traces and spike histories of the steps both rings hold go on (further back the new ring
        # starts from zeros); with axonal delays only the traces: the presynaptic history holds the spikes in
        # flight under the old delays, which are dropped, not re-timed (the presynaptic traces, read at t - d,
        # count a spike emitted at p from p + the new d on)
        earlier = {name: block[name] for name in (TRACES if self.axonal else RINGS) if name in block}
        earlier_history = block.get("H", 0)
        pre_shape = (history, n_pre) if self.axonal else (1, n_pre)   # a ring on the remembered side
        post_shape = (1, n_post) if self.axonal else (history, n_post)
        block.update(
            H=history, pre_trace=state.zeros(pre_shape, state.real), post_trace=state.zeros(post_shape, state.real),
            history_ids=state.zeros((history, capacity), np.int32), history_counts=state.zeros(history, np.int32),
            history_capacity=capacity)
        if self.triplet:
            block.update(pre_trace2=state.zeros(pre_shape, state.real), post_trace2=state.zeros(post_shape, state.real))
        if self.axonal:   # each history entry with its source's spikes in the step (0 after its first entry)
            block["history_spikes"] = state.zeros((history, capacity), np.int32)
        if earlier:
            self._carry_rings(block, earlier, earlier_history)
        state.invalidate()

    @staticmethod
    def _carry_rings(block: dict, earlier: dict, earlier_history: int) -> None:
        """Delays set between runs: the traces and spike histories of the last steps that both rings hold, into
        the new rings (slot step % H). Steps further back than the earlier longest delay were not kept (zeros)."""
        state = simulator.state
        steps = np.arange(max(0, state.step - min(earlier_history, block["H"]) + 1), state.step + 1)
        for name, array in earlier.items():
            old, new = state.backend.to_host(array), np.array(state.backend.to_host(block[name]))
            if old.shape[0] == earlier_history and new.shape[0] == block["H"]:   # rings over the steps
                new[steps % block["H"]] = old[steps % earlier_history]
            else:   # one value per neuron
                new[...] = old
            state.write(block[name], new)

    def _write_parameters(self, block: dict) -> None:
        values, span, real = self.projection._values, block["span"], simulator.state.real
        arrays = rule_arrays(values)
        one = all(uniform(array) for array in arrays.values())
        out = {name: np.ascontiguousarray(array[:1] if one else array[span], dtype=real)
               for name, array in arrays.items()}
        block["per_synapse"] = 0 if one else 1
        tau = values.get("tau_plus")   # per synapse where it differs (NEST's Kplus), and from then on
        block["synapse_traces"] = int(block.get("synapse_traces", 0) or (tau is not None and not uniform(tau)))
        out["tau_plus"] = np.ascontiguousarray(tau[span] if block["synapse_traces"] else [1.0], dtype=real)
        self._write(block, out)

    def _synapse_traces(self, block: dict) -> dict:
        """The arguments of the per-synapse presynaptic traces (arrays of one element where they are not used):
        kplus per synapse, and the step of the last presynaptic spike per presynaptic neuron (dendritic delays) or
        of the last arrival per synapse, whose spikes kplus_pending holds (axonal delays)."""
        state = simulator.state
        span, used = block["span"], block["synapse_traces"]
        n_synapses = span.stop - span.start if used else 1
        if "kplus" not in block or block["kplus"].size != n_synapses:
            kplus, pending, last = self._traces_from_shared(block) if used else (np.zeros(1), np.zeros(1), [-1])
            block["kplus"] = state.device_array(kplus, state.real)
            block["kplus_pending"] = state.device_array(pending if self.axonal else [0.0], state.real)
            block["last_pre"] = state.device_array([-1] if self.axonal else last, np.int64)
            block["last_arrival"] = state.device_array(last if self.axonal else [-1], np.int64)
        return dict(synapse_traces=np.int32(used), tau_plus=block["tau_plus"], dt=state.real(state.dt),
                    **{name: block[name] for name in ("kplus", "kplus_pending", "last_pre", "last_arrival")})

    def _traces_from_shared(self, block: dict) -> tuple:
        """Per-synapse presynaptic traces (kplus, kplus_pending, last step) as the per-neuron trace has them now:
        where tau_plus comes to differ between connections after a run, each synapse goes on from its value (NEST
        keeps a synapse's Kplus when its tau_plus changes)."""
        to_host, now = simulator.state.backend.to_host, simulator.state.step
        n_pre = block["pre"].size
        pre = np.repeat(np.arange(n_pre), np.diff(block["rows"]))
        trace = to_host(block["pre_trace"])
        if not self.axonal:   # the trace at this step, just after the last spikes (last_pre per neuron)
            return trace[0][pre], np.zeros(1), np.full(n_pre, now)
        # axonal: the trace of the arrivals before this step, read at the emission step now - d; the spikes
        # arriving now (emitted then) are the pending ones
        slots = (now - self._steps(block).astype(np.int64)) % block["H"]
        counts, ids = to_host(block["history_counts"]), to_host(block["history_ids"])
        spikes = to_host(block["history_spikes"])
        pending = np.zeros(pre.size)
        for slot in np.unique(slots):
            mine = slots == slot
            per_pre = np.bincount(ids[slot, :counts[slot]], weights=spikes[slot, :counts[slot]], minlength=n_pre)
            pending[mine] = per_pre[pre[mine]]
        return trace[slots, pre], pending, np.full(pre.size, now)

    def upload(self, values: dict) -> None:
        """As StaticCSR's; new delays change the post-major segments and the trace rings: they are made anew at the
        next run, the weights as learned and the traces carried over."""
        if set(values) & {"tau_plus", "tau_minus", "tau", "tau_plus_triplet", "tau_minus_triplet"}:
            simulator.state.invalidate()   # kernel scalars of the step plan (trace decays, exponents)
        if "delay" in values and self._built:
            steps = steps_of(values["delay"], simulator.state.dt)
            if all(np.array_equal(self._steps(block), steps[block["span"]]) for block in self.blocks):
                values = {name: value for name, value in values.items() if name != "delay"}   # the same delays
        super().upload(values)
        if "delay" in values:
            for block in self.blocks:
                block.pop("perm", None)
            self._built = False
            simulator.state.invalidate()

    def reset(self) -> None:
        """Traces and spike histories back to zero; the weights stay as learned (as NEST)."""
        state = simulator.state
        for block in self.blocks:
            for name in TRACES + ("history_counts", "kplus", "kplus_pending"):
                if name in block:
                    state.write(block[name], 0)
            for name in ("last_pre", "last_arrival"):
                if name in block:
                    state.write(block[name], -1)

    def launches(self) -> list:
        if not self.blocks:
            return []
        state = simulator.state
        lanes = np.int32(state.backend.lanes_per_row)
        constants = rule_constants(self.projection._values)
        decays = {name: state.real(np.exp(-state.dt / constants[tau])) for name, tau in (
            ("pre_trace", "tau_plus"), ("post_trace", "tau_minus"), ("pre_trace2", "tau_plus_triplet"),
            ("post_trace2", "tau_minus_triplet")) if tau in constants}
        launches = []
        for block in self.blocks:
            pre, post = block["pre"].spike_list(), block["post"].spike_list()
            H = np.int32(block["H"])
            n_post = np.int32(block["post"].size)
            history = dict(clock=state._clock, H=H, history_ids=block["history_ids"],
                           history_counts=block["history_counts"], history_capacity=np.int32(block["history_capacity"]))
            parameters = dict(a_plus=block["a_plus"], a_minus=block["a_minus"], w_min=block["w_min"],
                              w_max=block["w_max"], mu_plus=block["mu_plus"], mu_minus=block["mu_minus"],
                              per_synapse=np.int32(block["per_synapse"]), rule=np.int32(constants["rule"]),
                              # TripletRule's (other rules do not read them)
                              a3_plus=block.get("a3_plus", block["a_plus"]),
                              a3_minus=block.get("a3_minus", block["a_minus"]))
            triplet = dict(pre_trace2=block.get("pre_trace2", block["pre_trace"]),
                           post_trace2=block.get("post_trace2", block["post_trace"]))
            pre_traces = self._trace_launches(block, ("pre_trace", "pre_trace2"), pre, decays)
            post_traces = self._trace_launches(block, ("post_trace", "post_trace2"), post, decays)
            if self.axonal:
                launches += self._axonal_launches(block, pre, post, history, parameters, triplet, pre_traces,
                                                  post_traces)
                continue
            multiplicity, before, after = self._multiplicity(block, pre)
            traces = self._synapse_traces(block)
            launches += [
                before,
                state.launch("spike_history_store", post["spike_ids"].size, dict(post, **history)),
                state.launch("stdp_facilitate", block["history_capacity"] * lanes, dict(
                    history, **parameters, **traces, lanes=lanes, n_delays=np.int32(block["n_delays"]),
                    delay_values=block["delay_values"], col_ptr=block["col_ptr"], perm=block["perm"],
                    col_pre=block["col_pre"], pre_trace=block["pre_trace"], weight=block["weight"], n_post=n_post,
                    post_trace2=triplet["post_trace2"])),
                state.launch("stdp_depress_propagate", pre["spike_ids"].size * lanes, dict(
                    self._walk_arguments(block, pre), **parameters, **multiplicity, **traces, H=H, n_post=n_post,
                    target_base=np.int32(block["target_base"]), post_trace=block["post_trace"],
                    pre_trace2=triplet["pre_trace2"])),
                *([state.launch("last_spike_store", pre["spike_ids"].size, dict(
                    pre, clock=state._clock, last_pre=traces["last_pre"]))] if block["synapse_traces"] else []),
                *pre_traces,
                *post_traces,
                after,
            ]
        return launches

    @staticmethod
    def _trace_launches(block: dict, names: tuple, spikes: dict, decays: dict) -> list:
        """The updates of one side's traces (those of `names` the block has) by a step's decay and spikes."""
        state, launches = simulator.state, []
        for name in names:
            if name in block:
                H, n = (np.int32(size) for size in block[name].shape)
                common = dict(clock=state._clock, H=H, n=n, decay=decays[name], trace=block[name])
                launches += [state.launch("trace_decay", n, common),
                             state.launch("trace_spikes", spikes["spike_ids"].size, dict(spikes, **common))]
        return launches

    def _axonal_launches(self, block, pre, post, history, parameters, triplet, pre_traces, post_traces) -> list:
        """A step with axonal delays: the presynaptic spikes into the history, the presynaptic traces updated,
        facilitation by this step's postsynaptic spikes (the postsynaptic traces of the spikes before them), the
        postsynaptic traces updated, then depression and transmission of the presynaptic spikes that arrive in
        the next step."""
        state = simulator.state
        lanes = np.int32(state.backend.lanes_per_row)
        ring, H = block["post"].batch.device["ring"], np.int32(block["H"])
        n_pre = np.int32(block["pre"].size)
        delays = dict(n_delays=np.int32(block["n_delays"]), delay_values=block["delay_values"], lanes=lanes)
        multiplicity, before, after = self._multiplicity(block, pre)
        traces = self._synapse_traces(block)
        return [
            before,
            state.launch("spike_history_store_counted", pre["spike_ids"].size, dict(
                pre, **history, **multiplicity, history_spikes=block["history_spikes"])),
            after,
            *pre_traces,
            state.launch("stdp_facilitate_axonal", post["spike_ids"].size * lanes, dict(
                post, **parameters, **delays, **traces, clock=state._clock, H=H, col_ptr=block["col_ptr"],
                perm=block["perm"], col_pre=block["col_pre"], n_pre=n_pre, pre_trace=block["pre_trace"],
                weight=block["weight"], post_trace2=triplet["post_trace2"])),
            *post_traces,
            state.launch("stdp_depress_axonal", block["history_capacity"] * lanes, dict(
                history, **parameters, **delays, **traces, row_ptr_delay=block["row_ptr_delay"],
                row_perm=block["row_perm"], target=block["target"], weight=block["weight"],
                L=np.int32(state._ring_slots), slot_size=np.int32(ring[0].size), ring=ring,
                target_base=np.int32(block["target_base"]), post_trace=block["post_trace"],
                history_spikes=block["history_spikes"], n_pre=n_pre, pre_trace2=triplet["pre_trace2"])),
        ]
