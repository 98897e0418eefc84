"""Configuration: every file read strictly through one reader, the scheduler's policy from scheduler.toml, flags over it."""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from docgen.bootstrap import dispatch_policy
from docgen.configuration.authority import load_settings
from docgen.configuration.circulation import (
    CALENDAR_KEYS,
    OPTIONAL_RULE_KEYS,
    REQUIRED_RULE_KEYS,
    TOP_LEVEL_KEYS,
    load_rules,
)
from docgen.configuration.delivery import ChannelsSettings, DeliverySettings, RoutesSettings, load_delivery_settings
from docgen.configuration.folder import DEFAULT_CONFIG_DIR, config_dir, config_file
from docgen.configuration.scheduler import SchedulerSettings, load_scheduler_settings
from docgen.configuration.transports import (
    NotifySettings,
    OutboxFolderSettings,
    PrintBatchSettings,
    SmsFolderSettings,
    SmtpSettings,
    TransportSettings,
    load_transport,
)
from docgen.configuration.web import WebSettings
from docgen.domain.authority import Authority, Contact, Contacts, Marking, Templates
from docgen.domain.outbox import Backoff
from docgen.entrypoints.cli_schedule import FLAG_KEYS, register, with_flags
from docgen.errors import ConfigurationError
from docgen.services.dispatch import DispatchPolicy

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config"
AUTHORITY_EMAIL = "cp.conferences@northmoor.gov.uk"


def shipped(name: str, old: str = "", new: str = "") -> str:
    """The shipped ``name`` with ``old`` replaced by ``new`` (``old`` must be there)."""
    text = (SHIPPED / name).read_text(encoding="utf-8")
    if old:
        assert old in text, f"{old!r} is not in config/{name}"
        text = text.replace(old, new, 1)
    return text


def load(name: str, folder: Path) -> Any:
    """Read the configuration file ``name`` in ``folder`` the way the product does."""
    if name == "authority.toml":
        return load_settings(folder)
    if name == "circulation.toml":
        return load_rules(folder / name)
    if name == "scheduler.toml":
        return load_scheduler_settings(folder, environ={})
    if name == "delivery.toml":
        if not (folder / name).exists():  # an absent delivery.toml means the shipped defaults
            raise ConfigurationError(f"{folder / name}: cannot be read")
        return load_delivery_settings(folder)
    return load_transport(folder / name)


# -- every file: unknown keys, wrong types and missing keys name the file and the key ------------

A_RULE = ('[[rules]]\nname = "r"\ndocument = "agency_report"\naudience = "chair"\nanchor = "conference"\n'
          'offset = -3\nunit = "working_days"\nwindow = "no_later_than"\nsource = "s"\n')

