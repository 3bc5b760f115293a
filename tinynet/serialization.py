"""save and load: a network, or a state dict, as one ``.npz`` file of arrays plus a JSON header.

The file is a zip of uncompressed ``.npy`` members, as ``numpy.savez``
writes: one per array, under its name (``"0.weight"``), and
``__architecture__``, the header: UTF-8 JSON bytes (a 1-D uint8 array).
For a network the header describes its layers (see ``tinynet.architecture``)
and ``load`` rebuilds it; for a state dict it lists each array's name, dtype
and shape and ``load`` returns the dict. Nothing is ever unpickled.

``load`` checks everything the header and the zip directory declare (member
names, flags, sizes, each array's dtype and shape) against each other and
against the file's real size before it reads an array or builds a layer, so a
damaged file costs a few reads, not the memory it claims. ``save`` checks the
network the same way before it writes, so that what it writes, ``load`` reads.
"""

import errno
import itertools
import json
import os
import re
import stat
import tempfile
import time
import zipfile

try:
    import fcntl
except ImportError:  # not on Windows: stale temporary files are then left for the user
    fcntl = None

import numpy as np

from . import architecture
from .archive import READ_ERRORS, FileProblem, open_archive, read_array, read_header
from .activations import Activation
from .layer import Layer

FORMAT = "tinynet-model"
FORMAT_VERSION = 2  # 2: a layer's description is {"type": its registered name, **get_config()}
ARCHITECTURE_KEY = "__architecture__"
#: save writes to a file named like this in the target's directory, then renames it.
TEMP_PATTERN = ".tinynet-save-XXXXXXXX.tmp"
_TEMP_PREFIX, _TEMP_SUFFIX = ".tinynet-save-", ".tmp"
#: What a state dict may hold: floating arrays, and int64 for counters (as PyTorch's
#: ``num_batches_tracked``).
STATE_DTYPES = architecture.STATE_DTYPES
_STATE_NAME = re.compile(r"(?!__)[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}")
_STATE_DTYPE_NAMES = frozenset(d.name for d in STATE_DTYPES)
_HEADER_KEYS = {"format", "version", "tinynet_version", "model", "state_dict", "eval_modules"}
_MAX_PROBLEM = 800


class ModelFileError(ValueError):
    """A file that ``load`` cannot read as a tinynet file; ``path`` and ``problem`` say why."""

    def __init__(self, path, problem):
        if len(problem) > _MAX_PROBLEM:  # a file may declare a million names: say so in a line, not in MBs
            problem = f"{problem[:_MAX_PROBLEM]}... ({len(problem) - _MAX_PROBLEM} more characters)"
        super().__init__(f"cannot load a tinynet model from {path!r}: {problem}")
        self.path = path
        self.problem = problem


