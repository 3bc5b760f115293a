import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn
from tinynet import datasets

GENERATORS = [
    (datasets.spirals, dict(n_samples=301, n_classes=4), 301, 2, 4),
    (datasets.moons, dict(n_samples=201), 201, 2, 2),
    (datasets.xor, dict(n_samples=200), 200, 2, 2),
    (datasets.blobs, dict(n_samples=90, n_classes=3, n_features=5), 90, 5, 3),
]


@pytest.mark.parametrize("make, kw, n, n_features, n_classes", GENERATORS)
def test_shapes_dtypes_and_balanced_classes(make, kw, n, n_features, n_classes):
    x, y = make(**kw, rng=np.random.default_rng(0))
    assert x.shape == (n, n_features) and x.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert np.all(np.diff(y) >= 0)  # class order, as documented


@pytest.mark.parametrize("make, kw, n, n_features, n_classes", GENERATORS)
def test_seeded_rng_repeats_and_different_seeds_differ(make, kw, n, n_features, n_classes):
    x1, y1 = make(**kw, rng=np.random.default_rng(7))
    x2, y2 = make(**kw, rng=np.random.default_rng(7))
    x3, _ = make(**kw, rng=np.random.default_rng(8))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)
    x4, _ = make(**kw)  # rng=None draws fresh entropy
    assert x4.shape == x1.shape


def test_spirals_without_noise_lie_on_their_arms():
    x, y = datasets.spirals(300, 3, noise=0.0, rng=np.random.default_rng(0))
    for k in range(3):
        arm = x[y == k]
        radius = np.hypot(arm[:, 0], arm[:, 1])
        np.testing.assert_allclose(radius, np.linspace(0, 1, 100), atol=1e-12)
        # angle measured from the y axis, as the arm was drawn: 4k .. 4(k+1) radians
        angle = np.arctan2(arm[1:, 0], arm[1:, 1])
        expected = np.linspace(4.0 * k, 4.0 * (k + 1), 100)[1:]
        np.testing.assert_allclose(np.angle(np.exp(1j * (angle - expected))), 0, atol=1e-9)


def test_moons_without_noise_lie_on_two_half_circles():
    x, y = datasets.moons(100, noise=0.0, rng=np.random.default_rng(0))
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_xor_labels_are_the_xor_of_the_signs():
    x, y = datasets.xor(400, noise=0.0, rng=np.random.default_rng(0))
    assert set(map(tuple, x)) == {(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)}
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(int))
    x, y = datasets.xor(4000, noise=0.1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(y, (x[:, 0] * x[:, 1] < 0).astype(int))  # 10 std from the axes


def test_blobs_have_the_requested_spread():
    x, y = datasets.blobs(30000, n_classes=3, n_features=2, std=0.5, rng=np.random.default_rng(0))
    for k in range(3):
        assert x[y == k].std(axis=0) == pytest.approx([0.5, 0.5], rel=0.05)
    assert np.all(np.abs(x).max(axis=0) < 10 + 6 * 0.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(1, 8))
def test_spirals_counts_always_add_up(n_samples, n_classes):
    if n_samples < n_classes:
        with pytest.raises(ValueError, match="must be at least n_classes"):
            datasets.spirals(n_samples, n_classes, rng=np.random.default_rng(0))
        return
    x, y = datasets.spirals(n_samples, n_classes, rng=np.random.default_rng(0))
    counts = np.bincount(y, minlength=n_classes)
    assert counts.sum() == n_samples and counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(x))


def test_train_test_split_shuffles_and_keeps_pairs():
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    x_train, x_test, y_train, y_test = datasets.train_test_split(x, y, rng=np.random.default_rng(0))
    assert len(x_test) == len(y_test) == 3  # ceil(0.25 * 10), as scikit-learn
    assert len(x_train) == len(y_train) == 7
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), y)
    np.testing.assert_array_equal(x_train[:, 0], 2 * y_train)  # rows still belong to their labels
    np.testing.assert_array_equal(x_test[:, 0], 2 * y_test)
    assert not np.array_equal(y_train, np.sort(y_train)) or not np.array_equal(y_test, np.sort(y_test))
    again = datasets.train_test_split(x, y, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again[2], y_train)
    _, x_test, _, _ = datasets.train_test_split(x, y, test_size=4, rng=np.random.default_rng(0))
    assert len(x_test) == 4


@pytest.mark.parametrize("call, error, message", [
    (lambda: datasets.spirals(0), ValueError, "spirals: n_samples must be a positive integer, got 0"),
    (lambda: datasets.spirals(10.5), TypeError, "spirals: n_samples must be a positive integer, got 10.5"),
    (lambda: datasets.spirals(2, 3), ValueError,
     "spirals: n_samples (2) must be at least n_classes (3), so every class has a sample"),
    (lambda: datasets.spirals(noise=-0.1), ValueError, "spirals: noise must be a finite number >= 0, got -0.1"),
    (lambda: datasets.moons(noise=float("nan")), ValueError, "moons: noise must be a finite number >= 0, got nan"),
    (lambda: datasets.moons(1), ValueError, "moons: n_samples must be at least 2 (one per moon), got 1"),
    (lambda: datasets.xor(noise="high"), TypeError, "xor: noise must be a number, got 'high'"),
    (lambda: datasets.blobs(n_features=0), ValueError, "blobs: n_features must be a positive integer, got 0"),
    (lambda: datasets.blobs(std=-1), ValueError, "blobs: std must be a finite number >= 0, got -1.0"),
    (lambda: datasets.blobs(rng=42), TypeError,
     "blobs: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got int"),
    (lambda: datasets.train_test_split(np.zeros((5, 2)), np.zeros(4)), ValueError,
     "train_test_split: x has 5 samples but y has 4"),
    (lambda: datasets.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=1.0), ValueError,
     "train_test_split: test_size as a fraction must be in (0, 1), got 1.0"),
    (lambda: datasets.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=5), ValueError,
     "train_test_split: test_size as a count must be in [1, 4] for 5 samples, got 5"),
    (lambda: datasets.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=0.9), ValueError,
     "train_test_split: test_size=0.9 of 5 samples leaves no training samples"),
    (lambda: datasets.train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=True), TypeError,
     "train_test_split: test_size must be a fraction in (0, 1) or a number of samples, got True"),
    (lambda: datasets.train_test_split(np.zeros((1, 2)), np.zeros(1)), ValueError,
     "train_test_split: need at least 2 samples to split, got 1"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_exported_from_the_package():
    assert tn.datasets is datasets
