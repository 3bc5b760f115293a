"""Reading an ``.npz`` archive with every size checked before it is read.

``numpy.load`` trusts what a file says: a zip member that claims 10 GB, or a
``.npy`` header that declares a shape of 1e10 entries, is allocated before
anything notices that the file is 2 KB. Here the zip directory and each
member's ``.npy`` header are read first (a few hundred bytes each) and checked
against the file's real size; the caller compares the declared shapes and
dtypes with what it expects, and only then are arrays read, each with one
read of exactly its declared size. Only what ``numpy.savez`` writes is
accepted: uncompressed members, unencrypted, each name once.
"""

import math
import os
import struct
import zipfile

import numpy as np

# the zip flag bits numpy.savez may set: 0x8 (sizes after the data), 0x800 (UTF-8 names)
_ALLOWED_FLAGS = 0x8 | 0x800
#: What reading a damaged archive can raise from zipfile, zlib, struct and numpy's header parser.
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, TypeError,
               NotImplementedError, UnicodeDecodeError, struct.error, RecursionError)


class FileProblem(Exception):
    """What is wrong with a file, worded for ``ModelFileError`` (which adds the path)."""


class Member:
    """One member of the archive: its zip entry and its checked ``.npy`` header."""

    def __init__(self, info, shape, dtype, fortran_order, data_offset):
        self.info = info
        self.shape = shape
        self.dtype = dtype
        self.fortran_order = fortran_order
        self.data_offset = data_offset  # bytes of .npy header before the data


def open_archive(f):
    """A ``ZipFile`` over the open file ``f``, its directory checked against the file's size."""
    size = os.fstat(f.fileno()).st_size
    head = f.read(8)
    f.seek(0)
    if not head:
        raise FileProblem("the file is empty")
    if head.startswith(b"\x93NUMPY"):
        raise FileProblem("it holds a single .npy array, not an .npz archive written by save")
    if not head.startswith(b"PK"):
        raise FileProblem(f"not an .npz archive (it starts with {head!r})")
    archive = zipfile.ZipFile(f)
    names = set()
    total = 0
    for info in archive.infolist():
        name = info.filename
        if name in names:
            raise FileProblem(f"member {name!r} appears twice")
        names.add(name)
        if info.flag_bits & ~_ALLOWED_FLAGS:
            what = "encrypted" if info.flag_bits & 0x41 else "of an unsupported kind"
            raise FileProblem(f"member {name!r} is {what} (zip flags {info.flag_bits:#06x})")
        if info.compress_type != zipfile.ZIP_STORED:
            raise FileProblem(f"member {name!r} is compressed (zip method {info.compress_type}); "
                              "tinynet reads only the uncompressed members save writes")
        if info.compress_size != info.file_size:
            raise FileProblem(f"member {name!r} is stored uncompressed, yet its sizes differ "
                              f"({info.compress_size} and {info.file_size} bytes)")
        if info.header_offset + info.compress_size > size:
            raise FileProblem(f"member {name!r} claims {info.file_size} bytes past the end of a "
                              f"{size}-byte file")
        total += info.compress_size
    if total > size:
        raise FileProblem(f"its members claim {total} bytes in all, more than the file's {size}")
    return archive


def read_header(archive, info):
    """The ``.npy`` header of the member ``info``, as a :class:`Member`.

    Checked: a plain numeric dtype, and a declared shape that accounts for
    the member's size exactly. The caller compares dtype and shape with what
    it expects.
    """
    name = info.filename
    with archive.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise FileProblem(f"member {name!r} has .npy format version {version}, "
                              "not the 1.0 or 2.0 numpy writes")
        data_offset = stream.tell()
    if dtype.kind not in "fiub" or dtype.fields is not None or dtype.subdtype is not None:
        raise FileProblem(f"member {name!r} holds {dtype}, not plain numbers")
    if any(d < 0 for d in shape):
        raise FileProblem(f"member {name!r} declares the shape {shape}")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if data_offset + nbytes != info.file_size:
        raise FileProblem(f"member {name!r} declares {dtype} of shape {shape} ({nbytes} bytes) "
                          f"but holds {info.file_size - data_offset} bytes of data")
    return Member(info, tuple(shape), dtype, fortran_order, data_offset)


def read_array(archive, member):
    """The array of a member whose header :func:`read_header` checked, in native byte order."""
    flat = np.empty(math.prod(member.shape), member.dtype)
    with archive.open(member.info) as stream:
        stream.read(member.data_offset)
        view = memoryview(flat).cast("B")
        got = stream.readinto(view) if view.nbytes else 0
        # the read that reaches the end is the one zipfile checks the CRC on
        if got != view.nbytes or stream.read(1):
            raise FileProblem(f"member {member.info.filename!r} ends early")
    order = "F" if member.fortran_order else "C"
    array = flat.reshape(member.shape, order=order)
    return np.asarray(array, dtype=member.dtype.newbyteorder("="), order="C")
