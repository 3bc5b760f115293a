"""Sequential's edits, optional buffers, backward pre-hooks, empty BatchNorm batches and the
DataLoader against PyTorch's behaviour.

The fixtures (tests/reference/modules.json and modules.npz) are made by
tests/reference/make_module_fixtures.py with PyTorch; this test needs no torch.
"""

import builtins
import importlib.util
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinynet as tn
from tinynet.data import DataLoader, TensorDataset

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
META = json.loads((REFERENCE / "modules.json").read_text(encoding="utf-8"))
with np.load(REFERENCE / "modules.npz", allow_pickle=False) as _f:
    ARRAYS = dict(_f.items())


def arrays_under(prefix):
    return {k[len(prefix):]: v for k, v in ARRAYS.items() if k.startswith(prefix)}


@pytest.mark.parametrize("shape", [tuple(s) for s in META["empty_shapes"]])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_on_an_empty_batch_as_pytorch(shape, mode):
    key = f"batchnorm_empty/{'x'.join(map(str, shape))}/{mode}"
    bn = tn.BatchNorm1d(3).train(mode == "train")
    y = bn.forward(np.zeros(shape))
    dx = bn.backward(np.zeros(shape))
    assert [list(y.shape), list(dx.shape)] == [META["batchnorm_empty"][key][k] for k in ("y_shape", "dx_shape")]
    expected = arrays_under(key + "/")
    for name, p in bn.named_parameters():
        np.testing.assert_array_equal(p.grad, expected["grad/" + name])
    buffers = dict(bn.named_buffers())
    assert sorted("buffer/" + n for n in buffers) == sorted(k for k in expected if k.startswith("buffer/"))
    for name, b in buffers.items():
        np.testing.assert_array_equal(b, expected["buffer/" + name])


def test_an_empty_batch_counts_in_the_cumulative_running_average():
    bn = tn.BatchNorm1d(3, momentum=None)
    bn.forward(np.zeros((0, 3)))
    bn.forward(ARRAYS["batchnorm_empty_then_batch/x"])
    for name, b in bn.named_buffers():
        np.testing.assert_allclose(b, ARRAYS[f"batchnorm_empty_then_batch/buffer/{name}"], rtol=1e-12)


def small_net():
    """The fixture's net, with PyTorch's initial parameters."""
    net = tn.Sequential(tn.Linear(3, 4, rng=np.random.default_rng(0)), tn.Tanh(),
                        tn.Linear(4, 2, rng=np.random.default_rng(0)))
    for name, p in net.named_parameters():
        p.data[...] = ARRAYS[f"backward_pre_hook/init/{name}"]
    return net


@pytest.mark.parametrize("case", sorted(META["hook_cases"]))
def test_backward_pre_hook_changes_the_gradients_as_pytorchs(case):
    key = f"backward_pre_hook/{case}"
    net = small_net()
    seen = []

    def hook(layer, dy):
        seen.append(dy.copy())
        return None if case.startswith("observe") else (dy * ARRAYS[key + "/scale"],)  # a 1-tuple, as in torch

    net.get_submodule(META["hook_cases"][case]).register_full_backward_pre_hook(hook)
    net.forward(ARRAYS["backward_pre_hook/x"])
    dx = net.backward(ARRAYS["backward_pre_hook/dy"])
    np.testing.assert_allclose(seen[0], ARRAYS[key + "/seen"], rtol=1e-12)
    np.testing.assert_allclose(dx, ARRAYS[key + "/dx"], rtol=1e-10, atol=1e-14)
    for name, p in net.named_parameters():
        np.testing.assert_allclose(p.grad, ARRAYS[f"{key}/grad/{name}"], rtol=1e-10, atol=1e-14,
                                   err_msg=name)


@pytest.mark.parametrize("case", META["dataloader"], ids=lambda c: f"{c['n']}-{c['batch_size']}-{c['drop_last']}")
def test_dataloader_batches_as_pytorchs(case):
    n = case["n"]
    loader = DataLoader(TensorDataset(np.arange(n), np.arange(n) * 10), batch_size=case["batch_size"],
                        drop_last=case["drop_last"])
    assert len(loader) == case["len"]
    assert [[a.tolist(), b.tolist()] for a, b in loader] == case["batches"]


