import json
import math
import subprocess
import sys

import numpy as np
import pytest

from diagnostics import experiments as ex
from diagnostics import report
from diagnostics.cli import main

# what the lecture printed (log10, orders of magnitude only; docs/tutorial-numerical-stability.md)
LECTURE_SAW = {
    ("relu", "normal", 0.1): -9, ("relu", "normal", 0.4): 20, ("relu", "xavier_uniform", None): -9,
    ("sigmoid", "normal", 0.1): -33, ("sigmoid", "normal", 0.8): math.log10(5e-5),
    ("scaled_sigmoid", "normal", 0.1): -2,
}


@pytest.fixture(scope="module")
def lecture_json(tmp_path_factory):
    """One real end-to-end run of the main job, as a newcomer types it."""
    path = tmp_path_factory.mktemp("lecture") / "lecture.json"
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "lecture", "--json", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(path.read_text())


def test_lecture_reproduces_every_row(lecture_json):
    stdout, data = lecture_json
    assert data["seed"] == 0 and data["dtype"] == "float64"
    assert [m["scale"] for m in data["matrices"]] == [0.5, 0.7]
    small, large = (m["log10_mean_abs"] for m in data["matrices"])
    assert -8 < small < -5 and 8 < large < 12  # ~1e-6 and ~1e+9..1e+10
    rows = {(e["activation"], e["init"], e["scale"]): e for e in data["experiments"]}
    assert len(rows) == 13
    for key, saw in LECTURE_SAW.items():
        assert abs(rows[key]["log10_mean_abs_grad"] - saw) < 1.5, key
    # where the lecture printed nan (float32 overflow), a finite magnitude
    assert 30 < rows[("relu", "normal", 0.8)]["log10_mean_abs_grad"] < 45
    for e in data["experiments"]:
        assert len(e["per_layer_grad_norm_log10"]) == e["depth"] == 50
        assert e["repeats"] == 10 and e["width"] == 100
        assert e["mean_abs_grad"] == pytest.approx(10 ** e["log10_mean_abs_grad"], rel=1e-9)
    assert rows[("relu", "normal", 0.1)]["verdict"] == "vanishing"
    assert rows[("relu", "normal", 0.4)]["verdict"] == "exploding"
    assert rows[("scaled_sigmoid", "normal", 0.1)]["verdict"] == "stable"
    assert "scaled_sigmoid" in stdout and "exploding" in stdout and "decades/layer" in stdout


