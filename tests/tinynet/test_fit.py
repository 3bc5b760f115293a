import io
import math
import re
import warnings

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinynet as tn
from tinynet import datasets


def classifier(sizes=(2, 16, 3), seed=0, activation="tanh", weight_init=None):
    return tn.MLP(list(sizes), activation, weight_init=weight_init, final_activation=False,
                  rng=np.random.default_rng(seed))


def small_run(seed=0, epochs=3, progress=False, **kw):
    x, y = datasets.spirals(60, 3, rng=np.random.default_rng(0))
    net = classifier(seed=seed)
    history = tn.fit(net, tn.CrossEntropyLoss(), tn.Adam(net.parameters(), lr=0.01), x, y,
                     epochs=epochs, batch_size=16, rng=np.random.default_rng(seed), progress=progress, **kw)
    return net, history


def test_two_hidden_layer_mlp_fits_spirals():
    x, y = datasets.spirals(300, 3, rng=np.random.default_rng(0))
    net = classifier((2, 64, 64, 3), seed=1)
    history = tn.fit(net, tn.CrossEntropyLoss(), tn.Adam(net.parameters(), lr=1e-2), x, y,
                     epochs=200, batch_size=32, rng=np.random.default_rng(2), progress=False)
    assert tn.evaluate(net, tn.CrossEntropyLoss(), x, y)["accuracy"] >= 0.97
    assert history["loss"][-1] < 0.1 * history["loss"][0]


def test_deep_tanh_trains_only_when_well_scaled():
    # 20 tanh layers, plain SGD with momentum, the same budget for every init
    x, y = datasets.moons(200, noise=0.1, rng=np.random.default_rng(0))
    accuracy = {}
    for name, init in [("vanishing", tn.init.Normal(std=0.01)),
                       ("critical", tn.init.VarianceScaling(1.0, "fan_in", "untruncated_normal")),
                       ("exploding", tn.init.VarianceScaling(9.0, "fan_in", "untruncated_normal"))]:
        net = classifier([2] + [32] * 20 + [2], seed=1, weight_init=init)
        tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.01, momentum=0.9), x, y,
               epochs=100, batch_size=32, rng=np.random.default_rng(2), progress=False)
        accuracy[name] = tn.evaluate(net, tn.CrossEntropyLoss(), x, y)["accuracy"]
    assert accuracy["critical"] > 0.9, accuracy
    assert accuracy["vanishing"] < 0.6, accuracy  # chance is 0.5: the signal never reaches the output
    assert accuracy["exploding"] < 0.75, accuracy  # chaotic: nearby inputs land far apart


def test_fit_is_the_documented_loop():
    x, y = datasets.blobs(40, 3, rng=np.random.default_rng(0))
    net, manual = classifier(seed=3), classifier(seed=3)
    tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1, momentum=0.9), x, y,
           epochs=2, batch_size=16, rng=np.random.default_rng(5), progress=False)
    crit, opt, rng = tn.CrossEntropyLoss(), tn.SGD(manual.parameters(), lr=0.1, momentum=0.9), np.random.default_rng(5)
    for _ in range(2):
        perm = rng.permutation(40)
        for start in range(0, 40, 16):
            idx = perm[start:start + 16]
            opt.zero_grad()
            crit.forward(manual.forward(x[idx]), y[idx])
            manual.backward(crit.backward())
            opt.step()
    for (_, p), (_, q) in zip(net.named_parameters(), manual.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_history_contents_and_repr():
    x, y = datasets.spirals(60, 3, rng=np.random.default_rng(0))
    x_val, y_val = datasets.spirals(30, 3, rng=np.random.default_rng(1))
    _, history = small_run(epochs=12, validation=(x_val, y_val))
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epochs == len(history) == 12 and not history.interrupted
    assert all(len(v) == 12 for v in history.history.values())
    assert history["loss"] is history.history["loss"]
    assert all(0 <= a <= 1 for a in history["accuracy"] + history["val_accuracy"])
    text = repr(history)
    assert text.splitlines()[0] == "History(12 epochs)"
    assert "val_accuracy" in text.splitlines()[1] and "..." in text
    assert f"{history['loss'][-1]:.6g}" in text.splitlines()[-1]
    # in Jupyter, the same rows as an HTML table with header cells
    table = ET.fromstring(history._repr_html_())
    assert [th.text for th in table.iter("th")] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    rows = [[td.text or "" for td in tr.iter("td")] for tr in table.find("tbody")]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5", "...", "8", "9", "10", "11", "12"]
    assert rows[-1][1:] == [f"{history[k][-1]:.6g}" for k in history.history]


def test_regression_targets_have_no_accuracy():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 2))
    y = np.sin(3 * x[:, :1]) * x[:, 1:]
    net = tn.MLP([2, 16, 1], "tanh", final_activation=False, rng=rng)
    history = tn.fit(net, tn.MSELoss(), tn.Adam(net.parameters(), lr=0.01), x, y, epochs=30,
                     batch_size=16, rng=rng, progress=False, validation=(x, y))
    assert list(history.history) == ["loss", "val_loss"]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert tn.evaluate(net, tn.MSELoss(), x, y)["loss"] == pytest.approx(history["val_loss"][-1])


