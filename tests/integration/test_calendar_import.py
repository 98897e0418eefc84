"""The working-day calendar does not load the holidays package on import: checked in a fresh
interpreter, a separate process, which is why this test is not with the calendar's unit tests."""

from __future__ import annotations

import subprocess
import sys


def test_holidays_package_is_not_loaded_at_import_time() -> None:
    probe = "import sys, docgen.domain.calendar; print('holidays' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
