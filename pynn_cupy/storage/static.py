"""Static CSR: each (presynaptic group, postsynaptic group) pair of a projection is a block of pre-major rows
(storage/layout.py), per synapse a target (receptor, neuron) in the postsynaptic batch's input ring, a weight and a
delay in steps, propagated by cuda/propagate.cu. The device arrays are the truth: get() reads them back, set()
writes them in place; the host keeps per connection only the parameters that differ between connections (besides
weight and delay), and index arrays only when asked for them."""
from __future__ import annotations

import numpy as np
from pyNN import errors

from .. import simulator
from ..timegrid import delay_steps
from .layout import SORT_CHUNK, arrange, cell_groups, group_index, index_dtype

__all__ = ["StaticCSR", "uniform", "compact", "cell_groups"]


def uniform(values) -> bool:
    """Whether an array of connection attributes holds one value (a zero-stride view, or all equal)."""
    values = np.asarray(values)
    return values.size <= 1 or values.strides[-1] == 0 or bool((values == values.flat[0]).all())


def compact(values) -> np.ndarray:
    """Connection attributes as floats (float64 unless given in another float type), held as a read-only
    zero-stride view of one value when they are all equal (no host memory per connection)."""
    values = np.asarray(values)
    if values.dtype.kind != "f":
        values = values.astype(float)
    if values.ndim == 1 and values.size > 1 and uniform(values):
        return np.broadcast_to(values[:1].copy(), values.shape)
    return values


def steps_of(delays: np.ndarray, dt: float) -> np.ndarray:
    """Delays (ms) in steps as uint16, a chunk at a time (the checks have bounded them)."""
    out = np.empty(delays.size, dtype=np.uint16)
    for first in range(0, delays.size, SORT_CHUNK):
        out[first:first + SORT_CHUNK] = delay_steps(delays[first:first + SORT_CHUNK], dt)
    return out


PACKED_DELAY_STEPS = 255       # a static synapse packs its delay (8 bits) and target (24 bits) into one word
PACKED_TARGETS = 1 << 24


