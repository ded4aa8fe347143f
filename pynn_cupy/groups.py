"""Device state of one population: state arrays, per-neuron coefficients, delay ring buffers, spike list."""
from __future__ import annotations

import warnings

import numpy as np
from pyNN import errors as pynn_errors

from . import exceptions as errors
from .standardmodels.cells import REAL, DeviceModel


class NeuronGroup:
    """One population on the device. Host copies of parameters and initial values are the source of truth
    for what the user set; device arrays hold the live state."""

    def __init__(self, state, model: DeviceModel, size: int, parameters: dict, index: int, label: str = "",
                 celltype_name: str = ""):
        self.sim = state
        self.label = label
        self.celltype_name = celltype_name or type(model).__name__
        self.model = model
        self.size = size
        self.index = index
        self.parameters = parameters          # native (= PyNN) names -> float64 arrays / Sequence arrays
        self.initial_values: dict[str, np.ndarray] = {}
        self.coefficients = self._coefficients(parameters)   # validates before anything is registered
        self.device: dict = {}
        self._dirty_coefficients = True
        self.slots = 0
        self._events: dict[str, int] = {}   # counter -> events so far in this run

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
        if not self._write_coefficients():
            self._dirty_coefficients = True
            self.sim.invalidate()   # an array changes size: the next run builds and uploads anew

    def _write_coefficients(self) -> bool:
        """Write the coefficients into the device arrays in place (the step plan holds those); False, writing
        nothing, if there are none yet, an array would change size, or the spike list would be too small."""
        device = self.device
        if "spike_ids" not in device or self.model.spike_capacity(self.size, self.coefficients) > \
                device["spike_ids"].size:
            return False
        arrays = {name: np.broadcast_to(values, values.shape or (self.size,))
                  for name, values in self.coefficients.items()}
        if any(name not in device or device[name].shape != array.shape for name, array in arrays.items()):
            return False
        for name, array in arrays.items():
            self.sim.write(device[name], array)
        if "emit_step" in self.coefficients:
            self._seek_spike_arrays()
        return True

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

    def _state_for_initial(self, variable: str):
        for name, (initial, _) in self.model.state.items():
            if initial == variable:
                return name
        return None

    # -- device arrays ----------------------------------------------------------------------------
    def _initial_state(self, name: str) -> np.ndarray:
        initial, kind = self.model.state[name]
        if initial is not None and initial in self.initial_values:
            return self.initial_values[initial]
        return np.zeros(self.size)

    def build(self, slots: int) -> None:
        sim, real = self.sim, self.sim.real
        self.model.build_state(self)
        for name, (_, kind) in self.model.state.items():
            if name not in self.device:
                self.device[name] = sim.device_array(self._initial_state(name), real if kind == REAL else np.int32)
        capacity = self.model.spike_capacity(self.size, self.coefficients)
        if "spike_ids" not in self.device or self.device["spike_ids"].size != capacity:
            self.device["spike_ids"] = sim.zeros(capacity, np.int32)
            self.device["dropped"] = sim.zeros(1, np.int32)
        for name in self.model.counters:
            if name not in self.device:
                self.device[name] = sim.zeros(1, np.int32)
        if not self.model.is_source:
            self._build_rings(slots)
        if self._dirty_coefficients or any(name not in self.device for name in self.coefficients):
            for name, values in self.coefficients.items():
                dtype = values.dtype if values.dtype.kind in "iu" else real
                self.device[name] = sim.device_array(np.broadcast_to(values, values.shape or (self.size,)), dtype)
            self._dirty_coefficients = False
            if "emit_step" in self.coefficients:
                self._seek_spike_arrays()

    def _build_rings(self, slots: int) -> None:
        """The input ring [slot][receptor][neuron] (see cuda/neuron.cuh) and the injected current."""
        sim = self.sim
        if "i_stim" not in self.device:
            self.device["i_stim"] = sim.zeros(self.size, sim.real)
        if self.slots == slots:
            return
        new = sim.zeros((slots, len(self.model.receptors), self.size), sim.real)
        if self.slots:   # keep pending input: the slot of absolute step t moves from t % old to t % new
            old = self.device["ring"]
            for k in range(min(self.slots, slots)):
                sim.write(new[(sim.step + k) % slots], old[(sim.step + k) % self.slots])
        self.device["ring"] = new
        self.slots = slots

    def _seek_spike_arrays(self) -> None:
        """Point each SpikeSourceArray cursor at the first spike not yet emitted."""
        emit_step, offsets = self.coefficients["emit_step"], self.coefficients["offsets"]
        cursor = np.array([offsets[i] + np.searchsorted(emit_step[offsets[i]:offsets[i + 1]], self.sim.step)
                           for i in range(self.size)], dtype=np.int64)
        if "cursor" in self.device and self.device["cursor"].size == cursor.size:
            self.sim.write(self.device["cursor"], cursor)   # in place: the plan holds it
        else:
            self.device["cursor"] = self.sim.device_array(cursor, np.int64)

    def reset(self) -> None:
        if not self.device:
            return
        for name in self.model.state:
            self.sim.write(self.device[name], self._initial_state(name))
        for name in ("ring", "i_stim"):
            if name in self.device:
                self.sim.write(self.device[name], 0)
        if "emit_step" in self.coefficients:
            self._seek_spike_arrays()

    def check_events(self) -> None:
        """Take what the kernels counted since the last check (clearing the device counts): dropped spikes raise
        SpikeBufferOverflowError at once; the model's counters add up until `warn_events`."""
        for name in self.model.counters:
            self._events[name] = self._events.get(name, 0) + self._take_count(name)
        dropped = self._take_count("dropped")
        if dropped:
            raise errors.SpikeBufferOverflowError(
                "pyNN.cupy: %d spikes of population %r (%s) did not fit its spike list of %d per step"
                % (dropped, self.label, self.celltype_name, self.device["spike_ids"].size))

    def warn_events(self) -> None:
        """One SimulationWarning per counter that counted events since the last call (end of a run)."""
        context = self.model.counter_context(self.sim.dt)
        for name, meaning in self.model.counters.items():
            if self._events.get(name):
                warnings.warn("pyNN.cupy: population %r (%s): %d %s" % (
                    self.label, self.celltype_name, self._events[name], meaning.format(**context)),
                    errors.SimulationWarning)
        self._events = {}

    def _take_count(self, name: str) -> int:
        if name not in self.device:
            return 0
        count = int(self.sim.backend.to_host(self.device[name])[0])
        if count:
            self.sim.write(self.device[name], 0)
        return count

    # -- kernel launches ----------------------------------------------------------------------------
    def spike_list(self) -> dict:
        """Kernel arguments of this step's spike list, by name."""
        ids = self.device["spike_ids"]
        return {"spike_ids": ids, "spike_count": self.sim.spike_counter(self.index),
                "spike_capacity": np.int32(ids.size), "dropped": self.device["dropped"]}

    def receptor_index(self, receptor_type: str) -> int:
        """The place of a receptor type in the input ring."""
        return self.model.receptors.index(receptor_type)

    def max_spikes_per_step(self, n_cells: int) -> int:
        """The most spikes `n_cells` of the group can emit in one step."""
        return self.model.max_spikes_per_step(n_cells, self.device["spike_ids"].size)

    def launches(self) -> list:
        return [self.sim.launch(self.model.kernel, self.size, self.model.kernel_arguments(self))]

