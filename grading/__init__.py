"""Instructor-side tools: nbgrader extensions and course-scale autograding."""
