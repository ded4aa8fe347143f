"""Synapse types: StaticSynapse, and STDPMechanism with SpikePairRule, TripletRule (a pyNN.cupy extension) or
Vogels2011Rule and PyNN's four weight dependences (NEST's stdp_synapse, stdp_triplet_synapse and
vogels_sprekeler_synapse; the rules and their arithmetic are in cuda/stdp.cu)."""
import numpy as np
from pyNN import errors
from pyNN.standardmodels import build_translations, synapses

from ..simulator import state


def _identity(*names):
    return build_translations(*[(name, name) for name in names])


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = _identity("weight", "delay")

    def _get_minimum_delay(self):
        return state.min_delay


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__ + """
    pyNN.cupy runs NEST's tsodyks_synapse (storage/stp.py, cuda/stp.cu), whose resources in use decay with the
    postsynaptic cell's tau_syn_E or tau_syn_I (as pyNN.nest sets it)."""
    translations = _identity("weight", "delay", "U", "tau_rec", "tau_facil")

    def _get_minimum_delay(self):
        return state.min_delay


class SimpleStochasticSynapse(synapses.SimpleStochasticSynapse):
    __doc__ = synapses.SimpleStochasticSynapse.__doc__ + """
    pyNN.cupy runs NEST's bernoulli_synapse (storage/stp.py, cuda/stochastic.cu): one device draw per synapse and
    spike, fresh each trial."""
    translations = _identity("weight", "delay", "p")

    def _get_minimum_delay(self):
        return state.min_delay


class StochasticTsodyksMarkramSynapse(synapses.StochasticTsodyksMarkramSynapse):
    __doc__ = synapses.StochasticTsodyksMarkramSynapse.__doc__ + """
    pyNN.cupy runs pyNN.nest's stochastic_stp_synapse (storage/stp.py, cuda/stochastic.cu), drawn on the device."""
    translations = _identity("weight", "delay", "U", "tau_rec", "tau_facil")

    def _get_minimum_delay(self):
        return state.min_delay


class MultiQuantalSynapse(synapses.MultiQuantalSynapse):
    __doc__ = """Synapse with n release sites that deplete and recover at random (Loebel et al. 2009, PLoS ONE 4:e5528),
    NEST's quantal_stp_synapse: U the release probability of each available site (facilitating with tau_facil, ms),
    tau_rec the recovery time constant (ms), n the number of sites. pyNN.cupy draws the binomial counts on the device
    (storage/stp.py, cuda/stochastic.cu)."""
    translations = _identity("weight", "delay", "U", "n", "tau_rec", "tau_facil")

    def _get_minimum_delay(self):
        return state.min_delay


class ElectricalSynapse(synapses.ElectricalSynapse):
    __doc__ = synapses.ElectricalSynapse.__doc__

    def __init__(self, **parameters):
        raise errors.NoModelAvailableError(
            "pyNN.cupy does not support ElectricalSynapse (gap junctions): they couple membrane potentials "
            "continuously within a time step, which its event-driven propagation through delayed input rings does "
            "not model")


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = _identity("weight", "delay", "dendritic_delay_fraction")

    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        if not (isinstance(timing_dependence, (SpikePairRule, TripletRule))
                and isinstance(weight_dependence, _WeightDependence)
                or isinstance(timing_dependence, Vogels2011Rule)
                and isinstance(weight_dependence, AdditiveWeightDependence)):
            raise errors.NoModelAvailableError(
                "pyNN.cupy's STDPMechanism takes its SpikePairRule or TripletRule with one of its weight dependences "
                "(Additive, Multiplicative, AdditivePotentiationMultiplicativeDepression, Gutig), or its "
                "Vogels2011Rule with AdditiveWeightDependence; got %s and %s"
                % (type(timing_dependence).__name__, type(weight_dependence).__name__))
        if voltage_dependence is not None:
            raise errors.NoModelAvailableError("pyNN.cupy has no voltage-dependent STDP")
        if dendritic_delay_fraction not in (0, 1):
            raise errors.NoModelAvailableError(
                "pyNN.cupy: STDPMechanism(dendritic_delay_fraction=%r): 1 (delays entirely dendritic, as NEST) and 0 "
                "(entirely axonal) are implemented, fractions in between not yet" % (dendritic_delay_fraction,))
        super().__init__(timing_dependence, weight_dependence, voltage_dependence, dendritic_delay_fraction,
                         weight, delay)
        if delay is not None:   # PyNN takes `delay or min_delay`, which turns a delay of 0 into min_delay
            self.delay = delay

    def _build_translations(self):   # PyNN's version updates the class's dict in place
        self.translations = dict(self.base_translations)
        for component in (self.timing_dependence, self.weight_dependence):
            self.translations.update(component.translations)

    def _get_minimum_delay(self):
        return state.min_delay


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = _identity("tau_plus", "tau_minus", "A_plus", "A_minus")
    possible_models = {"stdp"}


class TripletRule(synapses.STDPTimingDependence):
    """All-to-all triplet STDP (Pfister & Gerstner 2006, J. Neurosci. 26:9673; NEST's stdp_triplet_synapse), a
    pyNN.cupy extension. Presynaptic traces r1, r2 (tau_plus, tau_plus_triplet, ms) and postsynaptic o1, o2
    (tau_minus, tau_minus_triplet, ms) each add 1 per spike; with the weight dependence's formulas:

        at a postsynaptic spike (reaching the synapse after the delay)  dw = w_max r1 (A_plus + A_plus_triplet o2)
        at a presynaptic spike                                         dw = -w_max o1 (A_minus + A_minus_triplet r2)

    o2 and r2 taken just before the spike. The amplitudes are fractions of w_max, as SpikePairRule's: NEST's Aplus
    is A_plus * w_max, and so on. With AdditiveWeightDependence and w_min = 0 it is stdp_triplet_synapse; other
    weight dependences scale the two amplitudes as they scale SpikePairRule's. Defaults: Pfister & Gerstner's
    all-to-all full model of visual cortex (NEST's synapse defaults). The four time constants are one value per
    projection; the amplitudes may differ between connections."""
    default_parameters = {"tau_plus": 16.8, "tau_minus": 33.7, "tau_plus_triplet": 101.0, "tau_minus_triplet": 125.0,
                          "A_plus": 5e-10, "A_minus": 7e-3, "A_plus_triplet": 6.2e-3, "A_minus_triplet": 2.3e-4}
    translations = _identity(*default_parameters)
    possible_models = {"stdp"}


