"""diagnostics.report and diagnostics.table: what a student reads."""

import math

import numpy as np
import pytest

from diagnostics import experiments as ex
from diagnostics import report
from diagnostics.profile import GradientProfile
from diagnostics.table import format_depth_scale, format_log10, with_spread


def result(sd=None, **changes):
    profile = GradientProfile(("0",), np.array([0.4]), 1.0, "predicted",
                              per_layer_grad_norm_log10_sd=None if sd is None else np.array([sd]),
                              mean_field_per_layer_grad_norm_log10=np.array([0.5]), log10_mean_abs_grad=-9.02,
                              mean_field_log10_mean_abs_grad=-8.77)
    prediction = ex.ConfigPrediction(profile, sigma_w=1.0, regime="ordered", chi_1=0.5, depth_scale=1.44)
    fields = dict(activation="relu", init="normal", scale=0.1, depth=1, width=100, repeats=2,
                  log10_mean_abs_grad=-8.97, per_layer_grad_norm_log10=[0.4], repeat_log10_mean_abs_grad=[-9, -9],
                  decades_per_layer=-0.15, verdict="vanishing", prediction=prediction)
    fields.update(changes)
    return ex.ExperimentResult(**fields)


def test_a_spread_between_networks_is_shown_beside_the_typical_value():
    assert "-9.02 ± 0.30" in str(report.experiment_table([result(sd=0.3)]))
    assert "±" not in str(report.experiment_table([result()]))
    assert report.experiment_json(result(sd=0.3))["log10_grad_norm_sd"] == 0.3
    assert "log10_grad_norm_sd" not in report.experiment_json(result())
    assert with_spread(0.7412, 0.0123, ".3f") == "0.741 ± 0.012" and with_spread(-1.5, 0.25, "+.2f") == "-1.50 ± 0.25"


def test_every_legend_that_shows_a_spread_says_what_it_is():
    for legend in (report.EXPERIMENT_LEGEND, report.PER_LAYER_LEGEND):
        assert " ".join(legend.split()).count(report.SPREAD) == 1
        assert max(len(line) for line in legend.splitlines()) <= 100


def test_numbers_that_cannot_be_computed_say_so_in_words():
    assert format_log10(-math.inf) == format_log10(-400.0) == "0 (below 1e-300)"
    assert format_log10(math.nan) == format_log10(None) == "-"
    assert format_depth_scale(math.inf) == "unbounded"
    assert with_spread(math.nan, 0.3) == "-"
    table = str(report.experiment_table([result(log10_mean_abs_grad=-math.inf, decades_per_layer=-math.inf,
                                                prediction=None, prediction_note="no zero-mean weights")]))
    assert "0 (below 1e-300)" in table and "nan" not in table and "inf" not in table
    notes = report.experiment_notes([result(log10_mean_abs_grad=-math.inf, prediction=None,
                                            prediction_note="no zero-mean weights")])
    assert any("no prediction: no zero-mean weights" in n for n in notes)
    assert any("vanishes to 0 (below 1e-300)" in n for n in notes)


def test_legends_are_a_few_lines_that_fit_a_terminal_and_point_to_the_theory():
    for legend in (report.EXPERIMENT_LEGEND, report.MATRICES_LEGEND, report.CRITICAL_LEGEND,
                   report.SPECTRUM_LEGEND, report.PHASE_LEGEND):
        lines = legend.splitlines()
        assert len(lines) <= 5 and max(len(line) for line in lines) <= 100
        assert "docs/theory.md" in legend


@pytest.mark.parametrize("value, expected", [(math.inf, None), (-math.inf, None), (math.nan, None), (1.5, 1.5)])
def test_json_has_no_value_json_cannot_hold(value, expected):
    assert report.json_safe({"a": [value]}) == {"a": [expected]}
