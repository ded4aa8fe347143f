"""Neurons on the device. A NeuronBatch holds every population of one device model end to end (as GeNN merges
groups): one set of state arrays, coefficient tables with one row per population, or one row per neuron where the
population's parameters differ between its neurons, one input ring [slot][receptor][neuron] and one spike list in
per-population segments; one kernel launch updates the whole batch. A NeuronGroup is one population's part of its
batch: its parameters and initial values (the host copies are the truth for what the user set) and views of the
batch's arrays."""
from __future__ import annotations

import warnings

import numpy as np
from pyNN import errors as pynn_errors

from . import exceptions as errors
from .standardmodels.cells import REAL, DeviceModel

LAYOUT_FIELDS = 5   # per population: first neuron, first row, a row per neuron?, spike-list base, capacity (common.cuh)


class NeuronGroup:
    """One population: neurons [offset, offset + size) of its batch."""

    def __init__(self, state, model: DeviceModel, size: int, parameters: dict, label: str = "",
                 celltype_name: str = ""):
        self.sim = state
        self.label = label
        self.celltype_name = celltype_name or type(model).__name__
        self.model = model
        self.size = size
        self.parameters = parameters          # native (= PyNN) names -> float64 arrays / Sequence arrays
        self.initial_values: dict[str, np.ndarray] = {}
        self.coefficients = self._coefficients(parameters)   # validates before anything is registered
        self.batch: NeuronBatch | None = None
        self.offset = 0      # first neuron in the batch
        self.position = 0    # place among the batch's populations
        self.device: dict = {}   # views of the batch's per-neuron arrays

    # -- parameters and initial values ------------------------------------------------------------
    def set_parameters(self, updates: dict, mask) -> None:
        new = {name: value.copy() if isinstance(value, np.ndarray) else value
               for name, value in self.parameters.items()}
        for name, values in updates.items():
            if name not in new:
                raise pynn_errors.NonExistentParameterError(name, self.celltype_name)
            new[name][mask] = values
        self.coefficients = self._coefficients(new)   # validates first
        self.parameters = new
        self.batch.coefficients_changed()

    def _coefficients(self, parameters: dict) -> dict:
        """The model's coefficients; a bad value raises InvalidParameterValueError naming the population."""
        try:
            for name, value in parameters.items():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" and np.isnan(value).any():
                    raise pynn_errors.InvalidParameterValueError("%s must be a number, got NaN" % name)
            return self.model.coefficients(parameters, self.sim.dt)
        except pynn_errors.InvalidParameterValueError as exc:
            raise pynn_errors.InvalidParameterValueError("population %r (%s): %s" % (
                self.label, self.celltype_name, exc)) from None

    def set_initial_values(self, variable: str, values: np.ndarray, mask) -> None:
        current = self.initial_values.setdefault(variable, np.zeros(self.size))
        current[mask] = values
        name = self._state_for_initial(variable)
        if name is not None and name in self.device:   # as pyNN.nest: the live state changes too
            index = np.arange(self.size)[mask]
            self.sim.write(self.device[name], current[index], index)
            for companion in self.model.cleared_with.get(name, ()):
                self.sim.write(self.device[companion], np.zeros(index.size), index)

    def _state_for_initial(self, variable: str):
        for name, (initial, _) in self.model.state.items():
            if initial == variable:
                return name
        return None

    def initial_state(self, name: str) -> np.ndarray:
        """The initial value of state array `name` for each neuron (0 where the model gives none)."""
        initial, _ = self.model.state[name]
        if initial is not None and initial in self.initial_values:
            return self.initial_values[initial]
        return np.zeros(self.size)

    @property
    def wide(self) -> bool:
        """Whether the coefficients differ between neurons (then the population has a row per neuron)."""
        for name, value in self.coefficients.items():
            value = np.asarray(value)
            if name not in self.model.pooled_names and value.ndim and not (value == value[..., :1]).all():
                return True
        return False

    @property
    def spike_capacity(self) -> int:
        return self.model.spike_capacity(self.size, self.coefficients)

    # -- what other objects bind to -----------------------------------------------------------------
    def spike_list(self) -> dict:
        """Kernel arguments of this step's spike list (population-local ids), by name."""
        return self.batch.spike_list(self.position)

    def receptor_index(self, receptor_type: str) -> int:
        """The place of a receptor type in the input ring."""
        return self.model.receptors.index(receptor_type)

    def input_target(self, receptor_type: str, local: np.ndarray) -> np.ndarray:
        """Where input to `receptor_type` of the neurons `local` goes within a slot of the batch's input ring."""
        return self.receptor_index(receptor_type) * self.batch.size + self.offset + np.asarray(local)

    def max_spikes_per_step(self, n_cells: int) -> int:
        """The most spikes `n_cells` of the population can emit in one step (its spike-list segment, once built,
        may hold more than the parameters now allow: segments never shrink)."""
        segments = self.batch._segments
        capacity = int(segments[self.position, 1]) if self.position < len(segments) else self.spike_capacity
        return self.model.max_spikes_per_step(n_cells, capacity)


