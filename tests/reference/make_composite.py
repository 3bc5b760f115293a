"""Write composite.json: PyTorch's print and gradients for a model whose forward is written by hand.

The model calls its sub-layers in a chain and one of them twice,
``fc2(act(fc1(act(fc1(x)))))``. Run with PyTorch installed (the tests read
the JSON and need no torch):

    python tests/reference/make_composite.py
"""

import json
import pathlib

import numpy as np
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 3)
        self.act = torch.nn.Tanh()
        self.fc2 = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.act(self.fc1(x)))))


rng = np.random.default_rng(0)
model = Model().double()
weights = {name: rng.standard_normal(tuple(p.shape)) for name, p in model.named_parameters()}
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(weights[name]))
x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
tx = torch.from_numpy(x).requires_grad_(True)
y = model(tx)
y.backward(torch.from_numpy(dy))

fixture = {
    "torch_version": torch.__version__,
    "repr": repr(model),
    "weights": {name: w.tolist() for name, w in weights.items()},
    "x": x.tolist(), "dy": dy.tolist(),
    "y": y.detach().numpy().tolist(), "dx": tx.grad.numpy().tolist(),
    "grads": {name: p.grad.numpy().tolist() for name, p in model.named_parameters()},
}
path = pathlib.Path(__file__).with_name("composite.json")
path.write_text(json.dumps(fixture, indent=1) + "\n")
print(f"wrote {path}")
