"""``python -m grading ASSIGNMENT ...`` is ``python -m grading.parallel ASSIGNMENT ...``."""
import sys

from grading.parallel import main

sys.exit(main())
