"""Connectors whose weights are shared between connections, with sPyNNaker's constructors and shape rules, so that
sPyNNaker's convolutional scripts run after the one-line import change: `ConvolutionConnector` (a kernel slid over
a 2-D population) and `PoolDenseConnector` (average pooling, then all to all), with their synapse types
`Convolution` and `PoolDense`. The weights are stored once on the device and propagated by cuda/convolution.cu
(storage/kernel.py).

Populations are 2-D through a `Grid2D` structure, `Population(rows * columns, celltype,
structure=Grid2D(aspect_ratio=columns / rows))`; their cells are in raster order, index = row * columns + column
(sPyNNaker's order, and numpy's `image.flatten()`; PyNN's Grid2D positions number cells column by column).

Several feature maps in one population (pyNN.cupy's extension, with a kernel of shape (out maps, in maps, rows,
columns)): `Population(maps * rows * columns, celltype, structure=Grid3D(aspect_ratioXY=columns / rows,
aspect_ratioXZ=columns / maps))`, maps one after the other, index = (map * rows + row) * columns + column (numpy's
`maps.flatten()` of a (maps, rows, columns) array); a Grid2D population is one map."""
from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real

import numpy as np
from pyNN import connectors, errors
from pyNN.random import RandomDistribution
from pyNN.space import Grid2D, Grid3D

from pyNN.standardmodels import build_translations

from .standardmodels.synapses import StaticSynapse

__all__ = ["ConvolutionConnector", "PoolDenseConnector", "Convolution", "PoolDense", "KernelSTDP",
           "SharedWeightsConnector", "grid_shape", "map_shape"]


def grid_shape(population, what: str) -> tuple[int, int]:
    """(rows, columns) of a population with a Grid2D structure; InvalidDimensionsError otherwise."""
    structure = getattr(population, "structure", None)
    if not isinstance(structure, Grid2D) or not hasattr(population, "all_cells") or \
            getattr(population, "parent", None) is not None:
        raise errors.InvalidDimensionsError(
            "%s: %r must be a Population with a Grid2D structure, Population(rows * columns, celltype, "
            "structure=Grid2D(aspect_ratio=columns / rows)), as sPyNNaker asks" % (what, population.label))
    # PyNN's Grid2D.calculate_size refuses some exact shapes (25 x 7) for rounding: the nearest whole grid
    columns = max(1, int(round(np.sqrt(population.size * structure.aspect_ratio))))
    rows = population.size // columns
    if rows * columns != population.size or not np.isclose(columns / rows, structure.aspect_ratio, rtol=1e-9):
        raise errors.InvalidDimensionsError("%s: %d cells of %r do not make a grid of aspect ratio %g"
                                            % (what, population.size, population.label, structure.aspect_ratio))
    return int(rows), int(columns)


def map_shape(population, what: str) -> tuple[int, int, int]:
    """(maps, rows, columns) of a population with a Grid3D structure (x columns, y rows, z maps), or (1, rows,
    columns) with a Grid2D one; InvalidDimensionsError otherwise."""
    structure = getattr(population, "structure", None)
    if not isinstance(structure, Grid3D):
        return (1,) + grid_shape(population, what)
    if not hasattr(population, "all_cells") or getattr(population, "parent", None) is not None:
        raise errors.InvalidDimensionsError("%s: %r must be a Population" % (what, population.label))
    a, b = structure.aspect_ratios
    columns = max(1, int(round((population.size * a * b) ** (1 / 3))))
    rows, maps = max(1, int(round(columns / a))), max(1, int(round(columns / b)))
    if maps * rows * columns != population.size or not np.allclose((columns / rows, columns / maps), (a, b),
                                                                    rtol=1e-9):
        raise errors.InvalidDimensionsError(
            "%s: %d cells of %r do not make maps x rows x columns with Grid3D(aspect_ratioXY=%g, aspect_ratioXZ=%g): "
            "use aspect_ratioXY=columns / rows, aspect_ratioXZ=columns / maps" % (what, population.size,
                                                                                 population.label, a, b))
    return int(maps), int(rows), int(columns)


def _pair(value, name: str, owner: str, minimum: int) -> np.ndarray | None:
    """An int or (rows, columns) as a pair of ints >= minimum (None stays None)."""
    if value is None:
        return None
    pair = [value, value] if np.isscalar(value) else list(value)
    if len(pair) == 1:
        pair = [pair[0], 1]
    if len(pair) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= minimum
                                 for v in pair):
        raise errors.InvalidParameterValueError("%s(%s=%r): an int >= %d or a pair of them (rows, columns)"
                                                % (owner, name, value, minimum))
    return np.array(pair, dtype=int)