class StaticCSR:
    """A projection's connections on the device, CSR blocks per (pre group, post group). Bytes per synapse: 8 in
    float32 (a word of target and delay, the weight) where delays are at most 255 steps and the target batch's
    input slot has fewer than 2^24 entries, otherwise 10 (target 4, weight 4, delay 2); 4 more in float64."""
    uploaded = ("weight", "delay")   # connection attributes held on the device
    recordable = {"weight": "weight"}   # Projection.record() variable -> block array
    HOST_ONLY = ("rows",)   # block entries kept on the host

    def __init__(self, projection):
        self.projection = projection
        self.blocks = []
        self.size = 0
        self.delay_range = (1, 1)   # the shortest and longest delay, in steps
        self._built = False

    # -- making the blocks ----------------------------------------------------------------------------
    def create(self, connections: list) -> None:
        """Place the connections on the device: `connections` holds two lists of aligned parts, the presynaptic
        and postsynaptic indices (into projection.pre and .post), consumed. The weights and delays leave the
        projection's host values; its other per-connection arrays follow the device order."""
        state, values = simulator.state, self.projection._values
        per_connection = {name: array for name, array in values.items()
                          if name not in ("weight", "delay") and not uniform(array)}
        weight, delay = values.pop("weight"), values.pop("delay")
        drawn = hasattr(delay, "draw")   # drawn as the device is filled (connect.Draws), already in steps
        if drawn or not uniform(delay):
            per_connection["delay"] = delay if drawn else steps_of(delay, state.dt)
        delay = np.ones(1) if drawn else delay[:1].copy()   # the float64 arrays go as soon as they are converted
        if hasattr(weight, "draw") or not uniform(weight):
            per_connection["weight"] = weight if hasattr(weight, "draw") else weight.astype(state.real, copy=False)
        weight = weight[:1].copy() if "weight" not in per_connection else None
        steps = delay_steps(delay, state.dt) if delay.size else np.ones(1, np.int64)
        self.size = sum(part.size for part in connections[0])
        self.blocks, local, arranged = arrange(self.projection, connections, per_connection)
        del per_connection
        self.delay_range = (int(arranged["delay"].min()), int(arranged["delay"].max())) \
            if "delay" in arranged and arranged["delay"].size else (int(steps[0]), int(steps[0]))
        for block in self.blocks:
            span, n = block["span"], block["span"].stop - block["span"].start
            block.update(row_ptr=state.device_array(block["rows"], np.int64), target_base=0,
                         target=state.device_array(local[span], np.int32, copy=False),
                         weight=state.device_array(arranged["weight"][span] if "weight" in arranged
                                                   else np.full(n, weight[0], state.real), state.real, copy=False),
                         delay=state.device_array(arranged["delay"][span] if "delay" in arranged
                                                  else np.full(n, steps[0], np.uint16), np.uint16, copy=False))
        arranged.pop("weight", None), arranged.pop("delay", None)
        values.update(arranged)

    def build(self) -> None:
        """Make the blocks ready to run; again when a target batch has grown (the targets index its input ring)."""
        if self._built and all(block["post"].batch.size == block["post_batch_size"] for block in self.blocks):
            return
        for block in self.blocks:
            self._place(block)
            self._build_block(block)
        self._built = True

    def _place(self, block: dict) -> None:
        """Targets at the postsynaptic group's place in its batch's input ring; packed into words when they fit."""
        state = simulator.state
        self._unpack(block)
        base = int(block["post"].input_target(self.projection.receptor_type, 0))
        if base != block["target_base"]:
            with state.on_device():
                block["target"] += np.int32(base - block["target_base"])
            block["target_base"] = base
        block["post_batch_size"] = block["post"].batch.size
        ring = block["post"].batch.size * len(block["post"].model.receptors)
        # only StaticCSR's own kernel reads packed words; the other strategies' kernels take target and delay
        if type(self) is StaticCSR and ring <= PACKED_TARGETS and self.delay_range[1] <= PACKED_DELAY_STEPS:
            with state.on_device():   # in place: the targets' array becomes the words'
                word, delay = block.pop("target").view(np.uint32), block.pop("delay")
                for first in range(0, word.size, SORT_CHUNK):
                    shifted = delay[first:first + SORT_CHUNK].astype(np.uint32)
                    shifted <<= np.uint32(24)
                    word[first:first + SORT_CHUNK] |= shifted
                block["synapse"] = word
            state.invalidate()

    def _unpack(self, block: dict) -> None:
        if "synapse" in block:
            state = simulator.state
            with state.on_device():   # in place: the words' array becomes the targets'
                word = block.pop("synapse")
                block["delay"] = (word >> np.uint32(24)).astype(np.uint16)
                word &= np.uint32(PACKED_TARGETS - 1)
                block["target"] = word.view(np.int32)
            state.invalidate()

    def _build_block(self, block: dict) -> None:
        """What a strategy adds to a block for its kernels."""

    @property
    def packed(self) -> list:
        return ["synapse" in block for block in self.blocks]

    # -- reading the device -----------------------------------------------------------------------------
    def _post_local(self, block: dict) -> np.ndarray:
        """The block's postsynaptic cells (indices within their group), on the host."""
        to_host = simulator.state.backend.to_host
        if "synapse" in block:
            return (to_host(block["synapse"]) & (PACKED_TARGETS - 1)).astype(np.int32) - np.int32(block["target_base"])
        return to_host(block["target"]) - np.int32(block["target_base"])

    def _steps(self, block: dict) -> np.ndarray:
        to_host = simulator.state.backend.to_host
        if "synapse" in block:
            return (to_host(block["synapse"]) >> 24).astype(np.uint16)
        return np.array(to_host(block["delay"]))

    def chunks(self):
        """The connections in pieces of about SORT_CHUNK whole rows: (range of connection indices, presynaptic and
        postsynaptic indices into projection.pre and .post), made on the host as they are asked for."""
        for block in self.blocks:
            pre_index = group_index(self.projection.pre, block["pre"])
            post_index = group_index(self.projection.post, block["post"])
            post_local, rows, start = self._post_local(block), block["rows"], block["span"].start
            first = 0
            while first < rows.size - 1:
                last = max(first + 1, int(np.searchsorted(rows, rows[first] + SORT_CHUNK, side="right")) - 1)
                low, high = int(rows[first]), int(rows[last])
                if high > low:
                    yield (slice(start + low, start + high),
                           np.repeat(pre_index[first:last], np.diff(rows[first:last + 1])),
                           post_index[post_local[low:high]])
                first = last

    def indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Each connection's presynaptic and postsynaptic index (into projection.pre and .post), on the host."""
        dtype = index_dtype(max(self.projection.pre.size, self.projection.post.size))
        pre, post = np.empty(self.size, dtype), np.empty(self.size, dtype)
        for span, pre_chunk, post_chunk in self.chunks():
            pre[span], post[span] = pre_chunk, post_chunk
        return pre, post

    def read(self, name: str) -> np.ndarray:
        """A connection attribute of every connection (connection order), from the device for weight and delay."""
        from ..projections import as_stored
        state = simulator.state
        if name == "weight":
            out = np.empty(self.size)
            for block in self.blocks:
                out[block["span"]] = state.backend.to_host(block["weight"])
            return as_stored(out, state.real)
        if name == "delay":
            out = np.empty(self.size)
            for block in self.blocks:
                out[block["span"]] = self._steps(block)
            return state.time_of(out)
        return self.projection._values[name]

    def read_at(self, name: str, index: int) -> float:
        """One connection's attribute."""
        from ..projections import as_stored
        state = simulator.state
        if name not in ("weight", "delay"):
            return float(self.projection._values[name][index])
        block = next(block for block in self.blocks if block["span"].start <= index < block["span"].stop)
        k = slice(index - block["span"].start, index - block["span"].start + 1)
        if name == "weight":
            return float(as_stored(state.backend.to_host(block["weight"][k]), state.real)[0])
        if "synapse" in block:
            return float(state.time_of(int(state.backend.to_host(block["synapse"][k])[0]) >> 24))
        return float(state.time_of(int(state.backend.to_host(block["delay"][k])[0])))

    # -- writing the device -----------------------------------------------------------------------------
    def upload(self, values: dict) -> None:
        """Write new connection attributes (connection order, validated) onto the device, in place where the
        arrays exist (the step plan holds them)."""
        state = simulator.state
        if "weight" in values:
            for block in self.blocks:
                state.write(block["weight"], values["weight"][block["span"]])
        if "delay" in values:
            steps = steps_of(values["delay"], state.dt)
            self.delay_range = (int(steps.min()), int(steps.max())) if steps.size else (1, 1)
            if self.delay_range[1] + 1 > state._ring_slots:
                state.invalidate()   # the input rings need more slots
            for block in self.blocks:
                if "synapse" in block and self.delay_range[1] > PACKED_DELAY_STEPS:
                    self._unpack(block)   # too long to pack: unpacked from now on
                if "synapse" in block:
                    with state.on_device():
                        block["synapse"] &= np.uint32(PACKED_TARGETS - 1)
                        block["synapse"] |= state.device_array(steps[block["span"]], np.uint32) << np.uint32(24)
                else:
                    state.write(block["delay"], steps[block["span"]])
        others = set(values) - {"weight", "delay"}
        if others & set(self.uploaded) and self._built:
            for block in self.blocks:
                self._write_parameters(block)

    def normalize(self, total: float) -> None:
        """Scale the weights onto each postsynaptic cell by one factor so that they sum to `total`, on the device
        (Projection.normalize_weights); every new weight is made and checked before any is written."""
        state, post, label = simulator.state, self.projection.post, self.projection.label
        xp = state.backend.xp
        with state.on_device():
            cells, sums = [], xp.zeros(post.size, np.float64)
            for block in self.blocks:   # each connection's postsynaptic cell, as an index into projection.post
                local = (block["synapse"] & np.uint32(PACKED_TARGETS - 1)).view(np.int32) if "synapse" in block \
                    else block["target"]
                to_post = state.device_array(group_index(post, block["post"]).astype(np.int64), np.int64)
                cells.append(to_post[local - np.int32(block["target_base"])])
                sums += xp.bincount(cells[-1], weights=block["weight"], minlength=post.size)
            factor = total / xp.where(sums == 0, total if total else 1.0, sums)
            bad = xp.flatnonzero(~(xp.isfinite(factor) & (factor >= 0)))
            if bad.size:
                cell = int(state.backend.to_host(bad[:1])[0])
                raise errors.InvalidParameterValueError(
                    "%s.normalize_weights(%r): the weights onto cell %d of %r sum to %g, which no factor >= 0 makes "
                    "%g" % (label, total, cell, post.label, float(state.backend.to_host(sums[cell:cell + 1])[0]),
                            total))
            with np.errstate(over="ignore"):
                weights = [(block["weight"] * factor[cell]).astype(block["weight"].dtype)
                           for block, cell in zip(self.blocks, cells)]
            if any(bool(state.backend.to_host(~xp.isfinite(weight).all())) for weight in weights):
                raise errors.InvalidWeightError("%s.normalize_weights(%r): weights beyond the range of %s"
                                                % (label, total, state.precision))
            weights = [self._check_weights(block, weight) for block, weight in zip(self.blocks, weights)]
            for block, weight in zip(self.blocks, weights):
                state.write(block["weight"], weight)

    def _check_weights(self, block: dict, weight):
        """New weights of a block, on the device, checked (a strategy's bounds) before they are written: returned,
        or InvalidParameterValueError."""
        return weight

    def _write_parameters(self, block: dict) -> None:
        """The block's device arrays of the synapse type's other parameters, from the projection's values."""

    def _write(self, block: dict, arrays: dict) -> None:
        """Device arrays of a block: written in place when their shape and type hold, otherwise made anew."""
        state = simulator.state
        for name, values in arrays.items():
            if name in block and block[name].shape == values.shape and block[name].dtype == values.dtype:
                state.write(block[name], values)
            else:
                block[name] = state.device_array(values, values.dtype)
                state.invalidate()

    def device_bytes(self) -> int:
        """Bytes of device memory the projection's blocks hold (synapse arrays, row and column pointers, traces)."""
        return sum(int(value.nbytes) for block in self.blocks for name, value in block.items()
                   if name not in self.HOST_ONLY and getattr(value, "ndim", 0) > 0)

    def units(self, variable: str) -> str:
        """The units of a recorded variable: weights in the postsynaptic cells' (uS or nA), the rest unitless."""
        if variable != "weight":
            return "dimensionless"
        post = self.projection.post
        return "uS" if post.conductance_based else "nA"

    def initialize(self, variable: str, values: np.ndarray) -> None:
        """Projection.initialize(): set a synaptic state variable per connection."""
        raise errors.NonExistentParameterError(variable, type(self.projection.synapse_type).__name__,
                                               sorted(getattr(self, "initial_names", {})))

    def check(self, values: dict) -> None:
        """Checks of the synapse type's parameters beyond weight and delay (raise before anything changes)."""

    def reset(self) -> None:
        """Static synapses keep no state."""

    # -- running -----------------------------------------------------------------------------------------
    def _multiplicity(self, block: dict, spikes: dict) -> tuple:
        """For walks that take a source's several spikes of one step in one thread (cuda/propagate.cu): the
        arguments rank and multiplicity, and the launches that fill them before the walk and clear them after."""
        state = simulator.state
        if "multiplicity" not in block:
            block["multiplicity"] = state.zeros(block["pre"].size, np.int32)
            block["rank"] = state.zeros(spikes["spike_ids"].size, np.int32)
        arguments = {"rank": block["rank"], "multiplicity": block["multiplicity"]}
        before = state.launch("spike_multiplicity", spikes["spike_ids"].size, dict(spikes, **arguments))
        after = state.launch("multiplicity_clear", spikes["spike_ids"].size, dict(spikes, **arguments))
        return arguments, before, after

    def launches(self) -> list:
        state = simulator.state
        lanes = state.backend.lanes_per_row
        launches = []
        for block in self.blocks:
            spikes = block["pre"].spike_list()
            launches.append(state.launch("propagate_static_packed" if "synapse" in block else "propagate_static",
                                         spikes["spike_ids"].size * lanes, self._walk_arguments(block, spikes)))
        return launches

    def _walk_arguments(self, block: dict, spikes: dict) -> dict:
        """The arguments, by name, of a kernel walking the block's rows for this step's presynaptic spikes and
        adding into the postsynaptic batch's input ring."""
        state, ring = simulator.state, block["post"].batch.device["ring"]
        arguments = dict(spikes, clock=state._clock, L=np.int32(state._ring_slots), dt=state.real(state.dt),
                         lanes=np.int32(state.backend.lanes_per_row), row_ptr=block["row_ptr"], weight=block["weight"],
                         slot_size=np.int32(ring[0].size), ring=ring)
        if "synapse" in block:
            arguments["synapse"] = block["synapse"]
        else:
            arguments.update(target=block["target"], delay_steps=block["delay"])
        return arguments