def edited(name):
    layers = [tn.Identity() for _ in range(5)]
    seq = tn.Sequential(*layers)
    op, _, arg = name.partition("_")
    if op == "slice":
        start, stop, step = (int(v) if v else None for v in (arg + "::").split(":")[:3])
        seq = seq[start:stop:step]
    elif op == "del":
        del seq[slice(*(int(v) if v else None for v in arg.split(":"))) if ":" in arg else int(arg)]
    elif op == "insert":
        seq.insert(int(arg), tn.Identity())
    elif op == "append":
        seq.append(tn.Identity())
    elif op == "extend":
        seq.extend([tn.Identity(), tn.Identity()])
    elif op == "setitem":
        seq[int(arg)] = tn.Identity()
    return seq, [next((i for i, old in enumerate(layers) if old is m), "new") for m in seq]


@pytest.mark.parametrize("name", sorted(META["sequential_edits"]))
def test_sequential_edits_as_pytorchs(name):
    seq, order = edited(name)
    assert order == META["sequential_edits"][name]["order"]
    assert [n for n, _ in seq.named_children()] == [str(i) for i in range(len(order))]
    if "type" in META["sequential_edits"][name]:
        assert type(seq).__name__ == META["sequential_edits"][name]["type"]


@pytest.mark.parametrize("name", sorted(META["sequential_errors"]))
def test_sequential_index_errors_as_pytorchs(name):
    seq = tn.Sequential(*[tn.Identity() for _ in range(5)])
    op, _, arg = name.partition("_")
    error, message = META["sequential_errors"][name]
    with pytest.raises(getattr(builtins, error)) as info:
        {"getitem": lambda: seq[int(arg)], "delitem": lambda: seq.__delitem__(int(arg)),
         "insert": lambda: seq.insert(int(arg), tn.Identity())}[op]()
    assert type(info.value).__name__ == error and str(info.value) == message


class WithOptional(tn.Layer):
    """A layer with a buffer and an optional one, as the fixture's module."""

    def __init__(self):
        super().__init__()
        self.register_buffer("running", np.zeros(2))
        self.register_buffer("optional", None)


def test_optional_buffer_through_its_life_as_pytorchs():
    m = WithOptional()
    steps = {"registered_none": lambda: None, "set": lambda: setattr(m, "optional", np.ones(3)),
             "set_none": lambda: setattr(m, "optional", None), "after_double": m.double,
             "deleted": lambda: delattr(m, "optional")}
    assert list(META["buffers"]) == list(steps)  # the fixture's steps, in its order
    for step, action in steps.items():
        action()
        found = {"buffers": [n for n, _ in m.named_buffers()], "state_dict": list(m.state_dict()),
                 "attribute_is_none": getattr(m, "optional", "deleted") is None}
        assert found == META["buffers"][step], step
    m.optional = np.ones(3)  # after del, a plain attribute again, as in PyTorch
    assert [n for n, _ in m.named_buffers()] == ["running"]


def test_messages_as_pytorchs():
    net = tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(0)), tn.Tanh())
    expected = META["messages"]
    for target in ("2", "0.weight", "0.nothing"):
        with pytest.raises(AttributeError) as info:
            net.get_submodule(target)
        # PyTorch's words, with tinynet's class of layers in the place of nn.Module
        assert str(info.value) == expected[f"get_submodule {target}"].replace("an nn.Module", "a tinynet Layer")
    assert str(net.load_state_dict(net.state_dict())) == expected["all keys matched"]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch to remake the fixtures")
def test_fixtures_are_what_the_script_makes_now(tmp_path):
    # found, not imported: only the script's own process pays for importing torch
    subprocess.run([sys.executable, str(REFERENCE / "make_module_fixtures.py"), str(tmp_path)], check=True)
    meta = json.loads((tmp_path / "modules.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in meta.items() if k != "torch_version"} == \
        {k: v for k, v in META.items() if k != "torch_version"}
    with np.load(tmp_path / "modules.npz", allow_pickle=False) as f:
        fresh = dict(f.items())
    assert sorted(fresh) == sorted(ARRAYS)
    for name, value in fresh.items():
        np.testing.assert_allclose(value, ARRAYS[name], rtol=1e-12, atol=0, err_msg=name)
