"""Shared weights: the kernel of a ConvolutionConnector projection, or the dense weights of a PoolDenseConnector
one, stored once on the device (not a synapse per connection) and propagated by cuda/convolution.cu. The
connections are implied by the shapes; they are enumerated on the host only when asked for (get, save,
indices), a block of presynaptic cells at a time, in presynaptic order."""
from __future__ import annotations

import numpy as np
from pyNN import errors

from .. import simulator
from ..convolution import ConvolutionConnector, Convolution, KernelSTDP, grid_shape, map_shape
from ..standardmodels.synapses import StaticSynapse
from ..timegrid import FOREVER, delay_steps, grid_steps
from .layout import SORT_CHUNK

__all__ = ["SharedKernel", "PooledDense", "shared_storage"]


def shared_storage(projection):
    """The storage of a projection made by a ConvolutionConnector or a PoolDenseConnector (checked here: raises
    before the projection is registered)."""
    cls = SharedKernel if isinstance(projection._connector, ConvolutionConnector) else PooledDense
    return cls(projection)


class _SharedWeights:
    """What both strategies share: the checks, one delay, the connections enumerated from `_pairs`."""
    recordable: dict = {}   # Projection.record(): nothing yet
    blocks: tuple = ()

    def __init__(self, projection):
        self.projection = projection
        connector, post, name = projection._connector, projection.post, type(projection._connector).__name__
        if type(projection.synapse_type) is not StaticSynapse and not isinstance(projection.synapse_type, Convolution) \
                or isinstance(projection.synapse_type, KernelSTDP) and not isinstance(connector, ConvolutionConnector):
            raise errors.NoModelAvailableError(
                "%s: pyNN.cupy's %s takes the synapse types Convolution, PoolDense%s or StaticSynapse, got %s"
                % (projection.label, name, ", KernelSTDP" if isinstance(connector, ConvolutionConnector) else "",
                   type(projection.synapse_type).__name__))
        for receptor in (connector.positive_receptor_type, connector.negative_receptor_type):
            if receptor not in post.receptor_types:
                raise errors.ConnectionError("%s: %s's receptor type %r is not one of %r's: %s"
                                             % (projection.label, name, receptor, post.label, post.receptor_types))
        self.pre_maps, *pre_shape = self._maps(projection.pre, "%s (%s)" % (projection.label, name))
        self.pre_shape = tuple(pre_shape)
        if getattr(projection.post, "parent", None) is not None or not hasattr(post, "_group"):
            raise errors.InvalidDimensionsError("%s: %s needs a Population on the postsynaptic side, got %r"
                                                % (projection.label, name, post.label))
        state = simulator.state
        delay = self._one_value("delay", errors.ConnectionError)
        projection._check({"delay": np.array([delay])})
        self.delay_range = (int(delay_steps(delay, state.dt)),) * 2
        self.weights = self._host_weights()
        with np.errstate(over="ignore"):
            if not np.isfinite(self.weights.astype(state.real)).all():
                raise errors.InvalidWeightError("%s: weights must be finite in %s" % (projection.label, state.precision))
        self.size = sum(pre.size for _, pre, _ in self.chunks())
        # the synapse type's other parameters: one value each, held as such per connection for get()
        rule = {name: self._one_value(name, errors.InvalidParameterValueError)
                for name in projection.synapse_type.get_parameter_names() if name not in ("weight", "delay")}
        self.check(rule)
        projection._values.update((name, np.broadcast_to(value, (self.size,))) for name, value in rule.items())
        self.device_weights = state.device_array(self.weights.ravel(), state.real)

    def _maps(self, population, what: str) -> tuple[int, int, int]:
        """(maps, rows, columns) of a population; sPyNNaker's connectors take one map, a Grid2D population."""
        return (1,) + grid_shape(population, what)

    def _one_value(self, name: str, error: type) -> float:
        """A parameter of the synapse type that takes one value for all the connections."""
        value = self.projection.synapse_type.native_parameters[name]
        given = value.base_value
        try:
            value.shape = (1,)
            if not value.is_homogeneous:
                raise ValueError
            number = np.asarray(value.evaluate(simplify=True)).ravel()[0]
            if isinstance(given, (bool, np.bool_, str)) or not isinstance(number, (int, float, np.number)):
                raise ValueError
            return float(number)
        except (ValueError, TypeError):
            raise error("%s: %s takes one number as %s for all its connections, got %r"
                        % (self.projection.label, type(self.projection._connector).__name__, name,
                           given)) from None

    # -- the connections ------------------------------------------------------------------------------
    def _pairs(self, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pre, post, index into the flat weights) of the connections of presynaptic cells `pre`, pre-major."""
        raise NotImplementedError

    def _per_cell(self) -> int:
        raise NotImplementedError

    def _enumerate(self):
        step = max(1, SORT_CHUNK // max(1, self._per_cell()))
        first = 0
        for start in range(0, self.projection.pre.size, step):
            pre, post, entry = self._pairs(np.arange(start, min(start + step, self.projection.pre.size)))
            yield slice(first, first + pre.size), pre, post, entry
            first += pre.size

    def chunks(self):
        """(range of connection indices, presynaptic and postsynaptic indices), a block of cells at a time."""
        for span, pre, post, _ in self._enumerate():
            yield span, pre, post

    def indices(self) -> tuple[np.ndarray, np.ndarray]:
        parts = list(self.chunks())
        return tuple(np.concatenate([part[k] for part in parts]) if parts else np.zeros(0, np.int64)
                     for k in (1, 2))

    def read(self, name: str) -> np.ndarray:
        """Each connection's weight (the shared weight it uses, signed, as the device holds it), delay or rule
        parameter."""
        from ..projections import as_stored
        state = simulator.state
        if name == "delay":
            return np.full(self.size, float(state.time_of(self.delay_range[0])))
        if name != "weight":
            return self.projection._values[name]
        weights = as_stored(state.backend.to_host(self.device_weights), state.real)
        return np.concatenate([weights[entry] for _, _, _, entry in self._enumerate()] or [np.zeros(0)])

    def read_at(self, name: str, index: int) -> float:
        return float(self.read(name)[index])

    def kernel(self) -> np.ndarray:
        """The shared weights as the device holds them (Projection.get(..., format="kernel"))."""
        from ..projections import as_stored
        state = simulator.state
        return as_stored(state.backend.to_host(self.device_weights), state.real).reshape(self.weights.shape)

    # -- changes ------------------------------------------------------------------------------------------
    def check(self, values: dict) -> None:
        """The synapse type's other parameters (KernelSTDP's rule): one value each."""
        for name, array in values.items():
            if name not in ("weight", "delay") and np.unique(np.asarray(array, dtype=float)).size > 1:
                raise errors.InvalidParameterValueError("%s: %s takes one value for all connections"
                                                        % (self.projection.label, name))

    def upload(self, values: dict) -> None:
        """set(delay=...) and the rule's parameters (weights are refused by Projection.set)."""
        if set(values) - {"weight", "delay"}:
            simulator.state.invalidate()   # the launches take them as arguments
        if "delay" in values:
            steps = np.unique(delay_steps(np.asarray(values["delay"]), simulator.state.dt))
            if steps.size > 1:
                raise errors.ConnectionError("%s: %s has one delay for all its connections"
                                             % (self.projection.label, type(self.projection._connector).__name__))
            if steps.size:
                self.delay_range = (int(steps[0]),) * 2
                simulator.state.invalidate()

    def initialize(self, variable: str, values: np.ndarray) -> None:
        raise errors.NonExistentParameterError(variable, type(self.projection.synapse_type).__name__, [])

    def reset(self) -> None:
        """Static shared weights keep no state."""

    def build(self) -> None:
        """Nothing to place: the launch reads the targets' places in the input ring when the plan is made."""

    def device_bytes(self) -> int:
        return int(self.device_weights.nbytes)

    def units(self, variable: str) -> str:
        return "uS" if self.projection.post.conductance_based else "nA"

    def _targets(self) -> dict:
        state, connector, post = simulator.state, self.projection._connector, self.projection.post
        ring = post._group.batch.device["ring"]
        spikes = self.projection.pre._group.spike_list()
        return dict(spikes, clock=state._clock, L=np.int32(state._ring_slots), slot_size=np.int32(ring[0].size),
                    ring=ring, delay=np.int32(self.delay_range[0]), pre_cols=np.int32(self.pre_shape[1]),
                    positive_target=np.int32(post._group.input_target(connector.positive_receptor_type, 0)),
                    negative_target=np.int32(post._group.input_target(connector.negative_receptor_type, 0)),
                    negative_sign=state.real(-1.0 if post.conductance_based else 1.0))


