"""The remedies' predictions against networks run by hand in numpy, forward and backward.

Each simulation writes out one remedy's block (residual, LayerNorm,
BatchNorm over a batch, dropout with a fixed mask) for a stack of seeds at
once, backpropagates from the output, and measures the decades by which the
gradient's Frobenius norm changes from output to input. The prediction must
be within 0.3 decades of the median over the seeds at depth 50, width 100.
"""

import math

import numpy as np
import pytest

from diagnostics import theory

DEPTH, WIDTH, SEEDS = 50, 100, 8


def relu(z):
    return np.maximum(z, 0.0)


def relu_slope(z):
    return (z > 0).astype(np.float64)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_slope(z):
    s = sigmoid(z)
    return s * (1.0 - s)


ACTIVATIONS = {"relu": (relu, relu_slope), "sigmoid": (sigmoid, sigmoid_slope)}


def weights(rng, sigma_w, seeds):
    return rng.normal(0.0, sigma_w / math.sqrt(WIDTH), (seeds, WIDTH, WIDTH))


def backward(steps, start):
    """Run ``start`` (seeds, cotangents, ...) back through ``steps`` (last block first); log10 norm change."""
    g, log10 = start, np.zeros(start.shape[0])
    initial = np.log10(np.linalg.norm(start.reshape(start.shape[0], -1), axis=1))
    for step in steps:
        g = step(g)
        norm = np.linalg.norm(g.reshape(g.shape[0], -1), axis=1)
        g = g / norm.reshape((-1,) + (1,) * (g.ndim - 1))
        log10 += np.log10(norm)
    return log10 - initial


def identity_start(seeds):
    return np.broadcast_to(np.eye(WIDTH), (seeds, WIDTH, WIDTH)).copy()


def residual_change(act, sigma_w, alpha, rng, seeds=SEEDS):
    """Blocks y = x + alpha phi(W x) on the input ones; rows of the backward matrix are cotangents."""
    fn, slope = ACTIVATIONS[act]
    h, steps = np.ones((seeds, WIDTH)), []
    for _ in range(DEPTH):
        w = weights(rng, sigma_w, seeds)
        z = np.einsum("sij,sj->si", w, h)
        # dx = dy (I + alpha D W)
        steps.append(lambda g, w=w, d=slope(z): g + alpha * (g * d[:, None, :]) @ w)
        h = h + alpha * fn(z)
    return backward(steps[::-1], identity_start(seeds))


def layer_norm_change(act, sigma_w, rng, seeds=SEEDS, eps=1e-5):
    """Blocks Linear -> LayerNorm (gamma 1, beta 0) -> activation on the input ones."""
    fn, slope = ACTIVATIONS[act]
    h, steps = np.ones((seeds, WIDTH)), []
    for _ in range(DEPTH):
        w = weights(rng, sigma_w, seeds)
        z = np.einsum("sij,sj->si", w, h)
        centred = z - z.mean(axis=1, keepdims=True)
        s = np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + eps)
        u = centred / s

        def step(g, w=w, d=slope(u), u=u[:, None, :], s=s[:, None, :]):
            g = g * d[:, None, :]
            # LayerNorm's backward: remove the mean and the component along u, divide by s
            g = (g - g.mean(axis=2, keepdims=True) - u * (g * u).mean(axis=2, keepdims=True)) / s
            return g @ w
        steps.append(step)
        h = fn(u)
    return backward(steps[::-1], identity_start(seeds))


def batch_norm_change(act, batch_size, rng, seeds=SEEDS, cotangents=4, eps=1e-5):
    """Blocks Linear -> BatchNorm1d (training mode, biased variance) -> activation on a Gaussian batch.

    The measured quantity: the Frobenius norm of the Jacobian of the output
    batch with respect to the input batch, relative to the identity's,
    estimated from a few Gaussian cotangents on the whole output batch.
    """
    fn, slope = ACTIVATIONS[act]
    h, steps = rng.normal(size=(seeds, batch_size, WIDTH)), []
    for _ in range(DEPTH):
        w = weights(rng, 1.0, seeds)
        z = h @ np.swapaxes(w, 1, 2)
        centred = z - z.mean(axis=1, keepdims=True)
        s = np.sqrt((centred ** 2).mean(axis=1, keepdims=True) + eps)
        u = centred / s

        def step(g, w=w, d=slope(u)[:, None], u=u[:, None], s=s[:, None]):
            g = g * d
            # per feature, over the batch axis
            g = (g - g.mean(axis=2, keepdims=True) - u * (g * u).mean(axis=2, keepdims=True)) / s
            return g @ w[:, None]
        steps.append(step)
        h = fn(u)
    return backward(steps[::-1], rng.normal(size=(seeds, cotangents, batch_size, WIDTH)))


def dropout_change(act, sigma_w, p, rng, seeds=SEEDS):
    """Blocks Linear -> activation -> inverted dropout, one fixed mask per block, input ones."""
    fn, slope = ACTIVATIONS[act]
    h, steps = np.ones((seeds, WIDTH)), []
    for _ in range(DEPTH):
        w = weights(rng, sigma_w, seeds)
        z = np.einsum("sij,sj->si", w, h)
        mask = (rng.random((seeds, WIDTH)) >= p) / (1.0 - p)
        steps.append(lambda g, w=w, d=slope(z) * mask: (g * d[:, None, :]) @ w)
        h = fn(z) * mask
    return backward(steps[::-1], identity_start(seeds))


def assert_close(measured, predicted, tolerance=0.3):
    median = float(np.median(measured))
    assert abs(median - predicted) < tolerance, f"measured median {median:.2f}, predicted {predicted:.2f}"


