"""PyTorch-measured gradient-norm changes of networks at initialization, for the theory's tests.

Run with a Python that has torch (tinynet is not needed):

    python tests/reference/make_theory_fixtures.py [output directory] [--batchnorm]

It writes ``theory.json`` and ``theory_batchnorm.json`` next to this script
unless told otherwise (``--batchnorm``: only the second). ``theory.json``: for
each network, its architecture (a list of layer specs that
tests/diagnostics/test_theory_compose.py rebuilds with tinynet) and, over
``SEEDS`` networks drawn with ``torch.manual_seed(seed)``, the median and
the standard deviation of the change of log10 ||J||_F from the output to
the input: ``log10 ||J||_F - 0.5 log10(out)``, J the input-output Jacobian
at an input of ones, in training mode (a Dropout draws one mask), as
``diagnostics.gradient_probe`` measures it.

Layer specs: ``["linear", in, out, weight_init, bias_std or null]`` (weight_init
``"he_normal"``, ``"lecun_normal"``, ``"lecun_uniform"``, ``"orthogonal"``);
``["act", "relu" | "tanh"]``; ``["layernorm", n]``; ``["dropout", p]``;
``["residual", alpha, [specs]]`` (``x + alpha * block(x)``); ``["scale", n,
value]``, a user's layer multiplying each feature by a learned factor;
``["batchnorm", n]``.

``theory_batchnorm.json``: networks of ``Linear -> BatchNorm1d ->
activation`` blocks in training mode (two with a final Linear), with their
``batch_size``: the change
of log10 ||dY/dX||_F - 0.5 log10(batch * out) for the whole output batch Y
with respect to an N(0, I) input batch X, as
``diagnostics.batch_gradient_probe`` measures it, here from ``COTANGENTS``
Gaussian cotangents per network (E ||G J||^2 = ||J||_F^2).

None of these networks was used to derive or tune the theory.
"""

import json
import math
import pathlib
import sys

import numpy as np
import torch
from torch import nn

SEEDS = 40
COTANGENTS = 16


def resnet(width, depth, alpha, act, inner=None):
    inner = inner or width
    block = [["linear", width, inner, "he_normal" if act == "relu" else "lecun_normal", None], ["act", act],
             ["linear", inner, width, "he_normal" if act == "relu" else "lecun_normal", None]]
    return ([["linear", 20, width, "lecun_normal", None]] + [["residual", alpha, block]] * depth
            + [["linear", width, 10, "lecun_normal", None]])


NETWORKS = {
    # the exact walk: plain networks
    "plain_relu": ("plain", [["linear", 48, 48, "he_normal", None], ["act", "relu"]] * 8),
    "plain_tanh_bias": ("plain", [["linear", 80, 80, "lecun_normal", 0.05], ["act", "tanh"]] * 6),
    "plain_tanh_final_linear": ("plain", [["linear", 30, 60, "lecun_uniform", None], ["act", "tanh"]]
                                + [["linear", 60, 60, "lecun_uniform", None], ["act", "tanh"]] * 5
                                + [["linear", 60, 10, "lecun_uniform", None]]),
    # the remedies' theory: stacks of identical blocks
    "residual_relu": ("remedy", [["residual", 0.5, [["linear", 48, 48, "he_normal", None], ["act", "relu"]]]] * 8),
    "layernorm_tanh": ("remedy", [["linear", 48, 48, "lecun_normal", None], ["layernorm", 48], ["act", "tanh"]] * 6),
    "dropout_relu": ("remedy", [["linear", 64, 64, "he_normal", None], ["act", "relu"], ["dropout", 0.2]] * 6),
    # formerly refused: composed from the layers' maps
    "resnet_two_layer_branch_relu": ("composed", resnet(48, 6, 0.5, "relu")),
    "resnet_two_layer_branch_tanh": ("composed", resnet(40, 5, 1.0, "tanh", inner=56)),
    "norm_after_tanh": ("composed", [["linear", 48, 48, "lecun_normal", None], ["act", "tanh"], ["layernorm", 48]] * 6),
    "norm_after_relu": ("composed", [["linear", 40, 40, "he_normal", None], ["act", "relu"], ["layernorm", 40]] * 5),
    "residual_bias_orthogonal_mixed": ("composed", [["residual", 1.0, [
        ["linear", 48, 32, "lecun_normal", 0.1], ["act", "tanh"], ["linear", 32, 48, "orthogonal", None]]]] * 5),
    "input_and_final_linear_around_residual": ("composed", [["linear", 24, 48, "lecun_normal", None]]
                                               + [["residual", 0.5, [["linear", 48, 48, "he_normal", None],
                                                                     ["act", "relu"]]]] * 6
                                               + [["linear", 48, 8, "lecun_normal", None]]),
    "dropout_in_residual": ("composed", [["residual", 0.7, [["linear", 48, 48, "he_normal", None], ["act", "relu"],
                                                            ["dropout", 0.1]]]] * 5),
    "custom_scale_layer": ("estimated", [["linear", 48, 48, "lecun_normal", None], ["act", "tanh"],
                                         ["scale", 48, 1.3]] * 6),
}



def bn_stack(in_features, width, depth, act, init, bias_std=None):
    """``depth`` blocks Linear -> BatchNorm1d -> act, the first from ``in_features``."""
    specs = []
    for i in range(depth):
        specs += [["linear", in_features if i == 0 else width, width, init, bias_std], ["batchnorm", width],
                  ["act", act]]
    return specs


