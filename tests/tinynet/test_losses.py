import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinynet as tn
from test_torch_reference import reference

CASES, ARRAYS = reference("losses")
IGNORE_INDEX_WITH_PROBABILITIES = next(c for c in CASES if c["name"] == "probabilities-ignore_index")
CASES = [c for c in CASES if "loss" in c]


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
    assert np.shape(loss) == ref["loss"].shape and dpred.shape == ref["pred"].shape
    np.testing.assert_allclose(loss, ref["loss"], **tol)
    np.testing.assert_allclose(dpred, ref["dpred"], **tol)


def test_every_loss_and_option_is_compared_with_pytorch():
    compared = {(c["loss"], k) for c in CASES for k in c["kwargs"]} | {(c["loss"], c["reduction"]) for c in CASES}
    for name in ("MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss",
                 "SmoothL1Loss", "BCELoss", "KLDivLoss"):
        assert {(name, r) for r in ("mean", "sum", "none")} <= compared
    assert {("CrossEntropyLoss", k) for k in ("weight", "ignore_index", "label_smoothing")} <= compared
    assert {("BCEWithLogitsLoss", "pos_weight"), ("BCEWithLogitsLoss", "weight"),
            ("NLLLoss", "weight"), ("NLLLoss", "ignore_index"), ("HuberLoss", "delta"),
            ("SmoothL1Loss", "beta"), ("BCELoss", "weight"), ("KLDivLoss", "log_target"),
            ("KLDivLoss", "batchmean")} <= compared
    # class scores of every layout: (C,), (N, C), (N, C, d1) and (N, C, d1, d2), labels and probabilities
    layouts = {(c["loss"], ARRAYS[c["name"] + "/pred"].ndim, ARRAYS[c["name"] + "/target"].dtype.kind)
               for c in CASES if c["loss"] in ("CrossEntropyLoss", "NLLLoss")}
    assert {("CrossEntropyLoss", d, k) for d in (1, 2, 4) for k in "if"} <= layouts
    assert {("CrossEntropyLoss", 3, "i"), ("NLLLoss", 1, "i"), ("NLLLoss", 4, "i")} <= layouts


