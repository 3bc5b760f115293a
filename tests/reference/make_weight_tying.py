"""Write weight_tying.json: PyTorch's gradients for a layer used twice, ``Sequential(L, Tanh(), L)``.

Run with PyTorch installed (the tests read the JSON and need no torch):

    python tests/reference/make_weight_tying.py
"""

import json
import pathlib

import numpy as np
import torch

rng = np.random.default_rng(0)
weight, bias = rng.standard_normal((3, 3)), rng.standard_normal(3)
x, dy = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

layer = torch.nn.Linear(3, 3).double()
with torch.no_grad():
    layer.weight.copy_(torch.from_numpy(weight))
    layer.bias.copy_(torch.from_numpy(bias))
net = torch.nn.Sequential(layer, torch.nn.Tanh(), layer)
tx = torch.from_numpy(x).requires_grad_(True)
y = net(tx)
y.backward(torch.from_numpy(dy))

fixture = {
    "torch_version": torch.__version__,
    "weight": weight.tolist(), "bias": bias.tolist(), "x": x.tolist(), "dy": dy.tolist(),
    "y": y.detach().numpy().tolist(), "dx": tx.grad.numpy().tolist(),
    "weight_grad": layer.weight.grad.numpy().tolist(), "bias_grad": layer.bias.grad.numpy().tolist(),
}
path = pathlib.Path(__file__).with_name("weight_tying.json")
path.write_text(json.dumps(fixture, indent=1) + "\n")
print(f"wrote {path}")
