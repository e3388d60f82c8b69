"""The application factory: ``create_app(settings)`` returns the FastAPI app.

Pages (server-rendered Jinja2, HTMX for the live parts) and the JSON API under ``/api/v1``
share one set of dependencies (:mod:`lupuscell.web.deps`). A small ASGI middleware adds the
security headers (a Content-Security-Policy without inline script or style, frame denial) and
the cookies the request queued; exception handlers turn the library's errors into 401 / 403 /
404 / 409 / 422 answers (never a 500 for bad input).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from lupuscell import __version__
from lupuscell.errors import ConflictError, LupuscellError, NotFoundError, ValidationError
from lupuscell.registry.repository import Registry
from lupuscell.registry.session import make_engine
from lupuscell.web import security
from lupuscell.web.deps import AppState, CsrfFailed, Forbidden, LoginRequired, read_only
from lupuscell.web.pages import shown
from lupuscell.web.patient_list import PatientListCache
from lupuscell.web.settings import Settings
from lupuscell.web.trials import TrialSource

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, queued cookies, no caching of
    authenticated pages."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                for cookie in scope.get("lc_cookies", ()):
                    headers.append((b"set-cookie", cookie.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem_items(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": ["body", *p.field.split(".")], "msg": p.message, "type": "value_error", "record": p.record}
        for p in exc.problems
    ]


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    templates: Jinja2Templates = request.app.state.lc.templates
    return templates.TemplateResponse(
        request, "error.html", {"title": title, "message": message}, status_code=status
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "authentication required (session cookie or Bearer token)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": exc.message}, status_code=403)
        return _error_page(request, 403, "Not allowed", exc.message)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        message = "CSRF token missing or wrong: reload the page and try again"
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return _error_page(request, 403, "Request refused", message)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return _error_page(request, 404, "Not found", str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        body = {"detail": str(exc), "current": _jsonable(exc.current)}
        return JSONResponse(body, status_code=409)

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, exc: ValidationError) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": _problem_items(exc)}, status_code=422)
        return _error_page(request, 422, "Rejected", str(exc))

    @app.exception_handler(LupuscellError)
    async def _lupuscell(request: Request, exc: LupuscellError) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]}, status_code=422
            )
        return _error_page(request, 422, "Rejected", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        items = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": items}, status_code=422)
        text = "; ".join(f"{'.'.join(map(str, i['loc'][1:]))}: {i['msg']}" for i in items)
        return _error_page(request, 422, "Rejected", text)


def _jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the thread pool that runs the blocking handlers (``LUPUSCELL_WEB_THREADS``)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.lc.settings.threads
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    from lupuscell.web import api, routes

    settings = settings or Settings()
    # Every handler thread keeps a pooled connection: a smaller pool would open and close
    # "overflow" connections under load (a new PostgreSQL backend process each time).
    engine = make_engine(settings.database_url, pool_pre_ping=True, pool_size=settings.threads + 2)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.auto_reload = False  # package files: no stat() of every template on every render
    templates.env.globals.update(app_version=__version__, csrf_field=security.CSRF_FIELD)
    templates.env.filters["shown"] = shown
    app = FastAPI(
        title="lupuscell",
        version=__version__,
        description="Registry of an SLE cellular-therapy programme: records, scores, timelines.",
        docs_url=None,  # Swagger UI would load scripts from a CDN; the schema is served below
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=_lifespan,
    )
    app.state.lc = AppState(
        settings=settings,
        engine=engine,
        reader=read_only(engine),
        registry=Registry(engine),
        signer=security.SessionSigner(
            settings.secret_key, settings.session_idle_minutes * 60, settings.session_max_hours * 3600
        ),
        templates=templates,
        trials=TrialSource(saved_pages=Path(settings.trials_pages) if settings.trials_pages else None),
        patient_list=PatientListCache(enabled=settings.patient_list_cache),
    )
    _install_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    for router in routes.routers():
        app.include_router(router)
    return app
