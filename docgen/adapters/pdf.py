"""HTML to tagged, accessible PDF with WeasyPrint, fetching nothing but the project's own assets."""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from docgen.config import ASSETS_DIR
from docgen.errors import RenderError

ASSET_SCHEME = "asset:"


class AssetFetcher(URLFetcher):
    """Serves ``asset:NAME`` from the project's assets folder and refuses every other URL.

    ``file:``, ``http:``, ``data:`` and the rest are refused outright, so neither a template nor
    content can make the renderer read local files or reach the network.
    """

    def __init__(self, assets_dir: Path = ASSETS_DIR) -> None:
        super().__init__(allowed_protocols=())
        self._assets = assets_dir.resolve()

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if not url.startswith(ASSET_SCHEME):
            raise FatalURLFetchingError(f"refused to fetch {url[:80]!r}: only project assets (asset:NAME) may be used")
        name = url[len(ASSET_SCHEME):].lstrip("/")
        path = (self._assets / name).resolve()
        if self._assets not in path.parents or not path.is_file():
            raise FatalURLFetchingError(f"refused to fetch {url[:80]!r}: no such project asset")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def render_pdf(html: str, *, source: str) -> tuple[bytes, int]:
    """Render HTML to a tagged PDF/UA-1 document and its page count; ``source`` names the
    template in errors."""
    try:
        document = HTML(string=html, base_url=ASSET_SCHEME, url_fetcher=AssetFetcher()).render(
            font_config=_font_config(), pdf_variant="pdf/ua-1", pdf_tags=True)
        return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True), len(document.pages)
    except FatalURLFetchingError as exc:
        raise RenderError(f"{source}: {exc}") from None
    except Exception as exc:  # WeasyPrint raises many kinds; none may pass as a half-made PDF
        raise RenderError(f"{source}: the PDF could not be rendered: {type(exc).__name__}: {exc}") from exc
