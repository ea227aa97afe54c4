"""The course grader: a JupyterHub service that grades a submitted notebook, and the student server's side of it."""
