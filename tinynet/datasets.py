"""Toy classification data, generated (nothing is downloaded), and a train/test split.

Every generator takes ``rng``, a ``numpy.random.Generator`` (a fresh
unseeded one when None), and returns ``x: (n_samples, n_features)`` float64
and ``y: (n_samples,)`` int64 labels, in class order: shuffle (``fit`` does,
each epoch) or split with :func:`train_test_split` before taking a slice.
"""

import math

import numpy as np

from .checks import check_rng, check_size


def spirals(n_samples=300, n_classes=3, noise=0.2, rng=None):
    """Interleaved spiral arms in 2-D, one per class (the classic cs231n data set).

    Each arm runs from the origin to radius 1 while its angle turns by 4
    radians; ``noise`` is the std of the Gaussian jitter added to the angle.
    ``n_samples`` in all, split as evenly as possible between the classes.
    """
    rng = check_rng("spirals", "rng", rng)
    n_samples, n_classes = _check_counts("spirals", n_samples, n_classes)
    noise = _check_nonnegative("spirals", "noise", noise)
    y = _balanced_labels(n_samples, n_classes)
    x = np.empty((n_samples, 2))
    for k in range(n_classes):
        idx = np.flatnonzero(y == k)
        n = idx.size
        radius = np.linspace(0.0, 1.0, n)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), n) + noise * rng.standard_normal(n)
        x[idx, 0] = radius * np.sin(angle)
        x[idx, 1] = radius * np.cos(angle)
    return x, y


def moons(n_samples=200, noise=0.1, rng=None):
    """Two interleaving half circles in 2-D (as ``sklearn.datasets.make_moons``).

    Class 0 is the upper arc centred at (0, 0), class 1 the lower arc
    centred at (1, 0.5); ``noise`` is the std of Gaussian noise added to
    each coordinate.
    """
    rng = check_rng("moons", "rng", rng)
    n_samples = check_size("moons", "n_samples", n_samples)
    if n_samples < 2:
        raise ValueError(f"moons: n_samples must be at least 2 (one per moon), got {n_samples}")
    noise = _check_nonnegative("moons", "noise", noise)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    x = np.concatenate([
        np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
        np.column_stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)]),
    ])
    x += noise * rng.standard_normal(x.shape)
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    return x, y


def xor(n_samples=200, noise=0.1, rng=None):
    """The XOR problem in 2-D: clusters at the four corners (+-1, +-1), label 1 where the signs differ.

    Corners take turns, so the four are equally filled when ``n_samples`` is
    a multiple of 4; ``noise`` is the std of the Gaussian spread of each
    cluster. No linear model can separate the classes.
    """
    rng = check_rng("xor", "rng", rng)
    n_samples = check_size("xor", "n_samples", n_samples)
    noise = _check_nonnegative("xor", "noise", noise)
    corner = np.arange(n_samples) % 4
    bits = np.column_stack([corner >> 1, corner & 1])
    y = (bits[:, 0] ^ bits[:, 1]).astype(np.int64)
    order = np.argsort(y, kind="stable")  # class order, like the other generators
    x = (2.0 * bits - 1.0) + noise * rng.standard_normal((n_samples, 2))
    return x[order], y[order]


def blobs(n_samples=300, n_classes=3, n_features=2, std=1.0, rng=None):
    """Isotropic Gaussian clusters, one per class, centred uniformly at random in [-10, 10]^d.

    ``d`` is ``n_features``; ``std`` is the standard deviation of each
    cluster around its centre; ``n_samples`` in all, split as evenly as
    possible between the classes.
    """
    rng = check_rng("blobs", "rng", rng)
    n_samples, n_classes = _check_counts("blobs", n_samples, n_classes)
    n_features = check_size("blobs", "n_features", n_features)
    std = _check_nonnegative("blobs", "std", std)
    centres = rng.uniform(-10.0, 10.0, size=(n_classes, n_features))
    y = _balanced_labels(n_samples, n_classes)
    x = centres[y] + std * rng.standard_normal((n_samples, n_features))
    return x, y


def train_test_split(x, y, test_size=0.25, rng=None):
    """Shuffle and split into ``x_train, x_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) (the test set gets
    ``ceil(test_size * n)`` samples) or a number of samples; both parts must
    be non-empty. ``x`` and ``y`` are split along their first axis.
    """
    rng = check_rng("train_test_split", "rng", rng)
    x, y = _as_samples(x, "x"), _as_samples(y, "y")
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"train_test_split: x and y must be arrays of samples, got shapes "
                         f"{x.shape} and {y.shape}")
    n = len(x)
    if len(y) != n:
        raise ValueError(f"train_test_split: x has {n} samples but y has {len(y)}")
    if n < 2:
        raise ValueError(f"train_test_split: need at least 2 samples to split, got {n}")
    n_test = _test_count(test_size, n)
    perm = rng.permutation(n)
    test, train = perm[:n_test], perm[n_test:]
    return x[train], x[test], y[train], y[test]


def _as_samples(values, what):
    """``values`` as an array, or a ValueError for a ragged list (numpy's own words are cryptic)."""
    try:
        return np.asarray(values)
    except ValueError:
        raise ValueError(f"train_test_split: {what} must be an array, or a list of samples of one "
                         "shape; its rows differ in length") from None


def _test_count(test_size, n):
    who = "train_test_split"
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: test_size must be a fraction in (0, 1) or a number of samples, "
                        f"got {test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        if not 1 <= test_size <= n - 1:
            raise ValueError(f"{who}: test_size as a count must be in [1, {n - 1}] for {n} "
                             f"samples, got {test_size}")
        return int(test_size)
    if not 0 < test_size < 1:
        raise ValueError(f"{who}: test_size as a fraction must be in (0, 1), got {test_size}")
    n_test = math.ceil(test_size * n)
    if n_test > n - 1:
        raise ValueError(f"{who}: test_size={test_size} of {n} samples leaves no training "
                         "samples")
    return n_test


def _balanced_labels(n_samples, n_classes):
    """Labels in class order, the first ``n_samples % n_classes`` classes one sample larger."""
    counts = np.full(n_classes, n_samples // n_classes)
    counts[: n_samples % n_classes] += 1
    return np.repeat(np.arange(n_classes, dtype=np.int64), counts)


def _check_counts(who, n_samples, n_classes):
    n_samples = check_size(who, "n_samples", n_samples)
    n_classes = check_size(who, "n_classes", n_classes)
    if n_samples < n_classes:
        raise ValueError(f"{who}: n_samples ({n_samples}) must be at least n_classes "
                         f"({n_classes}), so every class has a sample")
    return n_samples, n_classes


def _check_nonnegative(who, what, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: {what} must be a number, got {value!r}")
    value = float(value)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{who}: {what} must be a finite number >= 0, got {value}")
    return value

