"""A layer written by a user: its Parameter attributes are found, trained and checked."""

import json
import pathlib

import numpy as np
import pytest

import tinynet as tn
from tinynet.serialization import ARCHITECTURE_KEY

REFERENCE = pathlib.Path(__file__).resolve().parent.parent / "reference"


class Scale(tn.Layer):
    """``y = x * gamma``, one learned factor per feature: (batch, n) -> (batch, n)."""

    def __init__(self, n, wrong=False):
        super().__init__()
        self.gamma = tn.Parameter(np.linspace(0.5, 1.5, n))
        self.wrong = wrong

    def _forward(self, x):
        return x * self.gamma.data, x

    def _backward(self, x, dy):
        g = (dy * x).sum(axis=0)
        self.gamma.accumulate(0 * g if self.wrong else g)
        return dy * self.gamma.data


def test_parameters_set_as_attributes_are_registered():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(2, 3, rng=rng), Scale(3))
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "1.gamma"]
    x = rng.standard_normal((4, 2))
    assert tn.gradcheck(net, x).passed
    bad = tn.gradcheck(Scale(3, wrong=True), x @ np.ones((2, 3)))
    assert [r["name"] for r in bad.rows if not r["passed"]] == ["gamma"]


def test_a_registered_parameter_is_zeroed_trained_cast_and_saved():
    layer = Scale(3)
    x = np.ones((2, 3))
    layer.forward(x)
    layer.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(layer.gamma.grad, [2.0, 2.0, 2.0])
    tn.optim.SGD(layer.parameters(), lr=0.1).step()
    np.testing.assert_allclose(layer.gamma.data, np.linspace(0.5, 1.5, 3) - 0.2)
    assert list(layer.state_dict()) == ["gamma"]
    layer.zero_grad()
    assert layer.gamma.grad is None
    assert layer.to(np.float32).gamma.data.dtype == np.float32


def test_a_layer_held_as_an_attribute_is_a_child():
    class Twice(tn.Layer):
        """``inner`` applied twice: the weights are shared by both uses."""

        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def _forward(self, x):
            return self.inner.forward(self.inner.forward(x)), None

        def _backward(self, ctx, dy):
            return self.inner.backward(self.inner.backward(dy))

    rng = np.random.default_rng(1)
    net = Twice(tn.Linear(3, 3, rng=rng, bias_init=tn.init.Normal(std=0.5)))
    assert [n for n, _ in net.named_children()] == ["inner"]
    assert [n for n, _ in net.named_parameters()] == ["inner.weight", "inner.bias"]
    assert net.is_container and not net.inner.is_container
    assert tn.gradcheck(net, rng.standard_normal((2, 3))).passed


def test_a_gradient_of_the_wrong_shape_is_refused_where_it_is_made():
    p = tn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=r"Parameter: a gradient of shape \(1, 2\) for data of shape \(2,\)"):
        p.accumulate(np.ones((1, 2)))
    assert p.grad is None  # nothing was added


class Model(tn.Layer):
    """The first model a PyTorch user writes: forward by hand, calling its sub-layers."""

    def __init__(self, rng):
        super().__init__()
        self.fc1 = tn.Linear(3, 5, rng=rng, bias_init=tn.init.Normal(std=0.5))
        self.act = tn.Tanh()
        self.fc2 = tn.Linear(5, 2, rng=rng)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Reused(tn.Layer):
    """One sub-layer called twice in one forward: its weights get the gradients of both calls."""

    def __init__(self, rng):
        super().__init__()
        self.fc = tn.Linear(3, 3, rng=rng, bias_init=tn.init.Normal(std=0.5))
        self.act = tn.Tanh()

    def forward(self, x):
        return self.fc(self.act(self.fc(x)))


class Skip(tn.Layer):
    """A skip connection written by hand: not a chain, so backward cannot retrace it."""

    def __init__(self, rng):
        super().__init__()
        self.fc = tn.Linear(3, 3, rng=rng)

    def forward(self, x):
        return x + self.fc(x)


@pytest.mark.parametrize("make", [Model, Reused])
def test_a_forward_written_by_hand_backpropagates_through_its_sub_layers(make):
    rng = np.random.default_rng(2)
    net = make(rng)
    assert tn.gradcheck(net, rng.standard_normal((4, 3))).passed
    assert tn.gradcheck(tn.Sequential(make(rng), tn.ReLU()), rng.standard_normal((4, 3))).passed


