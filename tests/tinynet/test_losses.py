import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn
from test_torch_reference import reference

CASES, ARRAYS = reference("losses")


def numeric_dpred(crit, pred, target, eps=1e-6):
    """Central differences of ``crit.forward`` (summed, for "none") with respect to every entry of ``pred``."""
    pred = pred.copy()
    grad = np.empty_like(pred)
    for i in np.ndindex(pred.shape):
        old = pred[i]
        pred[i] = old + eps
        plus = float(np.sum(crit.forward(pred, target)))
        pred[i] = old - eps
        minus = float(np.sum(crit.forward(pred, target)))
        pred[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


# tn.gradcheck's tolerances: central differences of a float64 sum carry ~1e-9 of rounding
RTOL, ATOL = 1e-5, 1e-8


def labels(batch, n_classes, seed=0):
    return np.random.default_rng(seed).integers(0, n_classes, size=batch)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] + "-" + c["reduction"] for c in CASES])
def test_matches_pytorch(case):
    ref = {k.split("/", 1)[1]: v for k, v in ARRAYS.items() if k.startswith(case["name"] + "/")}
    crit = getattr(tn, case["loss"])(reduction=case["reduction"], **case["kwargs"])
    loss = crit(ref["pred"], ref["target"])
    dpred = crit.backward(ref["dloss"] if case["reduction"] == "none" else None)
    tol = dict(rtol=1e-12, atol=1e-14) if case["dtype"] == "float64" else dict(rtol=2e-6, atol=1e-6)
    assert np.asarray(loss).dtype == case["dtype"] and dpred.dtype == case["dtype"]
    np.testing.assert_allclose(loss, ref["loss"], **tol)
    np.testing.assert_allclose(dpred, ref["dpred"], **tol)


def test_every_loss_and_option_is_compared_with_pytorch():
    compared = {(c["loss"], k) for c in CASES for k in c["kwargs"]} | {(c["loss"], c["reduction"]) for c in CASES}
    for name in ("MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss"):
        assert {(name, r) for r in ("mean", "sum", "none")} <= compared
    assert {("CrossEntropyLoss", k) for k in ("weight", "ignore_index", "label_smoothing")} <= compared
    assert {("BCEWithLogitsLoss", "pos_weight"), ("BCEWithLogitsLoss", "weight"),
            ("NLLLoss", "weight"), ("NLLLoss", "ignore_index"), ("HuberLoss", "delta")} <= compared


def make_target(kind, shape, rng):
    if kind == "labels":
        return labels(shape[0], shape[1], seed=int(rng.integers(100)))
    if kind == "probs":
        return rng.dirichlet(np.ones(shape[1]), size=shape[0])
    if kind == "bits":
        return rng.random(shape)
    return rng.standard_normal(shape)


