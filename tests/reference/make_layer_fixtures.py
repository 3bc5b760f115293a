"""PyTorch's numbers for tinynet's Residual, LayerNorm, BatchNorm1d and Dropout.

Run with a Python that has torch (tinynet is not needed):

    python tests/reference/make_layer_fixtures.py [output directory]

It writes ``layers.json`` (each case: the layer, as a spec both libraries
build from, its dtype and the mode of each step) and ``layers.npz`` (the
arrays, under ``"<case>/<what>"``) next to this script unless told
otherwise. For each case the initial parameters are ``init/<name>``; step i
feeds ``i/x`` forward in the given mode and ``i/dy`` backward, with
gradients zeroed before each step, and records the output ``i/y``, the input
gradient ``i/dx``, each parameter's gradient ``i/grad/<name>`` and each
buffer after the step ``i/buffer/<name>``. Names are ``state_dict`` names,
which tinynet shares with PyTorch.

Dropout's masks come from PyTorch's generator, which tinynet cannot
reproduce; its cases record what holds whatever the mask: the output, and
the input gradient, for a known input.
"""

import json
import pathlib
import sys

import numpy as np
import torch
from torch import nn

SEED = 0

# case name -> (layer spec, dtype, modes of the steps, input shapes of the steps)
CASES = {
    "layernorm": ({"type": "LayerNorm", "args": {"normalized_shape": 5}},
                  "float64", ["train", "eval"], [(4, 5), (3, 5)]),
    "layernorm_no_affine": ({"type": "LayerNorm", "args": {"normalized_shape": 5,
                                                           "elementwise_affine": False}},
                            "float64", ["train"], [(4, 5)]),
    "layernorm_no_bias": ({"type": "LayerNorm", "args": {"normalized_shape": 5, "bias": False}},
                          "float64", ["train"], [(4, 5)]),
    "layernorm_two_dims": ({"type": "LayerNorm", "args": {"normalized_shape": [3, 4]}},
                           "float64", ["train"], [(2, 3, 4)]),
    "layernorm_sequence": ({"type": "LayerNorm", "args": {"normalized_shape": 4}},
                           "float64", ["train"], [(2, 3, 4)]),
    "layernorm_float32": ({"type": "LayerNorm", "args": {"normalized_shape": 6}},
                          "float32", ["train"], [(5, 6)]),
    "batchnorm": ({"type": "BatchNorm1d", "args": {"num_features": 3}},
                  "float64", ["train", "train", "train", "eval", "train", "eval"],
                  [(8, 3), (5, 3), (6, 3), (4, 3), (2, 3), (1, 3)]),
    "batchnorm_no_affine": ({"type": "BatchNorm1d", "args": {"num_features": 3, "affine": False}},
                            "float64", ["train", "train", "eval"], [(6, 3), (4, 3), (3, 3)]),
    "batchnorm_no_running_stats": ({"type": "BatchNorm1d",
                                    "args": {"num_features": 3, "track_running_stats": False}},
                                   "float64", ["train", "train", "eval"], [(6, 3), (4, 3), (3, 3)]),
    "batchnorm_cumulative": ({"type": "BatchNorm1d", "args": {"num_features": 3, "momentum": None}},
                             "float64", ["train", "train", "train", "eval"],
                             [(6, 3), (4, 3), (5, 3), (3, 3)]),
    "batchnorm_momentum": ({"type": "BatchNorm1d", "args": {"num_features": 3, "momentum": 0.3}},
                           "float64", ["train", "train", "eval"], [(6, 3), (4, 3), (3, 3)]),
    "batchnorm_sequence": ({"type": "BatchNorm1d", "args": {"num_features": 3}},
                           "float64", ["train", "train", "eval"], [(2, 3, 4), (3, 3, 2), (2, 3, 3)]),
    "batchnorm_float32": ({"type": "BatchNorm1d", "args": {"num_features": 4}},
                          "float32", ["train", "train", "eval"], [(8, 4), (6, 4), (3, 4)]),
    "residual": ({"type": "Residual", "args": {"alpha": 0.5},
                  "block": {"type": "Sequential", "layers": [
                      {"type": "Linear", "args": {"in_features": 4, "out_features": 4}},
                      {"type": "Tanh", "args": {}}]}},
                 "float64", ["train"], [(3, 4)]),
    "residual_learnable_alpha": ({"type": "Residual", "args": {"alpha": 0.3, "learnable_alpha": True},
                                  "block": {"type": "Linear",
                                            "args": {"in_features": 4, "out_features": 4}}},
                                 "float64", ["train", "train"], [(3, 4), (2, 4)]),
    "residual_rezero": ({"type": "Residual", "args": {"alpha": 0.0, "learnable_alpha": True},
                         "block": {"type": "Sequential", "layers": [
                             {"type": "Linear", "args": {"in_features": 4, "out_features": 4}},
                             {"type": "Tanh", "args": {}}]}},
                        "float64", ["train"], [(3, 4)]),
    "residual_prenorm": ({"type": "Residual", "args": {},
                          "block": {"type": "Sequential", "layers": [
                              {"type": "LayerNorm", "args": {"normalized_shape": 4}},
                              {"type": "Linear", "args": {"in_features": 4, "out_features": 4}},
                              {"type": "Tanh", "args": {}}]}},
                         "float64", ["train"], [(3, 4)]),
    "residual_batchnorm": ({"type": "Residual", "args": {"alpha": 0.7, "learnable_alpha": True},
                            "block": {"type": "Sequential", "layers": [
                                {"type": "Linear", "args": {"in_features": 4, "out_features": 4}},
                                {"type": "BatchNorm1d", "args": {"num_features": 4}}]}},
                           "float64", ["train", "train", "eval"], [(5, 4), (4, 4), (3, 4)]),
}

