"""Whole-array connection generation for the common connectors, with no Python work per synapse or per cell.

Builders reproduce the connection set that PyNN's own (per post-synaptic cell) implementation draws from the
same RNG state, so a seeded script gives identical connections on pyNN.cupy and pyNN.nest, except
FixedTotalNumber, which PyNN draws one synapse at a time: there the distribution is the same, the draws not.
Builders return (pre, post) index arrays ordered by post-synaptic cell (or lists of parts of them, which
keeps a large draw from being held twice), or None to use PyNN's generic path.

A connector given `sim.NativeRNG` takes the native builders instead (as pyNN.nest hands such connectors to
NEST): FixedProbability draws the gaps between connections, FixedNumberPre/Post draw all their cells at once;
the same distributions as PyNN's algorithms, O(connections) work, other numbers.
"""
from __future__ import annotations

import copy

import numpy as np
from pyNN.connectors import (AllToAllConnector, FixedNumberPostConnector, FixedNumberPreConnector,
                             FixedProbabilityConnector, FixedTotalNumberConnector, FromListConnector,
                             OneToOneConnector)
from pyNN.errors import ConnectionError, InvalidDimensionsError, InvalidParameterValueError
from pyNN.common import Assembly
from pyNN.random import RandomDistribution

from . import connectors, simulator
from .native_rng import NativeRNG
from .timegrid import delay_steps

DRAW_BLOCK = 1 << 22   # uniform numbers drawn at a time (bounds the memory of a connectivity draw)
MAX_MAP_ENTRIES = 1 << 24   # largest (pre, post) map of a distance-dependent parameter evaluated whole


def _not_self(projection, pre, post):
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)
    return pre_ids[pre] != post_ids[post]


def _pairs_of(connector, projection, hits: np.ndarray, dtype, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) of flat pair indices in PyNN's column-after-column order (post * n_pre + pre, counted from
    column `first`), without self-connections where the connector excludes them."""
    n_pre = projection.pre.size
    pre, post = (hits % n_pre).astype(dtype), (first + hits // n_pre).astype(dtype)
    if not connector.allow_self_connections:
        keep = _not_self(projection, pre, post)
        pre, post = pre[keep], post[keep]
    return pre, post


def _all_to_all(connector, projection):
    if connector.allow_self_connections not in (True, False):
        return None
    n_pre, n_post = projection.pre.size, projection.post.size
    pre = np.tile(np.arange(n_pre, dtype=np.int64), n_post)
    post = np.repeat(np.arange(n_post, dtype=np.int64), n_pre)
    if not connector.allow_self_connections:
        keep = _not_self(projection, pre, post)
        pre, post = pre[keep], post[keep]
    return pre, post


def _one_to_one(connector, projection):
    if projection.pre.size != projection.post.size:
        raise InvalidDimensionsError("OneToOneConnector needs populations of equal size, got %d and %d"
                                     % (projection.pre.size, projection.post.size))
    index = np.arange(projection.pre.size, dtype=np.int64)
    return index, index.copy()


def _fixed_probability(connector, projection):
    """PyNN draws one uniform number per (pre, post) pair, column after column, from a copy of the
    connector's RNG (its lazy array copies it), so the connector's own RNG is not advanced: projections
    sharing a connector RNG draw the same numbers. We do the same, to give pyNN.nest's connections."""
    if connector.allow_self_connections not in (True, False) or not connector.rng.parallel_safe:
        return None
    n_pre, n_post = projection.pre.size, projection.post.size
    rng = copy.deepcopy(connector.rng)
    columns_per_block = max(1, DRAW_BLOCK // max(1, n_pre))
    dtype = np.int32 if max(n_pre, n_post) < 2 ** 31 else np.int64
    pre_parts, post_parts = [], []
    for first in range(0, n_post, columns_per_block):
        columns = min(columns_per_block, n_post - first)
        draws = rng.next(n_pre * columns, "uniform", {"low": 0.0, "high": 1.0})
        hits = np.flatnonzero(np.asarray(draws) < connector.p_connect)
        del draws
        pre, post = _pairs_of(connector, projection, hits, dtype, first)
        pre_parts.append(pre)
        post_parts.append(post)
    return pre_parts, post_parts


def _fixed_number_with_replacement(connector, projection):
    """PyNN draws n indices per cell with replacement, cell after cell, unless self-connections must be
    excluded: the same numbers in one draw (other cases take PyNN's path)."""
    same = projection.pre == projection.post
    if not (connector.with_replacement and isinstance(connector.n, (int, np.integer))
            and (connector.allow_self_connections is True or not same)):
        return None
    n, n_pre, n_post = int(connector.n), projection.pre.size, projection.post.size
    if isinstance(connector, FixedNumberPreConnector):
        pre = np.asarray(connector.rng.next(n * n_post, "uniform_int", {"low": 0, "high": n_pre}), dtype=np.int64)
        return pre.ravel(), np.repeat(np.arange(n_post, dtype=np.int64), n)
    post = np.asarray(connector.rng.next(n * n_pre, "uniform_int", {"low": 0, "high": n_post}), dtype=np.int64)
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), n)
    order = np.argsort(post.ravel(), kind="stable")
    return pre[order], post.ravel()[order]


