"""The loopback STARTTLS mail server (``docgen.entrypoints.demo_mail``) as a pytest fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docgen.entrypoints.demo_mail import LoopbackMailServer, MailStore, free_port

__all__ = ["MailStore", "free_port", "smtp_server"]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Any:
    """A STARTTLS-only aiosmtpd server on loopback; yields (store, transport config file)."""
    with LoopbackMailServer(tmp_path / "mail-server") as server:
        yield server.store, server.config
