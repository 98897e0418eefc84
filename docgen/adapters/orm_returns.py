"""Business support's answers to the chair's comments on a returned family copy: one answer for each
return (the return itself, with the chair's comment, is the chair's decision kept by ``approval``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docgen.adapters.orm import Base
from docgen.adapters.orm_outbox import UtcDateTime


class ReturnAnswer(Base):
    """How business support answered a returned copy: ``approval`` is the id of the chair's decision
    that returned it. Until it is answered the copy does not come back to the chair's queue."""

    __tablename__ = "return_answers"
    __table_args__ = (Index("ix_return_answers_reference", "conference_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval: Mapped[int] = mapped_column(Integer, unique=True)
    conference_reference: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)
