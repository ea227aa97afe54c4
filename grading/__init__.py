"""Instructor-side tools: nbgrader extensions and course-scale autograding (``python -m grading``).

One concern per module:

- ``cli``        the command line (flags, exit status)
- ``batch``      a batch: options, preparation, Dask tasks, recording (coordinator only), summary
- ``cluster``    Dask distributed: what a task carries, what a worker does, the client
- ``submitted``  the coordinator's scan of a student's (untrusted) submitted folder into a task
- ``report``     the instructor's report: pass rates, score histogram, failures, slowest
- ``workspace``  one submission in a private workspace (rebuilt notebook, nbgrader autograde)
- ``sandbox``    bubblewrap + cgroups + rlimits around the student's kernel; isolation levels
- ``execute``    GuardedExecute, nbgrader's Execute with the tamper guard and kernel restarts
- ``guard``      the kernel-side guard (imported by the student's kernel)
- ``rebuild``    rebuilding a submission on the release skeleton
- ``review``     static review flags for answer cells
- ``integrity``  snapshot and restore of the installed course packages
- ``gradebook``  gradebook URLs, reading private and writing the real gradebook
- ``results``    per-submission results and the summary table
- ``nbgrader_ext`` nbgrader preprocessors used when generating the release
"""
