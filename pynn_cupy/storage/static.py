"""Static CSR: each (presynaptic group, postsynaptic group) pair of a projection is a block of pre-major rows
(row_ptr per presynaptic neuron; per synapse a packed target (receptor, neuron) in the postsynaptic batch's input
ring, a weight and a delay in steps), propagated by cuda/propagate.cu."""
from __future__ import annotations

import numpy as np
from pyNN import common, errors

from .. import simulator
from ..timegrid import delay_steps


def uniform(values) -> bool:
    """Whether an array of connection attributes holds one value (a zero-stride view, or all equal)."""
    values = np.asarray(values)
    return values.size <= 1 or values.strides[-1] == 0 or bool((values == values.flat[0]).all())


def compact(values) -> np.ndarray:
    """Connection attributes as float64, held as a read-only zero-stride view of one value when they are all equal
    (no host memory per connection)."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1 and values.size > 1 and uniform(values):
        return np.broadcast_to(values[:1].copy(), values.shape)
    return values


def compact_map(function, values) -> np.ndarray:
    """function(values) elementwise, computed once for a compact array."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1 and values.size > 1 and values.strides[0] == 0:
        return np.broadcast_to(np.asarray(function(values[:1].copy()), dtype=float), values.shape)
    return compact(function(values))


def cell_groups(cells) -> tuple[list, np.ndarray, np.ndarray]:
    """For a Population, PopulationView or Assembly: its groups, and for each of its cells the position of
    the cell's group in that list and the cell's index within the group."""
    if isinstance(cells, common.Assembly):
        groups, which, local = [], [], []
        for part in cells.populations:
            part_groups, part_which, part_local = cell_groups(part)
            offsets = []
            for group in part_groups:
                if group not in groups:
                    groups.append(group)
                offsets.append(groups.index(group))
            which.append(np.asarray(offsets)[part_which])
            local.append(part_local)
        return groups, np.concatenate(which), np.concatenate(local)
    root = cells.grandparent if isinstance(cells, common.PopulationView) else cells
    local = root.id_to_index(cells.all_cells) if cells is not root else np.arange(cells.size)
    return [root._group], np.zeros(cells.size, dtype=np.int64), np.asarray(local, dtype=np.int64)


PACKED_DELAY_STEPS = 255       # a static synapse packs its delay (8 bits) and target (24 bits) into one word
PACKED_TARGETS = 1 << 24


