"""Composed point neurons: PyNN's PointNeuron(LIF or AdExp, name=<post-synaptic response>, ...) with any number of
named receptors of the four response types (CurrExp, CondExp, CondAlpha, CondBeta). Each PointNeuron instance gets
its own device model, whose `receptors` tuple (the receptor names, sorted as PyNN's receptor_types) lays out the
input ring, so `receptor_type="AMPA"` targets the AMPA row. Two kernels (cuda/multisynapse.cu) serve every
combination by looping over a per-neuron receptor table ([receptor][neuron] coefficient arrays):

- LIF with only CurrExp receptors: NEST's iaf_psc_exp_multisynapse by exact integration (IF_curr_exp's arithmetic,
  so a composed LIF with excitatory/inhibitory CurrExp receptors is IF_curr_exp bit for bit);
- everything else (AdExp with any receptors, LIF with conductance receptors): NEST's aeif_cond_beta_multisynapse /
  aeif_cond_alpha_multisynapse by RKF45 with NEST's control; an exponential receptor is a beta one whose input goes
  straight to g, a current receptor adds g (pA) instead of g (E_rev - V); a LIF is an AdExp with Delta_T = a = b = 0.
  pyNN.nest offers only AdExp with all-alpha or all-beta conductances (and LIF with CurrExp): the other
  combinations have no NEST model to compare with.

Parameters keep PyNN's names and units natively; a receptor's parameters are "<receptor>.<name>" (e.g.
"AMPA.tau_syn"), its recordable "<receptor>.gsyn" (uS) or "<receptor>.isyn" (nA), as PyNN names them."""
from __future__ import annotations

from copy import deepcopy

import numpy as np
from pyNN import errors
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import cells, receptors

from .adexp import _check_adexp
from .cells import (INT, REAL, DeviceModel, _check, _check_reset, _identity, _refractory_steps, current_propagators,
                    rkf45_overruns)

MAX_RECEPTORS = 32                 # the largest kernel of cuda/multisynapse.cu
_KERNEL_SIZES = (4, 8, 16, 32)     # aeif_multisynapse_<R>_update


def _beta_normalization(tau_rise, tau_decay):
    """NEST's beta_normalization_factor (libnestutil/beta_normalization_factor.h): 1 / peak of
    exp(-t/tau_decay) - exp(-t/tau_rise), times (1/tau_rise - 1/tau_decay); e / tau_decay when the taus are equal."""
    eps = np.finfo(float).eps
    out = np.empty(np.broadcast(tau_rise, tau_decay).shape)
    for index, (rise, decay) in enumerate(np.broadcast(tau_rise, tau_decay)):
        difference, peak = decay - rise, 0.0
        if abs(difference) > eps:
            t_peak = decay * rise * np.log(decay / rise) / difference
            peak = np.exp(-t_peak / decay) - np.exp(-t_peak / rise)
        out.flat[index] = np.e / decay if abs(peak) < eps else (1.0 / rise - 1.0 / decay) / peak
    return out


# -- components: identity translations (native names are PyNN's) ---------------------------------------------------

class LIF(cells.LIF):
    __doc__ = cells.LIF.__doc__
    translations = _identity(*cells.LIF.default_parameters)


class AdExp(cells.AdExp):
    __doc__ = cells.AdExp.__doc__
    translations = _identity(*cells.AdExp.default_parameters)


class CurrExpPostSynapticResponse(receptors.CurrExpPostSynapticResponse):
    __doc__ = receptors.CurrExpPostSynapticResponse.__doc__
    translations = _identity(*receptors.CurrExpPostSynapticResponse.default_parameters)
    recordable = ["isyn"]
    kind = "current"


class CondExpPostSynapticResponse(receptors.CondExpPostSynapticResponse):
    __doc__ = receptors.CondExpPostSynapticResponse.__doc__
    translations = _identity(*receptors.CondExpPostSynapticResponse.default_parameters)
    recordable = ["gsyn"]
    kind = "exp"


class CondAlphaPostSynapticResponse(receptors.CondAlphaPostSynapticResponse):
    __doc__ = receptors.CondAlphaPostSynapticResponse.__doc__
    translations = _identity(*receptors.CondAlphaPostSynapticResponse.default_parameters)
    recordable = ["gsyn"]
    kind = "alpha"


