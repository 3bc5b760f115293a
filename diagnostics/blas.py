"""The BLAS-thread policy, one for the command line and for Python: one thread unless the user chose.

The experiments' matrices are small (100 wide), where BLAS threads wait for
each other more than they work, and sweeps run a process per core instead.
``python -m diagnostics`` sets the variables below before numpy loads (see
``parallel.one_blas_thread_by_default``); from Python, where numpy is
already loaded, each experiment limits BLAS while it runs.
"""

import functools
import os

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_chose_blas_threads():
    """Whether one of ``BLAS_THREAD_VARIABLES`` is set: then BLAS runs as many threads as it says."""
    return any(v in os.environ for v in BLAS_THREAD_VARIABLES)


def one_blas_thread(fn):
    """Decorate an experiment so it runs BLAS on one thread, unless the user chose a number.

    ``threadpoolctl`` limits BLAS while ``fn`` runs and restores it after:
    without it a notebook ran the lecture 2.5 times slower than the command
    line.
    """
    @functools.wraps(fn)
    def limited(*args, **kwargs):
        if user_chose_blas_threads():  # the command line's own processes say 1 there
            return fn(*args, **kwargs)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return limited
