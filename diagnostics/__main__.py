"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import sys

if __name__ == "__main__":  # worker processes import this module too; they must not run main
    # Ctrl-C while numpy, tinynet and the experiments load (the first second)
    # gets the same one line and status as Ctrl-C during the work.
    try:
        from .parallel import one_blas_thread_by_default

        one_blas_thread_by_default()  # before anything imports numpy
        from .cli import main

        status = main()
    except KeyboardInterrupt:
        print("python -m diagnostics: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
