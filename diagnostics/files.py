"""Writing an output file whole: the old file is replaced only once the new one is complete."""

import os
import tempfile


def replace_whole(path, write, suffix=""):
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it onto ``path``.

    An interrupted or failed write leaves any old file at ``path`` as it
    was and no temporary file behind. The new file gets the mode an
    ordinary ``open()`` would give it: the old file's, or 0o666 less the umask
    (``mkstemp`` makes files only their owner can read).
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
