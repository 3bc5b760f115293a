"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import signal
import sys

INTERRUPTED = "python -m diagnostics: interrupted"

if __name__ == "__main__":  # worker processes import this module too; they must not run main
    # Ctrl-C while numpy, tinynet and the experiments load (the first second) is noted, not
    # raised: raised inside numpy's C extensions it would surface as an ImportError. It then
    # gets the same one line and status as Ctrl-C during the work.
    pressed = []
    signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        from .parallel import one_blas_thread_by_default

        one_blas_thread_by_default()  # before anything imports numpy
        from .cli import main
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if pressed:
            raise KeyboardInterrupt
        status = main()
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        status = 130
    sys.exit(status)
