"""Recording: spikes and sampled variables accumulate in device buffers during a chunk of steps and come
back to the host in bulk at the end of the chunk; PyNN's Recorder turns them into Neo objects."""
from __future__ import annotations

import numpy as np
from pyNN import errors as pynn_errors, recording

from . import exceptions as errors, simulator

SPIKE_BUFFER_ENTRIES = 1 << 22   # recorded spikes a population holds on the device per chunk
SAMPLE_BUFFER_ENTRIES = 1 << 24  # recorded values of one variable held on the device per chunk


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        super().__init__(population, file)
        self._device = {}
        self._clear_host()

    # -- PyNN hooks -------------------------------------------------------------------------------
    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        if variable.name != "spikes" and variable.name not in self.population.celltype.device_model.recordables:
            raise pynn_errors.RecordingError(variable.name, self.population.celltype)
        self._simulator.state.invalidate()

    def _reset(self):
        self._simulator.state.invalidate()

    def _clear_simulator(self):
        self._clear_host()
        if self._simulator.state.step:   # data restart at the current time, whose state is still unchanged
            self._next_sample = self._simulator.state.step

    def _clear_host(self):
        self._spike_chunks = []          # (population indices, steps)
        self._sample_chunks = {}         # variable -> list of (recorded indices, rows x columns)
        self._next_sample = None         # the step whose start state is the next sample to take

    def _indices(self, variable_name: str) -> np.ndarray:
        ids = [v for v in self.recorded if v.name == variable_name]
        if not ids:
            return np.zeros(0, dtype=np.int32)
        return np.sort(self.population.id_to_index(np.array(sorted(self.recorded[ids[0]]), dtype=int))
                       ).astype(np.int32)

    def _get_spiketimes(self, ids, clear=False):
        state = self._simulator.state
        if self._spike_chunks:
            index = np.concatenate([chunk[0] for chunk in self._spike_chunks])
            steps = np.concatenate([chunk[1] for chunk in self._spike_chunks])
        else:
            index, steps = np.zeros(0, np.int32), np.zeros(0, np.int64)
        wanted = np.zeros(self.population.size, dtype=bool)
        if len(ids):
            wanted[self.population.id_to_index(np.asarray(ids, dtype=int))] = True
        keep = wanted[index]
        times = state.time_of(steps[keep] + 1)
        return (np.asarray(self.population.all_cells)[index[keep]].astype(int), times)

    def _get_all_signals(self, variable, ids, clear=False):
        columns = self.population.id_to_index(np.asarray(ids, dtype=int)) if len(ids) else np.zeros(0, int)
        blocks = []
        for index, rows in self._sample_chunks.get(variable.name, []):   # index: sorted recorded cells
            block = np.full((rows.shape[0], len(columns)), np.nan)
            position = np.minimum(np.searchsorted(index, columns), max(0, index.size - 1))
            present = index.size > 0 and index[position] == columns
            block[:, present] = rows[:, position[present]]
            blocks.append(block)
        signal = np.vstack(blocks) if blocks else np.zeros((0, len(columns)))
        return signal, None

    def _local_count(self, variable, filter_ids=None):
        index, _ = self._get_spiketimes(sorted(self.filter_recorded(variable, filter_ids)))
        ids = sorted(int(i) for i in self.filter_recorded(variable, filter_ids))
        counts = dict.fromkeys(ids, 0)
        unique, number = np.unique(index, return_counts=True)
        counts.update(zip(unique.tolist(), number.tolist()))
        return counts

    # -- device side ------------------------------------------------------------------------------
    def _interval_steps(self) -> int:
        return max(1, self._simulator.state.steps(self.sampling_interval))

    def _max_chunk_steps(self) -> int:
        return self._device.get("chunk_steps", simulator.MAX_CHUNK_STEPS)

    def _spike_launches(self) -> list:
        state = self._simulator.state
        index = self._indices("spikes")
        self._device.pop("spikes", None)
        if index.size == 0:
            return []
        group = self.population._group
        chunk = max(1, min(simulator.MAX_CHUNK_STEPS, SPIKE_BUFFER_ENTRIES // index.size))
        capacity = chunk * index.size
        mask = np.zeros(group.size, dtype=np.uint8)
        mask[index] = 1
        buffers = {"mask": state.device_array(mask), "ids": state.zeros(capacity, np.int32),
                   "steps": state.zeros(capacity, np.int32), "stored": state.zeros(1, np.int32)}
        self._device["spikes"] = buffers
        self._device["chunk_steps"] = min(self._max_chunk_steps(), chunk)
        spike_ids, spike_count, spike_capacity = group.spike_list()
        grid, block = state.launch_config(spike_ids.size)
        return [(state.backend.kernel("record_spikes"), grid, block,
                 (state._clock, spike_ids, spike_count, spike_capacity, buffers["mask"], np.int32(capacity),
                  buffers["ids"], buffers["steps"], buffers["stored"]))]

    def _sample_launches(self) -> list:
        state = self._simulator.state
        self._device = {}
        launches = []
        interval = self._interval_steps()
        for name, array in self.population.celltype.device_model.recordables.items():
            index = self._indices(name)
            if index.size == 0:
                continue
            rows = max(1, min(simulator.MAX_CHUNK_STEPS // interval, SAMPLE_BUFFER_ENTRIES // index.size))
            buffers = {"index": state.device_array(index), "window": state.zeros(2, np.int64),
                       "out": state.zeros((rows, index.size), state.real), "rows": rows, "host_index": index}
            self._device[name] = buffers
            self._device["chunk_steps"] = min(self._max_chunk_steps(), rows * interval)
            grid, block = state.launch_config(index.size)
            launches.append((state.backend.kernel("record_values"), grid, block,
                             (state._clock, buffers["window"], np.int32(interval), np.int32(index.size),
                              buffers["index"], self.population._group.device[array], buffers["out"])))
        return launches

    def _sampled(self) -> list:
        return [name for name in self.population.celltype.device_model.recordables if name in self._device]

    def _begin_chunk(self, first_step: int, n_steps: int) -> None:
        state = self._simulator.state
        if self._next_sample is None or self._next_sample < first_step:
            self._next_sample = first_step
        rows = max(0, -(-(first_step + n_steps - self._next_sample) // self._interval_steps()))
        self._chunk_rows = rows
        for name in self._sampled():
            state.write(self._device[name]["window"], np.array([self._next_sample, rows]))
        if "spikes" in self._device:
            state.write(self._device["spikes"]["stored"], 0)

    def _end_chunk(self) -> None:
        to_host = self._simulator.state.backend.to_host
        for name in self._sampled():
            if self._chunk_rows:
                buffers = self._device[name]
                rows = to_host(buffers["out"][:self._chunk_rows]).astype(np.float64)
                self._sample_chunks.setdefault(name, []).append((buffers["host_index"], rows))
        if self._sampled():
            self._next_sample += self._chunk_rows * self._interval_steps()
        if "spikes" in self._device:
            buffers = self._device["spikes"]
            stored = int(to_host(buffers["stored"])[0])
            if stored > buffers["ids"].size:
                raise errors.SpikeBufferOverflowError(
                    "pyNN.cupy: %d spikes recorded in one chunk, the buffer holds %d"
                    % (stored, buffers["ids"].size))
            if stored:
                self._spike_chunks.append((to_host(buffers["ids"][:stored]).astype(np.int64),
                                           to_host(buffers["steps"][:stored]).astype(np.int64)))

    def _end_run(self) -> None:
        """Take the sample due at the current time now, before the user can change the state."""
        state = self._simulator.state
        if not self._sampled() or self._next_sample != state.step:
            return
        model = self.population.celltype.device_model
        for name in self._sampled():
            index = self._device[name]["host_index"]
            values = state.backend.to_host(self.population._group.device[model.recordables[name]])
            self._sample_chunks.setdefault(name, []).append(
                (index, values.astype(np.float64)[index][np.newaxis, :]))
        self._next_sample += self._interval_steps()
