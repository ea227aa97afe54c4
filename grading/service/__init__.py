"""Submit for grading on the course hub: the grading service (``python -m grading.service``, a
JupyterHub service run by the hub as root) and the student server's side of the button."""
