"""Spiking autoencoder on pyNN.cupy: a dense autoencoder trained with NumPy on digit images, converted to
non-leaky integrate-and-fire neurons (input -> hidden -> reconstruction), its reconstructions read from the
output firing rates and compared with the ANN's and with the mean image.

The issue asks for a "spiking autoencoder" and allows weights trained offline and converted. Conversion after
P. U. Diehl, D. Neil, J. Binas, M. Cook, S.-C. Liu, M. Pfeiffer (2015), "Fast-classifying, high-accuracy
spiking deep networks through weight and threshold balancing", IJCNN 2015, with the percentile of
B. Rueckauer, I.-A. Lungu, Y. Hu, M. Pfeiffer, S.-C. Liu (2017), Front. Neurosci. 11:682, as in ann_to_snn.py.

    python examples/deep/autoencoder.py --quick                 # CI on the CPU twin: < 1 min
    python examples/deep/autoencoder.py                         # 4000 / 1000 MNIST subset, 128 hidden cells
    python examples/deep/autoencoder.py --dataset mnist --path DIR --n-test 10000 --device gpu

ANN: 784 -> h (ReLU) -> 784 (ReLU), no biases (as Diehl et al.: nothing to convert but weights); Adam on the
mean squared error, in NumPy. Without biases, ReLU units started at random die (half the hidden layer after an
epoch), so training starts from the truncated SVD of the (uncentred) training images: with v the h/2 leading
right singular vectors, encoder [v, -v] and decoder [v, -v]^T, since relu(u) - relu(-u) = u.
Conversion (as ann_to_snn.py): every unit an IF_curr_delta cell, tau_m = 1e9 ms (no leak), v_reset = 0 (reset
to zero), tau_refrac = 0; the ANN's weights as mV jumps, each dense layer two AllToAllConnector projections
with weight arrays (n_pre, n_post): the positive part onto the excitatory receptor, the negative part (zero
elsewhere) onto the inhibitory one. lambda_1, lambda_2: the --percentile of the hidden and output layers'
positive activations on training images. Input: pixel x as a constant current (i_offset), firing at
x * --max-rate (R); hidden threshold lambda_1 (hidden rate a / lambda_1 * R); output threshold
lambda_2 / lambda_1 * R / --output-rate (R_out), so output cell i fires at z_i / lambda_2 * R_out and the
reconstruction after t ms is (its spikes) / (t * R_out) * lambda_2. Each test image: set the input, run
--sim-time ms, read the spikes, reset().
Differs from the papers: here the rates themselves are the result (no argmax to forgive errors), and reset to
zero (PyNN's standard cells cannot reset by subtraction) loses the charge above threshold at each spike. Two
remedies: every cell starts at a random v in [0, threshold) (fixed per cell; restored by reset()), which
desynchronises pixels of equal value (otherwise all firing in the same step) and makes the spike count an
unbiased measure of the charge instead of rounding it down; and the output cells fire slower than the input
(R_out = 250 Hz < R = 1000 Hz): the output layer feeds nothing, and a higher threshold makes each hidden spike a
smaller fraction of it, hence a smaller loss. The SNN's outputs are still ~0.85 x the ANN's (hidden rates ~10 %
short, output rates a few % more), most of the gap between their MSEs.
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

import pyNN.cupy as sim  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digits  # noqa: E402
import tools  # noqa: E402


# ---- the ANN, in NumPy ---------------------------------------------------------------------------------------

def forward(params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n, 784) -> (hidden ReLU (n, h), output pre-activation z (n, 784), reconstruction ReLU(z))."""
    hidden = np.maximum(x @ params["enc"], 0.0)
    z = hidden @ params["dec"]
    return hidden, z, np.maximum(z, 0.0)


