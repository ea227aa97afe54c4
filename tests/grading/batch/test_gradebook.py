"""grading.batch.gradebook: URLs and the course id."""
from __future__ import annotations

import pytest

from grading.batch.gradebook import check_db_url, course_id_of, graded_students, sqlite_file, sqlite_url
from grading.errors import GradingError


def test_bad_database_urls_give_clear_errors():
    with pytest.raises(GradingError, match="unsupported gradebook URL"):
        check_db_url("mysql://x")
    with pytest.raises(GradingError, match="cannot connect"):
        check_db_url("postgresql+psycopg2://nobody:pw@127.0.0.1:1/none")


def test_course_id_and_sqlite_url(tmp_path):
    assert course_id_of(tmp_path) == "default_course"
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'ml-101'\n")
    assert course_id_of(tmp_path) == "ml-101"
    assert sqlite_url(tmp_path / "g.db") == f"sqlite:///{tmp_path.resolve()}/g.db"


def test_sqlite_file_is_the_path_of_an_sqlite_url_without_its_query(tmp_path):
    db = tmp_path / "my course" / "gradebook.db"
    assert sqlite_file(sqlite_url(db)) == db.resolve()
    assert sqlite_file(sqlite_url(db) + "?timeout=60") == db.resolve()
    assert sqlite_file("postgresql://grader:pw@127.0.0.1:5432/course") is None


def test_graded_students_of_a_gradebook_not_yet_made_is_empty(tmp_path):
    missing = tmp_path / "gradebook.db"
    assert graded_students(sqlite_url(missing), "default_course", "toy") == {}
    assert not missing.exists()  # asking made no file
