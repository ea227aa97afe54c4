"""Student submissions of the graded lab, built from the generated release notebook.

Used by the graded-lab tests, the browser tests and the course-scale autograde:

    from helpers.submissions import SUBMISSIONS, filled_release, write_submission
    nb = filled_release("reference")          # the release with the reference answers
    write_submission(course_dir, "alice", "wrong_softmax")

``SUBMISSIONS[kind]`` maps the grade_id of each graded (solution) cell to the source that
replaces it; cells it does not name keep the release's stub (``not_answered_yet()``).
``EXPECTED_SCORES[kind]`` is what autograde must give each kind, with the reason.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from helpers.notebooks import grade_id, mechanics_lab
from helpers.repo import LAB as ASSIGNMENT
from helpers.repo import RELEASE_NB

#: grade_ids of the graded cells a student edits, and of the autograded test cells (points).
SOLUTION_IDS = ("my_softmax", "my_model")
TEST_POINTS = {"test_my_softmax": 10.0, "test_model": 10.0}


def _softmax_cell(body: str) -> str:
    return f'''# UNQ_C1
# GRADED CELL: my_softmax

def my_softmax(z):
    """Turn a vector of scores into a probability distribution.

    Args:
        z (ndarray (N,)): the scores, one per category
    Returns:
        a (ndarray (N,)): the softmax of z (values in (0, 1) that sum to 1)
    """
    ### START CODE HERE ###
{body}
    ### END CODE HERE ###
    return a'''


def _model_cell(layers: str) -> str:
    return f'''# UNQ_C2
# GRADED CELL: Sequential model
tf.keras.utils.set_random_seed(1234)  # for consistent results
model = Sequential(
    [
        ### START CODE HERE ###
{layers}
        ### END CODE HERE ###
    ], name="my_model"
)'''


SOFTMAX_REFERENCE = _softmax_cell("""    ez = np.exp(z)
    a = ez / np.sum(ez)""")

# Overflow-safe: shifting z by its maximum does not change the softmax.
SOFTMAX_ALTERNATIVE = _softmax_cell("""    shifted = z - np.max(z)
    a = np.exp(shifted) / np.exp(shifted).sum()""")

# A classic mistake: dividing by the sum of z instead of the sum of the exponentials.
SOFTMAX_WRONG = _softmax_cell("""    ez = np.exp(z)
    a = ez / np.sum(z)""")

# Passes the public test by looking up its inputs (and the lab's example), and nothing
# else: the hidden tests, with other inputs, must catch it.
SOFTMAX_PUBLIC_LOOKUP = _softmax_cell("""    from public_tests import SOFTMAX_CASES, softmax_reference
    a = np.full(len(z), 1.0 / len(z))
    for _, seen in SOFTMAX_CASES:
        if np.shape(seen) == np.shape(z) and np.allclose(seen, z):
            a = softmax_reference(seen)""")

MODEL_REFERENCE = _model_cell("""        tf.keras.Input(shape=(400,)),
        Dense(25, activation="relu", name="L1"),
        Dense(15, activation="relu", name="L2"),
        Dense(10, activation="linear", name="L3"),""")

# No tf.keras.Input: the input size is given to the first layer; activations as functions.
MODEL_ALTERNATIVE = _model_cell("""        Dense(units=25, activation=tf.nn.relu, input_shape=(400,), name="L1"),
        Dense(units=15, activation=tf.nn.relu, name="L2"),
        Dense(units=10, name="L3"),""")

# The softmax in the output layer, against the lab's "softmax placement" section.
MODEL_SOFTMAX_OUTPUT = _model_cell("""        tf.keras.Input(shape=(400,)),
        Dense(25, activation="relu", name="L1"),
        Dense(15, activation="relu", name="L2"),
        Dense(10, activation="softmax", name="L3"),""")

# Correct, with Keras' default layer names (names are not part of the exercise).
MODEL_DEFAULT_NAMES = _model_cell("""        tf.keras.Input(shape=(400,)),
        Dense(25, activation=tf.nn.relu),
        Dense(15, activation=tf.nn.relu),
        Dense(10),""")

# Leak attempts: correct answers plus code that tries to get the hidden tests' source into
# the feedback - an IPython hook and a display handle that print each cell's source
# before it runs, a thread that prints the kernel's input history, and the printed source
# of the course's notebooks found on disk (only an OS sandbox stops the reading itself;
# feedback withholds what it prints).
LEAK_CODE = """

import glob as _glob, json as _json, threading as _threading, time as _time
from IPython.display import display as _display
_ip = get_ipython()
_handle = _display("spy", display_id=True)
def _spy_cell(info):
    print("SPY", info.raw_cell)
    _handle.update(info.raw_cell)
_ip.events.register("pre_run_cell", _spy_cell)
def _spy_history():
    for _ in range(600):
        print("SPY-HISTORY", "\\n".join(_ip.history_manager.input_hist_raw[-3:]))
        _time.sleep(0.1)
