"""The order of a projection's connections on the device: grouped into blocks, one per (presynaptic group,
postsynaptic group), each block in pre-major rows, the connections of a row in the order they were made. Each
block is a contiguous range of the projection's connection indices, so a connection's index is its place on the
device and no permutation is kept. Sorting goes a chunk at a time, so the host holds little beyond its result."""
from __future__ import annotations

import ctypes

import numpy as np
from pyNN import common

SORT_CHUNK = 1 << 18   # connections placed at a time (bounds the sort's temporaries)


def index_dtype(n: int):
    """The smallest of int32 and int64 that holds indices below n."""
    return np.int32 if n < 2 ** 31 else np.int64


def cell_groups(cells) -> tuple[list, np.ndarray, np.ndarray]:
    """For a Population, PopulationView or Assembly: its groups, and for each of its cells the position of
    the cell's group in that list and the cell's index within the group."""
    if isinstance(cells, common.Assembly):
        groups, which, local = [], [], []
        for part in cells.populations:
            part_groups, part_which, part_local = cell_groups(part)
            offsets = []
            for group in part_groups:
                if group not in groups:
                    groups.append(group)
                offsets.append(groups.index(group))
            which.append(np.asarray(offsets)[part_which])
            local.append(part_local)
        return groups, np.concatenate(which), np.concatenate(local)
    root = cells.grandparent if isinstance(cells, common.PopulationView) else cells
    local = root.id_to_index(cells.all_cells) if cells is not root else np.arange(cells.size)
    return [root._group], np.zeros(cells.size, dtype=np.int64), np.asarray(local, dtype=np.int64)


def group_index(cells, group) -> np.ndarray:
    """For each cell of `group`: its index in `cells` (a Population, view or Assembly), -1 if not among them."""
    groups, which, local = cell_groups(cells)
    inverse = np.full(group.size, -1, dtype=index_dtype(max(1, len(which))))
    mine = which == groups.index(group)
    inverse[local[mine]] = np.flatnonzero(mine)
    return inverse


def _pieces(lists: list):
    """Consume parallel lists of arrays (emptied as it goes): pieces of about SORT_CHUNK elements each, as lists of
    aligned arrays (slices of a long part, concatenations of short ones)."""
    for parts in lists:
        parts.reverse()
    pending, size = [[] for _ in lists], 0
    while lists[0]:
        heads = [parts.pop() for parts in lists]
        if heads[0].size > SORT_CHUNK:
            if size:
                yield [np.concatenate(chunks) for chunks in pending]
                pending, size = [[] for _ in lists], 0
            for first in range(0, heads[0].size, SORT_CHUNK):
                yield [head[first:first + SORT_CHUNK] for head in heads]
            continue
        for chunks, head in zip(pending, heads):
            chunks.append(head)
        size += heads[0].size
        if size >= SORT_CHUNK:
            yield [np.concatenate(chunks) for chunks in pending]
            pending, size = [[] for _ in lists], 0
    if size:
        yield [np.concatenate(chunks) for chunks in pending]


RELEASE_AFTER = 1 << 20   # connections from which the memory of the placed parts is given back at once