class Vogels2011Rule(synapses.Vogels2011Rule):
    __doc__ = synapses.Vogels2011Rule.__doc__ + """
    pyNN.cupy runs NEST's vogels_sprekeler_synapse (all-to-all traces with time constant tau) with
    alpha = 2 rho tau (rho in Hz: the target rate, tau in ms), bounded by the AdditiveWeightDependence's w_min and
    w_max (cuda/stdp.cu)."""
    translations = _identity("tau", "eta", "rho")
    possible_models = {"stdp"}


class _WeightDependence:
    """The exponents of the weight dependence (cuda/stdp.cu): potentiation ~ (1 - w / w_max)^mu_plus, depression
    ~ ((w - w_min) / w_max)^mu_minus."""
    possible_models = {"stdp"}


class AdditiveWeightDependence(_WeightDependence, synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = _identity("w_min", "w_max")
    extra_parameters = {"mu_plus": 0.0, "mu_minus": 0.0}


class MultiplicativeWeightDependence(_WeightDependence, synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = _identity("w_min", "w_max")
    extra_parameters = {"mu_plus": 1.0, "mu_minus": 1.0}


class AdditivePotentiationMultiplicativeDepression(_WeightDependence,
                                                   synapses.AdditivePotentiationMultiplicativeDepression):
    __doc__ = synapses.AdditivePotentiationMultiplicativeDepression.__doc__
    translations = _identity("w_min", "w_max")
    extra_parameters = {"mu_plus": 0.0, "mu_minus": 1.0}


class GutigWeightDependence(_WeightDependence, synapses.GutigWeightDependence):
    __doc__ = synapses.GutigWeightDependence.__doc__
    translations = _identity("w_min", "w_max", "mu_plus", "mu_minus")


def check_weight_bounds(weight, w_min, w_max, label: str) -> None:
    outside = ~((weight >= w_min) & (weight <= w_max))
    if outside.any():
        raise errors.InvalidParameterValueError(
            "%s: weight %g is outside the STDP bounds [w_min, w_max] = [%g, %g]"
            % (label, weight[outside][0], np.broadcast_to(w_min, weight.shape)[outside][0],
               np.broadcast_to(w_max, weight.shape)[outside][0]))


def check_stdp(values: dict, label: str) -> None:
    """PyNN's and NEST's checks of STDP parameters (one value per connection): InvalidParameterValueError naming
    the parameter and the value. Amplitudes and bounds must be finite in the simulation's precision; the rules
    work on weights of one sign, so 0 <= w_min <= w_max (NEST: the weight and Wmax of one sign, w_min 0)."""
    def bad(name, mask, rule):
        if mask.any():
            raise errors.InvalidParameterValueError("%s: %s %s, got %s" % (label, name, rule, values[name][mask][:5]))

    def finite(name):   # in the precision of the device's arrays (1e39 is inf in float32)
        with np.errstate(over="ignore"):
            return np.isfinite(np.asarray(values[name], dtype=float).astype(state.real))
    vogels, triplet = "eta" in values, "A_plus_triplet" in values
    taus = ("tau",) if vogels else ("tau_plus", "tau_minus") + (("tau_plus_triplet", "tau_minus_triplet") if triplet
                                                                  else ())
    amplitudes = ("A_plus", "A_minus") + (("A_plus_triplet", "A_minus_triplet") if triplet else ())
    for name in taus:
        bad(name, ~(values[name] > 0), "must be positive")
    for name in ("eta", "rho") if vogels else amplitudes + ("mu_plus", "mu_minus"):
        bad(name, ~(values[name] >= 0) | ~finite(name), "must be finite and not negative")
    bad("w_max", ~(values["w_max"] > 0) | ~finite("w_max"),
        "must be finite and positive (weights are normalized by it, as NEST's Wmax; pyNN.cupy's STDP is for "
        "positive weights: not for the negative ones of inhibitory current-based synapses)")
    bad("w_min", ~(values["w_min"] >= 0), "must not be negative (pyNN.cupy's STDP is for positive weights)")
    bad("w_min", ~(values["w_min"] <= values["w_max"]), "must not be above w_max (%s)" % values["w_max"][:1])
    weight = values["weight"]
    if hasattr(weight, "draw"):   # weights drawn as the device is filled (connect.Draws): checked part by part
        weight.checks.append(lambda drawn, span: check_weight_bounds(drawn, values["w_min"][span],
                                                                     values["w_max"][span], label))
    else:
        check_weight_bounds(weight, values["w_min"], values["w_max"], label)
    for name in taus if vogels or triplet else ("tau_minus",):   # traces are kept per neuron here
        if values[name].size and not (values[name] == values[name].flat[0]).all():
            raise errors.NoModelAvailableError(
                "pyNN.cupy: %s: %s differs between connections (%s, ...); per-connection values of %s are not "
                "implemented yet (traces are kept per neuron)" % (label, name, np.unique(values[name])[:3], name))
