"""Population, PopulationView and Assembly: PyNN's common classes with parameters and initial values kept
in the population's device group."""
from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import LazyArray, ParameterSpace, Sequence, simplify
from pyNN.standardmodels import StandardCellType
from pyNN.standardmodels.cells import SpikeSourceArray

from . import simulator
from .exceptions import shape_error
from .groups import NeuronGroup
from .recording import Recorder


class Assembly(common.Assembly):
    _simulator = simulator

    @property
    def receptor_types(self):
        """The receptor types common to all the populations, in the first population's declared order.

        PyNN 0.13 (pyNN/common/populations.py, Assembly.receptor_types) returns `list(set)`, whose order
        follows PYTHONHASHSEED; Projection._guess_receptor_type takes element 0 for a non-negative weight,
        so a projection onto an Assembly without a receptor_type was excitatory or inhibitory by chance."""
        common_types = set.intersection(*(set(p.celltype.receptor_types) for p in self.populations))
        return [name for name in self.populations[0].celltype.receptor_types if name in common_types]


def _native_space(group: NeuronGroup, names, mask) -> ParameterSpace:
    values = {}
    for name in names:
        value = group.parameters[name]
        values[name] = simplify(value[mask] if mask is not None else value)
    size = group.size if mask is None else int(np.count_nonzero(np.ones(group.size, bool)[mask]))
    return ParameterSpace(values, shape=(size,))


