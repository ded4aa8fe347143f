"""PyNN's connectors, with those whose arguments PyNN checks with `assert` (gone under `python -O`) or not at all
checked when made: InvalidParameterValueError naming the connector and the value. The others are PyNN's own."""
from __future__ import annotations

from numbers import Integral

from pyNN import connectors
from pyNN.connectors import *   # noqa: F401,F403  (sim.connectors holds them all, as pyNN.nest.connectors)
from pyNN.errors import InvalidParameterValueError
from pyNN.random import RandomDistribution


def _check_n(connector: str, n) -> None:
    if isinstance(n, RandomDistribution):
        return
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 0:
        raise InvalidParameterValueError("%s(n=%r): n must be a whole number >= 0 or a RandomDistribution"
                                         % (connector, n))


class FixedProbabilityConnector(connectors.FixedProbabilityConnector):
    __doc__ = connectors.FixedProbabilityConnector.__doc__

    def __init__(self, p_connect, *args, **kwargs):
        try:
            probability = float(p_connect)   # as PyNN compares it (0-d arrays, Decimal, "0.3" too)
        except (TypeError, ValueError):
            probability = float("nan")
        if isinstance(p_connect, bool) or not 0 <= probability <= 1:
            raise InvalidParameterValueError("FixedProbabilityConnector(p_connect=%r): a probability, from 0 to 1"
                                             % (p_connect,))
        super().__init__(probability, *args, **kwargs)


class _CheckedN:
    """A connector whose first argument is a number of connections, checked when made."""

    def __init__(self, n, *args, **kwargs):
        _check_n(type(self).__name__, n)
        super().__init__(n, *args, **kwargs)


class FixedNumberPreConnector(_CheckedN, connectors.FixedNumberPreConnector):
    __doc__ = connectors.FixedNumberPreConnector.__doc__


class FixedNumberPostConnector(_CheckedN, connectors.FixedNumberPostConnector):
    __doc__ = connectors.FixedNumberPostConnector.__doc__


class FixedTotalNumberConnector(_CheckedN, connectors.FixedTotalNumberConnector):
    __doc__ = connectors.FixedTotalNumberConnector.__doc__
