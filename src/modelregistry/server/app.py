"""The ASGI application: the routes, the bearer token, errors as JSON, CORS when asked for.

:func:`create_app` builds the whole server (catalog, page, change stream, metrics) or, for
``modelregistry metrics serve``, only ``/metrics``, ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import hmac
from importlib.resources import files
from typing import TYPE_CHECKING, Final

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from modelregistry.errors import (
    CatalogNotReadyError,
    DatabaseUnavailableError,
    InvalidArgumentError,
    ModelNotFoundError,
    ModelRegistryError,
    ModelVersionNotFoundError,
    PriceComponentNotFoundError,
    PriceNotFoundError,
    RevisionGoneError,
    RouteNotFoundError,
    UnauthorizedError,
)
from modelregistry.server import routes
from modelregistry.server.openapi import document
from modelregistry.server.serialise import dumps, error_body

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.requests import Request
    from starlette.types import ASGIApp, Receive, Scope, Send

    from modelregistry.server.catalog import Catalog

STATIC: Final = files("modelregistry.server") / "static"
OPEN_PATHS: Final = frozenset({"/healthz"})
STATUSES: Final[tuple[tuple[type[ModelRegistryError], int], ...]] = (
    (RouteNotFoundError, 404),
    (ModelVersionNotFoundError, 404),
    (PriceNotFoundError, 404),
    (PriceComponentNotFoundError, 404),
    (ModelNotFoundError, 404),
    (InvalidArgumentError, 400),
    (UnauthorizedError, 401),
    (RevisionGoneError, 410),
    (CatalogNotReadyError, 503),
    (DatabaseUnavailableError, 503),
)


def status_of(exc: ModelRegistryError) -> int:
    """The HTTP status of an error."""
    for cls, status in STATUSES:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: ModelRegistryError) -> Response:
    """``{"error": {"code", "message", ...}}`` with the error's status (400 names the field)."""
    extra: dict[str, object] = {}
    if isinstance(exc, InvalidArgumentError) and exc.violations:
        extra = {"field": exc.violations[0].field, "violations": exc.context["violations"]}
    if isinstance(exc, PriceComponentNotFoundError):  # which rate is missing, and where
        extra = dict(exc.context)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, UnauthorizedError) else None
    return Response(
        error_body(exc.code, exc.message, **extra),
        status_code=status_of(exc),
        media_type="application/json",
        headers=headers,
    )


async def _registry_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ModelRegistryError)  # noqa: S101 - registered for this class
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this class
    if exc.status_code == 404:  # noqa: PLR2004 - HTTP's status
        return error_response(RouteNotFoundError(f"no such path: {request.url.path!r}"))
    body = error_body("E4050", f"{exc.detail} for {request.method} {request.url.path!r}")
    return Response(
        body, status_code=exc.status_code, media_type="application/json", headers=exc.headers
    )


class BearerToken:
    """Refuse (401, E4051) a request without the token, except on the open paths."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        """Guard ``app`` with ``token``."""
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401."""
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(given, self.expected):
                refused = error_response(
                    UnauthorizedError("a bearer token is required: Authorization: Bearer <token>")
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def healthz(request: Request) -> Response:
    """200 while the database answers at the newest schema, else 503 with the reason."""
    catalog = routes.catalog_of(request)
    registry = catalog.registry
    if registry is None:
        return Response(f"not ready: {catalog.error}\n", status_code=503, media_type="text/plain")
    health = await run_in_threadpool(registry.metrics.health)
    return Response(
        health.detail + "\n", status_code=200 if health.ok else 503, media_type="text/plain"
    )


async def readyz(request: Request) -> Response:
    """200 once the catalog is loaded (it is then served from the cache), else 503."""
    catalog = routes.catalog_of(request)
    if catalog.registry is None:
        return error_response(
            CatalogNotReadyError(f"the catalog is not loaded yet: {catalog.error}")
        )
    rendered = catalog.rendered()
    return Response(
        dumps({"ready": True, "revision": rendered.revision}), media_type="application/json"
    )


async def metrics(request: Request) -> Response:
    """Prometheus' text exposition of the registry's metrics (and the process's)."""
    catalog = routes.catalog_of(request)
    registry = catalog.registry
    if registry is None:
        return error_response(
            CatalogNotReadyError(f"the catalog is not loaded yet: {catalog.error}")
        )
    body = await run_in_threadpool(registry.metrics.exposition)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


async def openapi(_request: Request) -> Response:
    """The OpenAPI document of the server."""
    return Response(dumps(document()), media_type="application/json")


async def page(_request: Request) -> Response:
    """The catalog browser."""
    return Response((STATIC / "index.html").read_bytes(), media_type="text/html; charset=utf-8")


OPERATIONS: Final = [
    Route("/metrics", metrics),
    Route("/healthz", healthz),
    Route("/readyz", readyz),
]


def catalog_routes() -> list[Route | Mount]:
    """Every route of ``modelregistry serve``."""
    return [  # the hot routes first: Starlette tries them in order
        Route("/v1/models/{model_id:path}", routes.openai_model_route),
        Route("/v1/models", routes.openai_list),
        Route("/", page),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
        Route("/openapi.json", openapi),
        Route("/api/models", routes.models),
        Route("/api/models/{model_id:path}", routes.model),
        Route("/api/cost", routes.cost),
        Route("/api/providers", routes.providers),
        Route("/api/capabilities", routes.capabilities),
        Route("/api/stats", routes.stats),
        Route("/api/changes", routes.changes),
        Route("/api/changes/stream", routes.stream),
        *OPERATIONS,
    ]


def create_app(
    catalog: Catalog,
    *,
    token: str | None = None,
    cors_origins: Sequence[str] = (),
    operations_only: bool = False,
) -> Starlette:
    """The ASGI application serving ``catalog``.

    Args:
        catalog: What it serves (opened in the background).
        token: A bearer token every route but ``/healthz`` requires (None: none).
        cors_origins: Origins allowed to read it from a browser (none: CORS off).
        operations_only: Only ``/metrics``, ``/healthz`` and ``/readyz``.
    """
    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET"],
                allow_headers=["Authorization", "If-None-Match", "Last-Event-ID"],
                expose_headers=["ETag"],
            )
        )
    if token is not None:
        middleware.append(Middleware(BearerToken, token=token))
    app = Starlette(
        routes=list(OPERATIONS) if operations_only else catalog_routes(),
        middleware=middleware,
        exception_handlers={ModelRegistryError: _registry_error, HTTPException: _http_error},
    )
    app.state.catalog = catalog
    return app