def test_same_seed_same_history():
    _, a = small_run(seed=4)
    _, b = small_run(seed=4)
    _, c = small_run(seed=5)
    assert a.history == b.history
    assert a.history != c.history


class Recorder:
    def __init__(self):
        self.calls = []

    def on_train_begin(self, net):
        self.calls.append(("begin", net))

    def on_batch_end(self, step, loss):
        self.calls.append(("batch", step, loss))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch", epoch, sorted(logs)))

    def on_train_end(self, history):
        self.calls.append(("end", history))


class OnlyEnd:
    def on_train_end(self, history):
        self.history = history


def test_callbacks_are_called_in_order():
    rec, only_end = Recorder(), OnlyEnd()  # a callback may define any subset of the methods
    net, history = small_run(epochs=2, callbacks=[rec, only_end])
    assert only_end.history is history
    kinds = [c[0] for c in rec.calls]
    assert kinds == ["begin"] + ["batch"] * 4 + ["epoch"] + ["batch"] * 4 + ["epoch", "end"]
    assert rec.calls[0][1] is net and rec.calls[-1][1] is history
    assert [c[1] for c in rec.calls if c[0] == "batch"] == list(range(1, 9))
    assert [c[1] for c in rec.calls if c[0] == "epoch"] == [1, 2]
    assert rec.calls[5][2] == ["accuracy", "loss"]


class InterruptAt:
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, step, loss):
        if step == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_model_and_history(capsys):
    rec = Recorder()
    net, history = small_run(epochs=5, callbacks=[InterruptAt(step=10), rec])  # 4 steps per epoch
    assert history.interrupted and history.epochs == 2
    assert len(history["loss"]) == len(history["accuracy"]) == 2
    assert rec.calls[-1] == ("end", history)
    assert "interrupted at epoch 3, step 2" in capsys.readouterr().err
    assert "interrupted" in repr(history).splitlines()[0]
    x, _ = datasets.spirals(60, 3, rng=np.random.default_rng(0))
    assert np.all(np.isfinite(net.forward(x)))  # the model is usable as training left it


class PoisonAt:
    """Writes a nan into the first weight after a given step; says so when asked."""

    def __init__(self, step):
        self.step = step
        self.net = None

    def on_train_begin(self, net):
        self.net = net

    def on_batch_end(self, step, loss):
        if step == self.step:
            self.net[0].weight.data[0, 0] = np.nan

    def describe_nonfinite(self):
        return "first nan: layer 0 (Linear(2 -> 16)) weight"


def test_nan_names_epoch_and_step_and_keeps_history():
    rec = Recorder()
    with pytest.raises(tn.NonFiniteLossError) as info:
        small_run(epochs=5, callbacks=[PoisonAt(step=9), rec])  # 4 steps per epoch
    e = info.value
    assert isinstance(e, FloatingPointError)
    message = str(e)
    assert "the loss became nan at epoch 3 of 5, step 2 of 4 (global step 10)" in message
    assert message.endswith("\nfirst nan: layer 0 (Linear(2 -> 16)) weight")
    assert (e.epoch, e.step, e.global_step) == (3, 2, 10) and math.isnan(e.loss)
    assert e.history.epochs == 2 and not e.history.interrupted
    assert rec.calls[-1] == ("end", e.history)  # callbacks may still clean up