class _ParameterAccess:
    """Parameter get/set shared by Population and PopulationView (mask None means every cell)."""

    def _group_and_mask(self):
        raise NotImplementedError

    def set(self, **parameters):
        """PyNN's set; an array of the wrong shape is an InvalidDimensionsError naming the population and the
        parameter."""
        if self._set_spike_trains(parameters):
            return
        try:
            super().set(**parameters)
        except errors.InvalidDimensionsError as exc:
            raise shape_error("%s.set" % self.label, parameters, (self.size,), exc) from None

    def _set_spike_trains(self, parameters: dict) -> bool:
        """set(spike_times=[a train per cell]) of a SpikeSourceArray: the trains straight to the group, the values
        and checks PyNN's path gives, without its parameter space and translation (about 15 ms for 1568 sources,
        which a stimulus loop pays per image). False, with nothing changed, for anything else."""
        trains = parameters.get("spike_times")
        if len(parameters) != 1 or not isinstance(self.celltype, SpikeSourceArray) or \
                not isinstance(trains, (list, tuple)) or len(trains) != self.size or self.local_size != self.size:
            return False
        values = np.empty(self.size, dtype=object)
        for i, train in enumerate(trains):
            if isinstance(train, Sequence):
                train = train.value
            elif not isinstance(train, (list, tuple, np.ndarray)):
                return False
            try:
                values[i] = Sequence(np.array(train, dtype=float))
            except (TypeError, ValueError):
                return False
            if values[i].value.ndim != 1:
                return False
        group, mask = self._group_and_mask()
        group.set_parameters({"spike_times": values}, slice(None) if mask is None else mask)
        return True

    def initialize(self, **initial_values):
        """PyNN's initialize (scalars, arrays, RandomDistributions, functions of the index), also on views;
        every value is checked (a state variable of the cell type, one finite number per cell) before any
        changes."""
        celltype, checked = self.celltype, {}
        for variable, value in initial_values.items():
            if variable not in celltype.default_initial_values:
                raise errors.NonExistentParameterError(variable, type(celltype).__name__,
                                                       list(celltype.default_initial_values))
            if isinstance(value, str):
                raise errors.InvalidParameterValueError("%s.initialize(%s=%r): not a number"
                                                        % (self.label, variable, value))
            try:
                lazy = LazyArray(value, shape=(self.size,), dtype=float)
                array = np.asarray(lazy.evaluate(simplify=False), dtype=float)
            except ValueError as exc:
                raise errors.InvalidDimensionsError("%s.initialize(%s=...): %s" % (self.label, variable, exc)) from None
            if not np.isfinite(array).all():
                raise errors.InvalidParameterValueError("%s.initialize(%s=...): values must be finite, got %s"
                                                        % (self.label, variable, array[~np.isfinite(array)][:5]))
            checked[variable] = lazy, array
        for variable, (lazy, array) in checked.items():
            self._set_initial_value_array(variable, array)
            if isinstance(self, Population):
                self.initial_values[variable] = lazy

    def _get_parameters(self, *names):
        group, mask = self._group_and_mask()
        celltype = self.celltype
        known = set(celltype.get_parameter_names()) | set(celltype.computed_parameters())
        for name in names:
            if name not in known:
                raise errors.NonExistentParameterError(name, type(celltype).__name__, sorted(known))
        if any(name in celltype.computed_parameters() for name in names):
            native_names = celltype.get_native_names()
        else:
            native_names = celltype.get_native_names(*names)
        return celltype.reverse_translate(_native_space(group, native_names, mask))

    def _set_parameters(self, parameter_space):
        group, mask = self._group_and_mask()
        parameter_space.evaluate(simplify=False)
        updates = {name: value for name, value in parameter_space.items()}
        group.set_parameters(updates, slice(None) if mask is None else mask)

    def _set_initial_value_array(self, variable, initial_values):
        group, mask = self._group_and_mask()
        values = initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate") \
            else np.asarray(initial_values)
        group.set_initial_values(variable, np.asarray(values, dtype=float), slice(None) if mask is None else mask)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class PopulationView(_ParameterAccess, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def __init__(self, parent, selector, label=None):
        """PyNN's, with the selector checked first: a boolean mask has one entry per cell of the parent,
        indices lie in it (IndexError), and at least one cell is selected (InvalidDimensionsError)."""
        if isinstance(selector, (slice, list, np.ndarray)):
            mask = np.asarray(selector) if isinstance(selector, list) else selector
            if isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape != (parent.size,):
                raise errors.InvalidDimensionsError("view of %r: a boolean mask needs one entry per cell (%d), "
                                                    "got shape %s" % (parent.label, parent.size, mask.shape))
            if isinstance(mask, slice):
                selected = len(range(*mask.indices(parent.size)))
            elif mask.dtype == bool:
                selected = int(np.count_nonzero(mask))
            else:
                selected = mask.size
                if selected and not -parent.size <= mask.min() <= mask.max() < parent.size:
                    bad = mask[(mask < -parent.size) | (mask >= parent.size)][0]
                    raise IndexError("index %d is out of bounds for %r of %d cells" % (bad, parent.label, parent.size))
            if selected == 0:
                raise errors.InvalidDimensionsError("view of %r: the selector %r selects no cell"
                                                    % (parent.label, selector))
        super().__init__(parent, selector, label)

    def _group_and_mask(self):
        return self.grandparent._group, self.mask if self.parent is self.grandparent \
            else self.grandparent.id_to_index(self.all_cells)


class Population(_ParameterAccess, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _group_and_mask(self):
        return self._group, None

    def id_to_index(self, id):
        """As PyNN's (the index of each ID in the population); no IDs give an empty array (PyNN's fails on them)."""
        if np.iterable(id) and not isinstance(id, common.PopulationView) and np.size(id) == 0:
            return np.zeros(0, dtype=int)
        return super().id_to_index(id)

    def _get_cell_initial_value(self, id, variable):
        """`cell.get_initial_value(variable)`: the value the device group starts the cell from."""
        if variable not in self.celltype.default_initial_values:
            raise errors.NonExistentParameterError(variable, type(self.celltype).__name__,
                                                   list(self.celltype.default_initial_values))
        return float(self._group.initial_values[variable][self.id_to_index(id)])

    def _set_cell_initial_value(self, id, variable, value):
        index = int(self.id_to_index(id))
        self[index:index + 1].initialize(**{variable: value})

    def _create_cells(self):
        if not isinstance(self.celltype, StandardCellType) or not hasattr(self.celltype, "device_model"):
            raise errors.InvalidModelError("pyNN.cupy has no device model for %s" % type(self.celltype).__name__)
        if self.size < 1:
            raise errors.InvalidDimensionsError("Population %r: the size must be at least 1, got %d"
                                                % (self.label, self.size))
        state = simulator.state
        parameter_space = self.celltype.native_parameters
        try:
            parameter_space.shape = (self.size,)
        except ValueError as exc:
            raise shape_error("Population %r of %d cells: %s" % (self.label, self.size, type(self.celltype).__name__),
                              dict(parameter_space.items()), (self.size,), exc) from None
        parameter_space.evaluate(simplify=False)
        parameters = {name: np.asarray(value) if not isinstance(value, np.ndarray) else value
                      for name, value in parameter_space.items()}
        # Validates the parameters before anything is registered.
        self._group = NeuronGroup(state, self.celltype.device_model, self.size, parameters, self.label,
                                  type(self.celltype).__name__)
        first = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)], dtype=simulator.ID)
        for cell in self.all_cells:
            cell.parent = self
        self._mask_local = np.ones(self.size, dtype=bool)
        state.id_counter += self.size
        state.add_group(self._group)