@pytest.mark.parametrize("act, sigma_w, alpha", [
    ("relu", 1.0, 1.0), ("relu", 1.0, 1 / math.sqrt(DEPTH)), ("relu", 4.0, 1.0),
    ("relu", 4.0, 1 / math.sqrt(DEPTH)), ("sigmoid", 1.0, 1.0)])
def test_residual_blocks(act, sigma_w, alpha):
    measured = residual_change(act, sigma_w, alpha, np.random.default_rng(1))
    p = theory.predict_residual(act, sigma_w, alpha, DEPTH, WIDTH)
    assert p.statistic == "typical"
    assert_close(measured, p.change_log10)
    assert_close(measured, p.mean_field_per_layer_grad_norm_log10[-1] - p.log10_initial_norm)


def test_residual_forward_direction_is_needed():
    # without the forward signal's direction the prediction misses by decades
    measured = residual_change("relu", 1.0, 1.0, np.random.default_rng(2))
    across = 0.5 * DEPTH * math.log10(theory.residual_gain("relu", 1.0, 1.0, 1.0))
    assert np.median(measured) - across > 2.5
    assert theory.residual_gain("relu", 7.0, 1.0, 0.5) == pytest.approx(1.125)


@pytest.mark.parametrize("act", ["relu", "sigmoid"])
def test_layer_norm_blocks(act):
    # networks differ by 0.25 decades (sigmoid) to 0.4 (ReLU): 16 of them for a steady median
    measured = layer_norm_change(act, 1.0, np.random.default_rng(3), seeds=16)
    p = theory.predict_layer_norm(act, DEPTH, WIDTH)
    assert_close(measured, p.change_log10)


def test_layer_norm_removes_the_weight_scale():
    small = layer_norm_change("relu", 0.5, np.random.default_rng(4))
    large = layer_norm_change("relu", 8.0, np.random.default_rng(4))
    np.testing.assert_allclose(small, large, atol=0.01)  # only LayerNorm's eps tells them apart
    # ReLU: E[phi'^2] = E[phi^2] = 1/2 at unit variance; only the projection's 1/k is left
    assert theory.layer_norm_gain("relu", WIDTH) == pytest.approx(1 - 2 / WIDTH, abs=1e-9)


@pytest.mark.parametrize("batch_size, seeds", [(8, 8), (64, 3)])  # at B = 64 networks differ by 0.04
def test_batch_norm_explodes_at_a_rate_set_by_the_batch_size(batch_size, seeds):
    measured = batch_norm_change("relu", batch_size, np.random.default_rng(5), seeds=seeds, cotangents=2)
    p = theory.predict_batch_norm("relu", batch_size, DEPTH, WIDTH)
    assert_close(measured, p.change_log10, tolerance=0.2)
    assert p.change_log10 > 4.0  # exploding, whatever the weight scale


def test_batch_norm_gain_for_relu_in_closed_form():
    # sign probabilities and E|u1 u2| of two coordinates of the batch sphere, correlation -1/(B - 1)
    for b in (4, 8, 64):
        rho = -1.0 / (b - 1)
        abs_pair = 2 / math.pi * (math.sqrt(1 - rho * rho) + rho * math.asin(rho))
        both = 0.25 + math.asin(rho) / (2 * math.pi)
        n2 = b / 2 + b * (b - 1) * both
        sum_sq = (b + b * (b - 1) * abs_pair) / 4
        variance = 0.5 - sum_sq / b ** 2
        numerator = b / 2 * (1 - 1 / b) - (b / 2 - n2 / b) / b - (b / 2 - sum_sq / b) / b
        expected = numerator / ((b - 3) * variance)
        assert theory.batch_norm_gain("relu", b, 10 ** 12) == pytest.approx(expected, rel=1e-7)
    assert theory.batch_norm_gain("relu", 10 ** 6, 10 ** 12) == pytest.approx(math.pi / (math.pi - 1), rel=1e-4)


@pytest.mark.parametrize("act, sigma_w, p", [
    ("relu", 1.0, 0.1), ("relu", math.sqrt(2 * 0.9), 0.1), ("relu", 1.0, 0.5), ("sigmoid", 1.0, 0.1)])
def test_dropout_blocks(act, sigma_w, p):
    # networks differ by up to 0.45 decades (p = 0.5): 16 of them for a steady median
    measured = dropout_change(act, sigma_w, p, np.random.default_rng(6), seeds=16)
    prediction = theory.predict_dropout(act, sigma_w, p, DEPTH, WIDTH)
    assert_close(measured, prediction.change_log10)


def test_dropout_divides_the_gain_by_the_keep_probability():
    plain = theory.predict("relu", 1.0, DEPTH, WIDTH)
    dropped = theory.predict_dropout("relu", 1.0, 0.5, DEPTH, WIDTH)
    # mean-field, the gain of the last i blocks: the product of theirs
    gains = 10 ** (2 * (dropped.mean_field_per_layer_grad_norm_log10 - dropped.log10_initial_norm))
    np.testing.assert_allclose(gains, np.cumprod(2 * plain.chi[::-1]), rtol=1e-9)
    assert theory.dropout_statistics("relu", 1.0, 0.5).kappa == pytest.approx(3.0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        theory.predict_batch_norm("relu", 3, DEPTH, WIDTH)
    with pytest.raises(ValueError, match="p must be in"):
        theory.predict_dropout("relu", 1.0, 1.0, DEPTH, WIDTH)
    with pytest.raises(ValueError, match="input_mean"):
        theory.predict_residual("relu", 1.0, 1.0, DEPTH, WIDTH, input_sq=1.0, input_mean=2.0)
    with pytest.raises(TypeError, match="activation"):
        theory.predict_layer_norm(3, DEPTH, WIDTH)
