"""What forward keeps for backward: its owner, its bound, its threads, and the error paths that release it."""

import threading
import warnings

import numpy as np
import pytest

import tinynet as tn
from tinynet import layer as layer_module


def mlp(seed=0):
    return tn.MLP([10, 32, 32, 2], "tanh", rng=np.random.default_rng(seed))


def nothing_kept(net):
    # a backward with nothing kept is the public sign that nothing is held
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.backward(np.ones((8, 2)))


def test_the_warning_comes_before_200_mb():
    assert layer_module.HELD_WARNING <= 200 * 2**20


def test_forwards_with_no_backward_warn_naming_the_fix(monkeypatch):
    monkeypatch.setattr(layer_module, "HELD_WARNING", 2**20)  # 1 MB: the same rule, reached sooner
    net, x = mlp(), np.ones((8, 10))
    with pytest.warns(tn.PendingBackwardWarning, match=r"tinynet.no_grad\(\).*free_saved"):
        for _ in range(1000):  # about 5 kB kept per call
            net(x)
    net.free_saved()
    nothing_kept(net)


def test_the_uses_that_keep_several_forwards_do_not_warn():
    rng = np.random.default_rng(0)
    cell = tn.Sequential(tn.Linear(64, 64, rng=rng), tn.Tanh())
    x = rng.standard_normal((32, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # an unrolled loop: 50 steps through one cell, then 50 backwards
        h = x
        for _ in range(50):
            h = cell(h)
        dh = np.ones_like(h)
        for _ in range(50):
            dh = cell.backward(dh)
        # a siamese pair: two forwards, two backwards
        a, b = cell(x), cell(2 * x)
        cell.backward(np.ones_like(b))
        cell.backward(np.ones_like(a))
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        cell.backward(np.ones_like(x))


def test_a_non_finite_loss_in_fit_changes_nothing_buffers_included():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), tn.BatchNorm1d(4), tn.Linear(4, 2, rng=rng))
    net[0].weight.data[...] = 1e308  # the first layer overflows: inf outputs, nan statistics, nan loss
    x = rng.standard_normal((16, 3))
    y = rng.integers(0, 2, 16)
    state = {k: v.copy() for k, v in net.state_dict().items()}
    with pytest.raises(tn.NonFiniteLossError):
        with np.errstate(all="ignore"):
            tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1,
                   batch_size=16, rng=rng, progress=False)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.backward(np.ones((16, 2)))


def test_a_backward_that_fails_part_way_drops_what_the_pass_kept():
    net = mlp()
    net(np.ones((8, 10)))

    def broken(layer, dx, dy):
        raise KeyError("a broken hook")

    handle = net[2].register_backward_hook(broken)
    with pytest.raises(KeyError):
        net.backward(np.ones((8, 2)))
    handle.remove()
    for layer in net:  # no layer of the pass holds anything
        with pytest.raises(RuntimeError, match="backward needs a forward first"):
            layer.backward(np.ones((8, 32)))


def test_a_forward_that_fails_part_way_drops_what_the_pass_kept():
    rng = np.random.default_rng(0)
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), tn.Tanh(), tn.Residual(tn.Linear(4, 5, rng=rng)))
    with pytest.raises(ValueError, match="must keep the shape of its input"):
        net(np.ones((2, 3)))
    for layer in [net[0], net[1], net[2].block]:
        with pytest.raises(RuntimeError, match="backward needs a forward first"):
            layer.backward(np.ones((2, 4)))


def test_each_thread_backward_meets_its_own_forward():
    # Tanh's backward uses its own forward's output: paired across threads it would be wrong
    layer = tn.Tanh()
    inputs = {0: np.full((1, 3), 0.1), 1: np.full((1, 3), 3.0)}
    both_forwarded = threading.Barrier(2)
    dx = {}

    def run(i):
        layer(inputs[i])
        both_forwarded.wait(timeout=10)
        dx[i] = layer.backward(np.ones((1, 3)))

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    for i in (0, 1):
        np.testing.assert_allclose(dx[i], 1 - np.tanh(inputs[i]) ** 2)


def test_predict_in_one_thread_leaves_another_threads_training_mode():
    drop = tn.Dropout(0.5, rng=np.random.default_rng(0))
    in_predict, checked = threading.Event(), threading.Event()
    seen = {}

    class Pause(tn.Layer):
        def _forward(self, x):
            in_predict.set()
            checked.wait(timeout=10)
            return x, None

    net = tn.Sequential(drop, Pause())
    worker = threading.Thread(target=lambda: tn.predict(net, np.ones((4, 3))))
    worker.start()
    in_predict.wait(timeout=10)
    seen["training"] = drop.training  # this thread: still training, while the other predicts
    seen["masked"] = bool((drop(np.ones((100, 100))) == 0).any())
    checked.set()
    worker.join(10)
    drop.free_saved()
    assert seen == {"training": True, "masked": True}
    assert drop.training and tn.predict(net, np.ones((2, 3))).tolist() == [[1.0] * 3] * 2


def test_no_grad_on_a_generator_function_applies_inside_it():
    @tn.no_grad()
    def outputs(net, batches):
        for x in batches:
            yield tn.is_grad_enabled(), net(x)

    net = mlp()
    seen = [enabled for enabled, _ in outputs(net, [np.ones((8, 10))] * 3)]
    assert seen == [False, False, False] and tn.is_grad_enabled()
    nothing_kept(net)
    gen = outputs(net, [np.ones((8, 10))] * 3)
    next(gen)
    assert tn.is_grad_enabled()  # the caller's mode between steps
    gen.close()
