"""Realistic student answers to Exercise 1 (`my_softmax`), wrong and correct.

Each wrong answer is registered with a distinctive piece of the message that the
public test must give for it; tests/test_public_tests.py proves that it does, and
that every correct answer passes. When a check is added to public_tests, the
mistake it catches is added here.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from utils import not_answered_yet

#: (answer, piece of the expected failure message)
WRONG: list[tuple[Callable, str]] = []
#: answers that must pass
CORRECT: list[Callable] = []
#: answers made to pass the public test only (lookups, special cases): hidden tests must reject them
PUBLIC_ONLY: list[Callable] = []


def wrong(match: str) -> Callable[[Callable], Callable]:
    def register(answer: Callable) -> Callable:
        WRONG.append((answer, match))
        return answer

    return register


def correct(answer: Callable) -> Callable:
    CORRECT.append(answer)
    return answer


def public_only(answer: Callable) -> Callable:
    PUBLIC_ONLY.append(answer)
    return answer


# ---------------------------------------------------------------- wrong answers
@wrong("is not answered yet")
def unanswered(z):
    not_answered_yet()


@wrong("the exponential is missing")
def no_exponent(z):
    return z / np.sum(z)


@wrong("not divided by the sum")
def forgot_division(z):
    return np.exp(z)


@wrong("The denominator is np.sum(z)")
def denominator_sum_of_z(z):
    return np.exp(z) / np.sum(z)


@wrong("divided by the largest one")
def denominator_max(z):
    ez = np.exp(z)
    return ez / np.max(ez)


@wrong("mean of the exponentials")
def denominator_mean(z):
    ez = np.exp(z)
    return ez / np.mean(ez)


@wrong("leaves out the last term")
def loop_stops_one_short(z):
    n = z.shape[0]
    ez = np.exp(z)
    total = 0.0
    for k in range(n - 1):
        total += ez[k]
    return ez / total


@wrong("leaves out the first term")
def loop_skips_first(z):
    ez = np.exp(z)
    total = 0.0
    for k in range(1, len(z)):
        total += ez[k]
    return ez / total


@wrong("log-softmax")
def log_softmax(z):
    return z - np.log(np.sum(np.exp(z)))


@wrong("sigmoid 1 / (1 + e**-z)")
def sigmoid_instead(z):
    return 1 / (1 + np.exp(-z))


@wrong("softmax of -z")
def sign_error(z):
    ez = np.exp(-z)
    return ez / np.sum(ez)


@wrong("Every output is 1/N")
def uniform(z):
    return np.ones(z.shape) / len(z)


@wrong("Every output is 1:")
def divided_by_itself(z):
    ez = np.exp(z)
    a = np.zeros(z.shape)
    for j in range(len(z)):
        a[j] = ez[j] / ez[j]
    return a


@wrong("the lab example's answer")
def hard_coded_public_output(z):
    return np.array([0.03205860328008499, 0.08714431874203257, 0.23688281808991013, 0.6439142598879722])


@wrong("rounded to 2 decimal places")
def rounded_to_two(z):
    ez = np.exp(z)
    return np.round(ez / np.sum(ez), 2)


@wrong("rounded to 4 decimal places")
def rounded_to_four(z):
    ez = np.exp(z)
    return np.array([round(v, 4) for v in ez / np.sum(ez)])


@wrong("modified its input z in place")
def subtracts_max_in_place(z):
    z -= np.max(z)
    ez = np.exp(z)
    return ez / np.sum(ez)


@wrong("modified its input z in place")
def exp_into_input(z):
    np.exp(z, out=z)
    return z / np.sum(z)


@wrong("TensorFlow tensor")
def returns_tf_tensor(z):
    import tensorflow as tf

    return tf.nn.softmax(z)


@wrong("raised InvalidArgumentError at line")
def tensorflow_on_integer_input(z):
    # tf.nn.softmax accepts only floating tensors: the integer case fails
    import tensorflow as tf

    return tf.nn.softmax(z).numpy()


@wrong("returned a Python list")
def returns_list(z):
    total = sum(math.exp(v) for v in z)
    return [math.exp(v) / total for v in z]


@wrong("returned None")
def forgot_return(z):
    ez = np.exp(z)
    a = ez / np.sum(ez)  # noqa: F841


@wrong("np.zeros_like(z) and np.empty_like(z) make *integer* arrays")
def zeros_like_integer_input(z):
    a = np.zeros_like(z)
    total = np.sum(np.exp(z))
    for j in range(z.shape[0]):
        a[j] = np.exp(z[j]) / total
    return a


@wrong("returned an array of shape (4, 1)")
def column_vector(z):
    ez = np.exp(z).reshape(-1, 1)
    return ez / np.sum(ez)


@wrong("returned a single number")
def returns_the_sum(z):
    ez = np.exp(z)
    return np.sum(ez / np.sum(ez))


@wrong("raised TypeError at line")
def math_exp_on_array(z):
    ez = math.exp(z)
    return ez / sum(ez)


@wrong("add up to 1 but are not")
def sorted_output(z):
    ez = np.exp(z)
    return np.sort(ez / np.sum(ez))


@wrong("non-finite values")
def sums_positive_entries_only(z):
    ez = np.exp(z)
    return ez / np.sum(ez[z > 0])


# ---------------------------------------------------------------- correct answers
@correct
def lab_formula(z):
    ez = np.exp(z)
    a = ez / np.sum(ez)
    return a


@correct
def overflow_safe(z):
    ez = np.exp(z - np.max(z))
    return ez / np.sum(ez)


@correct
def loop_with_float_zeros(z):
    n = len(z)
    a = np.zeros(n)
    total = 0.0
    for k in range(n):
        total += np.exp(z[k])
    for j in range(n):
        a[j] = np.exp(z[j]) / total
    return a


@correct
def zeros_like_with_float_dtype(z):
    a = np.zeros_like(z, dtype=float)
    ez = np.exp(z)
    for j in range(len(z)):
        a[j] = ez[j] / ez.sum()
    return a


@correct
def tensorflow_then_numpy(z):
    import tensorflow as tf

    return tf.nn.softmax(z.astype(float)).numpy()


@correct
def via_logsumexp(z):
    return np.exp(z - np.log(np.sum(np.exp(z))))


@correct
def comprehension_to_array(z):
    total = sum(math.exp(v) for v in z)
    return np.array([math.exp(v) / total for v in z])


@correct
def power_of_e(z):
    ez = math.e**z
    return ez / ez.sum()


@correct
def copies_then_in_place(z):
    z = z.astype(float)  # a new array: the in-place steps below do not touch the caller's
    z -= z.max()
    np.exp(z, out=z)
    z /= z.sum()
    return z


@correct
def keepdims_sum(z):
    ez = np.exp(z)
    return np.divide(ez, np.sum(ez, axis=-1, keepdims=True))


@correct
def in_float32(z):
    ez = np.exp(np.asarray(z, dtype=np.float32))
    return ez / np.sum(ez)


# ---------------------------------------------------------------- made for the public test only
def _public_cases():
    from public_tests import SOFTMAX_CASES

    return [np.asarray(z) for _, z in SOFTMAX_CASES]


@public_only
def looks_up_the_public_inputs(z):
    # the softmax of exactly the inputs the public test tries, and 1/N for anything else
    for seen in _public_cases():
        if seen.shape == np.shape(z) and np.allclose(seen, z):
            ez = np.exp(seen - np.max(seen))
            return ez / np.sum(ez)
    return np.full(np.shape(z), 1.0 / np.size(z))


@public_only
def right_only_up_to_length_ten(z):
    # the public inputs have at most 10 values; longer inputs lose their tail
    ez = np.exp(z)
    a = ez / np.sum(ez[:10])
    a[10:] = 0.0
    return a
