"""Whole-array connection generation for the common connectors, with no Python work per synapse or per cell.

Each builder reproduces the connection set that PyNN's own (per post-synaptic cell) implementation draws
from the same RNG state, so a seeded script gives identical connections on pyNN.cupy and pyNN.nest.
Builders return (pre, post) index arrays ordered by post-synaptic cell, or None to use PyNN's generic path.
"""
from __future__ import annotations

import copy

import numpy as np
from pyNN.connectors import AllToAllConnector, FixedProbabilityConnector, OneToOneConnector
from pyNN.errors import InvalidDimensionsError
from pyNN.random import RandomDistribution

DRAW_BLOCK = 1 << 22   # uniform numbers drawn at a time (bounds the memory of a connectivity draw)


def _not_self(projection, pre, post):
    pre_ids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_ids = np.asarray(projection.post.all_cells, dtype=np.int64)
    return pre_ids[pre] != post_ids[post]


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
    pre_parts, post_parts = [], []
    for first in range(0, n_post, columns_per_block):
        columns = min(columns_per_block, n_post - first)
        draws = rng.next(n_pre * columns, "uniform", {"low": 0.0, "high": 1.0})
        hits = np.flatnonzero(np.asarray(draws) < connector.p_connect)
        pre_parts.append(hits % n_pre)
        post_parts.append(first + hits // n_pre)
    pre = np.concatenate(pre_parts).astype(np.int64)
    post = np.concatenate(post_parts).astype(np.int64)
    if not connector.allow_self_connections:
        keep = _not_self(projection, pre, post)
        pre, post = pre[keep], post[keep]
    return pre, post


BUILDERS = {AllToAllConnector: _all_to_all, OneToOneConnector: _one_to_one,
            FixedProbabilityConnector: _fixed_probability}


def synapse_values(projection, pre, post):
    """The synapse parameters for the given pairs (ordered by post cell, as PyNN draws them), or None if a
    parameter depends on distance or shares its RNG with the connector."""
    parameter_space = projection.synapse_type.native_parameters
    parameter_space.shape = (projection.pre.size, projection.post.size)
    connector_rng = getattr(projection._connector, "rng", None)
    values = {}
    for name, lazy in parameter_space.items():
        base = lazy.base_value
        if lazy.operations or (callable(base) and not isinstance(base, RandomDistribution)):
            return None
        if lazy.is_homogeneous:
            values[name] = float(lazy.evaluate(simplify=True))
        elif isinstance(base, RandomDistribution):
            if base.rng is connector_rng:
                return None
            values[name] = np.asarray(base.next(len(pre)), dtype=float)
        else:
            values[name] = np.asarray(lazy.evaluate(simplify=False), dtype=float)[pre, post]
    return values


def connect(projection, connector) -> tuple | None:
    """(pre, post, values) built as whole arrays, or None when PyNN's generic path must be used."""
    builder = BUILDERS.get(type(connector))
    if builder is None:
        return None
    if type(connector) is not OneToOneConnector and synapse_values(projection, np.zeros(0, int), np.zeros(0, int)) is None:
        return None   # check before drawing connectivity, so the RNG is untouched for the generic path
    pairs = builder(connector, projection)
    if pairs is None:
        return None
    values = synapse_values(projection, *pairs)
    return None if values is None else (pairs[0], pairs[1], values)