def _fixed_total_number(connector, projection):
    """n synapses, each from a uniformly drawn source to a uniformly drawn target (with replacement, as
    PyNN); without self-connections, self-pairs are drawn again. With `with_replacement=False` (which PyNN
    ignores; NEST's allow_multapses=False), n distinct pairs."""
    if not connector.with_replacement and connector.allow_self_connections not in (True, False):
        raise ConnectionError("FixedTotalNumberConnector(with_replacement=False, allow_self_connections=%r): "
                              "pyNN.cupy draws distinct pairs with or without self-connections only"
                              % (connector.allow_self_connections,))
    if not isinstance(connector.n, (int, np.integer)) or connector.allow_self_connections not in (True, False):
        return None
    n, n_pre, n_post, rng = int(connector.n), projection.pre.size, projection.post.size, connector.rng
    if not connector.with_replacement:
        return _distinct_pairs(connector, projection, n)
    pre, post = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for _ in range(1000):
        missing = n - pre.size
        if missing <= 0:
            break
        new_pre = np.asarray(rng.next(missing, "uniform_int", {"low": 0, "high": n_pre}), dtype=np.int64).ravel()
        new_post = np.asarray(rng.next(missing, "uniform_int", {"low": 0, "high": n_post}), dtype=np.int64).ravel()
        if not connector.allow_self_connections:
            keep = _not_self(projection, new_pre, new_post)
            new_pre, new_post = new_pre[keep], new_post[keep]
        pre, post = np.concatenate([pre, new_pre]), np.concatenate([post, new_post])
    order = np.argsort(post, kind="stable")
    return pre[order], post[order]


