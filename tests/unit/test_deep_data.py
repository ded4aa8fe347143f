"""The deep-SNN examples' input side (examples/deep/digits.py, coding.py): dataset loading, IDX parsing,
DoG on/off filtering, latency coding, SpikeSourceArray lists, Poisson rates. No simulation; CPU only."""
import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

DEEP = Path(__file__).resolve().parents[2] / "examples" / "deep"


def _module(name):
    spec = importlib.util.spec_from_file_location(f"deep_examples_{name}", DEEP / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pytest.importorskip("scipy")   # coding.py's filters (the GPU machine may lack the examples' extras)
needs_mlxtend = pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed")
digits = _module("digits")
coding = _module("coding")


def _write_idx(path, array, type_byte=0x08, gz=False):
    """An IDX file written by hand (not by the module under test): header, big-endian dims, C-order data."""
    big_endian = {0x08: ">u1", 0x0B: ">i2", 0x0D: ">f4"}[type_byte]
    raw = (bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
           + np.ascontiguousarray(array, big_endian).tobytes())
    Path(path).write_bytes(gzip.compress(raw) if gz else raw)


def _fake_idx_dir(directory, gz_train=True, gz_test=False, n_train=6, n_test=4, seed=1):
    rng = np.random.default_rng(seed)
    data = {"x_train": rng.integers(0, 256, (n_train, 4, 5), dtype=np.uint8),
            "y_train": (np.arange(n_train) % 3).astype(np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 4, 5), dtype=np.uint8),
            "y_test": (np.arange(n_test) % 2).astype(np.uint8)}
    for key, stem in digits.IDX_NAMES.items():
        gz = gz_train if key.endswith("train") else gz_test
        _write_idx(Path(directory) / (stem + (".gz" if gz else "")), data[key], gz=gz)
    return data


# ---- datasets ----------------------------------------------------------------------------------------------

@needs_mlxtend
def test_subset_split_balance_range():
    x_train, y_train, x_test, y_test = digits.load()
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert np.issubdtype(x_train.dtype, np.floating) and np.issubdtype(y_train.dtype, np.integer)
    assert np.array_equal(np.bincount(y_train, minlength=10), np.full(10, 400))
    assert np.array_equal(np.bincount(y_test, minlength=10), np.full(10, 100))
    for x in (x_train, x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    # train and test together are exactly mlxtend's 5000 images (a partition, no image twice)
    from mlxtend.data import mnist_data
    raw, labels = mnist_data()
    ours = np.concatenate([x_train, x_test]).reshape(5000, -1) * 255
    key = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731
    assert np.array_equal(key(np.rint(ours)), key(raw))
    assert np.array_equal(np.sort(np.concatenate([y_train, y_test])), np.sort(labels))


@needs_mlxtend
def test_subset_seeded_and_prefix_balanced():
    a = digits.load(n_train=30, n_test=20, seed=3)
    b = digits.load(n_train=30, n_test=20, seed=3)
    c = digits.load(n_train=30, n_test=20, seed=4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])
    assert np.array_equal(np.bincount(a[1], minlength=10), np.full(10, 3))
    assert np.array_equal(np.bincount(a[3], minlength=10), np.full(10, 2))
    assert a[0].shape == (30, 28, 28) and a[2].shape == (20, 28, 28)
    with pytest.raises(ValueError, match="n_train"):
        digits.load(n_train=4001)
    with pytest.raises(ValueError, match="n_test"):
        digits.load(n_test=-1)


@needs_mlxtend
def test_describe_and_unknown_dataset():
    line = digits.describe("mnist-subset")
    assert "mlxtend" in line and "4000" in line and "1000" in line and "\n" not in line
    assert "dataset-fashion-mnist" in digits.describe("fashion-mnist")
    assert "60000" in digits.describe("mnist") and "10000" in digits.describe("mnist")
    assert "100 train" in digits.describe("mnist", n_train=100)
    assert "the IDX files in /data/fm" in digits.describe("fashion-mnist", path="/data/fm")
    for call in (lambda: digits.load("cifar"), lambda: digits.describe("cifar")):
        with pytest.raises(ValueError, match="mnist-subset"):
            call()


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 7
    _write_idx(tmp_path / "a", images, gz=gz)
    got = digits.read_idx(tmp_path / "a")
    assert got.shape == (2, 3, 4) and np.array_equal(got, images)
    for type_byte, values in ((0x0B, np.array([-300, 2, 30000], np.int16)),
                              (0x0D, np.array([[1.5, -2.25], [1e-3, 7.0]], np.float32))):
        _write_idx(tmp_path / "b", values, type_byte, gz=gz)
        got = digits.read_idx(tmp_path / "b")
        assert got.dtype == values.dtype and np.array_equal(got, values)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX"):
        digits.read_idx(tmp_path / "text")
    _write_idx(tmp_path / "short", np.zeros((3, 2, 2), np.uint8))
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match="data bytes"):
        digits.read_idx(tmp_path / "short")
    with pytest.raises(FileNotFoundError):
        digits.read_idx(tmp_path / "absent")


