"""Reporting: every table, note and JSON record the diagnostics print or write.

Numbers arrive as results of ``diagnostics.experiments`` (typed fields,
magnitudes as log10) and leave as text a student can read: a value that
cannot be computed prints as ``-`` with the reason in the legend below the
table, never as ``nan`` or ``inf``; a magnitude below float range prints
as ``0 (below 1e-300)``, a depth scale that never ends as ``unbounded``.
Each legend is a few lines of words, with the symbols after them, and
points to docs/theory.md for the rest.
"""

import math

import numpy as np

from .numerics import SMALLEST_LOG10, finite_or_none, float_from_log10
from .table import (
    BELOW, Document, Table, decades_format, format_decades, format_depth_scale, format_log10, format_regime, log10_format, with_spread,
)

THEORY = "docs/theory.md"

#: What ``±`` means after a prediction, in every legend.
SPREAD = "± : how far one network typically strays from the prediction (sd between networks)"


# ---------------------------------------------------------------------------
# the lecture's tables
# ---------------------------------------------------------------------------

def experiment_table(results, title=None):
    """The per-configuration table: measured, then predicted, then the verdict.

    ``mean|J|`` and ``log10`` are measured (log10 of the mean over the
    networks of mean |J|); ``typical`` and ``mean-field`` predict ``log10``
    (one network; the mean over infinitely wide ones); ``regime`` is the
    theory's.
    """
    columns = ["activation", "init", "scale", "mean|J|", "log10", "typical", "mean-field",
               "decades/layer", "regime", "verdict"]
    table = Table(columns, title=title,
                  formats={"mean|J|": format_log10, "log10": log10_format(".2f"),
                           "typical": lambda v: v if isinstance(v, str) else log10_format(".2f")(v),
                           "mean-field": log10_format(".2f"), "decades/layer": decades_format("+.3f"),
                           "scale": "g"})
    for r in results:
        p = r.prediction
        curve = None if p is None else p.profile
        table.append({
            "activation": r.activation, "init": r.init, "scale": r.scale,
            "mean|J|": r.log10_mean_abs_grad, "log10": r.log10_mean_abs_grad,
            "typical": None if p is None else with_spread(curve.log10_mean_abs_grad, curve.change_log10_sd),
            "mean-field": None if p is None else curve.mean_field_log10_mean_abs_grad,
            "decades/layer": r.decades_per_layer, "regime": None if p is None else p.regime,
            "verdict": r.verdict})
    return table


EXPERIMENT_LEGEND = (
    "legend     mean|J|: the Jacobian's mean absolute entry; decades/layer: the gradient's norm's change\n"
    "           per layer; typical and mean-field predict log10 for one network and for the mean of\n"
    "           infinitely wide ones; ± : how far one network typically strays from the prediction (sd\n"
    "           between networks); regime: ordered, critical or chaotic (gain per layer <, = or > 1);\n"
    f"           verdict: the norm shrinks or grows over 10x in all, or neither. More: {THEORY}")


def experiment_notes(results):
    """Lines under the table: each ``-`` and each non-finite verdict with its reason."""
    lines = []
    for r in results:
        name = f"{r.activation} {r.init}" + ("" if r.scale is None else f" {r.scale:g}")
        if r.nonfinite:
            lines.append(f"{name}: {r.verdict}: {r.nonfinite}")
        if r.prediction is None and r.prediction_note:
            lines.append(f"{name}: no prediction: {r.prediction_note}")
        if r.prediction is not None and r.prediction.regime_note:
            lines.append(f"{name}: regime -: {r.prediction.regime_note}")
        if r.log10_mean_abs_grad is not None and r.log10_mean_abs_grad < SMALLEST_LOG10:
            lines.append(f"{name}: the gradient vanishes to {BELOW}, so its change per layer is not a number")
        if r.streamed:
            lines.append(f"{name}: too large to hold ({r.depth} x {r.width}^2 weights), so probed one layer "
                         "at a time (diagnostics.deep.stream_probe)")
    return lines


def per_layer_table(result):
    """``probe --per-layer``: the gradient's norm after every layer, measured and predicted."""
    curve = result.per_layer_grad_norm_log10
    out_features = result.sizes[-1] if result.sizes else result.width
    with np.errstate(invalid="ignore"):  # -inf - -inf: a gradient already 0
        gains = np.diff(np.concatenate([[0.5 * np.log10(out_features)], curve]))
    p = None if result.prediction is None else result.prediction.profile
    none = [None] * len(curve)
    typical = p.per_layer_grad_norm_log10 if p else none
    spread = none if p is None or p.per_layer_grad_norm_log10_sd is None else p.per_layer_grad_norm_log10_sd
    mean_field = p.mean_field_per_layer_grad_norm_log10 if p else none
    table = Table(["layers back", "layer", "log10 norm", "gain", "typical", "mean-field"],
                  formats={"log10 norm": log10_format(".3f"), "gain": decades_format("+.3f"),
                           "typical": lambda v: v if isinstance(v, str) else log10_format(".3f")(v),
                           "mean-field": log10_format(".3f")})
    for i, (c, g, t, sd, m) in enumerate(zip(curve, gains, typical, spread, mean_field)):
        table.append({"layers back": i + 1, "layer": result.depth - i, "log10 norm": c,
                      "gain": float(g), "typical": with_spread(t, sd, ".3f"), "mean-field": m})
    return table


