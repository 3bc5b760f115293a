"""The trainability experiment's machinery on tiny grids; the claims themselves run in docs/trainability.md."""

import dataclasses
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from diagnostics import experiments as ex
from diagnostics import report, theory
from diagnostics.cli import build_parser, main

TINY = ex.TrainingRecipe(n_samples=30, batch_size=10, epochs=2)


def tiny_run(**kw):
    args = dict(sigma_w2=(1.0, 4.0), depths=(2, 1), width=8, seeds=2, recipe=TINY)
    args.update(kw)
    return ex.run_trainability("tanh", **args)


def test_the_grid_has_a_cell_per_variance_and_depth_and_a_network_per_seed():
    r = tiny_run()
    assert r.depths == (1, 2) and [c.sigma_w2 for c in r.columns] == [1.0, 4.0]
    for c in r.columns:
        assert len(c.seeds) == 2 and all(len(s) == 2 for s in c.seeds)
        for mean, seeds in zip(c.accuracy, c.seeds):
            assert all(0.0 <= a <= 1.0 for a in seeds)
            assert mean == pytest.approx(sum(seeds) / len(seeds))


def test_results_do_not_depend_on_the_executor_but_on_the_seed():
    here = tiny_run()
    with ThreadPoolExecutor(2) as pool:
        pooled = tiny_run(executor=pool)
    assert [c.seeds for c in here.columns] == [c.seeds for c in pooled.columns]
    other = tiny_run(seed=1)
    assert [c.seeds for c in here.columns] != [c.seeds for c in other.columns]


def test_a_shallow_critical_network_learns_the_spirals():
    r = ex.run_trainability("tanh", sigma_w2=(1.76,), depths=(2,), width=32, seeds=1)
    assert r.columns[0].accuracy[0] > 0.6  # chance is 1/3


def test_the_learning_rate_falls_as_one_over_depth():
    recipe = ex.TrainingRecipe(lr_times_depth=0.01, n_samples=100, batch_size=30, epochs=3)
    assert recipe.lr(50) == pytest.approx(0.0002) and recipe.steps == 12


def test_a_cell_draws_weights_of_variance_sigma_w2_over_fan_in_and_biases_of_sigma_b2():
    cell = ex.TrainabilityCell("tanh", 2.0, 0.05, 2, 300, ex.TrainingRecipe())
    params = dict(cell.build(np.random.default_rng(0)).named_parameters())
    first, hidden = (params[f"{i}.weight"].data for i in (0, 2))
    assert first.shape == (300, 2) and hidden.shape == (300, 300)
    assert first.std() == pytest.approx(np.sqrt(2.0 / 2), rel=0.1)
    assert hidden.std() == pytest.approx(np.sqrt(2.0 / 300), rel=0.02)
    assert params["2.bias"].data.std() == pytest.approx(np.sqrt(0.05), rel=0.15)


def column(accuracy, sigma_w2=1.0, depths=(10, 20, 40, 80)):
    regime = theory.regime("tanh", math.sqrt(sigma_w2), math.sqrt(0.05))
    return ex.TrainabilityColumn(sigma_w2, regime, list(accuracy), [[a] for a in accuracy], depths)


def test_the_measured_depth_is_bracketed_by_the_first_failure():
    assert column([0.9, 0.9, 0.5, 0.9]).trainable_depth == (20, 40)  # a later success does not count
    assert column([0.5, 0.9, 0.9, 0.9]).trainable_depth == (None, 10)
    assert column([0.9] * 4).trainable_depth == (80, None)


def test_the_verdict_compares_the_bracket_with_the_prediction_within_a_factor_of_three():
    c = column([0.9, 0.9, 0.5, 0.5])  # sigma_w^2 = 1: xi_c about 3.6, predicted about 22 layers
    p = c.predicted_depth
    assert p == pytest.approx(ex.TRAINABLE_XI_C * c.regime.xi_c) and 15 < p < 30
    assert c.verdict == "agrees"
    assert column([0.5] * 4, depths=(p / 4, p / 2, p, 2 * p)).verdict == "fails sooner than predicted"
    assert column([0.9] * 4, depths=(1, 2, 3, 3 * p + 1)).verdict == "trains deeper than predicted"
    assert column([0.5] * 4, depths=(p / 3 + 1, p, 2 * p, 3 * p)).verdict == "agrees"  # failed below p / 3 + 1
    critical = column([0.9, 0.9, 0.9, 0.5], sigma_w2=1.7609546)
    assert critical.predicted_depth > 1000 and critical.verdict == "fails sooner than predicted"


def test_a_diverged_network_counts_as_not_trained():
    c = ex.TrainabilityColumn(1.0, column([0.9]).regime, [0.95, 0.9], [[0.95, None], [0.9, 0.9]], (10, 20))
    assert c.trainable_depth == (None, 10)


