"""The public tests against a corpus of student answers (tests/helpers/softmax_answers.py, model_answers.py), and their contract.

Every wrong answer must fail with the message meant for its mistake, every correct
answer must pass and print exactly the success line, nothing may reach stderr.
"""
from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest

import utils  # noqa: F401  (quiet TensorFlow environment first)
import public_tests as pt

import tensorflow as tf  # noqa: E402  (imported here so its import-time output stays out of captures)

from helpers import model_answers, softmax_answers  # noqa: E402  (after utils: quiet TensorFlow)

LAB_SOFTMAX = [0.03205860328008499, 0.08714431874203257, 0.23688281808991013, 0.6439142598879722]


def _plain_softmax(values):
    """Softmax written out with math.exp, independently of public_tests."""
    exps = [math.exp(v) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


# ------------------------------------------------------------------ the contract
def test_star_import_exports_the_public_api():
    namespace: dict = {}
    exec("from public_tests import *", namespace)
    for name in ("test_my_softmax", "test_model", "check_softmax", "check_model_structure",
                 "activation_kind", "PublicTestFailure", "NotAnsweredYet"):
        assert callable(namespace[name]), name
    # no ready-made softmax lands in the student's namespace
    assert "softmax_reference" not in namespace and callable(pt.softmax_reference)
    assert issubclass(pt.PublicTestFailure, AssertionError)
    assert issubclass(pt.NotAnsweredYet, pt.PublicTestFailure)


def test_corpus_is_big_enough():
    assert len(softmax_answers.WRONG) >= 12 and len(softmax_answers.CORRECT) >= 6
    assert len(model_answers.WRONG) >= 10 and len(model_answers.CORRECT) >= 6


def test_reference_matches_independent_softmax():
    np.testing.assert_allclose(pt.softmax_reference(np.array([1.0, 2.0, 3.0, 4.0])), LAB_SOFTMAX,
                               rtol=1e-15)
    for _, z in pt.SOFTMAX_CASES:
        np.testing.assert_allclose(pt.softmax_reference(z), _plain_softmax(z.tolist()), rtol=1e-13)
    # the cases the issue asks for
    cases = dict(pt.SOFTMAX_CASES)
    assert cases["ten equal values"].size == 10 and np.ptp(cases["ten equal values"]) == 0
    assert (cases["negative values"] < 0).all()
    assert np.issubdtype(cases["integer input"].dtype, np.integer)
    assert {z.size for z in cases.values()} - {4}


# ------------------------------------------------------------------ softmax corpus
@pytest.mark.parametrize(
    "answer, match", softmax_answers.WRONG, ids=[a.__name__ for a, _ in softmax_answers.WRONG]
)
def test_wrong_softmax_fails_with_its_message(answer, match, capfd):
    with pytest.raises(pt.PublicTestFailure) as info:
        pt.test_my_softmax(answer)
    message = str(info.value)
    assert match in message, message
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert info.value.__suppress_context__, "the student's own traceback must not be chained"
    assert len(message.splitlines()) <= 8, message


@pytest.mark.parametrize("answer", softmax_answers.CORRECT, ids=lambda a: a.__name__)
def test_correct_softmax_passes(answer, capfd):
    pt.test_my_softmax(answer)
    assert capfd.readouterr() == ("All tests passed.\n", "")


def test_unanswered_softmax_message_is_short():
    with pytest.raises(pt.NotAnsweredYet) as info:
        pt.test_my_softmax(softmax_answers.unanswered)
    message = str(info.value)
    assert message.startswith("unanswered is not answered yet: ")
    assert "not_answered_yet()" in message and len(message.splitlines()) == 1


def test_student_error_names_the_line():
    with pytest.raises(pt.PublicTestFailure) as info:
        pt.check_softmax(softmax_answers.math_exp_on_array, [1.0, 2.0])
    assert "`ez = math.exp(z)`" in str(info.value)


def test_messages_print_full_precision_despite_print_options():
    old = np.get_printoptions()
    np.set_printoptions(precision=2)
    try:
        with pytest.raises(pt.PublicTestFailure) as info:
            pt.test_my_softmax(softmax_answers.rounded_to_two)
    finally:
        np.set_printoptions(**old)
    message = str(info.value)
    assert "expected: [0.03205860328008499, 0.08714431874203257, 0.2368828180899101" in message
    assert "actual:   [0.03, 0.09, 0.24, 0.64]" in message


def test_check_softmax_on_other_inputs():
    z = np.array([10.0, -2.0, 0.5])
    caller_copy = z.copy()
    result = pt.check_softmax(softmax_answers.lab_formula, z, case="hidden")
    np.testing.assert_allclose(result, _plain_softmax([10.0, -2.0, 0.5]), rtol=1e-12)
    np.testing.assert_array_equal(z, caller_copy)
    # even an answer that modifies its input never touches the caller's array
    with pytest.raises(pt.PublicTestFailure, match="in place"):
        pt.check_softmax(softmax_answers.subtracts_max_in_place, z)
    np.testing.assert_array_equal(z, caller_copy)
    with pytest.raises(pt.PublicTestFailure, match="hidden"):
        pt.check_softmax(softmax_answers.uniform, z, case="hidden")


@pytest.mark.parametrize("bad_z", [np.zeros((2, 2)), np.array([]), np.array(["a"]), 3.0])
def test_check_softmax_rejects_bad_test_inputs(bad_z):
    with pytest.raises(ValueError, match="1-D numeric"):
        pt.check_softmax(softmax_answers.lab_formula, bad_z)


def test_softmax_test_called_with_a_value_instead_of_the_function(capfd):
    with pytest.raises(pt.PublicTestFailure, match=r"without parentheses"):
        pt.test_my_softmax(np.array([0.1, 0.9]))
    assert capfd.readouterr() == ("", "")


# ------------------------------------------------------------------ model corpus
@pytest.mark.parametrize(
    "builder, match", model_answers.WRONG, ids=[b.__name__ for b, _ in model_answers.WRONG]
)
def test_wrong_model_fails_with_its_message(builder, match, capfd):
    target = builder()
    capfd.readouterr()
    with pytest.raises(pt.PublicTestFailure) as info:
        pt.test_model(target, 10, 400)
    assert match in str(info.value), str(info.value)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("builder", model_answers.CORRECT, ids=lambda b: b.__name__)
def test_correct_model_passes(builder, capfd):
    model = builder()
    capfd.readouterr()
    pt.test_model(model, 10, 400)
    assert capfd.readouterr() == ("All tests passed!\n", "")
    assert model.count_params() == 10025 + 390 + 160


def test_softmax_output_message_explains_from_logits():
    with pytest.raises(pt.PublicTestFailure) as info:
        pt.test_model(model_answers.softmax_output(), 10, 400)
    message = str(info.value)
    assert "Softmax placement" in message and "from_logits=True" in message
    assert "stays linear" in message


def test_check_model_structure_with_other_sizes():
    Dense = tf.keras.layers.Dense
    model = tf.keras.Sequential([tf.keras.Input(shape=(64,)), Dense(8, activation="relu"), Dense(3)])
    info = pt.check_model_structure(model, classes=3, input_size=64, hidden_units=(8,))
    assert [(i.kind, i.units, i.activation) for i in info] == [("Dense", 8, "relu"), ("Dense", 3, "linear")]
    with pytest.raises(pt.PublicTestFailure, match=r"one unit per class: 4 units"):
        pt.check_model_structure(model, classes=4, input_size=64, hidden_units=(8,))
    with pytest.raises(pt.PublicTestFailure, match=r"expects inputs of shape \(64,\)"):
        pt.check_model_structure(model, classes=3, input_size=400, hidden_units=(8,))


@pytest.mark.parametrize(
    "activation, kind",
    [
        ("relu", "relu"), (tf.nn.relu, "relu"), (tf.keras.activations.relu, "relu"),
        (tf.keras.layers.ReLU(), "relu"), (None, "linear"), ("linear", "linear"),
        (tf.nn.softmax, "softmax"), ("softmax", "softmax"), ("sigmoid", "sigmoid"),
        (tf.nn.sigmoid, "sigmoid"), ("tanh", "tanh"), ("elu", "elu"), ("relu6", "relu6"),
    ],
)
def test_activation_kind_recognises_every_spelling(activation, kind):
    layer = tf.keras.layers.Dense(3, activation=activation)
    assert pt.activation_kind(layer.activation) == kind


def test_unbuilt_model_gets_the_same_weights_as_with_input_and_no_random_state_is_used():
    def lab(with_input: bool):
        Dense = tf.keras.layers.Dense
        first = [tf.keras.Input(shape=(400,))] if with_input else []
        return tf.keras.Sequential(first + [Dense(25, activation="relu"), Dense(15, activation="relu"),
                                            Dense(10)])

    tf.keras.utils.set_random_seed(1234)
    reference = [w.copy() for w in lab(True).get_weights()]

    tf.keras.utils.set_random_seed(1234)
    model = lab(False)
    assert not model.built
    python_state, numpy_state = random.getstate(), np.random.get_state()
    pt.check_model_structure(model, 10, 400)
    assert model.built
    assert random.getstate() == python_state
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [w.shape for w in reference]
    for got, want in zip(weights, reference):
        np.testing.assert_array_equal(got, want)
    # a built model is left exactly as it was
    before = [w.copy() for w in model.get_weights()]
    pt.check_model_structure(model, 10, 400)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_test_model_leaves_training_numbers_unchanged():
    """Seeded training gives the same losses with or without test_model before it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 1.0, size=(64, 400)).astype(np.float32)
    y = rng.integers(0, 10, size=(64, 1))

    def train(with_input: bool, run_public_test: bool) -> list[float]:
        tf.keras.utils.set_random_seed(1234)
        Dense = tf.keras.layers.Dense
        first = [tf.keras.Input(shape=(400,))] if with_input else []
        model = tf.keras.Sequential(first + [Dense(25, activation="relu"), Dense(15, activation="relu"),
                                             Dense(10)])
        if run_public_test:
            pt.check_model_structure(model, 10, 400)
        model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      optimizer=tf.keras.optimizers.Adam(learning_rate=0.01))
        history = model.fit(X, y, epochs=1, batch_size=16, shuffle=True, verbose=0)
        return history.history["loss"]

    reference = train(with_input=True, run_public_test=False)
    np.testing.assert_allclose(train(with_input=True, run_public_test=True), reference, rtol=1e-6)
    np.testing.assert_allclose(train(with_input=False, run_public_test=True), reference, rtol=1e-6)


# ------------------------------------------------------------------ in a real kernel
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_tracebacks_in_a_kernel_hide_public_tests_frames(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import numpy as np\nfrom utils import not_answered_yet\nfrom public_tests import *\n"
        "np.set_printoptions(precision=2)",
        "def my_softmax(z):\n    not_answered_yet()\n    return z",
        "test_my_softmax(my_softmax)",
        "my_softmax(np.array([1.0]))",
        "test_model(model, 10, 400)",
        "print(zz)",
        "def my_softmax(z):\n    return np.round(np.exp(z) / np.sum(np.exp(z)), 2)",
        "test_my_softmax(my_softmax)",
        "def my_softmax(z):\n    ez = np.exp(z)\n    return ez / np.sum(ez)",
        "test_my_softmax(my_softmax)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [cell.outputs for cell in nb.cells]
    for cell_outputs in outputs:
        assert not [o for o in cell_outputs if o.get("name") == "stderr"], cell_outputs

    unanswered, = outputs[2]
    assert unanswered.output_type == "error" and unanswered.ename == "NotAnsweredYet"
    assert unanswered.evalue.startswith("my_softmax is not answered yet: replace the line `not_answered_yet()`")
    assert unanswered.evalue.count("not answered yet") == 1, unanswered.evalue  # said once
    text = ANSI.sub("", "\n".join(unanswered.traceback))
    assert "public_tests" not in text and "_common.py" not in text, text
    assert len(text.splitlines()) <= 12, text

    # the stub's own error: the student's frames only (no IPython, no utils)
    stub, = outputs[3]
    text = ANSI.sub("", "\n".join(stub.traceback))
    assert stub.ename == "NotAnsweredError" and "in my_softmax" in text, text
    assert "interactiveshell" not in text and "stubs.py" not in text, text
    # an answer not defined yet says which graded cell defines it; other names as usual
    missing, = outputs[4]
    text = ANSI.sub("", "\n".join(missing.traceback))
    assert missing.ename == "NameError" and "graded cell of Exercise 2" in text, text
    other, = outputs[5]
    assert other.ename == "NameError" and "name 'zz' is not defined" in ANSI.sub("", "\n".join(other.traceback))

    rounded, = outputs[7]
    assert rounded.ename == "PublicTestFailure" and "rounded to 2 decimal places" in rounded.evalue
    assert "0.03205860328008499" in rounded.evalue
    assert "public_tests" not in ANSI.sub("", "\n".join(rounded.traceback))

    passed, = outputs[9]
    assert passed.output_type == "stream" and passed.text == "All tests passed.\n"
