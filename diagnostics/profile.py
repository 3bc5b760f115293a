"""``GradientProfile``: the gradient's norm layer by layer, measured or predicted, in one type."""

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .numerics import float_from_log10, to_float64

__all__ = ["GradientProfile", "SOURCES", "STATISTICS"]

#: Where a profile's numbers came from: a probe, the theory's derivations, or a map estimated by Monte Carlo.
SOURCES = ("measured", "predicted", "estimated")

#: What a profile's curve is of: one typical network, or the mean over networks (mean-field theory only).
STATISTICS = ("typical", "mean-field")


@dataclass(frozen=True, eq=False)
class GradientProfile:
    """Per-layer log10 gradient norms of one network, from the output back to the input.

    ``per_layer_grad_norm_log10[i]``: log10 of the Frobenius norm of the
    gradient after it has passed back through the last i + 1 measured layers
    (``layers``, backward order), as ``gradient_probe`` measures it; for a
    prediction, the typical (median) network's, or the mean-field value
    where the theory derives no typical one (``statistic`` says which).
    ``log10_initial_norm``: the identity the backward pass starts from.
    ``per_layer_grad_norm_log10_sd``: the standard deviation between
    networks, in decades, where known (else None);
    ``mean_field_per_layer_grad_norm_log10``: the log of the mean over
    networks, where known. ``source``: "measured", "predicted" or
    "estimated" (a layer's map was estimated from its own forward and
    backward).

    What the curve's end says of the Jacobian J, (out, in):
    ``log10_mean_abs_grad``, log10 mean |J| (the lecture's statistic;
    typical for a prediction), and ``mean_field_log10_mean_abs_grad``, where
    known; a probe's J itself, ``jacobian_mantissa * 10**log10_scale``.
    ``batch_size``: the batch a batch-coupled network was probed or
    predicted on (then J maps the whole input batch to the whole output
    batch), else None. ``nonfinite``: where a measured pass produced nan or
    inf (then the curve is empty). ``note``: what to keep in mind when
    reading a prediction, or None.
    """

    layers: tuple
    per_layer_grad_norm_log10: np.ndarray
    log10_initial_norm: float
    source: str
    per_layer_grad_norm_log10_sd: np.ndarray = None
    mean_field_per_layer_grad_norm_log10: np.ndarray = None
    statistic: str = "typical"
    log10_mean_abs_grad: float = None
    mean_field_log10_mean_abs_grad: float = None
    batch_size: int = None
    jacobian_mantissa: np.ndarray = None  # J / 10**log10_scale, norm within a few decades of 1
    log10_scale: float = 0.0
    nonfinite: dict = None
    note: str = None

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"GradientProfile: source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.statistic not in STATISTICS:
            raise ValueError(f"GradientProfile: statistic must be one of {', '.join(STATISTICS)}, "
                             f"got {self.statistic!r}")
        if len(self.layers) != len(self.per_layer_grad_norm_log10):
            raise ValueError(f"GradientProfile: {len(self.layers)} layers but "
                             f"{len(self.per_layer_grad_norm_log10)} norms")
        for name in ("per_layer_grad_norm_log10_sd", "mean_field_per_layer_grad_norm_log10"):
            other = getattr(self, name)
            if other is not None and len(other) != len(self.layers):
                raise ValueError(f"GradientProfile: {len(self.layers)} layers but {len(other)} entries "
                                 f"in {name}")
        if self.nonfinite is not None and len(self.layers):
            raise ValueError("GradientProfile: a profile whose pass was not finite holds no curve")

    @property
    def finite(self):
        """False where a measured pass produced nan or inf (``nonfinite`` says where)."""
        return self.nonfinite is None

    @property
    def log10_grad_norm(self):
        """log10 ||J||_F, the curve's last entry; None where the pass was not finite."""
        return float(self.per_layer_grad_norm_log10[-1]) if self.finite else None

    @property
    def change_log10(self):
        """Decades by which the gradient's norm changes from the output to the input; None if not finite."""
        return float(self.per_layer_grad_norm_log10[-1] - self.log10_initial_norm) if self.finite else None

    @property
    def change_log10_sd(self):
        """The standard deviation of ``change_log10`` between networks, in decades; None where unknown."""
        sd = self.per_layer_grad_norm_log10_sd
        return None if sd is None else float(sd[-1])

    @property
    def per_layer_gain_log10(self):
        """Decades gained by the gradient norm through each layer, backward order."""
        norms = np.concatenate([[self.log10_initial_norm], self.per_layer_grad_norm_log10])
        return np.diff(norms)

    @property
    def mean_abs_grad(self):
        """mean |J| as a float, or None where unknown or beyond float64's range."""
        return float_from_log10(self.log10_mean_abs_grad)

    @property
    def jacobian(self):
        """A probe's J as an ordinary float64 array; OverflowError where it leaves float range."""
        if self.jacobian_mantissa is None:
            raise ValueError(f"GradientProfile: a {self.source} profile without a finite measured pass "
                             "holds no Jacobian")
        return to_float64(self.jacobian_mantissa, self.log10_scale, "J")

    def __getattr__(self, name):
        # the names of the classes this one replaced, for one release
        return renamed_attribute(self, name, _RENAMED)

    def __repr__(self):
        sd = "" if self.change_log10_sd is None else f" +- {self.change_log10_sd:.3f}"
        change = self.change_log10
        shown = f"{change:+.3f}" if change is not None and math.isfinite(change) else str(change)
        return f"GradientProfile({len(self.layers)} layers, change {shown}{sd} decades, {self.source})"

    def _repr_html_(self):
        """The per-layer table, as ``probe --per-layer`` prints it, in HTML (Jupyter shows it)."""
        from .display import profile_document  # imported here: the report modules may come to use this type

        return profile_document(self).to_html()


