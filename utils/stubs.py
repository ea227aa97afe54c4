"""What an unanswered graded cell calls in the student version of the lab."""
from __future__ import annotations


def not_answered_yet(*_args: object, **_kwargs: object):
    """Raise NotImplementedError: nbgrader puts ``not_answered_yet()`` where an answer goes.

    The call is valid both as a statement (in ``my_softmax``) and as the single
    element of the ``Sequential([...])`` list, so every release cell is valid Python.
    """
    raise NotImplementedError(
        "This graded cell is not answered yet: replace the line `not_answered_yet()` "
        "between '### START CODE HERE ###' and '### END CODE HERE ###' with your code."
    )
