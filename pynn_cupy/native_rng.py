"""`sim.NativeRNG`: the backend's own random number generator, as PyNN scripts request it."""
from __future__ import annotations

import numpy as np
from pyNN import random

from . import simulator


class NativeRNG(random.NumpyRNG, random.NativeRNG):
    """pyNN.cupy's own random numbers. As in pyNN.nest, a connector given a NativeRNG draws its connections the
    backend's fast way: the same distribution as PyNN's own algorithm, other numbers (PyNN draws one uniform
    number per pair or a permutation per cell; we draw gaps and distinct indices in bulk, see connect.py).
    Random parameter values are drawn as NumpyRNG draws them.

    With a seed, a private Mersenne Twister stream; without one, the simulator's stream, seeded by
    `setup(rng_seed=...)` (0 when not given), so a script is reproducible from `rng_seed` alone."""

    def __init__(self, seed: int | None = None, parallel_safe: bool = True):
        random.WrappedRNG.__init__(self, seed, parallel_safe)
        if seed is not None:
            self.rng = np.random.RandomState(seed)

    @property
    def rng(self) -> np.random.RandomState:
        return simulator.state.native_rng if self.__dict__.get("seed") is None else self.__dict__["_own"]

    @rng.setter
    def rng(self, value: np.random.RandomState) -> None:
        self.__dict__["_own"] = value

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("seed", "_own"):   # not set yet, as when copied or unpickled
            raise AttributeError(name)
        return getattr(self.rng, name)

    def generator(self) -> np.random.Generator:
        """A fresh numpy Generator seeded from this stream (which advances by one draw): one per connector
        call, so projections sharing the RNG get independent connections."""
        return np.random.Generator(np.random.PCG64(self.rng.randint(0, 2 ** 63, dtype=np.int64)))

    def __str__(self):
        return "NativeRNG(seed=%s)" % self.seed
