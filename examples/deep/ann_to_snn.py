"""ANN-to-SNN conversion on pyNN.cupy: a small CNN trained with NumPy, converted to non-leaky integrate-and-fire
neurons by data-based threshold balancing, and run on digit images; ANN and SNN accuracies compared.

After P. U. Diehl, D. Neil, J. Binas, M. Cook, S.-C. Liu, M. Pfeiffer (2015), "Fast-classifying, high-accuracy
spiking deep networks through weight and threshold balancing", IJCNN 2015, and B. Rueckauer, I.-A. Lungu, Y. Hu,
M. Pfeiffer, S.-C. Liu (2017), "Conversion of continuous-valued deep networks to efficient event-driven networks
for image classification", Front. Neurosci. 11:682.

    python examples/deep/ann_to_snn.py --quick                  # CI on the CPU twin: < 1 min
    python examples/deep/ann_to_snn.py                          # 4000 / 1000 MNIST subset, 16 filters
    python examples/deep/ann_to_snn.py --dataset mnist --path DIR --n-test 10000 --device gpu

Network: input 28x28 -> conv 5x5, k filters, no bias, ReLU (k maps of 24x24) -> average pooling 2x2 -> dense to
10, no bias -> softmax; trained by Adam on the softmax cross-entropy, all in NumPy (im2col by stride tricks).
Conversion: every unit becomes an IF_curr_delta cell with tau_m = 1e9 ms (no leak), v_rest = v_reset = 0 (reset to
zero, Diehl et al.), tau_refrac = 0; weights are the ANN's (mV jumps): the k maps are one Grid3D population fed by
one ConvolutionConnector with a (k, 1, 5, 5) kernel, flipped (pyNN.cupy's multi-map extension), and read by one
PoolDenseConnector for pooling + dense; threshold of layer l = lambda_l / lambda_(l-1), lambda_l the
`--percentile` (default 99.9, Rueckauer et al.; 100 is Diehl et al.'s max) of the layer's positive ANN activations
on training images, lambda_0 = 1. The input is a layer of the same IF cells driven by a constant current
(i_offset), pixel x firing regularly at x * --max-rate: deterministic, so no Poisson sampling noise to average
away (Rueckauer et al. feed analog values to the first layer for that reason), though a white pixel's first
spike comes only after 1 ms; `--input poisson` uses SpikeSourcePoisson at the same rates instead (Diehl et
al.). Each test image: set the input, run --sim-time ms,
read the 10 output cells, reset(); the class is the output cell with the most spikes (ties, e.g. no spike yet,
broken by the membrane potential), evaluated at several times from one run.
Differs from the papers: no biases and no max pooling (as Diehl et al.); reset to zero, as PyNN's standard cells
cannot reset by subtraction (Rueckauer et al.'s choice; the charge above threshold is lost, so rates fall ~20 %
short of the ANN's activations per layer, about evenly, which the argmax tolerates); a one-step delay per layer.
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
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import pyNN.cupy as sim  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coding  # noqa: E402
import digits  # noqa: E402
import tools  # noqa: E402

KERNEL, POOL, N_CLASSES = 5, 2, 10


# ---- the ANN, in NumPy ---------------------------------------------------------------------------------------

def patches(x: np.ndarray) -> np.ndarray:
    """im2col: (n, 28, 28) -> (n, 24, 24, 25), the 5x5 window under each valid output position."""
    return sliding_window_view(x, (KERNEL, KERNEL), axis=(1, 2)).reshape(x.shape[0], x.shape[1] - KERNEL + 1,
                                                                          x.shape[2] - KERNEL + 1, -1)


def forward(params: dict, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """(patches, conv pre-activation z (n, 24, 24, k), pooled ReLU (n, 12, 12, k), logits (n, 10)).
    The conv is a cross-correlation, z[i, j] = sum_ab x[i + a, j + b] w[a, b], as ML packages compute it."""
    p = patches(x)
    z = p @ params["conv"].reshape(KERNEL * KERNEL, -1)
    n, rows, cols, k = z.shape
    pooled = np.maximum(z, 0).reshape(n, rows // POOL, POOL, cols // POOL, POOL, k).mean(axis=(2, 4))
    logits = pooled.reshape(n, -1) @ params["dense"].reshape(-1, N_CLASSES)
    return p, z, pooled, logits


def predict(params: dict, x: np.ndarray, batch: int = 500) -> np.ndarray:
    return np.concatenate([forward(params, x[i:i + batch])[3] for i in range(0, len(x), batch)]).argmax(1)


def train_cnn(x: np.ndarray, y: np.ndarray, n_filters: int, epochs: int, rng: np.random.Generator,
              batch: int = 50, lr: float = 2e-3) -> dict:
    """Conv (n_filters 5x5, no bias) -> ReLU -> avg pool 2x2 -> dense (no bias); Adam on cross-entropy.
    params["conv"]: (5, 5, k); params["dense"]: (12, 12, k, 10), the pooled map's (row, col, filter) order."""
    side = (x.shape[1] - KERNEL + 1) // POOL
    params = {"conv": rng.normal(0, np.sqrt(2 / KERNEL ** 2), (KERNEL, KERNEL, n_filters)),
              "dense": rng.normal(0, np.sqrt(1 / (side * side * n_filters)), (side, side, n_filters, N_CLASSES))}
    moments, step = tools.adam_moments(params), 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            p, z, pooled, logits = forward(params, x[idx])
            prob = np.exp(logits - logits.max(1, keepdims=True))
            prob /= prob.sum(1, keepdims=True)
            prob[np.arange(len(idx)), y[idx]] -= 1
            d_logits = prob / len(idx)                                           # (n, 10)
            grads = {"dense": (pooled.reshape(len(idx), -1).T @ d_logits).reshape(params["dense"].shape)}
            d_pooled = (d_logits @ params["dense"].reshape(-1, N_CLASSES).T).reshape(pooled.shape)
            d_z = np.repeat(np.repeat(d_pooled, POOL, 1), POOL, 2) / POOL ** 2 * (z > 0)
            grads["conv"] = (p.reshape(-1, KERNEL * KERNEL).T @ d_z.reshape(-1, n_filters)).reshape(
                params["conv"].shape)
            step += 1
            tools.adam(params, grads, moments, step, lr)
    return params


