"""Residual, LayerNorm, BatchNorm1d and Dropout against PyTorch's numbers.

The numbers are fixtures (tests/reference/layers.json and layers.npz), made
by tests/reference/make_layer_fixtures.py with PyTorch; this test needs no
torch. Each case builds the same layer in tinynet, sets PyTorch's initial
parameters and runs the same steps: outputs, input gradients, parameter
gradients and buffers (running statistics) must agree after every step.
"""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinynet as tn

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
META = json.loads((REFERENCE / "layers.json").read_text(encoding="utf-8"))
with np.load(REFERENCE / "layers.npz", allow_pickle=False) as _f:
    ARRAYS = dict(_f.items())
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}


def build(spec):
    """The tinynet layer for a fixture's layer spec (the script builds PyTorch's from it)."""
    kind, args = spec["type"], spec.get("args", {})
    if kind == "Sequential":
        return tn.Sequential(*[build(s) for s in spec["layers"]])
    if kind == "Residual":
        return tn.Residual(build(spec["block"]), **args)
    if kind == "Linear":  # the weights are PyTorch's, set below
        return tn.Linear(**args, rng=np.random.default_rng(0))
    return getattr(tn, kind)(**args)


def arrays_under(prefix):
    return {k[len(prefix):]: v for k, v in ARRAYS.items() if k.startswith(prefix)}


@pytest.mark.parametrize("case", sorted(META["cases"]))
def test_layer_matches_pytorch_step_by_step(case):
    info = META["cases"][case]
    tol = TOLERANCE[info["dtype"]]
    net = build(info["layer"]).to(info["dtype"])
    init = arrays_under(f"{case}/init/")
    params = dict(net.named_parameters())
    assert sorted(params) == sorted(init)  # PyTorch's parameter names
    for name, value in init.items():
        params[name].data[...] = value
    for i, mode in enumerate(info["modes"]):
        step = f"{case}/{i}/"
        net.train(mode == "train")
        net.zero_grad()
        y = net.forward(ARRAYS[step + "x"])
        dx = net.backward(ARRAYS[step + "dy"])
        np.testing.assert_allclose(y, ARRAYS[step + "y"], **tol, err_msg=f"step {i}: y")
        np.testing.assert_allclose(dx, ARRAYS[step + "dx"], **tol, err_msg=f"step {i}: dx")
        for name, g in arrays_under(step + "grad/").items():
            np.testing.assert_allclose(params[name].grad, g, **tol, err_msg=f"step {i}: {name}")
        buffers = arrays_under(step + "buffer/")
        state = net.state_dict()
        assert sorted(state) == sorted(set(params) | set(buffers))  # and its buffers' names
        for name, b in buffers.items():
            assert state[name].dtype == b.dtype, name
            np.testing.assert_allclose(state[name], b, **tol, err_msg=f"step {i}: {name}")


@pytest.mark.parametrize("p", META["dropout_p"])
def test_dropout_output_and_gradient_agree_with_pytorchs_where_both_masks_agree(p):
    x, dy, y_torch, dx_torch = (ARRAYS[f"dropout_{p}/{k}"] for k in ("x", "dy", "y", "dx"))
    d = tn.Dropout(p, rng=np.random.default_rng(0))
    y = d.forward(x)
    dx = d.backward(dy)
    kept, kept_torch = y != 0, y_torch != 0  # x has no zeros
    np.testing.assert_array_equal(dx != 0, kept)  # backward uses forward's mask
    # PyTorch's output and gradient are x and dy scaled by its mask; so are tinynet's
    both = kept & kept_torch
    np.testing.assert_array_equal(y[both], y_torch[both])
    np.testing.assert_array_equal(dx[both], dx_torch[both])
    n = x.size
    for keep in (kept, kept_torch):  # both keep about (1 - p) of the entries
        assert abs(np.count_nonzero(keep) - n * (1 - p)) <= 5 * np.sqrt(n * p * (1 - p)) + 1e-9
    if p < 1:
        assert both.any()


def test_batch_of_one_in_training_raises_pytorchs_message():
    with pytest.raises(ValueError) as info:
        tn.BatchNorm1d(3).forward(np.zeros((1, 3)))
    assert META["batch_of_one_message"] in str(info.value)


def test_fixtures_are_what_the_script_makes_now(tmp_path):
    pytest.importorskip("torch")
    subprocess.run([sys.executable, str(REFERENCE / "make_layer_fixtures.py"), str(tmp_path)],
                   check=True)
    meta = json.loads((tmp_path / "layers.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in meta.items() if k != "torch_version"} == \
        {k: v for k, v in META.items() if k != "torch_version"}
    with np.load(tmp_path / "layers.npz", allow_pickle=False) as f:
        fresh = dict(f.items())
    assert sorted(fresh) == sorted(ARRAYS)
    for name, value in fresh.items():
        assert value.dtype == ARRAYS[name].dtype, name
        tol = TOLERANCE["float32" if value.dtype == np.float32 else "float64"]
        np.testing.assert_allclose(value, ARRAYS[name], **tol, err_msg=name)
