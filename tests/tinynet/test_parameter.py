"""Parameter: data, a gradient that is None until a backward computes one, and checked writes."""

import numpy as np
import pytest

import tinynet as tn


def test_grad_is_none_until_a_backward_and_then_accumulates():
    p = tn.Parameter(np.zeros(3))
    assert p.grad is None
    p.accumulate(np.ones(3))
    p.accumulate(np.full(3, 2.0))
    np.testing.assert_array_equal(p.grad, [3.0, 3.0, 3.0])
    assert p.shape == (3,) and p.dtype == np.float64 and p.size == 3


def test_zero_grad_sets_none_or_zeros_as_in_pytorch():
    p = tn.Parameter(np.zeros(2))
    p.zero_grad(set_to_none=False)
    assert p.grad is None  # nothing to fill yet
    p.accumulate(np.ones(2))
    p.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    p.zero_grad()
    assert p.grad is None
    with pytest.raises(TypeError, match="set_to_none must be True or False"):
        p.zero_grad("no")


def test_setting_grad_copies_and_casts_to_the_datas_dtype():
    p = tn.Parameter(np.zeros(2, dtype=np.float32))
    mine = np.array([1.0, 2.0])
    p.grad = mine
    p.accumulate(np.ones(2, dtype=np.float32))
    assert p.grad.dtype == np.float32
    np.testing.assert_array_equal(mine, [1.0, 2.0])  # the caller's array is untouched
    p.grad = [3, 4]
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])
    p.grad = None
    assert p.grad is None


@pytest.mark.parametrize("value, error, match", [
    ("x", TypeError, r"Parameter: grad must be a real numeric array, got dtype <U1"),
    (np.array([1 + 2j, 0j]), TypeError, r"grad must be a real numeric array, got dtype complex128"),
    ([[1.0], [2.0, 3.0]], TypeError, r"Parameter: grad must be a numeric array"),
    (np.zeros((2, 1)), ValueError, r"Parameter: grad must have shape \(2,\), got \(2, 1\)"),
])
def test_a_bad_grad_is_refused_and_changes_nothing(value, error, match):
    p = tn.Parameter(np.zeros(2))
    p.accumulate(np.ones(2))
    with pytest.raises(error, match=match):
        p.grad = value
    np.testing.assert_array_equal(p.grad, [1.0, 1.0])


def test_data_must_be_floating():
    with pytest.raises(TypeError, match="Parameter: expected a floating-point array, got dtype int64"):
        tn.Parameter(np.zeros(2, dtype=np.int64))
    with pytest.raises(TypeError, match="Parameter: requires_grad must be True or False"):
        tn.Parameter(np.zeros(2), requires_grad="False")
