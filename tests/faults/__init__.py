"""Fault and cheat submissions for the parallel autograder tests (see cases.py)."""
