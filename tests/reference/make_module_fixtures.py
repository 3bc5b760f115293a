"""PyTorch's behaviour for tinynet's module habits: containers, hooks, buffers, data loading.

Run with a Python that has torch (tinynet is not needed):

    python tests/reference/make_module_fixtures.py [output directory]

It writes ``modules.json`` (what is not an array: batch boundaries, the
order of a Sequential after each edit, state-dict keys, error messages)
and ``modules.npz`` (arrays under ``"<case>/<what>"``) next to this script
unless told otherwise:

- ``batchnorm_empty/<shape>/<mode>/...``: BatchNorm1d(3) on an empty batch:
  output and input-gradient shapes, parameter gradients and buffers after;
  ``batchnorm_empty_then_batch``: an empty training batch, then a real one,
  with ``momentum=None`` (the empty batch counts in the running average).
- ``backward_pre_hook/<case>/...``: a small net's input and parameter
  gradients with a full backward pre-hook that scales ``grad_output`` by a
  stored array (on a layer, or on the whole net), or only records it.
- ``dataloader``: the sample indices of each batch of ``DataLoader(range(n))``
  for several ``batch_size`` and ``drop_last``, and ``len(loader)``.
"""

import json
import pathlib
import sys

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

SEED = 0
EMPTY_SHAPES = [(0, 3), (0, 3, 4), (2, 3, 0)]
LOADER_CASES = [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False),
                (2, 5, True), (7, 1, False), (0, 4, False)]
HOOK_CASES = {"scale_tanh": "1", "scale_last": "2", "scale_net": "", "observe_last": "2"}


def record_batchnorm_empty(rng, arrays, meta):
    for shape in EMPTY_SHAPES:
        for mode in ("train", "eval"):
            bn = nn.BatchNorm1d(3).double().train(mode == "train")
            x = torch.zeros(shape, dtype=torch.float64, requires_grad=True)
            y = bn(x)
            y.backward(torch.zeros_like(y))
            key = f"batchnorm_empty/{'x'.join(map(str, shape))}/{mode}"
            meta[key] = {"y_shape": list(y.shape), "dx_shape": list(x.grad.shape)}
            for name, p in bn.named_parameters():
                arrays[f"{key}/grad/{name}"] = p.grad.numpy().copy()
            for name, b in bn.named_buffers():
                arrays[f"{key}/buffer/{name}"] = b.numpy().copy()
    bn = nn.BatchNorm1d(3, momentum=None).double().train()
    x = rng.normal(1.0, 2.0, size=(5, 3))
    bn(torch.zeros((0, 3), dtype=torch.float64))
    bn(torch.from_numpy(x))
    arrays["batchnorm_empty_then_batch/x"] = x
    for name, b in bn.named_buffers():
        arrays[f"batchnorm_empty_then_batch/buffer/{name}"] = b.numpy().copy()


def small_net():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


def record_backward_pre_hooks(rng, arrays):
    """Gradients of ``small_net`` with a pre-hook on the layer named in HOOK_CASES."""
    net = small_net()
    init = {name: rng.normal(0, 0.8, size=tuple(p.shape)) for name, p in net.named_parameters()}
    x = rng.normal(size=(5, 3))
    dy = rng.normal(size=(5, 2))
    arrays.update({f"backward_pre_hook/init/{k}": v for k, v in init.items()})
    arrays["backward_pre_hook/x"], arrays["backward_pre_hook/dy"] = x, dy
    for case, where in HOOK_CASES.items():
        net = small_net()
        with torch.no_grad():
            for name, p in net.named_parameters():
                p.copy_(torch.from_numpy(init[name]))
        target = net.get_submodule(where)
        out_width = 2 if where in ("", "2") else 4
        scale = rng.uniform(0.5, 2.0, size=(5, out_width))
        seen = []

        def hook(module, grad_output, scale=torch.from_numpy(scale), seen=seen):
            seen.append(grad_output[0].detach().numpy().copy())
            return None if case.startswith("observe") else (grad_output[0] * scale,)

        target.register_full_backward_pre_hook(hook)
        tx = torch.tensor(x, requires_grad=True)
        net(tx).backward(torch.from_numpy(dy))
        key = f"backward_pre_hook/{case}"
        arrays[f"{key}/scale"] = scale
        arrays[f"{key}/seen"] = seen[0]
        arrays[f"{key}/dx"] = tx.grad.numpy()
        for name, p in net.named_parameters():
            arrays[f"{key}/grad/{name}"] = p.grad.numpy().copy()


