"""Debian's Chromium for the browser tests: where it is and the flags it runs with here."""
from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MISSING = f"{CHROMIUM} is missing: run `bash tools/install_browser.sh` (installs Debian's chromium)"