class NeuronBatch:
    """The populations of one device model (DeviceModel.batch_key) on the device, updated by one launch."""

    def __init__(self, state, model: DeviceModel, index: int):
        self.sim = state
        self.model = model
        self.index = index
        self.members: list[NeuronGroup] = []
        self.size = 0
        self.rows = 0
        self.slots = 0
        self.counter_base = 0       # the first population's entry in the simulator's spike counters
        self.device: dict = {}
        self._built_size = 0        # neurons the device arrays were made for
        self._segments = np.zeros((0, 2), dtype=np.int64)   # per population: spike-list base, capacity
        self._tables_stale = True
        self._events: dict = {}     # (population, counter) -> events so far in this run

    def add(self, group: NeuronGroup) -> None:
        group.batch, group.offset, group.position = self, self.size, len(self.members)
        self.members.append(group)
        self.size += group.size
        self._tables_stale = True

    # -- device arrays ------------------------------------------------------------------------------
    def initial_state(self, name: str) -> np.ndarray:
        return np.concatenate([member.initial_state(name) for member in self.members])

    def build(self, slots: int, counter_base: int) -> None:
        """Make (or complete) the device arrays; when populations joined since the last build, new arrays, with
        the live state and pending input of the earlier populations carried over."""
        sim, model = self.sim, self.model
        self.counter_base = counter_base
        old = None
        if self._built_size != self.size:
            old, self.device = self.device, {}
            model.build_state(self)
            for name, (_, kind) in model.state.items():
                if name not in self.device:
                    self.device[name] = sim.device_array(self.initial_state(name), sim.real if kind == REAL else np.int32)
            self.device["pop"] = sim.device_array(np.repeat(np.arange(len(self.members)),
                                                            [m.size for m in self.members]), np.int32)
            for name in ("dropped", "non_finite") + tuple(model.counters):
                self.device[name] = sim.zeros(len(self.members), np.int32)
            if not model.is_source:
                self.device["i_stim"] = sim.zeros(self.size, sim.real)
                if "ring" in old:
                    self.device["ring"] = old["ring"]
            self._tables_stale = True
        if not model.is_source:
            self._build_ring(slots)
        if self._tables_stale or not self._write_tables():
            self._write_tables(allocate=True)
        if old:
            for name in model.live_state():
                if name in old and old[name].ndim == self.device[name].ndim:
                    sim.write(self.device[name][tuple(slice(0, s) for s in old[name].shape)], old[name])
        self._built_size = self.size
        for member in self.members:
            member.device = {name: self.device[name][member.offset:member.offset + member.size]
                             for name in tuple(model.state) + ("i_stim",)
                             if name in self.device and self.device[name].ndim == 1}

    def _build_ring(self, slots: int) -> None:
        """The input ring [slot][receptor][neuron] (see cuda/neuron.cuh); pending input is kept: the slot of
        absolute step t moves from t % old to t % new."""
        sim, old = self.sim, self.device.get("ring")
        if old is not None and old.shape == (slots, len(self.model.receptors), self.size):
            return
        new = sim.zeros((slots, len(self.model.receptors), self.size), sim.real)
        if old is not None:
            for k in range(min(old.shape[0], slots)):
                sim.write(new[(sim.step + k) % slots, :, :old.shape[2]], old[(sim.step + k) % old.shape[0]])
        self.device["ring"] = new
        self.slots = slots

    def coefficients_changed(self) -> None:
        """After a member's parameters changed: write the tables in place, or have the next run rebuild."""
        if not self.device or not self._write_tables():
            self._tables_stale = True
            self.sim.invalidate()

    def _tables(self) -> dict:
        """Host arrays: coefficient tables ([K][row] or [row]), pooled data, the layout and the spike segments."""
        model = self.model
        tables, pooled = {}, {name: [] for name in model.pooled_names}
        layout, rows, spike_base, pool_size = [], 0, 0, {pair: 0 for pair in model.pooled}
        names = [name for name in self.members[0].coefficients if name not in model.pooled_names]
        blocks = {name: [] for name in names}
        for member in self.members:
            wide = member.wide
            n_rows = member.size if wide else 1
            for name in names:
                value = np.asarray(member.coefficients[name])
                value = value if value.ndim else value.reshape(1)
                blocks[name].append(np.broadcast_to(value, value.shape[:-1] + (member.size,))[..., :n_rows])
            for pair, data_names in model.pooled.items():
                for name in pair:
                    blocks[name][-1] = blocks[name][-1] + pool_size[pair]
                for name in data_names:
                    pooled[name].append(np.asarray(member.coefficients[name]))
                pool_size[pair] += np.asarray(member.coefficients[data_names[0]]).size
            capacity = member.spike_capacity   # a segment never shrinks: launches of consumers hold it
            if member.position < len(self._segments):
                capacity = max(capacity, int(self._segments[member.position, 1]))
            layout.append((member.offset, rows, int(wide), spike_base, capacity))
            rows += n_rows
            spike_base += capacity
        for name, parts in blocks.items():
            depth = max(part.shape[0] if part.ndim == 2 else 0 for part in parts)
            if depth:   # [K][row] tables: members with fewer than K entries are padded with zeros
                parts = [np.pad(np.atleast_2d(part), ((0, depth - np.atleast_2d(part).shape[0]), (0, 0)))
                         for part in parts]
            tables[name] = np.concatenate(parts, axis=-1)
        for name, parts in pooled.items():
            tables[name] = np.concatenate(parts)
        tables["layout"] = np.asarray(layout, dtype=np.int32).reshape(-1, LAYOUT_FIELDS)
        return tables, rows, set(blocks)

    def _write_tables(self, allocate: bool = False) -> bool:
        """Write the tables into the device arrays in place (the step plan holds those); False, writing nothing,
        if an array would change size or a spike-list segment move, unless `allocate` (new arrays; the plan must
        be rebuilt). Row tables have room for a row per neuron, so that set() between runs stays in place when a
        population's parameters become heterogeneous; the kernels read only the rows in use."""
        sim, device = self.sim, self.device
        tables, rows, row_tables = self._tables()
        segments = tables["layout"][:, 3:5].astype(np.int64)
        shapes = {name: array.shape[:-1] + (self.size,) if name in row_tables else array.shape
                  for name, array in tables.items()}
        pooled = self.model.pooled_names   # pooled data (e.g. spike times) is read through offsets: it may
        fits = {name: name in device and (device[name].shape == shape or name in pooled and   # have room to spare
                                          device[name].shape[:-1] == shape[:-1] and device[name].shape[-1] >= shape[-1])
                for name, shape in shapes.items()}
        if not allocate and ("spike_ids" not in device or not np.array_equal(segments, self._segments) or
                             not all(fits.values())):
            return False
        for name, array in tables.items():
            if allocate and not (name in pooled and fits[name]):   # pooled data never shrinks
                dtype = array.dtype if array.dtype.kind in "iu" else sim.real
                device[name] = sim.zeros(shapes[name], dtype)
            sim.write(device[name][..., :array.shape[-1]], array)
        if allocate:
            device["spike_ids"] = sim.zeros(int(segments[:, 1].sum()), np.int32)
        self.rows, self._segments, self.host_tables = rows, segments, tables
        self._tables_stale = False
        self.model.after_write(self)
        return True

    def neuron_rows(self) -> np.ndarray:
        """Each neuron's row in the coefficient tables (host copy)."""
        layout = self.host_tables["layout"]
        return np.concatenate([row + (np.arange(member.size) if wide else np.zeros(member.size, np.int64))
                               for member, (_, row, wide, _, _) in zip(self.members, layout)])

    def reset(self) -> None:
        if self._built_size != self.size:   # populations joined since the last build: start afresh there
            self.device, self._built_size = {}, 0
            return
        for name in self.model.state:
            self.sim.write(self.device[name], self.initial_state(name))
        for name in ("ring", "i_stim"):
            if name in self.device:
                self.sim.write(self.device[name], 0)
        self.model.after_write(self)

    # -- events ---------------------------------------------------------------------------------------
    def check_events(self, steps: tuple) -> None:
        """Take what the kernels counted in `steps` (first, end), clearing the device counts: dropped spikes raise
        SpikeBufferOverflowError at once, a membrane potential that is not finite NumericalInstabilityError; the
        model's counters add up until `warn_events`."""
        for name in self.model.counters:
            for member, count in zip(self.members, self._take_counts(name)):
                self._events[member.position, name] = self._events.get((member.position, name), 0) + int(count)
        for member, dropped in zip(self.members, self._take_counts("dropped")):
            if dropped:
                raise errors.SpikeBufferOverflowError(
                    "pyNN.cupy: %d spikes of population %r (%s) did not fit its spike list of %d per step"
                    % (dropped, member.label, member.celltype_name, member.spike_capacity))
        for member, count in zip(self.members, self._take_counts("non_finite")):
            if count:
                context = self.model.counter_context(self.sim.dt)
                events = ["; so far in this run, %d %s" % (self._events[member.position, name],
                                                          meaning.format(**context))
                          for name, meaning in self.model.counters.items()
                          if self._events.get((member.position, name))]
                self._events = {}
                raise errors.NumericalInstabilityError(
                    "pyNN.cupy: population %r (%s): %d neuron-steps between %g and %g ms ended with a membrane "
                    "potential (or adaptive threshold) that is not a finite number (NaN or infinite): the parameters "
                    "or inputs drive the model beyond what its integration can follow (NEST stops such a run too)%s"
                    % (member.label, member.celltype_name, count, *self.sim.time_of(np.asarray(steps)),
                       "".join(events)))

    def warn_events(self) -> None:
        """One SimulationWarning per population and counter that counted events since the last call."""
        context = self.model.counter_context(self.sim.dt)
        for (position, name), count in sorted(self._events.items()):
            if count:
                member = self.members[position]
                warnings.warn("pyNN.cupy: population %r (%s): %d %s" % (
                    member.label, member.celltype_name, count, self.model.counters[name].format(**context)),
                    errors.SimulationWarning)
        self._events = {}

    def _take_counts(self, name: str) -> np.ndarray:
        if name not in self.device:
            return np.zeros(0, dtype=np.int64)
        counts = np.array(self.sim.backend.to_host(self.device[name]), dtype=np.int64)
        if counts.any():
            self.sim.write(self.device[name], 0)
        return counts

    # -- kernel launches ----------------------------------------------------------------------------
    def spike_list(self, position: int) -> dict:
        """Kernel arguments of population `position`'s segment of this step's spike list, by name."""
        base, capacity = (int(x) for x in self._segments[position])
        first = self.counter_base + position
        return {"spike_ids": self.device["spike_ids"][base:base + capacity],
                "spike_count": self.sim._spike_counts[first:first + 1], "spike_capacity": np.int32(capacity),
                "dropped": self.device["dropped"][position:position + 1]}

    def kernel_arguments(self) -> dict:
        sim, first = self.sim, self.counter_base
        # n_rows: the row capacity of the tables, the stride of [K][row] tables
        return dict(self.device, clock=sim._clock, n=np.int32(self.size), n_rows=np.int32(self.size),
                    L=np.int32(self.slots), dt=sim.real(sim.dt),
                    spike_counts=sim._spike_counts[first:first + len(self.members)])

    def launches(self) -> list:
        return [self.sim.launch(self.model.kernel, self.size, self.model.kernel_arguments(self))]