def test_huge_learning_rate_raises_instead_of_training_on():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3))
    y = x @ np.array([[1.0], [2.0], [3.0]])
    net = tn.Linear(3, 1, rng=rng)
    # numpy's own overflow warnings on the way to inf are not what this test is about
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(tn.NonFiniteLossError) as info:
        tn.fit(net, tn.MSELoss(), tn.SGD(net.parameters(), lr=1e3), x, y, epochs=50, batch_size=8,
               rng=rng, progress=False)
    assert re.search(r"the loss became (inf|nan) at epoch \d+ of 50, step \d of 4", str(info.value))


def test_a_broken_describe_nonfinite_does_not_hide_the_error():
    class Broken(PoisonAt):
        def describe_nonfinite(self):
            raise RuntimeError("detector bug")

    with pytest.raises(tn.NonFiniteLossError, match="Broken.describe_nonfinite failed: RuntimeError"):
        small_run(epochs=2, callbacks=[Broken(step=1)])


def test_progress_bar_stays_out_of_non_terminal_logs(capsys):
    small_run(epochs=2, progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_evaluate_combines_batches_like_one_batch():
    x, y = datasets.blobs(50, 3, rng=np.random.default_rng(0))
    net = classifier(seed=0)
    for reduction in ["mean", "sum"]:
        whole = tn.evaluate(net, tn.CrossEntropyLoss(reduction=reduction), x, y)
        batched = tn.evaluate(net, tn.CrossEntropyLoss(reduction=reduction), x, y, batch_size=7)
        assert batched["loss"] == pytest.approx(whole["loss"], rel=1e-12)
        assert batched["accuracy"] == whole["accuracy"]


def fit_args(**overrides):
    x, y = datasets.blobs(20, 2, rng=np.random.default_rng(0))
    net = classifier((2, 4, 2))
    args = dict(net=net, loss=tn.CrossEntropyLoss(), optimizer=tn.SGD(net.parameters(), lr=0.1),
                x=x, y=y, epochs=1, batch_size=4, progress=False)
    args.update(overrides)
    return args


@pytest.mark.parametrize("overrides, error, message", [
    (dict(y=np.zeros(19, dtype=int)), ValueError, "fit: x has 20 samples but y has 19"),
    (dict(x=np.zeros(20)), ValueError, "fit: expected x of shape (n_samples, n_features), got (20,)"),
    (dict(y=np.zeros((20, 1, 1))), ValueError, "fit: expected y of shape (n_samples,) (class labels)"),
    (dict(epochs=0), ValueError, "fit: epochs must be a positive integer, got 0"),
    (dict(batch_size=2.5), TypeError, "fit: batch_size must be a positive integer, got 2.5"),
    (dict(rng=0), TypeError, "fit: rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), got int"),
    (dict(validation=np.zeros((5, 2))), TypeError, "fit: validation must be a pair (x_val, y_val)"),
    (dict(validation=(np.zeros((5, 2)), np.zeros(4, dtype=int))), ValueError,
     "fit: validation x has 5 samples but validation y has 4"),
    (dict(optimizer=object()), TypeError, "fit: optimizer must have zero_grad and step methods"),
    (dict(callbacks=[object()]), TypeError, "fit: callback <object object"),
    (dict(y=np.full(20, 2)), ValueError,
     "CrossEntropyLoss: class labels must be in [0, 2) for 2 classes, got 2 at index 0"),
])
def test_bad_arguments(overrides, error, message):
    with pytest.raises(error, match=re.escape(message)):
        tn.fit(**fit_args(**overrides))


def test_progress_bar_on_a_terminal_shows_epoch_and_running_loss(monkeypatch):
    pytest.importorskip("tqdm")

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    small_run(epochs=2, progress=True)
    shown = terminal.getvalue()
    assert "epoch 2/2" in shown and "loss=" in shown and "acc=" in shown and "8/8" in shown


def test_scheduler_steps_once_per_epoch_and_the_history_records_the_rate():
    x, y = datasets.spirals(60, 3, rng=np.random.default_rng(0))
    net = classifier()
    opt = tn.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = tn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    history = tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=5, batch_size=16,
                     rng=np.random.default_rng(0), progress=False, scheduler=sched)
    assert history["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert sched.last_epoch == 5 and opt.param_groups[0]["lr"] == 0.025
    with pytest.raises(ValueError, match="fit: scheduler must be a learning-rate scheduler of this optimizer"):
        tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=16,
               progress=False, scheduler=sched)


