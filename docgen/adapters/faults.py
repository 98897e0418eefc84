"""Operational faults (database, disk, network) as one clear message each, and tracebacks for
``--debug`` with case values masked: no message or traceback docgen prints carries case content.

The database driver's own messages (``attempt to write a readonly database``, ``connection
refused``) say what is wrong without quoting data; what SQLAlchemy adds around them (the statement
and its parameters) is what would quote a conference, so it is never shown.
"""

from __future__ import annotations

import errno
import re
import traceback

from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

_DATABASE_FAULTS = (
    (re.compile(r"read-?only", re.IGNORECASE),
     "the database is read-only, so nothing could be saved; ask whoever runs it to make it writable"),
    (re.compile(r"disk is full|no space left|could not extend file", re.IGNORECASE),
     "the database's disk is full, so nothing could be saved; free some space and run the command again"),
    (re.compile(r"unable to open database file|connection refused|could not connect|could not translate host|"
                r"connection .* failed|timeout expired|server closed the connection|no such host|Name or service",
                re.IGNORECASE),
     "the database cannot be reached; check --database or DOCGEN_DATABASE_URL, and that the database is running"),
    (re.compile(r"password authentication failed|authentication failed|permission denied", re.IGNORECASE),
     "the database refused docgen's credentials or permissions; check --database or DOCGEN_DATABASE_URL"),
    (re.compile(r"database is locked", re.IGNORECASE),
     "the database stayed locked by another docgen process for too long; run the command again"),
)

_FILE_FAULTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "there is no such file or folder",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.EEXIST: "it already exists",
}

_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ECONNRESET}


def _driver_text(exc: DBAPIError) -> str:
    """The driver's own message: its first line, which names the fault and no data."""
    original = str(exc.orig) if exc.orig is not None else ""
    return original.strip().splitlines()[0] if original.strip() else type(exc).__name__


def describe_fault(exc: BaseException) -> str | None:
    """One message for an operational fault, or None if ``exc`` is not one (then it is a defect)."""
    if isinstance(exc, DBAPIError):
        text = _driver_text(exc)
        for pattern, message in _DATABASE_FAULTS:
            if pattern.search(text):
                return f"{message} (the database said: {mask(text)[:120]})"
        return f"the database refused the command (it said: {mask(text)[:120]}); nothing was saved"
    if isinstance(exc, SQLAlchemyError):
        return f"the database could not be used ({type(exc).__name__}); nothing was saved"
    if isinstance(exc, OSError):
        if exc.errno in _NETWORK_ERRNOS or isinstance(exc, ConnectionError | TimeoutError):
            return f"a server docgen needs cannot be reached: {exc.strerror or type(exc).__name__}"
        reason = _FILE_FAULTS.get(exc.errno or -1, exc.strerror or type(exc).__name__)
        where = f"{exc.filename}: cannot be used" if exc.filename else "a file could not be read or written"
        hint = ("; free some space and run the command again" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
                else "; check the path and that docgen may use it")
        return f"{where}: {reason}{hint}"
    if isinstance(exc, MemoryError):
        return "docgen ran out of memory"
    return None


_QUOTED = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"")
_DETAIL_VALUE = re.compile(r"=\([^)]*\)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask(text: str) -> str:
    """``text`` with every quoted value, email address and ``=(value)`` (PostgreSQL's key details)
    masked: what a driver, a server or Python quotes from the data it was given."""
    return _EMAIL.sub("***@***", _DETAIL_VALUE.sub("=(***)", _QUOTED.sub("'***'", text)))


def masked_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes: every frame as Python prints it (file, line, code),
    each exception's type, and its message with values masked; a database statement without its
    parameters."""
    for link in _chain(exc):
        if isinstance(link, StatementError):
            link.hide_parameters = True
    lines: list[str] = []
    for link in reversed(_chain(exc)):
        if lines:
            lines.append("\nwhich led to:\n")
        lines.extend(traceback.format_tb(link.__traceback__))
        lines.append(f"{type(link).__module__}.{type(link).__qualname__}: {mask(str(link))}\n")
    return "".join(lines)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and all(link is not other for other in seen):
        seen.append(link)
        link = link.__cause__ or link.__context__
    return seen
