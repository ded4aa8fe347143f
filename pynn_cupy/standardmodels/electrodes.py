"""Current sources: DCSource, ACSource, StepCurrentSource, NoisyCurrentSource (kernels: dc_source_apply in
cuda/sources.cu, the others in cuda/current_sources.cu). A source adds its current of an update step to the
injected current of its targets for that step, so that the membrane first moves in the step after `start`
(or after a step time), as with pyNN.nest; several sources on one cell add up.

Recording (`source.record()`, `source.get_data()`) follows pyNN.nest: the sample at time t is the current
injected in the step from t to t + dt, from the time of record() to the end of the last run (both included).
"""
from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, Sequence
from pyNN.standardmodels import build_translations, electrodes

from ..exceptions import InjectionError, InvalidParameterValueError
from ..simulator import MAX_CHUNK_STEPS, state
from ..timegrid import FOREVER, grid_steps, tics_per_step


def _targets_by_group(cells) -> list:
    """[(group, local indices)] for a Population, PopulationView, Assembly or a list of IDs."""
    from ..storage.static import cell_groups
    if isinstance(cells, common.IDMixin):   # a single cell
        cells = [cells]
    if isinstance(cells, (common.BasePopulation, common.Assembly)):
        groups, which, local = cell_groups(cells)
        return [(group, local[which == k]) for k, group in enumerate(groups)]
    by_group = {}
    for cell in cells:
        population = cell.parent
        root = population.grandparent if isinstance(population, common.PopulationView) else population
        by_group.setdefault(id(root._group), (root._group, []))[1].append(root.id_to_index(int(cell)))
    return [(group, np.asarray(indices)) for group, indices in by_group.values()]


class CurrentSource:
    """Base for current sources living in the simulator state."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "_targets", [])
        object.__setattr__(self, "_steps", {})
        object.__setattr__(self, "_device", {})
        object.__setattr__(self, "_recorder", None)
        object.__setattr__(self, "_peek", None)
        super().__init__(**parameters)
        space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        space.update(**parameters)
        self.set_native_parameters(self.translate(space))
        state.current_sources.append(self)

    def set_parameters(self, copy=True, **parameters):
        """PyNN's, with the names checked first (PyNN's error would not name the source type)."""
        known = self.get_parameter_names()
        for name in parameters:
            if name not in known:
                raise errors.NonExistentParameterError(name, type(self).__name__, sorted(known))
        super().set_parameters(copy=copy, **parameters)

    def inject_into(self, cells):
        for group, indices in _targets_by_group(cells):
            if group.model.is_source:
                raise InjectionError("Can't inject current into a spike source (%s)."
                                     % type(group.model).__name__)
            self._targets.append((group, state.device_array(np.unique(indices), np.int32)))
        state.invalidate()

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        new = dict(self._native, **{name: self._native_value(value) for name, value in parameters.items()})
        self._steps = self._grid(new)   # validates (and may normalize `new`) before anything changes
        self._native.update(new)
        self._changed()

    @staticmethod
    def _native_value(value):
        return float(value)

    def _grid(self, native: dict) -> dict:
        """The parameters that are times, in steps; raises InvalidParameterValueError off the grid."""
        return {}

    def _changed(self) -> None:
        """The parameters changed (between runs): make the device see them."""
        state.invalidate()

    def get_native_parameters(self):
        return ParameterSpace(dict(self._native))

    def _window(self, native: dict) -> dict:
        """start and stop in steps (on the grid, stop >= start, as NEST), amplitude-like values finite."""
        name = type(self).__name__
        for key in ("amplitude", "offset", "frequency", "phase", "mean", "stdev"):
            if key in native and not np.isfinite(native[key]):
                raise InvalidParameterValueError("%s %s must be finite, got %g" % (name, key, native[key]))
        steps = {key: int(grid_steps(native[key], state.dt, "%s %s" % (name, key))) for key in ("start", "stop")}
        if steps["stop"] < steps["start"]:   # as NEST: "stop >= start required"
            raise InvalidParameterValueError("%s stop (%g ms) must not be before start (%g ms)"
                                             % (name, native["stop"], native["start"]))
        return steps

    # -- recording (PyNN: source.record(), source.get_data() via _get_data) ---------------------------
    def record(self):
        """Record the current this source injects (NoisyCurrentSource: the mean over its targets, as NEST)."""
        if self._recorder is None:
            self._recorder = _SourceRecorder(self)
            state.recorders.add(self._recorder)
            state.invalidate()

    def _get_data(self):
        if self._recorder is None:
            return np.zeros(0), np.zeros(0)
        return self._recorder.data()

    def _host_values(self, steps: np.ndarray) -> np.ndarray:
        """The current (nA) injected in each of `steps`, as the device computes it (deterministic sources)."""
        raise NotImplementedError

    def _recorded_values(self, first: int, stop: int, end_of_run: bool) -> np.ndarray:
        """The current injected in steps [first, stop), once the chunk of steps holding them has run (or,
        with end_of_run, of the coming step)."""
        values = np.asarray(self._host_values(np.arange(first, stop, dtype=np.int64)), dtype=np.float64)
        return values.astype(state.real).astype(np.float64)   # the value the device adds

    def _begin_record(self, first: int, rows: int) -> None:
        """A chunk of steps starts; steps [first, first + rows) are to be recorded."""


def _as_array(value) -> np.ndarray:
    """A Sequence parameter (as ParameterSpace hands it out) as a float array."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = value.ravel()[0]
    if isinstance(value, Sequence):
        value = value.value
    return np.array(value, dtype=float).ravel()


