"""The command line: ``python -m diagnostics COMMAND ...``.

Each command is a function ``run(args) -> exit status`` registered with its
arguments in :data:`COMMANDS`. Bad options get one line on stderr and exit
status 2; a failed output write, exit status 1; never a traceback.
"""

import argparse
import json
import os
import sys
import tempfile

PROG = "python -m diagnostics"


class UsageError(Exception):
    """A bad option or value: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message}")


# ---------------------------------------------------------------------------
# shared options and helpers
# ---------------------------------------------------------------------------

def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _nonnegative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _finite_float(text, low, strict, expected):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not (value > low if strict else value >= low) or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return value


def _positive_float(text):
    return _finite_float(text, 0.0, True, "a positive number")


def _nonnegative_float(text):
    return _finite_float(text, 0.0, False, "a number >= 0")


def add_activation(p):
    """The ``--activation NAME`` option (required), listing the names."""
    import tinynet as tn

    p.add_argument("--activation", required=True, metavar="NAME",
                   help="activation name: " + ", ".join(tn.available_activations()))


def add_init(p, example):
    """The ``--init SPEC`` option (required)."""
    p.add_argument("--init", required=True, metavar="SPEC",
                   help=f"weight initializer as tinynet.init.from_spec reads it, e.g. {example}")


def add_common(p, plot=True, quiet=True):
    """Options most commands share."""
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    if plot:
        p.add_argument("--plot", metavar="PATH",
                       help="write a PNG figure to PATH (needs matplotlib: the 'plot' extra)")
    if quiet:
        p.add_argument("--quiet", action="store_true",
                       help="no progress bar (it is off anyway when stderr is not a terminal)")


def add_dtype(p):
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="floating type of the networks (default float64)")


def add_jobs(p):
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="run configurations in N worker processes (default: one per available core; "
                        "1 runs them in this process); results are identical for any N")


def write_json(path, data):
    """Write ``data`` to ``path`` atomically: a failure leaves any old file intact."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def check_outputs(args):
    """Fail before any work if an output cannot be written or plotting is unavailable."""
    for opt in ("json", "plot"):
        path = getattr(args, opt, None)
        if path is not None:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise UsageError(f"--{opt}: directory {directory!r} does not exist")
            if os.path.isdir(path):
                raise UsageError(f"--{opt}: {path!r} is a directory; give a file name")
    if getattr(args, "plot", None):
        from .plot import require_matplotlib

        try:
            require_matplotlib()
        except ImportError as e:
            raise UsageError(f"--plot: {e}") from None


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Set by one_blas_thread_by_default when it saw BLAS told to run one thread
#: before numpy loaded it: then this process's BLAS is known to run one.
_blas_loaded_with_one_thread = False


def one_blas_thread_by_default():
    """Tell BLAS to run one thread unless the user chose a number; call before numpy is imported.

    BLAS reads the setting once, when numpy loads it. The command line's
    matrices are small (100 wide), where BLAS threads cost more than they
    give, and its sweeps run a process per core instead.
    """
    global _blas_loaded_with_one_thread
    if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        os.environ.update({v: "1" for v in BLAS_THREAD_VARIABLES})
    # every variable, since which one a BLAS reads depends on the BLAS
    _blas_loaded_with_one_thread = ("numpy" not in sys.modules
                                    and all(os.environ.get(v) == "1" for v in BLAS_THREAD_VARIABLES))


def executor_for(args, tasks):
    """A process pool for ``tasks`` tasks per ``--jobs`` (default: a worker per core), or None.

    None means: run in this process. Each worker runs BLAS on one thread:
    several processes each running a multithreaded BLAS on the same cores
    make small matrix products many times slower. When this process's BLAS
    is known to run one thread (``python -m diagnostics`` sees to it, see
    ``one_blas_thread_by_default``), no other thread runs here and the
    system forks, workers are forked from it, ready at once; otherwise they
    start fresh ("spawn"), told to run one thread, and import what they
    need (about a third of a second each).
    """
    jobs = getattr(args, "jobs", 1)
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
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
    saved = {v: os.environ.get(v) for v in BLAS_THREAD_VARIABLES}
    os.environ.update({v: "1" for v in BLAS_THREAD_VARIABLES})
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
        # start the workers now, while the environment says one thread
        list(pool.map(_noop, range(jobs)))
    finally:
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value
    return pool


def _noop(_):
    return None


def progress_on(args):
    return not getattr(args, "quiet", False)


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------

COMMANDS = {}


def command(name, help):
    """Register ``run(args)`` under ``name``; its ``arguments(p)`` adds the options."""
    def register(run):
        COMMANDS[name] = (help, run)
        return run
    return register


def build_parser():
    from . import commands  # noqa: F401  (registers the commands)

    parser = _Parser(prog=PROG, description="Numerical-stability diagnostics for tinynet networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=run.__doc__)
        run.arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv=None):
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        check_outputs(args)
        return args.run(args) or 0
    except UsageError as e:
        print(str(e).splitlines()[0] if str(e) else "bad usage", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as e:
        # bad values that got past argparse (an unknown activation, a bad init spec)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OverflowError:
        print(f"{PROG}: error: a value is too large to compute with (a std or scale near 1e154 or more "
              "overflows when squared)", file=sys.stderr)
        return 2
    except FloatingPointError as e:
        # a result, not a usage error: training diverged (the message names where)
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{PROG}: error: not enough memory for these sizes", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # the reader went away (``| head``): stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130

