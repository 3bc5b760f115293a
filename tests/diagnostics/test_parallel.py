"""diagnostics.parallel: worker pools, BLAS threads, and when workers are forked."""

import os
import subprocess
import sys
import time

import numpy  # noqa: F401  (loaded before the tests run, as in any process that has imported tinynet)
import pytest

from diagnostics import parallel


def blas_environment(monkeypatch, chosen):
    """The BLAS thread variables as ``chosen`` (a dict), and no other, until the test ends."""
    for v in parallel.BLAS_THREAD_VARIABLES:
        monkeypatch.setenv(v, "x")  # recorded, so that what the test writes is undone
        monkeypatch.delenv(v)
    for v, value in chosen.items():
        monkeypatch.setenv(v, value)


@pytest.mark.parametrize("chosen", [{}, {"OMP_NUM_THREADS": "4"}, {"OPENBLAS_NUM_THREADS": "1"}])
def test_the_command_line_runs_blas_on_one_thread_unless_told_otherwise(monkeypatch, chosen):
    blas_environment(monkeypatch, chosen)
    monkeypatch.setattr(parallel, "_blas_loaded_with_one_thread", False)
    parallel.one_blas_thread_by_default()
    expected = chosen or {v: "1" for v in parallel.BLAS_THREAD_VARIABLES}
    assert {v: value for v, value in os.environ.items() if v in parallel.BLAS_THREAD_VARIABLES} == expected
    assert parallel._blas_loaded_with_one_thread is False  # numpy was loaded before: nothing is known


def blas_threads():
    from threadpoolctl import threadpool_info

    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@pytest.mark.parametrize("chosen", [{}, {"OMP_NUM_THREADS": "2"}])
def test_the_experiments_run_blas_on_one_thread_from_python_unless_told_otherwise(monkeypatch, chosen):
    from threadpoolctl import threadpool_limits

    from diagnostics import experiments
    from diagnostics.experiments import lecture

    blas_environment(monkeypatch, chosen)
    monkeypatch.setattr(lecture, "_run_task", lambda task: blas_threads())  # each task reports, cheaply
    with threadpool_limits(limits=2, user_api="blas"):  # as a notebook's BLAS may run
        if blas_threads() != {2}:
            pytest.skip("this BLAS cannot be set to two threads here")
        result = experiments.run_lecture(seed=0)
        assert blas_threads() == {2}  # restored after
    seen = {n for found in result.matrices + result.experiments for n in found}
    assert seen == ({2} if chosen else {1})


WORKERS = """
import sys
from diagnostics import parallel
assert "numpy" not in sys.modules  # so the next line comes before BLAS reads its settings
parallel.one_blas_thread_by_default()
import numpy

pool = parallel.executor_for(2, tasks=4)
assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]
print(pool._mp_context.get_start_method())
pool.shutdown()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or parallel.available_cores() < 2,
                    reason="forks on Linux, with two cores")
@pytest.mark.parametrize("chosen, method", [({}, "fork"), ({"OMP_NUM_THREADS": "1"}, "spawn"),
                                            ({"OPENBLAS_NUM_THREADS": "2"}, "spawn")])
def test_workers_are_forked_only_from_a_process_whose_blas_is_known_to_run_one_thread(chosen, method):
    env = {k: v for k, v in os.environ.items() if k not in parallel.BLAS_THREAD_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", WORKERS], env={**env, **chosen}, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [method]


def test_workers_are_spawned_from_a_process_that_loaded_numpy_first(monkeypatch):
    # as in this test run: BLAS may be running several threads, whatever the environment says now
    for v in parallel.BLAS_THREAD_VARIABLES:
        monkeypatch.setenv(v, "1")
    monkeypatch.setattr(parallel, "_blas_loaded_with_one_thread", False)
    parallel.one_blas_thread_by_default()
    assert parallel._blas_loaded_with_one_thread is False

    pool = parallel.executor_for(2, tasks=4)
    try:
        assert pool._mp_context.get_start_method() == "spawn"
    finally:
        pool.shutdown()


def test_a_pool_gives_the_results_in_order_and_one_job_means_this_process():
    assert parallel.executor_for(1, tasks=10) is None
    with parallel.pool(2, tasks=3) as executor:
        assert list(executor.map(abs, [-3, 2, -1])) == [3, 2, 1]


def test_a_pool_left_by_an_exception_stops_its_workers_at_once():
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with parallel.pool(2, tasks=2) as executor:
            processes = list(executor._processes.values())
            executor.submit(time.sleep, 60)  # a task the workers would otherwise finish first
            raise KeyboardInterrupt
    # asked of the system, not of is_alive(): the pool's own thread may reap a worker first,
    # and then is_alive() of the Process object never learns that it ended
    assert all(_ended(p.pid, deadline=start + 30) for p in processes)  # long before the 60 s task ends


def _ended(pid, deadline):
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
