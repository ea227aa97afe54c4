"""The batch and cluster side of ``python -m grading``: a coordinator that scans the submitted
folders into tasks and records the outcomes, Dask workers that grade one task each in a
private workspace (nbgrader forked from a warm server), the gradebook, results and report."""
