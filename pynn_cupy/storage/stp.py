"""Synapses whose transmission varies from spike to spike: short-term plasticity and stochastic release, each the
static CSR plus per-synapse state and parameters, propagated by its own kernel (cuda/stp.cu, cuda/stochastic.cu).

Bytes per synapse: the static 10 or 14, plus the state (TsodyksMarkram: x, y, u and a time stamp, 20 or 32;
stochastic Tsodyks-Markram: u, recovered flag and two time stamps, 21 or 25; multi-quantal: available sites, u, a
time stamp, 16 or 20; Bernoulli: none), plus one value per parameter where the parameters differ between
connections (otherwise one value for the projection)."""
from __future__ import annotations

import numpy as np
from pyNN import errors

from .. import simulator
from .static import StaticCSR, uniform

NEST_TAU_PSC = 3.0   # ms: tsodyks_synapse's default, for cells without a synaptic time constant for the receptor


def tau_psc(group, receptor_type: str) -> np.ndarray:
    """The time constant of the postsynaptic current of each cell of `group` at `receptor_type`, which NEST's
    tsodyks_synapse takes as tau_psc (pyNN.nest copies tau_syn_E / tau_syn_I from the cell)."""
    name = {"excitatory": "tau_syn_E", "inhibitory": "tau_syn_I"}.get(receptor_type, "%s.tau_syn" % receptor_type)
    value = group.parameters.get(name)
    if value is None:
        return np.full(group.size, NEST_TAU_PSC)
    return np.broadcast_to(np.asarray(value, dtype=float), (group.size,))


class DynamicCSR(StaticCSR):
    """A static CSR whose kernel keeps per-synapse `state` and reads `parameters` (arrays read at
    [synapse * per_synapse]) and, with an `rng_purpose`, draws from its own Philox stream."""
    kernel = ""
    parameters: tuple = ()                 # connection attributes the kernel reads
    checks: dict = {}                      # parameter -> (test on the values, what it must be)
    # state array -> (initial value: a number or the name of a parameter, dtype: "real" or a numpy dtype)
    state: dict = {}
    initial_names: dict = {}               # Projection.initialize() variable -> state array
    integer_parameters: tuple = ()
    rng_purpose = ""

    def __init__(self, projection):
        self.uploaded = ("weight", "delay") + self.parameters
        super().__init__(projection)
        self.initial_values = {}   # state array -> connection-order values given by Projection.initialize()
        self.check(projection._values)

    def _initial(self, block: dict, name: str) -> np.ndarray:
        initial, _ = self.state[name]
        span = block["span"]
        if name in self.initial_values:
            return self.initial_values[name][span]
        if isinstance(initial, str):
            return self.projection._values[initial][span]
        return np.full(span.stop - span.start, initial)

    def initialize(self, variable: str, values: np.ndarray) -> None:
        if variable not in self.initial_names:
            super().initialize(variable, values)
        name = self.initial_names[variable]
        values = np.asarray(values, dtype=float)
        if name == "available":   # a whole number of sites in [0, n]
            bad = ~((values >= 0) & (values <= self.projection._values["n"]) & (values == np.round(values)))
            rule = "a whole number in [0, n]"
        else:                     # fractions of resources, utilizations
            bad, rule = ~((values >= 0) & (values <= 1)), "in [0, 1]"
        if bad.any():
            raise errors.InvalidParameterValueError("%s.initialize(%s=...): must be %s, got %s"
                                                    % (self.projection.label, variable, rule, values[bad][:5]))
        self.initial_values[name] = values
        if self._built:
            for block in self.blocks:
                simulator.state.write(block[name], self._initial(block, name))

    def check(self, values: dict) -> None:
        for name, (test, rule) in self.checks.items():
            bad = ~test(values[name])
            if bad.any():
                raise errors.InvalidParameterValueError("%s: %s %s, got %s"
                                                        % (self.projection.label, name, rule, values[name][bad][:5]))

    def _dtype(self, kind):
        return simulator.state.real if kind == "real" else kind

    def _build_block(self, block: dict) -> None:
        """The per-synapse state (once: it stays when the blocks are placed anew) and the parameters."""
        for name, (_, kind) in self.state.items():
            if name not in block:
                block[name] = simulator.state.device_array(self._initial(block, name), self._dtype(kind))
        if "per_synapse" not in block:
            self._write_parameters(block)

    extra_parameters: tuple = ()   # the names of _extra_parameters()

    def _extra_parameters(self, block: dict) -> dict:
        """Parameters per synapse that do not come from the connections (e.g. from the postsynaptic cells)."""
        return {}

    def _write_parameters(self, block: dict) -> None:
        values = dict({name: self.projection._values[name][block["span"]] for name in self.parameters},
                      **self._extra_parameters(block))
        one = all(uniform(array) for array in values.values())
        self._write(block, {name: np.ascontiguousarray(array[:1] if one else array, dtype=np.int32
                                                       if name in self.integer_parameters else simulator.state.real)
                            for name, array in values.items()})
        block["per_synapse"] = 0 if one else 1

    def reset(self) -> None:
        """The per-synapse state back to its initial values, as a fresh synapse."""
        for block in self.blocks:
            for name in self.state:
                if name in block:
                    simulator.state.write(block[name], self._initial(block, name))

    def launches(self) -> list:
        state = simulator.state
        lanes = state.backend.lanes_per_row
        extra = {}
        if self.rng_purpose:
            extra = dict(seed=np.uint64(state.rng_seed),
                         stream=state.rng_stream(self.rng_purpose, state.projections.index(self.projection)))
        launches = []
        for block in self.blocks:
            spikes = block["pre"].spike_list()
            arguments = dict(self._walk_arguments(block, spikes), **extra, per_synapse=np.int32(block["per_synapse"]),
                             first_synapse=np.int64(block["span"].start))   # the draws' key: the projection's index
            arguments.update((name, block[name]) for name in tuple(self.state) + tuple(self.parameters)
                             + self.extra_parameters)
            multiplicity, before, after = self._multiplicity(block, spikes)
            launches += [before, state.launch(self.kernel, spikes["spike_ids"].size * lanes,
                                              dict(arguments, **multiplicity)), after]
        return launches