class CondBetaPostSynapticResponse(receptors.CondBetaPostSynapticResponse):
    __doc__ = receptors.CondBetaPostSynapticResponse.__doc__
    translations = _identity(*receptors.CondBetaPostSynapticResponse.default_parameters)
    recordable = ["gsyn"]
    kind = "beta"


ExpPSR = CondExpPostSynapticResponse
AlphaPSR = CondAlphaPostSynapticResponse
BetaPSR = CondBetaPostSynapticResponse

_RESPONSES = (CurrExpPostSynapticResponse, CondExpPostSynapticResponse, CondAlphaPostSynapticResponse,
              CondBetaPostSynapticResponse)


def _copy_translation(name):
    """An identity translation that also works for dotted names (PyNN evaluates string transforms with eval)."""
    def same(**p):
        return p[name]
    return {"translated_name": name, "forward_transform": same, "reverse_transform": same, "type": "simple"}


def _per_neuron(p: dict, name: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(p[name], dtype=float), (n,))


def _size(p: dict) -> int:
    return max((np.asarray(value).size for value in p.values() if isinstance(value, np.ndarray)), default=1)


# -- device models -------------------------------------------------------------------------------------------------

class _ComposedModel(DeviceModel):
    """Per receptor k, state lives at [k * n + i] and coefficients are [receptor][neuron] tables; the state arrays
    per receptor (what is recorded and initialized, named <array>_<k>) are rows of one [receptor][neuron] array
    that the kernel takes whole (build_state, called by NeuronBatch.build before it makes the state arrays)."""
    per_receptor_state: dict = {}   # [receptor][neuron] array -> its initial value's suffix ("gsyn"), or None

    def __init__(self, receptor_names, kinds):
        self.receptors = tuple(receptor_names)
        self.kinds = dict(zip(receptor_names, kinds))
        self.state = dict(self.neuron_state)
        for array, variable in self.per_receptor_state.items():
            for k, name in enumerate(self.receptors):
                self.state["%s_%d" % (array, k)] = (None if variable is None else "%s.%s" % (name, variable), REAL)
        self.recordables = dict(self.neuron_recordables)
        for k, name in enumerate(self.receptors):
            variable = "isyn" if self.kinds[name] == "current" else "gsyn"
            self.recordables["%s.%s" % (name, variable)] = "%s_%d" % (self.recorded_array, k)

    def batch_key(self):
        return (self.kernel, self.receptors, tuple(self.kinds[name] for name in self.receptors))

    def live_state(self):
        return tuple(self.per_receptor_state) + tuple(self.neuron_state)

    def build_state(self, batch) -> None:
        sim, r = batch.sim, len(self.receptors)
        for array in self.per_receptor_state:
            whole = sim.zeros((max(r, 1), batch.size), sim.real)
            for k in range(r):
                name = "%s_%d" % (array, k)
                sim.write(whole[k], batch.initial_state(name))
                batch.device[name] = whole[k]
            batch.device[array] = whole

    def kernel_arguments(self, batch):
        return dict(super().kernel_arguments(batch), n_receptors=np.int32(len(self.receptors)))


class LifPscExpMultisynapse(_ComposedModel):
    kernel = "lif_psc_exp_multisynapse_update"
    neuron_state = {"v": ("v", REAL), "refractory": (None, INT)}
    neuron_recordables = {"v": "v"}
    per_receptor_state = {"isyn": "isyn"}
    recorded_array = "isyn"

    def coefficients(self, p, dt):
        _check(p, positive=("tau_m", "cm") + tuple("%s.tau_syn" % name for name in self.receptors),
               non_negative=("tau_refrac",))
        _check_reset(p)
        n = _size(p)
        p_v_syn, p_syn = [], []
        for name in self.receptors:
            tau_syn = _per_neuron(p, "%s.tau_syn" % name, n)
            p_v_syn.append(current_propagators(tau_syn, p["tau_m"], p["cm"], dt)[0] * np.ones(n))
            p_syn.append(np.exp(-dt / tau_syn))
        return {
            "e_l": p["v_rest"], "v_thresh": p["v_thresh"], "v_reset": p["v_reset"], "i_offset": p["i_offset"],
            "refractory_steps": _refractory_steps(p, dt),
            "p_vv": np.exp(-dt / p["tau_m"]), "p_v_i": -p["tau_m"] / p["cm"] * np.expm1(-dt / p["tau_m"]),
            "p_v_syn": np.stack(p_v_syn or [np.zeros(n)]), "p_syn": np.stack(p_syn or [np.zeros(n)]),
        }