GRADIENT_CASES = [
    (tn.MSELoss, {}, "real"), (tn.L1Loss, {}, "real"), (tn.HuberLoss, {"delta": 0.7}, "real"),
    (tn.CrossEntropyLoss, {}, "labels"), (tn.CrossEntropyLoss, {"weight": [1.0, 2.0, 0.5]}, "labels"),
    (tn.CrossEntropyLoss, {"label_smoothing": 0.2, "weight": [1.0, 2.0, 0.5]}, "labels"),
    (tn.CrossEntropyLoss, {"label_smoothing": 0.1}, "probs"),
    (tn.NLLLoss, {"weight": [1.0, 2.0, 0.5]}, "labels"),
    (tn.BCEWithLogitsLoss, {"pos_weight": [2.0, 0.5, 1.0], "weight": [1.0, 3.0, 0.5]}, "bits"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls, kwargs, kind", GRADIENT_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_backward_matches_finite_differences(cls, kwargs, kind, reduction):
    rng = np.random.default_rng(1)
    pred = 2 * rng.standard_normal((5, 3))
    target = make_target(kind, pred.shape, rng)
    crit = cls(reduction=reduction, **kwargs)
    out = crit.forward(pred, target)
    dpred = crit.backward(np.ones(np.shape(out)) if reduction == "none" else None)
    np.testing.assert_allclose(dpred, numeric_dpred(crit, pred, target), rtol=RTOL, atol=ATOL)


def test_known_values():
    assert tn.MSELoss()([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(2.5)
    assert tn.MSELoss(reduction="sum")([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(5.0)
    np.testing.assert_array_equal(tn.MSELoss(reduction="none")([[1.0, 2.0]], [[0.0, 0.0]]), [[1.0, 4.0]])
    # uniform logits: the loss is log(n_classes) whatever the label
    assert tn.CrossEntropyLoss()(np.zeros((4, 5)), [0, 1, 2, 4]) == pytest.approx(math.log(5))
    assert tn.CrossEntropyLoss(reduction="sum")(np.zeros((4, 5)), [0, 1, 2, 4]) == pytest.approx(4 * math.log(5))


def test_cross_entropy_is_finite_for_huge_logits():
    pred = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]])
    crit = tn.CrossEntropyLoss(reduction="sum")
    loss = crit(pred, np.array([0, 1, 0]))
    dpred = crit.backward()
    # row losses 0, log 2 and 2e4, exactly what the math says
    assert loss == pytest.approx(math.log(2) + 2e4)
    np.testing.assert_allclose(dpred, [[0, 0, 0], [0.5, -0.5, 0], [-1, 0, 1]], atol=1e-12)


def test_bce_with_logits_is_finite_for_huge_logits():
    crit = tn.BCEWithLogitsLoss(reduction="none")
    loss = crit(np.array([1e4, -1e4, 1e4]), np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(loss, [0.0, 0.0, 1e4])
    np.testing.assert_allclose(crit.backward(np.ones(3)), [0.0, 0.0, 1.0])


def test_float16_reductions_accumulate_in_float32():
    # 40,000 squared errors of 3: the float16 sum would overflow at 65504
    pred = np.full((40_000, 1), 3.0, dtype=np.float16)
    crit = tn.MSELoss()
    loss = crit(pred, np.zeros_like(pred))
    assert loss.dtype == np.float16 and loss == 9.0
    assert tn.MSELoss(reduction="sum")(pred, np.zeros_like(pred)) == np.float16(np.inf)  # 360,000: honest
    dpred = crit.backward()
    assert dpred.dtype == np.float16 and np.all(dpred == np.float16(6.0 / 40_000))
    logits = np.zeros((40_000, 3), dtype=np.float16)
    ce = tn.CrossEntropyLoss()
    assert ce(logits, np.zeros(40_000, dtype=int)) == pytest.approx(math.log(3), rel=1e-3)
    assert np.all(np.isfinite(ce.backward()))


def test_float32_stays_float32():
    rng = np.random.default_rng(0)
    pred = rng.standard_normal((4, 3)).astype(np.float32)
    for crit, target in [(tn.MSELoss(), rng.standard_normal((4, 3))), (tn.CrossEntropyLoss(), labels(4, 3)),
                         (tn.BCEWithLogitsLoss(), rng.random((4, 3))), (tn.HuberLoss(), rng.random((4, 3)))]:
        loss = crit(pred, target)
        assert loss.dtype == np.float32
        assert crit.backward().dtype == np.float32


def test_ignored_labels_count_for_nothing():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((4, 3)), np.array([0, 2, -100, 1])
    crit = tn.CrossEntropyLoss()
    assert crit(pred, target) == pytest.approx(tn.CrossEntropyLoss()(pred[[0, 1, 3]], target[[0, 1, 3]]))
    assert not crit.backward()[2].any()
    with np.errstate(invalid="raise"):  # every label ignored: 0 / 0, nan as in PyTorch, without a warning
        assert math.isnan(crit(pred, np.full(4, -100)))


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.floats(0.1, 50.0), st.integers(0, 2**31))
def test_cross_entropy_gradient_rows_sum_to_zero(batch, n_classes, scale, seed):
    pred = scale * np.random.default_rng(seed).standard_normal((batch, n_classes))
    crit = tn.CrossEntropyLoss(reduction="sum")
    assert crit(pred, labels(batch, n_classes, seed)) >= 0
    dpred = crit.backward()
    # softmax - onehot: each row sums to zero, the true class entry is in [-1, 0]
    np.testing.assert_allclose(dpred.sum(axis=1), 0, atol=1e-12)
    assert np.all(dpred[np.arange(batch), labels(batch, n_classes, seed)] <= 0)


def test_reduction_none_backward_needs_the_upstream_gradient():
    crit = tn.MSELoss(reduction="none")
    crit(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=re.escape(
            "MSELoss: with reduction='none' the loss has shape (2, 3); pass backward(dloss)")):
        crit.backward()
    with pytest.raises(ValueError, match=re.escape("MSELoss: expected dloss of shape (2, 3) (the loss's), got (3,)")):
        crit.backward(np.ones(3))
    np.testing.assert_array_equal(crit.backward(np.full((2, 3), 0.5)), np.full((2, 3), -1.0))
    scalar = tn.MSELoss()
    scalar(np.zeros((2, 3)), np.ones((2, 3)))
    np.testing.assert_allclose(scalar.backward(3.0), np.full((2, 3), -1.0))  # 3 * 2 * (0 - 1) / 6


def test_cross_entropy_errors():
    crit = tn.CrossEntropyLoss()
    pred = np.zeros((32, 3))
    msg = "CrossEntropyLoss: expected integer class labels of shape (32,), got (32, 3)"
    with pytest.raises(ValueError, match=re.escape(msg)):
        crit(pred, np.zeros((32, 3), dtype=int))
    with pytest.raises(TypeError, match=re.escape(
            "CrossEntropyLoss: expected integer class labels of shape (32,), got dtype float64")):
        crit(pred, np.zeros(32))
    bad = np.zeros(32, dtype=int)
    bad[7] = 3
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: class labels must be in [0, 3) for 3 classes, got 3 at index 7")):
        crit(pred, bad)
    bad[7] = -1
    with pytest.raises(ValueError, match=r"got -1 at index 7"):
        crit(pred, bad)
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: expected logits of shape (batch, n_classes), got (32,)")):
        crit(np.zeros(32), np.zeros(32, dtype=int))
    with pytest.raises(TypeError, match="CrossEntropyLoss: pred must be a real numeric array"):
        crit(np.array([["a", "b"]]), [0])
    with pytest.raises(ValueError, match=re.escape("CrossEntropyLoss: weight has 2 entries for 3 classes")):
        tn.CrossEntropyLoss(weight=[1.0, 2.0])(pred, np.zeros(32, dtype=int))
    with pytest.raises(ValueError, match=re.escape("CrossEntropyLoss: expected target of shape (32, 3)")):
        crit(pred, np.zeros((32, 4)))


@pytest.mark.parametrize("make, error, message", [
    (lambda: tn.MSELoss("sum"), TypeError, "takes 1 positional argument"),
    (lambda: tn.CrossEntropyLoss("sum"), TypeError,
     "CrossEntropyLoss: weight must be an array of numbers, got 'sum'; pass reduction by name"),
    (lambda: tn.MSELoss(reduction="avg"), ValueError,
     "MSELoss: reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
    (lambda: tn.CrossEntropyLoss(label_smoothing=1.5), ValueError,
     "CrossEntropyLoss: label_smoothing must be in [0, 1], got 1.5"),
    (lambda: tn.CrossEntropyLoss(ignore_index=1.5), TypeError,
     "CrossEntropyLoss: ignore_index must be an integer, got 1.5"),
    (lambda: tn.CrossEntropyLoss(weight=[[1.0]]), ValueError, "CrossEntropyLoss: weight must be 1-D"),
    (lambda: tn.NLLLoss(weight=[1.0, float("nan")]), ValueError, "NLLLoss: weight must be finite"),
    (lambda: tn.HuberLoss(delta=0), ValueError, "HuberLoss: delta must be > 0, got 0"),
    (lambda: tn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0])(np.zeros((2, 3)), np.zeros((2, 3))), ValueError,
     "BCEWithLogitsLoss: pos_weight of shape (2,) does not broadcast to pred of shape (2, 3)"),
    (lambda: tn.MSELoss()(np.zeros((32, 1)), np.zeros(32)), ValueError,
     "MSELoss: expected target of shape (32, 1) (the shape of pred), got (32,)"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


@pytest.mark.parametrize("crit, pred, target", [
    (tn.MSELoss(), np.zeros((2, 2)), np.ones((2, 2))),
    (tn.CrossEntropyLoss(), np.zeros((2, 2)), np.array([0, 1])),
    (tn.BCEWithLogitsLoss(), np.zeros((2, 2)), np.ones((2, 2))),
])
def test_backward_needs_a_forward_each_time(crit, pred, target):
    name = type(crit).__name__
    with pytest.raises(RuntimeError, match=f"{name}: backward called before forward"):
        crit.backward()
    crit(pred, target)
    crit.backward()
    with pytest.raises(RuntimeError, match=f"{name}: backward called before forward"):
        crit.backward()


def test_loss_does_not_modify_its_inputs():
    pred = np.array([[1e4, -1e4, 0.0]])
    kept = pred.copy()
    crit = tn.CrossEntropyLoss(label_smoothing=0.1)
    crit(pred, [2])
    crit.backward()
    np.testing.assert_array_equal(pred, kept)
    assert repr(crit) == ("CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', "
                          "label_smoothing=0.1)")


def test_a_loss_inside_no_grad_keeps_nothing_for_backward():
    loss = tn.MSELoss()
    with tn.no_grad():
        loss(np.ones(3), np.zeros(3))
    with pytest.raises(RuntimeError, match=r"after a forward inside tinynet.no_grad\(\)"):
        loss.backward()