# name: (batch size, layers); batch 16 and above are the targets, 4 and 8 show the small batches
BATCH_NORM_NETWORKS = {
    "bn_relu_b16": (16, bn_stack(24, 48, 22, "relu", "he_normal")),
    "bn_relu_b32_bias": (32, bn_stack(60, 60, 12, "relu", "lecun_uniform", 0.1)),
    "bn_relu_b64": (64, bn_stack(32, 64, 12, "relu", "he_normal")),
    "bn_relu_b64_narrow": (64, bn_stack(48, 48, 28, "relu", "he_normal")),
    "bn_tanh_b16": (16, bn_stack(36, 36, 30, "tanh", "lecun_normal")),
    "bn_tanh_b32": (32, bn_stack(16, 52, 18, "tanh", "lecun_normal")),
    "bn_tanh_b64": (64, bn_stack(56, 56, 20, "tanh", "lecun_uniform")),
    "bn_relu_b32_head": (32, bn_stack(20, 48, 16, "relu", "he_normal") + [["linear", 48, 10, "lecun_normal", 0.1]]),
    "bn_tanh_b16_head": (16, bn_stack(30, 40, 20, "tanh", "lecun_normal") + [["linear", 40, 5, "he_normal", None]]),
    "bn_relu_b8": (8, bn_stack(40, 40, 20, "relu", "he_normal")),
    "bn_tanh_b4": (4, bn_stack(48, 48, 14, "tanh", "lecun_normal")),
}


class Residual(nn.Module):
    def __init__(self, block, alpha):
        super().__init__()
        self.block, self.alpha = block, alpha

    def forward(self, x):
        return x + self.alpha * self.block(x)


class Scale(nn.Module):
    def __init__(self, n, value):
        super().__init__()
        self.weight = nn.Parameter(torch.full((n,), value, dtype=torch.float64))

    def forward(self, x):
        return x * self.weight


def build(specs):
    layers = []
    for spec in specs:
        kind = spec[0]
        if kind == "linear":
            _, n_in, n_out, init, bias_std = spec
            layer = nn.Linear(n_in, n_out, bias=bias_std is not None, dtype=torch.float64)
            if init == "he_normal":
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            elif init == "lecun_normal":
                nn.init.normal_(layer.weight, 0.0, 1.0 / math.sqrt(n_in))
            elif init == "lecun_uniform":
                bound = math.sqrt(3.0 / n_in)
                nn.init.uniform_(layer.weight, -bound, bound)
            else:
                nn.init.orthogonal_(layer.weight)
            if bias_std is not None:
                nn.init.normal_(layer.bias, 0.0, bias_std)
        elif kind == "act":
            layer = nn.ReLU() if spec[1] == "relu" else nn.Tanh()
        elif kind == "layernorm":
            layer = nn.LayerNorm(spec[1], dtype=torch.float64)
        elif kind == "dropout":
            layer = nn.Dropout(spec[1])
        elif kind == "residual":
            layer = Residual(build(spec[2]), spec[1])
        elif kind == "batchnorm":
            layer = nn.BatchNorm1d(spec[1], dtype=torch.float64)
        else:
            layer = Scale(spec[1], spec[2])
        layers.append(layer)
    return nn.Sequential(*layers)


def in_features(specs):
    """The width the network takes: its first Linear's, looking into residual blocks."""
    first = specs[0]
    return in_features(first[2]) if first[0] == "residual" else first[1]


def measure(specs):
    changes = []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        net = build(specs).train()
        x = torch.ones(in_features(specs), dtype=torch.float64, requires_grad=True)
        y = net(x)  # one forward, so a Dropout draws one mask for every row of J
        jacobian = torch.stack([torch.autograd.grad(y[i], x, retain_graph=True)[0] for i in range(y.shape[0])])
        changes.append(math.log10(float(torch.linalg.norm(jacobian))) - 0.5 * math.log10(y.shape[0]))
    return float(np.median(changes)), float(np.std(changes))


def measure_batch(specs, batch_size):
    changes = []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        net = build(specs).train()
        x = torch.randn(batch_size, specs[0][1], dtype=torch.float64, requires_grad=True)
        y = net(x)
        squares = [float(torch.sum(torch.autograd.grad(y, x, torch.randn_like(y), retain_graph=True)[0] ** 2))
                   for _ in range(COTANGENTS)]
        changes.append(0.5 * math.log10(np.mean(squares)) - 0.5 * math.log10(y.numel()))
    return float(np.median(changes)), float(np.std(changes))


def main_batch_norm(out_dir):
    cases = {}
    for name, (batch_size, specs) in BATCH_NORM_NETWORKS.items():
        median, sd = measure_batch(specs, batch_size)
        cases[name] = {"batch_size": batch_size, "layers": specs, "median_change_log10": median,
                       "sd_change_log10": sd}
        print(f"{name:40} median {median:+.3f}  sd {sd:.3f}")
    payload = {"torch_version": torch.__version__, "seeds": SEEDS, "cotangents": COTANGENTS, "cases": cases}
    (pathlib.Path(out_dir) / "theory_batchnorm.json").write_text(json.dumps(payload, indent=1) + "\n")


def main(out_dir):
    cases = {}
    for name, (path, specs) in NETWORKS.items():
        median, sd = measure(specs)
        cases[name] = {"path": path, "layers": specs, "median_change_log10": median, "sd_change_log10": sd}
        print(f"{name:40} median {median:+.3f}  sd {sd:.3f}")
    payload = {"torch_version": torch.__version__, "seeds": SEEDS, "cases": cases}
    (pathlib.Path(out_dir) / "theory.json").write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--batchnorm"]
    out = args[0] if args else pathlib.Path(__file__).resolve().parent
    if "--batchnorm" not in sys.argv:
        main(out)
    main_batch_norm(out)