class _SourceRecorder:
    """Records one source's current: one of the step loop's recorders (state.recorders; it calls the hooks
    below around each chunk of steps, after each run and at reset()). Samples from the step of record() (or
    of reset()) to the end of the last run, both included. The sample at the end of a run is taken then, as
    the parameters are; when the next run starts, it is replaced by the current that run injects (parameters
    may have changed in between)."""

    def __init__(self, source):
        self.source = source
        self._clear_simulator()

    def _clear_simulator(self):
        self._next = state.step
        self._first = state.step
        self._values = []
        self._look_ahead = False   # the last sample is the end of a run's look at the coming step

    def store_to_cache(self, annotations=None):
        pass   # a source's recording restarts at reset(); get_data() returns the current trial's

    def _sample_launches(self):
        return []

    def _spike_launches(self):
        return []

    def _max_chunk_steps(self):
        return MAX_CHUNK_STEPS

    def _begin_chunk(self, first_step, n_steps):
        if self._look_ahead and self._next == first_step + 1:
            self._values[-1] = self._values[-1][:-1]
            self._next = first_step
        self._look_ahead = False
        self._chunk = (max(self._next, first_step), first_step + n_steps)
        self.source._begin_record(self._chunk[0], max(0, self._chunk[1] - self._chunk[0]))

    def _end_chunk(self):
        first, stop = self._chunk
        if stop > first:
            self._values.append(self.source._recorded_values(first, stop, False))
            self._next = stop

    def _end_run(self):
        """The sample at the current time (the current of the coming step), as pyNN.nest has it."""
        if self._next == state.step:
            self._values.append(self.source._recorded_values(state.step, state.step + 1, True))
            self._next = state.step + 1
            self._look_ahead = True

    def data(self):
        values = np.concatenate(self._values) if self._values else np.zeros(0)
        return state.time_of(self._first + np.arange(values.size)), values


class DCSource(CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))

    def _grid(self, native):
        return self._window(native)

    def _launches(self) -> list:
        return [state.launch("dc_source_apply", targets.size, {
            "clock": state._clock, "n_targets": np.int32(targets.size), "targets": targets,
            "amplitude": state.real(self._native["amplitude"]), "first_step": np.int64(self._steps["start"]),
            "end_step": np.int64(self._steps["stop"]), "i_stim": group.device["i_stim"]})
            for group, targets in self._targets]

    def _host_values(self, steps):
        active = (steps >= self._steps["start"]) & (steps < self._steps["stop"])
        return np.where(active, self._native["amplitude"], 0.0)


class _DeviceParameters(CurrentSource):
    """A source whose parameters the device reads from small arrays, written in place when they change."""

    def _device_values(self) -> dict:
        """{kernel parameter name: host array} of the current parameters."""
        raise NotImplementedError

    def _changed(self):
        values = self._device_values()
        device = self._device
        if all(name in device and device[name].shape == value.shape for name, value in values.items()):
            for name, value in values.items():
                state.write(device[name], value)
        else:
            device.update({name: state.device_array(value) for name, value in values.items()})
            state.invalidate()

    def _apply(self, kernel: str, arguments: dict) -> list:
        """One launch of `kernel` per target group, with `arguments` and the device parameters; first_index:
        the position of the group's first target among all of the source's targets."""
        launches, first = [], 0
        for group, targets in self._targets:
            launches.append(state.launch(kernel, targets.size, dict(
                arguments, **self._device, clock=state._clock, n_targets=np.int32(targets.size), targets=targets,
                first_index=np.int32(first), i_stim=group.device["i_stim"])))
            first += targets.size
        return launches