def save(obj, path):
    """Write ``obj`` to ``path`` atomically: a network (architecture and arrays) or a state dict.

    ``obj`` is a tinynet ``Layer`` whose every layer's class is registered
    (the built-ins are, and a user's class with ``@tinynet.register_layer``),
    saved with its buffers (such as running statistics), or a dict ``name ->
    array`` such as ``net.state_dict()`` (floating or int64 arrays), which is
    how an unregistered network's weights are stored. Anything ``load`` would refuse is refused
    here, before anything is written: a TypeError or ValueError naming the
    layer or entry. ``path`` is used as given (no ``.npz`` is appended); a
    symlink is followed and its target replaced. The data goes to a temporary
    file named like ``TEMP_PATTERN`` in the target's directory, which then
    replaces the target in one step, so an old file is either replaced whole
    or left untouched.
    """
    path = _check_path("save", path)
    if isinstance(obj, Layer):
        header, arrays = _model_contents(obj)
    elif isinstance(obj, dict):
        header, arrays = _state_dict_contents(obj)
    else:
        raise TypeError(f"save: expected a tinynet Layer or a state dict (name -> array), "
                        f"got {type(obj).__name__}")
    from . import __version__

    header = {"format": FORMAT, "version": FORMAT_VERSION, "tinynet_version": __version__, **header}
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"save: the architecture is not JSON-able ({e}); get_config() values "
                        "must be plain numbers, strings, bools or lists") from None
    arrays = {ARCHITECTURE_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    _write_atomically(path, arrays)


def load(path):
    """What ``save`` wrote at ``path``: the network, rebuilt bit for bit, or the state dict.

    A file that is not one (empty, truncated, corrupted, foreign, a newer
    format version, a zip with encrypted, compressed or duplicate members,
    arrays missing, unexpected, or of the wrong shape or dtype, sizes larger
    than the file, a layer type this program has not registered, an entry
    its constructor refuses) raises :class:`ModelFileError`
    naming the path and the problem, before any array is read in full;
    nothing partly loaded is returned. A missing file raises FileNotFoundError.
    """
    path = _check_path("load", path)
    with _open_regular(path) as f:
        try:
            return _load(f)
        except FileProblem as e:
            raise ModelFileError(path, str(e)) from None
        except READ_ERRORS as e:
            problem = f"a truncated, damaged or foreign archive ({type(e).__name__}: {e})"
            raise ModelFileError(path, problem) from None


# ---- what goes into a file ------------------------------------------------------
def _model_contents(net):
    _check_not_shared(net)
    found = architecture.unregistered(net)
    if found:
        where, layer = found
        hint = ("a one-line Activation(fn, derivative) cannot be rebuilt: subclass Activation with a "
                "class attribute `name`" if isinstance(layer, Activation) else
                "register its class with @tinynet.register_layer")
        raise TypeError(f"save: cannot save {architecture._name(where)}, {layer!r:.80}: its class "
                        f"{type(layer).__qualname__} is not registered; {hint}, or save the "
                        "network's state_dict() instead, and build the network in code before "
                        "loading it")
    try:
        spec = architecture.describe(net)
        expected = architecture.arrays(spec)
    except (TypeError, ValueError) as e:  # a description load would refuse: a network save cannot write
        raise TypeError(f"save: {e}; load would refuse the file, so nothing was written") from None
    arrays = {name: p.data for name, p in net.named_parameters()}
    arrays.update(net.named_buffers())  # running statistics are saved with the weights
    for name in arrays:
        if name not in expected:
            raise TypeError(f"save: the array {name!r} is not part of its layer's description "
                            "(its class's state_spec); save the network's state_dict() instead")
    modules = dict(net.named_modules())
    for name, (shape, dtype) in expected.items():
        a = arrays[name]
        if a.dtype != dtype or a.shape != shape:
            layer = modules[name.rpartition(".")[0]].label()
            error = TypeError if a.dtype != dtype else ValueError
            raise error(f"save: parameter {name!r} is {a.dtype} of shape {a.shape}, but its layer "
                        f"{layer} holds {dtype} of shape {shape}, and load would refuse the file; "
                        "cast it, e.g. net.to(np.float64), or set its data to the right shape")
    # each layer's own mode, as named_modules names it: a network saved in eval mode loads in eval mode
    in_eval = [name for name, m in net.named_modules() if not m.training]
    return {"model": spec, **({"eval_modules": in_eval} if in_eval else {})}, arrays


def _state_dict_contents(state):
    declared, arrays = {}, {}
    for name, a in state.items():
        _check_state_name("save", name)
        if not isinstance(a, np.ndarray):
            raise TypeError(f"save: state dict entry {name!r} should be a numpy array, "
                            f"got {type(a).__name__}")
        if a.dtype.newbyteorder("=") not in STATE_DTYPES:
            raise TypeError(f"save: state dict entry {name!r} is {a.dtype}; a tinynet file holds "
                            f"{', '.join(d.name for d in STATE_DTYPES)}")
        arrays[name] = a
        declared[name] = {"dtype": a.dtype.name, "shape": list(a.shape)}
    return {"state_dict": declared}, arrays


def _check_state_name(owner, name):
    if not isinstance(name, str):
        raise TypeError(f"{owner}: state dict keys should be strings, got {name!r:.40}")
    if not _STATE_NAME.fullmatch(name):
        raise ValueError(f"{owner}: state dict key {name!r:.60} is not a name such as '0.weight' "
                         "(letters, digits, '_', '.' and '-', at most 200, not starting with "
                         "'.', '-' or '__')")


def _check_not_shared(net):
    seen = {}
    for name, m in net.named_modules(remove_duplicate=False):
        if id(m) in seen:
            raise TypeError(f"save: {architecture._name(name)} is the same layer object as "
                            f"{architecture._name(seen[id(m)])}; shared layers cannot be saved")
        seen[id(m)] = name


# ---- reading a file ---------------------------------------------------------------
def _load(f):
    archive = open_archive(f)
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        info = members.pop(ARCHITECTURE_KEY + ".npy", None)
        if info is None:
            raise FileProblem(f"it has no {ARCHITECTURE_KEY} entry, so it was not written by "
                              "tinynet.save")
        strays = [name for name in members if not name.endswith(".npy")]
        if strays:
            raise FileProblem(f"member {strays[0]!r:.80} is not an .npy array")
        header = _read_json(archive, info)
        present = {name[:-4] for name in members}
        expected = _expected_arrays(header, present)
        missing = [n for n in expected if n not in present]
        extra = sorted(present - set(expected))
        if missing or extra:
            parts = ([f"missing arrays {missing}"] if missing else []) + \
                    ([f"unexpected members {extra}"] if extra else [])
            raise FileProblem(" and ".join(parts) + " for what its header describes")
        checked = {}
        for name, (shape, dtype) in expected.items():
            member = read_header(archive, members[name + ".npy"])
            if member.dtype.newbyteorder("=") != dtype or member.shape != shape:
                raise FileProblem(f"array {name!r} should be {dtype} of shape {shape}, the file "
                                  f"has {member.dtype} of shape {member.shape}")
            checked[name] = member
        # every size is now known to fit in the file: read the arrays
        arrays = {name: read_array(archive, member) for name, member in checked.items()}
    if "state_dict" in header:
        return arrays
    try:
        net = architecture.build(header["model"])  # drawn arrays, overwritten below
    except architecture.DescriptionError as e:
        raise FileProblem(str(e)) from None
    params = dict(net.named_parameters())
    names = list(params) + [name for name, _ in net.named_buffers()]
    if sorted(names) != sorted(arrays):
        raise RuntimeError("tinynet.architecture: an entry's arrays differ from its layer's "
                           f"{names} != {list(arrays)}")
    for name, p in params.items():
        p.data = arrays[name]
    net.load_state_dict({name: a for name, a in arrays.items() if name not in params}, strict=False)
    in_eval = set(header.get("eval_modules", []))
    for name, module in net.named_modules():
        module.training = name not in in_eval
    return net


def _read_json(archive, info):
    member = read_header(archive, info)
    if member.dtype != np.uint8 or len(member.shape) != 1:
        raise FileProblem(f"{ARCHITECTURE_KEY} should be 1-D uint8 JSON bytes, got "
                          f"{member.dtype} of shape {member.shape}")
    raw = read_array(archive, member).tobytes()
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys,
                            parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise FileProblem(f"{ARCHITECTURE_KEY} is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FileProblem(f"{ARCHITECTURE_KEY} does not describe a tinynet model")
    version = header.get("version")
    if version not in (1, FORMAT_VERSION) or isinstance(version, bool):
        raise FileProblem(f"unknown format version {version!r:.40}; this tinynet reads "
                          f"versions 1 and {FORMAT_VERSION}")
    if version == 1 and isinstance(header.get("model"), dict):
        header["model"] = _from_version_1(header["model"])
    unknown = sorted(set(header) - _HEADER_KEYS)
    if unknown:
        raise FileProblem(f"the header entry {unknown[0]!r:.40} is not understood by this tinynet")
    if ("model" in header) == ("state_dict" in header):
        raise FileProblem(f"{ARCHITECTURE_KEY} should describe either a model or a state dict")
    in_eval = header.get("eval_modules", [])
    if "state_dict" in header and "eval_modules" in header or not isinstance(in_eval, list) \
            or not all(isinstance(name, str) for name in in_eval):
        raise FileProblem(f"eval_modules should list a model's module names, got {in_eval!r:.80}")
    return header


def _from_version_1(description):
    """A version-1 layer description in version 2's words.

    Version 1 described an activation as ``{"type": "activation", "name": n,
    "config": c}`` and gave ``Residual`` a ``dtype`` field that version 2
    reads from its block; everything else is the same. Anything unexpected
    is passed on as it is, for the checks of version 2 to refuse.
    """
    if isinstance(description, list):
        return [_from_version_1(d) for d in description]
    if not isinstance(description, dict):
        return description
    if description.get("type") == "activation" and set(description) == {"type", "name", "config"} \
            and isinstance(description["name"], str) and isinstance(description["config"], dict):
        return {"type": description["name"], **description["config"]}
    upgraded = {k: _from_version_1(v) for k, v in description.items()}
    if upgraded.get("type") == "Residual":
        upgraded.pop("dtype", None)
    return upgraded


def _unique_keys(pairs):
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError(f"a key appears twice in one object: {sorted(k for k, _ in pairs)!r:.80}")
    return found


def _no_constant(name):
    raise ValueError(f"{name} is not a number a tinynet file holds")


def _expected_arrays(header, present):
    """``name -> (shape, dtype)`` of the arrays the header declares, checked, in order.

    ``present``, the names of the arrays the file holds, bounds the work: a
    header that declares more is refused before the rest are worked out.
    """
    if "model" in header:
        try:
            return architecture.arrays(header["model"], most=len(present))
        except architecture.DescriptionError as e:
            raise FileProblem(str(e)) from None
    declared = header["state_dict"]
    if not isinstance(declared, dict):
        raise FileProblem(f"the state dict's declaration should be an object, got {declared!r:.40}")
    if len(declared) > len(present):
        missing = list(itertools.islice((name for name in declared if name not in present), 10))
        raise FileProblem(f"missing arrays {missing}: its header declares {len(declared)}, "
                          f"the file holds {len(present)}")
    expected = {}
    for name, entry in declared.items():
        try:
            _check_state_name("state dict", name)
        except ValueError as e:
            raise FileProblem(str(e)) from None
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape"}:
            raise FileProblem(f"state dict entry {name!r} should declare dtype and shape")
        dtype, shape = entry["dtype"], entry["shape"]
        if dtype not in _STATE_DTYPE_NAMES:
            raise FileProblem(f"state dict entry {name!r} declares the dtype {dtype!r:.40}")
        if not isinstance(shape, list) or not all(
                type(d) is int and d >= 0 for d in shape):  # bool is no size
            raise FileProblem(f"state dict entry {name!r} declares the shape {shape!r:.40}")
        expected[name] = (tuple(shape), np.dtype(dtype))
    return expected


# ---- file system ------------------------------------------------------------------
def _check_path(owner, path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{owner}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fsdecode(os.fspath(path))
    if "\0" in path:
        raise ValueError(f"{owner}: path must not contain a NUL character, got {path!r}")
    return path


def _open_regular(path):
    """``path`` opened for binary reading if it is a regular file: never a FIFO or device, never blocking."""
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        kind = _kind(os.fstat(fd).st_mode)
        if kind != "regular file":
            raise ModelFileError(path, f"it is a {kind}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _kind(mode):
    for test, name in ((stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _check_target(path, target):
    """Refuse what ``open(path, "wb")`` would refuse, and any existing target that is not a regular file."""
    try:
        kind = _kind(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    if kind == "directory":
        raise IsADirectoryError(errno.EISDIR, "save: is a directory", path)
    if kind != "regular file":
        raise ValueError(f"save: {path!r} is a {kind}, not a regular file; save writes only regular files")
    # ask the system exactly what open(path, "wb") would, without truncating anything
    os.close(os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)))


def _reclaim_stale_temporaries(directory):
    """Remove temporary files that killed saves left in ``directory``.

    A save holds an exclusive lock on its temporary file while it writes; the
    system releases it when the process ends, however it ends. A temporary
    file whose lock can be taken belongs to no running save.
    """
    if fcntl is None:
        return
    try:
        names = [n for n in os.listdir(directory) if n.startswith(_TEMP_PREFIX) and n.endswith(_TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        stale = os.path.join(directory, name)
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            # a minute's grace covers the instant between a save's mkstemp and its lock
            if stat.S_ISREG(info.st_mode) and time.time() - info.st_mtime > 60:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(stale)
        except OSError:  # locked by a save still writing, or gone already
            pass
        finally:
            os.close(fd)


def _write_atomically(path, arrays):
    """Write ``arrays`` as an .npz to the file ``path`` names (following links), in one step."""
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    _check_target(path, target)
    _reclaim_stale_temporaries(directory)
    mode = _file_mode(target)
    # a short name of its own, so a target name up to the file system's limit still fits
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    lock = None
    try:
        if fcntl is not None:
            # held through the rename, by a second descriptor, until this save ends or its process dies
            fcntl.flock(fd, fcntl.LOCK_EX)
            lock = os.dup(fd)
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    finally:
        if lock is not None:
            os.close(lock)
    _fsync_directory(directory)


def _write_npz(f, arrays):
    """What ``numpy.savez`` writes (uncompressed members ``name.npy``), with no pickles."""
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, a in arrays.items():
            a = np.asarray(a, dtype=a.dtype.newbyteorder("="), order="C")
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)


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
