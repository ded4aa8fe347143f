"""Recording: spikes and sampled variables accumulate in device buffers during a chunk of steps and come
back to the host in bulk at the end of the chunk; PyNN's Recorder turns them into Neo objects."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import quantities as pq
from neo import SpikeTrain
from neo.core.spiketrainlist import SpikeTrainList
from pyNN import errors as pynn_errors, recording

from . import exceptions as errors, simulator
from .timegrid import grid_steps

SPIKE_BUFFER_ENTRIES = 1 << 22   # recorded spikes a population holds on the device per chunk
SAMPLE_BUFFER_ENTRIES = 1 << 24  # recorded values of one variable held on the device per chunk


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        super().__init__(population, file)
        self._device, self._previous = {}, {}
        self._clear_host()

    # -- PyNN hooks -------------------------------------------------------------------------------
    def _record(self, variable, new_ids, sampling_interval=None):
        if sampling_interval is not None:
            self.sampling_interval = sampling_interval
        self._simulator.state.invalidate()

    def record(self, variables, ids, sampling_interval=None, locations=None):
        """PyNN's record, with everything checked before anything is recorded (PyNN records variable by
        variable): each variable recordable, and the sampling interval a whole number of steps (at the tic
        level: 0.2000004 ms at dt 0.1 is 0.2 ms), at least one and below 2^31 steps, as NEST's multimeter, and
        the population's one interval."""
        label = self.population.label
        if isinstance(variables, Iterator):   # checked here and recorded by PyNN: consumed once
            variables = list(variables)
        if sampling_interval is not None:
            state = self._simulator.state
            try:
                ms = float(sampling_interval)
            except (TypeError, ValueError):
                raise pynn_errors.InvalidParameterValueError(
                    "%s.record(sampling_interval=%r): not a number of ms" % (label, sampling_interval)) from None
            steps = int(grid_steps(ms, state.dt, "%s.record: sampling_interval" % label))
            if not 1 <= steps < 2 ** 31:
                raise pynn_errors.InvalidParameterValueError(
                    "%s.record(sampling_interval=%r): must be from one time step (%g ms) to 2^31 steps"
                    % (label, sampling_interval, state.dt))
            sampling_interval = float(state.time_of(steps))
            try:
                self._check_sampling_interval(sampling_interval)
                if sampling_interval != self.sampling_interval and any(self._sample_chunks.values()):
                    raise ValueError
            except ValueError:
                raise pynn_errors.InvalidParameterValueError(
                    "%s.record(sampling_interval=%g): its variables are recorded every %g ms in this segment; a "
                    "population has one sampling interval (reset() or get_data(clear=True) starts a new segment)"
                    % (label, sampling_interval, self.sampling_interval)) from None
        recordables = self.population.celltype.device_model.recordables
        for variable in self._localize_variables(variables, locations):
            if not self.population.can_record(variable.name, variable.location) or \
                    variable.name != "spikes" and variable.name not in recordables:
                raise pynn_errors.RecordingError(variable, self.population.celltype)
        before = {variable.name: set(cells) for variable, cells in self.recorded.items()}
        super().record(variables, ids, sampling_interval, locations)
        self._sample_added(before)

    def _sample_added(self, before: dict) -> None:
        """Cells or variables added while others are recorded, just after the sample of this step was taken
        (_end_run): their sample of this step, from the state, which has not changed since."""
        state = self._simulator.state
        if not state.step or self._next_sample is None or self._next_sample - self._interval_steps() != state.step:
            return
        model = self.population.celltype.device_model
        for variable, cells in self.recorded.items():
            added = sorted(set(cells) - before.get(variable.name, set()))
            if variable.name in model.recordables and added and model.recordables[variable.name] in \
                    self.population._group.device:
                index = np.sort(self.population.id_to_index(np.array(added, dtype=int))).astype(np.int32)
                values = state.backend.to_host(self.population._group.device[model.recordables[variable.name]])
                self._sample_chunks.setdefault(variable.name, []).append(
                    (index, values.astype(np.float64)[index][np.newaxis, :], state.step))

    def _reset(self):
        self._simulator.state.invalidate()

    def _clear_simulator(self):
        self._clear_host()
        if self._simulator.state.step:   # data restart at the current time, whose state is still unchanged
            self._next_sample = self._simulator.state.step

    def _clear_host(self):
        self._spike_chunks = []          # (population indices, steps)
        self._sample_chunks = {}         # variable -> list of (recorded indices, rows x columns, first step)
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
        model = self.population.celltype.device_model
        if getattr(state, "spike_precision", "on_grid") == "off_grid" and hasattr(model, "exact_times"):
            times = model.exact_times(self.population._group.parameters, state.dt, index[keep], steps[keep])
        return (np.asarray(self.population.all_cells)[index[keep]].astype(int), times)

    def _get_all_signals(self, variable, ids, clear=False):
        """The samples on the recording's grid (its start time + k sampling intervals) from the first one taken:
        each chunk at its own rows, NaN where a cell was not recorded (recording stopped, or started later for
        it). How much later than the recording's start the first sample is goes to _get_current_segment."""
        columns = self.population.id_to_index(np.asarray(ids, dtype=int)) if len(ids) else np.zeros(0, int)
        interval, chunks = self._interval_steps(), []
        for index, rows, first in self._sample_chunks.get(variable.name, []):   # index: sorted recorded cells
            position = np.minimum(np.searchsorted(index, columns), max(0, index.size - 1))
            present = (index[position] == columns) if index.size else np.zeros(columns.size, bool)
            if present.any():   # chunks of other cells do not count
                chunks.append(((first - self._origin_step()) // interval, rows[:, position[present]], present))
        first_row = min([row for row, _, _ in chunks], default=0)
        self._late_start[variable.name] = first_row * interval
        length = max([row - first_row + values.shape[0] for row, values, _ in chunks], default=0)
        signal = np.full((length, len(columns)), np.nan)
        for row, values, present in chunks:
            signal[row - first_row:row - first_row + values.shape[0], present] = values
        return signal, None

    def _get_current_segment(self, filter_ids=None, variables="all", clear=False):
        """PyNN's, with each signal starting at its first sample (PyNN starts all at the recording's start)."""
        self._late_start = {}
        segment = super()._get_current_segment(filter_ids=filter_ids, variables=variables, clear=clear)
        for signal in segment.analogsignals:
            if self._late_start.get(signal.name):
                signal.t_start = signal.t_start + self._simulator.state.time_of(self._late_start[signal.name]) * pq.ms
        return segment

    def _local_count(self, variable, filter_ids=None):
        index, _ = self._get_spiketimes(sorted(self.filter_recorded(variable, filter_ids)))
        ids = sorted(int(i) for i in self.filter_recorded(variable, filter_ids))
        counts = dict.fromkeys(ids, 0)
        unique, number = np.unique(index, return_counts=True)
        counts.update(zip(unique.tolist(), number.tolist()))
        return counts

    # -- device side ------------------------------------------------------------------------------
    def _origin_step(self) -> int:
        return int(round(float(self._recording_start_time) / self._simulator.state.dt))

    def _interval_steps(self) -> int:
        return int(grid_steps(self.sampling_interval, self._simulator.state.dt, "sampling_interval"))

    def _max_chunk_steps(self) -> int:
        return self._device.get("chunk_steps", simulator.MAX_CHUNK_STEPS)

    def _spike_launches(self) -> list:
        """The launch storing recorded spikes. The buffer holds a chunk of steps at the most spikes the
        recorded cells can emit per step (sources: their spike list's capacity), so it cannot overflow."""
        state = self._simulator.state
        index = self._indices("spikes")
        self._device.pop("spikes", None)
        if index.size == 0:
            return []
        group = self.population._group
        per_step = group.max_spikes_per_step(index.size)
        chunk = max(1, min(simulator.MAX_CHUNK_STEPS, SPIKE_BUFFER_ENTRIES // per_step))
        capacity = chunk * per_step
        mask = np.zeros(group.size, dtype=np.uint8)
        mask[index] = 1
        buffers = {"mask": state.device_array(mask), "ids": self._buffer("spikes", "ids", (capacity,), np.int32),
                   "steps": self._buffer("spikes", "steps", (capacity,), np.int64),
                   "stored": self._buffer("spikes", "stored", (1,), np.int32)}
        self._device["spikes"] = buffers
        self._device["chunk_steps"] = min(self._max_chunk_steps(), chunk)
        spikes = group.spike_list()
        return [state.launch("record_spikes", spikes["spike_ids"].size, dict(
            spikes, clock=state._clock, recorded=buffers["mask"], capacity=np.int32(capacity),
            out_id=buffers["ids"], out_step=buffers["steps"], stored=buffers["stored"]))]

    def _buffer(self, variable: str, part: str, shape: tuple, dtype) -> object:
        """A device buffer of the last step plan with this shape and type (its content is rewritten every chunk),
        else a new one: a script that rebuilds the plan often (a stimulus per trial) does not reallocate them."""
        old = self._previous.get((variable, part))
        if old is not None and old.shape == shape and old.dtype == np.dtype(dtype):
            return old
        return self._simulator.state.zeros(shape, dtype)

    def _sample_launches(self) -> list:
        state = self._simulator.state
        self._previous = {(variable, part): value for variable, buffers in self._device.items()
                          if isinstance(buffers, dict) for part, value in buffers.items() if hasattr(value, "dtype")}
        self._device = {}
        launches = []
        interval = self._interval_steps()
        for name, array in self.population.celltype.device_model.recordables.items():
            index = self._indices(name)
            if index.size == 0:
                continue
            rows = max(1, min(simulator.MAX_CHUNK_STEPS // interval, SAMPLE_BUFFER_ENTRIES // index.size))
            buffers = {"index": state.device_array(index), "window": self._buffer(name, "window", (2,), np.int64),
                       "out": self._buffer(name, "out", (rows, index.size), state.real), "rows": rows,
                       "host_index": index}
            self._device[name] = buffers
            self._device["chunk_steps"] = min(self._max_chunk_steps(), rows * interval)
            launches.append(state.launch("record_values", index.size, {
                "clock": state._clock, "window": buffers["window"], "interval": np.int32(interval),
                "n_recorded": np.int32(index.size), "index": buffers["index"],
                "values": self.population._group.device[array], "out": buffers["out"]}))
        return launches

    def _sampled(self) -> list:
        return [name for name in self.population.celltype.device_model.recordables if name in self._device]

    def _begin_chunk(self, first_step: int, n_steps: int) -> None:
        state = self._simulator.state
        interval = self._interval_steps()
        if self._next_sample is None or self._next_sample < first_step:   # the first grid point from here on
            origin = self._origin_step()
            self._next_sample = origin + -(-(first_step - origin) // interval) * interval
        rows = max(0, -(-(first_step + n_steps - self._next_sample) // interval))
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
                self._sample_chunks.setdefault(name, []).append((buffers["host_index"], rows, self._next_sample))
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
                (index, values.astype(np.float64)[index][np.newaxis, :], state.step))
        self._next_sample += self._interval_steps()

    # -- PyNN 0.13 fix: the segments closed by reset() --------------------------------------------
    def get(self, variables, gather=False, filter_ids=None, clear=False, annotations=None, locations=None):
        """PyNN's Recorder.get, except that the segments cached by reset() come back as new copies, filtered
        by `variables` and `filter_ids` as the current segment is.

        PyNN 0.13's get() passes the cached segments through filter_by_variables
        (pyNN/recording/__init__.py), which compares signal names (str) with Variable tuples, so that
        get_data(variables=[...]) dropped every analog signal of those segments; whose shallow copy shares
        neo's child lists, so that the filtering emptied the cache itself for every later call; it ignored
        filter_ids (a PopulationView got all of its parent's cells) and handed out the cached objects, which
        Assembly.get_data merges into and renumbers (channel_index += offset) in place.
        pyNN.cupy is one process (state.num_processes == 1): there is nothing to gather."""
        import neo
        wanted = "all" if variables == "all" else self._localize_variables(variables, locations)
        data = neo.Block(name=self.population.label, description=self.population.describe())
        data.segments = [self._cached_copy(segment, wanted, filter_ids) for segment in self.cache]
        if self._simulator.state.running:   # reset() has not been called: the current segment is not cached
            data.segments.append(self._get_current_segment(filter_ids=filter_ids, variables=wanted, clear=clear))
        # PyNN builds a segment's signals from a set of Variables, in an order that follows PYTHONHASHSEED:
        # give them the order asked for, or else the order of the record() calls.
        order = [v.name for v in (self.recorded if wanted == "all" else wanted)]
        rank = {name: order.index(name) for name in order}
        for segment in data.segments:
            segment.analogsignals = sorted(segment.analogsignals, key=lambda s: rank.get(s.name, len(rank)))
            segment.block = data
            segment.spiketrains = SpikeTrains.of(segment.spiketrains)
        if data.segments:   # none before the first run
            data.rec_datetime = data.segments[0].rec_datetime
        data.annotate(**self.metadata)
        if annotations:
            data.annotate(**annotations)
        if clear:
            self.clear()
        return data

    def store_to_cache(self, annotations=None):
        """PyNN's, except that the segment is kept whenever time has advanced since recording (re)started:
        PyNN 0.13 drops it whenever get(clear=True) was called since the last reset() (its clear_flag),
        losing what was recorded between that get() and reset(); and that a population that has never recorded
        anything keeps no segments (PyNN stores an empty one at every reset: memory growing with the trials of a
        script that resets once per stimulus)."""
        if not self.recorded and next(iter(self.cache), None) is None:
            return
        if self._simulator.state.t > float(self._recording_start_time):
            self.clear_flag = False
        super().store_to_cache(annotations)

    @staticmethod
    def _cached_copy(segment, variables, filter_ids):
        """A new Segment with copies of the cached segment's spike trains and signals, restricted to
        `variables` ("all" or Variable tuples) and to the cells `filter_ids` (None: all)."""
        import neo
        names = None if variables == "all" else {
            v.name if v.location is None else "%s.%s" % (v.label, v.name) for v in variables}
        ids = None if filter_ids is None else np.asarray([int(i) for i in filter_ids], dtype=np.int64)
        copy = neo.Segment(name=segment.name, description=segment.description,
                           rec_datetime=segment.rec_datetime, **segment.annotations)
        if names is None or "spikes" in names:
            wanted = None if ids is None else set(ids.tolist())
            copy.spiketrains = [train.copy() for train in segment.spiketrains
                                if wanted is None or int(train.annotations["channel_id"]) in wanted]
        for kind in ("analogsignals", "irregularlysampledsignals"):
            signals = []
            for signal in getattr(segment, kind):
                if names is not None and signal.name not in names:
                    continue
                channel_ids = np.asarray(signal.annotations.get("channel_ids", []))
                columns = np.arange(signal.shape[1])
                if ids is not None and channel_ids.size == signal.shape[1]:   # one channel per cell
                    columns = np.flatnonzero(np.isin(channel_ids, ids))
                if columns.size == 0:
                    continue
                part = signal[:, columns]   # a copy, array annotations (channel_index) sliced with it
                part.annotations = dict(signal.annotations)
                if channel_ids.size == signal.shape[1]:
                    part.annotations["channel_ids"] = channel_ids[columns].copy()
                signals.append(part)
            setattr(copy, kind, signals)
        return copy


class SpikeTrains(SpikeTrainList):
    """neo's SpikeTrainList as PyNN builds it (every spike time in one array, with each spike's cell), except that
    the per-cell SpikeTrains are made in one pass over the spikes sorted by cell: neo looks up every cell's
    spikes by comparing the whole array (cells x spikes work: minutes for 1e5 cells and 1e6 spikes)."""

    @classmethod
    def of(cls, trains: SpikeTrainList) -> SpikeTrainList:
        """`trains`, still unbuilt, as this class (built lists and other types as they are)."""
        if type(trains) is not SpikeTrainList or trains._items is not None or trains._spike_time_array is None:
            return trains
        fast = cls()
        fast.__dict__.update(trains.__dict__)
        return fast

    def _spiketrains_from_array(self):
        channels = np.asarray(self._channel_id_array)
        order = np.argsort(channels, kind="stable")   # each cell's spikes in the order recorded (time order)
        channels = channels[order]
        ids = np.asarray(self._all_channel_ids)
        first, last = np.searchsorted(channels, ids, side="left"), np.searchsorted(channels, ids, side="right")
        per_cell = {name: value for name, value in self._annotations.items()
                    if not isinstance(value, str) and hasattr(value, "__len__") and len(value) == len(ids)}
        shared = {name: value for name, value in self._annotations.items() if name not in per_cell}
        # one SpikeTrain checked and made by neo (~150 us each), the cells' trains as slices of it (~10 us)
        every = SpikeTrain(self._spike_time_array[order], **self._spiketrain_metadata)
        self._items = []
        for i, channel_id in enumerate(self._all_channel_ids):
            train = every[first[i]:last[i]]
            train.annotations = {**shared, **{name: value[i] for name, value in per_cell.items()},
                                 "channel_id": channel_id}
            train.segment = self.segment
            self._items.append(train)

