"""Projection: connections are collected on the host as arrays (connectors call `_convergent_connect` once
per post-synaptic cell with arrays, or hand over whole arrays), validated, then placed on the device as blocks of
a storage strategy (storage/: static, plastic or dynamic CSR), which holds them from then on: get() reads the
device, set() writes it, and index arrays are made on the host only when asked for."""
from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.random import RandomDistribution
from pyNN.space import Space
from pyNN.standardmodels.base import check_weights

from . import connect, simulator
from .standardmodels.synapses import StaticSynapse
from .convolution import SharedWeightsConnector
from .exceptions import shape_error
from .storage import storage_for
from .storage.kernel import shared_storage
from .storage.layout import SORT_CHUNK
from .storage.static import compact
from .timegrid import delay_steps

def as_stored(values, real) -> np.ndarray:
    """The values the device holds in precision `real`, as float64: in float32, each as the shortest decimal
    that rounds to the stored number (as numpy prints it), so a weight given as 0.015 reads back as 0.015 and
    one given as 0.123456789 as 0.12345679, the float32 that acts."""
    values = np.asarray(values, dtype=np.float64)
    if np.dtype(real) == np.float64:
        return values.copy()
    with np.errstate(over="ignore"):
        stored = values.astype(real)
    stored[np.abs(stored) < np.finfo(real).tiny] = 0   # denormals: zero on the device (flushed), so here
    out = stored.astype(np.float64)
    pending = np.isfinite(out) & (out != 0)
    exponent = np.zeros(out.shape, dtype=np.int64)
    exponent[pending] = np.floor(np.log10(np.abs(out[pending])))
    # 9 significant digits always round-trip a float32; a value whose shortest form has k <= 6 digits is the
    # nearest 6-digit decimal to the float32 (half a float32 spacing is below 6e-8 of it, half a 6-digit one above
    # 5e-7), so the search starts at 6 digits and finds the same shortest forms
    for digits in range(6, 10):
        where = np.flatnonzero(pending)
        shift = digits - 1 - exponent[where]
        scale = 10.0 ** np.minimum(np.abs(shift), 22)   # powers of ten up to 1e22 are exact doubles
        x = out[where]
        candidate = np.where(shift >= 0, np.round(x * scale) / scale, np.round(x / scale) * scale)
        good = (np.abs(shift) <= 22) & (candidate.astype(real) == stored[where])
        out[where[good]] = candidate[good]
        pending[where[good]] = False
    out[pending] = stored[pending].astype(str).astype(np.float64)   # the rare rest, by numpy's own repr
    return out


