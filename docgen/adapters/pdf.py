"""HTML to tagged, accessible PDF with WeasyPrint, fetching nothing but the project's own assets.

Laying out (:func:`layout`) is separate from writing (:func:`write`), as in WeasyPrint. What does
not depend on the document is prepared once per process: the font configuration, and each
stylesheet the templates link from the project's assets, parsed once and handed to WeasyPrint
already parsed instead of being fetched and parsed again for every document.
"""

from __future__ import annotations

import gc
import mimetypes
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from docgen.adapters.templating import folder_state
from docgen.configuration.folder import ASSETS_DIR, template_folders
from docgen.errors import RenderError

ASSET_SCHEME = "asset:"

# Every PDF is PDF/UA-1 and tagged: a screen reader gets the structure, title and language.
_PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}

# A stylesheet link exactly as a template writes it. Only a template can produce one: values are
# autoescaped, so no content can make "<link" appear in the HTML.
_ASSET_STYLESHEET = re.compile(r'<link rel="stylesheet" href="asset:([A-Za-z0-9_.-]+\.css)">')


class AssetFetcher(URLFetcher):
    """Serves ``asset:NAME`` from the project's assets folder and refuses every other URL.

    ``file:``, ``http:``, ``data:`` and the rest are refused outright, so neither a template nor
    content can make the renderer read local files or reach the network.
    """

    def __init__(self, assets_dir: Path | tuple[Path, ...] = ASSETS_DIR) -> None:
        super().__init__(allowed_protocols=())
        # The authority's assets folder first, if it has one: its files override the shipped ones by name.
        folders = (assets_dir,) if isinstance(assets_dir, Path) else assets_dir
        self._folders = tuple(folder.resolve() for folder in folders)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if not url.startswith(ASSET_SCHEME):
            raise FatalURLFetchingError(f"refused to fetch {url[:80]!r}: only project assets (asset:NAME) may be used")
        name = url[len(ASSET_SCHEME):].lstrip("/")
        path = next((found for folder in self._folders
                     if folder in (found := (folder / name).resolve()).parents and found.is_file()), None)
        if path is None:
            raise FatalURLFetchingError(f"refused to fetch {url[:80]!r}: no such project asset")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def _fetcher(override: str = "") -> AssetFetcher:
    return AssetFetcher(tuple(folder / "assets" for folder in template_folders(override)))


def _stylesheet(name: str, override: str = "") -> CSS:
    """See :func:`_parsed_stylesheet`; parsed again when the authority's templates change."""
    return _parsed_stylesheet(name, override, folder_state(override))


@lru_cache(maxsize=16)
def _parsed_stylesheet(name: str, override: str, state: tuple[tuple[str, int], ...]) -> CSS:
    """A project stylesheet, fetched and parsed once per process; a parsed ``CSS`` is read-only
    while documents are laid out, so every document can share it."""
    return CSS(url=ASSET_SCHEME + name, url_fetcher=_fetcher(override), font_config=_font_config())


def _split_stylesheets(html: str, override: str = "") -> tuple[str, list[CSS]]:
    """The HTML without its links to project stylesheets, and those stylesheets, parsed.

    WeasyPrint gives them the user origin rather than the author origin; that orders them below
    style attributes and ``<style>`` elements, which they are anyway when linked first in the
    head, as base.html links style.css, and no template uses ``!important``.
    """
    names = _ASSET_STYLESHEET.findall(html)
    if not names:
        return html, []
    return _ASSET_STYLESHEET.sub("", html), [_stylesheet(name, override) for name in names]


def layout(html: str, *, source: str, override: str = "") -> Document:
    """Lay out and paginate the HTML; ``source`` names the template in errors; assets are looked
    for in the authority's templates folder (``override``) first."""
    try:
        html, stylesheets = _split_stylesheets(html, override)
        return HTML(string=html, base_url=ASSET_SCHEME, url_fetcher=_fetcher(override)).render(
            font_config=_font_config(), stylesheets=stylesheets, **_PDF_OPTIONS)
    except FatalURLFetchingError as exc:
        raise RenderError(f"{source}: {exc}") from None
    except Exception as exc:  # WeasyPrint raises many kinds; none may pass as a half-made PDF
        raise RenderError(f"{source}: the PDF could not be rendered: {type(exc).__name__}: {exc}") from exc


def write(document: Document, *, source: str) -> bytes:
    """Write a laid-out document as a tagged PDF/UA-1 file."""
    try:
        return document.write_pdf(**_PDF_OPTIONS)
    except FatalURLFetchingError as exc:
        raise RenderError(f"{source}: {exc}") from None
    except Exception as exc:
        raise RenderError(f"{source}: the PDF could not be written: {type(exc).__name__}: {exc}") from exc


def render_pdf(html: str, *, source: str, override: str = "") -> tuple[bytes, int]:
    """Render HTML to a tagged PDF/UA-1 document and its page count; ``source`` names the
    template in errors."""
    with fewer_collections():
        document = layout(html, source=source, override=override)
        return write(document, source=source), len(document.pages)


# Laying out and writing a document makes hundreds of thousands of objects (boxes, styles, text
# layouts) that stay alive until the PDF is written. With Python's default threshold (a young
# collection every 700 allocations) the cyclic garbage collector walked them some 140 times while
# a 12-page record, a 4-page letter and a 1-page report were rendered and checked: a sixth of the
# time. While a document renders the threshold is
# raised; objects are still freed by reference counting as usual, and the collector still runs,
# less often. The settings are put back when the last render running in the process finishes.
_RENDERING_THRESHOLD = 10_000
_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] = (0, 0, 0)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's threshold while the block runs (a render, or a whole copy: render
    and verification); blocks may nest and may run in several threads at once."""
    global _collector_users, _collector_saved
    with _collector_lock:
        if _collector_users == 0:
            _collector_saved = gc.get_threshold()
            if 0 < _collector_saved[0] < _RENDERING_THRESHOLD:  # 0: automatic collection is off
                gc.set_threshold(_RENDERING_THRESHOLD, *_collector_saved[1:])
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0:
                gc.set_threshold(*_collector_saved)
