"""Recording synaptic variables during a run (a pyNN.cupy extension; PyNN issues #104 and #441):
``projection.record("weight", sampling_interval=1.0)`` samples the device's values of all (or chosen) connections
into device buffers, copied back in bulk per chunk of steps like the neurons' recordings;
``projection.get_data()`` returns a Neo Block, one segment per trial (reset() starts a new one), each with one
AnalogSignal per variable (one channel per connection, annotated with its presynaptic and postsynaptic indices)."""
from __future__ import annotations

import neo
import numpy as np
import quantities as pq
from pyNN import errors

from . import simulator
from .recording import SAMPLE_BUFFER_ENTRIES
from .timegrid import grid_steps


class SynapseRecorder:
    def __init__(self, projection):
        self.projection = projection
        self.variables: list[str] = []
        self.connections = np.arange(len(projection))
        self.interval = 1
        self._device = {}
        self._segments = []   # the data of earlier trials (reset)
        self._clear_simulator()

    def record(self, variables, sampling_interval=None, connections=None) -> None:
        state, storage = simulator.state, self.projection._device
        variables = [variables] if isinstance(variables, str) else list(variables)
        for variable in variables:
            if variable not in storage.recordable:
                raise errors.InvalidParameterValueError(
                    "%s.record(%r): %s records %s" % (self.projection.label, variable,
                                                      type(self.projection.synapse_type).__name__,
                                                      ", ".join(sorted(storage.recordable))))
        if self._samples and (connections is not None or sampling_interval is not None):
            raise errors.InvalidParameterValueError(
                "%s.record(): the recorded connections and the sampling interval are fixed once data are recorded "
                "in a trial (they can change after reset())" % self.projection.label)
        if connections is not None:
            connections = np.unique(np.asarray(connections, dtype=np.int64))
            if connections.size and (connections[0] < 0 or connections[-1] >= len(self.projection)):
                raise errors.InvalidParameterValueError(
                    "%s.record(connections=...): indices must be in [0, %d), got %s"
                    % (self.projection.label, len(self.projection), connections[[0, -1]]))
            self.connections = connections
        if sampling_interval is not None:
            self.interval = max(1, int(grid_steps(sampling_interval, state.dt, "sampling_interval")))
        self.variables = sorted(set(self.variables) | set(variables))
        state.recorders.add(self)
        state.invalidate()

    # -- the simulator's recorder interface -------------------------------------------------------
    def _max_chunk_steps(self) -> int:
        return self._device.get("chunk_steps", simulator.MAX_CHUNK_STEPS)

    def _sample_launches(self) -> list:
        state, storage = simulator.state, self.projection._device
        self._device = {}
        launches = []
        if not self.variables or self.connections.size == 0:
            return launches
        rows = max(1, min(simulator.MAX_CHUNK_STEPS // self.interval,
                          SAMPLE_BUFFER_ENTRIES // (self.connections.size * len(self.variables))))
        self._device["chunk_steps"] = rows * self.interval
        self._device["window"] = state.zeros(2, np.int64)
        for variable in self.variables:
            out = state.zeros((rows, self.connections.size), state.real)
            self._device[variable] = out
            for block in storage.blocks:   # each block's recorded connections: their places in the block
                span = block["span"]
                columns = np.flatnonzero((self.connections >= span.start) & (self.connections < span.stop))
                if columns.size == 0:
                    continue
                where = self.connections[columns] - span.start
                launches.append(state.launch("record_columns", columns.size, {
                    "clock": state._clock, "window": self._device["window"], "interval": np.int32(self.interval),
                    "n_recorded": np.int32(columns.size), "index": state.device_array(where, np.int32),
                    "columns": state.device_array(columns, np.int32), "row_size": np.int32(self.connections.size),
                    "values": block[storage.recordable[variable]], "out": out}))
        return launches

    def _spike_launches(self) -> list:
        return []

    def _begin_chunk(self, first_step: int, n_steps: int) -> None:
        if "window" not in self._device:
            return
        if self._next_sample is None or self._next_sample < first_step:
            self._next_sample = first_step
        self._rows = max(0, -(-(first_step + n_steps - self._next_sample) // self.interval))
        simulator.state.write(self._device["window"], np.array([self._next_sample, self._rows]))

    def _end_chunk(self) -> None:
        if "window" not in self._device:
            return
        if self._rows:
            to_host = simulator.state.backend.to_host
            if self._first_sample is None:
                self._first_sample = self._next_sample
            for variable in self.variables:
                self._samples.setdefault(variable, []).append(
                    to_host(self._device[variable][:self._rows]).astype(np.float64))
        self._next_sample += self._rows * self.interval

    def _end_run(self) -> None:
        """The sample due at the current time, from the device arrays now."""
        state, storage = simulator.state, self.projection._device
        if "window" not in self._device or self._next_sample != state.step:
            return
        if self._first_sample is None:
            self._first_sample = self._next_sample
        for variable in self.variables:
            values = np.full(len(self.projection), np.nan)
            for block in storage.blocks:
                values[block["span"]] = state.backend.to_host(block[storage.recordable[variable]])
            self._samples.setdefault(variable, []).append(values[self.connections][np.newaxis, :])
        self._next_sample += self.interval

    def _clear_simulator(self) -> None:
        self._samples = {}
        self._first_sample = None
        self._next_sample = None

    def store_to_cache(self, annotations=None) -> None:
        """reset(): this trial's data become a segment of their own."""
        segment = self._segment()
        segment.annotations.update(annotations or {})
        self._segments.append(segment)
        self._clear_simulator()

    # -- data ---------------------------------------------------------------------------------------
    def get_data(self, clear: bool = False) -> neo.Block:
        block = neo.Block(name="synaptic variables of %s" % self.projection.label)
        block.segments.extend(self._segments + [self._segment()])
        if clear:
            self._segments = []
            self._clear_simulator()
        return block

    def _segment(self) -> neo.Segment:
        state, projection = simulator.state, self.projection
        segment = neo.Segment(name="synaptic variables of %s" % projection.label)
        pre, post = projection._pre[self.connections], projection._post[self.connections]
        for variable in self.variables:
            rows = self._samples.get(variable, [])
            data = np.vstack(rows) if rows else np.zeros((0, self.connections.size))
            units = projection._device.units(variable)
            signal = neo.AnalogSignal(data, units=units, name=variable,
                                      t_start=state.time_of(self._first_sample or 0) * pq.ms,
                                      sampling_period=state.time_of(self.interval) * pq.ms,
                                      array_annotations={"presynaptic_index": pre, "postsynaptic_index": post})
            segment.analogsignals.append(signal)
        return segment
