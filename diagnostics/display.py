"""Documents for the results that have no command of their own: a ``GradientProfile``, a ``Regime``, a training run.

Each is a :class:`~diagnostics.table.Document` built from the same tables and
legends the command line prints (``diagnostics.report``), so a result shows
as text and, in Jupyter, as the same table in HTML.
"""

import math

import numpy as np

from .report import CRITICAL_LEGEND, train_text_after
from .table import Document, Table, decades_format, format_depth_scale, log10_format, with_spread


def profile_document(profile):
    """A ``GradientProfile`` as ``probe --per-layer`` prints it: one row per layer, from the output back."""
    curve = np.asarray(profile.per_layer_grad_norm_log10, dtype=float)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a gradient already 0
        gains = np.diff(np.concatenate([[profile.log10_initial_norm], curve]))
    sd = profile.per_layer_grad_norm_log10_sd
    mean_field = profile.mean_field_per_layer_grad_norm_log10
    table = Table(["layers back", "layer", "log10 norm", "gain", "mean-field"],
                  formats={"log10 norm": lambda v: v, "gain": decades_format("+.3f"),
                           "mean-field": log10_format(".3f")})
    for i, (label, value, gain) in enumerate(zip(profile.layers, curve, gains)):
        table.append({"layers back": i + 1, "layer": str(label),
                      "log10 norm": with_spread(float(value), None if sd is None else float(sd[i]), ".3f"),
                      "gain": float(gain), "mean-field": None if mean_field is None else float(mean_field[i])})
    if not len(profile.layers):  # a measured pass that was not finite keeps no curve
        head = f"Gradient profile ({profile.source}): no curve, for a pass through the network was not finite"
    else:
        change = profile.change_log10
        shown = f"{change:+.3f}" if math.isfinite(change) else "- (not finite)"
        spread = "" if profile.change_log10_sd is None else f" ± {profile.change_log10_sd:.3f}"
        head = (f"Gradient profile ({profile.source}): {len(profile.layers)} layers; the gradient's norm changes by "
                f"{shown}{spread} decades from the output (log10 norm {profile.log10_initial_norm:.3f}) to the input")
    return Document([head, table, PROFILE_LEGEND])


PROFILE_LEGEND = (
    "layers back counts from the output; layer: the one the gradient has just passed back through;\n"
    "log10 norm: the gradient's Frobenius norm after it (a prediction's: typical, or mean-field where\n"
    "no typical one is derived) ± how far one network typically strays from it (sd between networks);\n"
    "gain: its change there, in decades; mean-field: the predicted log10 norm of the mean over\n"
    "infinitely wide networks")


def regime_document(regime):
    """A theory ``Regime`` as ``critical`` prints the lecture's scales: its gain, name and depth scales."""
    table = Table(["sigma_w", "sigma_b", "gain", "regime", "depth scale", "xi_c"],
                  formats={"sigma_w": ".4g", "sigma_b": ".4g", "gain": ".4g", "depth scale": format_depth_scale,
                           "xi_c": format_depth_scale})
    table.append({"sigma_w": regime.sigma_w, "sigma_b": regime.sigma_b, "gain": regime.chi, "regime": regime.name,
                  "depth scale": regime.depth_scale, "xi_c": regime.xi_c})
    notes = [regime.growth] if regime.growth else []
    return Document([table, CRITICAL_LEGEND.replace("\n(terms", "; xi_c: the layers over which two inputs'\n"
                                                    "correlation settles (- : no fixed point to settle at)\n(terms"),
                     *notes])


def train_document(before, result):
    """The page of ``train``: what it printed before and after training, and the history's table."""
    return Document([before, train_text_after(result), result.history])