def test_probabilities_refuse_the_ignore_index_pytorch_refuses():
    rng = np.random.default_rng(0)
    pred, probs = rng.standard_normal((3, 4)), rng.dirichlet(np.ones(4), size=3)
    case = IGNORE_INDEX_WITH_PROBABILITIES
    assert any(case["refused"]) and not all(case["refused"])
    for value, torch_refused in zip(case["ignore_index"], case["refused"]):
        crit = tn.CrossEntropyLoss(ignore_index=value)
        if torch_refused:
            with pytest.raises(ValueError, match=re.escape(
                    "CrossEntropyLoss: ignore_index is not supported with class probabilities")):
                crit(pred, probs)
        else:
            assert np.isfinite(crit(pred, probs))


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
    (tn.SmoothL1Loss, {"beta": 0.7}, "real"), (tn.SmoothL1Loss, {"beta": 0.0}, "real"),
    (tn.BCELoss, {"weight": [1.0, 3.0, 0.5]}, "bits"),
    (tn.KLDivLoss, {}, "probs"), (tn.KLDivLoss, {"log_target": True}, "real"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls, kwargs, kind", GRADIENT_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_backward_matches_finite_differences(cls, kwargs, kind, reduction):
    rng = np.random.default_rng(1)
    pred = 2 * rng.standard_normal((5, 3))
    target = make_target(kind, pred.shape, rng)
    if cls is tn.BCELoss:  # probabilities in (0, 1), away from the clamp
        pred = 0.05 + 0.9 * rng.random(pred.shape)
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
    with pytest.raises(TypeError, match=re.escape(
            "CrossEntropyLoss: a target of pred's shape (32, 3) is read as class probabilities "
            "and must be floats, got dtype int64")):
        crit(pred, np.zeros((32, 3), dtype=int))
    with pytest.raises(TypeError, match=re.escape(
            "CrossEntropyLoss: expected integer class labels of shape (32,) or float class "
            "probabilities of shape (32, 3), got dtype float64")):
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
            "CrossEntropyLoss: expected integer class labels of shape () or float class "
            "probabilities of shape (32,), got shape (5,)")):
        crit(np.zeros(32), np.zeros(5, dtype=int))  # (C,) is one unbatched sample
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: expected pred of shape (n_classes,), (batch, n_classes) or "
            "(batch, n_classes, d1, ...), got a scalar")):
        crit(np.float64(1.0), 0)
    with pytest.raises(TypeError, match="CrossEntropyLoss: pred must be a real numeric array"):
        crit(np.array([["a", "b"]]), [0])
    with pytest.raises(ValueError, match=re.escape("CrossEntropyLoss: weight has 2 entries for 3 classes")):
        tn.CrossEntropyLoss(weight=[1.0, 2.0])(pred, np.zeros(32, dtype=int))
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: expected integer class labels of shape (32,) or float class "
            "probabilities of shape (32, 3), got shape (32, 4)")):
        crit(pred, np.zeros((32, 4)))
    spatial_labels = np.zeros((2, 5, 4), dtype=int)
    spatial_labels[1, 3, 2] = 7
    with pytest.raises(ValueError, match=re.escape(
            "NLLLoss: class labels must be in [0, 3) for 3 classes, got 7 at index (1, 3, 2)")):
        tn.NLLLoss()(np.zeros((2, 3, 5, 4)), spatial_labels)
    with pytest.raises(ValueError, match=re.escape(
            "NLLLoss: expected integer class labels of shape (2, 5, 4), got shape (2, 3, 5, 4)")):
        tn.NLLLoss()(np.zeros((2, 3, 5, 4)), np.zeros((2, 3, 5, 4)))
    with pytest.raises(ValueError, match=re.escape(
            "CrossEntropyLoss: class labels must be in [0, 3) for 3 classes, got 3")):
        crit(np.zeros(3), 3)


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
    (lambda: tn.SmoothL1Loss(beta=-1.0), ValueError, "SmoothL1Loss: beta must be >= 0, got -1.0"),
    (lambda: tn.SmoothL1Loss(0.5), TypeError, "takes 1 positional argument"),
    (lambda: tn.BCELoss()(np.array([0.5, 1.5]), np.array([0.0, 1.0])), ValueError,
     "BCELoss: pred must be probabilities in [0, 1] (for logits use BCEWithLogitsLoss), got 1.5 at index 1"),
    (lambda: tn.BCELoss()(np.array([[0.5, 0.5]]), np.array([[0.0, -1.0]])), ValueError,
     "BCELoss: target must be probabilities in [0, 1], got -1.0 at index (0, 1)"),
    (lambda: tn.BCELoss(weight=[1.0, 2.0, 3.0])(np.full((2, 2), 0.5), np.ones((2, 2))), ValueError,
     "BCELoss: weight of shape (3,) does not broadcast to pred of shape (2, 2)"),
    (lambda: tn.BCELoss()(np.full((2, 2), 0.5), np.ones(2)), ValueError,
     "BCELoss: expected target of shape (2, 2) (the shape of pred), got (2,)"),
    (lambda: tn.KLDivLoss()(np.zeros((2, 2)), np.array([[0.5, 0.5], [1.5, -0.5]])), ValueError,
     "KLDivLoss: target must be probabilities (>= 0), got -0.5 at index (1, 1); for "
     "log-probabilities pass log_target=True"),
    (lambda: tn.BCELoss()(np.float64(2.0), 1.0), ValueError,
     "BCELoss: pred must be probabilities in [0, 1] (for logits use BCEWithLogitsLoss), got 2.0"),
    (lambda: tn.KLDivLoss(log_target="yes"), TypeError, "KLDivLoss: log_target must be True or False"),
    (lambda: tn.KLDivLoss(reduction="average"), ValueError,
     "KLDivLoss: reduction must be one of 'mean', 'batchmean', 'sum', 'none', got 'average'"),
    (lambda: tn.MSELoss(reduction="batchmean"), ValueError,
     "MSELoss: reduction must be one of 'mean', 'sum', 'none', got 'batchmean'"),
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


