"""The deep-SNN examples (examples/deep/) end to end with --quick, as CI runs them on the CPU twin: each prints its
accuracy or error, asserted here against bounds justified in each test, and writes its PNG figures. Each runs in
its own interpreter with one BLAS thread (NumPy training under pytest -n 2 was up to 60x slower with OpenBLAS's
pool competing for the two cores)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

for _needed in ("mlxtend", "sklearn", "scipy", "matplotlib"):   # the examples' extras (a GPU machine may lack them)
    pytest.importorskip(_needed)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "deep"


def run_example(name: str, tmp_path: Path, pngs: tuple, *options: str) -> str:
    """`python examples/deep/<name> --quick --seed 1 [options]` in a fresh interpreter; its output, after checking
    that it succeeded and wrote the figures `pngs`."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", "--seed", "1", "--no-progress",
                             "--output-dir", str(tmp_path), *options], capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for png in pngs:
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    return result.stdout


def test_stdp_convnet_quick(tmp_path):
    """The STDP-learned features classify far above chance.

    --quick (8 maps, one pass of STDP over 200 images, SVM on their features, 100 test images) gave 92-95 % for
    seeds 1..3 on the CPU twin (about 15 s), 86-93 % for seeds 1..7 with every map learning at its own first
    spike (--per-map); the same network with its random initial kernels (--no-stdp) gives about 60 %. With 100
    test images the binomial standard error is at most 3.5 points near 86 %, so requiring >= 75 % (chance 10 % +
    65 points) leaves over 3 standard errors below the worst seed seen while still failing a network whose
    kernels did not learn."""
    out = run_example("stdp_convnet.py", tmp_path, ('stdp_convnet_kernels.png', 'stdp_convnet_examples.png'))
    found = re.search(r"test accuracy: ([\d.]+) %", out)
    assert found, out[-3000:]
    accuracy = float(found.group(1))
    assert accuracy >= 10.0 + 65.0, out
    assert "one pass over 200 images" in out, out


def test_stdp_convnet_two_layers_quick(tmp_path):
    """A second convolutional layer learned on the first's pooled spikes (--maps-2 20) still classifies far above
    chance from its own features alone.

    --quick --maps-2 20 gave 82 and 75 % for seeds 1..2 (about 25 s), 73, 71 and 66 % for seeds 1..3 with
    --per-map; with random kernels in both layers (--no-stdp) 20 %. With 100 test images the binomial standard error is about 4.6 points, so requiring
    >= 45 % (chance 10 % + 35 points) leaves over 4 standard errors below the worst seed seen and fails the
    unlearned network."""
    out = run_example("stdp_convnet.py", tmp_path, ('stdp_convnet_kernels.png', 'stdp_convnet_examples.png'),
                      "--maps-2", "20")
    found = re.search(r"test accuracy: ([\d.]+) %", out)
    assert found, out[-3000:]
    assert float(found.group(1)) >= 10.0 + 35.0, out
    assert "20 maps of 8x8" in out and "layer 2:" in out, out


def test_ann_to_snn_quick(tmp_path):
    """The converted SNN classifies far above chance and close to its ANN.

    --quick for seeds 1..7 (each seed also draws the 100 test images) gave ANN 88-96 % and SNN 90-97 %, SNN - ANN
    between 0 and +2 points. With 100 images the binomial standard error is at most 3 points, so SNN >= 70 %
    (chance is 10 %) leaves over 6 standard errors below the worst seed seen, and |SNN - ANN| <= 10 points 8
    points beyond the largest gap. The kernel passed unflipped gives a silent output and 12 %."""
    out = run_example("ann_to_snn.py", tmp_path, ('ann_to_snn_accuracy.png', 'ann_to_snn_filters.png'))
    found = re.search(r"ANN test accuracy: ([\d.]+) %; SNN test accuracy: ([\d.]+) %", out)
    assert found, out[-3000:]
    ann, snn = float(found.group(1)), float(found.group(2))
    assert ann >= 80.0, out
    assert snn >= 70.0, out
    assert abs(snn - ann) <= 10.0, out


def test_autoencoder_quick(tmp_path):
    """The spiking autoencoder reconstructs far better than the mean image and close to its ANN.

    --quick for seeds 1..7 (each seed also draws the 100 test images) gave MSEs of mean image 0.064-0.068,
    ANN 0.0118-0.0128, SNN 0.0143-0.0152: SNN / mean image 0.21-0.23, SNN / ANN 1.19-1.22, the SNN's MSE at
    100 ms 2.7-3x below its MSE at 10 ms. The bounds, SNN <= 0.5 x mean image and SNN <= 1.6 x ANN, leave more
    than twice and about 3 times the worst seed's margin over 1 (the seeds vary by +-3 %). Without the inhibitory
    projections the SNN's MSE is 5.0 (80 x the mean image's)."""
    out = run_example("autoencoder.py", tmp_path, ('autoencoder_reconstructions.png', 'autoencoder_mse.png'))
    found = re.search(r"MSE: mean image ([\d.]+); ANN ([\d.]+); SNN ([\d.]+)", out)
    assert found, out[-3000:]
    baseline, ann, snn = (float(g) for g in found.groups())
    assert ann <= 0.4 * baseline, out
    assert snn <= 0.5 * baseline, out
    assert snn <= 1.6 * ann, out
    curve = dict((float(t), float(e)) for t, e in re.findall(r"^ +([\d.]+) +([\d.]+)$", out, re.M))
    assert curve[100.0] == snn and curve[10.0] > 1.5 * curve[100.0], out


@pytest.mark.parametrize("variant", ["extension", "standard"])
def test_diehl_cook_quick(tmp_path, variant):
    """Unsupervised STDP with adaptive thresholds classifies far above chance, with pyNN.cupy's
    IF_cond_exp_adaptive_threshold and with the standard-PyNN GIF_cond_exp stand-in.

    --quick (100 excitatory cells, 300 training images once, labels from the responses to them, 100 test images)
    gave 67-68 % for seeds 1..2 (standard: 64 % for seed 1), about 40 s on one core; its A_plus of 0.003 is paced
    for more images per cell (400 cells x 4000 images: 86.8 %), 0.01 gave 70-74 % here. With their theta_plus of
    0.05 mV (homeostasis too slow for 300 images: about 20 cells learn a digit) it gives 33-38 %. With 100 images
    the binomial standard error is about 4.8 points, so requiring >= 50 % (chance 10 % + 40 points) leaves 3
    standard errors below the lowest figure seen and fails the network whose thresholds did not spread the
    learning."""
    options = ("--standard",) if variant == "standard" else ()
    out = run_example("diehl_cook.py", tmp_path, ("diehl_cook_weights.png",), *options)
    found = re.search(r"test accuracy: ([\d.]+) %", out)
    assert found, out[-3000:]
    assert float(found.group(1)) >= 10.0 + 40.0, out
    assert ("GIF_cond_exp" in out) == (variant == "standard"), out
