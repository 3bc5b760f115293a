"""The command line's options mean one thing everywhere; old spellings keep working; probe --model."""

import json

import numpy as np
import pytest

import tinynet as tn
from diagnostics import theory
from diagnostics.cli import build_parser, main


def parse(*argv):
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize("argv, dest, value", [
    (["critical", "--activation", "tanh", "--width", "7"], "width", 7),
    (["critical", "--activation", "tanh", "--fan-in", "7"], "width", 7),
    (["train", "--activation", "relu", "--init", "he_normal", "--hidden-layers", "3"], "hidden_layers", 3),
    (["train", "--activation", "relu", "--init", "he_normal", "--depth", "3"], "hidden_layers", 3),
    (["train", "--activation", "relu", "--init", "he_normal"], "hidden_layers", 2),
    (["remedies", "--blocks", "9"], "blocks", 9),
    (["remedies", "--depth", "9"], "blocks", 9),
    (["remedies"], "blocks", 50),
    (["trainability", "--hidden-layers", "2", "4"], "hidden_layers", [2, 4]),
    (["trainability", "--depths", "2", "4"], "hidden_layers", [2, 4]),
])
def test_new_names_and_the_old_spellings_they_replace(argv, dest, value):
    assert getattr(parse(*argv), dest) == value


def test_the_old_spellings_stay_out_of_the_help():
    for command, old in (("train", "--depth"), ("remedies", "--depth"), ("trainability", "--depths")):
        subparsers = build_parser()._subparsers._group_actions[0].choices
        assert old not in subparsers[command].format_help().replace(old + "s", "")


@pytest.mark.parametrize("command", ["lecture", "probe", "critical", "phase", "spectrum", "train", "remedies",
                                     "trainability"])
def test_every_command_with_a_progress_bar_takes_quiet(command):
    required = {"probe": ["--activation", "tanh", "--init", "he_normal"], "critical": ["--activation", "tanh"],
                "phase": ["--activation", "tanh"], "spectrum": ["--activation", "tanh", "--init", "orthogonal"],
                "train": ["--activation", "tanh", "--init", "he_normal"]}
    assert parse(command, *required.get(command, []), "--quiet").quiet


@pytest.mark.parametrize("argv", [["matrices"], ["critical", "--activation", "tanh"],
                                  ["train", "--activation", "tanh", "--init", "he_normal"],
                                  ["probe", "--activation", "tanh", "--init", "he_normal"], ["lecture"], ["remedies"],
                                  ["trainability"], ["spectrum", "--activation", "tanh", "--init", "orthogonal"]])
def test_every_command_that_builds_networks_takes_dtype(argv):
    assert parse(*argv, "--dtype", "float32").dtype == "float32"


def test_critical_passes_dtype_and_width_to_the_probe(monkeypatch):
    from diagnostics import experiments

    seen = {}

    def check_scales(activation, bias_std, fan_in, depth, repeats, seed, progress, dtype):
        seen.update(fan_in=fan_in, dtype=dtype, progress=progress)
        raise KeyboardInterrupt  # the rest of the command is not what this test is about

    monkeypatch.setattr(experiments, "check_scales", check_scales)
    assert main(["critical", "--activation", "tanh", "--fan-in", "8", "--dtype", "float32", "--quiet"]) == 130
    assert seen == dict(fan_in=8, dtype="float32", progress=False)


def test_train_names_clip_grad_norm_when_training_diverges(capsys):
    status = main(["train", "--activation", "relu", "--init", "normal:1e200", "--epochs", "1", "--quiet"])
    err = capsys.readouterr().err
    assert status == 1 and "the loss became nan" in err and "--clip-grad-norm 1" in err
    assert "fit(" not in err  # Python advice belongs to Python users


# ---------------------------------------------------------------------------
# probe --model
# ---------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    net = tn.MLP([12, 40, 40, 40, 4], "tanh", weight_init="normal:0.25", rng=np.random.default_rng(0))
    path = tmp_path / "net.npz"
    tn.save(net, path)
    return net, str(path)


def test_probe_model_probes_the_saved_network_and_predicts_it_from_its_weights(saved, tmp_path, capsys):
    net, path = saved
    out = tmp_path / "out.json"
    assert main(["probe", "--model", path, "--json", str(out)]) == 0
    assert "as saved" in capsys.readouterr().out
    (row,) = json.loads(out.read_text())["experiments"]
    # the file's network, measured as it is: the same as probing it here
    from diagnostics.probes import gradient_probe

    measured = gradient_probe(net)
    assert row["per_layer_grad_norm_log10"] == pytest.approx(list(measured.per_layer_grad_norm_log10))
    # predicted as networks drawn at its weights' scale: close to the prediction for the initializer that drew them
    expected = theory.predict_network(net).per_layer_grad_norm_log10
    assert row["typical_per_layer_grad_norm_log10"] == pytest.approx(list(expected), abs=0.05)


@pytest.mark.parametrize("make, message", [
    (lambda net, p: tn.save(net.state_dict(), p), "holds a state dict, not a network"),
    (lambda net, p: open(p, "w").write("hello"), "cannot load a tinynet model"),
    (lambda net, p: None, "no such file"),
    (lambda net, p: tn.save(tn.Sequential(tn.Linear(3, 3), tn.BatchNorm1d(3)), p), "normalizes over a batch"),
])
def test_probe_model_refuses_what_is_not_a_model_it_can_probe_in_one_line(make, message, tmp_path, capsys):
    path = str(tmp_path / "other.npz")
    make(tn.MLP([3, 3], "tanh", rng=np.random.default_rng(0)), path)
    assert main(["probe", "--model", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--model" in err and message in err


def test_probe_model_refuses_options_that_describe_another_network(saved, capsys):
    _, path = saved
    assert main(["probe", "--model", path, "--activation", "relu", "--depth", "3"]) == 2
    assert "leave out --activation, --depth" in capsys.readouterr().err


def test_probe_without_model_still_needs_activation_and_init(capsys):
    assert main(["probe", "--init", "he_normal"]) == 2
    assert "required: --activation (or --model FILE)" in capsys.readouterr().err


def test_probe_json_names_the_dtype_it_ran_in(capsys):
    argv = ["probe", "--activation", "tanh", "--init", "he_normal", "--depth", "3", "--width", "4", "--repeats", "1",
            "--quiet", "--json", "-"]
    for given, dtype in (([], "float64"), (["--dtype", "float32"], "float32")):
        assert main(argv + given) == 0
        assert json.loads(capsys.readouterr().out)["dtype"] == dtype
