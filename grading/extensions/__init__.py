"""nbgrader extensions for the plain path: repair before grading, LMS collection and export."""
