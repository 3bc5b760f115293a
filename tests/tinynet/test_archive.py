"""Damaged and deceiving model files: each is refused from its headers, quickly, in little memory."""

import io
import json
import re
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet.serialization import ARCHITECTURE_KEY


def saved(tmp_path, net=None):
    path = tmp_path / "model.npz"
    tn.save(tn.MLP([3, 8, 8, 2], "tanh", final_activation=False, rng=np.random.default_rng(0))
            if net is None else net, path)
    return path


def rewrite(path, header):
    """Write a model file by hand from a good one, with its header changed by ``header(h)``."""
    with np.load(path) as data:
        entries = {k: data[k] for k in data.files}
    head = json.loads(entries[ARCHITECTURE_KEY].tobytes())
    header(head)
    entries[ARCHITECTURE_KEY] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
    np.savez(path, **entries)


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def npy_header(shape, dtype="<f8"):
    """A .npy header declaring ``shape`` with no data after it."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def header_bytes(model):
    head = {"format": "tinynet-model", "version": 2, "tinynet_version": "0.1.0", "model": model}
    return npy(np.frombuffer(json.dumps(head).encode(), np.uint8))


def write_zip(path, members, method=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, which is the point
        with zipfile.ZipFile(path, "w", method) as z:
            for name, data in members:
                z.writestr(name, data)


def members_of(path):
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def flip_flag(path, bit, signature=b"PK\x01\x02", flag_offset=8):
    """Set a flag bit of the first member's zip entry (central directory by default)."""
    raw = bytearray(path.read_bytes())
    at = raw.index(signature) + flag_offset
    raw[at] |= bit
    path.write_bytes(bytes(raw))


def wide_mlp(p):
    """A few KB that declare an MLP 40,000,000 wide, each array header matching it."""
    model = {"type": "MLP", "sizes": [3, 40_000_000, 2], "activation": {"type": "tanh"}, "bias": True,
             "final_activation": False, "dtype": "float64"}
    shapes = {"0.weight": (40_000_000, 3), "0.bias": (40_000_000,), "2.weight": (2, 40_000_000),
              "2.bias": (2,)}
    write_zip(p, [(ARCHITECTURE_KEY + ".npy", header_bytes(model))] +
              [(n + ".npy", npy_header(s)) for n, s in shapes.items()])


def deflate_bomb(p):
    """Deflated members, one of which inflates from about 20 KB to 20 MB."""
    members = dict(members_of(p))
    members["0.weight.npy"] = npy_header((2_500_000, 1)) + bytes(20_000_000)
    write_zip(p, members.items(), zipfile.ZIP_DEFLATED)


def huge_declared_shape(p):
    members = dict(members_of(p))
    members["0.bias.npy"] = npy_header((10**10,)) + bytes(64)
    write_zip(p, members.items())


def duplicate_member(p):
    members = members_of(p)
    write_zip(p, members + [("0.bias.npy", npy(np.ones(8)))])


def declare_in_json(key, value):
    return lambda p: rewrite(p, lambda h: h.update({key: value}))


def json_member(text):
    return lambda p: write_zip(p, [(ARCHITECTURE_KEY + ".npy",
                                    npy(np.frombuffer(text.encode(), np.uint8)))])


DECEIVING_FILES = {
    "encrypted flag": (lambda p: flip_flag(p, 0x01), "is encrypted (zip flags 0x0001)"),
    "strong encryption flag": (lambda p: flip_flag(p, 0x40), "is encrypted (zip flags 0x0040)"),
    "patched-data flag": (lambda p: flip_flag(p, 0x20), "of an unsupported kind (zip flags 0x0020)"),
    "compressed members": (lambda p: write_zip(p, members_of(p), zipfile.ZIP_DEFLATED),
                           "is compressed (zip method 8)"),
    "deflate bomb": (deflate_bomb, "is compressed (zip method 8)"),
    "duplicate member": (duplicate_member, "member '0.bias.npy' appears twice"),
    "MLP 40,000,000 wide": (wide_mlp, "member '0.weight.npy' declares float64 of shape (40000000, 3) "
                                      "(960000000 bytes) but holds 0 bytes of data"),
    "shape of 1e10 entries": (huge_declared_shape, "member '0.bias.npy' declares float64 of shape "
                                                   "(10000000000,) (80000000000 bytes) but holds 64"),
    "width grown in the header": (
        lambda p: rewrite(p, lambda h: h["model"].update(sizes=[3, 40_000_000, 8, 2])),
        "array '0.weight' should be float64 of shape (40000000, 3), the file has float64 of "
        "shape (8, 3)"),
    "longdouble dtype declared": (lambda p: rewrite(p, lambda h: h["model"].update(
        dtype="float128")), "layer '0' (Linear): its array 'weight' would be float128; a file holds "
                            "float16, float32"),
    "duplicate json key": (json_member('{"format": "tinynet-model", "format": "x"}'),
                           "a key appears twice in one object"),
    "nan in json": (json_member('{"format": "tinynet-model", "version": NaN}'),
                    "NaN is not a number a tinynet file holds"),
    "deeply nested json": (json_member("[" * 100_000 + "]" * 100_000), "is not valid JSON"),
    "deeply nested layers": (json_member('{"format": "tinynet-model", "version": 1, "model": ' +
                                         '{"type": "Sequential", "layers": [' * 5000),
                             "is not valid JSON (maximum recursion depth exceeded"),
    "model and state dict": (declare_in_json("state_dict", {}),
                             "should describe either a model or a state dict"),
    "unknown header entry": (declare_in_json("compression", "lz4"),
                             "the header entry 'compression' is not understood"),
    "bool as a width": (lambda p: rewrite(p, lambda h: h["model"].update(sizes=[3, True, 8, 2])),
                        "MLP: sizes[1] must be a positive integer, got True"),
    "bad activation config": (lambda p: rewrite(p, lambda h: h["model"]["activation"].update(
        negative_slope=0.1)), "layer '1' (tanh): the entry 'negative_slope' is not an argument of its "
                              "constructor"),
    "activation left out": (lambda p: rewrite(p, lambda h: h["model"].update(activation=None)),
                            "MLP: activation None describes an MLP of one Linear and no activation"),
    "unregistered layer type": (lambda p: rewrite(p, lambda h: h.update(model={
        "type": "os.system", "command": "echo hello"})), "has the layer type 'os.system', which this "
                                                         "program has not registered"),
    "array in Fortran order with a lying header": (
        lambda p: write_zip(p, [(n, d[:-8] if n == "0.bias.npy" else d) for n, d in members_of(p)]),
        "member '0.bias.npy' declares float64 of shape (8,) (64 bytes) but holds 56"),
}


@pytest.mark.parametrize("case", list(DECEIVING_FILES))
def test_deceiving_files_are_refused_quickly_in_little_memory(tmp_path, case):
    make, problem = DECEIVING_FILES[case]
    path = saved(tmp_path)
    make(path)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(tn.ModelFileError) as info:
            tn.load(path)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problem in info.value.problem
    assert peak < 4_000_000 and seconds < 2.0  # the 40,000,000-wide MLP once took 1.9 GB, 28 s


def test_a_flipped_bit_anywhere_is_refused_or_harmless(tmp_path):
    path = saved(tmp_path, net=tn.MLP([2, 3, 1], "relu", rng=np.random.default_rng(0)))
    good = path.read_bytes()
    reference = tn.load(path)
    positions = np.random.default_rng(0).choice(len(good), size=min(len(good), 150), replace=False)
    refused = 0
    for i in sorted(positions):
        damaged = bytearray(good)
        damaged[i] ^= 1 << int(i % 8)
        path.write_bytes(bytes(damaged))
        try:
            net = tn.load(path)
        except tn.ModelFileError:
            refused += 1
            continue
        # a bit of a timestamp or an unused field: what loads is the network saved
        assert repr(net) == repr(reference)
        for (_, p), (_, q) in zip(net.named_parameters(), reference.named_parameters()):
            assert p.data.tobytes() == q.data.tobytes() and p.dtype == q.dtype
    assert refused > len(positions) // 2  # the data and its headers are most of the file


def test_every_truncation_is_refused(tmp_path):
    path = saved(tmp_path, net=tn.MLP([2, 3, 1], "relu", rng=np.random.default_rng(0)))
    good = path.read_bytes()
    for n in range(0, len(good), 17):
        path.write_bytes(good[:n])
        with pytest.raises(tn.ModelFileError):
            tn.load(path)


def test_a_state_dict_file_is_checked_like_a_model_file(tmp_path):
    path = tmp_path / "weights.npz"
    tn.save({"w": np.ones((2, 3)), "b": np.zeros(2)}, path)
    members = dict(members_of(path))
    members["w.npy"] = npy(np.ones((3, 2)))
    write_zip(path, members.items())
    with pytest.raises(tn.ModelFileError, match=re.escape(
            "array 'w' should be float64 of shape (2, 3), the file has float64 of shape (3, 2)")):
        tn.load(path)
    write_zip(path, list(members.items())[:2])
    with pytest.raises(tn.ModelFileError, match=re.escape("missing arrays ['b']")):
        tn.load(path)


# ---- a header that declares more than the file holds ----------------------------------
@tn.register_layer(name="TallyScale")
class TallyScale(tn.Layer):
    """``y = x * weight``, one weight; its class counts the times load asked for its arrays or built one."""

    asked = built = 0

    def __init__(self):
        super().__init__()
        self.weight = tn.Parameter(np.ones(1))

    def _forward(self, x):
        return x * self.weight.data, x

    def _backward(self, x, dy):
        self.weight.accumulate((dy * x).sum(keepdims=True).ravel())
        return dy * self.weight.data

    @classmethod
    def state_spec(cls, config):
        TallyScale.asked += 1
        return {"weight": ((1,), np.float64)}

    @classmethod
    def from_config(cls, config):
        TallyScale.built += 1
        return cls()


def declaring(path, header, arrays=()):
    """A file of ``arrays`` (name -> array) under a header with ``header`` as its model or state dict."""
    head = {"format": "tinynet-model", "version": 2, "tinynet_version": tn.__version__, **header}
    write_zip(path, [(ARCHITECTURE_KEY + ".npy", npy(np.frombuffer(json.dumps(head).encode(), np.uint8)))] +
              [(name + ".npy", npy(a)) for name, a in arrays])


def refusal(path):
    """The ModelFileError load raises for ``path``, and the peak of what it allocated on the way."""
    tracemalloc.start()
    try:
        with pytest.raises(tn.ModelFileError) as info:
            tn.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(str(info.value)) < 1000
    return info.value, peak


def test_layers_past_the_arrays_the_file_holds_are_neither_asked_for_nor_built(tmp_path):
    path = tmp_path / "m.npz"
    declaring(path, {"model": {"type": "Sequential", "layers": [{"type": "TallyScale"}] * 100_000}},
              [(f"{i}.weight", np.ones(1)) for i in range(3)])
    TallyScale.asked = TallyScale.built = 0
    error, _ = refusal(path)
    assert error.problem == ("layer '3' (TallyScale) brings the arrays the description implies to 4, "
                             "more than the 3 the file holds")
    assert (TallyScale.asked, TallyScale.built) == (4, 0)  # not 100,000 and 0


def test_an_mlp_declaring_far_more_sizes_than_arrays_costs_what_its_file_weighs(tmp_path):
    # 3 MB that once took 15 s and 720 MB: 10**6 Linear layers worked out, then refused
    path = tmp_path / "m.npz"
    declaring(path, {"model": {"type": "MLP", "sizes": [1] * 50_000, "activation": {"type": "ReLU"},
                               "bias": True, "final_activation": False, "dtype": "float64"}},
              [("0.weight", np.ones((1, 1)))])
    error, peak = refusal(path)
    assert error.problem == ("layer '0' (Linear) brings the arrays the description implies to 2, "
                             "more than the 1 the file holds")
    assert peak < 12 * path.stat().st_size  # 32 MB for this file's 150 KB, before


def test_a_state_dict_of_more_declared_arrays_than_held_is_refused_at_the_count(tmp_path):
    path = tmp_path / "m.npz"
    declared = {f"a{i}": {"dtype": "float64", "shape": [1]} for i in range(10_000)}
    declaring(path, {"state_dict": declared}, [("a0", np.ones(1))])
    error, peak = refusal(path)
    assert error.problem == ("missing arrays ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10']: "
                             "its header declares 10000, the file holds 1")
    assert peak < 16 * path.stat().st_size  # the header's JSON parsed once, and no list of every name



@pytest.mark.parametrize("layer, entry", [
    (lambda: tn.Residual(tn.Linear(2, 2, rng=np.random.default_rng(0))), "alpha"),
    (lambda: tn.LayerNorm(2), "eps"),
    (lambda: tn.BatchNorm1d(2), "momentum"),
    (lambda: tn.Dropout(0.5), "p"),
    (lambda: tn.LeakyReLU(0.1), "negative_slope"),
])
def test_a_401_digit_integer_in_a_float_entry_is_a_model_file_error(tmp_path, layer, entry):
    # it once raised OverflowError from float() inside the constructor
    path = saved(tmp_path, net=tn.Sequential(tn.Linear(2, 2, rng=np.random.default_rng(0)), layer()))
    rewrite(path, lambda h: h["model"]["layers"][1].update({entry: int("9" * 401)}))
    with pytest.raises(tn.ModelFileError, match=f"{entry} must be finite, got an integer of 1333 bits"):
        tn.load(path)