def _release_freed_memory() -> None:
    """Give freed memory back to the system now: glibc keeps freed blocks smaller than its mmap threshold (the
    connector's parts) in its heap, where the large arrays made next cannot reuse them, so resident memory would
    peak at the parts plus the arrays. Nothing on other C libraries."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def counting_sort(keys: list, n_keys: int, paired: list | None, arrays: list) -> tuple[np.ndarray, np.ndarray, list]:
    """Stable sort by an integer key in [0, n_keys), a chunk at a time. `keys` and `paired` are lists of aligned
    parts (consumed: emptied as they are placed), `arrays` whole arrays of the same total length (or objects whose
    draw(k) gives the next k values, connect.Draws, asked one array after another in the original order). Returns the count
    of each key, `paired` sorted as one array (paired None: the permutation, int32) and the sorted `arrays` (as they
    are when already in key order)."""
    counts = np.zeros(n_keys, np.int64)
    in_order, last = True, -1
    for part in keys:
        counts += np.bincount(part, minlength=n_keys)
        if in_order and part.size:
            in_order = int(part[0]) >= last and all(bool((np.diff(part[i:i + SORT_CHUNK + 1]) >= 0).all())
                                                    for i in range(0, part.size - 1, SORT_CHUNK))
            last = int(part[-1])
    n = int(counts.sum())
    if paired is None:   # the permutation
        paired = np.split(np.arange(n, dtype=np.int32), np.cumsum([part.size for part in keys])[:-1])
    if in_order:
        arrays = [array.draw(n) if hasattr(array, "draw") else array for array in arrays]   # connect.Draws
        keys.clear()
        whole = paired[0] if len(paired) == 1 else np.concatenate(paired) if paired else np.zeros(0, np.int32)
        paired.clear()
        return counts, whole, list(arrays)
    cursor = np.zeros(n_keys, dtype=np.int64)
    np.cumsum(counts[:-1], out=cursor[1:])
    sorted_paired = np.empty(n, dtype=paired[0].dtype)
    # each element's place in the sorted order, kept where arrays follow: they are placed one after another
    places, offset = np.empty(n, dtype=index_dtype(n)) if arrays else None, 0
    for chunk, paired_chunk in _pieces([keys, paired]):
        order = np.argsort(chunk, kind="stable")
        ranked = chunk[order]
        chunk_places = cursor[ranked] + (np.arange(ranked.size) - np.searchsorted(ranked, ranked, side="left"))
        sorted_paired[chunk_places] = paired_chunk[order]
        if places is not None:
            places[offset + order] = chunk_places
        cursor += np.bincount(chunk, minlength=n_keys)
        offset += chunk.size
    if n >= RELEASE_AFTER:
        _release_freed_memory()
    sorted_arrays = []
    for k, array in enumerate(arrays):
        arrays[k] = None   # the caller's list lets go of each input once it is placed
        out = np.empty(n, dtype=array.dtype)
        if hasattr(array, "draw"):   # connect.Draws: drawn now, in the order the connections were made
            for first in range(0, n, SORT_CHUNK):
                out[places[first:first + SORT_CHUNK]] = array.draw(min(SORT_CHUNK, n - first))
        else:
            out[places] = array
        sorted_arrays.append(out)
        del array
    return counts, sorted_paired, sorted_arrays


def arrange(projection, connections: list, per_connection: dict) -> tuple[list, np.ndarray, dict]:
    """The blocks of a projection's connections. `connections` holds two lists of aligned parts, the presynaptic
    and postsynaptic indices (into projection.pre and .post), consumed. Returns a list of dicts with the groups
    ("pre", "post"), the block's range of connection indices ("span") and its row pointers ("rows", per cell of
    the presynaptic group); the postsynaptic cells' indices within their groups and the arrays of
    `per_connection`, both in the new connection order."""
    pre, post = connections
    connections.clear()
    pre_groups, pre_which, pre_local = cell_groups(projection.pre)
    post_groups, post_which, post_local = cell_groups(projection.post)
    n_post_groups = len(post_groups)
    row_base = np.zeros(len(pre_groups) * n_post_groups + 1, dtype=np.int64)   # each block's first row
    np.cumsum(np.repeat([group.size for group in pre_groups], n_post_groups), out=row_base[1:])
    n_rows = int(row_base[-1])
    dtype = index_dtype(n_rows)
    for k in range(len(pre)):   # the keys (rows) in place of the presynaptic indices
        if isinstance(projection.pre, common.Population) and n_post_groups == 1:   # rows are the indices
            pre[k] = pre[k].astype(dtype, copy=False)
        else:
            pre[k] = (row_base[pre_which[pre[k]] * n_post_groups + post_which[post[k]]] +
                      pre_local[pre[k]]).astype(dtype)
    for k in range(len(post)):   # the postsynaptic cells' indices within their groups
        post[k] = post[k].astype(np.int32, copy=False) if isinstance(projection.post, common.Population) \
            else post_local[post[k]].astype(np.int32)
    names = list(per_connection)
    counts, local, arrays = counting_sort(pre, n_rows, post, [per_connection.pop(name) for name in names])
    blocks, start = [], 0
    for a, pre_group in enumerate(pre_groups):
        for b, post_group in enumerate(post_groups):
            first = row_base[a * n_post_groups + b]
            row_counts = counts[first:first + pre_group.size]
            n = int(row_counts.sum())
            if n == 0:
                continue
            rows = np.zeros(pre_group.size + 1, dtype=np.int64)
            np.cumsum(row_counts, out=rows[1:])
            blocks.append({"pre": pre_group, "post": post_group, "span": slice(start, start + n), "rows": rows})
            start += n
    return blocks, local, dict(zip(names, arrays))
