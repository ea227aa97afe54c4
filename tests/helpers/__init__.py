"""Shared code of the test suite: one package, imported the same way by every test.

pytest puts ``tests/`` on ``sys.path`` (``pythonpath`` in pyproject.toml), so ``helpers`` is
importable from any test, from any working directory, and in the pytest subprocesses the
tests start (they add ``tests/`` to PYTHONPATH).

The rule, applied everywhere:

- **import** (``from helpers.<module> import name``) what a test calls with its own arguments
  or needs at collection time: functions, classes, constants, and the answer and case
  catalogues that feed ``pytest.mark.parametrize`` (fixtures do not exist at collection);
- **fixtures** (``tests/conftest.py``, or the conftest.py of the one folder that uses them)
  for ready-made things a test receives: notebooks read from disk, temporary course folders,
  servers and graded batches, i.e. anything with a set-up cost or a clean-up.

No test module imports another test module, and nothing is loaded from a file path except
the scripts of ``tools/`` (:func:`helpers.repo.import_tool`).

Modules: :mod:`repo` (paths of the repository), :mod:`notebooks` (cells by nbgrader grade id),
:mod:`submissions` (the graded lab's ordinary submissions), :mod:`softmax_answers` and
:mod:`model_answers` (the public tests' answer corpus), :mod:`faults` (fault and cheat cases),
:mod:`escapes` and :mod:`redteam` (sandbox escape attempts), :mod:`attack_batch` (the red
team's attempts and the forgeries graded in one batch), :mod:`courses` (temporary
course folders, gradebook reads), :mod:`feedback` (hidden-test lines found in feedback pages), :mod:`trained_outputs` and :mod:`nbval_tolerance`
(cross-CPU tolerances), :mod:`figures` (pyplot figures and ipympl for the figure tests),
:mod:`jupyter_server` and :mod:`lab_page` (a private JupyterLab and a Chromium page driving
it, for the browser tests; the page's JavaScript is in ``js/``), :mod:`chromium` (Debian's
Chromium and its flags), :mod:`feedback_page` (a feedback page as the course writes it, read
offline in Chromium), :mod:`guard_shell` (the grading guard in an IPython shell of its own).
"""