def test_a_forward_written_by_hand_equals_its_sequential():
    rng = np.random.default_rng(3)
    net = Model(rng)
    seq = tn.Sequential(net.fc1, net.act, net.fc2)
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    np.testing.assert_array_equal(net(x), seq.forward(x))
    dx_seq = seq.backward(dy)
    grads = [p.grad.copy() for p in seq.parameters()]
    net.zero_grad()
    np.testing.assert_array_equal(net.backward(dy), dx_seq)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_array_equal(p.grad, g)


class TwiceThrough(tn.Layer):
    """The model of tests/reference/make_composite.py: fc1 called twice, then fc2."""

    def __init__(self):
        super().__init__()
        self.fc1 = tn.Linear(3, 3)
        self.act = tn.Tanh()
        self.fc2 = tn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.act(self.fc1(x)))))


def test_a_forward_written_by_hand_prints_and_backpropagates_as_pytorch():
    ref = json.loads((REFERENCE / "composite.json").read_text())
    model = TwiceThrough()
    for name, p in model.named_parameters():
        p.data[...] = ref["weights"][name]
    assert repr(model) == ref["repr"].replace("Model(", "TwiceThrough(", 1)
    y = model(np.array(ref["x"]))
    dx = model.backward(np.array(ref["dy"]))
    np.testing.assert_allclose(y, ref["y"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, ref["dx"], rtol=1e-12, atol=1e-14)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, ref["grads"][name], rtol=1e-12, atol=1e-14, err_msg=name)


def test_hooks_fire_in_a_forward_written_by_hand():
    rng = np.random.default_rng(4)
    net, seen = Model(rng), []
    tn.register_hooks(net, forward=lambda layer, x, y: seen.append(("forward", layer.label())),
                      backward=lambda layer, dx, dy: seen.append(("backward", layer.label())))
    net.register_forward_hook(lambda layer, x, y: 2 * y)  # the model's own: its output doubled
    net.register_backward_hook(lambda layer, dx, dy: seen.append(("backward", "model")))
    x = rng.standard_normal((4, 3))
    with tn.no_grad():
        plain = net.fc2(net.act(net.fc1(x)))
    seen.clear()
    np.testing.assert_array_equal(net(x), 2 * plain)
    net.backward(np.ones((4, 2)))
    assert seen == [("forward", "Linear(3 -> 5)"), ("forward", "Tanh()"), ("forward", "Linear(5 -> 2)"),
                    ("backward", "Linear(5 -> 2)"), ("backward", "Tanh()"), ("backward", "Linear(3 -> 5)"),
                    ("backward", "model")]


def test_a_forward_that_is_no_chain_fails_at_once_naming_the_pattern():
    rng = np.random.default_rng(5)
    net, x = Skip(rng), rng.standard_normal((2, 3))
    with pytest.raises(TypeError, match=r"Skip\(\): its forward is not a chain of its sub-layers.*"
                                        r"write _forward\(x\) -> \(y, ctx\) and _backward\(ctx, dy\)"):
        net(x)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.fc.backward(np.ones((2, 3)))  # the refused forward left nothing behind
    with tn.no_grad():  # inference needs no backward: any forward runs
        np.testing.assert_allclose(net(x), x + net.fc(x))


def test_print_shows_the_children():
    assert repr(Model(np.random.default_rng(0))) == (
        "Model(\n"
        "  (fc1): Linear(in_features=3, out_features=5, bias=True)\n"
        "  (act): Tanh()\n"
        "  (fc2): Linear(in_features=5, out_features=2, bias=True)\n"
        ")")


def test_a_layer_without_forward_says_what_to_write():
    with pytest.raises(NotImplementedError, match=r"Layer does not implement _forward\(x\) -> \(y, ctx\)"):
        tn.Layer()(np.ones(2))


