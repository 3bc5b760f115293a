"""save and load: a network as one ``.npz`` file of arrays plus its architecture as JSON.

The file holds each parameter under its ``named_parameters`` name
(``"0.weight"``) and an entry ``__architecture__``: UTF-8 JSON bytes (a 1-D
uint8 array) describing the layers, so loading rebuilds the network without
ever unpickling anything. Only layers tinynet knows how to rebuild can be
saved: ``Linear``, ``Sequential``, ``MLP`` and registered activations.
Hooks, gradients and ``requires_grad`` flags are not saved.
"""

import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .activations import Activation, activation, available_activations
from .containers import MLP, Sequential
from .layer import Layer
from .linear import Linear

FORMAT = "tinynet-model"
FORMAT_VERSION = 1
ARCHITECTURE_KEY = "__architecture__"
_DTYPES = ("float16", "float32", "float64")
# what reading a damaged or foreign file can raise, from numpy, zipfile, zlib and json
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, TypeError, UnicodeDecodeError,
                zipfile.BadZipFile, zlib.error, NotImplementedError, RecursionError)


class ModelFileError(ValueError):
    """A file that ``load`` cannot read as a tinynet model; ``path`` and ``problem`` say why."""

    def __init__(self, path, problem):
        super().__init__(f"cannot load a tinynet model from {path!r}: {problem}")
        self.path = path
        self.problem = problem


