"""nbgrader configuration of the multiclass-digits course (run nbgrader from this folder)."""
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    InstantiateTests,
    LimitOutput,
    LockCells,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
    SaveCells,
)

from grading.extensions import (HideHiddenTests, JudgedExecute, LimitNotebookBytes, LimitOutputBytes,
                                StripRunState)
from grading.extensions.feedbackpage import TEMPLATE_BASEDIRS, TEMPLATE_NAME, FeedbackPageExporter
from grading.extensions.figureimages import FigureImages
from grading.extensions.lms_collect import LmsCollector
from grading.extensions.renderformulas import RenderFormulas
from grading.extensions.repair import FlagUnrepaired, RepairingExporter, RepairSubmission

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "multiclass-digits"

# The student version of a graded cell: a call that raises NotImplementedError with a
# clear message. It is valid as a statement (in my_softmax) and as the single element of
# the Sequential([...]) list, so every released cell is valid Python.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nnot_answered_yet()"}

# Solution cells are non-deletable; test cells and all read-only cells are locked
# (neither editable nor deletable). These are nbgrader's defaults, stated on purpose.
c.LockCells.lock_solution_cells = True
c.LockCells.lock_grade_cells = True
c.LockCells.lock_readonly_cells = True

# nbgrader's default per-cell timeout is 30 s; training 40 epochs on a busy 2-core
# machine can take longer. A cell that times out scores 0, so be generous.
c.Execute.timeout = 600
# After a cell's reply, nbclient waits only 4 s (default) for its remaining output and
# nbgrader then aborts the whole run; on a loaded machine that is not enough.
c.Execute.iopub_timeout = 60
# The kernel is stopped at once after the last cell (its outputs are already saved): a
# graceful shutdown waits about 2 s per notebook for TensorFlow to exit.
c.Execute.shutdown_kernel = "immediate"

# nbgrader's own list (0.9.6), plus StripRunState right after ClearOutput: widget state
# and execution timestamps are removed from the release.
c.GenerateAssignment.preprocessors = [
    IgnorePattern,
    IncludeHeaderFooter,
    InstantiateTests,
    LimitOutput,
    LockCells,
    ClearSolutions,
    ClearOutput,
    StripRunState,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

# Every submission graded as its answers deserve, whatever saved it (Colab, VS Code, an old
# Jupyter, cells deleted, copied or split): nbgrader's sanitizing list (0.9.6) with
# RepairSubmission first, which replaces the submission with the release holding only the
# student's graded-cell code (utils.repair; locked and test cells always from the release).
# The exporter reads the file for it (nbformat alone raises on invalid JSON or binary junk, and
# that student got no result); FlagUnrepaired, after SaveAutoGrades below, marks an exercise
# whose graded cell was not found for manual grading. One line per repaired submission is logged.
c.Autograde.exporter_class = RepairingExporter
c.Autograde.sanitize_preprocessors = [
    RepairSubmission,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]

# Autograde: nbgrader's own list (0.9.6) with JudgedExecute in place of Execute. Test cells
# are judged in nbgrader's process, not by what the student's kernel prints: the kernel only
# runs each test's probe on the grader's inputs, and the test cell's outputs are the
# grader's verdict (so no output of student code can score, partial credit included).
# Hidden tests stay hidden (nbgrader #917): hidden blocks are removed before any cell
# runs and judged after the last one; their output never reaches the notebook.
# LimitOutputBytes after LimitOutput: nbgrader limits lines, not their length; then
# LimitNotebookBytes, a budget for all the outputs of the notebook (test cells' verdicts not
# counted, never cut): c.LimitNotebookBytes.max_bytes, 16 MB unless set here.
c.Autograde.autograde_preprocessors = [
    JudgedExecute,
    IgnorePattern,
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    LimitOutput,
    LimitOutputBytes,
    LimitNotebookBytes,
    SaveAutoGrades,
    FlagUnrepaired,
    AssignLatePenalties,
    CheckCellMetadata,
]
# Feedback: nbgrader's list with HideHiddenTests first (hidden blocks shown as a note,
# outputs holding hidden-test source withheld), then what makes a page that reads offline (it is
# uploaded to an LMS and opened anywhere): FigureImages shows each interactive (ipympl) figure as
# the PNG its saved widget state holds, with alternative text on every image, and RenderFormulas
# draws the Markdown formulas as SVG images (matplotlib's mathtext) in place of MathJax.
c.GenerateFeedback.preprocessors = [HideHiddenTests, FigureImages, RenderFormulas, GetGrades,
                                    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
# The page: nbgrader's feedback template, extended (grading/extensions/templates/course_feedback):
# each graded test named in the table of contents ("Exercise 1: my_softmax, 10/10"), long lines
# wrapped, no MathJax script. Set on the exporter's own class, so the formgrader keeps its pages.
c.GenerateFeedback.exporter_class = FeedbackPageExporter
c.FeedbackPageExporter.template_name = TEMPLATE_NAME
c.FeedbackPageExporter.extra_template_basedirs = TEMPLATE_BASEDIRS
# Always write the pages again, as `generate_feedback --force` does: without it nbgrader keeps a
# student's existing page unless the autograded timestamp.txt is newer, and a regrade keeps the
# submission's timestamp, so after a regrade the old pages (old scores) would stay, silently.
# (BaseConverter.force, nbgrader 0.9.6; set on GenerateFeedback so autograde keeps skipping.)
c.GenerateFeedback.force = True

# The LMS route (docs/lms.md): `nbgrader zip_collect` of a Canvas or Moodle download takes the
# student id from the LMS's file names (and collects a "Copy of", " (1)" or "-1" renamed notebook
# as the release's); grades go back with
#   nbgrader export --exporter=grading.extensions.lms_export.LmsExportPlugin --LmsExportPlugin.lms=canvas
# and feedback pages with `python -m grading.extensions.lms_feedback ASSIGNMENT`.
c.ZipCollectApp.collector_plugin = LmsCollector