def test_mnist_from_idx_dir(tmp_path):
    data = _fake_idx_dir(tmp_path, gz_train=True, gz_test=False)
    x_train, y_train, x_test, y_test = digits.load("mnist", path=tmp_path)
    assert x_train.shape == (6, 4, 5) and x_test.shape == (4, 4, 5)
    # same images and labels, pixel / 255, in a permuted (class-interleaved) order
    for x, y, xs, ys in ((x_train, y_train, data["x_train"], data["y_train"]),
                         (x_test, y_test, data["x_test"], data["y_test"])):
        match = [int(np.flatnonzero((xs == np.rint(img * 255)).all(axis=(1, 2)))[0]) for img in x]
        assert sorted(match) == list(range(len(xs)))
        assert np.array_equal(y, ys[match]) and np.allclose(x, xs[match] / 255.0)
        assert x.min() >= 0 and x.max() <= 1
    assert sorted(digits.load("mnist", path=tmp_path, n_train=3)[1]) == [0, 1, 2]   # one of each class


def test_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="path"):
        digits.load("mnist")
    _fake_idx_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        digits.load("mnist", path=tmp_path)
    assert "train-images" not in str(info.value)            # names only what is missing
    with pytest.raises(FileNotFoundError, match="no directory"):
        digits.load("mnist", path=tmp_path / "nowhere")