PROBLEMS = [
    # authority.toml
    pytest.param("authority.toml", shipped("authority.toml", "[authority]\n", "[authority]\ncolour = \"red\"\n"),
                 "authority.colour: unknown key; known keys: name, service, address, phone, email, website, logo",
                 id="authority-unknown-key"),
    pytest.param("authority.toml", shipped("authority.toml") + "\n[extras]\nx = 1\n",
                 "extras: unknown key; known keys: authority, marking, contacts", id="authority-unknown-table"),
    pytest.param("authority.toml", shipped("authority.toml", 'name = "Family Rights Group advice line"\n',
                                           'name = "Family Rights Group advice line"\nfax = "1"\n'),
                 "contacts.advocacy[1].fax: unknown key; known keys: name, phone, website, description",
                 id="authority-unknown-key-in-array-of-tables"),
    pytest.param("authority.toml", shipped("authority.toml", "show_placeholder = true", 'show_placeholder = "yes"'),
                 "marking.show_placeholder: must be true or false, not text", id="authority-wrong-type"),
    pytest.param("authority.toml", shipped("authority.toml", '"Northmoor", "NM1 1AA"', '"Northmoor", 11'),
                 "authority.address[3]: must be text (in quotes), not a whole number", id="authority-wrong-type-in-list"),
    pytest.param("authority.toml", shipped("authority.toml", 'email = "cp.conferences@northmoor.gov.uk"\n', ""),
                 "authority.email: required but missing", id="authority-missing-key"),
    pytest.param("authority.toml", shipped("authority.toml").split("[contacts]")[0],
                 "contacts: required but missing", id="authority-missing-table"),
    pytest.param("authority.toml", shipped("authority.toml", '[[contacts.children]]\nname = "Childline"\n',
                                           "[[contacts.children]]\n"),
                 "contacts.children[1].name: required but missing", id="authority-missing-key-in-array-of-tables"),
    # circulation.toml
    pytest.param("circulation.toml", A_RULE + 'colour = "red"\n',
                 "rules[0].colour (rule 'r'): unknown key; known keys: name, document, audience, anchor, offset, "
                 "unit, window, source, conference_kinds, description, enabled", id="circulation-unknown-key"),
    pytest.param("circulation.toml", '[calendar]\nholidays = []\n' + A_RULE,
                 "calendar.holidays: unknown key; known keys: region, closures, end_of_day, timezone",
                 id="circulation-unknown-calendar-key"),
    pytest.param("circulation.toml", A_RULE.replace("offset = -3", 'offset = "-3"'),
                 "rules[0].offset (rule 'r'): '-3' is not a whole number", id="circulation-wrong-type"),
    pytest.param("circulation.toml", A_RULE.replace('source = "s"\n', ""),
                 "rules[0].source (rule 'r'): missing; every rule needs", id="circulation-missing-key"),
    # scheduler.toml
    pytest.param("scheduler.toml", shipped("scheduler.toml", "notices = true", "notice = true"),
                 "notice: unknown key; known keys: interval_seconds, batch_size, lease_seconds, max_attempts, "
                 "backoff_base_seconds, backoff_cap_seconds, warn_before_hours, business_support, notices, "
                 "envelope_from, delivery_folder, signing_identity, archive_certificate, ca_bundle",
                 id="scheduler-unknown-key"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "interval_seconds = 10", 'interval_seconds = "10"'),
                 "interval_seconds: must be a number, not text", id="scheduler-wrong-type"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "batch_size = 20", "batch_size = 2.5"),
                 "batch_size: must be a whole number, not a number", id="scheduler-fraction-for-whole-number"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "notices = true", "notices = 1"),
                 "notices: must be true or false, not a whole number", id="scheduler-number-for-boolean"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "batch_size = 20", "batch_size = 0"),
                 "batch_size: must be at least 1", id="scheduler-batch-size-zero"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "lease_seconds = 60", "lease_seconds = 0"),
                 "lease_seconds: must be more than 0", id="scheduler-lease-zero"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "warn_before_hours = 24", "warn_before_hours = -1"),
                 "warn_before_hours: must be at least 0", id="scheduler-negative-warning"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "backoff_cap_seconds = 1800", "backoff_cap_seconds = 10"),
                 "backoff_cap_seconds: must be at least backoff_base_seconds", id="scheduler-cap-below-base"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", 'delivery_folder = "var/delivery"', 'delivery_folder = ""'),
                 "delivery_folder: must not be empty", id="scheduler-empty-path"),
    pytest.param("scheduler.toml", shipped("scheduler.toml", "# envelope_from = ", "envelope_from = 7 #"),
                 "envelope_from: must be text (in quotes), not a whole number", id="scheduler-address-not-text"),
    # delivery.toml
    pytest.param("delivery.toml", shipped("delivery.toml", '"cjsm.net"]', '"cjsm.net", "*.example.org"]'),
                 "routes.accredited_domains[4]: must be a domain name such as", id="delivery-wildcard-domain"),
    pytest.param("delivery.toml", shipped("delivery.toml", "portal = true", "portal = true\nfax = true"),
                 "routes.fax: unknown key; known keys: accredited_domains, portal, marking_header",
                 id="delivery-unknown-key"),
    pytest.param("delivery.toml", shipped("delivery.toml", "# sms = ", "sms = \"pigeon:x\" #"),
                 "channels.sms: must be a backend and its settings", id="delivery-unknown-channel-backend"),
    pytest.param("delivery.toml", shipped("delivery.toml", 'marking_header = "X-Protective-Marking"',
                                          'marking_header = "Subject"'),
                 "routes.marking_header: must be a header name", id="delivery-reserved-header"),
    # a transport settings file
    pytest.param("smtp.toml", shipped("smtp.toml", "timeout_seconds = 30", "timeout_seconds = 30\nretries = 3"),
                 "transport.smtp.retries: unknown key; known keys: host, port, security, username_env, password_env, "
                 "ca_file, timeout_seconds", id="transport-unknown-key"),
    pytest.param("smtp.toml", shipped("smtp.toml", "port = 587", 'port = "587"'),
                 "transport.smtp.port: must be a whole number from 1 to 65535", id="transport-wrong-type"),
    pytest.param("smtp.toml", shipped("smtp.toml", 'host = "smtp.northmoor.gov.uk"', ""),
                 "transport.smtp.host: required but missing", id="transport-missing-key"),
    # GOV.UK Notify and the folders for texts and letters
    pytest.param("notify.toml", shipped("notify.toml", "timeout_seconds = 30", 'timeout_seconds = 30\napi_key = "x"'),
                 "transport.notify.api_key: unknown key; known keys: api_key_env, base_url, email_template_id, "
                 "sms_template_id, letter_postage, timeout_seconds; The API key is never written in configuration: "
                 "set api_key_env to the name of the environment variable that holds it", id="notify-key-in-the-file"),
    pytest.param("notify.toml", shipped("notify.toml", '"00000000-0000-4000-8000-000000000002"', '"my-sms-template"'),
                 "transport.notify.sms_template_id: must be a template id: a UUID", id="notify-template-not-a-uuid"),
    pytest.param("notify.toml", shipped("notify.toml", "https://api.notifications", "http://api.notifications"),
                 "transport.notify.base_url: must be an https:// address (plain http only to 127.0.0.1 or localhost)",
                 id="notify-plain-http"),
    pytest.param("notify.toml", shipped("notify.toml", 'letter_postage = "second"', 'letter_postage = "third"'),
                 "transport.notify.letter_postage: 'third' is not one of: first, second, economy",
                 id="notify-postage"),
    pytest.param("notify.toml", shipped("notify.toml", 'api_key_env = "DOCGEN_NOTIFY_API_KEY"', ""),
                 "transport.notify.api_key_env: required but missing", id="notify-no-key-variable"),
    pytest.param("sms.toml", '[transport]\nbackend = "sms_folder"\n[transport.sms_folder]\nfolder = "var/sms"\npath = "x"\n',
                 "transport.sms_folder.path: unknown key; known keys: folder", id="sms-folder-unknown-key"),
    pytest.param("print.toml", '[transport]\nbackend = "print_batch"\n',
                 "transport.print_batch: required but missing: backend 'print_batch' needs a "
                 "[transport.print_batch] table", id="print-batch-no-table"),
]