def test_bad_grids_are_refused_by_name():
    for kw, word in ((dict(sigma_w2=(0.0,)), "sigma_w2"), (dict(depths=()), "depths"), (dict(seeds=0), "seeds"),
                     (dict(sigma_b2=-1.0), "sigma_b2"), (dict(sigma_b2="0.1"), "sigma_b2"),
                     (dict(recipe=ex.TrainingRecipe(dataset="mnist")), "dataset")):
        with pytest.raises(ValueError, match=word):
            tiny_run(**kw)


def test_the_command_prints_the_table_and_writes_json_and_the_heatmap(tmp_path, capsys):
    path, figure = tmp_path / "t.json", tmp_path / "t.png"
    status = main(["trainability", "--sigma-w2", "1", "4", "--depths", "1", "2", "--width", "8", "--seeds", "1",
                   "--quiet", "--jobs", "1", "--json", str(path), "--plot", str(figure)])
    out = capsys.readouterr().out
    assert status == 0 and figure.stat().st_size > 10_000
    assert "predicted (6 xi_c)" in out and "verdict" in out
    assert "nan" not in out and "inf" not in out.replace("info", "")
    data = json.loads(path.read_text())
    assert {(c["sigma_w2"], c["depth"]) for c in data["cells"]} == {(1.0, 1), (1.0, 2), (4.0, 1), (4.0, 2)}
    assert all(len(c["seeds"]) == 1 and c["accuracy"] == c["seeds"][0] for c in data["cells"])
    assert [p["sigma_w2"] for p in data["predicted_depth"]] == [1.0, 4.0]
    assert all(p["depth"] > 0 for p in data["predicted_depth"])
    assert data["recipe"]["steps"] == 200


def test_a_critical_column_prints_and_writes_no_infinity():
    r = ex.run_trainability("tanh", sigma_w2=(1.76,), depths=(1,), width=4, seeds=1, recipe=TINY)
    assert math.isinf(r.columns[0].predicted_depth) or r.columns[0].predicted_depth > 1000
    text = report.trainability_text(r)
    assert "nan" not in text and " inf" not in text
    json.dumps(report.trainability_json(r), allow_nan=False)


@pytest.mark.parametrize("argv, message", [
    (["--sigma-w2", "0"], "--sigma-w2"),
    (["--sigma-w2", "1000"], "--sigma-w2 expects values from"),
    (["--sigma-b2", "50"], "--sigma-b2 expects"),
    (["--hidden-layers", "5000"], "--hidden-layers expects at most"),
    (["--depths", "5000"], "--hidden-layers expects at most"),  # the old spelling, checked as the new
    (["--width", "0"], "--width"),
    (["--activation", "nope"], "nope"),
    (["--seeds", "x"], "--seeds"),
])
def test_bad_options_exit_2_with_one_line(argv, message, capsys):
    assert main(["trainability", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_regime_without_xi_c_gives_no_prediction_not_a_verdict():
    c = column([0.9, 0.5])
    c.regime = dataclasses.replace(c.regime, xi_c=math.nan)
    assert c.predicted_depth is None and c.agrees is None and c.verdict == "no prediction"


@pytest.mark.parametrize("activation, sigma_w2", [("relu", ("0.5", "4")), ("sigmoid", ("0.5", "4"))])
def test_other_activations_print_no_nan_or_inf(activation, sigma_w2, capsys):
    status = main(["trainability", "--activation", activation, "--sigma-w2", *sigma_w2, "--depths", "1",
                   "--width", "4", "--seeds", "1", "--quiet", "--jobs", "1", "--dtype", "float32"])
    out = capsys.readouterr().out
    assert status == 0 and "nan" not in out and " inf" not in out and "float32" in out


def test_an_activation_without_a_critical_point_asks_for_the_grid(capsys):
    assert main(["trainability", "--activation", "softplus"]) == 2
    assert "give --sigma-w2" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["--sigma-w2", "0.01", "100", "--sigma-b2", "10", "--width", "1"],
    ["--sigma-w2", "1", "--sigma-b2", "0", "--width", "2", "--dtype", "float32"],  # critical: xi_c unbounded
])
def test_edge_values_print_no_nan_inf_or_traceback(argv, tmp_path, capsys):
    path = tmp_path / "t.json"
    status = main(["trainability", *argv, "--depths", "1", "3", "--seeds", "1", "--quiet", "--jobs", "1",
                   "--json", str(path)])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert not re.search(r"\b(nan|inf|infinity)\b", out + err, re.IGNORECASE), out
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text and json.loads(text)["cells"]


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["trainability", "--help"])
    out = capsys.readouterr().out
    assert "6 xi_c" in out and "--sigma-w2" in out and "--jobs" in out
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["trainability"]
    assert [a.option_strings for a in sub._actions if not a.help] == []
