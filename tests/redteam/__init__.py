"""Red-team escape attempts against the grading sandbox (see attempts.py)."""
