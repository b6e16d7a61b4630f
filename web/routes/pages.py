"""The widget script, the district's demo page, the full-page chat and the staff pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

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


# The staff pages: never framed (clickjacking) and never cached (they show live data).
# The staff pages load only their own script and styles; nothing inline, never framed.
_ADMIN_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


def _admin_asset(name: str, media_type: str) -> FileResponse:
    return FileResponse(
        STATIC / name,
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
async def admin_page() -> HTMLResponse:
    """The staff pages: documents, FAQ, unanswered questions, hit test and audit log."""
    html = (STATIC / "admin.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=_ADMIN_HEADERS)


@router.get("/admin/", include_in_schema=False)
@router.get("/chat/", include_in_schema=False)
async def without_slash(request: Request) -> Response:
    """A relative redirect (never built from the Host header)."""
    return Response(status_code=308, headers={"Location": request.url.path.rstrip("/")})


@router.get("/admin/admin.js", include_in_schema=False)
async def admin_script() -> FileResponse:
    """The staff pages' script."""
    return _admin_asset("admin.js", "text/javascript; charset=utf-8")


@router.get("/admin/admin.css", include_in_schema=False)
async def admin_styles() -> FileResponse:
    """The staff pages' style sheet."""
    return _admin_asset("admin.css", "text/css; charset=utf-8")


_ICON_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    """The icon browsers ask for on every page (16, 32 and 48 px)."""
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon", headers=_ICON_HEADERS)


@router.get("/favicon.svg", include_in_schema=False)
async def favicon_svg() -> FileResponse:
    """The same icon, sharp at any size (the pages link it)."""
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers=_ICON_HEADERS)
