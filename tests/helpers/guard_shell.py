"""The grading guard run in a real IPython shell, in a subprocess of its own (so that the
shell's hooks never touch the test process)."""
from __future__ import annotations

import json
import subprocess
import sys


def run_guard_script(script: str) -> dict:
    """Run ``script`` with this Python; return the JSON it printed after ``RESULT``."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    line = [out for out in proc.stdout.splitlines() if out.startswith("RESULT")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[0][len("RESULT"):])
