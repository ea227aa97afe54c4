"""``python -m grading ASSIGNMENT ...``: see :mod:`grading.cli`."""

import sys

from grading.cli import main

if __name__ == "__main__":  # Dask's worker processes are spawned: they re-import this module
    sys.exit(main())