class AeifMultisynapse(_ComposedModel):
    """AdExp (adexp=True) or LIF with receptors of any kind, on the RKF45 kernel; units as AdExpCond (adexp.py)."""
    neuron_state = {"v": ("v", REAL), "w": ("w", REAL), "w_nest": (None, REAL), "refractory": (None, INT),
                    "h_step": (None, REAL)}
    per_receptor_state = {"g": "gsyn", "g_nest": None, "dg": None}   # g: uS or nA; g_nest: nS or pA; dg: nS/ms
    recorded_array = "g"
    counters = {
        **rkf45_overruns("1e-6"),
        "merged_spikes": "further spikes of a neuron within one time step (tau_refrac = 0 and a strong drive: "
                         "NEST emits each) were merged into the step's one spike",
    }

    def __init__(self, receptor_names, kinds, adexp: bool):
        self.adexp = adexp
        self.neuron_recordables = {"v": "v", "w": "w"} if adexp else {"v": "v"}
        super().__init__(receptor_names, kinds)
        for name in self.receptors:   # a current receptor's initial value is NAME.isyn
            if self.kinds[name] == "current":
                self.state["g_%d" % self.receptors.index(name)] = ("%s.isyn" % name, REAL)
        size = next(size for size in _KERNEL_SIZES if size >= len(self.receptors))
        self.kernel = "aeif_multisynapse_%d_update" % size

    def coefficients(self, p, dt):
        n = _size(p)
        if self.adexp:
            _check_adexp(dict(p, tau_syn_E=1.0, tau_syn_I=1.0))
            delta_t = np.asarray(p["delta_T"], dtype=float)
            neuron = {
                "c_m": np.asarray(p["cm"], dtype=float) * 1000.0,
                "g_l": np.asarray(p["cm"], dtype=float) / np.asarray(p["tau_m"], dtype=float) * 1000.0,
                "e_l": p["v_rest"], "delta_t": delta_t, "v_th": p["v_thresh"], "v_peak": p["v_spike"],
                "v_detect": np.where(delta_t > 0, p["v_spike"], p["v_thresh"]), "v_reset": p["v_reset"],
                "a": p["a"], "b": np.asarray(p["b"], dtype=float) * 1000.0, "tau_w": p["tau_w"],
            }
        else:
            _check(p, positive=("tau_m", "cm"), non_negative=("tau_refrac",))
            _check_reset(p)
            zero = np.zeros(n)
            neuron = {
                "c_m": np.asarray(p["cm"], dtype=float) * 1000.0,
                "g_l": np.asarray(p["cm"], dtype=float) / np.asarray(p["tau_m"], dtype=float) * 1000.0,
                "e_l": p["v_rest"], "delta_t": zero, "v_th": p["v_thresh"], "v_peak": p["v_thresh"],
                "v_detect": p["v_thresh"], "v_reset": p["v_reset"], "a": zero, "b": zero, "tau_w": np.ones(n),
            }
        neuron.update(i_offset=np.asarray(p["i_offset"], dtype=float) * 1000.0,
                      refractory_steps=_refractory_steps(p, dt))
        table = {key: [] for key in ("e_rev", "tau_rise", "tau_decay", "conductance", "jump_g", "jump_dg")}
        for name in self.receptors:
            kind = self.kinds[name]
            if kind == "beta":
                rise, decay = (_per_neuron(p, "%s.%s" % (name, x), n) for x in ("tau_rise", "tau_decay"))
                _check(p, positive=("%s.tau_rise" % name, "%s.tau_decay" % name))
                if (decay < rise).any():
                    raise errors.InvalidParameterValueError(
                        "%s.tau_decay must not be below %s.tau_rise (as NEST), got %s < %s"
                        % (name, name, decay[decay < rise][:3], rise[decay < rise][:3]))
            else:
                _check(p, positive=("%s.tau_syn" % name,))
                rise = decay = _per_neuron(p, "%s.tau_syn" % name, n)
            table["tau_rise"].append(rise)
            table["tau_decay"].append(decay)
            table["e_rev"].append(np.zeros(n) if kind == "current" else _per_neuron(p, "%s.e_syn" % name, n))
            table["conductance"].append(np.full(n, 0.0 if kind == "current" else 1.0))
            into_dg = kind in ("alpha", "beta")
            table["jump_g"].append(np.full(n, 0.0 if into_dg else 1.0))
            table["jump_dg"].append(np.e / decay if kind == "alpha" else
                                    _beta_normalization(rise, decay) if kind == "beta" else np.zeros(n))
        if not self.receptors:
            table = {key: [np.zeros(n)] for key in table}
        neuron.update({key: np.stack(values).astype(float) for key, values in table.items()})
        return neuron


