"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import sys

from .cli import main, one_blas_thread_by_default

if __name__ == "__main__":  # worker processes import this module too; they must not run main
    one_blas_thread_by_default()  # before anything imports numpy
    sys.exit(main())
