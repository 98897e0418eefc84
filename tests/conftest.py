"""Shared fixtures: the example case, a database on every backend (SQLite always, PostgreSQL when
DOCGEN_TEST_POSTGRES_URL names one), the services' runtime, and the demo PKIs (each made once per run)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.orm import sessionmaker

from distribution import demo_pki
from docgen.adapters.casefile import load_case_file, validate_case
from docgen.adapters.database import make_engine, migrate
from docgen.configuration.authority import load_settings
from docgen.domain.calendar import LONDON
from docgen.services.runtime import Runtime
from tests.support.pki import AUTHORITY_EMAIL, RECIPIENTS, SIGNING_PASSPHRASE
from tests.support.postgres import scratch_schema

# Fixtures defined in the support package, available to every test by name.
pytest_plugins = ("tests.support.smtp", "tests.support.web", "tests.support.fake_notify", "tests.support.portal")

# Property tests check behaviour, not speed: a shared 2-core CI machine must not fail them on time.
hypothesis_settings.register_profile("docgen", deadline=None)
hypothesis_settings.load_profile("docgen")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "haddad-wisniewska.yaml"
POSTGRES_URL = os.environ.get("DOCGEN_TEST_POSTGRES_URL")

RUNTIME_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=LONDON)
"""Where the ``runtime`` fixture's clock stands: the example conference's invitations are being sent."""

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not POSTGRES_URL, reason="set DOCGEN_TEST_POSTGRES_URL to run the PostgreSQL backend"))]


@pytest.fixture(scope="session")
def example_data() -> dict[str, Any]:
    """The example case file as parsed, before validation."""
    return load_case_file(EXAMPLE)


@pytest.fixture
def example_case(example_data: dict[str, Any]) -> dict[str, Any]:
    return validate_case(copy.deepcopy(example_data), source=str(EXAMPLE))


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def pki_at() -> datetime:
    """When the session's demo PKI was made: the real time, because the tools recipients open their
    copies with (``openssl cms -verify``) check certificates against the real clock; in whole
    seconds, as certificates hold them."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory, pki_at: datetime) -> demo_pki.DemoPki:
    """The demo PKI every test shares, made once per run: a CA, the authority's signing identity
    (passphrase ``tests.support.pki.SIGNING_PASSPHRASE``), an archive certificate and the
    recipients in ``tests.support.pki.RECIPIENTS``. Every test reads the same files: a test that
    needs a file of its own writes it in its own ``tmp_path``, never in ``pki.folder``."""
    return demo_pki.create_demo_pki(tmp_path_factory.mktemp("demo-pki"), at=pki_at,
                                    signing_passphrase=SIGNING_PASSPHRASE, authority_email=AUTHORITY_EMAIL,
                                    recipients=RECIPIENTS)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'docgen.sqlite3'}"
        return
    assert POSTGRES_URL is not None
    with scratch_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def runtime(database_url: str, settings) -> Iterator[Runtime]:
    """The services' runtime on each backend, its clock stopped at ``RUNTIME_NOW``."""
    engine = make_engine(database_url)
    migrate(engine)
    yield Runtime(settings=settings, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False),
                  clock=lambda: RUNTIME_NOW)
    engine.dispose()


@pytest.fixture(scope="session")
def example_pki(tmp_path_factory: pytest.TempPathFactory, example_data: dict[str, Any]) -> demo_pki.DemoPki:
    """A demo PKI for sending the example conference on the ``runtime`` fixture's clock: made at
    ``RUNTIME_NOW`` (the shared ``pki`` is made at the real time, which the stopped clock is before),
    with a certificate for each professional of the example, once per run. The same signing
    passphrase and authority address as the shared ``pki``."""
    # Valid for as long as the CA: the scheduler process and ``openssl cms -verify`` check these
    # certificates against the real clock, which will be years past RUNTIME_NOW for this suite's life.
    return demo_pki.create_demo_pki(tmp_path_factory.mktemp("example-pki"), at=RUNTIME_NOW,
                                    signing_passphrase=SIGNING_PASSPHRASE, authority_email=AUTHORITY_EMAIL,
                                    recipients=[(p["name"], p["email"]) for p in example_data["professionals"]],
                                    lifetime=timedelta(days=3650))
