"""python -m diagnostics remedies: every prediction it prints lies within half a decade of its measurement."""

import json

import pytest

from diagnostics.cli import main


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """The command's JSON at depth 50, width 100 (3 networks per row keep the test quick)."""
    path = tmp_path_factory.mktemp("remedies") / "remedies.json"
    assert main(["remedies", "--repeats", "3", "--jobs", "2", "--quiet", "--json", str(path)]) == 0
    return json.loads(path.read_text())["rows"]


def test_every_prediction_lies_within_half_a_decade_or_there_is_none(rows):
    assert len(rows) == 21
    for r in rows:
        assert r["measured_log10_change"] is not None, r
        if r["predicted_log10_change"] is None:
            assert r["prediction_note"], r  # the row says why there is no prediction
        else:
            assert abs(r["predicted_log10_change"] - r["measured_log10_change"]) <= 0.5, r


def test_every_remedy_is_applied_to_every_failing_network(rows):
    networks = {r["network"] for r in rows}
    assert networks == {"relu 0.1", "relu 0.4", "sigmoid 0.1"}
    for network in networks:
        kinds = [r["remedy_kind"] for r in rows if r["network"] == network]
        assert kinds == ["none", "critical_init", "residual", "residual_scaled", "layer_norm",
                         "batch_norm", "batch_norm"]


def test_batchnorm_explodes_faster_at_the_smaller_batch_as_predicted(rows):
    relu = {r["batch_size"]: r for r in rows if r["network"] == "relu 0.1" and r["remedy_kind"] == "batch_norm"}
    assert set(relu) == {8, 64}
    for r in relu.values():
        assert r["input"].startswith("N(0, I) batch of") and r["cotangents"] == 2
        assert r["measured_log10_change"] > 3 and r["predicted_log10_change"] > 3
    assert relu[8]["measured_log10_change"] > relu[64]["measured_log10_change"] + 1
    assert relu[8]["predicted_log10_change"] > relu[64]["predicted_log10_change"] + 1


def test_batchnorm_is_predicted_for_a_typical_network_with_the_sigmoid_too(rows):
    sigmoid = [r for r in rows if r["network"] == "sigmoid 0.1" and r["remedy_kind"] == "batch_norm"]
    assert len(sigmoid) == 2
    for r in sigmoid:
        assert r["prediction_kind"] == "typical" and r["predicted_sd"] > 0


def test_the_remedies_fix_what_they_should(rows):
    by = {(r["network"], r["remedy_kind"]): r for r in rows}
    for network in ("relu 0.1", "relu 0.4"):
        for kind in ("critical_init", "layer_norm"):
            assert by[network, kind]["verdict"] == "stable"
    # a residual network cannot lose its gradient, not even the sigmoid's
    assert by["sigmoid 0.1", "none"]["verdict"] == "vanishing"
    assert by["sigmoid 0.1", "residual"]["measured_log10_change"] > 0
