"""`sim.NativeRNG`: the backend's own random number generator, as PyNN scripts request it."""
from pyNN import random


class NativeRNG(random.NumpyRNG, random.NativeRNG):
    """pyNN.cupy's native RNG. For now it draws on the host exactly like NumpyRNG (Mersenne Twister with the
    given seed); connectivity and parameters drawn on the device are a later step."""

    def __str__(self):
        return "NativeRNG(seed=%s)" % self.seed
