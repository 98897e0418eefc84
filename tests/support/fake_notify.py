"""GOV.UK Notify's stand-in on loopback (``docgen.entrypoints.demo_notify``) as a pytest fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docgen.entrypoints.demo_notify import FakeNotify

__all__ = ["FakeNotify", "fake_notify"]


@pytest.fixture
def fake_notify() -> Iterator[FakeNotify]:
    """GOV.UK Notify's stand-in on 127.0.0.1 (a random port): ``fake_notify.base_url``, ``.api_key``,
    ``.email_template.id``, ``.sms_template.id``; read ``.texts_to(number)``, ``.emails()``, ``.letters()``."""
    fake = FakeNotify()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