def _finite(weights: np.ndarray, owner: str) -> np.ndarray:
    if weights.size == 0 or not np.isfinite(weights).all():
        raise errors.InvalidParameterValueError("%s: weights must be finite numbers, got %r" % (owner, weights))
    return weights


class SharedWeightsConnector(connectors.Connector):
    """Base of the connectors whose Projection stores its weights once (storage/kernel.py)."""
    parameter_names = ("positive_receptor_type", "negative_receptor_type")

    def __init__(self, positive_receptor_type: str, negative_receptor_type: str, safe=True, verbose=False,
                 callback=None):
        super().__init__(safe=safe, callback=callback)
        self.positive_receptor_type, self.negative_receptor_type = positive_receptor_type, negative_receptor_type

    def connect(self, projection):
        raise errors.ConnectionError("%s builds its connections on the device (pyNN.cupy's Projection)"
                                     % type(self).__name__)


class ConvolutionConnector(SharedWeightsConnector):
    """Each postsynaptic cell (row, column) of a 2-D population receives from the presynaptic cells under a
    kernel of weights shared by all of them (sPyNNaker's ConvolutionConnector: the same arguments, shapes and
    arithmetic).

    `kernel_weights`: a 2-D array (list of rows), or a number, a flat list or a RandomDistribution with
    `kernel_shape` (an int for a square kernel, or (rows, columns)); or (pyNN.cupy's extension) a 4-D array
    (out maps, in maps, rows, columns) between populations of several maps (Grid3D, see the module), map o of the
    postsynaptic population summing the convolutions of every presynaptic map i with kernel [o, i]. `strides` (default 1), `padding` (zero
    cells added around the presynaptic image: an int or (rows, columns); True for half the kernel; default none),
    `pool_shape` and `pool_stride` (average pooling before the kernel: presynaptic coordinates are divided by the
    pool stride, default the pool shape, and the weights by the pool area). Positive weights go to
    `positive_receptor_type`, negative ones to `negative_receptor_type`.

    As sPyNNaker computes it, postsynaptic cell q receives presynaptic cell p (coordinates per dimension, p
    pooled and padded) through kernel entry K - 1 - (p - q * stride) when 0 <= p - q * stride < K: the kernel is
    flipped (a convolution as scipy.signal.convolve2d's, not the cross-correlation of ML packages). The
    postsynaptic shape is `get_post_shape(pre_shape)`. Errors: InvalidParameterValueError for bad arguments,
    InvalidDimensionsError for populations of the wrong shape."""
    parameter_names = SharedWeightsConnector.parameter_names + ("strides", "padding_shape", "pool_shape", "pool_stride")

    def __init__(self, kernel_weights, kernel_shape=None, strides=None, padding=None, pool_shape=None,
                 pool_stride=None, positive_receptor_type: str = "excitatory",
                 negative_receptor_type: str = "inhibitory", safe=True, verbose=False, callback=None):
        super().__init__(positive_receptor_type, negative_receptor_type, safe, verbose, callback)
        name = type(self).__name__
        self.kernel_weights = _finite(self._kernel(kernel_weights, kernel_shape), name)
        self.strides = _pair(1 if strides is None else strides, "strides", name, 1)
        if padding is True:
            self.padding_shape = np.array(self.kernel_weights.shape[-2:]) // 2
        elif padding is None or padding is False:
            self.padding_shape = np.zeros(2, dtype=int)
        else:
            self.padding_shape = _pair(padding, "padding", name, 0)
        self.pool_shape = _pair(pool_shape, "pool_shape", name, 1)
        self.pool_stride = _pair(pool_stride, "pool_stride", name, 1)
        if self.pool_stride is None:
            self.pool_stride = self.pool_shape
        if self.pool_shape is not None:
            self.kernel_weights = self.kernel_weights / np.prod(self.pool_shape)

    def _kernel(self, weights, shape) -> np.ndarray:
        name = type(self).__name__
        if isinstance(weights, RandomDistribution) or isinstance(weights, Real) and not isinstance(weights, bool):
            if shape is None:
                raise errors.InvalidParameterValueError("%s: kernel_shape is needed with kernel_weights=%r"
                                                        % (name, weights))
            shape = tuple(int(x) for x in _pair(shape, "kernel_shape", name, 1))
            if isinstance(weights, RandomDistribution):
                return np.asarray(weights.next(int(np.prod(shape))), dtype=float).reshape(shape)
            return np.full(shape, float(weights))
        if not isinstance(weights, Iterable) or isinstance(weights, str):
            raise errors.InvalidParameterValueError("%s: kernel_weights=%r: a 2-D array, or a number, a list or "
                                                    "a RandomDistribution with kernel_shape" % (name, weights))
        try:
            kernel = np.array(weights, dtype=float)
        except (TypeError, ValueError):
            raise errors.InvalidParameterValueError("%s: kernel_weights must be a 2-D array with rows of one "
                                                    "length, got %r" % (name, weights)) from None
        if shape is not None:
            shape = tuple(int(x) for x in _pair(shape, "kernel_shape", name, 1))
        if kernel.ndim == 1 and shape is not None:
            if kernel.size != np.prod(shape):
                raise errors.InvalidParameterValueError("%s: %d kernel weights for kernel_shape %s"
                                                        % (name, kernel.size, shape))
            kernel = kernel.reshape(shape)
        if kernel.ndim not in (2, 4) or kernel.size == 0:
            raise errors.InvalidParameterValueError("%s: kernel_weights must be 2-D (rows, columns), or 4-D (out "
                                                    "maps, in maps, rows, columns), got shape %s" % (name, kernel.shape))
        if shape is not None and shape != kernel.shape[-2:]:
            raise errors.InvalidParameterValueError("%s: kernel_shape %r does not match kernel_weights of shape %s"
                                                    % (name, shape, kernel.shape))
        return kernel

    def get_post_shape(self, shape) -> np.ndarray:
        """The (rows, columns) of the postsynaptic population for a presynaptic one of `shape` (rows, columns)."""
        shape = np.array(shape, dtype=int)
        if self.pool_shape is not None:
            shape = (shape - (self.pool_shape - 1)) // self.pool_stride + 1
        post = shape - np.array(self.kernel_weights.shape[-2:]) + 2 * self.padding_shape
        return np.clip(post // self.strides + 1, 1, None).astype(int)


class PoolDenseConnector(SharedWeightsConnector):
    """Average pooling of a 2-D presynaptic population, then every pooled position to every postsynaptic cell
    with its own weight (sPyNNaker's PoolDenseConnector: the same arguments and shapes).

    `weights`: a number, a RandomDistribution, or an array of pooled rows x pooled columns x postsynaptic cells
    values (any shape with that many; flat index (row * pooled_columns + column) * n_post + post, the order
    sPyNNaker's machine code reads). `pool_shape`, `pool_stride` (default the pool shape): presynaptic coordinates
    are divided by the pool stride, and the weights by the pool area; cells pooled outside the pooled shape
    connect to nothing. From a population of several maps (Grid3D, see the module; pyNN.cupy's extension), each
    map is pooled alike and the weights are maps x pooled rows x pooled columns x postsynaptic cells (flat index
    ((map * pooled_rows + row) * pooled_columns + column) * n_post + post: numpy's order of a (maps, pooled rows,
    pooled columns, n_post) array)."""
    parameter_names = SharedWeightsConnector.parameter_names + ("pool_shape", "pool_stride")

    def __init__(self, weights, pool_shape=None, pool_stride=None, positive_receptor_type: str = "excitatory",
                 negative_receptor_type: str = "inhibitory", safe=True, verbose=False, callback=None):
        super().__init__(positive_receptor_type, negative_receptor_type, safe, verbose, callback)
        name = type(self).__name__
        if isinstance(weights, RandomDistribution) or isinstance(weights, Real) and not isinstance(weights, bool):
            self.weights = weights
        else:
            try:
                array = np.array(weights, dtype=float)
            except (TypeError, ValueError):
                raise errors.InvalidParameterValueError("%s: weights=%r: a number, a RandomDistribution or an "
                                                        "array" % (name, weights)) from None
            self.weights = _finite(array, name)
        self.pool_shape = _pair(pool_shape, "pool_shape", name, 1)
        self.pool_stride = _pair(pool_stride, "pool_stride", name, 1)
        if self.pool_stride is None:
            self.pool_stride = self.pool_shape

    @staticmethod
    def get_post_pool_shape(pre_shape, pool_shape=None, pool_stride=None) -> np.ndarray:
        """The pooled shape of a presynaptic population of `pre_shape` (rows, columns)."""
        shape = np.array(pre_shape, dtype=int)
        pool_shape = _pair(pool_shape, "pool_shape", "PoolDenseConnector", 1)
        pool_stride = _pair(pool_stride, "pool_stride", "PoolDenseConnector", 1)
        if pool_shape is None:
            return shape
        return (shape - (pool_shape - 1)) // (pool_shape if pool_stride is None else pool_stride) + 1

    def dense_weights(self, pre_shape, n_post: int, maps: int = 1) -> np.ndarray:
        """The weights, divided by the pool area, as (maps * pooled rows * pooled columns, n_post)."""
        pooled = tuple(int(x) for x in self.get_post_pool_shape(pre_shape, self.pool_shape, self.pool_stride))
        if min(pooled) < 1:
            raise errors.InvalidDimensionsError("PoolDenseConnector: pool_shape %s is larger than the presynaptic "
                                                "map, %s (rows, columns)" % (tuple(int(x) for x in self.pool_shape),
                                                                             tuple(int(x) for x in pre_shape)))
        n = maps * int(np.prod(pooled)) * n_post
        if isinstance(self.weights, RandomDistribution):
            values = np.asarray(self.weights.next(n), dtype=float)
        elif isinstance(self.weights, np.ndarray):
            if self.weights.size != n:
                raise errors.InvalidDimensionsError(
                    "PoolDenseConnector: a presynaptic population of %s%s pooled to %s and %d postsynaptic cells "
                    "need %d weights, got %d" % ("%d maps of " % maps if maps > 1 else "shape ",
                                                 tuple(int(x) for x in pre_shape), pooled, n_post, n,
                                                 self.weights.size))
            values = self.weights
        else:
            values = np.full(n, float(self.weights))
        area = int(np.prod(self.pool_shape)) if self.pool_shape is not None else 1
        return _finite(values.astype(float).reshape(-1, n_post) / area, "PoolDenseConnector")


class Convolution(StaticSynapse):
    """The synapse type of ConvolutionConnector projections (sPyNNaker's): its one delay (default min_delay, one
    time step unless set); the weights come from the connector."""

    def __init__(self, delay=None):
        super().__init__(delay=delay)


class PoolDense(Convolution):
    """The synapse type of PoolDenseConnector projections (sPyNNaker's): its one delay; the weights come from the
    connector."""


class KernelSTDP(Convolution):
    """Plastic shared kernels for ConvolutionConnector projections (pyNN.cupy's extension; PyNN issue #493): the
    spike-timing rule of Kheradpisheh et al. (2018), Neural Networks 99:56-67, eq. 3, with one winner per feature
    map, or a few across the maps, run on the device (cuda/convolution.cu).

    In each window of `window` ms (window k holds the spikes made at times in (k window, (k + 1) window]; default:
    one window, the whole trial until reset()), the first spike of each postsynaptic map (the lowest index among
    the map's cells firing in the earliest step) wins, and the map's kernel learns at the winner's place only: an
    entry whose presynaptic cell fired in the window at or before the winner's spike gains
    a_plus * (w - w_min) * (w_max - w) / (w_max - w_min), every other entry (its cell silent in the window, or
    firing later) loses a_minus times the same (a_plus w (1 - w) for weights in [0, 1], as the paper; entries over
    the padding do not change).

    `winners` (default inf: every map learns at its first spike) limits the winners of a window across the maps,
    as the paper's competition (SpykeTorch's get_k_winners; its MNIST network takes 5 in the first layer, 8 in the
    second): spikes are taken in time order, then by index, and one wins if its map has no winner yet in the
    window and it lies more than `inhibition_radius` cells (in rows or columns; default 0: not at an earlier
    winner's place) from every earlier winner of the window, in any map; the window's first `winners` such spikes
    win. The radius needs a finite `winners`.

    The update follows the step's propagation: the winner's own step propagates with the weights before it.
    Several projections onto one population (e.g. on- and off-centre inputs) find the same winners when they have
    the same window, winners and inhibition_radius. Weights must lie in [w_min, w_max], and the rates in [0, 1]
    (which keeps them there); no pooling. reset(), or a new window, forgets the spikes and winners; the learned
    kernel stays (as NEST keeps weights)."""
    default_parameters = {"weight": 0.0, "delay": None, "a_plus": 0.004, "a_minus": 0.003, "w_min": 0.0,
                          "w_max": 1.0, "window": float("inf"), "winners": float("inf"), "inhibition_radius": 0.0}
    translations = build_translations(*[(name, name) for name in default_parameters])
    rule_parameters = ("a_plus", "a_minus", "w_min", "w_max", "window", "winners", "inhibition_radius")

    def __init__(self, a_plus: float = 0.004, a_minus: float = 0.003, w_min: float = 0.0, w_max: float = 1.0,
                 window: float = float("inf"), winners: float = float("inf"), inhibition_radius: int = 0,
                 delay=None):
        rule = dict(a_plus=a_plus, a_minus=a_minus, w_min=w_min, w_max=w_max, window=window, winners=winners,
                    inhibition_radius=inhibition_radius)
        for name, value in rule.items():   # one number each (PyNN would take text, lists and booleans)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.number)):
                raise errors.InvalidParameterValueError("KernelSTDP(%s=%r): one number for the projection"
                                                        % (name, value))
        StaticSynapse.__init__(self, delay=delay, **rule)
