"""What the deep-SNN examples share: a progress bar over a loop, their run options, and the Adam update of their
NumPy training."""
from __future__ import annotations

import sys

import numpy as np
from pyNN.utility import ProgressBar


def progress(items, description: str, show: bool = True):
    """Iterate over `items` with a progress bar: tqdm when installed, else PyNN's ProgressBar (every 1 % on a
    terminal, every 10 % otherwise); none when not `show`."""
    items = list(items)
    if not show:
        yield from items
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, desc=description, leave=False)
        return
    print(description)
    bar, shown, step = ProgressBar(width=52), -1, 1 if sys.stdout.isatty() else 10
    for k, item in enumerate(items):
        level = 100 * k // max(1, len(items)) // step * step
        if level != shown:
            bar(level / 100)
            shown = level
        yield item
    bar(1.0)
    print()


def add_run_arguments(parser) -> None:
    """The examples' run options: --device, --seed, --output-dir, --no-progress (argparse)."""
    parser.add_argument("--device", default="auto", choices=["auto", "gpu", "cpu"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output-dir", default=".")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def adam(params: dict, grads: dict, moments: dict, step: int, lr: float,
         beta1: float = 0.9, beta2: float = 0.999) -> None:
    """One Adam step (Kingma & Ba 2015) on `params` in place; `moments` maps each name to its (m, v) arrays,
    zeros at first (`adam_moments`); `step` counts from 1."""
    for key, g in grads.items():
        m, v = moments[key]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        params[key] -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + 1e-8)


def adam_moments(params: dict) -> dict:
    return {key: (np.zeros_like(value), np.zeros_like(value)) for key, value in params.items()}
