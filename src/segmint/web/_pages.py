"""The page router: Jinja2 templates, the language cookie, who is logged in, role gates.

Who is logged in is asked of the API itself (``GET /api/v1/session``, called in-process
through the app with the request's cookie), so the pages and the API agree on sessions and
roles without the UI reaching into the auth store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from segmint.api._deps import SESSION_COOKIE
from segmint.report._i18n import LANGUAGES
from segmint.web._i18n import LANG_COOKIE, LANGUAGE_NAMES, UIWords, ui_words

HERE = Path(__file__).parent
API = "/api/v1"
ROLES = ("viewer", "analyst", "admin")
#: the menu: (label key, endpoint, lowest role that sees the entry)
NAV = (
    ("dashboard", "web_dashboard", "viewer"),
    ("segment_list", "web_segments", "viewer"),
    ("new_segment", "web_builder", "viewer"),
    ("customer_360", "web_customer_lookup", "analyst"),
    ("models", "web_models", "viewer"),
    ("exports", "web_exports", "analyst"),
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def at_least(self, role: str) -> bool:
        return _rank(self.role) >= _rank(role)


def _rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def language(request: Request) -> str:
    """The remembered language (cookie), else the browser's first supported one, else en."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        code = "nb" if code in ("no", "nn") else code
        if code in LANGUAGES:
            return code
    return "en"


async def current_user(request: Request) -> User | None:
    """The session's user as the API sees it, or None (no cookie, expired, revoked)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    status, body = await _asgi_get(request, f"{API}/session")
    if status != 200:
        return None
    try:
        data = json.loads(body)
        return User(str(data["name"]), str(data["role"]))
    except (ValueError, KeyError, TypeError):
        return None


async def _asgi_get(request: Request, path: str) -> tuple[int, bytes]:
    """GET ``path`` from this same app in-process, with the request's cookies."""
    headers = [(k, v) for k, v in request.scope["headers"] if k == b"cookie"]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", request.headers.get("host", "localhost").encode()), *headers],
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
    }
    status = 500
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    return status, b"".join(chunks)


