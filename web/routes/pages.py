"""The embeddable widget script, the district's demo page and the full-page chat."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from bot.config import Settings

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["widget"])


def frame_policy(settings: Settings) -> str:
    """Pages may be framed by the server itself and the allowed district sites only."""
    return "frame-ancestors " + " ".join(["'self'", *settings.origins])


def _page(request: Request, name: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    html = (STATIC / name).read_text(encoding="utf-8")
    return HTMLResponse(html, headers={"Content-Security-Policy": frame_policy(settings)})


@router.get("/widget.js", include_in_schema=True)
async def widget_script() -> FileResponse:
    """The chat widget: one self-contained script, embedded with a single tag."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/", response_class=HTMLResponse)
async def demo_page(request: Request) -> HTMLResponse:
    """A mock district portal page with the widget embedded."""
    return _page(request, "demo.html")


@router.get("/chat", response_class=HTMLResponse)
async def chat_page(request: Request) -> HTMLResponse:
    """The same assistant as a full page (for links and mini-program web views)."""
    return _page(request, "chat.html")
