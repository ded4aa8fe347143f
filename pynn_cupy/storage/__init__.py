"""The device side of projections: each storage strategy owns its arrays, kernels and get/set (DESIGN.md)."""
from .plastic import PlasticCSR
from .static import StaticCSR


def storage_for(projection):
    """The storage strategy of a projection, chosen by its synapse type."""
    from ..standardmodels.synapses import STDPMechanism
    return (PlasticCSR if isinstance(projection.synapse_type, STDPMechanism) else StaticCSR)(projection)


__all__ = ["StaticCSR", "PlasticCSR", "storage_for"]
