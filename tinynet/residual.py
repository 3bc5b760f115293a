"""Residual: a skip connection around a block, ``y = x + alpha * block(x)``."""

import numpy as np

from . import architecture
from .architecture import register_layer
from .checks import check_bool, check_number
from .grad_mode import is_grad_enabled
from .layer import Layer, indented_repr
from .parameter import Parameter


@register_layer
class Residual(Layer):
    """``y = x + alpha * block(x)``; ``block`` must keep the shape of its input.

    ``alpha`` is a fixed number, or with ``learnable_alpha`` a ``Parameter``
    of shape () that starts at ``alpha`` and has the dtype of the block's
    parameters (else its buffers', else float64):
    ``Residual(block, alpha=0.0, learnable_alpha=True)`` is ReZero (SkipInit's
    scalar), which starts as the identity. The block runs
    through its public ``forward`` and ``backward``, so its hooks fire.
    """

    def __init__(self, block, alpha=1.0, learnable_alpha=False):
        super().__init__()
        if not isinstance(block, Layer):
            raise TypeError(f"Residual: block must be a tinynet Layer, got {type(block).__name__}")
        self.block = block
        alpha = check_number(self.label(), "alpha", alpha)
        self.learnable_alpha = check_bool(self.label(), "learnable_alpha", learnable_alpha)
        self._initial_alpha = alpha  # what reset_parameters returns a learnable alpha to
        if self.learnable_alpha:
            arrays = [p.data for p in block.parameters()] + list(block.buffers())
            dtype = next((a.dtype for a in arrays if a.dtype.kind == "f"), np.dtype(np.float64))
            self.alpha = Parameter(np.array(alpha, dtype=dtype))
        else:
            self.alpha = alpha

    def reset_parameters(self, rng=None):
        """Draw the block's parameters again (from ``rng``) and set a learnable alpha to its start."""
        self.block.reset_parameters(rng)
        if self.learnable_alpha:
            self.alpha.data[...] = self._initial_alpha

    def _forward(self, x):
        fx = self.block.forward(x)
        if fx.shape != x.shape:
            if is_grad_enabled():
                self.block._drop_pass()  # no backward will come for this pass
            raise ValueError(
                f"{self.label()}: the block returned shape {fx.shape} for input of shape {x.shape}; "
                "a residual block must keep the shape of its input")
        if not self.learnable_alpha:
            return x + self.alpha * fx, None
        return x + self.alpha.data * fx, fx  # dalpha needs the block's output

    def _backward(self, ctx, dy):
        alpha = self.alpha
        if self.learnable_alpha:
            if alpha.requires_grad:
                alpha.accumulate(np.sum(dy * ctx))
            alpha = alpha.data
        # the block's backward runs even when alpha is 0: it consumes what its forward kept
        return dy + self.block.backward(alpha * dy)

    def _sub_passes(self, ctx):
        return (self.block,)

    def get_config(self):
        # a fixed alpha as it is now (a user may set it after construction); a learnable one
        # is saved as its parameter, and its config keeps where reset_parameters returns it
        alpha = self._initial_alpha if self.learnable_alpha else check_number(self.label(), "alpha", self.alpha)
        return {"block": architecture.describe(self.block), "alpha": alpha,
                "learnable_alpha": self.learnable_alpha}

    @classmethod
    def from_config(cls, config):
        """The Residual ``config`` describes, its block built from its description."""
        return cls(**{**config, "block": architecture.build(config["block"], "block")})

    @classmethod
    def state_spec(cls, config):
        """The block's arrays, and ``alpha: ()`` of the block's parameters' dtype if learnable."""
        spec = architecture.arrays(config["block"], "block")
        if check_bool("Residual", "learnable_alpha", config["learnable_alpha"]):
            params = [dtype for name, (_, dtype) in spec.items() if dtype.kind == "f"]
            spec["alpha"] = ((), params[0] if params else np.dtype(np.float64))
        return spec

    def extra_repr(self):
        alpha = float(self.alpha.data) if self.learnable_alpha else self.alpha
        return f"alpha={alpha}, learnable_alpha={self.learnable_alpha}"

    def label(self):
        return f"Residual({self.block.label()})"

    def __repr__(self):
        block = indented_repr(self.block)
        return f"Residual(\n  {self.extra_repr()}\n  (block): {block}\n)"
