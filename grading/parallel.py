"""Former single-module home of the course-scale autograder, kept so ``python -m
grading.parallel`` and old imports keep working. The code lives in the modules named in
``grading/__init__.py``."""
import sys

from grading.batch import DEFAULT_CELL_TIMEOUT, DEFAULT_TIMEOUT, Options, autograde_all  # noqa: F401
from grading.cli import main
from grading.execute import GuardedExecute  # noqa: F401
from grading.gradebook import check_db_url, sqlite_url  # noqa: F401
from grading.integrity import PackageSnapshot, package_dir  # noqa: F401
from grading.rebuild import rebuild_notebook  # noqa: F401
from grading.results import GradingError, SubmissionResult, write_summary  # noqa: F401
from grading.review import review_flags  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
