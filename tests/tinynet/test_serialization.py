import json
import os
import re
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet.serialization import ARCHITECTURE_KEY, TEMP_PATTERN


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
        assert q.grad is None  # no backward has computed one, as in a new network
    x = np.random.default_rng(1).standard_normal((5, 3))
    assert np.array_equal(back.forward(x), net.forward(x))
    assert files_in(tmp_path) == ["net.npz"]  # no temporary file left behind


def test_file_is_a_plain_npz_without_pickles(tmp_path):
    path = saved(tmp_path)
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {ARCHITECTURE_KEY, "0.weight", "0.bias", "2.weight", "2.bias",
                                   "4.weight", "4.bias"}
        header = json.loads(data[ARCHITECTURE_KEY].tobytes())
    assert header["format"] == "tinynet-model" and header["version"] == 2
    assert header["model"]["type"] == "MLP" and header["model"]["activation"] == {"type": "tanh"}


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
                             "member '__architecture__.npy' holds object, not plain numbers"),
    "architecture not json": (
        lambda p: np.savez(p, **{ARCHITECTURE_KEY: np.frombuffer(b"{nope", np.uint8)}),
        "__architecture__ is not valid JSON"),
    "another json": (
        lambda p: np.savez(p, **{ARCHITECTURE_KEY: np.frombuffer(b'{"format": "x"}', np.uint8)}),
        "__architecture__ does not describe a tinynet model"),
    "missing architecture": (lambda p: rewrite(p, drop=[ARCHITECTURE_KEY]), "has no __architecture__ entry"),
    "future version": (lambda p: rewrite(p, header=lambda h: h.update(version=3)),
                       "unknown format version 3; this tinynet reads versions 1 and 2"),
    "wrong shape": (lambda p: rewrite(p, arrays={"2.weight": np.zeros((8, 7))}),
                    "array '2.weight' should be float64 of shape (8, 8), the file has float64 of "
                    "shape (8, 7)"),
    "wrong dtype": (lambda p: rewrite(p, arrays={"2.bias": np.zeros(8, np.float32)}),
                    "array '2.bias' should be float64 of shape (8,), the file has float32"),
    "integer array": (lambda p: rewrite(p, arrays={"2.bias": np.zeros(8, np.int64)}),
                      "array '2.bias' should be float64 of shape (8,), the file has int64"),
    "missing array": (lambda p: rewrite(p, drop=["4.bias"]), "layer '4' (Linear) brings the arrays the "
                                                             "description implies to 6, more than the 5 the file holds"),
    "extra array": (lambda p: rewrite(p, arrays={"9.weight": np.zeros(3)}), "unexpected members ['9.weight']"),
    "unknown layer": (lambda p: rewrite(p, header=set_layer_type),
                      "the network has the layer type 'Conv2d', which this program has not registered "
                      "(it knows BatchNorm1d, Dropout, LayerNorm, Linear, MLP,"),
    "unknown activation": (
        lambda p: rewrite(p, header=lambda h: h["model"]["activation"].update(type="swoosh")),
        "layer '1' has the layer type 'swoosh', which this program has not registered"),
    "bad sizes": (lambda p: rewrite(p, header=lambda h: h["model"].update(sizes=[3, -8, 8, 2])),
                  "the network (MLP): MLP: sizes[1] must be a positive integer, got -8"),
    "unknown key": (lambda p: rewrite(p, header=lambda h: h["model"].update(dropout=0.5)),
                    "the network (MLP): the entry 'dropout' is not an argument of its constructor "
                    "(sizes, activation, "),
    "unknown key of a Sequential": (
        lambda p: rewrite(p, header=lambda h: h.update(model={"type": "Sequential", "layers": [
            h["model"]], "dropout": 0.5})), "the network (Sequential): Sequential: the entry 'dropout' is not one"),
    "layers not a list": (lambda p: rewrite(p, header=lambda h: h.update(model={
        "type": "Sequential", "layers": {"0": h["model"]}})), "layers should be a list of layers' descriptions"),
    "wrong type of value": (lambda p: rewrite(p, header=lambda h: h["model"].update(bias=1)),
                            "layer '0' (Linear): Linear: bias must be True or False, got 1"),
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
        return 2 * x, None

    def _backward(self, ctx, dy):
        return 2 * dy


def mlp_with_replaced_layer():
    net = tn.MLP([3, 4, 4, 2], "tanh", rng=np.random.default_rng(0))
    net.layers[1] = tn.ReLU()
    return net


def shared_layer():
    layer = tn.Linear(3, 3, rng=np.random.default_rng(0))
    return tn.Sequential(layer, tn.Tanh(), layer)


