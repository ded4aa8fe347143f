"""Current sources. A DC source adds its amplitude to the injected current of its targets during the update
steps [start/dt, stop/dt), so the membrane first moves in the step after `start` (as with pyNN.nest)."""
from __future__ import annotations

import numpy as np
from pyNN import common
from pyNN.parameters import ParameterSpace
from pyNN.standardmodels import build_translations, electrodes

from ..exceptions import InjectionError, InvalidParameterValueError
from ..simulator import state
from ..timegrid import grid_steps


def _targets_by_group(cells) -> list:
    """[(group, local indices)] for a Population, PopulationView, Assembly or a list of IDs."""
    from ..projections import cell_groups
    if isinstance(cells, (common.BasePopulation, common.Assembly)):
        groups, which, local = cell_groups(cells)
        return [(group, local[which == k]) for k, group in enumerate(groups)]
    by_group = {}
    for cell in cells:
        population = cell.parent
        root = population.grandparent if isinstance(population, common.PopulationView) else population
        by_group.setdefault(id(root._group), (root._group, []))[1].append(root.id_to_index(int(cell)))
    return [(group, np.asarray(indices)) for group, indices in by_group.values()]


class CurrentSource:
    """Base for current sources living in the simulator state."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "_targets", [])
        object.__setattr__(self, "_steps", {})
        super().__init__(**parameters)
        space = ParameterSpace(self.default_parameters, self.get_schema(), shape=(1,))
        space.update(**parameters)
        self.set_native_parameters(self.translate(space))
        state.current_sources.append(self)

    def inject_into(self, cells):
        for group, indices in _targets_by_group(cells):
            if group.model.is_source:
                raise InjectionError("Can't inject current into a spike source (%s)."
                                     % type(group.model).__name__)
            self._targets.append((group, state.device_array(np.unique(indices), np.int32)))
        state.invalidate()

    def set_native_parameters(self, parameters):
        parameters.evaluate(simplify=True)
        new = dict(self._native, **{name: float(value) for name, value in parameters.items()})
        self._steps = self._grid(new)   # validates before anything changes
        self._native.update(new)
        state.invalidate()

    def _grid(self, native: dict) -> dict:
        """The parameters that are times, in steps; raises InvalidParameterValueError off the grid."""
        return {}

    def get_native_parameters(self):
        return ParameterSpace(dict(self._native))


class DCSource(CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))

    def _grid(self, native):
        if not np.isfinite(native["amplitude"]):
            raise InvalidParameterValueError("DCSource amplitude must be finite, got %g nA" % native["amplitude"])
        steps = {name: int(grid_steps(native[name], state.dt, "DCSource %s" % name)) for name in ("start", "stop")}
        if steps["stop"] < steps["start"]:   # as NEST: "stop >= start required"
            raise InvalidParameterValueError("DCSource stop (%g ms) must not be before start (%g ms)"
                                             % (native["stop"], native["start"]))
        return steps

    def _launches(self) -> list:
        return [state.launch("dc_source_apply", targets.size, {
            "clock": state._clock, "n_targets": np.int32(targets.size), "targets": targets,
            "amplitude": state.real(self._native["amplitude"]), "first_step": np.int64(self._steps["start"]),
            "end_step": np.int64(self._steps["stop"]), "i_stim": group.device["i_stim"]})
            for group, targets in self._targets]
