"""A membrane potential that stops being a finite number (NaN or infinite) stops the run with
NumericalInstabilityError naming the population (NEST stops such a run too: NumericalInstability or a GSL solver
failure); the other populations of its batch are untouched and what was recorded stays readable."""
import warnings

import numpy as np
import pytest
from pyNN.errors import InvalidParameterValueError

import pyNN.cupy as sim
from pynn_cupy.exceptions import NumericalInstabilityError

CELLS = [name for name in sim.list_standard_models()
         if not name.startswith("SpikeSource") and "i_offset" in getattr(sim, name).default_parameters]


def _composed(kind):
    def make(**parameters):
        neuron = (sim.LIF if kind == "LIF" else sim.AdExp)(**parameters)
        return sim.PointNeuron(neuron, AMPA=sim.CondExpPostSynapticResponse())
    return make


def _run(celltype, bad_parameters):
    sim.setup(timestep=0.1)   # float32: an input of -1e38 nA overflows the membrane potential
    fine = sim.Population(2, celltype(), label="fine")
    bad = sim.Population(2, celltype(**bad_parameters), label="bad")
    after = sim.Population(2, celltype(), label="fine after")
    for population in (fine, bad, after):
        population.record("v")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # e.g. RKF45 overruns on the way
        with pytest.raises(NumericalInstabilityError) as caught:
            sim.run(50.0)
    return caught.value, fine, bad, after


@pytest.mark.parametrize("name", CELLS + ["PointNeuron(LIF)", "PointNeuron(AdExp)"])
def test_non_finite_membrane_potential_stops_the_run_naming_the_population(name):
    celltype = _composed(name[12:-1]) if name.startswith("PointNeuron") else getattr(sim, name)
    error, fine, bad, after = _run(celltype, {"i_offset": -1e38})
    assert isinstance(error, InvalidParameterValueError) and isinstance(error, ArithmeticError)
    message = str(error)
    assert "population 'bad'" in message and "not a finite number" in message and "between 0 and" in message
    for population in (fine, after):   # the same batch, untouched
        assert np.isfinite(np.asarray(population.get_data().segments[0].filter(name="v")[0])).all()
    assert not np.isfinite(np.asarray(bad.get_data().segments[0].filter(name="v")[0])).all()


def test_hh_with_a_strong_negative_current():
    """The case that used to run on silently with NaN (only RKF45 overruns were reported)."""
    error, _, bad, _ = _run(sim.HH_cond_exp, {"i_offset": -50.0})
    assert "population 'bad' (HH_cond_exp)" in str(error)