class SharedKernel(_SharedWeights):
    """A ConvolutionConnector's kernel (rows x columns values, or out maps x in maps x rows x columns), shared by all
    the connections."""

    def __init__(self, projection):
        connector, what = projection._connector, "%s (ConvolutionConnector)" % projection.label
        self.maps = connector.kernel_weights.ndim == 4
        self.post_maps, *post_shape = self._maps(projection.post, what)
        self.post_shape = tuple(post_shape)
        super().__init__(projection)
        expected = tuple(int(x) for x in connector.get_post_shape(self.pre_shape))
        if expected != self.post_shape:
            raise errors.InvalidDimensionsError(
                "%s: a presynaptic population of shape %s (rows, columns) and this ConvolutionConnector give a "
                "postsynaptic shape %s, but %r is %s" % (projection.label, self.pre_shape, expected,
                                                          projection.post.label, self.post_shape))
        if self.maps and connector.kernel_weights.shape[:2] != (self.post_maps, self.pre_maps):
            raise errors.InvalidDimensionsError(
                "%s: a kernel of %d x %d maps (out, in) between %r (%d maps) and %r (%d maps)"
                % (projection.label, *connector.kernel_weights.shape[:2], projection.pre.label, self.pre_maps,
                   projection.post.label, self.post_maps))

    def _maps(self, population, what):
        return map_shape(population, what) if self.maps else super()._maps(population, what)

    def _host_weights(self) -> np.ndarray:
        return np.array(self.projection._connector.kernel_weights, dtype=float)

    @property
    def plastic(self) -> bool:
        return isinstance(self.projection.synapse_type, KernelSTDP)

    def check(self, values: dict) -> None:
        super().check(values)
        if not self.plastic:
            return
        label, rule = self.projection.label, dict(self._rule(), **{name: float(np.asarray(value).ravel()[0])
                                                                  for name, value in values.items()
                                                                  if name in KernelSTDP.rule_parameters})
        if self.projection._connector.pool_shape is not None or self.projection._connector.pool_stride is not None:
            raise errors.NoModelAvailableError("%s: KernelSTDP learns kernels without pooling" % label)
        for name in ("a_plus", "a_minus"):   # above 1, the soft bounds no longer keep weights in [w_min, w_max]
            if not 0 <= rule[name] <= 1:
                raise errors.InvalidParameterValueError("%s: KernelSTDP %s=%r: a rate in [0, 1]"
                                                        % (label, name, rule[name]))
        if not (np.isfinite(rule["w_min"]) and np.isfinite(rule["w_max"]) and rule["w_min"] < rule["w_max"]):
            raise errors.InvalidParameterValueError("%s: KernelSTDP needs finite w_min < w_max, got %r and %r"
                                                    % (label, rule["w_min"], rule["w_max"]))
        if not rule["window"] > 0:
            raise errors.InvalidParameterValueError("%s: KernelSTDP window=%r: a time > 0 ms" % (label, rule["window"]))
        grid_steps(rule["window"], simulator.state.dt, "%s: KernelSTDP window" % label)
        winners, radius = rule["winners"], rule["inhibition_radius"]
        if not (winners == np.inf or winners >= 1 and winners == int(winners) and winners < 2 ** 31):
            raise errors.InvalidParameterValueError("%s: KernelSTDP winners=%r: a whole number >= 1, or inf (one "
                                                    "per map)" % (label, winners))
        if not (0 <= radius < 2 ** 31 and radius == int(radius)) or radius > 0 and winners == np.inf:
            raise errors.InvalidParameterValueError("%s: KernelSTDP inhibition_radius=%r: a whole number of cells "
                                                    ">= 0, with a finite number of winners (got winners=%r)"
                                                    % (label, radius, winners))
        weights = self.kernel() if hasattr(self, "device_weights") else self.weights
        outside = (weights < rule["w_min"]) | (weights > rule["w_max"])
        if outside.any():
            raise errors.InvalidParameterValueError("%s: KernelSTDP weights must lie in [w_min, w_max] = [%g, %g], "
                                                    "got %g" % (label, rule["w_min"], rule["w_max"], weights[outside][0]))

    def _rule(self) -> dict:
        values = self.projection._values
        return {name: float(values[name][0]) for name in KernelSTDP.rule_parameters if name in values}

    def upload(self, values: dict) -> None:
        """As the base; a new window forgets the winners (they are kept by window number)."""
        super().upload(values)
        if "window" in values and hasattr(self, "winner") and self._window_steps() != self.window_steps:
            simulator.state.write(self.winner, np.full(self.winner.size, -1, np.int64))

    def _window_steps(self) -> np.int64:
        state = simulator.state
        window = int(grid_steps(self._rule()["window"], state.dt, "KernelSTDP window"))
        return np.int64(FOREVER if window >= FOREVER else window)

    def reset(self) -> None:
        """The learned kernel stays; the spikes and winners of the trial are forgotten."""
        if self.plastic and hasattr(self, "last_spike"):
            state = simulator.state
            state.write(self.last_spike, np.full(self.last_spike.size, -1, np.int64))
            state.write(self.winner, np.full(self.winner.size, -1, np.int64))

    def _per_cell(self) -> int:
        return self.weights.size

    def _pairs(self, pre):
        connector, (rows, cols) = self.projection._connector, self.weights.shape[-2:]
        pre_map, post_map = int(np.prod(self.pre_shape)), int(np.prod(self.post_shape))
        in_map, cell = np.divmod(pre, pre_map)
        i_row, i_col = np.divmod(np.arange(rows * cols), cols)
        pool_rows, pool_cols = connector.pool_stride if connector.pool_stride is not None else (1, 1)
        row = (cell // self.pre_shape[1] // pool_rows)[:, None] + connector.padding_shape[0] - i_row
        col = (cell % self.pre_shape[1] // pool_cols)[:, None] + connector.padding_shape[1] - i_col
        stride_rows, stride_cols = connector.strides
        reach = (row >= 0) & (col >= 0) & (row % stride_rows == 0) & (col % stride_cols == 0) & \
            (row // stride_rows < self.post_shape[0]) & (col // stride_cols < self.post_shape[1])
        # pre-major, then postsynaptic map, then kernel position
        index, out, position = np.nonzero(np.broadcast_to(reach[:, None, :], (pre.size, self.post_maps, rows * cols)))
        q = row[index, position] // stride_rows * self.post_shape[1] + col[index, position] // stride_cols
        flipped = (rows - 1 - i_row[position]) * cols + (cols - 1 - i_col[position])
        return pre[index], out * post_map + q, (out * self.pre_maps + in_map[index]) * (rows * cols) + flipped

    def launches(self) -> list:
        state, connector = simulator.state, self.projection._connector
        pool = connector.pool_stride if connector.pool_stride is not None else (1, 1)
        arguments = dict(self._targets(), pool_stride_rows=np.int32(pool[0]), pool_stride_cols=np.int32(pool[1]),
                         padding_rows=np.int32(connector.padding_shape[0]),
                         padding_cols=np.int32(connector.padding_shape[1]),
                         stride_rows=np.int32(connector.strides[0]), stride_cols=np.int32(connector.strides[1]),
                         kernel_rows=np.int32(self.weights.shape[-2]), kernel_cols=np.int32(self.weights.shape[-1]),
                         kernel=self.device_weights, post_rows=np.int32(self.post_shape[0]),
                         post_cols=np.int32(self.post_shape[1]), in_maps=np.int32(self.pre_maps),
                         out_maps=np.int32(self.post_maps), pre_map=np.int32(np.prod(self.pre_shape)),
                         post_map=np.int32(np.prod(self.post_shape)))
        per_spike = self.post_maps * self.weights.shape[-2] * self.weights.shape[-1]
        launches = [state.launch("propagate_convolution", arguments["spike_ids"].size * per_spike, arguments)]
        return launches + (self._learning(arguments) if self.plastic else [])

    def _learning(self, propagation: dict) -> list:
        state, rule = simulator.state, self._rule()
        if not hasattr(self, "last_spike"):
            self.last_spike = state.device_array(np.full(self.projection.pre.size, -1, np.int64), np.int64)
            self.winner = state.device_array(np.full(3 * self.post_maps + 1, -1, np.int64), np.int64)
        window = self.window_steps = self._window_steps()
        limit = np.int32(-1 if rule["winners"] == np.inf else rule["winners"])
        post = self.projection.post._group.spike_list()
        pre = {name: propagation[name] for name in ("spike_ids", "spike_count", "spike_capacity")}
        return [state.launch("kernel_stdp_pre", pre["spike_ids"].size,
                             dict(pre, clock=state._clock, last_spike=self.last_spike)),
                state.launch("kernel_stdp_winner", self.post_maps if limit < 0 else 1, dict(
                    clock=state._clock, post_spike_ids=post["spike_ids"], post_spike_count=post["spike_count"],
                    post_spike_capacity=post["spike_capacity"], window_steps=window, out_maps=propagation["out_maps"],
                    post_map=propagation["post_map"], post_cols=propagation["post_cols"], max_winners=limit,
                    radius=np.int32(rule["inhibition_radius"]), winner=self.winner)),
                state.launch("kernel_stdp_update", self.weights.size, dict(
                    propagation, winner=self.winner, window_steps=window, last_spike=self.last_spike,
                    pre_rows=np.int32(self.pre_shape[0]), a_plus=state.real(rule["a_plus"]),
                    a_minus=state.real(rule["a_minus"]), w_min=state.real(rule["w_min"]),
                    w_max=state.real(rule["w_max"])))]

    def device_bytes(self) -> int:
        return super().device_bytes() + sum(int(getattr(self, name).nbytes) for name in ("last_spike", "winner")
                                            if hasattr(self, name))


class PooledDense(_SharedWeights):
    """A PoolDenseConnector's weights, (maps * pooled rows * pooled columns) x postsynaptic cells values."""

    def _maps(self, population, what):
        return map_shape(population, what)

    def _host_weights(self) -> np.ndarray:
        connector = self.projection._connector
        self.pooled = tuple(int(x) for x in connector.get_post_pool_shape(self.pre_shape, connector.pool_shape,
                                                                           connector.pool_stride))
        try:
            return connector.dense_weights(self.pre_shape, self.projection.post.size, self.pre_maps)
        except errors.InvalidDimensionsError as exc:
            raise errors.InvalidDimensionsError("%s: %s" % (self.projection.label, exc)) from None

    def _per_cell(self) -> int:
        return self.projection.post.size

    def _pairs(self, pre):
        connector, n_post = self.projection._connector, self.projection.post.size
        pool = connector.pool_stride if connector.pool_stride is not None else (1, 1)
        in_map, cell = np.divmod(pre, int(np.prod(self.pre_shape)))
        row, col = cell // self.pre_shape[1] // pool[0], cell % self.pre_shape[1] // pool[1]
        inside = (row < self.pooled[0]) & (col < self.pooled[1])
        pre, position = pre[inside], (in_map[inside] * self.pooled[0] + row[inside]) * self.pooled[1] + col[inside]
        post = np.tile(np.arange(n_post), pre.size)
        return np.repeat(pre, n_post), post, np.repeat(position, n_post) * n_post + post

    def launches(self) -> list:
        state, connector = simulator.state, self.projection._connector
        pool = connector.pool_stride if connector.pool_stride is not None else (1, 1)
        n_post = self.projection.post.size
        arguments = dict(self._targets(), pool_stride_rows=np.int32(pool[0]), pool_stride_cols=np.int32(pool[1]),
                         pooled_rows=np.int32(self.pooled[0]), pooled_cols=np.int32(self.pooled[1]),
                         pre_map=np.int32(np.prod(self.pre_shape)), weight=self.device_weights,
                         n_post=np.int32(n_post))
        return [state.launch("propagate_pool_dense", arguments["spike_ids"].size * n_post, arguments)]
