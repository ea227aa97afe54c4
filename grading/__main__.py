"""``python -m grading ASSIGNMENT ...``: see :mod:`grading.cli`."""
import sys

from grading.cli import main

sys.exit(main())
