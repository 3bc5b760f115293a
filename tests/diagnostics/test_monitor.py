import numpy as np
import pytest

import tinynet as tn
from diagnostics.monitor import TrainingMonitor
from diagnostics.recorders import GradientNormRecorder, NonFiniteDetector


def setup(seed=0):
    rng = np.random.default_rng(seed)
    x, y = tn.datasets.moons(n_samples=64, rng=rng)
    net = tn.MLP([2, 8, 8, 2], "tanh", final_activation=False, rng=rng)
    return net, x, y, rng


def test_records_every_nth_step_through_hooks_and_detaches():
    net, x, y, rng = setup()
    mon = TrainingMonitor(net, every=3)
    tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=2, batch_size=16,
           rng=rng, callbacks=[mon], progress=False)
    assert [h["step"] for h in mon.history] == [1, 3, 6]  # 8 steps: the first, then every third
    assert mon.layers == ["0", "2", "4"] and mon.activations == ["1", "3"]
    for h in mon.history:
        assert len(h["weight_grad_norm"]) == 3 and len(h["activation_std"]) == 2
        assert all(v > 0 for v in h["weight_grad_norm"])
    assert all(not m._forward_hooks and not m._backward_hooks for m in net.modules())
    assert "first layer |dW|" in str(mon)


def test_recorded_norm_is_the_norm_of_that_steps_gradient():
    net, x, y, rng = setup()
    seen = []

    class Spy:  # the gradient right after step 1's backward, before the optimizer's next zero_grad
        def on_batch_end(self, step, loss):
            if step == 1:
                seen.append(np.linalg.norm(net[0].weight.grad))

    mon = TrainingMonitor(net, every=100)
    tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=16,
           rng=rng, callbacks=[mon, Spy()], progress=False)
    assert mon.history[0]["weight_grad_norm"][0] == pytest.approx(seen[0])


def test_records_the_whole_gradients_norm_before_and_after_clipping():
    net, x, y, rng = setup()
    mon = TrainingMonitor(net, every=1)
    history = tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=2,
                     batch_size=16, rng=rng, callbacks=[mon], progress=False, clip_grad_norm=0.5)
    before = np.array([h["grad_norm"] for h in mon.history])
    after = np.array([h["clipped_grad_norm"] for h in mon.history])
    assert (before > 0.5).any() and (before < 0.5).any()  # steps clipped and steps left alone
    # fit's own record: each epoch's mean of the norms clip_grad_norm_ returned
    assert before.reshape(2, 4).mean(axis=1) == pytest.approx(history["grad_norm"], rel=1e-12)
    assert after == pytest.approx(np.minimum(before, 0.5), rel=1e-5)
    assert all(a <= 0.5 for a in after)


def test_without_clipping_the_norms_before_and_after_agree():
    net, x, y, rng = setup()
    mon = TrainingMonitor(net, every=2)
    tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=16,
           rng=rng, callbacks=[mon], progress=False)
    assert all(h["grad_norm"] == h["clipped_grad_norm"] > 0 for h in mon.history)


def test_disabled_recorder_records_nothing_and_leaves_no_hooks():
    net, x, _, _ = setup()
    rec = GradientNormRecorder(net)
    rec.enabled = False
    assert not any(m._forward_hooks or m._backward_hooks for m in net.modules())
    net.backward(np.ones_like(net.forward(x)))
    assert rec.tables == []
    rec.enabled = True
    net.backward(np.ones_like(net.forward(x)))
    assert len(rec.tables) == 1 and len(rec.table.rows) == len([m for m in net.modules() if not m.is_container])
    rec.remove()
    assert not rec.enabled and not any(m._forward_hooks or m._backward_hooks for m in net.modules())


def test_nonfinite_detector_names_the_layer_in_fits_error():
    net, x, y, rng = setup()
    net[2].weight.data[0, 0] = np.inf
    with pytest.raises(tn.NonFiniteLossError, match=r"epoch 1 of 1, step 2 of 4(.|\n)*forward output of layer 2 \(Linear\)"):
        with np.errstate(invalid="ignore", over="ignore"):
            tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1,
                   batch_size=16, rng=rng, callbacks=[NonFiniteDetector(net)], progress=False)


def test_bad_every():
    net, *_ = setup()
    with pytest.raises(ValueError, match="every must be a positive integer, got 0"):
        TrainingMonitor(net, every=0)


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    net, x, y, rng = setup()
    mon = TrainingMonitor(net, every=2)
    tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=16,
           rng=rng, callbacks=[mon], progress=False)
    mon.plot(tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