def balance_thresholds(params: dict, x: np.ndarray, percentile: float) -> tuple[float, float]:
    """(lambda_conv, lambda_out): the `percentile` of the positive ReLU outputs of the conv layer and of the
    positive logits over images x (Diehl et al.'s max for 100, Rueckauer et al.'s robust 99.9 or 99.99)."""
    conv, logits = [], []
    for i in range(0, len(x), 500):
        _, z, _, lo = forward(params, x[i:i + 500])
        conv.append(z[z > 0])
        logits.append(lo[lo > 0])
    return float(np.percentile(np.concatenate(conv), percentile)), float(np.percentile(np.concatenate(logits),
                                                                                       percentile))


# ---- the SNN on pyNN.cupy ------------------------------------------------------------------------------------

def build_snn(params: dict, thresholds: tuple[float, float], input_kind: str, shape=(28, 28)):
    """Input layer, k conv maps (one Grid3D population), 10 output cells; returns (input population, conv maps,
    output population)."""
    rows, cols = shape
    cell = dict(tau_m=1e9, cm=1.0, v_rest=0.0, v_reset=0.0, tau_refrac=0.0, i_offset=0.0)
    if input_kind == "poisson":
        inputs = sim.Population(rows * cols, sim.SpikeSourcePoisson(rate=0.0), label="input",
                                structure=sim.space.Grid2D(aspect_ratio=cols / rows))
    else:
        inputs = sim.Population(rows * cols, sim.IF_curr_delta(v_thresh=1.0, **cell), label="input",
                                structure=sim.space.Grid2D(aspect_ratio=cols / rows), initial_values={"v": 0.0})
    conv_rows, conv_cols = rows - KERNEL + 1, cols - KERNEL + 1
    output = sim.Population(N_CLASSES, sim.IF_curr_delta(v_thresh=thresholds[1], **cell), label="output",
                            initial_values={"v": 0.0})
    k = params["conv"].shape[2]
    maps = sim.Population(k * conv_rows * conv_cols, sim.IF_curr_delta(v_thresh=thresholds[0], **cell),
                          label="conv maps", initial_values={"v": 0.0}, structure=sim.space.Grid3D(
                              aspect_ratioXY=conv_cols / conv_rows, aspect_ratioXZ=conv_cols / k))
    # one (k, 1, 5, 5) kernel onto the k maps (pyNN.cupy's multi-map ConvolutionConnector); the connector convolves
    # (flips the kernel): flip the ANN's cross-correlation kernel to compensate
    kernel = np.moveaxis(params["conv"][::-1, ::-1, :], 2, 0)[:, np.newaxis]
    sim.Projection(inputs, maps, sim.ConvolutionConnector(kernel), sim.Convolution())
    # (maps, pooled rows, pooled columns, 10) weights, the connector's order; it divides them by the pool area
    # (average pooling)
    sim.Projection(maps, output, sim.PoolDenseConnector(np.moveaxis(params["dense"], 2, 0), pool_shape=POOL),
                   sim.PoolDense())
    output.record(["spikes", "v"])
    return inputs, maps, output


