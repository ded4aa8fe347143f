"""pyNN.cupy: a GPU backend for PyNN 0.13. Import it as `import pyNN.cupy as sim` (or `pynn_cupy`).

Neuron updates, spike propagation and recording run as CUDA kernels (sources in cuda/) on an NVIDIA GPU
through CuPy, or, compiled by the host C++ compiler, on the CPU (the "CPU twin")."""
from pyNN import errors, random, space                                  # noqa: F401
from pyNN.connectors import *                                           # noqa: F401,F403
from pyNN.network import Network                                        # noqa: F401
from pyNN.parameters import ArrayParameter, ParameterSpace, Sequence    # noqa: F401
from pyNN.random import NumpyRNG, GSLRNG, RandomDistribution            # noqa: F401
from pyNN.recording import *                                            # noqa: F401,F403
from pyNN.space import Space                                            # noqa: F401
from pyNN.standardmodels import StandardCellType

from . import simulator                                                 # noqa: F401
from .standardmodels.cells import (IF_curr_exp, IF_curr_alpha, IF_cond_exp, IF_cond_alpha,  # noqa: F401
                                   IF_curr_delta, Izhikevich, IF_cond_exp_adaptive_threshold)
from .standardmodels.sources import (SpikeSourceArray, SpikeSourcePoisson, SpikeSourcePoissonRefractory,  # noqa: F401
                                     SpikeSourceGamma, SpikeSourceInhGamma)
from .standardmodels.adexp import EIF_cond_exp_isfa_ista, EIF_cond_alpha_isfa_ista   # noqa: F401
from .standardmodels.hh import HH_cond_exp                                 # noqa: F401
from .standardmodels.composed import (PointNeuron, LIF, AdExp, CurrExpPostSynapticResponse,  # noqa: F401
                                      CondExpPostSynapticResponse, CondAlphaPostSynapticResponse,
                                      CondBetaPostSynapticResponse, ExpPSR, AlphaPSR, BetaPSR)
from .standardmodels.gif import GIF_cond_exp, IF_cond_exp_gsfa_grr, IF_facets_hardware1   # noqa: F401
from .standardmodels.synapses import (StaticSynapse, TsodyksMarkramSynapse, SimpleStochasticSynapse,  # noqa: F401
                                      StochasticTsodyksMarkramSynapse, MultiQuantalSynapse, ElectricalSynapse,
                                      STDPMechanism, SpikePairRule, AdditiveWeightDependence,
                                      MultiplicativeWeightDependence, AdditivePotentiationMultiplicativeDepression,
                                      GutigWeightDependence, Vogels2011Rule, TripletRule)
from .standardmodels.electrodes import DCSource, ACSource, StepCurrentSource, NoisyCurrentSource  # noqa: F401
from .populations import Population, PopulationView, Assembly           # noqa: F401
from .projections import Projection                                     # noqa: F401
from .native_rng import NativeRNG                                       # noqa: F401
from .convolution import ConvolutionConnector, PoolDenseConnector, Convolution, PoolDense, KernelSTDP  # noqa: F401
from .connectors import (FixedProbabilityConnector, FixedNumberPreConnector,  # noqa: F401
                         FixedNumberPostConnector, FixedTotalNumberConnector)
from .control import (setup, end, run, run_until, run_for, reset, initialize,  # noqa: F401
                      get_current_time, get_time_step, get_min_delay, get_max_delay, num_processes, rank)
from .procedural_api import create, connect, record, record_v, record_gsyn, set  # noqa: F401


def list_standard_models():
    """The names of the standard cell types this backend provides."""
    return [obj.__name__ for obj in globals().values()
            if isinstance(obj, type) and issubclass(obj, StandardCellType) and obj is not StandardCellType]