def train_autoencoder(x: np.ndarray, hidden: int, epochs: int, rng: np.random.Generator, batch: int = 50,
                      lr: float = 1e-3) -> dict:
    """params["enc"] (784, h), params["dec"] (h, 784): SVD start (module docstring), then Adam on the MSE."""
    if hidden < 2 or hidden % 2:
        raise ValueError("--hidden=%d: must be even and >= 2 (units come in +/- pairs at the start)" % hidden)
    _, _, vt = np.linalg.svd(x[:2000], full_matrices=False)
    v = vt[:hidden // 2].T
    if v.shape[1] < hidden // 2:
        raise ValueError("--hidden=%d: at most %d for %d training images" % (hidden, 2 * v.shape[1], len(x)))
    params = {"enc": np.concatenate([v, -v], 1), "dec": np.concatenate([v, -v], 1).T.copy()}
    moments, step = tools.adam_moments(params), 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            xb = x[order[start:start + batch]]
            h, z, y = forward(params, xb)
            d_z = 2.0 * (y - xb) / len(xb) * (z > 0)          # of the squared error summed over pixels
            grads = {"dec": h.T @ d_z, "enc": xb.T @ (d_z @ params["dec"].T * (h > 0))}
            step += 1
            tools.adam(params, grads, moments, step, lr)
    return params


def balance(params: dict, x: np.ndarray, percentile: float) -> tuple[float, float]:
    """(lambda_hidden, lambda_output): the `percentile` of each layer's positive activations over images x."""
    hidden, _, y = forward(params, x)
    return float(np.percentile(hidden[hidden > 0], percentile)), float(np.percentile(y[y > 0], percentile))


# ---- the SNN on pyNN.cupy ------------------------------------------------------------------------------------

def dense(pre, post, weights: np.ndarray) -> None:
    """A dense layer: weights (pre.size, post.size), mV; positive part excitatory, negative part inhibitory."""
    for receptor, part in (("excitatory", np.maximum(weights, 0.0)), ("inhibitory", np.minimum(weights, 0.0))):
        sim.Projection(pre, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=part), receptor_type=receptor)


def build_snn(params: dict, thresholds: tuple[float, float], rng: np.random.Generator):
    """Input (784), hidden (h) and output (784) populations of non-leaky IF cells, reset to zero, each cell
    starting at a random v in [0, threshold) (module docstring); thresholds (hidden, output) in mV."""
    n_in, n_hidden = params["enc"].shape
    cell = dict(tau_m=1e9, cm=1.0, v_rest=0.0, v_reset=0.0, tau_refrac=0.0, i_offset=0.0)
    populations = []
    for label, size, threshold in (("input", n_in, 1.0), ("hidden", n_hidden, thresholds[0]),
                                   ("output", n_in, thresholds[1])):
        populations.append(sim.Population(size, sim.IF_curr_delta(v_thresh=threshold, **cell), label=label,
                                          initial_values={"v": rng.uniform(0.0, threshold, size)}))
    inputs, hidden, output = populations
    dense(inputs, hidden, params["enc"])
    dense(hidden, output, params["dec"])
    hidden.record("spikes")
    output.record("spikes")
    return inputs, hidden, output


def spike_counts(population, n: int, eval_times: np.ndarray, dt: float) -> np.ndarray:
    """Spikes of each cell up to each of eval_times: (len(eval_times), n), from the recording (cleared)."""
    segment = population.get_data("spikes", clear=True).segments[-1]
    counts = np.zeros((len(eval_times), n), int)
    for train in segment.spiketrains:
        times = np.asarray(train.rescale("ms").magnitude)
        counts[:, train.annotations["source_index"]] = np.searchsorted(times, eval_times + dt / 2, side="right")
    return counts


