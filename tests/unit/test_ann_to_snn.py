"""examples/deep/ann_to_snn.py --quick end to end (NumPy CNN, conversion, 100 test images on pyNN.cupy)."""
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "deep" / "ann_to_snn.py"


def test_ann_to_snn_quick(tmp_path):
    """The converted SNN classifies far above chance and close to its ANN.

    --quick for seeds 1..7 (each seed also draws the 100 test images) gave ANN 88-96 % and SNN 90-97 %, SNN - ANN
    between 0 and +2 points. With 100 images the binomial standard error is at most 3 points, so SNN >= 70 %
    (chance is 10 %) leaves over 6 standard errors below the worst seed seen, and |SNN - ANN| <= 10 points 8
    points beyond the largest gap. The kernel passed unflipped gives a silent output and 12 %."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--seed", "1", "--no-progress",
                             "--output-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = re.search(r"ANN test accuracy: ([\d.]+) %; SNN test accuracy: ([\d.]+) %", result.stdout)
    assert found, result.stdout[-3000:]
    ann, snn = float(found.group(1)), float(found.group(2))
    assert ann >= 80.0, result.stdout
    assert snn >= 70.0, result.stdout
    assert abs(snn - ann) <= 10.0, result.stdout
    for name in ("ann_to_snn_accuracy.png", "ann_to_snn_filters.png"):
        png = tmp_path / name
        assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