PER_LAYER_LEGEND = (
    "layers back counts from the output, layer from the input; log10 norm: the gradient's Frobenius\n"
    "norm after that layer, measured; gain: its change there, in decades; typical and mean-field: the\n"
    "predicted log10 norm; ± : how far one network typically strays from the prediction (sd between\n"
    "networks)")


def matrices_table(results):
    """Measured size of each product, beside the theory's typical value and growth rate."""
    table = Table(["scale", "k", "n", "mean|entry|", "log10", "typical", "decades/step", "Lyapunov"],
                  formats={"mean|entry|": format_log10, "log10": log10_format(".2f"),
                           "typical": log10_format(".2f"), "scale": "g", "decades/step": decades_format("+.4f"),
                           "Lyapunov": decades_format("+.4f")})
    for m in results:
        table.append({"scale": m.scale, "k": m.k, "n": m.n, "mean|entry|": m.log10_mean_abs,
                      "log10": m.log10_mean_abs, "decades/step": m.measured_log10_per_step,
                      "typical": None if m.prediction is None else m.prediction.typical_log10_mean_abs,
                      "Lyapunov": None if m.prediction is None else m.prediction.lyapunov_log10_per_step})
    return table


MATRICES_LEGEND = (
    "legend     mean|entry| of the product, its log10, and decades/step: how fast log10 of its norm\n"
    "           grows; typical predicts log10 for one product (- until enough factors are multiplied\n"
    "           for it to hold), Lyapunov the exact growth rate.\n"
    f"           More: {THEORY}#7-products-of-random-matrices-lyapunov-exponents")


def lecture_text(result):
    """Everything ``lecture`` prints, as one string."""
    cfg = result.experiments[0]
    parts = [
        f"The lecture's experiments on tinynet networks (seed {result.seed}, {result.dtype})",
        "",
        f"1. Products of {result.matrices[0].n} random {result.matrices[0].k}x{result.matrices[0].k} "
        "matrices with N(0, scale^2) entries",
        matrices_table(result.matrices),
        MATRICES_LEGEND,
        "",
        f"2. Gradient of a {cfg.depth}-layer MLP at initialization (width {cfg.width}, no bias, input of ones),",
        f"   mean |J| of its input-output Jacobian J, averaged over {cfg.repeats} fresh networks",
        experiment_table(result.experiments),
        *experiment_notes(result.experiments),
        EXPERIMENT_LEGEND,
        figure_versus_table(result.experiments),
    ]
    return Document(parts)


