"""The one strict reader every configuration file goes through: TOML in, checked values and frozen dataclasses out.

Every problem is collected, not only the first, and reported as ``FILE: KEY.PATH: what is wrong``;
an unknown key is a problem that names the known keys (model: pyHanko's ``check_config_keys``).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, get_args, get_origin, get_type_hints

from docgen.errors import ConfigurationError

T = TypeVar("T")


class Problems:
    """Every problem found so far, in the order found, so that one run reports them all."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __len__(self) -> int:
        return len(self.lines)

    def __bool__(self) -> bool:
        return bool(self.lines)

    def raise_if_any(self, heading: str, error: type[ConfigurationError] = ConfigurationError) -> None:
        """Raise ``error`` listing every problem under ``heading``, e.g. "Circulation rules not loaded"."""
        if self.lines:
            raise error(summary(heading, self.lines))


def summary(heading: str, lines: Sequence[str]) -> str:
    """``HEADING: N problems found:`` and the problems, one a line."""
    noun = "problem" if len(lines) == 1 else "problems"
    listed = "\n".join(f"  - {line}" for line in lines)
    return f"{heading}: {len(lines)} {noun} found:\n{listed}"


@dataclass(frozen=True)
class At:
    """Where a value sits: its file, its key path in the file, and the problems it reports to.

    ``note`` says what the path points at where an index alone would not (``rule 'record'``);
    it follows the path into the table's keys.
    """

    source: str
    problems: Problems
    path: str = ""
    note: str = ""

    def key(self, name: str) -> At:
        """The value under ``name`` in this table."""
        return dataclasses.replace(self, path=f"{self.path}.{name}" if self.path else name)

    def item(self, index: int) -> At:
        """The ``index``-th entry of this array."""
        return dataclasses.replace(self, path=f"{self.path}[{index}]", note="")

    def named(self, note: str) -> At:
        """This place, described for a reader as ``note``."""
        return dataclasses.replace(self, note=note)

    def report(self, problem: str) -> None:
        """Add ``FILE: KEY.PATH: problem`` to the problems."""
        where = f"{self.path} ({self.note})" if self.note else self.path
        self.problems.lines.append(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: What a check returns for a value it has reported as wrong.
INVALID: Final = _Invalid()

#: Returns the value converted, or ``INVALID`` after reporting at ``At`` what is wrong with it.
Check = Callable[[Any, At], Any]
#: A check of one value on its own: ``(converted, None)`` or ``(None, what is wrong)``.
ValueCheck = Callable[[Any], tuple[Any, str | None]]


def checked(value_check: ValueCheck) -> Check:
    """A ``Check`` that reports what ``value_check`` finds wrong."""

    def check(value: Any, at: At) -> Any:
        converted, problem = value_check(value)
        if problem is not None:
            at.report(problem)
            return INVALID
        return converted

    return check


@dataclass(frozen=True)
class Key:
    """A key a table may have: how its value is checked, and whether it must be given."""

    check: Check
    required: bool = False


@dataclass(frozen=True)
class Checked:
    """A table's values that passed their checks, and the keys that are wrong or missing."""

    values: dict[str, Any]
    failed: frozenset[str]


def read_toml(path: Path, problems: Problems) -> dict[str, Any] | None:
    """The parsed file, or ``None`` after reporting why it cannot be read or parsed."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        problems.lines.append(f"{path}: cannot be read ({exc.strerror or exc}); check the path")
    except tomllib.TOMLDecodeError as exc:
        problems.lines.append(f"{path}: is not valid TOML: {exc}")
    return None


def check_keys(table: Mapping[str, Any], known: Sequence[str], at: At,
               *, advice: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The part of ``table`` under ``known`` keys; every other key is reported as unknown.

    ``advice`` adds a sentence for particular unknown keys (a ``password`` key is told where
    credentials go instead).
    """
    kept: dict[str, Any] = {}
    for key, value in table.items():
        if key in known:
            kept[key] = value
        else:
            _unknown(key, known, at, advice)
    return kept


def _unknown(key: str, known: Sequence[str], at: At, advice: Mapping[str, str] | None) -> None:
    extra = (advice or {}).get(key)
    at.key(key).report(f"unknown key; known keys: {', '.join(known)}" + (f"; {extra}" if extra else ""))


def read_table(table: Any, keys: Mapping[str, Key], at: At, *, shape: str = "a table",
               advice: Mapping[str, str] | None = None) -> Checked | None:
    """``table``'s known keys checked in the file's order, then missing required keys reported.

    ``None`` (after a report) if ``table`` is not a table; ``shape`` says what it should be.
    """
    if not isinstance(table, Mapping):
        at.report(f"must be {shape}, not {kind_of(table)}")
        return None
    values: dict[str, Any] = {}
    failed: set[str] = set()
    for key, value in table.items():
        # One pass in the file's order, so problems are listed as a reader meets them.
        if key not in keys:
            _unknown(key, tuple(keys), at, advice)
            continue
        converted = keys[key].check(value, at.key(key))
        if converted is INVALID:
            failed.add(key)
        else:
            values[key] = converted
    for key, spec in keys.items():
        if spec.required and key not in table:
            at.key(key).report("required but missing")
            failed.add(key)
    return Checked(values=values, failed=frozenset(failed))


def read_dataclass(cls: type[T], table: Any, at: At, *, checks: Mapping[str, Check] | None = None,
                   advice: Mapping[str, str] | None = None) -> T | None:
    """``cls`` built from ``table``, or ``None`` after reporting every problem.

    Each field is a key, required when the field has no default, its value checked according to
    the field's type (``str``, ``bool``, ``int``, ``float``, ``Path``, a ``Literal``, ``X | None``,
    ``tuple[X, ...]``, a nested dataclass) unless ``checks`` gives the field a check of its own.
    """
    hints = get_type_hints(cls)
    keys: dict[str, Key] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:
            continue
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        check = (checks or {}).get(field.name) or check_for(hints[field.name])
        keys[field.name] = Key(check, required=required)
    result = read_table(table, keys, at, advice=advice)
    if result is None or result.failed:
        return None
    return cls(**result.values)


def check_for(hint: Any) -> Check:
    """The check for a value of type ``hint``; a type with no check is a programming error."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (typing.Union, types.UnionType):
        present = [arg for arg in args if arg is not type(None)]
        if len(present) == 1:
            # None is the default, given by leaving the key out: TOML has no null.
            return check_for(present[0])
    elif origin is Literal:
        return checked(one_of(args))
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list_of(check_for(args[0]))
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return table_of(hint)
    elif hint in _SIMPLE:
        return _SIMPLE[hint]
    raise TypeError(f"no configuration check for the type {hint!r}")


def table_of(cls: type[Any]) -> Check:
    """A check that reads a table into the dataclass ``cls``."""

    def check(value: Any, at: At) -> Any:
        built = read_dataclass(cls, value, at)
        return INVALID if built is None else built

    return check


def list_of(item: Check) -> Check:
    """A check of a list whose every entry passes ``item``; gives a tuple."""

    def check(value: Any, at: At) -> Any:
        if not isinstance(value, list):
            at.report(f"must be a list, not {kind_of(value)}")
            return INVALID
        items = [item(entry, at.item(index)) for index, entry in enumerate(value)]
        return INVALID if any(entry is INVALID for entry in items) else tuple(items)

    return check


# -- value checks ------------------------------------------------------------------------------
# They never repeat the value itself, only its kind: a value in the wrong key may be a secret.


def kind_of(value: Any) -> str:
    """What kind of TOML value ``value`` is, in words."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def text(value: Any) -> tuple[Any, str | None]:
    """Any string, the empty one included."""
    if isinstance(value, str):
        return value, None
    return None, f"must be text (in quotes), not {kind_of(value)}"


def non_empty_text(value: Any) -> tuple[Any, str | None]:
    """A string with something in it."""
    if not isinstance(value, str):
        return text(value)
    if not value.strip():
        return None, "must not be empty; leave the key out for the default"
    return value, None


def boolean(value: Any) -> tuple[Any, str | None]:
    """``true`` or ``false``."""
    if isinstance(value, bool):
        return value, None
    return None, f"must be true or false, not {kind_of(value)}"


def whole_number(value: Any) -> tuple[Any, str | None]:
    """An integer (``true`` is not one, though Python counts it as 1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    return None, f"must be a whole number, not {kind_of(value)}"


def number(value: Any) -> tuple[Any, str | None]:
    """An integer or a float, given as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), None
    return None, f"must be a number, not {kind_of(value)}"


def path(value: Any) -> tuple[Any, str | None]:
    """A file or folder named by non-empty text."""
    converted, problem = non_empty_text(value)
    return (None, problem) if problem is not None else (Path(converted), None)


def one_of(allowed: Sequence[Any]) -> ValueCheck:
    """One of ``allowed``; the value is shown, as it is one of a few words, never a secret."""

    def check(value: Any) -> tuple[Any, str | None]:
        if isinstance(value, str) and value in allowed:
            return value, None
        return None, f"{value!r} is not one of: {', '.join(str(a) for a in allowed)}"

    return check


def at_least(minimum: float, value_check: ValueCheck = number, *, above: bool = False) -> ValueCheck:
    """``value_check``, and then at least ``minimum`` (more than it if ``above``)."""

    def check(value: Any) -> tuple[Any, str | None]:
        converted, problem = value_check(value)
        if problem is not None:
            return None, problem
        if converted < minimum or (above and converted == minimum):
            return None, f"must be {'more than' if above else 'at least'} {minimum:g}"
        return converted, None

    return check


_SIMPLE: Mapping[Any, Check] = {
    str: checked(text),
    bool: checked(boolean),
    int: checked(whole_number),
    float: checked(number),
    Path: checked(path),
}