class _LoginRequiredError(Exception):
    """Raised by :func:`visitor` when nobody is logged in: answered by a redirect to login."""


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a page, and in which language."""

    user: User
    w: UIWords


async def visitor(request: Request) -> Visitor:
    """The logged-in user and their words; a page without a session goes to the login."""
    user = await current_user(request)
    if user is None:
        raise _LoginRequiredError
    return Visitor(user, ui_words(language(request)))


#: a page parameter: the visitor, or a redirect to the login page
Page = Annotated[Visitor, Depends(visitor)]


async def _login_required(request: Request, exc: Exception) -> Response:
    return _to_login(request)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _json(data: Any) -> str:
    # inside <script type="application/json">: no "</script>" and no markup at all
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _render(
    request: Request,
    template: str,
    w: UIWords,
    user: User | None,
    *,
    title: str,
    active: str = "",
    needs: str = "viewer",
    page: dict[str, Any] | None = None,
    plotly: bool = False,
    **context: Any,
) -> Response:
    forbidden = needs if user is not None and not user.at_least(needs) else None
    nav = [(k, e) for k, e, r in NAV if user is not None and user.at_least(r)]
    ctx = {
        "w": w,
        "user": user,
        "title": title,
        "active": active,
        "nav": nav,
        "languages": [(c, LANGUAGE_NAMES[c]) for c in LANGUAGES],
        "forbidden": forbidden,
        "plotly": plotly and not forbidden,
        "words_json": _json(w.for_js()),
        "page_json": _json({"api": API, "user": user.__dict__ if user else None, **(page or {})}),
        **context,
    }
    response = templates.TemplateResponse(request, template, ctx)
    if forbidden:
        response.status_code = 403
    return response


@router.get("/login", response_class=HTMLResponse, name="web_login")
async def login_page(request: Request) -> Response:
    w = ui_words(language(request))
    return _render(request, "login.html", w, None, title=w["login"])


@router.get("/lang/{lang}", name="web_language")
async def set_language(lang: str, next: str = "/") -> Response:
    # only a path on this site (never //host or a full URL) is followed
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="strict", httponly=True
        )
    return response


@router.get("/", response_class=HTMLResponse, name="web_dashboard")
async def dashboard(request: Request, v: Page) -> Response:
    user, w = v.user, v.w
    return _render(
        request, "dashboard.html", w, user, title=w["dashboard"], active="dashboard", plotly=True
    )


@router.get("/segments", response_class=HTMLResponse, name="web_segments")
async def segment_list(request: Request, v: Page) -> Response:
    user, w = v.user, v.w
    return _render(
        request,
        "segments.html",
        w,
        user,
        title=w["segment_list"],
        active="segment_list",
        can_write=user.at_least("admin"),
    )


@router.get("/segments/new", response_class=HTMLResponse, name="web_builder")
async def builder(request: Request, v: Page) -> Response:
    return await _builder(request, v, None)


@router.get("/segments/{name}/edit", response_class=HTMLResponse, name="web_builder_edit")
async def builder_edit(request: Request, v: Page, name: str) -> Response:
    return await _builder(request, v, name)


async def _builder(request: Request, v: Visitor, edit: str | None) -> Response:
    user, w = v.user, v.w
    return _render(
        request,
        "builder.html",
        w,
        user,
        title=f"{w['edit_segment']}: {edit}" if edit else w["builder"],
        active="segment_list" if edit else "new_segment",
        page={"can_write": user.at_least("admin"), "edit": edit},
        can_write=user.at_least("admin"),
        edit=edit,
    )


@router.get("/segments/{name}", response_class=HTMLResponse, name="web_segment")
async def segment_page(request: Request, v: Page, name: str) -> Response:
    user, w = v.user, v.w
    return _render(
        request,
        "segment.html",
        w,
        user,
        title=f"{w['segment']}: {name}",
        active="segment_list",
        plotly=True,
        page={"segment": name, "can_members": user.at_least("analyst")},
        segment=name,
        can_write=user.at_least("admin"),
        segment_q=quote(name, safe=""),
        can_members=user.at_least("analyst"),
    )


@router.get("/customers", response_class=HTMLResponse, name="web_customer_lookup")
async def customer_lookup(request: Request, v: Page, id: str = "") -> Response:
    if id.strip():
        return RedirectResponse(f"/customers/{quote(id.strip(), safe='')}", status_code=303)
    return await _customer(request, v, None)


@router.get("/customers/{customer_id}", response_class=HTMLResponse, name="web_customer")
async def customer_page(request: Request, v: Page, customer_id: str) -> Response:
    return await _customer(request, v, customer_id)


async def _customer(request: Request, v: Visitor, customer_id: str | None) -> Response:
    user, w = v.user, v.w
    title = w["customer_360"] + (f": {customer_id}" if customer_id else "")
    return _render(
        request,
        "customer.html",
        w,
        user,
        title=title,
        active="customer_360",
        needs="analyst",
        page={"customer": customer_id},
        customer_id=customer_id,
    )


@router.get("/models", response_class=HTMLResponse, name="web_models")
async def models_page(request: Request, v: Page) -> Response:
    user, w = v.user, v.w
    return _render(request, "models.html", w, user, title=w["models"], active="models", plotly=True)


@router.get("/exports", response_class=HTMLResponse, name="web_exports")
async def exports_page(request: Request, v: Page) -> Response:
    user, w = v.user, v.w
    return _render(
        request,
        "exports.html",
        w,
        user,
        title=w["exports"],
        active="exports",
        needs="analyst",
        page={"can_audit": user.at_least("admin")},
        can_audit=user.at_least("admin"),
    )


@lru_cache(maxsize=1)
def _plotly_js() -> tuple[bytes, str]:
    import plotly
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8"), f'"plotly-{plotly.__version__}"'


@router.get("/static/vendor/plotly.min.js", name="web_plotly")
async def plotly_js(request: Request) -> Response:
    """plotly.js as the installed ``plotly`` package ships it (works offline)."""
    body, etag = _plotly_js()
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript", headers=headers)


def _static_url(path: str) -> str:
    return f"/static/{path}?v={_asset_version()}"


@lru_cache(maxsize=1)
def _asset_version() -> str:
    from segmint import __version__

    return str(__version__)


@pass_context
def _path_for(context: Any, name: str, /, **params: Any) -> str:
    """A page's path on this site (relative, so it works behind any host name)."""
    return str(context["request"].app.url_path_for(name, **params))


templates.env.globals["static"] = _static_url
templates.env.globals["path_for"] = _path_for
templates.env.globals["api"] = lambda path: API + path


def mount(app: FastAPI) -> None:
    """Add the pages, their static files and plotly.js to ``app``."""
    app.include_router(router)
    app.add_exception_handler(_LoginRequiredError, _login_required)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
