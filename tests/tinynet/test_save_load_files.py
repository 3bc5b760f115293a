"""save and load on what a path can name: special files, links, locked and stale temporary files."""

import fcntl
import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

import tinynet as tn
from tinynet.serialization import FORMAT_VERSION


def net():
    return tn.MLP([3, 4, 2], "tanh", rng=np.random.default_rng(0))


def load_in_a_thread(path, seconds=10):
    # a load that blocks (a FIFO with no writer) would hang the suite: run it where it can be waited for
    outcome = {}

    def run():
        try:
            outcome["value"] = tn.load(path)
        except BaseException as e:  # the test inspects whatever it was
            outcome["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"load({path!r}) blocked"
    return outcome


def test_load_refuses_a_fifo_at_once(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    error = load_in_a_thread(fifo).get("error")
    assert isinstance(error, tn.ModelFileError) and "FIFO, not a regular file" in str(error)


@pytest.mark.parametrize("special", [os.devnull, "."])
def test_load_refuses_devices_and_directories(special, tmp_path):
    path = tmp_path if special == "." else special
    error = load_in_a_thread(path).get("error")
    assert isinstance(error, tn.ModelFileError) and "not a regular file" in str(error)


def test_a_member_without_npy_is_a_model_file_error(tmp_path):
    path = tmp_path / "m.npz"
    tn.save(net(), path)
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members:
            z.writestr(name[:-4] if name == "0.weight.npy" else name, data)
    with pytest.raises(tn.ModelFileError, match="member '0.weight' is not an .npy array"):
        tn.load(path)


def test_an_error_message_stays_short_whatever_the_file_declares(tmp_path):
    path = tmp_path / "m.npz"
    tn.save({"a0": np.ones(1)}, path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    header = {"format": "tinynet-model", "version": FORMAT_VERSION, "tinynet_version": tn.__version__,
              "state_dict": {f"a{i}": {"dtype": "float64", "shape": [1]} for i in range(20000)}}
    text = json.dumps(header).encode()
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.frombuffer(text, np.uint8), allow_pickle=False)
    members["__architecture__.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(tn.ModelFileError, match="missing arrays") as caught:
        tn.load(path)
    assert len(str(caught.value)) < 1200


def test_save_refuses_a_fifo_behind_a_symlink_and_leaves_it_alone(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "m.npz"
    link.symlink_to(fifo)
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        tn.save(net(), link)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["m.npz", "pipe"]


def test_save_refuses_a_device_behind_a_symlink(tmp_path):
    link = tmp_path / "m.npz"
    link.symlink_to(os.devnull)
    with pytest.raises(ValueError, match="is a character device"):
        tn.save(net(), link)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may open any file for writing")
def test_save_refuses_a_read_only_file_as_open_would(tmp_path):
    path = tmp_path / "m.npz"
    tn.save(net(), path)
    before = path.read_bytes()
    path.chmod(0o444)
    with pytest.raises(PermissionError):
        open(path, "wb")
    with pytest.raises(PermissionError):
        tn.save(net(), path)
    assert path.read_bytes() == before


def stale_temporary(directory, age=120):
    path = directory / ".tinynet-save-abcd1234.tmp"
    path.write_bytes(b"PK half a file")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_a_killed_saves_temporary_file_is_reclaimed_by_the_next_save(tmp_path):
    stale_temporary(tmp_path)
    tn.save(net(), tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_a_temporary_file_of_a_save_still_writing_is_left_alone(tmp_path):
    busy = stale_temporary(tmp_path)
    with open(busy, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # as the save writing it holds it
        tn.save(net(), tmp_path / "m.npz")
        assert busy.exists()
    young = stale_temporary(tmp_path, age=0)  # just made: its save may not have locked it yet
    tn.save(net(), tmp_path / "m.npz")
    assert young.exists()


def test_a_save_killed_mid_write_leaves_a_file_the_next_save_reclaims(tmp_path):
    # the child locks its temporary file as save does and dies without cleaning up
    code = ("import os, sys, fcntl, tempfile; fd, p = tempfile.mkstemp(dir=sys.argv[1], "
            "prefix='.tinynet-save-', suffix='.tmp'); fcntl.flock(fd, fcntl.LOCK_EX); "
            "os.write(fd, b'PK'); os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=60)
    [left] = os.listdir(tmp_path)
    then = time.time() - 120
    os.utime(tmp_path / left, (then, then))
    tn.save(net(), tmp_path / "m.npz")
    assert os.listdir(tmp_path) == ["m.npz"]


VERSION_1 = os.path.join(os.path.dirname(__file__), os.pardir, "reference", "version1")


@pytest.mark.parametrize("name, expected", [
    ("mlp.npz", "(3): Tanh()"),
    ("remedies.npz", "Residual("),
    ("state_dict.npz", None),
])
def test_files_written_in_format_version_1_still_load(name, expected):
    # written by the tinynet before layer kinds were described on their classes
    path = os.path.join(VERSION_1, name)
    loaded = tn.load(path)
    with np.load(path, allow_pickle=False) as stored:
        arrays = {k: stored[k] for k in stored.files if k != "__architecture__"}
    state = loaded if expected is None else loaded.state_dict()
    assert sorted(state) == sorted(arrays)
    for key, array in arrays.items():
        np.testing.assert_array_equal(state[key], array)
    if expected is not None:
        assert expected in repr(loaded)
    if name == "remedies.npz":
        assert loaded[0].alpha == 0.5 and loaded[4].learnable_alpha


def test_save_writes_what_the_network_is_now(tmp_path):
    res = tn.Residual(tn.Linear(3, 3, rng=np.random.default_rng(0)))
    res.alpha = 0.25  # set after construction: forward reads it, so save must write it
    net = tn.Sequential(res, tn.Dropout(0.2), tn.MLP([3, 3, 3], "relu", rng=np.random.default_rng(1)))
    net.eval()
    net[2][1].train()  # one layer's own mode
    tn.save(net, tmp_path / "m.npz")
    loaded = tn.load(tmp_path / "m.npz")
    assert loaded[0].alpha == 0.25
    assert {k: m.training for k, m in loaded.named_modules()} == {k: m.training for k, m in net.named_modules()}
    x = np.random.default_rng(2).standard_normal((4, 3))
    np.testing.assert_array_equal(loaded(x), net(x))  # Dropout in eval: the identity, as saved


def test_a_fixed_alpha_load_would_refuse_is_refused_by_save(tmp_path):
    res = tn.Residual(tn.Linear(3, 3))
    res.alpha = float("nan")
    with pytest.raises(TypeError, match="alpha must be finite, got nan; load would refuse the file"):
        tn.save(res, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []
