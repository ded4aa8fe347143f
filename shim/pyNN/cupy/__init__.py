"""`pyNN.cupy`: the PyNN backend provided by the pynn_cupy package."""
from pynn_cupy import *              # noqa: F401,F403
from pynn_cupy import __doc__, list_standard_models, simulator  # noqa: F401
