"""The real clock, in the conference service's time zone. Everything else takes a clock as an argument."""

from __future__ import annotations

from datetime import datetime

from docgen.domain.calendar import LONDON


def london_now() -> datetime:
    return datetime.now(LONDON)