UNSAVEABLE = {
    "one-line activation": (
        lambda: tn.Sequential(tn.Linear(3, 2), tn.Activation(np.sin, np.cos, name="sine")),
        "save: cannot save layer '1', Activation(name='sine'): its class Activation is not registered; "
        "a one-line Activation(fn, derivative) cannot be rebuilt"),
    "unknown layer class": (
        lambda: tn.Sequential(tn.Sequential(tn.Linear(3, 2), Doubler())),
        "save: cannot save layer '0.1', Doubler(): its class Doubler is not registered; register its "
        "class with @tinynet.register_layer"),
    "edited MLP": (mlp_with_replaced_layer,
                   "save: MLP(3 -> 4 -> 4 -> 2): its layers no longer match"),
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
    with pytest.raises(TypeError, match="its class Activation is not registered"):
        tn.save(tn.Activation(np.sin, np.cos), tmp_path / "new.npz")
    assert files_in(tmp_path) == ["model.npz"]


def test_failure_in_the_middle_of_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()
    real_write = np.lib.format.write_array
    written = []

    def write_then_fail(file, array, **kwargs):
        if len(written) == 2:  # part of the data has reached the disk
            raise OSError("No space left on device")
        written.append(array)
        real_write(file, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="No space left on device"):
        tn.save(networks()["nested"], path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


def test_interrupt_while_writing_keeps_the_old_file(tmp_path, monkeypatch):
    path = saved(tmp_path)
    before = path.read_bytes()

    def interrupted(file, array, **kwargs):
        file.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tn.save(networks()["mlp"], path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


def test_the_temporary_file_has_the_documented_name(tmp_path, monkeypatch):
    real_write = np.lib.format.write_array
    seen = []

    def write_and_look(file, array, **kwargs):
        seen.append(files_in(tmp_path))
        real_write(file, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_and_look)
    tn.save(networks()["mlp"], tmp_path / "m.npz")
    pattern = re.escape(TEMP_PATTERN).replace("XXXXXXXX", ".{8}")
    assert len(seen[0]) == 1 and re.fullmatch(pattern, seen[0][0])
    assert files_in(tmp_path) == ["m.npz"]


def test_a_name_as_long_as_the_file_system_allows(tmp_path):
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = tmp_path / ("m" * (longest - 4) + ".npz")
    net = networks()["mlp"]
    tn.save(net, path)
    assert repr(tn.load(path)) == repr(net)
    with pytest.raises(OSError):  # one character more is the file system's refusal, as for open()
        tn.save(net, tmp_path / ("m" * (longest - 3) + ".npz"))
    assert files_in(tmp_path) == [path.name]


def test_save_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "models").mkdir()
    target = saved(tmp_path / "models")
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    net = networks()["nested"]
    tn.save(net, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert repr(tn.load(target)) == repr(net)
    assert files_in(tmp_path / "models") == ["model.npz"] and files_in(tmp_path) == ["latest.npz",
                                                                                  "models"]


def test_save_into_a_missing_directory_writes_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        tn.save(networks()["mlp"], tmp_path / "no" / "such" / "model.npz")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("obj", [[np.zeros(3)], np.zeros(3), "net"])
def test_save_needs_a_layer_or_a_state_dict(tmp_path, obj):
    with pytest.raises(TypeError, match="save: expected a tinynet Layer or a state dict"):
        tn.save(obj, tmp_path / "m.npz")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("function", [tn.save, tn.load])
def test_path_must_be_a_path(tmp_path, function):
    args = (networks()["mlp"], 3) if function is tn.save else (3,)
    with pytest.raises(TypeError, match=r"(save|load): path must be a str or os.PathLike, got int"):
        function(*args)
    args = args[:-1] + (str(tmp_path / "a\0b"),)
    with pytest.raises(ValueError, match="path must not contain a NUL character"):
        function(*args)


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


# ---- save refuses what load would refuse ---------------------------------------------
REFUSED_BY_SAVE = {
    "longdouble network": (
        lambda: tn.MLP([3, 4, 2], "tanh", dtype=np.longdouble, rng=np.random.default_rng(0)),
        TypeError, f"save: layer '0' (Linear): its array 'weight' would be "
                   f"{np.dtype(np.longdouble).name}; a file holds float16, float32, float64, int64"),
    "float32 array in a float64 Linear": (
        lambda: tn.Sequential(with_data(tn.Linear(3, 2, rng=np.random.default_rng(0)), "weight",
                                        np.zeros((2, 3), dtype=np.float32))),
        TypeError, "save: parameter '0.weight' is float32 of shape (2, 3), but its layer "
                   "Linear(3 -> 2) holds float64 of shape (2, 3), and load would refuse the file"),
    "array of another shape": (
        lambda: with_data(tn.Linear(3, 2), "bias", np.zeros(5)),
        ValueError, "save: parameter 'bias' is float64 of shape (5,), but its layer Linear(3 -> 2) "
                    "holds float64 of shape (2,)"),
    "a parameter the description has not": (
        lambda: with_data(tn.Linear(3, 2), "scale", tn.Parameter(np.ones(2))),
        TypeError, "save: the array 'scale' is not part of its layer's description (its class's "
                   "state_spec); save the network's state_dict() instead"),
    "custom layer": (
        lambda: tn.Sequential(tn.Linear(3, 2), Doubler()),
        TypeError, "save: cannot save layer '1', Doubler(): its class Doubler is not registered; "
                   "register its class with @tinynet.register_layer, or save the network's "
                   "state_dict() instead"),
}


def with_data(layer, name, value):
    if isinstance(value, tn.Parameter):
        setattr(layer, name, value)
    else:
        getattr(layer, name).data = value
    return layer


@pytest.mark.parametrize("case", list(REFUSED_BY_SAVE))
def test_save_refuses_before_writing_what_load_would_refuse(tmp_path, case):
    make, error, message = REFUSED_BY_SAVE[case]
    with pytest.raises(error) as info:
        tn.save(make(), tmp_path / "m.npz")
    assert str(info.value).startswith(message)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_every_dtype_save_writes_loads(tmp_path, dtype):
    net = tn.MLP([3, 4, 2], "gelu", dtype=dtype, rng=np.random.default_rng(0))
    tn.save(net, tmp_path / "m.npz")
    back = tn.load(tmp_path / "m.npz")
    assert all(p.dtype == dtype for p in back.parameters()) and repr(back) == repr(net)


# ---- state dicts ----------------------------------------------------------------------
def state_of(net):
    return {name: p.data for name, p in net.named_parameters()}


def test_a_state_dict_round_trips_in_order(tmp_path):
    net = tn.Sequential(tn.Linear(3, 4, rng=np.random.default_rng(0)), Doubler(),
                        tn.Linear(4, 2, dtype=np.float32, rng=np.random.default_rng(1)))
    state = {**state_of(net), "steps": np.array(7, dtype=np.int64)}
    tn.save(state, tmp_path / "weights.npz")
    back = tn.load(tmp_path / "weights.npz")
    assert type(back) is dict and list(back) == list(state)
    for name, a in state.items():
        assert back[name].dtype == a.dtype and back[name].shape == a.shape
        assert back[name].tobytes() == a.tobytes()


BAD_STATE_DICTS = {
    "not an array": ({"w": [1.0, 2.0]}, TypeError, "state dict entry 'w' should be a numpy array, got list"),
    "int32": ({"w": np.zeros(2, np.int32)}, TypeError,
              "state dict entry 'w' is int32; a tinynet file holds float16, float32, float64, int64"),
    "longdouble": ({"w": np.zeros(2, np.longdouble)}, TypeError, "state dict entry 'w' is float128"),
    "object": ({"w": np.array([{}])}, TypeError, "state dict entry 'w' is object"),
    "key not a string": ({0: np.zeros(2)}, TypeError, "save: state dict keys should be strings, got 0"),
    "reserved key": ({ARCHITECTURE_KEY: np.zeros(2)}, ValueError, "is not a name such as '0.weight'"),
    "key with a slash": ({"a/b": np.zeros(2)}, ValueError, "state dict key 'a/b' is not a name"),
    "empty key": ({"": np.zeros(2)}, ValueError, "state dict key '' is not a name"),
}


@pytest.mark.parametrize("case", list(BAD_STATE_DICTS))
def test_save_refuses_a_state_dict_load_could_not_read(tmp_path, case):
    state, error, message = BAD_STATE_DICTS[case]
    with pytest.raises(error, match=re.escape(message)):
        tn.save(state, tmp_path / "w.npz")
    assert files_in(tmp_path) == []


def test_a_key_numpy_savez_would_take_as_an_option_is_an_array(tmp_path):
    tn.save({"allow_pickle": np.ones(2), "file": np.zeros(1)}, tmp_path / "w.npz")
    back = tn.load(tmp_path / "w.npz")
    assert set(back) == {"allow_pickle", "file"} and back["allow_pickle"].tolist() == [1.0, 1.0]
