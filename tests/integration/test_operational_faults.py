"""Broken surroundings: a read-only or unreachable database, a full disk, a folder that cannot be
written, a pack already being written, an unreadable certificate file, an SMTP relay that is down.
Each gives one clear message and a non-zero exit, never a traceback, and nothing of the case;
``--debug`` shows the traceback with the case's values masked."""

from __future__ import annotations

import errno
import logging
import os
import socket
from datetime import datetime
from pathlib import Path

import pytest

from distribution.transports.smtp import SmtpTransport
from docgen.adapters.folder_lock import folder_lock
from docgen.entrypoints.cli import main
from docgen.services.dispatch import Dispatcher, DispatchPolicy, plain_message
from docgen.services.runtime import Runtime
from tests.conftest import EXAMPLE, RUNTIME_NOW
from tests.integration.test_dispatch import SENDER, Clock, add

# What the example conference says that no message may repeat: names, an address, record text.
CASE_WORDS = ("Haddad", "Wiśniewska", "Zofia", "Lena", "Karim", "Brook")
REVIEW = EXAMPLE.with_name("haddad-wisniewska-review.yaml")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    captured = capsys.readouterr()
    return int(stopped.value.code or 0), captured.out + captured.err


def _assert_clean(output: str) -> None:
    assert "Traceback" not in output
    for word in CASE_WORDS:
        assert word not in output, word


@pytest.fixture
def sqlite_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "docgen.sqlite3"
    main(["--database", f"sqlite:///{path}", "import", str(EXAMPLE), "--actor", "tester"])
    capsys.readouterr()
    return path


def test_a_read_only_database(capsys: pytest.CaptureFixture[str], sqlite_file: Path) -> None:
    status, output = _run(capsys, "--database", f"sqlite:///file:{sqlite_file}?mode=ro&uri=true",
                          "import", str(REVIEW), "--actor", "tester")
    assert status == 1
    assert output.startswith("docgen: error: the database is read-only, so nothing could be saved;")
    assert output.count("\n") == 1
    _assert_clean(output)


def test_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, output = _run(capsys, "--database", f"postgresql+psycopg://docgen:secret@127.0.0.1:{port}/docgen",
                          "export", "NM-ICPC-2026-0147")
    assert status == 1
    assert output.startswith("docgen: error: the database cannot be reached; check --database or DOCGEN_DATABASE_URL")
    assert "secret" not in output
    _assert_clean(output)


def test_a_full_disk(capsys: pytest.CaptureFixture[str], sqlite_file: Path, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    def full(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("docgen.adapters.files.os.fsync", full)
    out = tmp_path / "exported" / "case.yaml"
    status, output = _run(capsys, "--database", f"sqlite:///{sqlite_file}", "export", "NM-ICPC-2026-0147", "--out", str(out))
    assert status == 1
    assert output == ("docgen: error: a file could not be read or written: the disk is full; "
                      "free some space and run the command again\n")
    assert list(out.parent.iterdir()) == []  # no half-written file left behind


@pytest.mark.parametrize("command", ["export", "pack"])
def test_an_output_folder_that_cannot_be_written(capsys: pytest.CaptureFixture[str], sqlite_file: Path, command: str) -> None:
    # /sys refuses new files even to root, so this holds whoever runs the tests.
    target = "/sys/docgen-test/case.yaml" if command == "export" else "/sys/docgen-test/pack"
    argv = (["export", "NM-ICPC-2026-0147", "--out", target] if command == "export"
            else ["pack", "NM-ICPC-2026-0147", "--out", target, "--actor", "tester"])
    status, output = _run(capsys, "--database", f"sqlite:///{sqlite_file}", *argv)
    assert status == 1
    assert output.startswith("docgen: error: /sys/docgen-test: cannot be used: ")
    assert output.rstrip().endswith("check the path and that docgen may use it")
    _assert_clean(output)


def test_a_pack_already_being_written_into_the_folder(capsys: pytest.CaptureFixture[str], sqlite_file: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "pack"
    with folder_lock(out, holder="j.smith", now=datetime(2026, 11, 20, 9, 0)):
        status, output = _run(capsys, "--database", f"sqlite:///{sqlite_file}", "pack", "NM-ICPC-2026-0147",
                              "--out", str(out), "--actor", "a.jones")
    assert status == 1
    assert output == (f"docgen: error: {out}: a pack is already being written into this folder by j.smith "
                      f"(process {os.getpid()} on {socket.gethostname()}, since 2026-11-20T09:00:00); "
                      "wait for it to finish, or choose another folder\n")
    assert not out.exists()


def test_the_lock_is_free_once_its_holder_is_done(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    with folder_lock(out, holder="j.smith", now=datetime(2026, 11, 20, 9, 0)):
        pass
    with folder_lock(out, holder="a.jones", now=datetime(2026, 11, 20, 9, 5)):
        pass


@pytest.mark.parametrize("problem", ["missing", "a-folder"])
def test_a_certificate_file_that_cannot_be_read(capsys: pytest.CaptureFixture[str], sqlite_file: Path,
                                                tmp_path: Path, problem: str) -> None:
    path = tmp_path / "claire.pem"
    if problem == "a-folder":
        path.mkdir()
    status, output = _run(capsys, "--database", f"sqlite:///{sqlite_file}", "certificate", "import", "claire-dunn", str(path))
    assert status == 1
    assert output.startswith(f"docgen: error: {path}")
    assert output.count("\n") == 1
    _assert_clean(output)


def test_the_smtp_relay_down_is_retried_and_logged_without_the_recipient(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock(RUNTIME_NOW)
    item_id = add(runtime, clock, recipient="claire-dunn", address="claire.dunn@nhs.example.uk")
    dispatcher = Dispatcher(runtime.sessions, SmtpTransport("127.0.0.1", port, timeout=2),
                            policy=DispatchPolicy(envelope_from=SENDER), clock=clock,
                            build_message=lambda item: plain_message(item, envelope_from=SENDER, at=clock()),
                            approval_gate=lambda item: None, worker="test")
    with caplog.at_level(logging.INFO):
        report = dispatcher.run_pass()
    assert report.retrying == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "docgen.dispatch"]
    assert line.startswith(f"item {item_id}: transient failure, retrying in ")
    assert f"127.0.0.1:{port}" in line
    assert "claire" not in line.lower()


def test_debug_shows_where_with_the_case_values_masked(capsys: pytest.CaptureFixture[str], sqlite_file: Path) -> None:
    status, output = _run(capsys, "--debug", "--database", f"sqlite:///file:{sqlite_file}?mode=ro&uri=true",
                          "import", str(REVIEW), "--actor", "tester")
    assert status == 1
    assert 'File "' in output and "sqlalchemy.exc.OperationalError" in output
    assert "[SQL parameters hidden due to hide_parameters=True]" in output
    assert output.rstrip().splitlines()[-1].startswith("docgen: error: the database is read-only")
    for word in CASE_WORDS:
        assert word not in output, word