def run_snn(x: np.ndarray, inputs, hidden, output, lambda_out: float, max_rate: float, output_rate: float,
            sim_time: float, eval_times: np.ndarray, dt: float, progress: bool = True):
    """Each image: set the input, run, read the spikes, reset. Returns (reconstructions at eval_times
    (len(eval_times), n, 784), hidden and output spikes per image (n,), wall seconds per image (n,))."""
    recon = np.zeros((len(eval_times),) + x.shape)
    hidden_spikes, output_spikes, walls = np.zeros(len(x)), np.zeros(len(x)), np.zeros(len(x))
    for i, image in enumerate(tools.progress(x, "test images", progress)):
        start = time.perf_counter()
        inputs.set(i_offset=image * max_rate / 1000.0)   # nA into 1 nF: dv/dt = rate / 1000 mV/ms, threshold 1 mV
        sim.run(sim_time)
        counts = spike_counts(output, output.size, eval_times, dt)
        hidden_spikes[i] = spike_counts(hidden, hidden.size, eval_times[-1:], dt).sum()
        output_spikes[i] = counts[-1].sum()
        recon[:, i] = counts / (eval_times[:, None] / 1000.0 * output_rate) * lambda_out
        sim.reset()
        walls[i] = time.perf_counter() - start
    return recon, hidden_spikes, output_spikes, walls


# ---- figures -------------------------------------------------------------------------------------------------

def plot_reconstructions(x, ann, snn, sim_time, filename, shape=(28, 28)) -> None:
    n = len(x)
    figure, axes = plt.subplots(3, n, figsize=(1.1 * n, 3.6), squeeze=False)
    for row, (images, name) in enumerate(((x, "input"), (ann, "ANN"), (snn, "SNN %g ms" % sim_time))):
        for k in range(n):
            axes[row, k].imshow(np.clip(images[k], 0, 1).reshape(shape), cmap="gray", vmin=0, vmax=1)
            axes[row, k].set_xticks([])
            axes[row, k].set_yticks([])
        axes[row, 0].set_ylabel(name, fontsize=9)
    figure.suptitle("test digits and their reconstructions", fontsize=10)
    figure.tight_layout()
    figure.savefig(filename, dpi=120)
    plt.close(figure)


def plot_mse(eval_times, snn_mse, ann_mse, baseline_mse, filename) -> None:
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(eval_times, snn_mse, "o-", label="SNN")
    axis.axhline(ann_mse, color="k", ls="--", label="ANN %.4f" % ann_mse)
    axis.axhline(baseline_mse, color="grey", ls=":", label="mean image %.4f" % baseline_mse)
    axis.set(xlabel="simulated time (ms)", ylabel="reconstruction MSE (per pixel)", xscale="log", yscale="log",
             title="spiking autoencoder on pyNN.cupy")
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(filename, dpi=120)
    plt.close(figure)


# ---- main ----------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="CI size: 64 hidden cells, 2 epochs, 100 test images")
    digits.add_arguments(parser)
    parser.add_argument("--hidden", type=int, default=None, help="hidden cells, even (default 128; quick 64)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 10; quick 2)")
    parser.add_argument("--sim-time", type=float, default=100.0, help="ms per image (default 100)")
    parser.add_argument("--timestep", type=float, default=0.1, help="ms (default 0.1)")
    parser.add_argument("--max-rate", type=float, default=1000.0, help="input rate of a white pixel, Hz")
    parser.add_argument("--output-rate", type=float, default=250.0,
                        help="rate of an output cell at activation lambda_2, Hz (default 250)")
    parser.add_argument("--percentile", type=float, default=99.9,
                        help="of the positive activations, for the thresholds (100: the maximum)")
    tools.add_run_arguments(parser)
    args = parser.parse_args(argv)
    quick = {"n_train": None, "n_test": 100, "hidden": 64, "epochs": 2}
    full = {"n_train": None, "n_test": None, "hidden": 128, "epochs": 10}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.hidden < 2 or args.hidden % 2:
        parser.error("--hidden=%d: must be even and >= 2 (units come in +/- pairs at the start)" % args.hidden)
    if min(args.sim_time, args.timestep, args.max_rate, args.output_rate) <= 0:
        parser.error("--sim-time, --timestep, --max-rate and --output-rate must be > 0")
    return args


def mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a - b) ** 2))