def classify(counts: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Argmax of spike counts (..., 10), ties broken by the membrane potential v (..., 10)."""
    return np.where(counts == counts.max(-1, keepdims=True), v, -np.inf).argmax(-1)


def run_snn(x: np.ndarray, inputs, output, input_kind: str, max_rate: float, sim_time: float,
            eval_times: np.ndarray, dt: float, progress: bool = True):
    """Each image: set the input, run, read the output spikes and v, reset. Returns (predictions at
    eval_times (n, len(eval_times)), output spike counts at sim_time (n, 10), wall seconds per image)."""
    predictions = np.zeros((len(x), len(eval_times)), int)
    counts = np.zeros((len(x), N_CLASSES), int)
    walls = np.zeros(len(x))
    v_index = np.clip(np.round(eval_times / dt).astype(int) - 1, 0, None)
    for i, image in enumerate(tools.progress(x, "test images", progress)):
        start = time.perf_counter()
        rates = coding.poisson_rates(image.ravel(), max_rate)
        if input_kind == "poisson":
            inputs.set(rate=rates)
        else:
            inputs.set(i_offset=rates / 1000.0)          # nA into 1 nF: dv/dt = rate / 1000 mV/ms, threshold 1 mV
        sim.run(sim_time)
        block = output.get_data(["spikes", "v"], clear=True)
        segment = block.segments[-1]
        spikes = [np.asarray(train.rescale("ms").magnitude) for train in sorted(
            segment.spiketrains, key=lambda t: t.annotations["source_index"])]
        v = np.asarray(segment.filter(name="v")[0].magnitude)                     # (steps, 10)
        t_counts = np.array([[np.count_nonzero(s <= t + dt / 2) for s in spikes] for t in eval_times])
        predictions[i] = classify(t_counts, v[np.minimum(v_index, len(v) - 1)])
        counts[i] = [len(s) for s in spikes]
        sim.reset()
        walls[i] = time.perf_counter() - start
    return predictions, counts, walls


# ---- figures -------------------------------------------------------------------------------------------------

def plot_filters(params: dict, filename: str) -> None:
    k = params["conv"].shape[2]
    columns = min(k, 8)
    figure, axes = plt.subplots(-(-k // columns), columns, figsize=(1.2 * columns, 1.3 * -(-k // columns)),
                                squeeze=False)
    bound = np.abs(params["conv"]).max()
    for f, axis in enumerate(axes.flat):
        axis.axis("off")
        if f < k:
            axis.imshow(params["conv"][:, :, f], cmap="RdBu_r", vmin=-bound, vmax=bound)
            axis.set_title("%d" % f, fontsize=8)
    figure.suptitle("learned 5x5 filters (cross-correlation)", fontsize=9)
    figure.tight_layout()
    figure.savefig(filename, dpi=120)
    plt.close(figure)


def plot_accuracy(eval_times, snn_accuracy, ann_accuracy, label, filename) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(eval_times, 100 * snn_accuracy, "o-", label="SNN (%s)" % label)
    axis.axhline(100 * ann_accuracy, color="k", ls="--", label="ANN %.1f %%" % (100 * ann_accuracy))
    axis.axhline(10, color="grey", ls=":", label="chance")
    axis.set(xlabel="simulated time (ms)", ylabel="test accuracy (%)", ylim=(0, 100),
             title="ANN-to-SNN conversion on pyNN.cupy")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(filename, dpi=120)
    plt.close(figure)


# ---- main ----------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI size: 8 filters, 2 epochs, 100 test images, 50 ms")
    digits.add_arguments(parser)
    parser.add_argument("--filters", type=int, default=None, help="conv filters (default 16; quick 8)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 8; quick 2)")
    parser.add_argument("--sim-time", type=float, default=None, help="ms per image (default 100; quick 50)")
    parser.add_argument("--timestep", type=float, default=0.1, help="ms (default 0.1)")
    parser.add_argument("--max-rate", type=float, default=1000.0,
                        help="input rate of a white pixel, Hz (default 1000: 0.1 spike per 0.1 ms step)")
    parser.add_argument("--percentile", type=float, default=99.9,
                        help="of the positive activations, for the thresholds (100: the maximum)")
    parser.add_argument("--input", default="current", choices=["current", "poisson"])
    tools.add_run_arguments(parser)
    args = parser.parse_args(argv)
    quick = {"n_train": None, "n_test": 100, "filters": 8, "epochs": 2, "sim_time": 50.0}
    full = {"n_train": None, "n_test": None, "filters": 16, "epochs": 8, "sim_time": 100.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_test, y_test = digits.load(args.dataset, args.path, args.n_train, args.n_test, args.seed)
    print(digits.describe(args.dataset, len(x_train), len(x_test), args.path))
    x_train, x_test = x_train.astype(np.float64), x_test.astype(np.float64)

    start = time.perf_counter()
    params = train_cnn(x_train, y_train, args.filters, args.epochs, rng)
    train_time = time.perf_counter() - start
    ann_pred = predict(params, x_test)
    ann_accuracy = float(np.mean(ann_pred == y_test))
    print("ANN: conv 5x5x%d (no bias) -> ReLU -> avg pool 2x2 -> dense 10, %d epochs on %d images in %.1f s"
          % (args.filters, args.epochs, len(x_train), train_time))
    print("ANN test accuracy: %.2f %%" % (100 * ann_accuracy))

    lambdas = balance_thresholds(params, x_train[:2000], args.percentile)
    thresholds = (lambdas[0], lambdas[1] / lambdas[0])
    print("thresholds (percentile %g): conv %.4g mV, output %.4g mV" % (args.percentile, *thresholds))

    precision = "float32"
    sim.setup(timestep=args.timestep, min_delay=args.timestep, device=args.device, rng_seed=args.seed,
              precision=precision)
    start = time.perf_counter()
    inputs, maps, output = build_snn(params, thresholds, args.input, x_test.shape[1:])
    sim.run(0.0)   # build (and compile) here, not in the first image's time
    sim.reset()
    print("SNN: %d cells, built in %.2f s on %s, %s (%s input, max %g Hz, dt %g ms, %g ms per image)"
          % (inputs.size + maps.size + output.size, time.perf_counter() - start,
             sim.simulator.state.device, precision, args.input, args.max_rate, args.timestep, args.sim_time))

    grid = np.array([t for t in (2, 5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000, 2000)
                     if t < args.sim_time] + [args.sim_time])
    eval_times = np.round(grid / args.timestep) * args.timestep
    predictions, counts, walls = run_snn(x_test, inputs, output, args.input, args.max_rate, args.sim_time,
                                         eval_times, args.timestep, progress=not args.no_progress)
    sim.end()
    snn_accuracy = (predictions == y_test[:, None]).mean(0)
    agreement = (predictions[:, -1] == ann_pred).mean()

    print("\naccuracy against simulated time (%d test images):" % len(x_test))
    print("  time (ms)  SNN accuracy (%)")
    for t, a in zip(eval_times, snn_accuracy):
        print("  %9g  %6.2f" % (t, 100 * a))
    print("\n  network  accuracy (%)")
    print("  ANN      %6.2f" % (100 * ann_accuracy))
    print("  SNN      %6.2f   (%g ms; same class as the ANN for %.1f %% of images)"
          % (100 * snn_accuracy[-1], args.sim_time, 100 * agreement))
    print("output spikes per image: %.1f (winner %.1f); wall time per image %.3f s (median %.3f s), %.1f s in all"
          % (counts.sum(1).mean(), counts.max(1).mean(), walls.mean(), np.median(walls), walls.sum()))
    print("ANN test accuracy: %.2f %%; SNN test accuracy: %.2f %%" % (100 * ann_accuracy, 100 * snn_accuracy[-1]))

    filters_png = os.path.join(args.output_dir, "ann_to_snn_filters.png")
    accuracy_png = os.path.join(args.output_dir, "ann_to_snn_accuracy.png")
    plot_filters(params, filters_png)
    plot_accuracy(eval_times, snn_accuracy, ann_accuracy, "%s input, %d images" % (args.input, len(x_test)),
                  accuracy_png)
    print("figures written to %s and %s" % (filters_png, accuracy_png))


if __name__ == "__main__":
    main()