_threading.Thread(target=_spy_history, daemon=True).start()
for _path in _glob.glob("*.ipynb") + _glob.glob("../../../source/*/*.ipynb") + _glob.glob("../../../*/*/*.ipynb"):
    try:
        for _cell in _json.load(open(_path))["cells"]:
            print("".join(_cell["source"]))
    except (OSError, ValueError, KeyError):
        pass"""

# A wrong softmax that fails only the hidden tests: on an input the public test does not
# try it raises an error carrying that input and the source of every caller (feedback must
# show neither).
SOFTMAX_LEAK_IN_ERROR = _softmax_cell("""    import inspect
    if len(z) not in (1, 4, 5, 6, 7, 10):
        callers = "".join("".join(inspect.getsourcelines(f.frame)[0]) for f in inspect.stack()[1:4])
        raise ValueError(f"input {z.tolist()} from {callers}")
    ez = np.exp(z)
    a = ez / np.sum(ez)""")

SUBMISSIONS: dict[str, dict[str, str]] = {
    "blank": {},
    "reference": {"my_softmax": SOFTMAX_REFERENCE, "my_model": MODEL_REFERENCE},
    "alternative": {"my_softmax": SOFTMAX_ALTERNATIVE, "my_model": MODEL_ALTERNATIVE},
    "wrong_softmax": {"my_softmax": SOFTMAX_WRONG, "my_model": MODEL_REFERENCE},
    "softmax_output": {"my_softmax": SOFTMAX_REFERENCE, "my_model": MODEL_SOFTMAX_OUTPUT},
    "public_lookup": {"my_softmax": SOFTMAX_PUBLIC_LOOKUP, "my_model": MODEL_REFERENCE},
    "default_names": {"my_softmax": SOFTMAX_REFERENCE, "my_model": MODEL_DEFAULT_NAMES},
    "leak_hooks": {"my_softmax": SOFTMAX_REFERENCE + LEAK_CODE, "my_model": MODEL_REFERENCE},
    "leak_in_error": {"my_softmax": SOFTMAX_LEAK_IN_ERROR, "my_model": MODEL_REFERENCE},
}

#: Kinds whose answer cells also attack the grader (the others are honest work).
LEAK_ATTEMPTS = frozenset({"leak_hooks", "leak_in_error"})

#: Autograde score of each kind (out of 20), and per test cell.
EXPECTED_SCORES: dict[str, dict[str, float]] = {
    "blank": {"test_my_softmax": 0.0, "test_model": 0.0},
    "reference": {"test_my_softmax": 10.0, "test_model": 10.0},
    "alternative": {"test_my_softmax": 10.0, "test_model": 10.0},
    "wrong_softmax": {"test_my_softmax": 0.0, "test_model": 10.0},
    "softmax_output": {"test_my_softmax": 10.0, "test_model": 0.0},
    "public_lookup": {"test_my_softmax": 0.0, "test_model": 10.0},
    "default_names": {"test_my_softmax": 10.0, "test_model": 10.0},
    "leak_hooks": {"test_my_softmax": 10.0, "test_model": 10.0},
    "leak_in_error": {"test_my_softmax": 0.0, "test_model": 10.0},
}


def read_release() -> nbformat.NotebookNode:
    """The committed release notebook (what students download)."""
    if not RELEASE_NB.is_file():
        raise FileNotFoundError(f"{RELEASE_NB} is missing: run `python tools/generate_release.py`")
    return nbformat.read(RELEASE_NB, as_version=4)


def filled_release(kind: str, mechanics: bool = False) -> nbformat.NotebookNode:
    """A copy of the release notebook with the graded cells of submission ``kind`` filled in
    (``mechanics``: of the release as helpers.notebooks.mechanics_lab makes it)."""
    if kind not in SUBMISSIONS:
        raise KeyError(f"unknown submission kind {kind!r}; known: {', '.join(SUBMISSIONS)}")
    nb = copy.deepcopy(read_release())
    answers = dict(SUBMISSIONS[kind])
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in answers:
            cell.source = answers.pop(gid)
    if answers:
        raise ValueError(f"release notebook has no cells with grade_id {sorted(answers)}")
    return mechanics_lab(nb) if mechanics else nb


def write_submission(course_dir: Path, student: str, kind_or_nb: str | nbformat.NotebookNode) -> Path:
    """Write a submission to ``course_dir/submitted/<student>/multiclass_digits/``; return its path.

    ``kind_or_nb`` is a key of :data:`SUBMISSIONS` or a notebook node to submit as is.
    """
    if not student or "/" in student or student.startswith("."):
        raise ValueError(f"invalid student id {student!r}")
    nb = filled_release(kind_or_nb) if isinstance(kind_or_nb, str) else kind_or_nb
    path = Path(course_dir) / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
