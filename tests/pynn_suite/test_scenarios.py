"""PyNN 0.13's own system scenarios run against pyNN.cupy, one test per scenario.

Every scenario runs in its own interpreter (see run_scenarios.py); the ones this module's session
selects are run in parallel on first use (PYNN_SUITE_JOBS, default: all cores; under pytest-xdist
each test runs its own). Scenarios that need a feature outside the backend's current scope are
strict xfails: when one starts passing, take it out of EXPECTED_OUT_OF_SCOPE. All others must pass.

Environment: PYNN_CUPY_DEVICE (default "cpu": the CPU twin), PYNN_SUITE_TIMEOUT (s per scenario,
default 600), PYNN_SUITE_SIMULATOR (default "cupy"; "nest" checks the harness itself).
"""
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYNN_CUPY_DEVICE", "cpu")  # scenarios call sim.setup() themselves
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_scenarios  # noqa: E402

SIMULATOR = os.environ.get("PYNN_SUITE_SIMULATOR", "cupy")
TIMEOUT = float(os.environ.get("PYNN_SUITE_TIMEOUT", "600"))
JOBS = int(os.environ.get("PYNN_SUITE_JOBS", "0")) or None

# scenario -> the out-of-scope feature it uses (read from the scenario's code)
EXPECTED_OUT_OF_SCOPE = {
    "test_scenario5.test_scenario5": "multi-compartment neurons (MultiCompartmentNeuron, morphologies)",
}

SCENARIOS = run_scenarios.discover()
NAMES = run_scenarios.select(SCENARIOS, SIMULATOR)
_results = {}


def _param(name):
    if SIMULATOR == "cupy" and name in EXPECTED_OUT_OF_SCOPE:
        return pytest.param(name, marks=pytest.mark.xfail(reason=EXPECTED_OUT_OF_SCOPE[name], strict=True))
    return name


@pytest.fixture(scope="module")
def scenario_result(request):
    def get(name):
        if name not in _results:
            if hasattr(request.config, "workerinput"):   # pytest-xdist schedules the tests itself
                batch = [name]
            else:                                        # all tests of this module in this session
                batch = [it.callspec.params["name"] for it in request.session.items
                         if it.module is sys.modules[__name__] and hasattr(it, "callspec")]
            _results.update(run_scenarios.run_many([n for n in batch if n not in _results] or [name],
                                                   SIMULATOR, jobs=JOBS, timeout=TIMEOUT))
        return _results[name]
    return get


@pytest.mark.parametrize("name", [_param(n) for n in NAMES])
def test_scenario(name, scenario_result):
    r = scenario_result(name)
    if r["status"] == "skip":
        pytest.skip(r["message"])
    if r["status"] != "pass":
        pytest.fail(f"{r['status']}: {r['message']}\n{r['traceback']}", pytrace=False)


def test_out_of_scope_list_names_real_scenarios():
    assert set(EXPECTED_OUT_OF_SCOPE) <= set(SCENARIOS)


def test_pass_count():
    """PyNN 0.13 has 66 scenarios; every one is a test above, all but the strict xfails must pass: 65."""
    if SIMULATOR == "cupy":
        assert len(NAMES) == 66 and len(NAMES) - len(EXPECTED_OUT_OF_SCOPE) == 65
