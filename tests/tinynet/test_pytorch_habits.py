"""What a PyTorch user's hands type on a module: casts, counts, lookups, optional buffers,
backward pre-hooks, Sequential as a list and init functions on a Parameter."""

import numpy as np
import pytest

import tinynet as tn


def net(seed=0):
    rng = np.random.default_rng(seed)
    return tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Residual(tn.Sequential(tn.Linear(4, 4, rng=rng), tn.Tanh())),
                         tn.BatchNorm1d(4), tn.Linear(4, 2, rng=rng))


@pytest.mark.parametrize("method, dtype", [("double", np.float64), ("float", np.float32), ("half", np.float16)])
def test_casts_by_name_are_to_dtype(method, dtype):
    model = net().float() if method == "double" else net()
    assert getattr(model, method)() is model
    assert {p.dtype for p in model.parameters()} == {np.dtype(dtype)}
    assert model[2].running_mean.dtype == dtype and model[2].num_batches_tracked.dtype == np.int64


def test_numel_habit_counts_the_parameters():
    model = net()
    assert sum(p.numel() for p in model.parameters()) == model.num_parameters() == 3 * 4 + 4 + 20 + 8 + 10
    model[0].requires_grad_(False)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 20 + 8 + 10
    p = model[3].bias
    assert p.requires_grad_(False) is p and not p.requires_grad
    with pytest.raises(TypeError, match="requires_grad"):
        p.requires_grad_("yes")


def test_get_submodule_walks_dotted_names():
    model = net()
    assert model.get_submodule("") is model
    assert model.get_submodule("1.block.1") is model[1].block[1]
    with pytest.raises(AttributeError, match="^Residual has no attribute `blok`$"):
        model.get_submodule("1.blok")
    with pytest.raises(TypeError, match="dotted name"):
        model.get_submodule(1)


def test_an_optional_buffer_is_cast_saved_and_loaded_once_set():
    layer = tn.Linear(2, 2, rng=np.random.default_rng(0))
    layer.register_buffer("scale", None)
    assert layer.scale is None and "scale" not in layer.state_dict()
    layer.to(np.float32)  # passes over it
    layer.scale = np.ones(2)
    assert layer.to(np.float32).scale.dtype == np.float32
    state = layer.state_dict()
    layer.scale = np.zeros(2, np.float32)
    assert str(layer.load_state_dict(state)) == "<All keys matched successfully>"
    np.testing.assert_array_equal(layer.scale, 1)
    with pytest.raises(TypeError, match="buffer 'scale' must be a numeric array or None, got str"):
        layer.scale = "one"


def test_incompatible_keys_still_list_what_did_not_match():
    layer = tn.Linear(2, 2, rng=np.random.default_rng(0))
    result = layer.load_state_dict({"weight": np.zeros((2, 2))}, strict=False)
    assert result.missing_keys == ["bias"] and "bias" in str(result)
    assert result == (["bias"], [])


def test_backward_pre_hook_with_a_forward_hook_makes_the_hooked_forward_differentiable():
    # a forward hook y -> y**3 passes dy straight through; a pre-hook multiplying dy by
    # 3 y**2 restores the chain rule, and finite differences agree again
    x = np.random.default_rng(1).normal(size=(4, 3))
    layer = tn.Linear(3, 2, rng=np.random.default_rng(0))
    outputs = []
    layer.register_forward_hook(lambda m, x, y: outputs.append(y) or y ** 3)
    assert not tn.gradcheck(layer, x).passed
    layer.register_full_backward_pre_hook(lambda m, dy: dy * 3 * outputs[-1] ** 2)
    assert tn.gradcheck(layer, x).passed


def test_a_bad_pre_hook_replacement_is_named_and_consumes_nothing():
    layer = tn.Linear(3, 2, rng=np.random.default_rng(0))
    handle = layer.register_full_backward_pre_hook(lambda m, dy: dy[:1])
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"backward pre-hook .*<lambda> returned an array of shape \(1, 2\)"):
        layer.backward(np.ones((4, 2)))
    handle.remove()
    assert layer.backward(np.ones((4, 2))).shape == (4, 3)  # the forward's context was kept
    with pytest.raises(TypeError, match="hook must be callable"):
        layer.register_full_backward_pre_hook(None)


def test_sequential_list_methods_check_their_layers():
    seq = tn.Sequential(tn.Tanh())
    for call in (lambda: seq.append(np.tanh), lambda: seq.insert(0, "relu"),
                 lambda: seq.extend([tn.ReLU(), 3]), lambda: seq.__setitem__(0, None)):
        with pytest.raises(TypeError, match="not a tinynet Layer"):
            call()
    assert len(seq) == 1  # extend checked every item before adding any
    with pytest.raises(TypeError, match="indices must be ints or slices, got 0.5"):
        seq[0.5]
    relu = tn.ReLU()
    assert seq.append(relu).pop() is relu and len(seq) == 1
    with pytest.raises(IndexError):
        tn.Sequential().pop()


def test_an_edited_sequential_trains_its_new_layers():
    rng = np.random.default_rng(0)
    seq = tn.Sequential(tn.Linear(3, 4, rng=rng))
    seq.append(tn.Tanh()).extend(tn.Sequential(tn.Linear(4, 2, rng=rng)))
    seq.insert(1, tn.LayerNorm(4, eps=0))  # eps=0 as PyTorch allows
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                      "3.weight", "3.bias"]
    assert tn.gradcheck(seq, rng.normal(size=(5, 3))).passed
    del seq[1:3]
    assert [type(m).__name__ for m in seq] == ["Linear", "Linear"]


@pytest.mark.parametrize("fill, args", [(tn.init.xavier_uniform_, ()), (tn.init.kaiming_normal_, ()),
                                        (tn.init.orthogonal_, ()), (tn.init.constant_, (0.5,)),
                                        (tn.init.zeros_, ())])
def test_init_functions_fill_a_parameter_in_place_and_return_it(fill, args):
    layer = tn.Linear(4, 3, rng=np.random.default_rng(0))
    data = layer.weight.data
    random = fill not in (tn.init.constant_, tn.init.zeros_)
    def kwargs():
        return {"rng": np.random.default_rng(7)} if random else {}
    assert fill(layer.weight, *args, **kwargs()) is layer.weight
    assert layer.weight.data is data  # filled in place, as PyTorch fills the tensor
    np.testing.assert_array_equal(data, fill(np.empty((3, 4)), *args, **kwargs()))