DROPOUT_P = (0.2, 0.5, 0.9, 1.0)


class Residual(nn.Module):
    """``y = x + alpha * block(x)``, alpha fixed or a learnable scalar (shape ())."""

    def __init__(self, block, alpha=1.0, learnable_alpha=False):
        super().__init__()
        self.block = block
        self.alpha = nn.Parameter(torch.tensor(float(alpha))) if learnable_alpha else float(alpha)

    def forward(self, x):
        return x + self.alpha * self.block(x)


def build(spec):
    """The torch module for a layer spec (the same spec tinynet's test builds from)."""
    kind, args = spec["type"], dict(spec.get("args", {}))
    if kind == "Sequential":
        return nn.Sequential(*[build(s) for s in spec["layers"]])
    if kind == "Residual":
        return Residual(build(spec["block"]), **args)
    if kind == "LayerNorm" and isinstance(args["normalized_shape"], list):
        args["normalized_shape"] = tuple(args["normalized_shape"])
    return getattr(nn, kind)(**args)


def record_case(name, spec, dtype, modes, shapes, rng, arrays):
    """Run one case in torch, storing its arrays in ``arrays``."""
    tdtype = getattr(torch, dtype)
    module = build(spec).to(tdtype)
    with torch.no_grad():  # parameters away from their defaults, so every term is exercised
        for pname, p in module.named_parameters():
            if not pname.endswith("alpha"):  # a residual's alpha is the spec's (ReZero's is 0)
                p.copy_(torch.from_numpy(rng.normal(0.8, 0.5, size=tuple(p.shape))))
            arrays[f"{name}/init/{pname}"] = p.detach().numpy().copy()
    for i, (mode, shape) in enumerate(zip(modes, shapes)):
        module.train(mode == "train")
        # each batch its own per-feature location and scale, so running statistics move
        loc = rng.normal(0, 2, size=shape[1:])
        scale = rng.uniform(0.5, 3, size=shape[1:])
        x = (loc + scale * rng.standard_normal(shape)).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        for p in module.parameters():
            p.grad = None
        tx = torch.tensor(x, requires_grad=True)
        ty = module(tx)
        ty.backward(torch.from_numpy(dy))
        arrays[f"{name}/{i}/x"] = x
        arrays[f"{name}/{i}/dy"] = dy
        arrays[f"{name}/{i}/y"] = ty.detach().numpy()
        arrays[f"{name}/{i}/dx"] = tx.grad.numpy()
        for pname, p in module.named_parameters():
            arrays[f"{name}/{i}/grad/{pname}"] = p.grad.numpy().copy()
        for bname, b in module.named_buffers():
            arrays[f"{name}/{i}/buffer/{bname}"] = b.numpy().copy()


def record_dropout(p, rng, arrays):
    """Dropout's output and input gradient for one ``p``, with PyTorch's own mask."""
    torch.manual_seed(SEED)
    x = rng.uniform(0.5, 2, size=(20, 30)) * rng.choice([-1, 1], size=(20, 30))  # no zeros
    dy = rng.standard_normal(x.shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = nn.Dropout(p)(tx)
    ty.backward(torch.from_numpy(dy))
    name = f"dropout_{p}"
    arrays[f"{name}/x"] = x
    arrays[f"{name}/dy"] = dy
    arrays[f"{name}/y"] = ty.detach().numpy()
    arrays[f"{name}/dx"] = tx.grad.numpy()


def batch_of_one_message():
    """PyTorch's words for a training batch of one (the part before the shape)."""
    try:
        nn.BatchNorm1d(3).train()(torch.zeros(1, 3))
    except ValueError as e:
        return str(e).split(",")[0]
    raise AssertionError("PyTorch accepted a training batch of one")


def main(out_dir):
    out_dir = pathlib.Path(out_dir)
    rng = np.random.default_rng(SEED)
    arrays, cases = {}, {}
    for name, (spec, dtype, modes, shapes) in CASES.items():
        record_case(name, spec, dtype, modes, shapes, rng, arrays)
        cases[name] = {"layer": spec, "dtype": dtype, "modes": modes}
    for p in DROPOUT_P:
        record_dropout(p, rng, arrays)
    meta = {"torch_version": torch.__version__.split("+")[0], "cases": cases,
            "dropout_p": list(DROPOUT_P), "batch_of_one_message": batch_of_one_message()}
    (out_dir / "layers.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(out_dir / "layers.npz", **arrays)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent)
