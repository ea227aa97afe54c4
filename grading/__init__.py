"""Instructor-side tools: nbgrader extensions and course-scale autograding (``python -m grading``).

Four packages over a few leaf modules; every import points down this list (a package never
imports one listed above it), except ``grading.service``, the top, which uses the other three:

``grading`` (leaves and the command line)
    ``cli``         the command line: flags, exit status
    ``__main__``    ``python -m grading``
    ``errors``      GradingError, the one error a batch reports to its user
    ``limits``      isolation levels, Limits of a kernel, sizes (``4G``)
    ``processes``   nbgrader's environment, killing a process tree
    ``filetree``    folders as ``{relative path: bytes}`` and back
``grading.batch`` (the batch and cluster side)
    ``coordinator`` a batch: preparation, one Dask task per student, recording, summary
    ``options``     Options: every setting of a batch, checked once, the flags' defaults
    ``tasks``       Bundle, Task, Outcome: what coordinator and workers send (no Dask)
    ``scan``        the coordinator's scan of an untrusted submitted folder into a Task
    ``client``      the coordinator's Dask client: embedded LocalCluster or a scheduler
    ``worker``      a Dask worker: host checks, warm fork server, grading one task
    ``forkserver``  per-worker server forking each autograde from a warm nbgrader
    ``workspace``   one submission in a private workspace: sandbox set-up, nbgrader autograde
    ``submission``  the submission written into its workspace: bounded, rebuilt or repaired, noted
    ``logs``        the autograde log the coordinator gets: nbgrader's and the kernels', bounded
    ``rebuild``     a submission rebuilt on the release skeleton (answer cells only)
    ``review``      static review flags for answer cells
    ``gradebook``   every gradebook query: URLs, course id, private and real gradebooks
    ``results``     per-submission results, Markdown tables, the summary (CSV, Markdown)
    ``report``      the instructor's report: pass rates, histogram, failures, slowest
``grading.extensions`` (the nbgrader extensions ``nbgrader_config.py`` names)
    ``hiddenblocks``     parsing hidden-test blocks (shared by the two below)
    ``judgedexecute``    JudgedExecute: test cells judged in the grader's process, hidden calls last
    ``hidehiddentests``  HideHiddenTests: feedback without hidden-test source
    ``guardedexecute``   GuardedExecute: tamper guard and kernel restarts (``python -m grading``)
    ``limitoutputbytes`` LimitOutputBytes: outputs cut to a bounded size
    ``limitnotebookbytes`` LimitNotebookBytes: a byte budget for all of a notebook's outputs
    ``striprunstate``    StripRunState: a release free of run state
    ``cells``            a cell's nbgrader marks (grade id, test cell)
    ``repair``           the plain path's repair: every submission graded as its answers deserve
    ``lms_names``        the file names Canvas and Moodle give submissions and take feedback by
    ``lms_collect``      LmsCollector: ``zip_collect`` of an LMS download, the student id from names
    ``lms_export``       LmsExportPlugin: ``nbgrader export`` as Canvas's or Moodle's grade CSV
    ``lms_feedback``     feedback pages zipped as the LMS hands them out per student
    ``figureimages``     FigureImages: feedback shows each interactive figure as its PNG, alt text
    ``renderformulas``   RenderFormulas: Markdown formulas drawn at export, no MathJax
    ``feedbackpage``     FeedbackPageExporter (the offline page, named tests), FeedbackPreprocessor
``grading.isolation`` (what keeps the student's kernel in)
    ``sandbox``     bubblewrap around the kernel, host checks, the kernel launcher
    ``launcher``    the root side of each kernel (re)start: connection file, socket folder, fds
    ``seccomp``     the sandbox's seccomp filter (keyring calls refused), built by hand
    ``cgroups``     per-submission memory, process and CPU limits, killing every process
    ``cleanup``     removing what a submission wrote, judging leftovers of dead workers
    ``guard``       the kernel-side guard (imported by the student's kernel, never here)
    ``integrity``   snapshot and restore of the installed course packages
``grading.service`` (Submit for grading on the course hub: a JupyterHub service run as root)
    ``__main__``    ``python -m grading.service``: settings from the environment, the web server
    ``app``         the HTTP API: the student's token, uploads checked, submissions and results
    ``policy``      the course's rules: counting latest or best, rate limit, deadline, size
    ``store``       every submission and result in the service's own SQLite file, the queue
    ``engine``      the grading thread: queued submissions as Dask tasks, counted ones recorded
    ``verdict``     what a student is shown: each exercise's score and messages, no hidden test
    ``course``      the hub's course as root finds it: instructor, course folder, gradebook
    ``student_server`` the student's server side of the button: forwards with the server's token
"""