def _distinct_pairs(connector, projection, n: int):
    """n distinct (pre, post) pairs, ordered by post cell: flat pair indices drawn, repeats and excluded
    self-pairs drawn again (a random permutation when n is over half the pairs)."""
    n_pre, n_post, rng = projection.pre.size, projection.post.size, connector.rng
    total = n_pre * n_post
    selves = 0 if connector.allow_self_connections else \
        np.intersect1d(np.asarray(projection.pre.all_cells, int), np.asarray(projection.post.all_cells, int)).size
    if n > total - selves:
        raise ConnectionError("FixedTotalNumberConnector(n=%d, with_replacement=False): only %d pairs of cells "
                              "can be connected" % (n, total - selves))
    allowed = (lambda flat: _not_self(projection, flat // n_post, flat % n_post)) if selves else None
    if 2 * n > total:
        flat = np.asarray(rng.permutation(total), dtype=np.int64)
        flat = flat[allowed(flat)][:n] if allowed else flat[:n]
    else:
        flat = np.zeros(0, np.int64)
        while flat.size < n:
            new = np.asarray(rng.next(n - flat.size, "uniform_int", {"low": 0, "high": total}), np.int64).ravel()
            flat = np.unique(np.concatenate([flat, new[allowed(new)] if allowed else new]))
    flat = np.sort(flat % n_post * n_pre + flat // n_post)   # post-major
    return flat % n_pre, flat // n_pre


def _native_fixed_probability(connector, projection, generator):
    """Each (pre, post) pair independently with probability p, drawn as geometric gaps between successive
    connections in PyNN's pair order (column after column): O(connections) draws instead of one per pair."""
    if connector.allow_self_connections not in (True, False):
        return None
    n_pre, n_post = projection.pre.size, projection.post.size
    total, p = n_pre * n_post, min(1.0, float(connector.p_connect))
    dtype = np.int32 if max(n_pre, n_post) < 2 ** 31 else np.int64
    pre_parts, post_parts, start = [], [], 0
    while p > 0 and start < total:
        remaining = total - start
        expected = p * remaining   # draws for about all the rest at once, and no sum past 2^62
        block = int(min(DRAW_BLOCK, expected + 6 * np.sqrt(expected) + 16, (1 << 62) // (remaining + 1)))
        gaps = np.minimum(generator.geometric(p, max(1, block)), remaining + 1)   # a gap past the end ends it
        hits = start - 1 + np.cumsum(gaps)
        start = int(hits[-1]) + 1
        hits = hits[:np.searchsorted(hits, total)]
        pre, post = _pairs_of(connector, projection, hits, dtype)
        pre_parts.append(pre)
        post_parts.append(post)
    return pre_parts, post_parts


def _distinct(generator, rows: np.ndarray, k: int, size: int, exclude: bool) -> np.ndarray:
    """(len(rows), k) indices in [0, size), distinct within a row and, with `exclude`, never the row's own
    index: drawn at random, then each repeat (or self) drawn again until none is left, which gives every
    k-subset the same probability (the procedure treats all indices alike); when k is over half of what can
    be drawn, the k smallest of random keys instead."""
    if k > (size - exclude) // 2:
        keys = generator.random((rows.size, size))
        if exclude:
            keys[np.arange(rows.size), rows] = 2.0
        return np.argpartition(keys, k - 1, axis=1)[:, :k]
    drawn = generator.integers(0, size, (rows.size, k))
    bad = np.ones(drawn.shape, bool)
    while True:
        order = np.argsort(drawn, axis=1, kind="stable")
        ordered = np.take_along_axis(drawn, order, axis=1)
        bad[:] = False
        np.put_along_axis(bad, order[:, 1:], ordered[:, 1:] == ordered[:, :-1], axis=1)
        if exclude:
            bad |= drawn == rows[:, None]
        count = int(bad.sum())
        if not count:
            return drawn
        drawn[bad] = generator.integers(0, size, count)


def _native_fixed_number(connector, projection, generator):
    """n cells for each cell, drawn in bulk: with replacement, uniform draws (self drawn again when excluded);
    without, all cells n // m times and then n % m distinct ones (as PyNN), m the cells that may be drawn."""
    if not isinstance(connector.n, (int, np.integer)) or connector.allow_self_connections not in (True, False):
        return None
    pre_side = isinstance(connector, FixedNumberPreConnector)
    rows, size = (projection.post.size, projection.pre.size) if pre_side else \
        (projection.pre.size, projection.post.size)
    n, exclude = int(connector.n), not connector.allow_self_connections and projection.pre == projection.post
    available = size - exclude
    if n and available < 1:
        raise ConnectionError("%s(%d): no cell to draw from (%d cells, self-connections excluded)"
                              % (type(connector).__name__, n, size))
    dtype = np.int32 if max(rows, size) < 2 ** 31 else np.int64
    full, remainder = divmod(n, available) if available else (0, 0)
    keys = not connector.with_replacement and remainder > available // 2   # _distinct draws a key per cell
    per_block = max(1, DRAW_BLOCK // max(1, n, size if keys else 1))
    own_parts, other_parts = [], []
    for first in range(0, rows, per_block):
        row = np.arange(first, min(rows, first + per_block), dtype=np.int64)
        if connector.with_replacement:
            drawn = generator.integers(0, size, (row.size, n))
            while exclude and (drawn == row[:, None]).any():
                self_drawn = drawn == row[:, None]
                drawn[self_drawn] = generator.integers(0, size, int(self_drawn.sum()))
        else:
            pieces = []
            if full:
                every = np.broadcast_to(np.arange(size), (row.size, size))
                if exclude:
                    every = every[every != row[:, None]].reshape(row.size, available)
                pieces = [every] * full
            if remainder:
                pieces.append(_distinct(generator, row, remainder, size, exclude))
            drawn = np.hstack(pieces) if pieces else np.zeros((row.size, 0), np.int64)
        own_parts.append(np.repeat(row, drawn.shape[1]).astype(dtype))
        other_parts.append(drawn.ravel().astype(dtype))
    return (other_parts, own_parts) if pre_side else (own_parts, other_parts)


def _list_table(connector, projection) -> np.ndarray:
    """FromListConnector's list as a float table, checked: column names are parameters, cell indices whole
    numbers within the populations (PyNN drops postsynaptic ones outside silently, as it keeps only the
    targets local to an MPI process)."""
    names = projection.synapse_type.get_parameter_names()
    for name in connector.column_names:
        if name not in names:
            raise InvalidParameterValueError("FromListConnector column %r is not a parameter of %s"
                                             % (name, type(projection.synapse_type).__name__))
    table = np.asarray(connector.conn_list, dtype=float)
    if table.size == 0:
        return table.reshape(0, 2 + len(connector.column_names))
    fractional = table[:, :2] != np.round(table[:, :2])
    if fractional.any():
        raise ConnectionError("FromListConnector: cell indices must be whole numbers, got %g"
                              % table[:, :2][fractional][0])
    for column, side, size in ((0, "presynaptic", projection.pre.size), (1, "postsynaptic", projection.post.size)):
        outside = (table[:, column] < 0) | (table[:, column] >= size)
        if outside.any():
            raise ConnectionError("FromListConnector: %s index %d out of range (population of %d)"
                                  % (side, table[outside, column][0], size))
    return table


def _from_list(connector, projection):
    """The list in one piece, sorted by post-synaptic cell (stable)."""
    table = _list_table(connector, projection)
    table = table[np.argsort(table[:, 1], kind="stable")]
    columns = {name: table[:, k] for k, name in enumerate(connector.column_names, 2)}
    return table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), columns


BUILDERS = {AllToAllConnector: _all_to_all, OneToOneConnector: _one_to_one,
            FixedProbabilityConnector: _fixed_probability, FixedTotalNumberConnector: _fixed_total_number,
            FixedNumberPreConnector: _fixed_number_with_replacement,
            FixedNumberPostConnector: _fixed_number_with_replacement,
            FromListConnector: _from_list}
NATIVE_BUILDERS = {FixedProbabilityConnector: _native_fixed_probability,
                   FixedNumberPreConnector: _native_fixed_number, FixedNumberPostConnector: _native_fixed_number}
for table in (BUILDERS, NATIVE_BUILDERS):   # pyNN.cupy's checked subclasses (connectors.py) build alike
    table.update({checked: table[base] for checked, base in (
        (connectors.FixedProbabilityConnector, FixedProbabilityConnector),
        (connectors.FixedNumberPreConnector, FixedNumberPreConnector),
        (connectors.FixedNumberPostConnector, FixedNumberPostConnector),
        (connectors.FixedTotalNumberConnector, FixedTotalNumberConnector)) if base in table})


def synapse_values(projection, pre: list, post: list, given=()):
    """The synapse parameters for the given pairs (lists of parts of the pre and post indices, ordered by post
    cell as PyNN draws them), or None if a parameter's map is too large to evaluate whole or shares its RNG with
    the connector. Names in `given` are skipped."""
    n = sum(part.size for part in pre)
    parameter_space = projection.synapse_type.native_parameters
    parameter_space.shape = (projection.pre.size, projection.post.size)
    connector_rng = getattr(projection._connector, "rng", None)
    values = {}
    for name, lazy in parameter_space.items():
        if name in given:
            continue
        base = lazy.base_value
        if callable(base) and not isinstance(base, RandomDistribution) and not lazy.operations:
            # a function of distance (or of indices): evaluate PyNN's map of it, when it is not too large and
            # both sides are populations or views (PyNN's whole map does not handle an Assembly's positions)
            if projection.pre.size * projection.post.size > MAX_MAP_ENTRIES or \
                    isinstance(projection.pre, Assembly) or isinstance(projection.post, Assembly):
                return None
            if n == 0:
                values[name] = np.zeros(0)
                continue
            mapped = projection._connector._parameters_from_synapse_type(projection)[name]
            values[name] = np.broadcast_to(np.asarray(mapped.evaluate(simplify=False), dtype=float),
                                           (projection.pre.size, projection.post.size))[_whole(pre), _whole(post)]
            continue
        if lazy.operations:
            return None
        if lazy.is_homogeneous:
            values[name] = float(lazy.evaluate(simplify=True))
        elif isinstance(base, RandomDistribution):
            if base.rng is connector_rng:
                return None
            values[name] = Draws(projection, name, base, n) if name in ("weight", "delay") else \
                np.asarray(base.next(n), dtype=float)
        else:
            values[name] = np.asarray(lazy.evaluate(simplify=False), dtype=float)[_whole(pre), _whole(post)]
    return values


class Draws:
    """Weights or delays drawn from a RandomDistribution only as the device's arrays are filled (the counting sort
    of storage/layout.py asks for them in the order the connections were made, part after part: the numbers of
    one draw), so that no array of them exists on the host beforehand. Each part is checked (an error names the
    value drawn) and comes as the device holds it: weights in the run's precision, delays in steps."""

    def __init__(self, projection, name: str, distribution: RandomDistribution, size: int):
        self.projection, self.name, self.distribution, self.size = projection, name, distribution, size
        self.dtype = np.dtype(simulator.state.real if name == "weight" else np.uint16)
        self.checks = []   # more checks of each part: f(values, span of connection indices), e.g. STDP's bounds
        self.done, self.extremes = 0, []

    def draw(self, k: int) -> np.ndarray:
        state = simulator.state
        drawn = np.atleast_1d(np.asarray(self.distribution.next(k), dtype=float)) if k else np.zeros(0)
        self.projection._check({self.name: drawn})
        if self.name == "weight" and k:   # the sign rules hold for all the weights drawn so far
            self.extremes = [min([drawn.min()] + self.extremes), max([drawn.max()] + self.extremes)]
            self.projection._check({"weight": np.array(self.extremes)})
        for check in self.checks:
            check(drawn, slice(self.done, self.done + k))
        self.done += k
        return drawn.astype(self.dtype) if self.name == "weight" else delay_steps(drawn, state.dt).astype(np.uint16)


def _whole(parts: list) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.int64)


def connect(projection, connector) -> tuple | None:
    """(pre, post, values) built as whole arrays (pre and post as lists of parts), or None when PyNN's generic
    path must be used."""
    builder = BUILDERS.get(type(connector))
    if builder is None:
        return None
    given = tuple(getattr(connector, "column_names", ()))
    from_list = isinstance(connector, FromListConnector)
    if from_list:
        _list_table(connector, projection)   # checked whichever path makes the connections
    empty = [np.zeros(0, int)]
    if synapse_values(projection, empty, empty, given) is None:
        return None   # checked before drawing connectivity, so the RNG is untouched for the generic path
    if from_list and any(not projection.synapse_type.native_parameters[name].is_homogeneous
                         for name in projection.synapse_type.native_parameters.keys() if name not in given):
        return None   # PyNN draws such values target by target: keep its order
    native = NATIVE_BUILDERS.get(type(connector)) if isinstance(getattr(connector, "rng", None), NativeRNG) else None
    built = native(connector, projection, connector.rng.generator()) if native else None
    if built is None:
        built = builder(connector, projection)
    if built is None:
        return None
    if getattr(connector, "callback", None):   # PyNN reports progress per postsynaptic cell; made at once here
        connector.callback(1.0)
    pre, post, columns = built if from_list else (*built, {})
    pre, post = (pre, post) if isinstance(pre, list) else ([pre], [post])
    values = synapse_values(projection, pre, post, given)
    if values is None:
        return None
    values.update(columns)
    return pre, post, values