@pytest.mark.parametrize(("name", "text", "problem"), PROBLEMS)
def test_a_problem_names_the_file_and_the_key(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load(name, tmp_path)
    assert "1 problem found" in str(caught.value)
    assert f"  - {path}: {problem}" in str(caught.value)


@pytest.mark.parametrize("name", ["authority.toml", "circulation.toml", "scheduler.toml", "smtp.toml", "notify.toml",
                                  "delivery.toml"])
def test_every_shipped_file_loads(name: str) -> None:
    assert load(name, SHIPPED) is not None


@pytest.mark.parametrize("name", ["authority.toml", "scheduler.toml", "smtp.toml"])
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{tmp_path / name}: cannot be read"):
        load(name, tmp_path)


def test_every_problem_in_a_file_is_listed_at_once(tmp_path: Path) -> None:
    (tmp_path / "authority.toml").write_text(shipped(
        "authority.toml", 'phone = "01632 960000"', 'phone = 1632960000\nfax = "x"'), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(tmp_path)
    path = tmp_path / "authority.toml"
    assert str(caught.value).splitlines() == [
        "Authority settings not loaded: 2 problems found:",
        f"  - {path}: authority.phone: must be text (in quotes), not a whole number",
        f"  - {path}: authority.fax: unknown key; known keys: name, service, address, phone, email, website, logo",
    ]


# -- the configuration folder --------------------------------------------------------------------

FOLDERS = [
    pytest.param({"DOCGEN_CONFIG_DIR": "/etc/docgen"}, Path("/srv/explicit"), Path("/srv/explicit"),
                 id="explicit-over-environment"),
    pytest.param({"DOCGEN_CONFIG_DIR": "/etc/docgen"}, None, Path("/etc/docgen"), id="environment"),
    pytest.param({"DOCGEN_CONFIG_DIR": ""}, None, DEFAULT_CONFIG_DIR, id="empty-variable-is-unset"),
    pytest.param({}, None, DEFAULT_CONFIG_DIR, id="shipped-config"),
]


@pytest.mark.parametrize(("environment", "explicit", "expected"), FOLDERS)
def test_one_place_finds_the_configuration_folder(monkeypatch: pytest.MonkeyPatch, environment: dict[str, str],
                                                  explicit: Path | None, expected: Path) -> None:
    monkeypatch.delenv("DOCGEN_CONFIG_DIR", raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert config_dir(explicit) == expected
    assert config_file("scheduler.toml", explicit) == expected / "scheduler.toml"
    assert DEFAULT_CONFIG_DIR == SHIPPED


# -- the scheduler's policy ----------------------------------------------------------------------

def test_shipped_scheduler_settings_are_the_flag_defaults_they_replace() -> None:
    # The flags' defaults before scheduler.toml existed: 10, 20, 12, 30, 1800, 24, notices on,
    # var/delivery, and the authority's email for both addresses; the lease is now 60 seconds,
    # renewed while the scheduler runs (it was 300).
    settings = load_scheduler_settings(SHIPPED, environ={})
    assert settings == SchedulerSettings(
        interval_seconds=10.0, batch_size=20, lease_seconds=60.0, max_attempts=12, backoff_base_seconds=30.0,
        backoff_cap_seconds=1800.0, warn_before_hours=24.0, business_support=None, notices=True,
        envelope_from=None, delivery_folder=Path("var/delivery"), signing_identity=None, archive_certificate=None,
        ca_bundle=None)
    rules = load_rules(SHIPPED / "circulation.toml")
    assert dispatch_policy(settings, authority_email=AUTHORITY_EMAIL, circulation=rules) == DispatchPolicy(
        envelope_from=AUTHORITY_EMAIL, batch_size=20, lease=timedelta(seconds=60),
        backoff=Backoff(timedelta(seconds=30), timedelta(seconds=1800)), max_attempts=12,
        warn_before=timedelta(hours=24), business_support_address=AUTHORITY_EMAIL, calendar=rules.calendar,
        zone=rules.zone)


CHANGED_SCHEDULER = """
interval_seconds = 2.5
batch_size = 7
lease_seconds = 90
max_attempts = 4
backoff_base_seconds = 5
backoff_cap_seconds = 60
warn_before_hours = 6
business_support = "business.support@northmoor.gov.uk"
notices = true
envelope_from = "cp.sender@northmoor.gov.uk"
delivery_folder = "/srv/docgen/delivery"
signing_identity = "/etc/docgen/signing.p12"
archive_certificate = "/etc/docgen/archive.pem"
ca_bundle = "/etc/docgen/agencies-ca.pem"
"""


def test_scheduler_toml_values_reach_the_dispatch_policy(tmp_path: Path) -> None:
    (tmp_path / "scheduler.toml").write_text(CHANGED_SCHEDULER, encoding="utf-8")
    settings = load_scheduler_settings(tmp_path, environ={})
    assert (settings.delivery_folder, settings.signing_identity, settings.archive_certificate, settings.ca_bundle) == (
        Path("/srv/docgen/delivery"), Path("/etc/docgen/signing.p12"), Path("/etc/docgen/archive.pem"),
        Path("/etc/docgen/agencies-ca.pem"))
    assert settings.interval_seconds == 2.5
    rules = load_rules(SHIPPED / "circulation.toml")
    policy = dispatch_policy(settings, authority_email=AUTHORITY_EMAIL, circulation=rules)
    assert policy == DispatchPolicy(
        envelope_from="cp.sender@northmoor.gov.uk", batch_size=7, lease=timedelta(seconds=90),
        backoff=Backoff(timedelta(seconds=5), timedelta(seconds=60)), max_attempts=4,
        warn_before=timedelta(hours=6), business_support_address="business.support@northmoor.gov.uk",
        calendar=rules.calendar, zone=rules.zone)
    quiet = dispatch_policy(dataclasses.replace(settings, notices=False), authority_email=AUTHORITY_EMAIL,
                            circulation=rules)
    assert quiet.business_support_address is None


def _scheduler_args(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="docgen")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["scheduler", "--transport", "outbox-folder:out", *flags])


FROM_FILE = SchedulerSettings(
    interval_seconds=2.5, batch_size=7, lease_seconds=90.0, max_attempts=4, backoff_base_seconds=5.0,
    backoff_cap_seconds=60.0, warn_before_hours=6.0, business_support="file@northmoor.gov.uk", notices=True,
    envelope_from="file.sender@northmoor.gov.uk", delivery_folder=Path("file-delivery"),
    signing_identity=Path("file.p12"), archive_certificate=Path("file-archive.pem"), ca_bundle=Path("file-ca.pem"))

FLAGS = [
    pytest.param(("--interval", "30"), "interval_seconds", 30.0, id="interval"),
    pytest.param(("--batch-size", "50"), "batch_size", 50, id="batch-size"),
    pytest.param(("--lease", "600"), "lease_seconds", 600.0, id="lease"),
    pytest.param(("--max-attempts", "3"), "max_attempts", 3, id="max-attempts"),
    pytest.param(("--backoff-base", "1"), "backoff_base_seconds", 1.0, id="backoff-base"),
    pytest.param(("--backoff-cap", "2"), "backoff_cap_seconds", 2.0, id="backoff-cap"),
    pytest.param(("--warn-before", "48"), "warn_before_hours", 48.0, id="warn-before"),
    pytest.param(("--business-support", "flag@northmoor.gov.uk"), "business_support", "flag@northmoor.gov.uk",
                 id="business-support"),
    pytest.param(("--no-notices",), "notices", False, id="no-notices"),
    pytest.param(("--envelope-from", "flag.sender@northmoor.gov.uk"), "envelope_from",
                 "flag.sender@northmoor.gov.uk", id="envelope-from"),
    pytest.param(("--delivery-folder", "flag-delivery"), "delivery_folder", Path("flag-delivery"),
                 id="delivery-folder"),
    pytest.param(("--signing-identity", "flag.p12"), "signing_identity", Path("flag.p12"), id="signing-identity"),
    pytest.param(("--archive-certificate", "flag-archive.pem"), "archive_certificate", Path("flag-archive.pem"),
                 id="archive-certificate"),
    pytest.param(("--ca-bundle", "flag-ca.pem"), "ca_bundle", Path("flag-ca.pem"), id="ca-bundle"),
]


@pytest.mark.parametrize(("flags", "key", "value"), FLAGS)
def test_a_flag_overrides_the_file(flags: tuple[str, ...], key: str, value: Any) -> None:
    assert getattr(FROM_FILE, key) != value
    merged = with_flags(FROM_FILE, _scheduler_args(*flags))
    assert merged == dataclasses.replace(FROM_FILE, **{key: value})


def test_every_policy_flag_has_a_key_and_a_case() -> None:
    assert set(FLAG_KEYS.values()) == {field.name for field in dataclasses.fields(SchedulerSettings)}
    assert {param.values[1] for param in FLAGS} == set(FLAG_KEYS.values())


def test_without_flags_the_file_decides() -> None:
    assert with_flags(FROM_FILE, _scheduler_args()) == FROM_FILE
    # An empty address or path given on the command line counts as not given, as it always has.
    assert with_flags(FROM_FILE, _scheduler_args("--envelope-from", "", "--signing-identity", "")) == FROM_FILE


def test_environment_paths_override_the_file_and_flags_override_both(tmp_path: Path) -> None:
    (tmp_path / "scheduler.toml").write_text(CHANGED_SCHEDULER, encoding="utf-8")
    environ = {"DOCGEN_SIGNING_IDENTITY": "/env/signing.p12", "DOCGEN_ARCHIVE_CERTIFICATE": "",
               "DOCGEN_CA_BUNDLE": "/env/ca.pem"}
    settings = load_scheduler_settings(tmp_path, environ=environ)
    assert settings.signing_identity == Path("/env/signing.p12")
    assert settings.archive_certificate == Path("/etc/docgen/archive.pem")  # empty variable: the file's value
    assert settings.ca_bundle == Path("/env/ca.pem")
    assert with_flags(settings, _scheduler_args("--ca-bundle", "flag-ca.pem")).ca_bundle == Path("flag-ca.pem")


def test_the_scheduler_command_reads_scheduler_toml_from_the_configuration_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from docgen.entrypoints.cli_schedule import main

    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("authority.toml", "circulation.toml"):
        shutil.copy(SHIPPED / name, folder / name)
    (folder / "scheduler.toml").write_text("batch_size = 0\n", encoding="utf-8")
    monkeypatch.setenv("DOCGEN_CONFIG_DIR", str(folder))
    with pytest.raises(SystemExit):
        main(["--database", f"sqlite:///{tmp_path / 'docgen.sqlite3'}", "scheduler",
              "--transport", f"outbox-folder:{tmp_path / 'out'}", "--once"])
    assert f"{folder / 'scheduler.toml'}: batch_size: must be at least 1" in capsys.readouterr().err


# -- documentation -------------------------------------------------------------------------------

def _keys(*classes: type) -> set[str]:
    return {field.name for cls in classes for field in dataclasses.fields(cls) if field.name != "source"}


DOCUMENTED = [
    pytest.param(_keys(Authority, Marking, Contacts, Contact, Templates) | {"authority", "marking", "contacts", "templates"},
                 id="authority"),
    pytest.param(set(TOP_LEVEL_KEYS) | set(CALENDAR_KEYS) | set(REQUIRED_RULE_KEYS) | set(OPTIONAL_RULE_KEYS),
                 id="circulation"),
    pytest.param(_keys(TransportSettings, SmtpSettings, OutboxFolderSettings, NotifySettings, SmsFolderSettings,
                       PrintBatchSettings), id="transport"),
    pytest.param(_keys(SchedulerSettings), id="scheduler"),
    pytest.param(_keys(WebSettings), id="web"),
    pytest.param(_keys(DeliverySettings, RoutesSettings, ChannelsSettings), id="delivery"),
]


@pytest.mark.parametrize("keys", DOCUMENTED)
def test_every_key_is_documented(keys: set[str]) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert sorted(key for key in keys if f"`{key}`" not in text and f".{key}`" not in text) == []
