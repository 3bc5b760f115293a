import json
import os
import re
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet.serialization import ARCHITECTURE_KEY


def networks():
    rng = np.random.default_rng(0)
    return {
        "mlp": tn.MLP([3, 8, 8, 2], "tanh", final_activation=False, rng=rng),
        "mlp_float32_leaky": tn.MLP([3, 5, 2], tn.LeakyReLU(0.2), bias=False, dtype=np.float32,
                                    rng=rng),
        "mlp_one_layer": tn.MLP([3, 2], "relu", final_activation=False, rng=rng),
        "nested": tn.Sequential(
            tn.Sequential(tn.Linear(3, 4, rng=rng, bias_init=tn.init.Normal(std=1.0)), tn.ELU(0.5)),
            tn.MLP([4, 4, 3], tn.ScaledSigmoid(2.0, -1.0), rng=rng),
            tn.Linear(3, 2, bias=False, rng=rng, dtype=np.float64),
        ),
    }


def saved(tmp_path, name="model.npz", net=None):
    path = tmp_path / name
    tn.save(networks()["mlp"] if net is None else net, path)
    return path


def files_in(directory):
    return sorted(os.listdir(directory))


@pytest.mark.parametrize("name", list(networks()))
def test_round_trip_is_exact(tmp_path, name):
    net = networks()[name]
    path = tmp_path / "net.npz"
    tn.save(net, path)
    back = tn.load(path)
    assert type(back) is type(net) and repr(back) == repr(net)
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in net.named_parameters()]
    for (_, p), (_, q) in zip(net.named_parameters(), back.named_parameters()):
        assert q.data.dtype == p.data.dtype
        assert q.data.tobytes() == p.data.tobytes()
        assert q.grad.shape == p.shape and not q.grad.any()
    x = np.random.default_rng(1).standard_normal((5, 3))
    assert np.array_equal(back.forward(x), net.forward(x))
    assert files_in(tmp_path) == ["net.npz"]  # no temporary file left behind


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    path = saved(tmp_path)
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {ARCHITECTURE_KEY, "0.weight", "0.bias", "2.weight", "2.bias",
                                   "4.weight", "4.bias"}
        header = json.loads(data[ARCHITECTURE_KEY].tobytes())
    assert header["format"] == "tinynet-model" and header["version"] == 1
    assert header["model"]["type"] == "MLP" and header["model"]["activation"]["name"] == "tanh"