def test_fashion_mnist_absent_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(digits, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist") as info:
        digits.load("fashion-mnist")
    assert "Fashion-MNIST" in str(info.value) and "apt-get install" in str(info.value)


def test_fashion_mnist_from_path(tmp_path):
    _fake_idx_dir(tmp_path, gz_train=True, gz_test=True)
    x_train, y_train, x_test, y_test = digits.load("fashion-mnist", path=tmp_path)
    assert x_train.shape == (6, 4, 5) and y_test.shape == (4,)


# ---- coding ------------------------------------------------------------------------------------------------

def test_dog_filters():
    on, off = coding.dog_filters()
    assert on.shape == off.shape == (7, 7)
    assert abs(on.sum()) < 1e-12 and abs(off.sum()) < 1e-12
    assert np.array_equal(off, -on)
    for sym in (on.T, on[::-1], on[:, ::-1]):
        assert np.allclose(on, sym)
    assert on[3, 3] == on.max() == 1.0 and on[0, 0] < 0 and on[3, 0] < 0
    assert coding.dog_filters(9, 1.5, 3.0)[0].shape == (9, 9)
    for bad in ((6, 1.0, 2.0), (7, 2.0, 1.0), (7, 0.0, 2.0), (1, 1.0, 2.0)):
        with pytest.raises(ValueError):
            coding.dog_filters(*bad)


def test_dog_response_dot():
    on, off = coding.dog_filters()
    images = np.zeros((2, 28, 28))
    images[0, 14, 14] = 1.0                                   # a bright dot; image 1 stays dark
    maps = coding.dog_response(images, on, off)
    assert maps.shape == (2, 2, 28, 28) and maps.min() >= 0
    assert np.unravel_index(maps[0, 0].argmax(), (28, 28)) == (14, 14)
    assert maps[0, 0, 14, 14] == pytest.approx(1.0) and maps[0, 1, 14, 14] == 0
    assert maps[0, 1, 14, 17] > 0 and maps[0, 0, 14, 17] == 0   # the surround: off cells respond
    assert maps[0, :, 14, 22].max() == 0 and maps[0, :, 2, 2].max() == 0   # outside the kernel's reach
    assert maps[1].max() == 0                                  # no bleeding between images
    assert coding.dog_response(images[0], on, off).shape == (1, 2, 28, 28)
    with pytest.raises(ValueError):
        coding.dog_response(np.zeros((2, 1, 28, 28)), on, off)


def test_dog_response_edge():
    on, off = coding.dog_filters()
    image = np.zeros((28, 28))
    image[:, 14:] = 1.0                                        # dark left, bright right
    on_map, off_map = coding.dog_response(image, on, off)[0]
    rows = slice(8, 20)                                        # away from the top and bottom borders
    assert (on_map[rows, 14] > 0).all() and (off_map[rows, 14] == 0).all()   # bright side of the edge
    assert (off_map[rows, 13] > 0).all() and (on_map[rows, 13] == 0).all()   # dark side
    assert np.abs(on_map[rows, 6]).max() < 1e-5 and np.abs(on_map[rows, 21]).max() < 1e-5  # uniform regions
    assert np.abs(off_map[rows, 6]).max() < 1e-5 and np.abs(off_map[rows, 21]).max() < 1e-5
    assert (on_map[rows, 27] > 0).all()                       # zero padding: bright against the dark outside


def test_latency_order_and_threshold():
    values = np.array([0.05, 0.3, 0.6, 0.9, 1.2]).reshape(1, 1, 1, 5)
    times = coding.latency_code(values, t_max=20.0, threshold=0.2)
    assert times.shape == values.shape
    t = times.ravel()
    assert np.isnan(t[0]) and not np.isnan(t[1:]).any()        # below threshold: silent
    assert (np.diff(t[1:]) < 0).all()                          # stronger fires earlier
    assert t[-1] == 0.0 and (t[1:] <= 20.0).all()
    assert np.allclose(t[1:], 20.0 * (1 - values.ravel()[1:] / 1.2))
    # per-sample scaling: a sample twice as bright codes the same; a fixed v_max does not rescale
    both = coding.latency_code(np.concatenate([values, 2 * values]), threshold=0.01)
    assert np.allclose(both[0], both[1])
    fixed = coding.latency_code(values, t_max=10.0, threshold=0.2, v_max=0.6).ravel()
    assert np.allclose(fixed[1:], [5.0, 0.0, 0.0, 0.0])
    assert np.isnan(coding.latency_code(np.zeros((1, 2, 3, 3)), threshold=0.1)).all()
    for kw in ({"t_max": 0}, {"threshold": 0}, {"v_max": -1.0}):
        with pytest.raises(ValueError):
            coding.latency_code(values, **kw)


def test_spike_source_arrays_one_sample():
    times = np.full((2, 2, 3), np.nan)
    times[0, 0, 1] = 3.0          # on map, row 0, col 1 -> cell 1
    times[0, 1, 2] = 0.0          # on map, row 1, col 2 -> cell 5
    times[1, 1, 0] = 7.5          # off map, row 1, col 0 -> cell 6 + 3 + 0 = 9
    lists = coding.to_spike_source_arrays(times, t_offset=1.0)
    assert isinstance(lists, list) and len(lists) == 12
    expected = [[] for _ in range(12)]
    expected[1], expected[5], expected[9] = [4.0], [1.0], [8.5]
    assert lists == expected
    assert all(isinstance(v, float) for cell in lists for v in cell)


def test_spike_source_arrays_sequence_of_samples():
    times = np.full((3, 2, 2, 2), np.nan)
    times[0, 0, 0, 0], times[1, 0, 0, 0], times[2, 0, 0, 0] = 5.0, 1.0, 9.0
    times[2, 1, 1, 1] = 2.0
    lists = coding.to_spike_source_arrays(times, t_offset=[100.0, 0.0, 50.0])   # samples not in time order
    assert len(lists) == 8
    assert lists[0] == [1.0, 59.0, 105.0] and lists[7] == [52.0]
    assert all(cell == [] for cell in lists[1:7])
    with pytest.raises(ValueError):
        coding.to_spike_source_arrays(times, t_offset=[0.0, 50.0])


@needs_mlxtend
def test_pipeline_on_digits():
    x_train = digits.load(n_train=10, n_test=0)[0]
    maps = coding.dog_response(x_train, *coding.dog_filters())
    times = coding.latency_code(maps)
    lists = coding.to_spike_source_arrays(times[0], t_offset=1.0)
    assert len(lists) == 2 * 28 * 28
    assert sum(map(len, lists)) == np.count_nonzero(~np.isnan(times[0])) > 0
    assert all(len(cell) <= 1 and all(1.0 <= v <= 21.0 for v in cell) for cell in lists)


def test_poisson_rates():
    pixels = np.array([[0, 1, 128, 255]]) / 255.0
    rates = coding.poisson_rates(pixels)
    assert rates.shape == (1, 4)
    assert np.allclose(rates, [[0.0, 0.25, 32.0, 63.75]])     # Diehl & Cook: pixel / 4 Hz
    assert np.allclose(coding.poisson_rates(pixels, max_rate=127.5), 2 * rates)
    with pytest.raises(ValueError, match="255"):
        coding.poisson_rates(np.array([0.0, 128.0]))
    with pytest.raises(ValueError):
        coding.poisson_rates(pixels, max_rate=-1.0)