def _probability(values):
    return (values >= 0) & (values <= 1)


def _positive(values):
    return values > 0


def _non_negative(values):
    return values >= 0


class TsodyksMarkramCSR(DynamicCSR):
    """PyNN's TsodyksMarkramSynapse as NEST's tsodyks_synapse (cuda/stp.cu); the resources in use decay with the
    postsynaptic cell's tau_syn_E or tau_syn_I at the synapse's receptor (NEST's tau_psc, as pyNN.nest sets it)."""
    kernel = "tsodyks_markram_propagate"
    parameters = ("U", "tau_rec", "tau_facil")
    checks = {"U": (_probability, "must be in [0, 1]"), "tau_rec": (_positive, "must be positive"),
              "tau_facil": (_non_negative, "must not be negative")}
    state = {"x": (1.0, "real"), "y": (0.0, "real"), "u": (0.0, "real"), "last_stamp": (0, np.int64)}
    initial_names = {"u": "u", "x": "x", "y": "y"}
    recordable = {"weight": "weight", "u": "u", "x": "x", "y": "y"}

    def check(self, values: dict) -> None:
        super().check(values)
        from .static import cell_groups
        groups, which, local = cell_groups(self.projection.post)
        post = self.projection._post
        taus = np.empty(post.size)
        for k, group in enumerate(groups):
            mine = which[post] == k
            taus[mine] = tau_psc(group, self.projection.receptor_type)[local[post[mine]]]
        same = taus == values["tau_rec"]
        if same.any():
            raise errors.InvalidParameterValueError(
                "%s: tau_rec must differ from the postsynaptic current's time constant (NEST's tau_psc), both %g ms"
                % (self.projection.label, taus[same][0]))

    extra_parameters = ("tau_psc",)

    def _extra_parameters(self, block):
        return {"tau_psc": tau_psc(block["post"], self.projection.receptor_type)[self._post_local(block)]}


class StochasticTsodyksMarkramCSR(DynamicCSR):
    """PyNN's StochasticTsodyksMarkramSynapse as pyNN.nest's stochastic_stp_synapse (Fuhrmann et al. 2002; the
    NEST extension PyNN ships): one release site, recovered or not (cuda/stochastic.cu)."""
    kernel = "stochastic_tsodyks_markram_propagate"
    parameters = ("U", "tau_rec", "tau_facil")
    checks = TsodyksMarkramCSR.checks
    state = {"u": (0.0, "real"), "recovered": (1, np.uint8), "survival_stamp": (0, np.int64),
             "last_stamp": (0, np.int64)}
    initial_names = {"u": "u"}
    recordable = {"weight": "weight", "u": "u"}
    rng_purpose = "synapse_release"


class MultiQuantalCSR(DynamicCSR):
    """PyNN's MultiQuantalSynapse as NEST's quantal_stp_synapse (Loebel et al. 2009): n release sites, each
    recovering and releasing at random; the binomial counts are drawn on the device (cuda/stochastic.cu). A fresh
    synapse has its n sites available and u = U; NEST starts every synapse at its model defaults (a = 1,
    u = 0.5) whatever n and U are, so scripts (PyNN's examples/multiquantal_synapses.py) initialize a and u."""
    kernel = "quantal_propagate"
    parameters = ("U", "n", "tau_rec", "tau_facil")
    integer_parameters = ("n",)
    checks = dict(TsodyksMarkramCSR.checks,
                  n=(lambda n: (n >= 1) & (n == np.round(n)) & (n <= 1000), "must be a whole number in [1, 1000]"))
    state = {"available": ("n", np.int32), "u": ("U", "real"), "last_stamp": (-1, np.int64)}   # -1: no spike yet
    initial_names = {"a": "available", "u": "u"}
    recordable = {"weight": "weight", "u": "u"}
    rng_purpose = "synapse_release"


class BernoulliCSR(DynamicCSR):
    """PyNN's SimpleStochasticSynapse as NEST's bernoulli_synapse (cuda/stochastic.cu)."""
    kernel = "bernoulli_propagate"
    parameters = ("p",)
    checks = {"p": (_probability, "must be in [0, 1]")}
    rng_purpose = "synapse_release"