class Connection(common.Connection):
    """One connection of a projection, with settable weight and delay."""

    def __init__(self, projection, index):
        self.projection = projection
        self.index = index

    @property
    def presynaptic_index(self):
        return int(self.projection._pre[self.index])

    @property
    def postsynaptic_index(self):
        return int(self.projection._post[self.index])

    def _get(self, name):
        self.projection._attribute(name, read=False)   # an existing attribute
        return self.projection._device.read_at(name, self.index)

    def _set(self, name, value):
        values = self.projection._attribute(name).copy()
        values[self.index] = value
        self.projection._store({name: values})

    weight = property(lambda self: self._get("weight"), lambda self, value: self._set("weight", value))
    delay = property(lambda self: self._get("delay"), lambda self, value: self._set("delay", value))
    presynaptic_cell = property(lambda self: self.projection.pre[self.presynaptic_index])
    postsynaptic_cell = property(lambda self: self.projection.post[self.postsynaptic_index])

    def __getattr__(self, name):   # the synapse type's other parameters (U, tau_rec, tau_plus, ...)
        projection = self.__dict__.get("projection")
        if projection is None or name.startswith("_") or name not in projection._values:
            raise AttributeError("%r has no attribute %r" % (type(self).__name__, name))
        return self._get(name)

    def __setattr__(self, name, value):
        if name in ("projection", "index") or name not in self.projection._values:
            object.__setattr__(self, name, value)
        else:
            self._set(name, value)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        targets = postsynaptic_population.populations if isinstance(postsynaptic_population, common.Assembly) \
            else [postsynaptic_population]
        for target in targets:
            if not target.celltype.injectable:
                raise errors.ConnectionError("Projection onto %r: %s is a spike source, it takes no input"
                                             % (target.label, type(target.celltype).__name__))
        shared = isinstance(connector, SharedWeightsConnector)
        if shared and receptor_type is None:
            receptor_type = connector.positive_receptor_type
        super().__init__(presynaptic_population, postsynaptic_population, connector, synapse_type, source,
                         receptor_type, space, label)
        state = simulator.state
        self._chunks = []
        self._values = {}
        self._indices = None   # (pre, post) per connection on the host, once asked for
        self._pending = None
        if shared:   # the weights are stored once (storage/kernel.py)
            self._device = shared_storage(self)   # raises before registration
            state.projections.append(self)
            state.invalidate()
            return
        direct = connect.connect(self, connector)
        if direct is None:
            connector.connect(self)   # PyNN's path: _convergent_connect per post-synaptic cell, with arrays
        else:
            self._chunks.append(direct)
            del direct   # the parts are handed on, and freed as they are placed
        values, self._pending = self._collect()
        self._store(values, check=True, replace=True)   # raises before registration
        del values   # the storage takes the weights and delays from self._values and frees them
        self._device = storage_for(self)   # raises before registration
        self._device.create(self._pending)   # takes the index parts
        self._pending = None
        state.projections.append(self)
        state.invalidate()

    def _guess_receptor_type(self):
        """PyNN's (the sign of the last weight), with weights of the wrong shape named."""
        try:
            super()._guess_receptor_type()
        except (IndexError, ValueError) as exc:
            weight = self.synapse_type.parameter_space["weight"]
            raise errors.InvalidDimensionsError("Projection %r: weights of shape %s for %d x %d cells (%s)" % (
                self.label, weight.shape, self.pre.size, self.post.size, exc)) from None

    @property
    def _pre(self) -> np.ndarray:
        """Each connection's presynaptic index (into self.pre), made from the device's rows when first asked for."""
        return self._connection_indices()[0]

    @property
    def _post(self) -> np.ndarray:
        return self._connection_indices()[1]

    def _connection_indices(self) -> tuple:
        if self._pending:   # still being made (checks of the synapse type): in the order they were made
            return tuple(np.concatenate(parts) if parts else np.zeros(0, np.int64) for parts in self._pending)
        if self._indices is None:
            self._indices = self._device.indices()
        return self._indices

    # -- building connections -----------------------------------------------------------------------
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        if location_selector is not None:
            raise NotImplementedError("pyNN.cupy does not support multi-compartment models")
        index = np.int32 if max(self.pre.size, self.post.size) < 2 ** 31 else np.int64
        pre = np.asarray(presynaptic_indices).astype(index).ravel()
        post = np.full(pre.size, int(postsynaptic_index), dtype=index)
        self._chunks.append(([pre], [post], connection_parameters))

    def _collect(self) -> tuple[dict, list]:
        """The connections made: their attribute values (one array each, compact where all equal) and the lists
        of parts of their presynaptic and postsynaptic indices."""
        defaults = self.synapse_type.native_parameters
        names = list(defaults.keys())
        index = np.int32 if max(self.pre.size, self.post.size) < 2 ** 31 else np.int64
        pre = [part.astype(index, copy=False) for chunk in self._chunks for part in chunk[0]]
        post = [part.astype(index, copy=False) for chunk in self._chunks for part in chunk[1]]
        values = {name: [] for name in names}
        for chunk_pre, _, parameters in self._chunks:
            size = sum(part.size for part in chunk_pre)
            for name in names:
                value = parameters.get(name, None)
                if isinstance(value, connect.Draws):   # drawn as the device is filled (the whole-array path)
                    values[name].append(value)
                    continue
                if value is None:
                    default = defaults[name]
                    if default.shape is None:   # a default is one value (STDP's extra parameters come unshaped)
                        default.shape = (1,)
                    value = float(np.asarray(default.evaluate(simplify=True)).ravel()[0])
                value = np.asarray(value)   # floats as given (weights and delays drawn as the device holds them)
                value = value if value.dtype.kind == "f" else value.astype(float)
                values[name].append(np.broadcast_to(value, (size,)))
        self._chunks = []
        n = sum(part.size for part in pre)
        collected = {}
        for name, parts in values.items():   # one value for all connections: no array per connection
            if len(parts) == 1 and isinstance(parts[0], connect.Draws):
                collected[name] = parts[0]
                continue
            scalar = all(part.size <= 1 or part.strides[0] == 0 for part in parts) and \
                len({float(part.flat[0]) for part in parts if part.size}) <= 1
            collected[name] = np.broadcast_to(parts[0].flat[0] if n else 0.0, (n,)) if scalar and n else \
                compact(parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0))
        return collected, [pre, post]

    def _check(self, values: dict) -> None:
        """Weights finite and of the sign the receptor takes, delays on the grid within bounds: a chunk at a time
        (one value when they are all one)."""
        state = simulator.state
        max_delay = state.max_delay
        longest = np.iinfo(np.uint16).max if max_delay == "auto" else \
            min(np.iinfo(np.uint16).max, int(delay_steps(max_delay, state.dt)))
        extremes = []
        for name in ("weight", "delay"):
            array = values.get(name)
            if array is None or array.size == 0 or isinstance(array, connect.Draws):   # Draws check as they draw
                continue
            distinct = array[:1] if array.strides[0] == 0 else array
            for first in range(0, distinct.size, SORT_CHUNK):
                chunk = distinct[first:first + SORT_CHUNK]
                if name == "weight":
                    with np.errstate(over="ignore"):
                        bad = ~np.isfinite(chunk.astype(state.real))
                    if bad.any():
                        raise errors.InvalidWeightError("%s: weights must be finite in %s, got %s"
                                                        % (self.label, state.precision, float(chunk[bad][0])))
                    extremes += [chunk.min(), chunk.max()]
                    continue
                bad = ~np.isfinite(chunk)
                steps = delay_steps(np.where(bad, 0.0, chunk), state.dt)
                bad |= (steps < 1) | (steps > longest)
                if bad.any():
                    delay = chunk[bad][0]
                    if np.isfinite(delay) and delay_steps(delay, state.dt) > np.iinfo(np.uint16).max:
                        raise errors.ConnectionError("delay %g ms is longer than 65535 time steps" % delay)
                    raise errors.ConnectionError(
                        "%s: delay %g ms is out of range: delays must round to at least one time step (%g ms)%s"
                        % (self.label, delay, state.dt,
                           "" if max_delay == "auto" else " and at most to max_delay (%g ms)" % max_delay))
        if extremes:   # PyNN's sign checks hold for all the weights when they hold for the lowest and highest
            try:
                check_weights(np.array([min(extremes), max(extremes)]), self)
            except errors.ConnectionError as exc:
                raise errors.ConnectionError("%s (%s onto %r): %s; weights from %g to %g"
                                             % (self.label, self.receptor_type, self.post.label, exc, min(extremes),
                                                max(extremes))) from None

    def _store(self, values: dict, check: bool = True, replace: bool = False) -> None:
        """Validate, then commit new attribute values (and, with replace, new connections)."""
        values = dict(values)
        if check:
            self._check(values)
        values = {name: array if isinstance(array, connect.Draws) else compact(array) for name, array in values.items()}
        if replace:
            self._values = values
        else:
            self._device.check(dict(self._values, **values))
            self._values.update((name, array) for name, array in values.items() if name not in ("weight", "delay"))
            self._device.upload(values)

    def _attribute(self, name: str, read: bool = True) -> np.ndarray | None:
        """A connection attribute of every connection (weights and delays from the device)."""
        if name not in self._values and name not in ("weight", "delay"):
            raise errors.NonExistentParameterError(name, self.synapse_type.__class__.__name__,
                                                   ["weight", "delay"] + list(self._values))
        return self._device.read(name) if read else None

    # -- PyNN interface -----------------------------------------------------------------------------
    def __len__(self):
        return self._device.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [Connection(self, j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("connection index %d out of range (%d connections)" % (i, len(self)))
        return Connection(self, i)

    @property
    def connections(self):
        return (Connection(self, i) for i in range(len(self)))

    def max_delay_steps(self) -> int:
        return self._device.delay_range[1]

    def min_delay(self):
        return float(simulator.state.time_of(self._device.delay_range[0])) if len(self) else None

    def _check_names(self, call: str, names) -> None:
        known = self.synapse_type.get_parameter_names()
        for name in names:
            if name not in known:
                raise errors.NonExistentParameterError("%s(%s=...)" % (call, name), type(self.synapse_type).__name__,
                                                       sorted(known))

    def get(self, attribute_names, format, *args, **kwargs):
        """PyNN's get, with the names and the format checked first (NonExistentParameterError,
        InvalidParameterValueError)."""
        if not isinstance(attribute_names, str):
            attribute_names = list(attribute_names)   # checked here, then read by PyNN
        self._check_names("%s.get" % self.label, [attribute_names] if isinstance(attribute_names, str)
                          else attribute_names)
        if format == "kernel" and isinstance(self._connector, SharedWeightsConnector):
            if attribute_names not in ("weight", ["weight"], ("weight",)):
                raise errors.InvalidParameterValueError("%s.get(format='kernel'): the weights only" % self.label)
            return self._device.kernel()
        if format not in ("list", "array"):
            raise errors.InvalidParameterValueError("%s.get(format=%r): 'list' or 'array'%s" % (
                self.label, format, " or 'kernel'" if isinstance(self._connector, SharedWeightsConnector) else ""))
        return super().get(attribute_names, format, *args, **kwargs)

    def set(self, **attributes):
        """PyNN's set, with the names checked first and an array of the wrong shape named."""
        self._check_names("%s.set" % self.label, attributes)
        for name, value in attributes.items():   # what PyNN's parameter space fails on without naming it
            if isinstance(value, np.ndarray) and value.ndim == 0:
                attributes[name] = value = value[()]
            if value is None or isinstance(value, (complex, np.complexfloating, dict)):
                raise errors.InvalidParameterValueError(
                    "%s.set(%s=%r): expected a number, an array (one value per connected (pre, post) pair, or "
                    "(n_pre, n_post)), a RandomDistribution, or a function or expression of distance"
                    % (self.label, name, value))
        if "dendritic_delay_fraction" in attributes:
            fraction = getattr(self.synapse_type, "dendritic_delay_fraction", None)
            try:
                given = np.asarray(attributes["dendritic_delay_fraction"], dtype=float)
                same = bool(np.all((given == fraction) | np.isnan(given)))   # NaN: no connection (format="array")
            except (TypeError, ValueError):
                same = False
            if not same:
                raise errors.NoModelAvailableError(
                    "%s.set(dendritic_delay_fraction=%r): the delay convention (%r) is fixed when the projection is "
                    "made; make a new projection with another STDPMechanism" % (
                        self.label, attributes["dendritic_delay_fraction"], fraction))
        if "weight" in attributes and isinstance(self._connector, SharedWeightsConnector):
            raise errors.NoModelAvailableError("%s.set(weight=...): the weights of a %s projection are shared by its "
                                               "connections; make the connector with the new weights"
                                               % (self.label, type(self._connector).__name__))
        try:
            super().set(**attributes)
        except errors.InvalidDimensionsError as exc:
            raise shape_error("%s.set" % self.label, attributes, (self.pre.size, self.post.size), exc) from None

    def normalize_weights(self, total: float) -> None:
        """Scale the weights onto each postsynaptic cell by one factor so that they sum to `total` (uS onto
        conductance-based cells, nA onto current-based ones), on the device (pyNN.cupy's extension; the synaptic
        normalization of Diehl & Cook 2015, BindsNET's Connection.normalize). Cells whose weights sum to 0 keep
        them; plastic weights that the rounding puts a few ulps beyond [w_min, w_max] are set to the bound. Errors,
        with nothing changed: InvalidParameterValueError for a `total` that is not a finite number, for a cell whose
        weights sum to the opposite sign, and for plastic weights that would leave [w_min, w_max]; InvalidWeightError
        for weights beyond the precision's range; NoModelAvailableError for the shared weights of a convolution or
        pooled dense projection."""
        if isinstance(self._connector, SharedWeightsConnector):
            raise errors.NoModelAvailableError("%s.normalize_weights: the weights of a %s projection are shared by its "
                                               "connections" % (self.label, type(self._connector).__name__))
        if isinstance(total, bool) or not isinstance(total, (int, float, np.integer, np.floating)) \
                or not np.isfinite(float(total)):
            raise errors.InvalidParameterValueError("%s.normalize_weights(total=%r): a finite number"
                                                    % (self.label, total))
        self._device.normalize(float(total))

    def _value_list_to_array(self, attributes):
        """PyNN's conversion of values given as lists (one per connected (pre, post) pair) into arrays; it reads
        every weight for a connection mask, which set() with numbers or (n_pre, n_post) arrays does not need."""
        if any(isinstance(value, list) or (isinstance(value, np.ndarray) and value.ndim == 1)
               for value in attributes.values()):
            try:
                return super()._value_list_to_array(attributes)
            except ValueError as exc:   # NumPy's, filling the mask of connected pairs: set() names the values
                raise errors.InvalidDimensionsError(
                    "a list or 1-D array gives one value per connected (pre, post) pair, in the order of "
                    "get(format='list') (%s)" % exc) from None
        return attributes

    def _get_attributes_as_list(self, names):
        indices = self._indices or (self._device.indices() if {"presynaptic_index", "postsynaptic_index"} &
                                    set(names) else (None, None))   # made for this call, not kept
        columns = [indices[0] if name == "presynaptic_index" else indices[1] if name == "postsynaptic_index"
                   else self._attribute(name) for name in names]
        return list(zip(*[column.tolist() for column in columns]))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        """(n_pre, n_post) arrays, NaN where there is no connection; several connections of one pair reduced by
        `multiple_synapses` (PyNN's sum, min, max, first or last)."""
        operation = {"sum": np.add, "min": np.minimum, "max": np.maximum}.get(multiple_synapses)
        if operation is None and multiple_synapses not in ("first", "last"):
            raise errors.InvalidParameterValueError("%s.get(multiple_synapses=%r): one of sum, min, max, first, "
                                                    "last" % (self.label, multiple_synapses))
        values = [self._attribute(name) for name in names]
        arrays = [np.full((self.pre.size, self.post.size), np.nan) for _ in names]
        for span, pre, post in self._device.chunks():   # row-aligned: a pair's connections are in one chunk
            flat = pre.astype(np.int64) * self.post.size + post
            order = np.argsort(flat, kind="stable")
            flat = flat[order]
            starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
            for array, all_values in zip(arrays, values):
                chunk = all_values[span][order]
                if starts.size == flat.size or multiple_synapses == "first":
                    reduced = chunk[starts]
                elif multiple_synapses == "last":
                    reduced = chunk[np.r_[starts[1:], flat.size] - 1]
                else:
                    reduced = operation.reduceat(chunk, starts)
                array.flat[flat[starts]] = reduced
        return arrays

    # -- pyNN.cupy extension: recording synaptic variables (synapse_recording.py) -----------------------------
    def record(self, variables, sampling_interval=None, connections=None):
        """Record synaptic variables during the run: "weight" for every synapse type, and the state of dynamic ones
        ("u", "x", "y" of TsodyksMarkramSynapse, "u" of the stochastic ones). `sampling_interval` in ms (default
        dt), `connections`: indices into the projection's connections (default all). A pyNN.cupy extension."""
        from .synapse_recording import SynapseRecorder
        if getattr(self, "_synapse_recorder", None) is None:
            self._synapse_recorder = SynapseRecorder(self)
        self._synapse_recorder.record(variables, sampling_interval, connections)

    def get_data(self, clear=False):
        """The recorded synaptic variables: a Neo Block, one segment per trial, with one AnalogSignal per variable,
        one channel per recorded connection (array annotations presynaptic_index, postsynaptic_index). A pyNN.cupy
        extension."""
        if getattr(self, "_synapse_recorder", None) is None:
            raise errors.NothingToWriteError("%s: nothing recorded (call record() first)" % self.label)
        return self._synapse_recorder.get_data(clear)

    def _set_initial_value_array(self, variable, initial_value):
        """Projection.initialize(variable=...): a synaptic state variable per connection (a number, an array of one
        value per connection, or a RandomDistribution)."""
        base = initial_value.base_value
        if isinstance(base, RandomDistribution):
            values = np.asarray(base.next(len(self)), dtype=float)
        elif initial_value.is_homogeneous:
            values = np.full(len(self), float(np.asarray(initial_value.evaluate(simplify=True)).ravel()[0]))
        else:
            values = np.asarray(base, dtype=float).ravel()
        if values.size != len(self) or not np.isfinite(values).all():
            raise errors.InvalidParameterValueError("%s.initialize(%s=...): one finite value per connection (%d), "
                                                    "got %s" % (self.label, variable, len(self), values[:5]))
        self._device.initialize(variable, values)

    def _set_attributes(self, parameter_space):
        parameter_space.shape = (self.pre.size, self.post.size)
        updates = {}
        for name, lazy in parameter_space.items():
            self._attribute(name, read=False)
            base = lazy.base_value
            if lazy.is_homogeneous:
                updates[name] = np.full(len(self), float(lazy.evaluate(simplify=True)))
            elif isinstance(base, RandomDistribution) and not lazy.operations:
                updates[name] = np.asarray(base.next(len(self)), dtype=float)
            else:
                array = np.asarray(lazy.evaluate(simplify=False), dtype=float)
                updates[name] = np.empty(len(self))
                for span, pre, post in self._device.chunks():
                    updates[name][span] = array[pre, post]
        self._store(updates, check=True)