class ACSource(_DeviceParameters, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__ + """
    pyNN.cupy, as pyNN.nest: the step from t to t + dt (start <= t < stop) gets
    offset + amplitude * sin(2 pi frequency (t - start) + phase); the phase from the step count in double
    precision."""
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"),
                                      ("frequency", "frequency"), ("offset", "offset"), ("phase", "phase"))

    def _grid(self, native):
        return self._window(native)

    def _cycles(self):
        """(cycles per step, phase in cycles in [0, 1)) in double precision; dt exactly, in tics."""
        dt = tics_per_step(state.dt) / 1000.0
        return self._native["frequency"] * dt / 1000.0, (self._native["phase"] / 360.0) % 1.0

    def _device_values(self):
        per_step, phase = self._cycles()
        return {"params": np.array([self._native["amplitude"], self._native["offset"], per_step, phase]),
                "window": np.array([self._steps["start"], self._steps["stop"]], dtype=np.int64)}

    def _launches(self):
        return self._apply("ac_source_apply", {})

    def _host_values(self, steps):
        per_step, phase = self._cycles()
        cycles = per_step * (steps - self._steps["start"]).astype(np.float64)
        value = self._native["offset"] + self._native["amplitude"] * np.sin(
            2 * np.pi * ((cycles - np.floor(cycles)) + phase))
        return np.where((steps >= self._steps["start"]) & (steps < self._steps["stop"]), value, 0.0)


