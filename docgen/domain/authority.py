"""The authority's details and wording as the documents use them (read from ``config/authority.toml``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str = ""
    website: str = ""
    description: str = ""


@dataclass(frozen=True)
class Authority:
    name: str
    service: str
    address: tuple[str, ...]
    phone: str
    email: str
    website: str = ""
    logo: str = ""


@dataclass(frozen=True)
class Marking:
    protective_marking: str = "OFFICIAL-SENSITIVE"
    family_copy_label: str = "PARENT'S COPY"
    child_copy_label: str = "YOUR COPY"
    legal_copy_label: str = "COPY FOR LEGAL REPRESENTATIVE"
    confidentiality_notice: str = (
        "This record is confidential. Do not pass it, or anything in it, to anyone else without the "
        "conference chair's consent or a court order.")
    withheld_placeholder: str = "Some information has been withheld from this copy."
    show_placeholder: bool = True


@dataclass(frozen=True)
class Contacts:
    complaints: str
    interpreter: str
    advocacy: tuple[Contact, ...] = ()
    children: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class ApprovalRules:
    """Who may approve family copies. A second pair of eyes by default: the chair may not approve
    a version of the content they saved themselves."""

    chair_may_approve_own_edits: bool = False


@dataclass(frozen=True)
class Templates:
    """Where the authority keeps its own templates. ``folder`` is an absolute path once read (the
    file gives it relative to the configuration folder); empty means the shipped templates only."""

    folder: str = ""


@dataclass(frozen=True)
class Settings:
    authority: Authority
    marking: Marking
    contacts: Contacts
    approval: ApprovalRules = ApprovalRules()
    templates: Templates = Templates()
    source: str = field(default="", compare=False)
