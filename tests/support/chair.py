"""What a chair does before approving a family copy, for tests that need an approved copy: open
the review of the current content, share each open disclosure flag with a reason, approve."""

from __future__ import annotations

import tempfile
from pathlib import Path

from docgen.adapters.orm_governance import Approval
from docgen.services import approval, review, risk
from docgen.services.runtime import Runtime


def review_and_approve(runtime: Runtime, reference: str, person: str, *, chair: str, comment: str | None = None,
                       out_dir: Path | None = None) -> Approval:
    """Preview as ``chair``, share every open flag (the tests judge the examples' flags shareable), approve."""
    with tempfile.TemporaryDirectory() as scratch:
        review.preview(runtime, reference, person, actor=chair, chair=chair, out_dir=out_dir or Path(scratch))
    for flag in risk.flags(runtime, reference, person, actor=chair):
        if flag.status == "open":
            risk.resolve_flag(runtime, reference, person, flag.key, resolution="share",
                              reason="Judged shareable for this test", chair=chair)
    return approval.approve(runtime, reference, person, chair=chair, comment=comment)