def figure_versus_table(results):
    """Said under the tables of ``lecture`` and ``probe``, whose figure draws another quantity:
    how far the figure's last point (the whole gradient's norm) lies above the table's log10 mean|J|."""
    said = "figure     --plot draws log10 of the gradient's Frobenius norm, layer by layer"
    gaps = [r.per_layer_grad_norm_log10[-1] - r.log10_mean_abs_grad for r in results
            if r.per_layer_grad_norm_log10 and r.log10_mean_abs_grad is not None
            and math.isfinite(r.per_layer_grad_norm_log10[-1]) and math.isfinite(r.log10_mean_abs_grad)]
    if not gaps:
        return said + ", not mean|J|"
    low, high = min(gaps), max(gaps)
    by = f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f} to {high:.1f}"
    return f"{said}: its last\n           point lies {by} decades above log10 mean|J|"


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def json_safe(obj):
    """Replace infinities and nan (not valid JSON) by None, recursively; numpy numbers become floats."""
    if isinstance(obj, (float, np.floating)):
        return finite_or_none(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [json_safe(v) for v in obj]
    return obj


def experiment_json(r):
    """The JSON record of an ``ExperimentResult``: its fields, with the prediction's beside them."""
    d = {"activation": r.activation, "init": r.init, "scale": r.scale, "depth": r.depth, "width": r.width,
         "repeats": r.repeats, "log10_mean_abs_grad": r.log10_mean_abs_grad,
         "per_layer_grad_norm_log10": r.per_layer_grad_norm_log10,
         "repeat_log10_mean_abs_grad": r.repeat_log10_mean_abs_grad,
         "decades_per_layer": r.decades_per_layer, "verdict": r.verdict, "nonfinite": r.nonfinite,
         "mean_abs_grad": float_from_log10(r.log10_mean_abs_grad)}
    if r.streamed:
        d["streamed"] = True
    if r.sizes is not None:
        d.update({"sizes": list(r.sizes), "final_linear": r.final_linear})
    p = r.prediction
    if p is None:
        d["prediction_note"] = r.prediction_note
    else:
        curve = p.profile
        d.update({"sigma_w": p.sigma_w, "predicted_log10_mean_abs_grad": curve.mean_field_log10_mean_abs_grad,
                  "typical_log10_mean_abs_grad": curve.log10_mean_abs_grad,
                  "predicted_per_layer_grad_norm_log10": curve.mean_field_per_layer_grad_norm_log10,
                  "typical_per_layer_grad_norm_log10": curve.per_layer_grad_norm_log10,
                  "regime": p.regime, "chi_1": p.chi_1})
        if curve.change_log10_sd is not None:
            d["log10_grad_norm_sd"] = curve.change_log10_sd
        if curve.per_layer_grad_norm_log10_sd is not None:
            d["per_layer_grad_norm_log10_sd"] = curve.per_layer_grad_norm_log10_sd
        if p.regime_note is not None:
            d["regime_note"] = p.regime_note
    return json_safe(d)


def matrix_json(m):
    """The JSON record of a ``MatrixProductResult``, with the theory's prediction."""
    p = m.prediction
    return json_safe({"scale": m.scale, "k": m.k, "n": m.n, "log10_mean_abs": m.log10_mean_abs,
                      "per_step_log10_norm": m.per_step_log10_norm,
                      "lyapunov_log10_per_step": None if p is None else p.lyapunov_log10_per_step,
                      "measured_log10_per_step": m.measured_log10_per_step,
                      "typical_log10_mean_abs": None if p is None else p.typical_log10_mean_abs,
                      "rank_one_margin": None if p is None else p.rank_one_margin})


def lecture_json(result):
    """The JSON document of ``lecture``: seed, dtype, the matrix products and the 13 experiments."""
    return {"seed": result.seed, "dtype": result.dtype,
            "matrices": [matrix_json(m) for m in result.matrices],
            "experiments": [experiment_json(e) for e in result.experiments]}


# ---------------------------------------------------------------------------
# probe and matrices
# ---------------------------------------------------------------------------

def probe_text(result, config, init, seed, per_layer=False):
    """Everything ``probe`` prints: the one-row table, its notes and legend, and the per-layer table."""
    bias = "no bias" if config.bias_std is None else f"bias std {config.bias_std:g}"
    if config.square:
        shape = f"{config.depth}-layer MLP, width {config.width}, {config.activation}"
    else:
        after = " (none after the last layer)" if config.final_linear else ""
        shape = f"MLP {' -> '.join(map(str, config.layer_sizes))}, {config.activation}{after}"
    parts = [f"{shape}, weights {init!r}, {bias}; {config.repeats} repeats, seed {seed}, {config.dtype}",
             experiment_table([result]), *experiment_notes([result])]
    if per_layer and result.per_layer_grad_norm_log10:
        parts += ["", per_layer_table(result), PER_LAYER_LEGEND]
    parts += ["", EXPERIMENT_LEGEND, figure_versus_table([result])]
    return Document(parts)


def model_text(result, path, net, per_layer=False):
    """What ``probe --model`` prints: the saved network's one-row table, its notes, legends and per-layer table."""
    shape = "" if result.sizes is None else ", widths " + " -> ".join(map(str, result.sizes))
    dtype = next((str(p.data.dtype) for p in net.parameters()), "no parameters")
    parts = [f"{path}: {net.label()}{shape}; probed once with its weights as saved, {dtype}",
             experiment_table([result]), *experiment_notes([result])]
    if result.prediction is not None:
        parts.append("predicted: for networks whose Linear weights and biases are drawn at the saved ones' scale "
                     "(each one's mean square); after training that is an approximation")
    if per_layer and result.per_layer_grad_norm_log10:
        parts += ["", per_layer_table(result), PER_LAYER_LEGEND]
    parts += ["", EXPERIMENT_LEGEND, figure_versus_table([result])]
    return Document(parts)


def product_text(m, seed):
    """``matrices``: the product itself, entry by entry (beyond float range too), then its table row."""
    lines = [f"Product of {m.n} random {m.k}x{m.k} matrices with N(0, {m.scale:g}^2) entries (seed {seed}):"]
    for row in m.mantissa:
        lines.append("  " + "  ".join(_format_entry(v, m.log10_scale) for v in row))
    lines += [matrices_table([m]), MATRICES_LEGEND]
    return Document(lines)


def _format_entry(mantissa, log10_scale):
    if mantissa == 0:
        return "0".rjust(9)
    text = format_log10(math.log10(abs(float(mantissa))) + log10_scale)
    return f"{'-' if mantissa < 0 else ''}{text}".rjust(9)


# ---------------------------------------------------------------------------
# critical
# ---------------------------------------------------------------------------

def critical_text(result):
    """Everything ``critical`` prints."""
    lines = list(result.missing)
    width = result.fan_in
    for c in result.candidates:
        lines.append(f"{c.label + ':':<22} sigma_w = {c.sigma_w:.6g} (sigma_w^2 = {c.sigma_w ** 2:.6g}), weight "
                     f"std {c.sigma_w / math.sqrt(width):.6g} at fan-in {width}; "
                     f"init spec {c.init_spec}")
        if c.sensitivity is not None:
            low, high = (format_decades(v) for v in c.sensitivity)
            lines.append(f"  sensitivity: sigma_w 1% lower or higher moves the typical change over "
                         f"{result.depth} layers by {low} / {high} decades")
    lines += ["", f"The lecture's scales (weights N(0, scale^2), so sigma_w = scale * sqrt({width})), "
                  f"bias std {result.sigma_b:g}:"]
    table = Table(["scale", "sigma_w", "gain", "regime", "depth scale"],
                  formats={"scale": "g", "sigma_w": ".4g", "gain": ".4g", "depth scale": format_depth_scale})
    for scale, r in result.lecture_scales:
        table.append({"scale": scale, "sigma_w": r.sigma_w, "gain": r.chi, "regime": r.name,
                      "depth scale": r.depth_scale})
    lines += [table, CRITICAL_LEGEND]
    probed = [c for c in result.candidates if c.measured_changes is not None]
    if probed:
        lines += ["", f"Probe: {result.repeats} fresh networks of {result.depth} layers of {width}; decades "
                      "by which the gradient's norm changes from output to input"]
        probe = Table(["sigma_w", "", "predicted", "measured", "range", "verdict"],
                      formats={"sigma_w": ".6g", "predicted": str,
                               "measured": log10_format("+.2f")})
        for c in probed:
            finite = [v for v in c.measured_changes if v is not None]
            ends = log10_format("+.2f")  # a gradient that became exactly 0 changed by -inf: "<-300"
            span = f"{ends(min(finite))} .. {ends(max(finite))}" if finite else None
            probe.append({"sigma_w": c.sigma_w, "": c.label,
                          "predicted": with_spread(c.predicted_change, c.predicted_sd, "+.2f"),
                          "measured": c.measured_median, "range": span, "verdict": c.verdict})
        lines += [probe, "predicted: the typical network's change; measured: the median over the "
                              f"networks, and their range;\n{SPREAD}"]
    return Document(lines)


CRITICAL_LEGEND = (
    "gain: how much a layer deep in the network multiplies the gradient's squared norm (chi_1);\n"
    "depth scale: the layers over which that changes it by a factor e (unbounded when the gain is 1)\n"
    f"(terms and formulas: {THEORY}#3-the-fixed-point-ordered-critical-chaotic)")


def _critical_curves(c):
    """A candidate's per-layer norms, measured and predicted, where it was probed."""
    if c.prediction is None:
        return {}
    d = {"measured_per_layer_grad_norm_log10": c.measured_per_layer,
         "typical_per_layer_grad_norm_log10": c.prediction.per_layer_grad_norm_log10}
    if c.prediction.per_layer_grad_norm_log10_sd is not None:
        d["per_layer_grad_norm_log10_sd"] = c.prediction.per_layer_grad_norm_log10_sd
    return d


def critical_json(result, seed):
    """The JSON document of ``critical``."""
    d = {"seed": seed, "activation": result.activation, "sigma_b": result.sigma_b, "fan_in": result.fan_in,
         "depth": result.depth, "no_critical_point": result.missing,
         "candidates": [{"label": c.label, "sigma_w": c.sigma_w, "predicted_change": c.predicted_change,
                         "predicted_sd": c.predicted_sd,
                         "sensitivity": c.sensitivity, "measured_changes": c.measured_changes,
                         "measured_median": c.measured_median, "verdict": c.verdict,
                         **_critical_curves(c)} for c in result.candidates],
         "lecture_scales": [{"scale": s, "sigma_w": r.sigma_w, "chi_1": r.chi, "regime": r.name,
                             "depth_scale": r.depth_scale} for s, r in result.lecture_scales]}
    for c in result.candidates:
        key = "critical_sigma_w" if c.label.startswith("mean-field") else "stable_sigma_w"
        d[key] = c.sigma_w
    return json_safe(d)


# ---------------------------------------------------------------------------
# phase
# ---------------------------------------------------------------------------

def phase_text(diagram, rows=6):
    """What ``phase`` prints: the critical line and xi_c at a few bias variances, from a ``PhaseDiagram``."""
    d = diagram
    w2, b2 = d.sigma_w2, d.sigma_b2
    picked_w = sorted({0, len(w2) // 2, len(w2) - 1})
    picked_b = sorted({int(i) for i in np.linspace(0, len(b2) - 1, min(rows, len(b2))).round()})
    xi_columns = [f"xi_c at {w2[j]:.4g}" for j in picked_w]
    unbounded = _unbounded(d)
    table = Table(["sigma_b^2", "critical sigma_w^2", *xi_columns],
                  formats={"sigma_b^2": ".4g", "critical sigma_w^2": ".4g",
                           **{c: _format_xi_c for c in xi_columns}})
    for i in picked_b:
        row = {"sigma_b^2": float(b2[i]), "critical sigma_w^2": float(d.critical_sigma_w2[i])}
        row.update({c: _UNBOUNDED_Q if unbounded[i, j] else float(d.xi_c[i, j])
                    for c, j in zip(xi_columns, picked_w)})
        table.append(row)
    ordered = int(((d.chi < 1.0) & ~unbounded).sum())
    grows = int(unbounded.sum())
    return Document([
        f"{d.activation}: the order-to-chaos transition (mean field), sigma_w^2 from {w2[0]:g} to {w2[-1]:g}, "
        f"sigma_b^2 from {b2[0]:g} to {b2[-1]:g}, {len(w2)} x {len(b2)} points",
        table,
        f"{ordered} of {d.chi.size} points are ordered (chi_1 < 1), {d.chi.size - ordered - grows} chaotic "
        f"or critical, {grows} with a variance that grows without bound",
        PHASE_LEGEND])


_UNBOUNDED_Q = "q unbounded"


def _unbounded(d):
    return d.unbounded if d.unbounded is not None else np.zeros(d.chi.shape, dtype=bool)


def _format_xi_c(value):
    return value if isinstance(value, str) else format_depth_scale(value)


PHASE_LEGEND = (
    "critical sigma_w^2: the order-to-chaos line, where the gradient's gain per layer chi_1 is 1\n"
    "(- : none in this range); left of it the network is ordered (inputs become alike), right of it\n"
    "chaotic (they become unlike); xi_c at sigma_w^2 = ...: the layers over which two inputs'\n"
    "correlation settles (unbounded: slower than any exponential; q unbounded: no fixed point, no xi_c)\n"
    f"More: {THEORY}#3b-the-correlation-map-and-the-phase-diagram")


def phase_json(diagram):
    """The JSON document of ``phase``: the grid, xi_c and chi_1 on it (null where infinite), the line.

    ``variance_unbounded`` marks the points whose variance grows without
    bound: their xi_c is null too, for there is no fixed point to settle at.
    """
    d = diagram
    return json_safe({"activation": d.activation, "sigma_w2": d.sigma_w2, "sigma_b2": d.sigma_b2,
                      "xi_c": d.xi_c, "chi_1": d.chi, "critical_sigma_w2": d.critical_sigma_w2,
                      "variance_unbounded": _unbounded(d).tolist()})


# ---------------------------------------------------------------------------
# spectrum
# ---------------------------------------------------------------------------

def spectrum_text(result, init, seed):
    """Everything ``spectrum`` prints."""
    cfg = result.config
    table = Table(["network", "log10 max", "log10 median", "log10 min", "spread", "resolved"],
                  formats={"log10 max": log10_format(".2f"), "log10 median": log10_format(".2f"),
                           "log10 min": log10_format(".2f"), "spread": ".2f"})
    zero = False
    for i, s in enumerate(result.spectra):
        if s is None:
            table.append({"network": i + 1, "resolved": "non-finite"})
            continue
        resolved = s.log10_singular_values[s.resolved]
        zero = zero or not resolved.size
        table.append({"network": i + 1, "log10 max": s.log10_max if resolved.size else -math.inf,
                      "log10 median": s.log10_median if resolved.size else -math.inf,
                      "log10 min": float(resolved[-1]) if resolved.size else -math.inf,
                      "spread": s.spread, "resolved": f"{int(s.resolved.sum())}/{len(s.resolved)}"})
    lines = [f"{cfg.depth}-layer MLP, width {cfg.width}, {cfg.activation}, weights {init!r}; "
             f"{cfg.repeats} networks, seed {seed}", table, *result.failures]
    if zero:
        lines.append(f"<{SMALLEST_LOG10:.0f}: the singular values are 0 (J is exactly zero): no signal reaches "
                     "the output")
    finite = [s for s in result.spectra if s is not None]
    measured = result.log10_normalized_variance
    if not finite:
        measured_text = "not measured (no network stayed finite)"
    elif measured is None:
        measured_text = "not measured (J is exactly zero in every network: no signal reaches the output)"
    else:
        values = [s.log10_normalized_variance for s in finite if math.isfinite(s.log10_normalized_variance)]
        spread = f"; range {min(values):.2f} .. {max(values):.2f}" if len(values) > 1 else ""
        measured_text = f"measured {_log10_var(measured)} (median over networks{spread})"
    what = f"\nSpread of the {cfg.width} eigenvalues of J J^T, log10 var/mean^2"
    predicted = result.predicted_log10_normalized_variance
    if predicted is None:
        lines.append(f"{what}: {measured_text}; no prediction: {result.prediction_note}")
    else:
        # free probability gives the infinite-width value only, no spread between networks
        lines.append(f"{what}: {measured_text}, predicted {_log10_var(predicted)} (infinite width: one value, "
                     "no spread)")
        if cfg.width > 1 and predicted > result.largest:
            lines.append(f"the prediction (infinite width) exceeds log10({cfg.width} - 1) = {result.largest:.2f}, "
                         f"the largest var/mean^2 of {cfg.width} values >= 0\n(one non-zero, the rest 0): "
                         f"no network of width {cfg.width} can reach it")
    lines.append(SPECTRUM_LEGEND)
    return Document(lines)


def _log10_var(value):
    return "- (var/mean^2 is 0: all equal, a perfect isometry)" if value == -math.inf else f"{value:.2f}"


SPECTRUM_LEGEND = (
    "log10 max, median, min: of J's singular values (min and median: of those an SVD can tell from\n"
    "rounding, within 15 decades of the largest in float64, 7 in float32; resolved counts them);\n"
    "spread: the std of their log10, 0 for a perfect isometry; var/mean^2 counts the unresolved as 0\n"
    f"(terms and formulas: {THEORY}#8-dynamical-isometry)")


def spectrum_json(result, seed):
    """The JSON document of ``spectrum``."""
    cfg = result.config
    return json_safe({
        "seed": seed, "activation": cfg.activation, "init": cfg.init, "depth": cfg.depth, "width": cfg.width,
        "log10_singular_values": [None if s is None else s.log10_singular_values for s in result.spectra],
        "log10_normalized_variance": result.log10_normalized_variance,
        "per_network_log10_normalized_variance": [None if s is None else s.log10_normalized_variance
                                                  for s in result.spectra],
        "predicted_log10_normalized_variance": result.predicted_log10_normalized_variance,
        "largest_log10_normalized_variance": result.largest})


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------

def train_text_before(result, init, args):
    """What ``train`` prints before training: the untrained probe's verdict and the theory's regime."""
    probe, width = result.probe, args.width
    lines = [f"{args.hidden_layers} hidden layers of {width}, {args.activation}, weights {init!r}; "
             f"{args.dataset} ({len(result.x)} points), seed {args.seed}"]
    if not probe.finite:
        where = probe.nonfinite
        lines.append(f"untrained: the {where['pass']} pass became non-finite at layer {where['layer']} "
                     f"({where['type']}): non-finite")
    elif result.change == -math.inf:
        lines.append(f"untrained: the gradient vanishes: it is {BELOW} at the input: vanishing")
    else:
        lines.append(f"untrained: gradient norm changes by {result.change:+.2f} decades from output to input: "
                     f"{result.verdict}")
    gains = [g for g in result.hidden_gains if g is not None and math.isfinite(g)]
    if gains:
        lines.append(f"  per hidden {width} -> {width} layer: {np.mean(gains):+.2f} decades "
                     f"(mean of {len(gains)}; range {min(gains):+.2f} .. {max(gains):+.2f})")
    elif result.hidden_gains:
        lines.append(f"  per hidden {width} -> {width} layer: - (the gradient is already 0 there)")
    if result.regime is None:
        lines.append(f"theory, for the hidden layers: no prediction: {result.regime_note}")
    else:
        r = result.regime
        lines.append(f"theory, for the hidden layers: {format_regime(r)}")
        gain = "all of it (the gain is 0)" if r.chi == 0 else f"{0.5 * math.log10(r.chi):+.2f} decades"
        lines.append(f"  deep in the network, the gradient's norm changes by {gain} per layer (0.5 log10 chi_1)")
    return Document(lines)


def train_text_after(result):
    """What ``train`` prints after training: loss and accuracy, beside chance."""
    h = result.history
    text = (f"after {h.epochs} epochs: loss {h['loss'][-1]:.4f}, training accuracy {h['accuracy'][-1]:.3f} "
            f"(chance: {1 / result.n_classes:.3f})")
    if result.clip_grad_norm is not None:
        first, last = (_norm(h["grad_norm"][i]) for i in (0, -1))
        text += (f"\ngradient clipped to norm {result.clip_grad_norm:g} before each step; its norm before "
                 f"clipping averaged {first} in the first epoch and {last} in the last")
    return text


def _norm(value):
    return f"{value:.3g}" if math.isfinite(value) else "a non-finite number"


def train_json(result, seed):
    """The JSON document of ``train``."""
    return json_safe({"seed": seed, "verdict": result.verdict, "decades": result.change, "decades_per_hidden_layer": result.hidden_gains,
                      "clip_grad_norm": result.clip_grad_norm,
                      "history": result.history.history, "monitor": result.monitor.history,
                      "interrupted": result.history.interrupted})


# ---------------------------------------------------------------------------
# remedies: the failing networks with each remedy, measured beside predicted
# ---------------------------------------------------------------------------

REMEDIES_PAGE = "docs/remedies.md"


def remedies_text(results, seed):
    """Everything ``remedies`` prints: the table of measured and predicted changes, and its legend."""
    first = results[0].config
    table = Table(["network", "remedy", "measured", "predicted", "verdict"],
                  formats={"measured": lambda v: v, "predicted": lambda v: v})
    notes = []
    for r in results:
        c = r.config
        measured = with_spread(r.measured_log10_change, r.measured_sd, "+.2f")
        zeros = sum(v == -math.inf for v in r.measured_changes)
        failed = sum(v is None for v in r.measured_changes)
        if r.measured_log10_change == -math.inf:
            measured = "all lost"
        if zeros:
            notes.append(f"{c.network}, {c.label}: the gradient became exactly 0 (every unit of a layer "
                         f"inactive) in {zeros} of {len(r.measured_changes)} networks")
        if failed:
            measured = "-"
            notes.append(f"{c.network}, {c.label}: a pass became non-finite in {failed} of "
                         f"{len(r.measured_changes)} networks")
        if r.predicted_log10_change is None:
            predicted = "no prediction"
            notes.append(f"{c.network}, {c.label}: no prediction: {r.prediction_note}")
        else:
            predicted = with_spread(r.predicted_log10_change, r.predicted_sd, "+.2f")
            if r.prediction_kind == "mean-field":
                predicted += " (mean-field)"
            if r.prediction_note:  # e.g. BatchNorm's heavy tail at a small batch
                notes.append(f"{c.network}, {c.label}: {r.prediction_note}")
            if r.agrees is False:
                predicted += " (off by more than 0.5)"
        table.append({"network": c.network, "remedy": c.label, "measured": measured, "predicted": predicted,
                      "verdict": r.verdict})
    head = (f"The lecture's failing networks, {first.depth} blocks of {first.width}, with each remedy "
            f"(seed {seed}, {first.dtype}): decades by which the gradient's norm changes from output to input")
    legend = (
        f"measured: the median over {first.repeats} fresh networks ± their standard deviation; each probed\n"
        "           on the ones (BatchNorm: on a N(0, I) batch of B rows, ||dY/dX|| of the whole batch,\n"
        f"           {first.cotangents} Gaussian cotangents per network); predicted: the typical network's change ±\n"
        "           the spread between networks (mean-field where no finite-width theory is derived);\n"
        "verdict: the measured norm shrinks or grows over 10x (or neither). More: " + REMEDIES_PAGE)
    return Document([head, table, legend] + notes)


def remedies_json(results, seed):
    """The JSON document of ``remedies``: one record in ``rows`` per network and remedy."""
    rows = []
    for r in results:
        c = r.config
        rows.append({"network": c.network, "activation": c.activation, "scale": c.scale, "remedy": c.label,
                     "remedy_kind": c.remedy, "sigma_w": c.sigma_w,
                     "alpha": c.alpha if c.remedy.startswith("residual") else None,
                     "batch_size": c.batch_size, "cotangents": c.cotangents if c.batch_size else None,
                     "input": r.input,
                     "measured_log10_change": r.measured_log10_change, "measured_sd": r.measured_sd,
                     "measured_changes": r.measured_changes, "measured_per_block": r.measured_per_block,
                     "predicted_log10_change": r.predicted_log10_change, "predicted_sd": r.predicted_sd,
                     "prediction_kind": r.prediction_kind, "prediction_note": r.prediction_note,
                     "predicted_per_block": r.predicted_per_block, "verdict": r.verdict, "agrees": r.agrees})
    first = results[0].config
    return json_safe({"seed": seed, "dtype": first.dtype, "depth": first.depth, "width": first.width,
                      "repeats": first.repeats, "rows": rows})


# ---------------------------------------------------------------------------
# trainability: accuracy over weight variance and depth, beside the theory's trainable depth
# ---------------------------------------------------------------------------

TRAINABILITY_PAGE = "docs/trainability.md"


def _measured_depth(column):
    """The measured trainable depth as the grid brackets it: ``36 to 72``, ``below 9``, ``144 or more``."""
    low, high = column.trainable_depth
    if low is None:
        return f"below {high}"
    return f"{low} or more" if high is None else f"{low} to {high}"


def _column_label(result, column):
    star = "*" if result.critical_sigma_w2 is not None and math.isclose(
        column.sigma_w2, result.critical_sigma_w2, rel_tol=0.01) else ""
    return f"{column.sigma_w2:g}{star}"


def trainability_text(result):
    """What ``trainability`` prints: accuracy per cell, then each column's predicted and measured depth."""
    r = result
    multiple = r.trainable_xi_c
    labels = [_column_label(r, c) for c in r.columns]
    accuracy = Table(["depth", *labels], formats={label: lambda v: "-" if v is None else f"{v:.2f}"
                                                  for label in labels})
    for i, depth in enumerate(r.depths):
        accuracy.append({"depth": depth, **{label: c.accuracy[i] for label, c in zip(labels, r.columns)}})
    theory_table = Table(["sigma_w^2", "regime", "xi_c", f"predicted ({multiple:g} xi_c)", "measured",
                          "verdict"],
                         formats={"xi_c": format_depth_scale, f"predicted ({multiple:g} xi_c)":
                                  format_depth_scale, "measured": lambda v: v})
    for label, c in zip(labels, r.columns):
        theory_table.append({"sigma_w^2": label, "regime": c.regime.name, "xi_c": c.regime.xi_c,
                             f"predicted ({multiple:g} xi_c)": c.predicted_depth,
                             "measured": _measured_depth(c), "verdict": c.verdict})
    critical = ("none at this sigma_b^2" if r.critical_sigma_w2 is None else f"{r.critical_sigma_w2:.4g} (*)")
    diverged = sum(a is None for c in r.columns for seeds in c.seeds for a in seeds)
    notes = [f"{diverged} of {len(r.columns) * len(r.depths) * r.n_seeds} networks diverged (loss not finite); "
             "a cell with one counts as not trained"] if diverged else []
    return Document([
        f"Trainability of {r.activation} MLPs, width {r.width}, sigma_b^2 = {r.sigma_b2:g} (seed {r.seed}, "
        f"{r.dtype}): training accuracy by depth (rows) and sigma_w^2 (columns), the mean of {r.n_seeds} "
        f"network{'s' if r.n_seeds > 1 else ''} a cell; critical sigma_w^2 {critical}",
        f"Recipe: {r.recipe}",
        accuracy,
        "",
        theory_table,
        f"measured: the depths between which the mean accuracy first falls below {r.trained_accuracy:g};\n"
        f"predicted: {multiple:g} xi_c, xi_c the layers over which two inputs' correlation settles\n"
        f"(unbounded at the critical point); verdict: agrees when the measured depth can lie within\n"
        f"{r.agreement_factor:g}x of the predicted one. More: {TRAINABILITY_PAGE}"] + notes)


def trainability_json(result):
    """The JSON document of ``trainability``: ``cells`` and, per sigma_w^2, ``predicted_depth`` and the verdict."""
    r = result
    cells = [{"sigma_w2": c.sigma_w2, "depth": d, "accuracy": c.accuracy[i], "seeds": c.seeds[i]}
             for c in r.columns for i, d in enumerate(r.depths)]
    columns = [{"sigma_w2": c.sigma_w2, "regime": c.regime.name, "xi_c": c.regime.xi_c,
                "predicted_depth": c.predicted_depth, "trained_up_to": c.trainable_depth[0],
                "failed_at": c.trainable_depth[1], "verdict": c.verdict} for c in r.columns]
    rec = r.recipe
    return json_safe({
        "activation": r.activation, "sigma_b2": r.sigma_b2, "width": r.width, "depths": r.depths,
        "seed": r.seed, "n_seeds": r.n_seeds, "dtype": r.dtype, "critical_sigma_w2": r.critical_sigma_w2,
        "recipe": {"optimizer": "adam", "lr_times_depth": rec.lr_times_depth, "dataset": rec.dataset,
                   "n_samples": rec.n_samples, "batch_size": rec.batch_size, "epochs": rec.epochs,
                   "steps": rec.steps},
        "cells": cells,
        "predicted_depth": [{"sigma_w2": c["sigma_w2"], "depth": c["predicted_depth"]} for c in columns],
        "columns": columns})
