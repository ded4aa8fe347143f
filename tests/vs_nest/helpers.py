"""Run one network-building function on a named PyNN backend and return plain numpy results.

A builder is a module-level function ``build(sim, **params) -> {label: population or projection}`` that
creates the network with the PyNN module ``sim`` and calls ``record()`` on what it wants back (a projection
gives back its connections after the run: ``{"connections": (n, 3) array of pre, post, weight}``).
``simulate()`` runs it in a worker process (one persistent process per backend configuration,
so NEST and pyNN.cupy never share process state, and each imports its simulator once) and
returns, per label, ``{"spikes": [array per neuron], "times": sample times,
<signal name>: (n_samples, n_neurons)}``.

Environment: ``PYNN_VS_NEST_CANDIDATE`` names the backend compared against NEST ("cupy", default;
"nest" runs the comparison NEST against NEST, to check the harness), ``PYNN_CUPY_DEVICE`` the
device passed to the cupy backend ("cpu", default).
"""
import importlib
import importlib.util
import os
import pickle
import subprocess
import sys

import numpy as np
from pyNN.common import Projection

REFERENCE = "nest"
CANDIDATE = os.environ.get("PYNN_VS_NEST_CANDIDATE", "cupy")

# Setup arguments that only one backend understands. pyNN.nest's default spike_precision is
# "off_grid": IF_curr_exp becomes iaf_psc_exp_ps and SpikeSourcePoisson poisson_generator_ps
# (spike times between grid points). The cupy backend is grid-based, so compare with "on_grid".
SETUP_EXTRA = {
    "nest": {"spike_precision": "on_grid"},
    "cupy": {"device": os.environ.get("PYNN_CUPY_DEVICE", "cpu")},
}

_workers = {}
_cache = {}
_builder_modules = {}


def simulate(backend, build, t_stop, timestep=0.1, min_delay=0.1, max_delay=10.0, seed=1234,
             precision="float64", setup=None, native=None, **params):
    """Build with ``build(sim, **params)`` on ``backend``, run ``t_stop`` ms, return the recordings.

    ``precision`` goes to cupy only (NEST is float64). ``setup`` adds setup() arguments for this
    backend; ``native`` (NEST only) is a dict of native parameters set on the built neurons.
    Results are cached for the session (the runs are deterministic for a given seed).
    """
    extra = dict(SETUP_EXTRA.get(backend, {}))
    if backend == "cupy":
        extra["precision"] = precision
    extra.update(setup or {})
    request = dict(file=os.path.abspath(build.__code__.co_filename), func=build.__name__,
                   backend=backend, t_stop=t_stop, native=native, params=params,
                   setup=dict(timestep=timestep, min_delay=min_delay, max_delay=max_delay,
                              rng_seed=seed, **extra))
    key = repr(sorted((k, repr(v)) for k, v in request.items()))
    if key not in _cache:
        _cache[key] = _worker(backend, extra).call(request)
    return _cache[key]


class _Worker:
    """A child process running ``_serve()``: pickled requests in on stdin, results out on a pipe."""

    def __init__(self):
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(write_fd)],
                                     stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env)
        os.close(write_fd)
        self.results = os.fdopen(read_fd, "rb")

    def call(self, request):
        pickle.dump(request, self.proc.stdin)
        self.proc.stdin.flush()
        try:
            ok, value = pickle.load(self.results)
        except EOFError:
            raise RuntimeError(f"worker for {request['backend']} died "
                               f"(exit code {self.proc.wait()})") from None
        if not ok:
            raise RuntimeError(f"{request['backend']} run failed:\n{value}")
        return value


def _worker(backend, extra):
    key = (backend, repr(sorted(extra.items())))
    w = _workers.get(key)
    if w is None or w.proc.poll() is not None:
        w = _workers[key] = _Worker()
    return w


def _load(file, func):
    """The builder ``func`` of the (test) module ``file``, loaded by path in the worker."""
    if file not in _builder_modules:
        sys.path.insert(0, os.path.dirname(file))
        name = "_vs_nest_" + os.path.splitext(os.path.basename(file))[0]
        spec = importlib.util.spec_from_file_location(name, file)
        _builder_modules[file] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_builder_modules[file])
    return getattr(_builder_modules[file], func)


