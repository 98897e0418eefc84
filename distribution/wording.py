"""What mail systems see of a document: a subject and an attachment name in plain words.

Each says what the document is, in words a recipient understands, and nothing that identifies the
family: never the conference reference, a name, a report's author or the copy's audience. The
protective marking (``marking.protective_marking`` in the authority's configuration) leads the
subject when one is set, as the Government Security Classifications ask for email.
"""

from __future__ import annotations

from typing import NamedTuple


class Wording(NamedTuple):
    words: str  # what the document is, for a subject line and a letter: "invitation"
    filename: str  # the attachment's name: "invitation.pdf"


#: Every document kind (``docgen.domain.documents.KINDS``) in plain words.
DOCUMENT_WORDS: dict[str, Wording] = {
    "parent_invitation": Wording("invitation", "invitation.pdf"),
    "professional_invitation": Wording("invitation", "invitation.pdf"),
    "professional_guidance": Wording("guidance for professionals", "guidance.pdf"),
    "child_invitation": Wording("invitation", "invitation.pdf"),
    "exclusion_letter": Wording("letter about attending", "letter.pdf"),
    "social_worker_report": Wording("social worker's report", "social-worker-report.pdf"),
    "agency_report_form": Wording("report form", "report-form.pdf"),
    "agency_report": Wording("agency report", "agency-report.pdf"),
    "conference_record": Wording("record", "record.pdf"),
    "decisions_notice": Wording("decisions", "decisions.pdf"),
    "outline_plan": Wording("outline plan", "outline-plan.pdf"),
    "discharge_notification": Wording("plan ended", "plan-ended.pdf"),
}
_ANY_DOCUMENT = Wording("document", "document.pdf")


def wording(kind: str) -> Wording:
    """The plain words for a document kind; a kind not listed is just "document"."""
    return DOCUMENT_WORDS.get(kind, _ANY_DOCUMENT)


def subject(kind: str, protective_marking: str | None = None) -> str:
    """``OFFICIAL-SENSITIVE: Child protection conference: invitation``, the marking only when set."""
    text = f"Child protection conference: {wording(kind).words}"
    marking = (protective_marking or "").strip()
    return f"{marking}: {text}" if marking else text
