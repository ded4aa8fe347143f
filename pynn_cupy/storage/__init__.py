"""The device side of projections: each storage strategy owns its arrays, kernels and get/set (DESIGN.md)."""
from .plastic import PlasticCSR
from .static import StaticCSR
from .stp import BernoulliCSR, MultiQuantalCSR, StochasticTsodyksMarkramCSR, TsodyksMarkramCSR


def storage_for(projection):
    """The storage strategy of a projection, chosen by its synapse type."""
    from ..standardmodels import synapses
    strategies = {synapses.STDPMechanism: PlasticCSR, synapses.TsodyksMarkramSynapse: TsodyksMarkramCSR,
                  synapses.SimpleStochasticSynapse: BernoulliCSR, synapses.MultiQuantalSynapse: MultiQuantalCSR,
                  synapses.StochasticTsodyksMarkramSynapse: StochasticTsodyksMarkramCSR}
    for synapse_type, strategy in strategies.items():
        if isinstance(projection.synapse_type, synapse_type):
            return strategy(projection)
    return StaticCSR(projection)


__all__ = ["StaticCSR", "PlasticCSR", "TsodyksMarkramCSR", "StochasticTsodyksMarkramCSR", "MultiQuantalCSR",
           "BernoulliCSR", "storage_for"]