class StepCurrentSource(_DeviceParameters, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__ + """
    pyNN.cupy, as pyNN.nest: the amplitude given for time t acts from the step starting at t (v moves at
    t + dt). Times off the grid go to the nearest step as pyNN.nest rounds them (numpy.rint of
    (t - min_delay) / dt, then min_delay added back), and of several times on one step the last one counts;
    `times` then reads back as the grid times. Times must be >= 0 and strictly increasing, one amplitude
    per time. New times set between runs that all lie ahead leave the amplitude in effect until the first of
    them (NEST's step_current_generator holds it), in this trial (after reset(): zero before the first time)."""
    translations = build_translations(("amplitudes", "amplitudes"), ("times", "times"))

    @staticmethod
    def _native_value(value):
        return _as_array(value)

    def _grid(self, native):
        times, amplitudes = native["times"], native["amplitudes"]
        if times.size != amplitudes.size:
            raise InvalidParameterValueError("StepCurrentSource: %d times (%s) but %d amplitudes (%s)"
                                             % (times.size, times.tolist(), amplitudes.size, amplitudes.tolist()))
        bad = ~np.isfinite(times) | (times < 0)
        if bad.any():
            raise InvalidParameterValueError("StepCurrentSource times must be finite and >= 0 ms, got %r"
                                             % float(times[bad][0]))
        if times.size > 1 and np.min(np.diff(times)) <= 0:
            j = int(np.argmin(np.diff(times)))
            raise InvalidParameterValueError("StepCurrentSource times must increase strictly, got %r after %r"
                                             % (float(times[j + 1]), float(times[j])))
        if not np.isfinite(amplitudes).all():
            raise InvalidParameterValueError("StepCurrentSource amplitudes must be finite, got %r"
                                             % float(amplitudes[~np.isfinite(amplitudes)][0]))
        dt = state.dt
        min_delay = float(state.min_delay)
        delay_steps = int(np.rint(min_delay / dt))
        # pyNN.nest's rounding (NEST itself takes only grid times): rint((t - min_delay) / dt), min_delay back
        late = times - min_delay > dt
        steps = np.where(late, np.rint((times - min_delay) / dt) + delay_steps, np.rint(times / dt))
        steps = steps.astype(np.int64)
        keep = np.append(steps[1:] != steps[:-1], True)   # of several times on one step, the last counts
        native["times"] = state.time_of(steps[keep])
        native["amplitudes"] = amplitudes[keep].copy()
        result = {"step_at": steps[keep], "carry": np.array([FOREVER, -1]), "carry_amplitude": 0.0}
        if "step_at" in self._steps and state.step > 0 and not (result["step_at"][:1] <= state.step).any():
            now = float(self._host_values(np.array([state.step]))[0])   # the amplitude in effect
            if now != 0:
                result.update(carry=np.array([state.step, state.trial]), carry_amplitude=now)
        return result

    def _device_values(self):
        steps, amplitudes = self._steps["step_at"], self._native["amplitudes"]
        return {"step_at": np.append(steps, 0)[:max(1, steps.size)],   # never empty: a pointer is passed
                "amplitudes": np.append(amplitudes, self._steps["carry_amplitude"]).astype(state.real),
                "carry": self._steps["carry"].astype(np.int64)}

    def _launches(self):
        return self._apply("step_current_apply", {})

    def _changed(self):
        n_times = np.int32(self._steps["step_at"].size)
        if self._device.get("n_times") != n_times:   # a kernel scalar: a new launch list
            self._device["n_times"] = n_times
            state.invalidate()
        super()._changed()

    def _host_values(self, steps):
        amplitudes = np.append(self._native["amplitudes"], self._steps["carry_amplitude"])
        index = np.searchsorted(self._steps["step_at"], steps, side="right") - 1
        carry_from, carry_trial = self._steps["carry"]
        carried = (index < 0) & (steps >= carry_from) & (state.trial == carry_trial)
        return np.where(index >= 0, amplitudes[np.maximum(index, 0)], np.where(carried, amplitudes[-1], 0.0))


class NoisyCurrentSource(_DeviceParameters, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__ + """
    pyNN.cupy, as NEST's noise_generator: each target cell gets its own current, mean + stdev * N(0, 1), drawn
    anew every `dt` (a whole number of time steps, > 0) from `start` on and held in between; drawn on the
    device (Philox, its own stream per source, seeded by setup(rng_seed=...)), fresh in every trial after
    reset(). PyNN 0.13 takes no `rng` argument here (NonExistentParameterError, as pyNN.nest). The recorded
    current is the mean over the targets (NEST's)."""
    translations = build_translations(("mean", "mean"), ("start", "start"), ("stop", "stop"),
                                      ("stdev", "stdev"), ("dt", "dt"))

    def _grid(self, native):
        steps = self._window(native)
        if native["stdev"] < 0:
            raise InvalidParameterValueError("NoisyCurrentSource stdev must not be negative, got %g nA"
                                             % native["stdev"])
        steps["dt"] = int(grid_steps(native["dt"], state.dt, "NoisyCurrentSource dt"))
        if steps["dt"] < 1:
            raise InvalidParameterValueError("NoisyCurrentSource dt = %r ms: must be at least the time step (%g ms)"
                                             % (native["dt"], state.dt))
        return steps

    def _device_values(self):
        return {"params": np.array([self._native["mean"], self._native["stdev"]]),
                "window": np.array([self._steps["start"], self._steps["stop"], self._steps["dt"]], dtype=np.int64)}

    def _record_buffers(self):
        rows = MAX_CHUNK_STEPS if self._recorder is not None else 1
        if self._device.get("record_out") is None or self._device["record_out"].size != rows:
            self._device["record"] = state.zeros(2, np.int64)
            self._device["record_out"] = state.zeros(rows, state.real)
        return self._device["record"], self._device["record_out"]

    def _launches(self, apply=1):
        self._record_buffers()
        n_total = sum(targets.size for _, targets in self._targets)
        number = [s for s in state.current_sources if isinstance(s, NoisyCurrentSource)].index(self)
        if apply:
            object.__setattr__(self, "_peek", None)   # a new launch list: a new one for the peek too
        return self._apply("noise_current_apply", {
            "seed": np.uint64(state.rng_seed), "stream": state.rng_stream("noise_current", number),
            "apply": np.int32(apply), "weight": state.real(1.0 / max(1, n_total))})

    def _begin_record(self, first, rows):
        record, out = self._record_buffers()
        state.write(record, np.array([first, rows], dtype=np.int64))
        state.write(out, 0)

    def _recorded_values(self, first, stop, end_of_run):
        record, out = self._record_buffers()
        if end_of_run:   # the coming step: its current, computed without injecting it
            self._begin_record(first, 1)
            if self._targets:
                if self._peek is None:
                    object.__setattr__(self, "_peek", state.backend.plan(self._launches(apply=0), state.threads))
                self._peek.run(1)
        return state.backend.to_host(out[:stop - first]).astype(np.float64)
