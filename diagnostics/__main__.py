"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import sys

from .parallel import one_blas_thread_by_default

if __name__ == "__main__":  # worker processes import this module too; they must not run main
    one_blas_thread_by_default()  # before anything imports numpy
    from .cli import main

    sys.exit(main())