def _run(request):
    sim = importlib.import_module("pyNN." + request["backend"])
    sim.setup(**request["setup"])
    populations = _load(request["file"], request["func"])(sim, **request["params"])
    if request["native"]:
        for pop in populations.values():
            if hasattr(pop, "celltype") and pop.celltype.injectable:  # neurons, not spike sources
                pop.node_collection.set(**request["native"])
    sim.run(request["t_stop"])
    out = {}
    for label, pop in populations.items():
        if isinstance(pop, Projection):
            out[label] = {"connections": np.array(sorted(pop.get("weight", format="list")), dtype=float)}
            continue
        seg = pop.get_data().segments[0]
        rec = {"spikes": [np.asarray(st.rescale("ms").magnitude, dtype=float)
                          for st in seg.spiketrains]}
        for sig in seg.analogsignals:
            rec["times"] = np.asarray(sig.times.rescale("ms").magnitude, dtype=float)
            rec[sig.name] = np.asarray(sig.magnitude, dtype=float)
        out[label] = rec
    sim.end()
    return out


def _serve(write_fd):
    """Worker loop. C-level stdout (NEST's banner) is sent to stderr, results to ``write_fd``."""
    results = os.fdopen(int(write_fd), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = (True, _run(request))
        except Exception:  # reported to the parent, which raises
            import traceback
            reply = (False, traceback.format_exc())
        pickle.dump(reply, results)
        results.flush()


# -- plasticity replayed in NEST ---------------------------------------------------------------------

def irregular_trains(n, rate, seed, t_end):
    """n irregular spike trains (Hz, ms) on the 0.5 ms grid, between 1 ms and t_end."""
    rng = np.random.default_rng(seed)
    trains = [np.unique(np.round(np.cumsum(rng.exponential(1000.0 / rate, int(rate * t_end / 300))) * 2) / 2)
              for _ in range(n)]
    return [t[(t > 1.0) & (t < t_end)] for t in trains]


# The start of a NEST script (its request as JSON on stdin) that replays given pre- and postsynaptic trains through
# parrot neurons, pre and post, so that plastic synapses between them see exactly those spikes (a script connects
# them on the parrots' port 1, which does not repeat spikes).
NEST_REPLAY = """
import json, sys
import nest
nest.set_verbosity("M_ERROR")
d = json.load(sys.stdin)
nest.ResetKernel()
nest.resolution = 0.1
def parrots(trains):
    gen = nest.Create("spike_generator", len(trains))
    for g, train in zip(gen, trains):
        g.spike_times = [t - 1.0 for t in train]   # the generator-parrot connection takes 1 ms
    par = nest.Create("parrot_neuron", len(trains))
    nest.Connect(gen, par, "one_to_one")
    return par
pre, post = parrots(d["pre"]), parrots(d["post"])
"""


# -- comparisons ---------------------------------------------------------------------------------

def assert_spikes_match(ref, test, dt, what=""):
    """Same number of spikes per neuron, each within one time step of the reference."""
    assert len(ref) == len(test), f"{what}: {len(ref)} vs {len(test)} spike trains"
    for i, (a, b) in enumerate(zip(ref, test)):
        assert len(a) == len(b), f"{what} neuron {i}: {len(b)} spikes, NEST {len(a)}\n{b}\n{a}"
        if len(a):
            err = np.abs(a - b).max()
            assert err <= dt * (1 + 1e-6), f"{what} neuron {i}: spike times differ by {err} ms"


def max_abs_diff_away_from_spikes(times, a, b, spikes, before, after):
    """Max |a - b| over samples not in [s - before, s + after] for any spike s of the neuron."""
    keep = np.ones(a.shape, dtype=bool)
    for j, st in enumerate(spikes):
        for s in st:
            keep[(times >= s - before - 1e-9) & (times <= s + after + 1e-9), j] = False
    return np.abs(a - b)[keep].max()


if __name__ == "__main__":
    _serve(sys.argv[1])