def save(net, path):
    """Write ``net`` (architecture and parameter arrays) to ``path``, atomically.

    ``path`` is used as given (no ``.npz`` is appended). The file is written
    to a temporary file in the same directory and then moved into place, so
    an existing file at ``path`` is either replaced whole or left untouched.
    A network holding a layer that cannot be described (a custom
    ``Activation(fn, derivative)``, an unknown ``Layer`` subclass) raises a
    TypeError naming that layer before anything is written.
    """
    if not isinstance(net, Layer):
        raise TypeError(f"save: expected a tinynet Layer, got {type(net).__name__}")
    _check_not_shared(net)
    spec = _describe(net, "")
    from . import __version__

    header = {"format": FORMAT, "version": FORMAT_VERSION, "tinynet_version": __version__,
              "model": spec}
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"save: the architecture of {net.label()} is not JSON-able ({e}); "
                        "get_config() values must be plain numbers, strings, bools or lists") from None
    arrays = {name: p.data for name, p in net.named_parameters()}
    arrays[ARCHITECTURE_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def load(path):
    """Rebuild the network saved at ``path``: same class, repr, dtype and arrays, bit for bit.

    Reads with ``allow_pickle=False``. A file that is not a tinynet model
    (truncated, corrupted, foreign, a newer format version, arrays missing
    or of the wrong shape or dtype, an unknown layer type) raises
    :class:`ModelFileError` naming the path and the problem; nothing
    partially loaded is returned. A missing file raises FileNotFoundError.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            arrays, header = _read(f)
        except ModelFileError as e:
            raise ModelFileError(path, e.problem) from None
        except _READ_ERRORS as e:
            problem = f"a truncated, damaged or foreign archive ({type(e).__name__}: {e})"
            raise ModelFileError(path, problem) from None
    try:
        net = _build_checked(header["model"])
    except ModelFileError as e:
        raise ModelFileError(path, e.problem) from None
    except (ValueError, TypeError, KeyError, RecursionError) as e:
        raise ModelFileError(path, f"invalid architecture ({type(e).__name__}: {e})") from None

    params = dict(net.named_parameters())
    missing = sorted(set(params) - set(arrays))
    extra = sorted(set(arrays) - set(params))
    if missing or extra:
        parts = ([f"missing parameter arrays {missing}"] if missing else []) + \
                ([f"unexpected arrays {extra}"] if extra else [])
        raise ModelFileError(path, " and ".join(parts) + " for the architecture it describes")
    for name, p in params.items():
        a = arrays[name]
        if a.shape != p.shape or a.dtype != p.dtype:
            raise ModelFileError(path, f"parameter {name!r} should be {p.dtype} of shape {p.shape}, "
                                       f"the file has {a.dtype} of shape {a.shape}")
    for name, p in params.items():
        p.data = np.ascontiguousarray(arrays[name])
        p.grad = np.zeros_like(p.data)
    return net


def _read(f):
    """``(arrays, header)`` from an open file; raises ModelFileError (path filled in by the caller)."""
    head = f.read(8)
    f.seek(0)
    if not head:
        raise ModelFileError("", "the file is empty")
    # numpy's own message for other content suggests unpickling it, the wrong advice here
    if not head.startswith((b"PK", b"\x93NUMPY")):
        raise ModelFileError("", f"not an .npz archive (it starts with {head!r})")
    data = np.load(f, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ModelFileError("", "it holds a single .npy array, not an .npz archive written by save")
    with data:
        if ARCHITECTURE_KEY not in data.files:
            raise ModelFileError("", f"it has no {ARCHITECTURE_KEY} entry, so it was not written "
                                     "by tinynet.save")
        # read everything now: a corrupted member should fail here, before anything is built
        arrays = {k: data[k] for k in data.files}
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise ModelFileError("", f"entry {name!r} is not a numpy array")
    raw = arrays.pop(ARCHITECTURE_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ModelFileError("", f"{ARCHITECTURE_KEY} should be 1-D uint8 JSON bytes, got "
                                 f"{raw.dtype} of shape {raw.shape}")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ModelFileError("", f"{ARCHITECTURE_KEY} is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError("", f"{ARCHITECTURE_KEY} does not describe a tinynet model")
    version = header.get("version")
    if version != FORMAT_VERSION:
        raise ModelFileError("", f"unknown format version {version!r}; this tinynet reads "
                                 f"version {FORMAT_VERSION}")
    if "model" not in header:
        raise ModelFileError("", f"{ARCHITECTURE_KEY} has no model description")
    for name, a in arrays.items():
        if a.dtype.kind != "f":
            raise ModelFileError("", f"parameter {name!r} has dtype {a.dtype}, not a floating type")
    return arrays, header


# ---- describing a network -------------------------------------------------
def _describe(layer, where):
    """The JSON-able spec of ``layer``; ``where`` is its ``named_modules`` name, for errors."""
    kind = type(layer)
    if kind is Linear:
        return {"type": "Linear", "in_features": layer.in_features,
                "out_features": layer.out_features, "bias": layer.bias is not None,
                "dtype": layer.dtype.name}
    if kind is Sequential:
        return {"type": "Sequential",
                "layers": [_describe(c, _join(where, n)) for n, c in layer.named_children()]}
    if kind is MLP:
        return _describe_mlp(layer, where)
    if isinstance(layer, Activation):
        return _describe_activation(layer, where)
    raise TypeError(f"save: cannot save {_name(where)}, {layer!r}: tinynet can rebuild only "
                    "Linear, Sequential, MLP and registered activations")


def _describe_activation(layer, where):
    name, config = layer.name, layer.get_config()
    try:
        rebuilt = activation(name, **config)
    except (TypeError, ValueError):
        rebuilt = None
    if rebuilt is None or type(rebuilt) is not type(layer) or rebuilt.get_config() != config:
        registered = ", ".join(available_activations())
        raise TypeError(
            f"save: cannot save {_name(where)}, {layer!r}: it is not a registered activation "
            f"(registered: {registered}); an Activation(fn, derivative) made on the spot cannot be "
            "rebuilt, so subclass Activation with a class attribute `name` instead"
        )
    return {"type": "activation", "name": name, "config": config}


def _describe_mlp(mlp, where):
    first = mlp.layers[0]
    act = next((layer for layer in mlp.layers if isinstance(layer, Activation)), None)
    spec = {"type": "MLP", "sizes": list(mlp.sizes),
            "activation": None if act is None else _describe_activation(act, _join(where, "1")),
            "bias": first.bias is not None, "final_activation": mlp.final_activation,
            "dtype": first.dtype.name}
    actual = [_describe(c, _join(where, n)) for n, c in mlp.named_children()]
    if actual != _mlp_children(spec):
        raise TypeError(f"save: cannot save {_name(where)}, {mlp.label()}: its layers no longer "
                        "match its sizes and activation; save Sequential(*mlp) instead")
    return spec


def _mlp_children(spec):
    """The specs of the layers ``MLP`` builds from ``spec``."""
    sizes, n = spec["sizes"], len(spec["sizes"]) - 1
    children = []
    for i in range(n):
        children.append({"type": "Linear", "in_features": sizes[i], "out_features": sizes[i + 1],
                         "bias": spec["bias"], "dtype": spec["dtype"]})
        if i < n - 1 or spec["final_activation"]:
            children.append(spec["activation"])
    return children


def _check_not_shared(net):
    seen = {}
    for name, m in net.named_modules():
        if id(m) in seen:
            raise TypeError(f"save: {_name(name)} is the same layer object as "
                            f"{_name(seen[id(m)])}; shared layers cannot be saved")
        seen[id(m)] = name


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _name(where):
    return f"layer {where!r}" if where else "the network"


# ---- rebuilding a network -------------------------------------------------
def _build_checked(spec):
    rng = np.random.default_rng(0)  # weights are overwritten; a seed keeps loading deterministic
    net = _build(spec, rng)
    where = _first_difference(spec, _describe(net, ""), "model")
    if where is not None:
        raise ModelFileError("", f"the architecture entry {where} is not understood by this tinynet")
    return net


def _first_difference(saved, rebuilt, where):
    """The path of the first entry where two specs differ, or None when they agree."""
    if isinstance(saved, dict) and isinstance(rebuilt, dict):
        for key in list(saved) + [k for k in rebuilt if k not in saved]:
            if key not in saved or key not in rebuilt:
                return f"{where}.{key}"
            found = _first_difference(saved[key], rebuilt[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(saved, list) and isinstance(rebuilt, list) and len(saved) == len(rebuilt):
        for i, (a, b) in enumerate(zip(saved, rebuilt)):
            found = _first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if saved == rebuilt else where


def _build(spec, rng):
    if not isinstance(spec, dict):
        raise ModelFileError("", f"a layer description should be a JSON object, got {spec!r:.80}")
    kind = spec.get("type")
    if kind == "Linear":
        _check_bool(spec, "bias")
        return Linear(spec["in_features"], spec["out_features"], bias=spec["bias"], rng=rng,
                      dtype=_check_dtype(spec))
    if kind == "Sequential":
        layers = spec["layers"]
        if not isinstance(layers, list):
            raise ModelFileError("", "a Sequential's layers should be a list")
        return Sequential(*[_build(child, rng) for child in layers])
    if kind == "MLP":
        _check_bool(spec, "bias")
        _check_bool(spec, "final_activation")
        act = spec["activation"]
        # an MLP of one Linear and no final activation holds no activation to record
        act = activation("identity") if act is None else _build_activation(act)
        return MLP(spec["sizes"], act, bias=spec["bias"], final_activation=spec["final_activation"],
                   rng=rng, dtype=_check_dtype(spec))
    if kind == "activation":
        return _build_activation(spec)
    raise ModelFileError("", f"unknown layer type {kind!r}; this tinynet knows Linear, Sequential, "
                             "MLP and activation")


def _build_activation(spec):
    if not isinstance(spec, dict) or spec.get("type") != "activation":
        raise ModelFileError("", f"expected an activation description, got {spec!r:.80}")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise ModelFileError("", f"activation {spec.get('name')!r} has no config object")
    return activation(spec["name"], **config)


def _check_bool(spec, key):
    if not isinstance(spec[key], bool):
        raise ModelFileError("", f"{spec['type']} entry {key!r} should be true or false, "
                                 f"got {spec[key]!r}")


def _check_dtype(spec):
    dtype = spec["dtype"]
    if dtype not in _DTYPES:
        raise ModelFileError("", f"{spec['type']} dtype should be one of {', '.join(_DTYPES)}, "
                                 f"got {dtype!r}")
    return np.dtype(dtype)


# ---- file system ----------------------------------------------------------
def _file_mode(path):
    """The permissions the new file gets: the old file's, else the usual ones for a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)  # the only way to read the umask is to set it
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory):
    """Make the rename durable where the platform allows opening a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
