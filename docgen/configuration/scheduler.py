"""The scheduler's policy, read from ``scheduler.toml`` in the configuration folder.

How often it runs, how many items a pass claims, how long a claim lasts, how it retries, whom it
warns, and where its keys and delivery folder are. ``docgen scheduler``'s flags override these
values one by one; ``DOCGEN_SIGNING_IDENTITY``, ``DOCGEN_ARCHIVE_CERTIFICATE`` and
``DOCGEN_CA_BUNDLE`` override the file's paths (and a flag overrides them).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen.configuration.folder import config_file
from docgen.configuration.toml import (
    At,
    Check,
    Problems,
    at_least,
    checked,
    non_empty_text,
    read_dataclass,
    read_toml,
    whole_number,
)
from docgen.errors import ConfigurationError

FILE_NAME = "scheduler.toml"
HEADING = "Scheduler settings not loaded"
#: Environment variables that override the file's paths (deployments keep keys outside the repository).
ENVIRONMENT: Mapping[str, str] = {
    "signing_identity": "DOCGEN_SIGNING_IDENTITY",
    "archive_certificate": "DOCGEN_ARCHIVE_CERTIFICATE",
    "ca_bundle": "DOCGEN_CA_BUNDLE",
}


@dataclass(frozen=True)
class SchedulerSettings:
    """Every key of ``scheduler.toml``; the defaults are the shipped file's values.

    ``None`` means the key was left out: the authority's email for ``envelope_from`` and
    ``business_support``, nothing for the paths (the scheduler then refuses to start without a
    signing identity and an archive certificate).
    """

    interval_seconds: float = 10.0
    batch_size: int = 20
    lease_seconds: float = 60.0
    max_attempts: int = 12
    backoff_base_seconds: float = 30.0
    backoff_cap_seconds: float = 1800.0
    warn_before_hours: float = 24.0
    business_support: str | None = None
    notices: bool = True
    envelope_from: str | None = None
    delivery_folder: Path = Path("var/delivery")
    signing_identity: Path | None = None
    archive_certificate: Path | None = None
    ca_bundle: Path | None = None


_CHECKS: Mapping[str, Check] = {
    "interval_seconds": checked(at_least(0, above=True)),
    "batch_size": checked(at_least(1, whole_number)),
    "lease_seconds": checked(at_least(0, above=True)),
    "max_attempts": checked(at_least(1, whole_number)),
    "backoff_base_seconds": checked(at_least(0, above=True)),
    "backoff_cap_seconds": checked(at_least(0, above=True)),
    "warn_before_hours": checked(at_least(0)),
    "business_support": checked(non_empty_text),
    "envelope_from": checked(non_empty_text),
}


def load_scheduler_settings(config_dir: Path | None = None, *,
                            environ: Mapping[str, str] | None = None) -> SchedulerSettings:
    """``scheduler.toml`` from the configuration folder, then the environment's paths over it.

    Raises ``ConfigurationError`` listing every problem in the file.
    """
    path = config_file(FILE_NAME, config_dir)
    problems = Problems()
    data = read_toml(path, problems)
    settings = read_scheduler_settings(data, At(str(path), problems)) if data is not None else None
    problems.raise_if_any(HEADING)
    if settings is None:  # cannot happen without a problem reported; never go on without settings
        raise ConfigurationError(f"{path}: the scheduler settings could not be read")
    named = os.environ if environ is None else environ
    # An empty variable counts as unset, as it always has for these variables.
    overrides: dict[str, Any] = {key: Path(named[variable]) for key, variable in ENVIRONMENT.items()
                                 if named.get(variable)}
    return dataclasses.replace(settings, **overrides)


def read_scheduler_settings(data: Mapping[str, Any], at: At) -> SchedulerSettings | None:
    """The settings in a parsed file, or ``None`` after reporting every problem at ``at``."""
    settings = read_dataclass(SchedulerSettings, data, at, checks=_CHECKS)
    if settings is not None and settings.backoff_cap_seconds < settings.backoff_base_seconds:
        at.key("backoff_cap_seconds").report("must be at least backoff_base_seconds")
        return None
    return settings
