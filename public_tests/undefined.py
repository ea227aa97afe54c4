"""A clear message, in the notebook, when an answer of the lab is not defined yet.

A blank notebook's model cell stops at ``not_answered_yet()``, so ``model`` is never
assigned, and every later cell that uses it (the test among them) would stop with Python's
bare "NameError: name 'model' is not defined". Imported with the public tests, this module
gives the IPython shell a handler for that NameError, for the lab's answer names only: it
says which graded cell defines the name and what to do. Every other NameError is shown as
IPython shows it.
"""

from __future__ import annotations

from typing import Any

#: The names the lab's graded cells define, and the exercise that defines each.
ANSWERS = {"my_softmax": "Exercise 1 (my_softmax)", "model": "Exercise 2 (the Sequential model)"}


def message(name: str) -> str:
    """What the student reads when the answer ``name`` is not defined."""
    return (
        f"`{name}` is not defined yet: run the graded cell of {ANSWERS[name]} first. If that "
        "cell says it is not answered yet, write your answer there, run it, then run this cell again."
    )


def _handler(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> list[str]:
    name = getattr(value, "name", None)
    if name in ANSWERS and etype is NameError:
        red, reset = "\x1b[0;31m", "\x1b[0m"
        stb = [f"{red}{'-' * 75}{reset}", f"{red}NameError{reset}: {message(name)}"]
        shell._showtraceback(etype, value, stb)
        return stb
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return []


def install() -> bool:
    """Give the running IPython shell the handler (once); False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if NameError not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((NameError,), _handler)
    return True