SPATIAL_CASES = [
    (tn.CrossEntropyLoss, {"weight": [1.0, 2.0, 0.5], "label_smoothing": 0.1}, (2, 3, 4), "labels"),
    (tn.CrossEntropyLoss, {"weight": [1.0, 2.0, 0.5]}, (2, 3, 2, 2), "probs"),
    (tn.CrossEntropyLoss, {"label_smoothing": 0.2}, (3,), "labels"),
    (tn.CrossEntropyLoss, {}, (3,), "probs"),
    (tn.NLLLoss, {"weight": [1.0, 2.0, 0.5]}, (2, 3, 2, 2), "labels"),
    (tn.NLLLoss, {}, (3,), "labels"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("cls, kwargs, shape, kind", SPATIAL_CASES,
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_class_scores_of_every_layout_match_finite_differences(cls, kwargs, shape, kind, reduction):
    rng = np.random.default_rng(3)
    pred = 2 * rng.standard_normal(shape)
    class_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    if kind == "labels":
        target = rng.integers(0, 3, size=class_shape)
        if target.ndim:
            target.flat[1] = -100  # an ignored position
    else:
        target = np.moveaxis(rng.dirichlet(np.ones(3), size=class_shape), -1, min(1, len(shape) - 1))
    crit = cls(reduction=reduction, **kwargs)
    out = crit.forward(pred, target)
    assert np.shape(out) == (class_shape if reduction == "none" else ())
    dpred = crit.backward(np.ones(np.shape(out)) if reduction == "none" else None)
    np.testing.assert_allclose(dpred, numeric_dpred(crit, pred, target), rtol=RTOL, atol=ATOL)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(2, 4), st.lists(st.integers(1, 3), max_size=2), st.integers(0, 2**31))
def test_spatial_cross_entropy_is_the_rows_cross_entropy(batch, n_classes, extra, seed):
    # (N, C, d1, ...) is the (N d1 ..., C) problem with the class axis last
    rng = np.random.default_rng(seed)
    pred = rng.standard_normal((batch, n_classes, *extra))
    target = rng.integers(0, n_classes, size=(batch, *extra))
    crit, flat = tn.CrossEntropyLoss(reduction="none"), tn.CrossEntropyLoss(reduction="none")
    rows = np.moveaxis(pred, 1, -1).reshape(-1, n_classes)
    np.testing.assert_allclose(crit(pred, target).ravel(), flat(rows, target.ravel()), rtol=1e-14)
    dloss = rng.standard_normal(target.shape)
    np.testing.assert_allclose(np.moveaxis(crit.backward(dloss), 1, -1).reshape(-1, n_classes),
                               flat.backward(dloss.ravel()), rtol=1e-14)


def test_kl_div_batchmean_is_the_divergence_per_sample():
    rng = np.random.default_rng(4)
    p, q = rng.dirichlet(np.ones(5), size=3), rng.dirichlet(np.ones(5), size=3)
    kl = np.sum(p * np.log(p / q)) / 3
    assert tn.KLDivLoss(reduction="batchmean")(np.log(q), p) == pytest.approx(kl, rel=1e-13)
    assert tn.KLDivLoss(reduction="mean")(np.log(q), p) == pytest.approx(kl / 5, rel=1e-13)
    crit = tn.KLDivLoss(reduction="batchmean", log_target=True)
    assert crit(np.log(q), np.log(p)) == pytest.approx(kl, rel=1e-13)
    np.testing.assert_allclose(crit.backward(), -p / 3, rtol=1e-14)


def test_bce_is_finite_at_zero_and_one_as_pytorch_clamps_its_logs():
    crit = tn.BCELoss(reduction="none")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(crit(np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0])),
                                      [100.0, 100.0, 0.0])
        dpred = crit.backward(np.ones(3))
    assert np.all(np.isfinite(dpred)) and dpred[0] < -1e11 < 1e11 < dpred[1]
    # a sigmoid then BCELoss is BCEWithLogitsLoss, away from the clamp
    x, t = np.array([-3.0, 0.5, 4.0]), np.array([0.2, 1.0, 0.0])
    assert tn.BCELoss()(tn.Sigmoid().fn(x), t) == pytest.approx(tn.BCEWithLogitsLoss()(x, t), rel=1e-12)


@pytest.mark.parametrize("crit, pred, target", [
    (tn.SmoothL1Loss(), np.full((40_000, 1), 3.0), np.zeros((40_000, 1))),
    (tn.BCELoss(), np.full((40_000, 1), 0.25), np.ones((40_000, 1))),
    (tn.KLDivLoss(), np.full((40_000, 1), -3.0), np.ones((40_000, 1))),
    (tn.CrossEntropyLoss(), np.zeros((100, 3, 400)), np.zeros((100, 400), dtype=int)),
])
def test_new_losses_keep_float16_and_float32(crit, pred, target):
    reference = crit(pred, target)
    for dtype in (np.float16, np.float32):
        value = crit(pred.astype(dtype), target.astype(dtype) if target.dtype.kind == "f" else target)
        dpred = crit.backward()
        assert value.dtype == dpred.dtype == dtype and np.isfinite(dpred).all()
        assert value == pytest.approx(reference, rel=1e-3)