class StaticCSR:
    """A projection's connections on the device, CSR blocks per (pre group, post group). Bytes per synapse: 8 in
    float32 (a word of target and delay, the weight) where delays are at most 255 steps and the target batch's
    input slot has fewer than 2^24 entries, otherwise 10 (target 4, weight 4, delay 2); 4 more in float64."""
    uploaded = ("weight", "delay")   # connection attributes held on the device
    carried: tuple = ()   # device state kept when the blocks are made anew (a target batch grew)
    recordable = {"weight": "weight"}   # Projection.record() variable -> block array

    def __init__(self, projection):
        self.projection = projection
        self.blocks = []
        self._built = False

    def build(self) -> None:
        """Make the blocks; again when a target batch has grown (the targets index its input ring)."""
        if self._built and all(block["post"].batch.size == block["post_batch_size"] for block in self.blocks):
            return
        old_blocks = self.blocks if self._built else []
        if self._built:
            self.download()   # what the device learned is the truth
        projection = self.projection
        pre_groups, pre_which, pre_local = cell_groups(projection.pre)
        post_groups, post_which, post_local = cell_groups(projection.post)
        pre_block = pre_which[projection._pre]
        post_block = post_which[projection._post]
        self.blocks = []
        for a, pre_group in enumerate(pre_groups):
            for b, post_group in enumerate(post_groups):
                members = np.flatnonzero((pre_block == a) & (post_block == b))
                if members.size == 0:
                    continue
                rows = pre_local[projection._pre[members]]
                order = members[np.argsort(rows, kind="stable")]
                if order.size < 2 ** 31:
                    order = order.astype(np.int32)
                row_ptr = np.zeros(pre_group.size + 1, dtype=np.int64)
                np.cumsum(np.bincount(rows, minlength=pre_group.size), out=row_ptr[1:])
                post = post_local[projection._post[order]]
                block = {"pre": pre_group, "post": post_group, "post_batch_size": post_group.batch.size,
                         "order": order, "row_ptr": row_ptr, "post_local": post,
                         # a synapse's target in the post batch's input slot: (receptor, neuron)
                         "target": post_group.input_target(projection.receptor_type, post)}
                self.blocks.append(block)
        self._built = True
        for block in self.blocks:
            self._build_block(block)
            del block["post_local"]
        self._write(set(self.uploaded))
        for block in self.blocks:
            block.pop("target_host", None)
        for old, new in zip(old_blocks, self.blocks):   # the same connections: their state carries over
            if old["pre"] is new["pre"] and old["post"] is new["post"] and np.array_equal(old["order"], new["order"]):
                for name in self.carried:
                    if name in old and name in new and old[name].shape == new[name].shape:
                        simulator.state.write(new[name], old[name])

    def _build_block(self, block: dict) -> None:
        state = simulator.state
        block["row_ptr"] = state.device_array(block["row_ptr"], np.int64)
        # only StaticCSR's own kernel reads packed words; the other strategies' kernels take target and delay
        block["packed"] = type(self) is StaticCSR and self._packable(block)
        if block["packed"]:
            block["target_host"] = block.pop("target")   # kept while the block is made: the words need it
        else:
            block["target"] = state.device_array(block["target"], np.int32)

    def _packable(self, block: dict) -> bool:
        steps = delay_steps(self.projection._values["delay"][block["order"]], simulator.state.dt)
        ring = block["post"].batch.size * len(block["post"].model.receptors)
        return ring <= PACKED_TARGETS and (steps.size == 0 or steps.max() <= PACKED_DELAY_STEPS)

    def _targets(self, block: dict) -> np.ndarray:
        """The block's targets (row-major), recomputed from the connections (packed blocks keep none)."""
        if "target_host" in block:
            return block["target_host"]
        groups, which, local = cell_groups(self.projection.post)
        post = local[self.projection._post[block["order"]]]
        return block["post"].input_target(self.projection.receptor_type, post)

    def upload(self, names) -> None:
        """Write connection attributes onto the device: in place when the arrays exist (the step plan holds them),
        otherwise as new arrays (and the plan is rebuilt)."""
        names = set(names) & set(self.uploaded)
        if not self._built or not names:
            return
        if "delay" in names and self.projection.max_delay_steps() + 1 > simulator.state._ring_slots:
            simulator.state.invalidate()   # the input rings need more slots
        if "delay" in names and any(block.get("packed") for block in self.blocks) and \
                self.projection.max_delay_steps() > PACKED_DELAY_STEPS:
            self._built = False   # too long to pack: the blocks are made anew, unpacked, at the next run
            simulator.state.invalidate()
            return
        self._write(names)

    def _write(self, names) -> None:
        state = simulator.state
        for block in self.blocks:
            for name, values in self._device_values(block, names).items():
                if name in block and block[name].shape == values.shape and block[name].dtype == values.dtype:
                    state.write(block[name], values)
                else:
                    block[name] = state.device_array(values, values.dtype)
                    state.invalidate()

    def _device_values(self, block: dict, names) -> dict:
        """The device arrays of `names` for one block, in its row-major order."""
        state, values, out = simulator.state, self.projection._values, {}
        if "weight" in names:
            out["weight"] = np.ascontiguousarray(values["weight"][block["order"]], dtype=state.real)
        if "delay" in names:
            steps = delay_steps(values["delay"][block["order"]], state.dt)
            if block.get("packed"):
                out["synapse"] = (self._targets(block).astype(np.uint32) | (steps.astype(np.uint32) << 24))
            else:
                out["delay"] = steps.astype(np.uint16)
        return out

    HOST_ONLY = ("order", "post_local", "target_host")   # block entries kept on the host

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

    def download(self) -> None:
        """Nothing changes on the device for static synapses."""

    def reset(self) -> None:
        """Static synapses keep no state."""

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
            launches.append(state.launch("propagate_static_packed" if block["packed"] else "propagate_static",
                                         spikes["spike_ids"].size * lanes, self._walk_arguments(block, spikes)))
        return launches

    def _walk_arguments(self, block: dict, spikes: dict) -> dict:
        """The arguments, by name, of a kernel walking the block's rows for this step's presynaptic spikes and
        adding into the postsynaptic batch's input ring."""
        state, ring = simulator.state, block["post"].batch.device["ring"]
        arguments = dict(spikes, clock=state._clock, L=np.int32(state._ring_slots), dt=state.real(state.dt),
                         lanes=np.int32(state.backend.lanes_per_row), row_ptr=block["row_ptr"], weight=block["weight"],
                         slot_size=np.int32(ring[0].size), ring=ring)
        if block["packed"]:
            arguments["synapse"] = block["synapse"]
        else:
            arguments.update(target=block["target"], delay_steps=block["delay"])
        return arguments
