"""``predict_network``'s rules for the remedies: Residual, LayerNorm, BatchNorm1d and Dropout.

Each rule marks the block the walk has open (or, for ``Residual``, the
block its branch makes) with what the remedy changes. The remedies'
theory (docs/remedies.md) is derived for networks of identical blocks, so
``predict_remedy_network`` checks that the marked blocks are all alike
and hands them to ``predict_residual``, ``predict_layer_norm``,
``predict_batch_norm`` or ``predict_dropout``. Where no derivation holds
(a mix of blocks, a batch too small for BatchNorm) it raises ValueError
saying why.
"""

import numpy as np

from .batchnorm import predict_batch_norm
from .dropout import predict_dropout
from .normalization import predict_layer_norm
from .residual import predict_residual

__all__ = ["residual_rule", "layer_norm_rule", "batch_norm_rule", "dropout_rule", "predict_remedy_network"]


def residual_rule(layer, walk):
    """``Residual(Sequential(Linear(k, k, bias=False), activation), alpha)``: one residual block."""
    branch = walk.branch(layer.block)
    who = f"{walk.owner}: {layer.label()}"
    if len(branch) != 1 or branch[0].remedy:
        raise ValueError(f"{who}: the theory predicts a residual branch of one Linear and its activation, "
                         f"got {len(branch)} Linear layers" + (" and a remedy inside" if branch and branch[0].remedy else ""))
    block = branch[0]
    if block.in_features != block.out_features or block.sigma_b != 0.0:
        raise ValueError(f"{who}: the theory predicts a bias-free Linear(k -> k) branch, got "
                         f"{block.label}" + (" with a bias" if block.sigma_b else ""))
    alpha = float(layer.alpha.data) if layer.learnable_alpha else float(layer.alpha)
    block.remedy = {"kind": "Residual", "alpha": alpha}
    walk.blocks.append(block)
    walk.width = block.out_features


def _normalization_rule(kind):
    def rule(layer, walk):
        who = f"{walk.owner}: {layer.label()}"
        if not walk.blocks or walk.blocks[-1].activations or walk.blocks[-1].remedy:
            raise ValueError(f"{who}: the theory predicts a normalization right after a Linear, "
                             "before its activation")
        width = walk.blocks[-1].out_features
        features = layer.normalized_shape if kind == "LayerNorm" else (layer.num_features,)
        if tuple(features) != (width,):
            raise ValueError(f"{who} normalizes {features}, but the Linear before gives {width} features")
        for name, p in layer.named_parameters():
            if not np.all(p.data == (1.0 if name == "weight" else 0.0)):
                raise ValueError(f"{who}: the theory predicts the affine {name} at its initial value "
                                 f"({'ones' if name == 'weight' else 'zeros'})")
        walk.blocks[-1].remedy = {"kind": kind}
    rule.__doc__ = f"``Linear -> {kind} -> activation``: the normalization marks the block the Linear opened."
    rule.__name__ = "layer_norm_rule" if kind == "LayerNorm" else "batch_norm_rule"
    return rule


layer_norm_rule = _normalization_rule("LayerNorm")
batch_norm_rule = _normalization_rule("BatchNorm1d")


def dropout_rule(layer, walk):
    """``Linear -> activation -> Dropout(p)``: the dropout marks the block after its activation."""
    if not walk.blocks or not walk.blocks[-1].activations or walk.blocks[-1].remedy:
        raise ValueError(f"{walk.owner}: {layer.label()}: the theory predicts a Dropout after a Linear "
                         "and its activation")
    walk.blocks[-1].remedy = {"kind": "Dropout", "p": float(layer.p)}


def _input_moments(owner, x, batched, in_features):
    """mean(x) and mean(x**2) of the probe's input (ones by default; a N(0, I) batch for BatchNorm)."""
    if x is None:
        return (0.0, 1.0) if batched else (1.0, 1.0)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != in_features or (not batched and x.shape[0] != 1):
        rows = "a batch (batch, " if batched else "one input (1, "
        raise ValueError(f"{owner}: x must be {rows}{in_features}), got shape {x.shape}")
    return float(np.mean(x)), float(np.mean(x * x))


def predict_remedy_network(owner, blocks, x=None, batch_size=None):
    """The predicted ``GradientProfile`` of a network of identical remedy blocks, or ValueError saying why not."""
    first = blocks[0]
    kind = first.remedy.get("kind")
    batch_norm = kind == "BatchNorm1d"
    head = None  # a BatchNorm stack may end in a plain Linear, a classifier
    if batch_norm and len(blocks) > 1 and not blocks[-1].remedy and not blocks[-1].activations:
        head, blocks = blocks[-1], blocks[:-1]
    # BatchNorm cancels its Linear's scale and bias, and the simulation takes any first width
    signature = [(b.remedy, b.elementwise().name, b.out_features, b.weights) + (
        () if batch_norm else (b.in_features, b.sigma_w, b.sigma_b)) for b in blocks]
    if kind is None or any(s != signature[0] for s in signature):
        raise ValueError(f"{owner}: the remedies' theory predicts networks of identical blocks "
                         "(docs/remedies.md); this one mixes blocks of different kinds or scales")
    if (first.in_features != first.out_features and not batch_norm) or first.weights != "gaussian":
        raise ValueError(f"{owner}: the remedies' theory predicts Linear(k -> k) blocks with Gaussian "
                         f"weights, got {first.label} with {first.weights} weights")
    act = first.elementwise()
    depth, width = len(blocks), first.out_features
    if kind in ("Residual", "LayerNorm") and first.sigma_b != 0.0:
        raise ValueError(f"{owner}: the theory predicts {kind} blocks without biases")
    mean, mean_sq = _input_moments(owner, x, kind == "BatchNorm1d", first.in_features)
    if kind == "Residual":
        return predict_residual(act, first.sigma_w, first.remedy["alpha"], depth, width,
                                input_sq=mean_sq, input_mean=mean)
    if kind == "LayerNorm":
        return predict_layer_norm(act, depth, width)
    if kind == "Dropout":
        return predict_dropout(act, first.sigma_w, first.remedy["p"], depth, width, sigma_b=first.sigma_b,
                               input_sq=mean_sq)
    if x is not None:
        batch_size = np.asarray(x).shape[0]
    if batch_size is None:
        raise ValueError(f"{owner}: a network with BatchNorm1d is predicted for a batch: give batch_size")
    if head is None:
        return predict_batch_norm(act, batch_size, depth, width, in_features=first.in_features)
    if head.weights != "gaussian":
        raise ValueError(f"{owner}: the theory predicts a final Linear with Gaussian weights after BatchNorm "
                         f"blocks, got {head.label} with {head.weights} weights")
    return predict_batch_norm(act, batch_size, depth, width, in_features=first.in_features,
                              out_features=head.out_features, out_sigma_w=head.sigma_w)