def dataloader_batches():
    """Batches (as lists of sample indices) and ``len`` for each of LOADER_CASES, unshuffled."""
    found = []
    for n, batch_size, drop_last in LOADER_CASES:
        data = TensorDataset(torch.arange(n), torch.arange(n) * 10)
        loader = DataLoader(data, batch_size=batch_size, shuffle=False, drop_last=drop_last)
        batches = [[b[0].tolist(), b[1].tolist()] for b in loader]
        found.append({"n": n, "batch_size": batch_size, "drop_last": drop_last, "len": len(loader),
                      "batches": batches})
    return found


def sequential_edits():
    """The order of a Sequential's layers (by original position) after each of PyTorch's edits."""
    def fresh():
        return nn.Sequential(*[nn.Identity() for _ in range(5)])

    def order(seq, layers):
        return [layers.index(m) if m in layers else "new" for m in seq]

    results = {}
    edits = {
        "del_1": lambda s: s.__delitem__(1), "del_-1": lambda s: s.__delitem__(-1),
        "del_1:4": lambda s: s.__delitem__(slice(1, 4)),
        "del_::2": lambda s: s.__delitem__(slice(None, None, 2)),
        "insert_0": lambda s: s.insert(0, nn.Identity()),
        "insert_-1": lambda s: s.insert(-1, nn.Identity()),
        "insert_5": lambda s: s.insert(5, nn.Identity()),
        "insert_-5": lambda s: s.insert(-5, nn.Identity()),
        "append": lambda s: s.append(nn.Identity()),
        "extend": lambda s: s.extend([nn.Identity(), nn.Identity()]),
        "setitem_-2": lambda s: s.__setitem__(-2, nn.Identity()),
        "slice_1:4": None, "slice_::-1": None, "slice_-2:": None,
    }
    for name, edit in edits.items():
        seq = fresh()
        layers = list(seq)
        if edit is None:
            start, stop, step = (int(v) if v else None for v in (name[6:] + "::").split(":")[:3])
            sliced = seq[start:stop:step]
            results[name] = {"type": type(sliced).__name__, "order": order(sliced, layers)}
        else:
            edit(seq)
            results[name] = {"order": order(seq, layers)}
    errors = {}
    for name, edit in {"getitem_5": lambda s: s[5], "getitem_-6": lambda s: s[-6],
                       "delitem_7": lambda s: s.__delitem__(7),
                       "insert_6": lambda s: s.insert(6, nn.Identity()),
                       "insert_-6": lambda s: s.insert(-6, nn.Identity())}.items():
        try:
            edit(fresh())
        except Exception as e:
            errors[name] = [type(e).__name__, str(e)]
    return results, errors


def buffer_states():
    """Buffer and state-dict names of a module with an optional buffer, after each step of its life."""
    m = nn.Module()
    m.register_buffer("running", torch.zeros(2))
    m.register_buffer("optional", None)
    steps = {"registered_none": lambda: None, "set": lambda: setattr(m, "optional", torch.ones(3)),
             "set_none": lambda: setattr(m, "optional", None), "after_double": m.double,
             "deleted": lambda: delattr(m, "optional")}
    states = {}
    for step, action in steps.items():
        action()
        states[step] = {"buffers": [n for n, _ in m.named_buffers()], "state_dict": list(m.state_dict()),
                        "attribute_is_none": getattr(m, "optional", "deleted") is None}
    return states


def messages():
    """PyTorch's words for get_submodule's failures and for a load that matched every key."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    found = {}
    for target in ("2", "0.weight", "0.nothing"):
        try:
            net.get_submodule(target)
        except AttributeError as e:
            found[f"get_submodule {target}"] = str(e)
    found["all keys matched"] = str(net.load_state_dict(net.state_dict()))
    return found


def main(out_dir):
    out_dir = pathlib.Path(out_dir)
    rng = np.random.default_rng(SEED)
    arrays, meta = {}, {}
    record_batchnorm_empty(rng, arrays, meta)
    record_backward_pre_hooks(rng, arrays)
    edits, errors = sequential_edits()
    data = {"torch_version": torch.__version__.split("+")[0], "batchnorm_empty": meta,
            "empty_shapes": [list(s) for s in EMPTY_SHAPES], "hook_cases": HOOK_CASES,
            "dataloader": dataloader_batches(), "sequential_edits": edits,
            "sequential_errors": errors, "buffers": buffer_states(), "messages": messages()}
    (out_dir / "modules.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(out_dir / "modules.npz", **arrays)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent)