def main(argv=None) -> None:
    args = parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    x_train, _, x_test, _ = digits.load(args.dataset, args.path, args.n_train, args.n_test, args.seed)
    print(digits.describe(args.dataset, len(x_train), len(x_test), args.path))
    shape = x_test.shape[1:]
    x_train = x_train.reshape(len(x_train), -1).astype(np.float64)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float64)

    start = time.perf_counter()
    params = train_autoencoder(x_train, args.hidden, args.epochs, rng)
    train_time = time.perf_counter() - start
    ann_test = forward(params, x_test)[2]
    ann_mse, baseline_mse = mse(ann_test, x_test), mse(x_train.mean(0), x_test)
    print("ANN: %d -> %d (ReLU) -> %d (ReLU), no biases, %d epochs on %d images in %.1f s"
          % (x_train.shape[1], args.hidden, x_train.shape[1], args.epochs, len(x_train), train_time))

    lambdas = balance(params, x_train[:2000], args.percentile)
    thresholds = (lambdas[0], lambdas[1] / lambdas[0] * args.max_rate / args.output_rate)
    print("thresholds (percentile %g): hidden %.4g mV, output %.4g mV" % (args.percentile, *thresholds))
    precision = "float32"
    sim.setup(timestep=args.timestep, min_delay=args.timestep, device=args.device, rng_seed=args.seed,
              precision=precision)
    start = time.perf_counter()
    inputs, hidden, output = build_snn(params, thresholds, rng)
    sim.run(0.0)   # build (and compile) here, not in the first image's time
    sim.reset()
    print("SNN: %d cells, %d synapses, built in %.2f s on %s, %s (input max %g Hz, output %g Hz at lambda_2, "
          "dt %g ms, %g ms per image)"
          % (inputs.size + hidden.size + output.size, 4 * inputs.size * hidden.size, time.perf_counter() - start,
             sim.simulator.state.device, precision, args.max_rate, args.output_rate, args.timestep, args.sim_time))

    grid = np.array([t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000) if t < args.sim_time]
                    + [args.sim_time])
    eval_times = np.round(grid / args.timestep) * args.timestep
    recon, hidden_spikes, output_spikes, walls = run_snn(
        x_test, inputs, hidden, output, lambdas[1], args.max_rate, args.output_rate, args.sim_time, eval_times,
        args.timestep, progress=not args.no_progress)
    sim.end()
    snn_mse = np.array([mse(r, x_test) for r in recon])

    print("\nreconstruction MSE (per pixel) against simulated time (%d test images):" % len(x_test))
    print("  time (ms)  SNN MSE")
    for t, e in zip(eval_times, snn_mse):
        print("  %9g  %.5f" % (t, e))
    slope = float(np.sum(recon[-1] * ann_test) / np.sum(ann_test ** 2))
    print("\n  reconstruction        MSE")
    print("  %-20s  %.5f" % ("mean training image", baseline_mse))
    print("  %-20s  %.5f" % ("ANN", ann_mse))
    print("  %-20s  %.5f   (MSE to the ANN's output %.5f; SNN output ~ %.3f x ANN output)"
          % ("SNN, %g ms" % args.sim_time, snn_mse[-1], mse(recon[-1], ann_test), slope))
    print("spikes per image: hidden %.0f, output %.0f; wall time per image %.3f s (median %.3f s), %.1f s in all"
          % (hidden_spikes.mean(), output_spikes.mean(), walls.mean(), np.median(walls), walls.sum()))
    print("MSE: mean image %.5f; ANN %.5f; SNN %.5f" % (baseline_mse, ann_mse, snn_mse[-1]))

    recon_png = os.path.join(args.output_dir, "autoencoder_reconstructions.png")
    mse_png = os.path.join(args.output_dir, "autoencoder_mse.png")
    k = min(8, len(x_test))
    plot_reconstructions(x_test[:k], ann_test[:k], recon[-1, :k], args.sim_time, recon_png, shape)
    plot_mse(eval_times, snn_mse, ann_mse, baseline_mse, mse_png)
    print("figures written to %s and %s" % (recon_png, mse_png))


if __name__ == "__main__":
    main()