# ---- a user's layer registered: saved, loaded, summarised and reset like a built-in ----
@tn.register_layer
class RegisteredScale(tn.Layer):
    """The Scale of docs/custom-layers.md: ``y = x * gamma``, (batch, width) -> (batch, width)."""

    def __init__(self, width):
        super().__init__()
        self.width = width
        self.gamma = tn.Parameter(np.ones(width))

    def _forward(self, x):
        return x * self.gamma.data, x

    def _backward(self, x, dy):
        self.gamma.accumulate((dy * x).sum(axis=0))
        return dy * self.gamma.data

    def reset_parameters(self, rng=None):
        self.gamma.data[...] = 1

    def get_config(self):
        return {"width": self.width}

    @classmethod
    def state_spec(cls, config):
        return {"gamma": ((config["width"],), np.float64)}


def trained_scale_net():
    rng = np.random.default_rng(6)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Tanh(), RegisteredScale(4))
    net[2].gamma.data[...] = rng.standard_normal(4)  # as training leaves it
    return net


def test_a_registered_layer_round_trips_bit_for_bit(tmp_path):
    net = trained_scale_net()
    tn.save(net, tmp_path / "net.npz")
    back = tn.load(tmp_path / "net.npz")
    assert type(back[2]) is RegisteredScale and repr(back) == repr(net)
    state, loaded = net.state_dict(), back.state_dict()
    assert list(loaded) == list(state) == ["0.weight", "0.bias", "2.gamma"]
    assert all(loaded[k].tobytes() == state[k].tobytes() and loaded[k].dtype == state[k].dtype for k in state)
    x = np.random.default_rng(7).standard_normal((5, 3))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))


def test_a_registered_layer_is_summarised_and_reset_like_a_built_in():
    net = trained_scale_net()
    s = tn.summary(net, (2, 3), verbose=0)
    assert [(r.type, r.output_shape, r.params) for r in s.rows[1:]] == [
        ("Linear", (2, 4), 16), ("Tanh", (2, 4), 0), ("RegisteredScale", (2, 4), 4)]
    fresh = tn.Sequential(tn.Linear(3, 4, rng=np.random.default_rng(8)), tn.Tanh(), RegisteredScale(4))
    net.reset_parameters(np.random.default_rng(8))
    for (name, p), (_, q) in zip(net.named_parameters(), fresh.named_parameters()):
        assert p.data.tobytes() == q.data.tobytes(), name


def test_a_file_that_lies_about_a_registered_layer_is_refused_before_building(tmp_path):
    path = tmp_path / "net.npz"
    tn.save(trained_scale_net(), path)
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files}
    head = json.loads(entries[ARCHITECTURE_KEY].tobytes())
    head["model"]["layers"][2]["width"] = 10**10  # gamma would take 80 GB
    entries[ARCHITECTURE_KEY] = np.frombuffer(json.dumps(head).encode(), np.uint8)
    np.savez(path, **entries)
    with pytest.raises(tn.ModelFileError, match=r"array '2.gamma' should be float64 of shape \(10000000000,\)"):
        tn.load(path)


def test_an_unregistered_layer_still_saves_its_state_dict(tmp_path):
    net = tn.Sequential(tn.Linear(3, 3, rng=np.random.default_rng(0)), Scale(3))
    with pytest.raises(TypeError, match=r"layer '1', Scale\(\): its class Scale is not registered; "
                                        r"register its class with @tinynet.register_layer"):
        tn.save(net, tmp_path / "net.npz")
    tn.save(net.state_dict(), tmp_path / "weights.npz")
    assert list(tn.load(tmp_path / "weights.npz")) == ["0.weight", "0.bias", "1.gamma"]


def test_register_layer_refuses_what_it_cannot_register():
    with pytest.raises(TypeError, match="register_layer: expected a tinynet Layer subclass, got <class 'int'>"):
        tn.register_layer(int)
    with pytest.raises(ValueError, match=r"register_layer: the name 'Linear' is taken by tinynet.linear.Linear"):
        @tn.register_layer
        class Linear(tn.Layer):
            pass
    with pytest.raises(TypeError, match="register_layer: name must be a non-empty string, got ''"):
        tn.register_layer(name="")


def test_a_class_defined_again_replaces_itself():
    first = RegisteredScale
    again = tn.register_layer(type("RegisteredScale", (tn.Layer,), {"__module__": first.__module__,
                                                                    "__qualname__": first.__qualname__}))
    try:
        assert tn.architecture.registered_layers()["RegisteredScale"] is again
    finally:
        tn.register_layer(first)
    assert tn.architecture.registered_layers()["RegisteredScale"] is first
