"""Dropout: its masks' statistics, the mask shared by forward and backward, modes, errors.

Its output and gradient for PyTorch's own masks are in test_layer_reference.py.
"""

import numpy as np
import pytest

import tinynet as tn


def dropout(p=0.5, seed=0):
    return tn.Dropout(p, rng=np.random.default_rng(seed))


class Reseeded(tn.Layer):
    """A Dropout given the same generator state before each forward: one fixed mask."""

    def __init__(self, p):
        super().__init__()
        self.dropout = tn.Dropout(p)

    def _forward(self, x):
        self.dropout.rng = np.random.default_rng(0)
        return self.dropout.forward(x), None

    def _backward(self, ctx, dy):
        return self.dropout.backward(dy)


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9])
def test_gradcheck_for_a_fixed_mask(p):
    x = np.random.default_rng(1).standard_normal((4, 5))
    report = tn.gradcheck(Reseeded(p), x)
    assert report.passed, str(report)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_keeps_each_entry_with_probability_one_minus_p_and_keeps_the_mean(p):
    n = 100_000
    y = dropout(p).forward(np.ones((100, n // 100)))
    kept = np.count_nonzero(y)
    sd = np.sqrt(n * p * (1 - p))  # binomial
    assert abs(kept - n * (1 - p)) < 5 * sd
    assert set(np.unique(y)) <= {0.0, 1 / (1 - p)}
    assert abs(y.mean() - 1) < 5 * sd / (n * (1 - p))


def test_backward_applies_the_mask_of_its_forward():
    d = dropout(0.5)
    x = np.random.default_rng(1).uniform(1, 2, size=(6, 7))
    dy = np.random.default_rng(2).standard_normal((6, 7))
    y1 = d.forward(x)
    y2 = d.forward(x)
    assert not np.array_equal(y1 != 0, y2 != 0)  # each forward draws its own mask
    # the newest forward's mask serves the first backward
    np.testing.assert_array_equal(d.backward(dy), dy * (y2 / x))
    np.testing.assert_array_equal(d.backward(dy), dy * (y1 / x))


def test_same_seed_same_masks():
    x = np.ones((20, 30))
    a, b, c = dropout(seed=3), dropout(seed=3), dropout(seed=4)
    ya, yb, yc = a.forward(x), b.forward(x), c.forward(x)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(ya, yc)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))  # and so on, draw by draw


def test_eval_mode_is_the_identity():
    d = dropout(0.9).eval()
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(d.forward(x), x)
    dy = np.ones((3, 4))
    np.testing.assert_array_equal(d.backward(dy), dy)
    d.train()
    assert np.count_nonzero(d.forward(x)) < x.size


def test_p_zero_is_the_identity_and_p_one_zeroes_everything():
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(dropout(0.0).forward(x), x)
    d = dropout(1.0)
    assert not d.forward(x).any()
    assert not d.backward(np.ones((3, 4))).any()


def test_keeps_the_input_dtype():
    x = np.ones((50, 40), dtype=np.float32)
    y = dropout(0.25).forward(x)
    assert y.dtype == np.float32
    assert set(np.unique(y)) == {np.float32(0), np.float32(1 / 0.75)}


def test_repr_and_label():
    assert repr(tn.Dropout(0.25)) == "Dropout(p=0.25)"
    assert tn.Dropout().label() == "Dropout(p=0.5)"


@pytest.mark.parametrize("bad, error, words", [
    ({"p": 1.5}, ValueError, "p must be a probability in [0, 1], got 1.5"),
    ({"p": -0.1}, ValueError, "p must be a probability"),
    ({"p": "0.5"}, TypeError, "p must be a number"),
    ({"rng": 42}, TypeError, "rng must be a numpy.random.Generator"),
])
def test_refuses_bad_arguments(bad, error, words):
    with pytest.raises(error, match="Dropout") as info:
        tn.Dropout(**bad)
    assert words in str(info.value)
