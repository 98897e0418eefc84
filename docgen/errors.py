"""The exception tree: one root, one subclass per subsystem, turned into messages in one place."""

from __future__ import annotations


class DocgenError(Exception):
    """Root of every error the product raises on purpose.

    The message is written for a person: what was wrong, where, and what to do.
    """


class ConfigurationError(DocgenError):
    """A configuration file or setting is missing, malformed or unsafe."""


class CaseFileError(DocgenError):
    """A case file failed validation; ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun} found, nothing was imported:\n{lines}")


class NotFoundError(DocgenError):
    """A conference, document or recipient asked for does not exist."""


class TemplateError(DocgenError):
    """A template is missing, broken, or tried something the sandbox forbids."""


class RenderError(DocgenError):
    """A document could not be rendered to PDF or DOCX."""


class RedactionError(DocgenError):
    """Withheld content would have reached a copy, or a copy failed its leak check."""


class HeldError(DocgenError):
    """An outbox item must wait, and the reason says for what; it is looked at again later, never sent another way."""


class NoRouteError(HeldError):
    """No delivery route the authority allows serves this recipient now (docgen.domain.routes)."""


class ApprovalError(HeldError):
    """A family copy has no valid chair approval for the content being released."""


class AuditError(DocgenError):
    """The audit trail is broken or has been tampered with."""


class CalendarError(DocgenError):
    """Working-day arithmetic was asked something it cannot answer."""


class CirculationRuleError(ConfigurationError):
    """A circulation rule in the rules file is malformed."""


class SchedulingError(DocgenError):
    """An outbox item cannot be scheduled or dispatched as asked."""


class ConflictError(DocgenError):
    """A save was based on a version of a conference that is no longer the newest: someone else
    saved first, and nothing was saved."""


class StoredContentError(DocgenError):
    """What the database holds for a conference is not what docgen saved: it was changed outside docgen."""


class AccountError(DocgenError):
    """A staff account cannot be made or changed as asked (a taken username, a short password, an unknown role)."""


class SignInRefused(DocgenError):
    """A sign-in did not succeed: wrong credentials, a disabled account, or too many attempts. The message
    says which only where saying so tells an attacker nothing."""


class AccessDenied(DocgenError):
    """The signed-in person's role, or their relation to the conference, does not allow what was asked."""


class ApiKeyError(DocgenError):
    """An API key cannot be made or revoked as asked, or a request's key is missing, unknown or revoked."""


class FolderInUseError(DocgenError):
    """Another docgen process is writing into the same folder; the message says who and since when."""


class PortalError(DocgenError):
    """The recipient portal cannot do what was asked: a link, code or document that does not work, or a
    code that cannot be sent. Messages shown to recipients say what to do, never why a link stopped."""


class PortalUnavailable(PortalError, HeldError):
    """The portal has no key (``DOCGEN_PORTAL_SECRET``) to protect documents and links with, so nothing
    can be published or opened; the dispatcher holds the item rather than send it another way."""
