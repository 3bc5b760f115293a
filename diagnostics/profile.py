"""``GradientProfile``: the gradient's norm layer by layer, measured or predicted, in one type."""

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GradientProfile", "SOURCES"]

#: Where a profile's numbers came from: a probe, the theory's derivations, or a map estimated by Monte Carlo.
SOURCES = ("measured", "predicted", "estimated")


@dataclass(frozen=True, eq=False)
class GradientProfile:
    """Per-layer log10 gradient norms of one network, from the output back to the input.

    ``per_layer_grad_norm_log10[i]``: log10 of the Frobenius norm of the
    gradient after it has passed back through the last i + 1 measured layers
    (``layers``, backward order), as ``gradient_probe`` measures it; for a
    prediction, the typical (median) network's. ``log10_initial_norm``: the
    identity the backward pass starts from. ``per_layer_grad_norm_log10_sd``:
    the standard deviation between networks, in decades, where known (else
    None); ``mean_field_per_layer_grad_norm_log10``: the log of the mean over
    networks, where known. ``source``: "measured", "predicted" or
    "estimated" (a layer's map was estimated from its own forward and
    backward).
    """

    layers: tuple
    per_layer_grad_norm_log10: np.ndarray
    log10_initial_norm: float
    source: str
    per_layer_grad_norm_log10_sd: np.ndarray = None
    mean_field_per_layer_grad_norm_log10: np.ndarray = None

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"GradientProfile: source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if len(self.layers) != len(self.per_layer_grad_norm_log10):
            raise ValueError(f"GradientProfile: {len(self.layers)} layers but "
                             f"{len(self.per_layer_grad_norm_log10)} norms")

    @property
    def change_log10(self):
        """Decades by which the gradient's norm changes from the output to the input."""
        return float(self.per_layer_grad_norm_log10[-1] - self.log10_initial_norm)

    @property
    def change_log10_sd(self):
        """The standard deviation of ``change_log10`` between networks, in decades; None where unknown."""
        sd = self.per_layer_grad_norm_log10_sd
        return None if sd is None else float(sd[-1])

    def __repr__(self):
        sd = "" if self.change_log10_sd is None else f" +- {self.change_log10_sd:.3f}"
        change = self.change_log10
        shown = f"{change:+.3f}" if math.isfinite(change) else str(change)
        return f"GradientProfile({len(self.layers)} layers, change {shown}{sd} decades, {self.source})"

    def _repr_html_(self):
        """The per-layer table, as ``probe --per-layer`` prints it, in HTML (Jupyter shows it)."""
        from .display import profile_document  # imported here: the report modules may come to use this type

        return profile_document(self).to_html()
