import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn


def numeric_dpred(crit, pred, target, eps=1e-6):
    """Central differences of ``crit.forward`` with respect to every entry of ``pred``."""
    pred = pred.copy()
    grad = np.empty_like(pred)
    for i in np.ndindex(pred.shape):
        old = pred[i]
        pred[i] = old + eps
        plus = float(crit.forward(pred, target))
        pred[i] = old - eps
        minus = float(crit.forward(pred, target))
        pred[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


# tn.gradcheck's tolerances: central differences of a float64 sum carry ~1e-9 of rounding
RTOL, ATOL = 1e-5, 1e-8


def labels(batch, n_classes, seed=0):
    return np.random.default_rng(seed).integers(0, n_classes, size=batch)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (6,), (2, 3, 2)])
def test_mse_backward_matches_finite_differences(reduction, shape):
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    crit = tn.MSELoss(reduction)
    crit.forward(pred, target)
    dpred = crit.backward()
    np.testing.assert_allclose(dpred, numeric_dpred(crit, pred, target), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (8, 10)])
def test_cross_entropy_backward_matches_finite_differences(reduction, shape):
    pred = 3 * np.random.default_rng(2).standard_normal(shape)
    target = labels(shape[0], shape[1])
    crit = tn.CrossEntropyLoss(reduction)
    crit.forward(pred, target)
    dpred = crit.backward()
    np.testing.assert_allclose(dpred, numeric_dpred(crit, pred, target), rtol=RTOL, atol=ATOL)


def test_known_values():
    assert tn.MSELoss().forward([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(2.5)
    assert tn.MSELoss("sum").forward([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(5.0)
    # uniform logits: the loss is log(n_classes) whatever the label
    assert tn.CrossEntropyLoss().forward(np.zeros((4, 5)), [0, 1, 2, 4]) == pytest.approx(math.log(5))
    assert tn.CrossEntropyLoss("sum").forward(np.zeros((4, 5)), [0, 1, 2, 4]) == pytest.approx(4 * math.log(5))


def test_cross_entropy_is_finite_for_huge_logits():
    pred = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]])
    crit = tn.CrossEntropyLoss(reduction="sum")
    loss = crit.forward(pred, np.array([0, 1, 0]))
    dpred = crit.backward()
    # row losses 0, log 2 and 2e4, exactly what the math says
    assert loss == pytest.approx(math.log(2) + 2e4)
    assert np.all(np.isfinite(dpred))
    np.testing.assert_allclose(dpred, [[0, 0, 0], [0.5, -0.5, 0], [-1, 0, 1]], atol=1e-12)


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    pred = rng.standard_normal((4, 3)).astype(np.float32)
    for crit, target in [(tn.MSELoss(), rng.standard_normal((4, 3))), (tn.CrossEntropyLoss(), labels(4, 3))]:
        loss = crit.forward(pred, target)
        assert loss.dtype == np.float32
        assert crit.backward().dtype == np.float32


@pytest.mark.parametrize("framework_loss", ["MSELoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_matches_pytorch(framework_loss, reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    pred = 5 * rng.standard_normal((6, 4))
    target = labels(6, 4) if framework_loss == "CrossEntropyLoss" else rng.standard_normal((6, 4))
    crit = getattr(tn, framework_loss)(reduction)
    loss = crit.forward(pred, target)
    dpred = crit.backward()
    tp = torch.tensor(pred, requires_grad=True)
    tloss = getattr(torch.nn, framework_loss)(reduction=reduction)(tp, torch.tensor(target))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(dpred, tp.grad.numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.floats(0.1, 50.0), st.integers(0, 2**31))
def test_cross_entropy_gradient_rows_sum_to_zero(batch, n_classes, scale, seed):
    pred = scale * np.random.default_rng(seed).standard_normal((batch, n_classes))
    crit = tn.CrossEntropyLoss("sum")
    assert crit.forward(pred, labels(batch, n_classes, seed)) >= 0
    dpred = crit.backward()
    # softmax - onehot: each row sums to zero, the true class entry is in [-1, 0]
    np.testing.assert_allclose(dpred.sum(axis=1), 0, atol=1e-12)
    assert np.all(dpred[np.arange(batch), labels(batch, n_classes, seed)] <= 0)


def test_cross_entropy_errors():
    crit = tn.CrossEntropyLoss()
    pred = np.zeros((32, 3))
    msg = "CrossEntropyLoss: expected integer class labels of shape (32,), got (32, 3)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        crit.forward(pred, np.zeros((32, 3), dtype=int))
    with pytest.raises(TypeError, match=re.escape(
            "CrossEntropyLoss: expected integer class labels of shape (32,), got dtype float64")):
        crit.forward(pred, np.zeros(32))
    bad = np.zeros(32, dtype=int)
    bad[7] = 3
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: class labels must be in [0, 3) for 3 classes, got 3 at index 7")):
        crit.forward(pred, bad)
    bad[7] = -1
    with pytest.raises(ValueError, match=r"got -1 at index 7"):
        crit.forward(pred, bad)
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: expected logits of shape (batch, n_classes), got (32,)")):
        crit.forward(np.zeros(32), np.zeros(32, dtype=int))
    with pytest.raises(TypeError, match="CrossEntropyLoss: pred must be a real numeric array"):
        crit.forward(np.array([["a", "b"]]), [0])


def test_mse_errors():
    with pytest.raises(ValueError, match=re.escape(
            "MSELoss: expected target of shape (32, 1) (the shape of pred), got (32,)")):
        tn.MSELoss().forward(np.zeros((32, 1)), np.zeros(32))
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of 'mean', 'sum', got 'none'"):
        tn.MSELoss(reduction="none")
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: reduction must be one of"):
        tn.CrossEntropyLoss(reduction="avg")


@pytest.mark.parametrize("crit, pred, target", [
    (tn.MSELoss(), np.zeros((2, 2)), np.ones((2, 2))),
    (tn.CrossEntropyLoss(), np.zeros((2, 2)), np.array([0, 1])),
])
def test_backward_needs_a_forward_each_time(crit, pred, target):
    name = type(crit).__name__
    with pytest.raises(RuntimeError, match=f"{name}: backward called before forward"):
        crit.backward()
    crit.forward(pred, target)
    crit.backward()
    with pytest.raises(RuntimeError, match=f"{name}: backward called before forward"):
        crit.backward()


def test_loss_does_not_modify_its_inputs():
    pred = np.array([[1e4, -1e4, 0.0]])
    kept = pred.copy()
    crit = tn.CrossEntropyLoss()
    crit.forward(pred, [2])
    crit.backward()
    np.testing.assert_array_equal(pred, kept)
    assert repr(crit) == "CrossEntropyLoss(reduction='mean')"
