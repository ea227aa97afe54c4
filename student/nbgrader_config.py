"""nbgrader settings of a student's JupyterLab: only the Validate button uses them.

Validate runs the whole notebook, 40 epochs of training included: nbgrader's default of
30 s per cell is too short on a slow laptop. The same values as the course's own settings.
"""
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.Execute.timeout = 600
c.Execute.iopub_timeout = 60
c.Execute.shutdown_kernel = "immediate"