def renamed_attribute(obj, name, renamed):
    """``obj``'s attribute by an old ``name``, with a DeprecationWarning; ``renamed``: {old: (new, value(obj))}."""
    if name not in renamed:
        raise AttributeError(f"{type(obj).__name__!r} object has no attribute {name!r}")
    replacement, value = renamed[name]
    warnings.warn(f"{type(obj).__name__}.{name} is deprecated; use {replacement}", DeprecationWarning,
                  stacklevel=3)
    return value(obj)


def _typical(p, values):
    return values if p.statistic == "typical" else None


def _last(values):
    return None if values is None else float(values[-1])


# old name: (what to use instead, its value)
_RENAMED = {
    "typical_per_layer_grad_norm_log10": ("per_layer_grad_norm_log10",
                                          lambda p: _typical(p, p.per_layer_grad_norm_log10)),
    "typical_per_block_grad_norm_log10": ("per_layer_grad_norm_log10",
                                          lambda p: _typical(p, p.per_layer_grad_norm_log10)),
    "per_block_grad_norm_log10": ("mean_field_per_layer_grad_norm_log10",
                                  lambda p: p.mean_field_per_layer_grad_norm_log10),
    "typical_log10_grad_norm": ("log10_grad_norm", lambda p: _typical(p, p.log10_grad_norm)),
    "mean_field_log10_grad_norm": ("mean_field_per_layer_grad_norm_log10[-1]",
                                   lambda p: _last(p.mean_field_per_layer_grad_norm_log10)),
    "log10_grad_norm_sd": ("change_log10_sd", lambda p: p.change_log10_sd),
    "sd_log10": ("change_log10_sd", lambda p: p.change_log10_sd),
    "typical_change_log10": ("change_log10", lambda p: _typical(p, p.change_log10)),
    "typical_log10_mean_abs_grad": ("log10_mean_abs_grad", lambda p: p.log10_mean_abs_grad),
    "start_size": ("log10_initial_norm", lambda p: round(10.0 ** (2.0 * p.log10_initial_norm))),
    "records": ("zip(layers, per_layer_grad_norm_log10)",
                lambda p: list(zip(p.layers, (float(v) for v in p.per_layer_grad_norm_log10)))),
}

#: The curve's old names on a result that now holds it as ``profile`` (``theory.Prediction``,
#: ``experiments.ConfigPrediction``): old name: (what to use instead, its value).
HELD_PROFILE_RENAMED = {
    "per_layer_grad_norm_log10": ("profile.mean_field_per_layer_grad_norm_log10",
                                  lambda p: p.profile.mean_field_per_layer_grad_norm_log10),
    "typical_per_layer_grad_norm_log10": ("profile.per_layer_grad_norm_log10",
                                          lambda p: p.profile.per_layer_grad_norm_log10),
    "per_layer_grad_norm_log10_sd": ("profile.per_layer_grad_norm_log10_sd",
                                     lambda p: p.profile.per_layer_grad_norm_log10_sd),
    "log10_mean_abs_grad": ("profile.mean_field_log10_mean_abs_grad",
                            lambda p: p.profile.mean_field_log10_mean_abs_grad),
    "typical_log10_mean_abs_grad": ("profile.log10_mean_abs_grad", lambda p: p.profile.log10_mean_abs_grad),
    "mean_field_log10_grad_norm": ("profile.mean_field_per_layer_grad_norm_log10[-1]",
                                   lambda p: float(p.profile.mean_field_per_layer_grad_norm_log10[-1])),
    "typical_log10_grad_norm": ("profile.log10_grad_norm", lambda p: p.profile.log10_grad_norm),
    "log10_grad_norm_sd": ("profile.change_log10_sd", lambda p: p.profile.change_log10_sd),
}