# -- the composed cell type -----------------------------------------------------------------------------------------

class PointNeuron(cells.PointNeuron):
    """A LIF or AdExp neuron with named post-synaptic receptors (pyNN.cupy's LIF, AdExp and response types)."""

    def __init__(self, neuron, **post_synaptic_receptors):
        if not isinstance(neuron, (LIF, AdExp)):
            raise errors.InvalidModelError("PointNeuron: the neuron must be pyNN.cupy's LIF or AdExp, got %s"
                                           % type(neuron).__name__)
        for name, psr in post_synaptic_receptors.items():
            if not isinstance(psr, _RESPONSES):
                raise errors.InvalidModelError(
                    "PointNeuron: receptor %r must be one of pyNN.cupy's %s, got %s"
                    % (name, ", ".join(cls.__name__ for cls in _RESPONSES), type(psr).__name__))
            if "." in name:
                raise errors.InvalidModelError("PointNeuron: receptor name %r must not contain '.'" % name)
        if len(set(psr.conductance_based for psr in post_synaptic_receptors.values())) > 1:
            raise errors.InvalidModelError(
                "PointNeuron: cannot mix conductance-based and current-based receptors (as PyNN), got %s"
                % ", ".join("%s=%s" % (name, type(psr).__name__) for name, psr in post_synaptic_receptors.items()))
        if len(post_synaptic_receptors) > MAX_RECEPTORS:
            raise errors.InvalidModelError("PointNeuron: pyNN.cupy takes at most %d receptors, got %d"
                                           % (MAX_RECEPTORS, len(post_synaptic_receptors)))
        super().__init__(neuron, **post_synaptic_receptors)
        defaults = dict(neuron.default_parameters)
        for name, psr in post_synaptic_receptors.items():
            for parameter, value in psr.default_parameters.items():
                if parameter != "locations":
                    defaults["%s.%s" % (name, parameter)] = value
        self.default_parameters = defaults
        self.translations = {name: _copy_translation(name) for name in defaults}
        names = self.receptor_types
        kinds = [post_synaptic_receptors[name].kind for name in names]
        if isinstance(neuron, LIF) and all(kind == "current" for kind in kinds):
            self.device_model = LifPscExpMultisynapse(names, kinds)
        else:
            self.device_model = AeifMultisynapse(names, kinds, adexp=isinstance(neuron, AdExp))

    @property
    def conductance_based(self):
        if not self.post_synaptic_receptors:
            return False
        return super().conductance_based

    def has_parameter(self, name):
        return name in self.default_parameters

    def get_parameter_names(self):
        return list(self.default_parameters)

    def get_schema(self):
        return {name: float for name in self.default_parameters}

    def simple_parameters(self):
        return list(self.default_parameters)

    def scaled_parameters(self):
        return []

    def computed_parameters(self):
        return []

    def computed_parameters_include(self, parameter_names):
        return False

    @property
    def native_parameters(self):
        """Flat: the neuron's parameters and "<receptor>.<parameter>" (PyNN's names and units)."""
        values = {name: deepcopy(value) for name, value in self.neuron.parameter_space.items()}
        for name, psr in self.post_synaptic_receptors.items():
            for parameter, value in psr.parameter_space.items():
                if parameter != "locations":
                    values["%s.%s" % (name, parameter)] = deepcopy(value)
        return ParameterSpace(values, shape=None)