def test_probe_prints_per_layer_and_writes_json(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert main(["probe", "--activation", "tanh", "--init", "normal:0.1", "--depth", "4",
                 "--width", "8", "--repeats", "2", "--per-layer", "--json", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "layers back" in out and "log10 norm" in out
    data = json.loads(path.read_text())
    (e,) = data["experiments"]
    assert (e["activation"], e["init"], e["scale"], e["depth"], e["width"]) == ("tanh", "normal", 0.1, 4, 8)
    assert len(e["per_layer_grad_norm_log10"]) == 4


def test_probe_with_bias_and_float32(capsys):
    assert main(["probe", "--activation", "relu", "--init", "he_normal", "--depth", "3", "--width", "8",
                 "--repeats", "1", "--bias-std", "0.1", "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    assert "bias std 0.1" in out and "float32" in out


def test_matrices(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["matrices", "--scale", "0.7", "-k", "3", "-n", "50", "--seed", "1", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("e+") + out.count("e-") >= 9  # the 3x3 product, printed
    (m,) = json.loads(path.read_text())["matrices"]
    assert (m["scale"], m["k"], m["n"]) == (0.7, 3, 50) and math.isfinite(m["log10_mean_abs"])


def test_matrices_without_scale_is_the_lectures_first_experiment(tmp_path, capsys):
    path = tmp_path / "m.json"
    assert main(["matrices", "--json", str(path)]) == 0
    data = json.loads(path.read_text())["matrices"]
    assert [(m["scale"], m["k"], m["n"]) for m in data] == [(0.5, 4, 100), (0.7, 4, 100)]
    assert capsys.readouterr().out.count("Product of 100 random 4x4 matrices") == 2


@pytest.mark.parametrize("argv, message", [
    (["lecture", "--bogus"], "unrecognized arguments: --bogus"),
    (["lecture", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["probe", "--activation", "tanhh", "--init", "normal:0.1"], "unknown activation 'tanhh'; known:"),
    (["probe", "--activation", "tanh", "--init", "normal:-1"], "std must be >= 0"),
    (["probe", "--activation", "tanh", "--init", "gaussian"], "unknown initializer 'gaussian'"),
    (["probe", "--activation", "tanh", "--init", "he_normal", "--depth", "0"], "expected a positive integer, got 0"),
    (["probe", "--activation", "tanh"], "the following arguments are required: --init"),
    (["matrices", "--scale", "-1"], "expected a positive number, got -1"),
    (["matrices", "--scale", "x"], "expected a positive number, got 'x'"),
    (["lecture", "--json", "/no/such/dir/out.json"], "--json: the directory of '/no/such/dir/out.json' does not exist"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "784"], "at least 2 positive integers"),
    (["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "784,0,10"], "got '784,0,10'"),
    (["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "7.5,3"], "got '7.5,3'"),
    (["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "8,4", "--width", "8"],
     "leave out --depth and --width"),
    (["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "100000,3,100000"], "more than 512 MB"),
    (["phase", "--activation", "tanh", "--sigma-w2", "4", "1"], "--sigma-w2 expects LOW < HIGH"),
    (["phase", "--activation", "tanh", "--sigma-b2", "0", "1e9"], "both from 0 to 1000"),
    (["phase", "--activation", "tanh", "--points", "1", "5"], "--points expects two counts from 2 to 201"),
    (["phase", "--activation", "tanh", "--sigma-w2", "0", "1"], "expected a positive number, got 0"),
])
def test_bad_options_get_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_option_from_the_shell_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "diagnostics", "probe", "--activation", "relu6",
                           "--init", "he_normal"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown activation 'relu6'" in proc.stderr


@pytest.mark.parametrize("cmd", ["lecture", "probe", "matrices", "phase"])
def test_help_explains_every_option(cmd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([cmd, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--json" in out and ("--seed" in out or cmd == "phase")
    from diagnostics.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[cmd]
    undocumented = [a.option_strings for a in sub._actions if not a.help]
    assert undocumented == []


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "probe.png"
    assert main(["probe", "--activation", "relu", "--init", "normal:0.2", "--depth", "5",
                 "--width", "10", "--repeats", "2", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def without_matplotlib(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)


def test_plot_without_matplotlib_says_how_to_install(without_matplotlib, capsys, tmp_path):
    assert main(["probe", "--activation", "relu", "--init", "he_normal", "--plot", str(tmp_path / "x.png")]) == 2
    assert "pip install matplotlib" in capsys.readouterr().err


def test_html_without_matplotlib_is_a_page_with_the_table_and_why_no_figure(without_matplotlib, tmp_path):
    path = tmp_path / "probe.html"
    assert main(["probe", "--activation", "relu", "--init", "he_normal", "--depth", "3", "--width", "4",
                 "--repeats", "1", "--quiet", "--html", str(path)]) == 0
    page = path.read_text(encoding="utf-8")
    assert "No figure: plotting needs matplotlib: pip install matplotlib" in page and "<img" not in page
    assert "<th>activation</th>" in page and "<td>relu</td>" in page


def test_train_prints_the_verdict_then_whether_it_trained(tmp_path, capsys):
    path = tmp_path / "t.json"
    args = ["train", "--dataset", "moons", "--depth", "20", "--width", "32", "--activation", "tanh",
            "--epochs", "40", "--quiet"]
    assert main(args + ["--init", "normal:0.01", "--json", str(path)]) == 0
    vanishing = json.loads(path.read_text())
    assert main(args + ["--init", "variance_scaling:1,fan_in,untruncated_normal", "--json", str(path)]) == 0
    critical = json.loads(path.read_text())
    out = capsys.readouterr().out
    assert "untrained: gradient norm changes by" in out and "training accuracy" in out
    assert vanishing["verdict"] == "vanishing" and critical["verdict"] == "stable"
    assert vanishing["history"]["accuracy"][-1] < 0.6 < 0.95 < critical["history"]["accuracy"][-1]
    assert len(critical["monitor"]) >= 2


def test_train_clips_an_exploding_network_and_records_the_norm_before_and_after(tmp_path, capsys):
    args = ["train", "--activation", "relu", "--init", "normal:0.5", "--depth", "10", "--width", "32",
            "--epochs", "3", "--quiet"]
    assert main(args) == 1  # twice He's scale: the loss overflows in the first epoch
    assert "the loss became nan at epoch 1 of 3, step" in capsys.readouterr().err
    path, figure = tmp_path / "t.json", tmp_path / "t.png"
    assert main(args + ["--clip-grad-norm", "1", "--json", str(path), "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "gradient clipped to norm 1 before each step; its norm before clipping averaged" in out
    data = json.loads(path.read_text())
    assert data["clip_grad_norm"] == 1.0 and len(data["history"]["grad_norm"]) == 3
    before = [h["grad_norm"] for h in data["monitor"]]
    after = [h["clipped_grad_norm"] for h in data["monitor"]]
    assert min(before) > 1 and after == pytest.approx([1.0] * len(after), rel=1e-6) and max(after) < 1
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_the_commands_worker_processes_give_what_one_process_gives(lecture_json):
    # the fixture ran with a worker per core (forked where the system allows)
    _, data = lecture_json
    assert data == json.loads(json.dumps(report.lecture_json(ex.run_lecture(seed=0))))


def test_lecture_prints_predictions_beside_measurements(lecture_json):
    stdout, data = lecture_json
    assert "typical" in stdout and "mean-field" in stdout and "regime" in stdout
    for e in data["experiments"]:
        assert len(e["predicted_per_layer_grad_norm_log10"]) == len(e["typical_per_layer_grad_norm_log10"]) == 50
        assert e["regime"] in ("ordered", "critical", "chaotic")
        # the lecture's statistic averages 10 networks: it lies near the typical (median) prediction
        assert abs(e["log10_mean_abs_grad"] - e["typical_log10_mean_abs_grad"]) < 1.0
    for m in data["matrices"]:
        assert abs(m["measured_log10_per_step"] - m["lyapunov_log10_per_step"]) < 0.05


def test_critical_recovers_he_and_the_probe_agrees(tmp_path, capsys):
    path = tmp_path / "c.json"
    assert main(["critical", "--activation", "relu", "--depth", "20", "--repeats", "6", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["critical_sigma_w"] == pytest.approx(math.sqrt(2), abs=1e-6)
    assert [r["regime"] for r in data["lecture_scales"]] == ["ordered", "chaotic", "chaotic", "chaotic"]
    for row in data["candidates"]:
        assert abs(row["measured_median"] - row["predicted_change"]) < 0.3
        assert row["verdict"] == "stable"
    assert "weight std 0.141421 at fan-in 100" in capsys.readouterr().out


def test_critical_plot_draws_each_candidates_curves_and_json_keeps_them(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    figure, path = tmp_path / "c.png", tmp_path / "c.json"
    assert main(["critical", "--activation", "tanh", "--depth", "4", "--fan-in", "8", "--repeats", "2",
                 "--plot", str(figure), "--json", str(path)]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {figure}" in capsys.readouterr().out
    for row in json.loads(path.read_text())["candidates"]:
        curves = row["measured_per_layer_grad_norm_log10"]
        assert len(curves) == 2 and all(len(c) == 4 for c in curves)
        # the last layer's norm, less the identity's (sqrt(8)), is the change the table prints
        assert [c[-1] - 0.5 * math.log10(8) for c in curves] == pytest.approx(row["measured_changes"])
        assert len(row["typical_per_layer_grad_norm_log10"]) == len(row["per_layer_grad_norm_log10_sd"]) == 4


def test_critical_plot_without_a_probe_says_there_is_nothing_to_draw(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "c.png"
    assert main(["critical", "--activation", "relu", "--depth", "0", "--plot", str(figure)]) == 0
    assert f"no figure written to {figure}: --depth 0 probes no network" in capsys.readouterr().out
    assert not figure.exists()


def test_critical_says_when_there_is_none(capsys):
    assert main(["critical", "--activation", "gelu", "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert "no critical point" in out and "jumps over 1" in out


def test_spectrum_command(tmp_path, capsys):
    path = tmp_path / "s.json"
    assert main(["spectrum", "--activation", "identity", "--init", "orthogonal", "--depth", "10",
                 "--width", "20", "--repeats", "2", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert np.allclose(data["log10_singular_values"], 0.0, atol=1e-12)
    assert "predicted" in capsys.readouterr().out


def test_train_prints_the_theory(capsys):
    assert main(["train", "--activation", "relu", "--init", "he_normal", "--epochs", "1", "--quiet"]) == 0
    assert "theory, for the hidden layers: critical" in capsys.readouterr().out


def test_spectrum_of_a_network_whose_jacobian_is_zero(capsys):
    assert main(["spectrum", "--activation", "relu", "--init", "constant:-1", "--depth", "3", "--width", "4",
                 "--repeats", "1"]) == 0
    assert "J is exactly zero" in capsys.readouterr().out


@pytest.mark.parametrize("argv, status, message", [
    (["lecture", "--json", "."], 2, "is a directory; give a file name"),
    (["lecture", "--seed", "-5"], 2, "argument --seed: expected an integer >= 0, got -5"),
    (["critical", "--activation", "relu", "--bias-std", "1e300", "--depth", "0"], 2, "too large to compute with"),
    (["train", "--activation", "relu", "--init", "he_normal", "--lr", "1e300", "--epochs", "2", "--quiet"], 1,
     "the loss became nan at epoch 1"),
])
def test_failures_are_one_message_never_a_traceback(argv, status, message, capsys):
    assert main(argv) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_spectrum_counts_every_eigenvalue(tmp_path, capsys):
    path = tmp_path / "s.json"
    assert main(["spectrum", "--activation", "tanh", "--init", "xavier_normal", "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    # about 30 of the 100 singular values are below resolution in every network; counted
    # as the (nearly) zero eigenvalues they are, the spread comes close to the prediction
    assert all(sum(v > max(s) - 15 for v in s) < 90 for s in data["log10_singular_values"] if s)
    assert abs(data["log10_normalized_variance"] - data["predicted_log10_normalized_variance"]) < 0.15
    assert "Spread of the 100 eigenvalues of J J^T" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--activation", "sigmoid", "--init", "normal:5", "--depth", "30", "--width", "20", "--dtype", "float32"],
    ["--activation", "relu", "--init", "normal:0.8", "--depth", "200", "--width", "20"],
])
def test_spectrum_says_when_the_prediction_is_out_of_reach_at_this_width(argv, tmp_path, capsys):
    path = tmp_path / "s.json"
    assert main(["spectrum", *argv, "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    bound = math.log10(19)
    assert data["largest_log10_normalized_variance"] == pytest.approx(bound)
    # few singular values are resolved, yet the statistic is finite and within its bound
    assert all(-10 < v <= bound + 1e-12 for v in data["per_network_log10_normalized_variance"])
    assert data["predicted_log10_normalized_variance"] > bound
    out = capsys.readouterr().out
    assert "exceeds log10(20 - 1) = 1.28" in out and "no network of width 20 can reach it" in out


def test_a_network_that_overflows_is_a_result_for_spectrum_and_probe(tmp_path, capsys):
    common = ["--activation", "identity", "--init", "normal:1", "--bias-std", "0.1", "--dtype", "float32",
              "--repeats", "1"]
    path = tmp_path / "p.json"
    assert main(["spectrum", *common]) == 0
    out = capsys.readouterr().out
    assert "network 1: the forward pass became non-finite at layer" in out and "predicted 1.70" in out
    assert main(["probe", *common, "--json", str(path), "--quiet"]) == 0
    (e,) = json.loads(path.read_text())["experiments"]
    assert e["verdict"] == "non-finite" and "forward pass became non-finite" in e["nonfinite"]
    # the theory does not depend on the measurement: sigma_w = 10, 50 identity layers
    assert e["predicted_log10_mean_abs_grad"] == pytest.approx(50 + math.log10(math.sqrt(2 / math.pi) / 10), abs=0.1)
    assert e["regime"] == "chaotic"


def test_probe_measures_and_predicts_extreme_weight_stds(tmp_path):
    path = tmp_path / "p.json"
    assert main(["probe", "--activation", "relu", "--init", "normal:1e200", "--depth", "3", "--repeats", "2",
                 "--json", str(path), "--quiet"]) == 0
    (e,) = json.loads(path.read_text())["experiments"]
    assert e["scale"] == 1e200
    # each ReLU layer multiplies the norm by about std * sqrt(100 / 2)
    assert e["decades_per_layer"] == pytest.approx(200 + 0.5 * math.log10(50), abs=0.1)
    assert "beyond float64's range" in e["prediction_note"]
    assert main(["probe", "--activation", "relu", "--init", "normal:1e-200", "--depth", "3", "--repeats", "2",
                 "--json", str(path), "--quiet"]) == 0
    (e,) = json.loads(path.read_text())["experiments"]
    assert e["scale"] == 1e-200 and e["sigma_w"] == pytest.approx(1e-199, rel=1e-12, abs=0)
    assert e["typical_log10_mean_abs_grad"] == pytest.approx(e["log10_mean_abs_grad"], abs=0.1)


def test_probe_of_tiny_and_huge_weights_prints_no_warnings():
    for argv in (["--activation", "tanh", "--init", "normal:1e37", "--dtype", "float32"],
                 ["--activation", "tanh", "--init", "normal:1e-320"]):
        proc = subprocess.run([sys.executable, "-m", "diagnostics", "probe", *argv, "--depth", "10",
                               "--repeats", "2"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == ""
        assert "non-finite" not in proc.stdout


def test_train_with_a_huge_std_reaches_training(capsys):
    # no prediction (sigma_w^2 overflows) is a line of output, not the end of the run
    status = main(["train", "--activation", "relu", "--init", "normal:1e200", "--epochs", "1", "--quiet"])
    captured = capsys.readouterr()
    assert "theory, for the hidden layers: no prediction:" in captured.out
    assert "untrained: the forward pass became non-finite" in captured.out
    assert status == 1 and "the loss became nan" in captured.err  # training diverges, as it must


def test_train_gives_the_gain_of_the_hidden_square_layers(tmp_path, capsys):
    import tinynet as tn

    path = tmp_path / "t.json"
    assert main(["train", "--activation", "relu", "--init", "normal:0.01", "--dataset", "xor", "--depth", "3",
                 "--width", "16", "--epochs", "1", "--quiet", "--json", str(path)]) == 0
    got = json.loads(path.read_text())["decades_per_hidden_layer"]
    # the same network (train draws the data, then the weights, from default_rng(seed)),
    # its Jacobian by hand, input of ones; hidden 16 -> 16 layers only
    rng = np.random.default_rng(0)
    tn.datasets.xor(rng=rng)
    net = tn.MLP([2, 16, 16, 16, 2], "relu", weight_init="normal:0.01", final_activation=False, rng=rng)
    linears = [m for m in net if isinstance(m, tn.Linear)]
    h, slopes = np.ones(2), []
    for i, lin in enumerate(linears):
        z = lin.weight.data @ h + lin.bias.data
        slopes.append((z > 0).astype(float) if i < len(linears) - 1 else np.ones_like(z))
        h = np.maximum(z, 0) if i < len(linears) - 1 else z
    m, norms = np.eye(2), [math.log10(math.sqrt(2))]
    for lin, d in zip(reversed(linears), reversed(slopes)):
        m = m @ (d[:, None] * lin.weight.data)
        norms.append(math.log10(np.linalg.norm(m)))
    gains = np.diff(norms)  # backward order: output layer, hidden, hidden, input layer
    np.testing.assert_allclose(got, gains[1:3], atol=1e-9)
    out = capsys.readouterr().out
    assert f"per hidden 16 -> 16 layer: {np.mean(gains[1:3]):+.2f} decades" in out
    assert "the gradient's norm changes by -1.55 decades per layer (0.5 log10 chi_1)" in out


def test_probe_of_mixed_widths_measures_and_predicts_each_layer(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert main(["probe", "--activation", "relu", "--init", "he_normal", "--sizes", "64,32,16,4", "--final-linear",
                 "--repeats", "20", "--per-layer", "--quiet", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MLP 64 -> 32 -> 16 -> 4, relu (none after the last layer)")
    (record,) = json.loads(path.read_text())["experiments"]
    assert record["sizes"] == [64, 32, 16, 4] and record["final_linear"] and record["width"] is None
    # three Linear layers, measured and predicted after each; He's scale keeps the ReLU layers critical
    assert len(record["per_layer_grad_norm_log10"]) == len(record["per_layer_grad_norm_log10_sd"]) == 3
    assert record["regime"] == "critical"
    # the mean over 20 networks lies within a few of the theory's standard deviations of the typical one
    sd = record["log10_grad_norm_sd"]
    assert 0 < sd < 0.5
    assert abs(record["log10_mean_abs_grad"] - record["typical_log10_mean_abs_grad"]) < 3 * sd
    assert f"± {sd:.2f}" in out


def test_a_two_entry_sizes_list_is_one_linear_layer(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert main(["probe", "--activation", "tanh", "--init", "orthogonal", "--sizes", "6,6", "--final-linear",
                 "--repeats", "2", "--quiet", "--json", str(path)]) == 0
    assert "no layer has the activation" in capsys.readouterr().out
    (record,) = json.loads(path.read_text())["experiments"]
    # one orthogonal Linear(6 -> 6) and nothing after it: J is orthogonal, its norm exactly sqrt(6) in every network
    assert record["per_layer_grad_norm_log10"] == pytest.approx([0.5 * math.log10(6)])
    assert record["typical_per_layer_grad_norm_log10"] == pytest.approx([0.5 * math.log10(6)])
    assert record["log10_grad_norm_sd"] == pytest.approx(0.0, abs=1e-12) and record["regime"] is None


def test_regime_names_with_a_space_keep_tables_aligned_and_json_plain(tmp_path, capsys):
    path = tmp_path / "p.json"
    assert main(["probe", "--activation", "softplus", "--init", "he_normal", "--depth", "4", "--width", "16",
                 "--repeats", "2", "--quiet", "--json", str(path)]) == 0
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert "slowly vanishing" in row
    assert row.index("slowly vanishing") == header.index("regime")
    assert row.index("slowly vanishing") + len("slowly vanishing") + 2 == header.index("verdict")
    assert json.loads(path.read_text())["experiments"][0]["regime"] == "slowly vanishing"


def test_phase_prints_the_critical_line_and_writes_json_and_a_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    data, figure = tmp_path / "phase.json", tmp_path / "phase.png"
    assert main(["phase", "--activation", "relu", "--sigma-b2", "0", "0.5", "--points", "9", "5",
                 "--json", str(data), "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    d = json.loads(data.read_text())
    # ReLU is critical at He's sigma_w^2 = 2 whatever the bias (its chi_1 does not depend on q)
    assert np.allclose(d["critical_sigma_w2"], 2.0)
    assert len(d["sigma_w2"]) == 9 and len(d["sigma_b2"]) == 5 and np.shape(d["xi_c"]) == (5, 9)
    assert "order-to-chaos" in out and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_phase_prints_a_word_where_the_variance_grows_without_bound(tmp_path, capsys):
    data = tmp_path / "phase.json"
    assert main(["phase", "--activation", "relu", "--sigma-w2", "1", "4", "--sigma-b2", "0", "0.5",
                 "--points", "3", "2", "--json", str(data)]) == 0
    out = capsys.readouterr().out
    d = json.loads(data.read_text())
    # sigma_w^2 = 4 is twice He's scale: q grows by a factor 2 per layer, so no xi_c, in words
    assert d["variance_unbounded"] == [[False, True, True], [False, True, True]]
    assert d["xi_c"][0][2] is None and d["xi_c"][1][2] is None
    assert "q unbounded" in out and "nan" not in out
    assert "4 with a variance that grows without bound" in out


def test_phase_says_so_when_there_is_nothing_to_draw(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    figure = tmp_path / "phase.png"
    # above He's scale ReLU's variance grows without bound: there is no xi_c to draw
    assert main(["phase", "--activation", "relu", "--sigma-w2", "2.5", "4", "--sigma-b2", "0", "1e-12",
                 "--points", "3", "2",
                 "--plot", str(figure)]) == 0
    assert not figure.exists() and "no figure written" in capsys.readouterr().out