@pytest.mark.parametrize("with_validation", [True, False])
def test_reduce_lr_on_plateau_steps_with_the_validation_loss_else_the_training_loss(with_validation):
    x, y = datasets.spirals(60, 3, rng=np.random.default_rng(0))
    net = classifier()
    opt = tn.SGD(net.parameters(), lr=0.1)

    class Spy(tn.optim.lr_scheduler.ReduceLROnPlateau):
        metrics = []

        def step(self, metrics, epoch=None):
            self.metrics.append(metrics)
            super().step(metrics, epoch)

    # mode "max" on a falling loss: no epoch improves on the first, so after it every epoch halves the rate
    sched = Spy(opt, mode="max", factor=0.5, patience=0)
    history = tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=4, batch_size=16,
                     validation=(x[:20], y[:20]) if with_validation else None,
                     rng=np.random.default_rng(0), progress=False, scheduler=sched)
    assert Spy.metrics == history["val_loss" if with_validation else "loss"]
    assert history["lr"][0] == 0.1 and opt.param_groups[0]["lr"] < 0.1


def test_clip_grad_norm_clips_every_step_before_the_optimizer():
    x, y = datasets.spirals(60, 3, rng=np.random.default_rng(0))

    class Spy:  # the gradient norm the optimizer sees, recorded at each step
        def __init__(self, opt):
            self.norms, self.step = [], opt.step
            opt.step = self

        def __call__(self):
            grads = [p.grad.ravel() for p in net.parameters()]
            self.norms.append(float(np.linalg.norm(np.concatenate(grads))))
            self.step()

    net = classifier(weight_init="normal:3")
    opt = tn.SGD(net.parameters(), lr=0.01)
    spy = Spy(opt)
    history = tn.fit(net, tn.CrossEntropyLoss(), opt, x, y, epochs=2, batch_size=16,
                     rng=np.random.default_rng(0), progress=False, clip_grad_norm=0.5)
    assert len(spy.norms) == 8 and max(spy.norms) <= 0.5
    assert all(g > 0.5 for g in history["grad_norm"])  # the norms before clipping, averaged per epoch


def test_warns_once_when_a_classification_loss_follows_a_squashing_layer():
    x, y = datasets.spirals(30, 3, rng=np.random.default_rng(0))
    squashed = tn.MLP([2, 8, 3], "tanh", final_activation=True, rng=np.random.default_rng(0))
    with pytest.warns(UserWarning, match="fit: CrossEntropyLoss expects unbounded scores .logits., but the "
                                         "network ends in a saturating Tanh") as record:
        tn.fit(squashed, tn.CrossEntropyLoss(), tn.SGD(squashed.parameters(), lr=0.1), x, y, epochs=2,
               batch_size=8, progress=False)
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a linear last layer, or a regression loss: no warning
        net = classifier()
        tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.1), x, y, epochs=1, batch_size=8,
               progress=False, callbacks=None)
        onehot = np.eye(3)[y]
        tn.fit(squashed, tn.MSELoss(), tn.SGD(squashed.parameters(), lr=0.1), x, onehot, epochs=1,
               batch_size=8, progress=False)


def test_fit_refuses_an_unreduced_loss():
    x, y = datasets.spirals(30, 3, rng=np.random.default_rng(0))
    net = classifier()
    with pytest.raises(ValueError, match="fit: the loss must reduce to a number; got reduction='none'"):
        tn.fit(net, tn.CrossEntropyLoss(reduction="none"), tn.SGD(net.parameters(), lr=0.1), x, y,
               epochs=1, batch_size=8, progress=False)


