"""Parallel execution: worker pools, BLAS threads, and when workers may be forked.

The experiments take any ``concurrent.futures.Executor`` (or None: run in
this process). This module makes the one the command line uses: a process
per core, each running BLAS on one thread, forked only when that is known
to be safe. The BLAS-thread policy itself is ``blas``'s, which the
experiments apply from Python.
"""

import contextlib
import os
import signal
import sys

from .blas import BLAS_THREAD_VARIABLES, user_chose_blas_threads  # the policy the experiments apply too

#: Set by one_blas_thread_by_default when it saw BLAS told to run one thread
#: before numpy loaded it: then this process's BLAS is known to run one.
_blas_loaded_with_one_thread = False


def available_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def one_blas_thread_by_default():
    """Tell BLAS to run one thread unless the user chose a number; call before numpy is imported.

    The command line's side of ``blas.one_blas_thread``'s policy: BLAS reads the
    setting once, when numpy loads it, and a process whose BLAS is known to
    run one thread may fork its workers. The command line's sweeps run a
    process per core.
    """
    global _blas_loaded_with_one_thread
    if not user_chose_blas_threads():
        os.environ.update({v: "1" for v in BLAS_THREAD_VARIABLES})
    # every variable, since which one a BLAS reads depends on the BLAS
    _blas_loaded_with_one_thread = ("numpy" not in sys.modules
                                    and all(os.environ.get(v) == "1" for v in BLAS_THREAD_VARIABLES))


def executor_for(jobs, tasks):
    """A process pool for ``tasks`` tasks on ``jobs`` workers (None: one per core), or None.

    None means: run in this process. Each worker runs BLAS on one thread:
    several processes each running a multithreaded BLAS on the same cores
    make small matrix products many times slower. When this process's BLAS
    is known to run one thread (``python -m diagnostics`` sees to it, see
    ``one_blas_thread_by_default``), no other thread runs here and the
    system forks, workers are forked from it, ready at once; otherwise they
    start fresh ("spawn"), told to run one thread, and import what they
    need (about a third of a second each).
    """
    jobs = min(available_cores() if jobs is None else jobs, tasks)
    if jobs <= 1:
        return None
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    if _blas_loaded_with_one_thread and threading.active_count() == 1 and sys.platform.startswith("linux"):
        # a fork copies only the thread that calls it, so with no other
        # thread nothing is left half done; the pool forks every worker
        # before it starts a thread of its own
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_worker_ignores_ctrl_c)
    saved = {v: os.environ.get(v) for v in BLAS_THREAD_VARIABLES}
    os.environ.update({v: "1" for v in BLAS_THREAD_VARIABLES})
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_ignores_ctrl_c)
        # start the workers now, while the environment says one thread
        list(pool.map(_noop, range(jobs)))
    finally:
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value
    return pool


@contextlib.contextmanager
def pool(jobs, tasks):
    """``executor_for(jobs, tasks)`` as a ``with`` block that shuts the pool down on leaving.

    On an exception (Ctrl-C among them) the workers are stopped at once,
    not after the task each is running: at depth 100,000 that could take
    minutes.
    """
    executor = executor_for(jobs, tasks)
    try:
        yield executor
    except BaseException:
        if executor is not None:
            _stop(executor)
        raise
    else:
        if executor is not None:
            executor.shutdown()


def _stop(executor):
    # Python 3.14 has executor.terminate_workers(); before it, the pool's own
    # processes, taken before shutdown forgets them
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.terminate()
    for p in processes:
        p.join()


def _worker_ignores_ctrl_c():
    # Ctrl-C reaches every process of the terminal's group: the main process
    # reports it in one line and stops the workers, which must not print
    # tracebacks of their own
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _noop(_):
    return None
