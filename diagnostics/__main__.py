"""``python -m diagnostics``: see ``python -m diagnostics --help``."""

import sys

from .cli import main

if __name__ == "__main__":  # worker processes import this module too; they must not run main
    sys.exit(main())