def exploding_run(seed, clip_grad_norm, callbacks=None):
    """Ten ReLU layers of 32 at weight std 0.5, twice He's: the gradient grows about 2x a layer."""
    rng = np.random.default_rng(seed)
    x, y = datasets.spirals(300, 3, rng=rng)
    net = tn.MLP([2] + [32] * 10 + [3], "relu", weight_init="normal:0.5", final_activation=False, rng=rng)
    history = tn.fit(net, tn.CrossEntropyLoss(), tn.SGD(net.parameters(), lr=0.01, momentum=0.9), x, y,
                     epochs=10, batch_size=32, rng=rng, progress=False, callbacks=callbacks,
                     clip_grad_norm=clip_grad_norm)
    return net, x, y, history


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exploding_network_diverges_without_clipping_and_trains_with_it(seed):
    losses = []

    class Losses:
        def on_batch_end(self, step, loss):
            losses.append(loss)

    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(tn.NonFiniteLossError) as info:
        exploding_run(seed, None, callbacks=[Losses()])
    e = info.value
    # reported at the first non-finite loss: every step before it had a finite one
    assert len(losses) == e.global_step - 1 and all(math.isfinite(v) for v in losses)
    assert e.epoch == 1 and e.step == e.global_step and not math.isfinite(e.loss)
    assert f"at epoch 1 of 10, step {e.step} of 10 (global step {e.step})" in str(e)
    assert "clip_grad_norm" in str(e)

    net, x, y, history = exploding_run(seed, 1.0)
    assert min(history["grad_norm"]) > 1.0  # the clipping was at work in every epoch
    trained = tn.evaluate(net, tn.CrossEntropyLoss(), x, y)
    assert trained["accuracy"] > 0.8 and trained["loss"] < history["loss"][0] / 10


def test_predict_runs_in_eval_mode_without_keeping_anything_and_restores_the_mode():
    rng = np.random.default_rng(0)
    net = tn.MLP([3, 5, 2], "tanh", rng=rng)
    x = rng.standard_normal((7, 3))
    seen = []
    net.register_forward_hook(lambda layer, inp, out: seen.append((layer.training, tn.is_grad_enabled())))
    out = tn.predict(net, x, batch_size=3)
    assert seen == [(False, False)] * 3  # three batches, each in eval mode and under no_grad
    assert net.training
    with tn.no_grad():
        np.testing.assert_array_equal(out, net.forward(x))
    with pytest.raises(RuntimeError, match="backward needs a forward first"):
        net.backward(np.ones_like(out))  # predict kept nothing to backpropagate


def test_predict_names_bad_input():
    net = tn.MLP([3, 2], "tanh", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"predict: expected x of shape \(n_samples, n_features\)"):
        tn.predict(net, np.ones(3))
    with pytest.raises(ValueError, match="predict: batch_size must be a positive integer"):
        tn.predict(net, np.ones((2, 3)), batch_size=0)


def test_evaluate_and_predict_give_back_each_layers_own_mode():
    rng = np.random.default_rng(0)
    frozen = tn.BatchNorm1d(4).eval()  # kept in eval by hand, as for fine-tuning
    net = tn.Sequential(tn.Linear(3, 4, rng=rng), frozen, tn.ReLU(), tn.Linear(4, 2, rng=rng))
    x, y = rng.standard_normal((6, 3)), np.array([0, 1, 0, 1, 1, 0])
    tn.predict(net, x)
    tn.evaluate(net, tn.CrossEntropyLoss(), x, y)
    assert [m.training for m in net.modules()] == [True, True, False, True, True]


@pytest.mark.parametrize("weight, ignored", [(np.array([1.0, 5.0, 0.2]), 0), (None, 12)])
def test_evaluate_in_batches_gives_the_weighted_mean_of_the_whole_set(weight, ignored):
    x, y = datasets.blobs(30, 3, rng=np.random.default_rng(0))
    y = y.copy()
    y[:ignored] = -100  # a whole first batch of 7 ignored
    loss = tn.CrossEntropyLoss(weight=weight)
    net = classifier(seed=0)
    whole = float(loss(tn.predict(net, x), y))
    assert np.isfinite(whole)
    assert tn.evaluate(net, loss, x, y)["loss"] == pytest.approx(whole, rel=1e-12)
    assert tn.evaluate(net, loss, x, y, batch_size=7)["loss"] == pytest.approx(whole, rel=1e-12)


def test_evaluate_needs_a_loss_that_reduces():
    x, y = datasets.blobs(10, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="evaluate: the loss must reduce to a number"):
        tn.evaluate(classifier(seed=0), tn.CrossEntropyLoss(reduction="none"), x, y)
