"""Spike coding of images for the deep-SNN examples: DoG on/off filtering, intensity-to-latency coding,
SpikeSourceArray spike lists, and Poisson rates.

Sources:
- DoG filtering and latency coding: S. R. Kheradpisheh, M. Ganjtabesh, S. J. Thorpe, T. Masquelier (2018),
  "STDP-based spiking deep convolutional neural networks for object recognition", Neural Networks 99:56-67
  (7x7 on/off DoG cells, sigmas 1 and 2; one spike per cell, earlier for stronger responses).
- Poisson rates: P. U. Diehl, M. Cook (2015), "Unsupervised learning of digit recognition using
  spike-timing-dependent plasticity", Front. Comput. Neurosci. 9:99 (rate = pixel / 4 Hz for 0..255,
  at most 63.75 Hz).

Units: times in ms, rates in Hz. Images are float arrays in [0, 1] of shape (n, rows, cols) (digits.load).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["dog_filters", "dog_response", "latency_code", "to_spike_source_arrays", "poisson_rates"]


def dog_filters(size: int = 7, sigma_center: float = 1.0,
                sigma_surround: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """On-centre and off-centre Difference-of-Gaussians kernels, each (size, size) float64.

    on = G(sigma_center) - G(sigma_surround) (normalised 2-D Gaussians, in pixels), made zero-mean over the
    window, then scaled so that its maximum (the centre) is 1; off = -on. This is Kheradpisheh et al. (2018)'s
    kernel (7x7, sigmas 1 and 2), zero-mean and max-normalised as in their SpykeTorch code.
    Raises ValueError unless size is odd and >= 3 and 0 < sigma_center < sigma_surround.
    """
    if int(size) != size or size < 3 or size % 2 == 0:
        raise ValueError(f"size={size}: must be an odd integer >= 3")
    if not 0 < sigma_center < sigma_surround:
        raise ValueError(f"need 0 < sigma_center < sigma_surround, got {sigma_center}, {sigma_surround}")
    half = int(size) // 2
    r2 = np.add.outer(np.arange(-half, half + 1) ** 2, np.arange(-half, half + 1) ** 2).astype(float)
    gauss = lambda s: np.exp(-r2 / (2 * s * s)) / (2 * np.pi * s * s)  # noqa: E731
    on = gauss(sigma_center) - gauss(sigma_surround)
    on -= on.mean()
    on /= on.max()
    return on, -on


def dog_response(images: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Rectified on/off DoG maps of a batch of images.

    images: (n, rows, cols) (or one (rows, cols) image, taken as n = 1), values in [0, 1].
    on, off: 2-D kernels (dog_filters). Correlation with zero padding, output the same size ('same').
    Returns float32 (n, 2, rows, cols): [:, 0] = max(images * on, 0), [:, 1] = max(images * off, 0)
    (* = correlation); both non-negative. Raises ValueError on other shapes.
    """
    x = np.asarray(images, np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or np.ndim(on) != 2 or np.ndim(off) != 2:
        raise ValueError(f"need images (n, rows, cols) and 2-D kernels, got {x.shape}, {np.shape(on)}, "
                         f"{np.shape(off)}")
    out = np.empty((x.shape[0], 2) + x.shape[1:], np.float32)
    for k, kernel in enumerate((on, off)):   # a (1, h, w) kernel filters each image on its own, all at once
        ndimage.correlate(x, np.asarray(kernel, np.float32)[None], output=out[:, k], mode="constant", cval=0.0)
    return np.maximum(out, 0.0, out=out)


def latency_code(maps: np.ndarray, t_max: float = 20.0, threshold: float = 0.2,
                 v_max: float | None = None) -> np.ndarray:
    """Intensity-to-latency code: one spike per cell at most, stronger responses earlier.

    maps: (n, ...) non-negative responses, first axis the sample (dog_response gives (n, 2, rows, cols)).
    A cell spikes iff its response v >= threshold (units of maps; the default 0.2 ~ 50 / 255 is the DoG
    threshold of the SpykeTorch MNIST examples, Mozafari et al. 2019, for 0..255 images), at
    t = t_max * (1 - v / v_ref) ms, clipped to [0, t_max]; v_ref is each sample's largest response
    (v_max=None: the strongest cell of every sample fires at 0) or the fixed v_max.
    Returns float64 spike times in ms, the shape of maps, NaN for silent cells.
    Kheradpisheh et al. (2018) make latency decrease with DoG output and use only the spike order; this
    linear map keeps that order. Raises ValueError for t_max <= 0, threshold <= 0, v_max <= 0, or maps of
    fewer than 2 dimensions.
    """
    v = np.asarray(maps, np.float64)
    if v.ndim < 2:
        raise ValueError(f"maps has shape {v.shape}: need (n, ...) with the sample on the first axis")
    if t_max <= 0 or threshold <= 0 or (v_max is not None and v_max <= 0):
        raise ValueError(f"need t_max > 0, threshold > 0, v_max > 0; got {t_max}, {threshold}, {v_max}")
    if v_max is None:
        v_ref = v.reshape(len(v), -1).max(axis=1, initial=0.0).reshape((-1,) + (1,) * (v.ndim - 1))
    else:
        v_ref = float(v_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        times = t_max * np.clip(1.0 - v / v_ref, 0.0, 1.0)
    return np.where(v >= threshold, times, np.nan)


def to_spike_source_arrays(times: np.ndarray, t_offset: float | Sequence[float] = 0.0) -> list[list[float]]:
    """Spike times (ms, NaN = no spike) as one list per cell for sim.SpikeSourceArray(spike_times=...).

    Scalar t_offset: `times` is one sample of any shape, e.g. (2, rows, cols) from latency_code(...)[i]; cell
    i is its C-order (raster) index, map * rows * cols + row * cols + col (on map first, then off); each
    time is shifted by t_offset.
    Sequence t_offset of length n: `times` is (n, ...), sample k shifted by t_offset[k] (e.g. k * period,
    presenting the samples in turn); each cell's list holds its spikes from all samples, sorted.
    Returns a list of len = cells per sample of lists of floats (ms). Many simulators (NEST) drop spikes
    at t <= 0, so give t_offset >= one time step. Raises ValueError when t_offset's length is not n.
    """
    t = np.asarray(times, np.float64)
    if np.ndim(t_offset) == 0:
        t = t.reshape(1, -1) + float(t_offset)
    else:
        offsets = np.asarray(t_offset, np.float64)
        if offsets.ndim != 1 or t.ndim < 2 or len(offsets) != len(t):
            raise ValueError(f"t_offset of shape {offsets.shape} needs times of shape ({len(offsets)}, ...), "
                             f"got {t.shape}")
        t = t.reshape(len(t), -1) + offsets[:, None]
    n_cells = t.shape[1]
    sample, cell = np.nonzero(~np.isnan(t))
    values = t[sample, cell]
    order = np.lexsort((values, cell))                  # by cell, then by time
    trains = [[] for _ in range(n_cells)]
    for c, v in zip(cell[order].tolist(), values[order].tolist()):
        trains[c].append(v)
    return trains


def poisson_rates(images: np.ndarray, max_rate: float = 63.75) -> np.ndarray:
    """Poisson firing rates (Hz) proportional to pixel intensity, for sim.SpikeSourcePoisson(rate=...).

    images: any shape, values in [0, 1] (pixel / 255). Returns float64 images * max_rate, same shape; the
    default 63.75 Hz is Diehl & Cook (2015)'s pixel / 4 Hz for pixels 0..255. Flatten one image with
    .ravel() for the raster order of a Population. Raises ValueError for values outside [0, 1] (e.g. raw
    0..255 pixels) or max_rate < 0.
    """
    x = np.asarray(images, np.float64)
    if max_rate < 0:
        raise ValueError(f"max_rate={max_rate}: must be >= 0 Hz")
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
        raise ValueError(f"images must lie in [0, 1] (got {np.nanmin(x)}..{np.nanmax(x)}); divide raw pixels by 255")
    return x * float(max_rate)
