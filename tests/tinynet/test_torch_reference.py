"""tinynet against PyTorch's numbers, stored in tests/reference/ by make_fixtures.py (and make_scheduler_fixtures.py).

CI has no torch, so the comparisons read fixtures; where torch is
installed, the last test regenerates them and checks they have not changed.
"""

import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinynet as tn

REFERENCE = pathlib.Path(__file__).resolve().parents[1] / "reference"
TOPICS = ["activations", "linear", "losses", "optim", "lr_scheduler", "clip", "init"]
SCHEDULER_TOPICS = ["lr_scheduler_sequences", "plateau", "optim_params"]  # make_scheduler_fixtures.py


def reference(topic, where=REFERENCE):
    """``(cases, arrays)`` of one topic's fixture."""
    cases = json.loads((where / f"{topic}.json").read_text())["cases"]
    npz = where / f"{topic}.npz"
    arrays = dict(np.load(npz, allow_pickle=False)) if npz.exists() else {}
    return cases, arrays


ACTIVATIONS, ACTIVATION_ARRAYS = reference("activations")


def test_every_activation_and_option_has_a_reference():
    assert sorted({c["activation"] for c in ACTIVATIONS}) == sorted(tn.available_activations())
    options = {(c["activation"], k, str(v)) for c in ACTIVATIONS for k, v in c["kwargs"].items()}
    assert {("softplus", "beta", "2.0"), ("softplus", "threshold", "10.0"),
            ("gelu", "approximate", "tanh")} <= options


@pytest.mark.parametrize("case", ACTIVATIONS, ids=[c["name"] for c in ACTIVATIONS])
def test_activation_forward_and_backward(case):
    name = case["name"]
    ref = {k.split("/", 1)[1]: v for k, v in ACTIVATION_ARRAYS.items() if k.startswith(name + "/")}
    act = tn.activation(case["activation"], **case["kwargs"])
    y = act.forward(ref["x"])
    dx = act.backward(ref["dy"])
    np.testing.assert_allclose(y, ref["y"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, ref["dx"], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_linear_tanh_linear_forward_backward_and_parameter_grads(dtype):
    _, arrays = reference("linear")
    ref = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(dtype + "/")}
    net = tn.Sequential(tn.Linear(5, 7, dtype=dtype), tn.Tanh(), tn.Linear(7, 3, dtype=dtype))
    params = dict(net.named_parameters())
    # the same names as PyTorch's ("0.weight", ..., "2.bias"), weights in the same layout
    assert sorted(params) == sorted(k.removeprefix("param/") for k in ref if k.startswith("param/"))
    for name, p in params.items():
        p.data[...] = ref["param/" + name]
    y = net.forward(ref["x"])
    dx = net.backward(ref["dy"])
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y, ref["y"], **tol)
    np.testing.assert_allclose(dx, ref["dx"], **tol)
    for name, p in params.items():
        np.testing.assert_allclose(p.grad, ref["grad/" + name], err_msg=name, **tol)


def close(a, b, path="fixture"):
    """Assert two loaded JSON values agree, numbers to 1e-12 relative (1e-15 absolute near zero).

    The JSON numbers are float64 results of order one, or rounding noise
    around zero (an orthogonal matrix's largest off-diagonal Gram entry),
    which only an absolute tolerance can compare.
    """
    if isinstance(a, float) or isinstance(b, float):
        assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            close(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def fixture_tolerance(stored):
    """``assert_allclose`` tolerances for a regenerated copy of the array ``stored``, by its dtype.

    Eight units in the last place (rtol about 1e-6 for float32, 8e-3 for
    float16), never tighter than float64's 1e-12, relative to each value and,
    for values near zero, to the array's largest: torch may round its float
    sums differently in the last bits from one machine or build to another
    (another BLAS order), and a rounding error is on the scale of the terms
    summed, not of a result that cancels. A wrong fixture is off by far more.
    """
    if not np.issubdtype(stored.dtype, np.floating):
        return dict(rtol=0, atol=0)
    rtol = max(8 * float(np.finfo(stored.dtype).eps), 1e-12)
    scale = float(np.max(np.abs(stored), initial=0.0, where=np.isfinite(stored)))
    return dict(rtol=rtol, atol=rtol * scale)


def test_fixtures_are_what_torch_computes(tmp_path):
    pytest.importorskip("torch")
    for script in ("make_fixtures.py", "make_scheduler_fixtures.py"):
        subprocess.run([sys.executable, str(REFERENCE / script), str(tmp_path)], check=True)
    for topic in TOPICS + SCHEDULER_TOPICS:
        stored_cases, stored = reference(topic)
        fresh_cases, fresh = reference(topic, tmp_path)
        close(stored_cases, fresh_cases, topic)
        assert stored.keys() == fresh.keys(), topic
        for key in stored:
            assert stored[key].dtype == fresh[key].dtype, key
            np.testing.assert_allclose(stored[key], fresh[key], err_msg=key, **fixture_tolerance(stored[key]))