def test_save_replaces_an_existing_file_and_keeps_its_permissions(tmp_path):
    path = saved(tmp_path)
    os.chmod(path, 0o640)
    net = networks()["nested"]
    tn.save(net, path)
    assert repr(tn.load(path)) == repr(net)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert files_in(tmp_path) == ["model.npz"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    path = saved(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600


def rewrite(path, arrays=None, header=None, drop=()):
    """Write a model file by hand from a good one, with some entries changed."""
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files}
    head = json.loads(entries[ARCHITECTURE_KEY].tobytes())
    if header:
        header(head)
    entries[ARCHITECTURE_KEY] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
    entries.update(arrays or {})
    for k in drop:
        del entries[k]
    np.savez(path, **entries)


def corrupt_middle(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3: len(raw) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(raw))


def set_layer_type(head):
    head["model"]["type"] = "Conv2d"


BAD_FILES = {
    "text file": (lambda p: p.write_text("weights: 1 2 3\n"),
                  "not an .npz archive (it starts with b'weights:')"),
    "empty file": (lambda p: p.write_bytes(b""), "the file is empty"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
                  "a truncated, damaged or foreign archive"),
    "corrupted": (corrupt_middle, "a truncated, damaged or foreign archive"),
    "foreign npz": (lambda p: np.savez(p, a=np.arange(3.0)), "has no __architecture__ entry"),
    "zip of something else": (
        lambda p: zipfile.ZipFile(p, "w").writestr("readme.txt", "hello"),
        "has no __architecture__ entry"),
    "single npy": (lambda p: np.save(open(p, "wb"), np.arange(3.0)), "single .npy array"),
    "pickled object array": (lambda p: np.savez(p, **{ARCHITECTURE_KEY: np.array([{}], dtype=object)}),
                             "Object arrays cannot be loaded when allow_pickle=False"),
    "architecture not json": (
        lambda p: np.savez(p, **{ARCHITECTURE_KEY: np.frombuffer(b"{nope", np.uint8)}),
        "__architecture__ is not valid JSON"),
    "another json": (
        lambda p: np.savez(p, **{ARCHITECTURE_KEY: np.frombuffer(b'{"format": "x"}', np.uint8)}),
        "__architecture__ does not describe a tinynet model"),
    "missing architecture": (lambda p: rewrite(p, drop=[ARCHITECTURE_KEY]), "has no __architecture__ entry"),
    "future version": (lambda p: rewrite(p, header=lambda h: h.update(version=2)),
                       "unknown format version 2; this tinynet reads version 1"),
    "wrong shape": (lambda p: rewrite(p, arrays={"2.weight": np.zeros((8, 7))}),
                    "parameter '2.weight' should be float64 of shape (8, 8), the file has float64 of "
                    "shape (8, 7)"),
    "wrong dtype": (lambda p: rewrite(p, arrays={"2.bias": np.zeros(8, np.float32)}),
                    "parameter '2.bias' should be float64 of shape (8,), the file has float32"),
    "integer array": (lambda p: rewrite(p, arrays={"2.bias": np.zeros(8, np.int64)}),
                      "parameter '2.bias' has dtype int64, not a floating type"),
    "missing array": (lambda p: rewrite(p, drop=["4.bias"]), "missing parameter arrays ['4.bias']"),
    "extra array": (lambda p: rewrite(p, arrays={"9.weight": np.zeros(3)}), "unexpected arrays ['9.weight']"),
    "unknown layer": (lambda p: rewrite(p, header=set_layer_type),
                      "unknown layer type 'Conv2d'; this tinynet knows Linear, Sequential, MLP"),
    "unknown activation": (
        lambda p: rewrite(p, header=lambda h: h["model"]["activation"].update(name="swoosh")),
        "unknown activation 'swoosh'"),
    "bad sizes": (lambda p: rewrite(p, header=lambda h: h["model"].update(sizes=[3, -8, 8, 2])),
                  "MLP: sizes[1] must be a positive integer, got -8"),
    "unknown key": (lambda p: rewrite(p, header=lambda h: h["model"].update(dropout=0.5)),
                    "the architecture entry model.dropout is not understood by this tinynet"),
    "wrong type of value": (lambda p: rewrite(p, header=lambda h: h["model"].update(bias=1)),
                            "MLP entry 'bias' should be true or false, got 1"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_rejected_clearly_and_left_alone(tmp_path, case):
    make, problem = BAD_FILES[case]
    path = saved(tmp_path)
    make(path)
    before = path.read_bytes()
    with pytest.raises(tn.ModelFileError) as info:
        tn.load(path)
    message = str(info.value)
    assert message.startswith(f"cannot load a tinynet model from {str(path)!r}: ")
    assert problem in message
    assert info.value.path == str(path) and isinstance(info.value, ValueError)
    assert path.read_bytes() == before


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tn.load(tmp_path / "nothing.npz")


class Doubler(tn.Layer):
    def _forward(self, x):
        return 2 * x

    def _backward(self, dy):
        return 2 * dy


def mlp_with_replaced_layer():
    net = tn.MLP([3, 4, 2], "tanh", rng=np.random.default_rng(0))
    net.layers[1] = tn.ReLU()
    return net


def shared_layer():
    layer = tn.Linear(3, 3, rng=np.random.default_rng(0))
    return tn.Sequential(layer, tn.Tanh(), layer)


UNSAVEABLE = {
    "one-line activation": (
        lambda: tn.Sequential(tn.Linear(3, 2), tn.Activation(np.sin, np.cos, name="sine")),
        "save: cannot save layer '1', Activation(name='sine'): it is not a registered activation"),
    "unknown layer class": (
        lambda: tn.Sequential(tn.Sequential(tn.Linear(3, 2), Doubler())),
        "save: cannot save layer '0.1', Doubler(): tinynet can rebuild only Linear, Sequential, MLP"),
    "edited MLP": (mlp_with_replaced_layer,
                   "save: cannot save the network, MLP(3 -> 4 -> 2): its layers no longer match"),
    "shared layer": (shared_layer,
                     "save: layer '2' is the same layer object as layer '0'; shared layers cannot be saved"),
}


@pytest.mark.parametrize("case", list(UNSAVEABLE))
def test_unsaveable_network_fails_before_writing(tmp_path, case):
    make, message = UNSAVEABLE[case]
    path = saved(tmp_path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=re.escape(message)):
        tn.save(make(), path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]
    with pytest.raises(TypeError, match="is not a registered activation"):
        tn.save(tn.Activation(np.sin, np.cos), tmp_path / "new.npz")
    assert files_in(tmp_path) == ["model.npz"]


def test_failure_in_the_middle_of_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(file, **arrays):
        real_savez(file, **dict(list(arrays.items())[:2]))  # part of the data reaches the disk
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", savez_then_fail)
    with pytest.raises(OSError, match="No space left on device"):
        tn.save(networks()["nested"], path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


def test_interrupt_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()

    def interrupted(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tn.save(networks()["mlp"], path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


def test_save_into_a_missing_directory_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        tn.save(networks()["mlp"], tmp_path / "no" / "such" / "model.npz")
    assert files_in(tmp_path) == []


def test_save_needs_a_layer(tmp_path):
    with pytest.raises(TypeError, match="save: expected a tinynet Layer, got dict"):
        tn.save({"weight": np.zeros(3)}, tmp_path / "m.npz")


def test_loaded_network_trains_like_the_original(tmp_path):
    net = networks()["mlp"]
    tn.save(net, tmp_path / "m.npz")
    back = tn.load(tmp_path / "m.npz")
    x = np.random.default_rng(2).standard_normal((6, 3))
    for model in (net, back):
        model.zero_grad()
        model.backward(model.forward(x))
    for (_, p), (_, q) in zip(net.named_parameters(), back.named_parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)
