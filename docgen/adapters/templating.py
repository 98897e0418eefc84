"""The one Jinja2 environment every template is rendered in: sandboxed, autoescaped, strict."""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from docgen.configuration.folder import TEMPLATES_DIR, template_folders
from docgen.domain.views import clock_time, long_date, short_date
from docgen.errors import TemplateError


class CompilingOnceEnvironment(ImmutableSandboxedEnvironment):
    """The sandboxed environment, compiling each distinct template source given as a string once.

    docxtpl hands the environment a Word template's document, header and property XML as strings
    on every render, and compiling them took about half of each DOCX's time. A compiled template
    holds no rendering state, so one can be rendered again and again, from any thread. The most
    recently used :attr:`STRINGS_KEPT` sources are kept, so memory stays bounded however many
    different templates a long-running process sees.
    """

    STRINGS_KEPT = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: OrderedDict[str, jinja2.Template] = OrderedDict()
        self._compiled_lock = threading.Lock()

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> jinja2.Template:
        if not isinstance(source, str) or globals is not None or template_class is not None:
            return super().from_string(source, globals, template_class)
        with self._compiled_lock:
            template = self._compiled.get(source)
            if template is not None:
                self._compiled.move_to_end(source)
                return template
        template = super().from_string(source)
        with self._compiled_lock:
            self._compiled[source] = template
            while len(self._compiled) > self.STRINGS_KEPT:
                self._compiled.popitem(last=False)
        return template


# Characters that change the direction of the text around them: embeddings, overrides, isolates
# and marks. A value holding one is shown inside an isolate (FSI ... PDI): the Unicode
# bidirectional algorithm ends every embedding and override opened inside an isolate at its
# PDI, so data can reorder at most itself, never the template's own words around it.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_FIRST_STRONG_ISOLATE, _POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"


def isolate_bidi(value: Any) -> Any:
    """``value`` as a template prints it: text holding a bidirectional control is isolated."""
    if isinstance(value, str) and not _BIDI_CONTROLS.isdisjoint(value):
        return _FIRST_STRONG_ISOLATE + value + _POP_DIRECTIONAL_ISOLATE
    return value


def make_environment(templates_dir: Path | tuple[Path, ...] = TEMPLATES_DIR, *, autoescape: bool = True,
                     environment_class: type[ImmutableSandboxedEnvironment] = ImmutableSandboxedEnvironment,
                     undefined: type[jinja2.Undefined] = jinja2.StrictUndefined) -> ImmutableSandboxedEnvironment:
    """A sandboxed environment: templates cannot reach Python internals or change their data,
    every value is escaped, and a misspelt name is an error rather than silently blank.
    ``templates_dir`` may be several folders, searched in order (the authority's, then the shipped)."""
    folders = (templates_dir,) if isinstance(templates_dir, Path) else templates_dir
    env = environment_class(
        loader=jinja2.FileSystemLoader([str(folder) for folder in folders]),
        # Every template is escaped except plain-text ones (an SMS), where HTML entities would be wrong.
        autoescape=jinja2.select_autoescape(disabled_extensions=("txt",), default_for_string=True, default=True)
        if autoescape else False,
        undefined=undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        finalize=isolate_bidi,
    )
    env.filters.update(long_date=long_date, short_date=short_date, clock_time=clock_time)
    return env


def html_environment(override: str = "") -> ImmutableSandboxedEnvironment:
    """The environment HTML templates are rendered in; ``override`` is the authority's templates
    folder, whose files are found before the shipped ones. A file added to, changed in or removed
    from that folder gives a new environment, so a running process renders what is there now."""
    return _environment(override, folder_state(override))


@lru_cache(maxsize=8)
def _environment(override: str, state: tuple[tuple[str, int], ...]) -> ImmutableSandboxedEnvironment:
    return make_environment(template_folders(override))


def folder_state(override: str) -> tuple[tuple[str, int], ...]:
    """Every file in the authority's templates folder with the time it was last changed."""
    if not override:
        return ()
    return tuple(sorted((str(path), path.stat().st_mtime_ns) for path in Path(override).rglob("*") if path.is_file()))


def render_html(template_name: str, context: dict[str, object], *, override: str = "") -> str:
    """Render an HTML template to text, turning any template problem into a TemplateError."""
    try:
        return html_environment(override).get_template(template_name).render(context)
    except jinja2.TemplateNotFound as exc:
        where = " or ".join(str(folder) for folder in template_folders(override))
        raise TemplateError(f"template {exc.name!r} was not found under {where}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or template_name}, line {exc.lineno}: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"{template_name}: the template tried something the sandbox forbids: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{undefined_place(exc, template_name)}: {exc.message}; the document's context has no "
                            "such name (docs/templates.md lists the names it offers)") from None


def undefined_place(exc: BaseException, template_name: str) -> str:
    """Where in a template an undefined name was used: its file and line, from the traceback
    Jinja rewrites to point into template files."""
    traceback, place = exc.__traceback__, template_name
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".txt")):
            place = f"{filename}, line {traceback.tb_lineno}"
        traceback = traceback.tb_next
    return place


_MARKUP = re.compile(r"{#.*?#}|{%-?|-?%}|{{-?|-?}}|<[^>]+>", re.DOTALL)
_CALENDAR_WORDS = " ".join(
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
     "April", "May", "June", "July", "August", "September", "October", "November", "December", "am", "pm"])


def fixed_wording(template_name: str, override: str = "") -> str:
    """See :func:`_fixed_wording`; worked out again when the authority's templates change."""
    return _fixed_wording(template_name, override, folder_state(override))


@lru_cache(maxsize=64)
def _fixed_wording(template_name: str, override: str, state: tuple[tuple[str, int], ...]) -> str:
    """Every word the template itself can print: its text, the words inside its tags (string
    literals such as a heading chosen by a condition) and the names of days and months that
    its date filters write. A reader of any copy may see these."""
    env = html_environment(override)
    names, seen = [template_name], set()
    words = [_CALENDAR_WORDS]
    while names:
        name = names.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            continue
        words.append(_MARKUP.sub(" ", source))
        names.extend(re.findall(r"{%-?\s*(?:extends|include|import|from)\s+[\"']([^\"']+)[\"']", source))
    return "\n".join(words)


class RecordingUndefined(jinja2.ChainableUndefined):
    """An undefined name that, instead of stopping the render, notes where it was used (template
    file and line) in :attr:`used`, so that one render can list every unknown name. For checking
    templates only; documents are rendered with StrictUndefined."""

    used: ClassVar[list[tuple[str, str]]] = []  # replaced by a fresh list for each check (see recording_environment)

    def _note(self) -> None:
        place = ""
        frame = sys._getframe(1)
        while frame is not None:
            template = frame.f_globals.get("__jinja_template__")
            if template is not None:
                place = f"{template.filename or template.name}, line {template.get_corresponding_lineno(frame.f_lineno)}"
                break
            frame = frame.f_back  # type: ignore[assignment]
        self.used.append((place, self._undefined_message))

    def __str__(self) -> str:
        self._note()
        return ""

    def __iter__(self) -> Any:
        self._note()
        return iter(())

    def __bool__(self) -> bool:
        self._note()
        return False

    def __len__(self) -> int:
        self._note()
        return 0


def recording_environment(folders: tuple[Path, ...], used: list[tuple[str, str]]) -> ImmutableSandboxedEnvironment:
    """An environment like the documents', whose undefined names are noted in ``used``."""
    recording = type("Recording", (RecordingUndefined,), {"used": used})
    return make_environment(folders, environment_class=CompilingOnceEnvironment, undefined=recording)
