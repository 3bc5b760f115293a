import math
import re

import numpy as np
import pytest

import tinynet as tn
from test_torch_reference import reference

CASES, ARRAYS = reference("clip")


def params_with(case, dtype=None):
    params = []
    for i in range(3):
        g = ARRAYS[f"{case['name']}/grad/{i}"]
        p = tn.Parameter(np.zeros(g.shape, g.dtype))
        if i in case["present"]:
            p.accumulate(g)
        else:
            p.zero_grad(set_to_none=True)
        params.append(p)
    return params


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case):
    params = params_with(case)
    float32 = params[0].dtype == np.float32
    if "clip_value" in case["kwargs"]:
        assert tn.clip_grad_value_(params, **case["kwargs"]) is None
    else:
        total = tn.clip_grad_norm_(params, **case["kwargs"])
        if case["total_norm"] == "inf":
            assert total == math.inf
        else:
            assert total == pytest.approx(case["total_norm_value"], rel=1e-6 if float32 else 1e-13)
    for i, p in enumerate(params):
        if i in case["present"]:
            np.testing.assert_allclose(p.grad, ARRAYS[f"{case['name']}/clipped/{i}"],
                                       rtol=1e-6 if float32 else 1e-13, atol=0, equal_nan=True)
        else:
            assert p.grad is None


def test_clipping_bounds_the_norm_and_keeps_the_direction():
    rng = np.random.default_rng(0)
    params = [tn.Parameter(np.zeros(s)) for s in [(3, 4), (5,)]]
    for p in params:
        p.accumulate(10 * rng.standard_normal(p.shape))
    before = np.concatenate([p.grad.ravel() for p in params])
    total = tn.clip_grad_norm_(params, max_norm=1.0)
    after = np.concatenate([p.grad.ravel() for p in params])
    assert total == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(after) == pytest.approx(1.0, abs=1e-5) and np.linalg.norm(after) <= 1.0
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before))


def test_nonfinite_norm_raises_when_asked():
    p = tn.Parameter(np.zeros(2))
    p.accumulate(np.array([np.inf, 1.0]))
    with pytest.raises(FloatingPointError, match=re.escape(
            "clip_grad_norm_: the total norm of order 2.0 of the gradients is inf")):
        tn.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(p.grad, [np.inf, 1.0])  # nothing scaled


@pytest.mark.parametrize("call, error, message", [
    (lambda ps: tn.clip_grad_norm_(ps, -1.0), ValueError, "clip_grad_norm_: max_norm must be >= 0, got -1.0"),
    (lambda ps: tn.clip_grad_norm_(ps, 1.0, norm_type="two"), TypeError,
     "clip_grad_norm_: norm_type must be a number or 'inf', got 'two'"),
    (lambda ps: tn.clip_grad_norm_(ps, 1.0, error_if_nonfinite="no"), TypeError,
     "clip_grad_norm_: error_if_nonfinite must be True or False"),
    (lambda ps: tn.clip_grad_value_([np.zeros(2)], 1.0), TypeError,
     "clip_grad_value_: parameters[0] is not a tinynet Parameter, got ndarray"),
    (lambda ps: tn.clip_grad_value_(ps, float("nan")), ValueError, "clip_grad_value_: clip_value must be finite"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call([tn.Parameter(np.zeros(2))])


def test_no_gradients_norm_zero_and_single_parameter():
    p = tn.Parameter(np.zeros(2))
    p.zero_grad(set_to_none=True)
    assert tn.clip_grad_norm_([p], 1.0) == 0.0
    p.accumulate(np.array([3.0, 4.0]))
    assert tn.clip_grad_norm_(p, 1.0) == 5.0
