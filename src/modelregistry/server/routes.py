"""The catalog's routes: OpenAI's model list, full records, history, prices, costs, changes.

Each answer carries the strong ETag of the snapshot it was built from; ``If-None-Match``
with that tag answers 304. Bodies are built once per snapshot (:class:`Rendered`) and those
that need the database (history, a first version's date) are built in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from modelregistry.domain.history import diff_configs
from modelregistry.domain.pricing import decimal_text
from modelregistry.domain.rates import breakdown_json
from modelregistry.errors import InvalidArgumentError, RevisionGoneError
from modelregistry.server.chart import price_chart
from modelregistry.server.query import Cursor, cost_query, models_query
from modelregistry.server.serialise import (
    dumps,
    model_json,
    openai_model,
    price_json,
    revision_json,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.requests import Request

    from modelregistry.domain.models import ModelConfig
    from modelregistry.server.catalog import Catalog, Rendered
    from modelregistry.server.changes import Change

JSON: Final = "application/json"
MAX_WAIT: Final = 60
HEARTBEAT_SECONDS: Final = 15.0
SUBRESOURCES: Final = ("/history", "/prices", "/prices.svg")


def catalog_of(request: Request) -> Catalog:
    """The catalog the application serves."""
    catalog: Catalog = request.app.state.catalog
    return catalog


def answer(request: Request, rendered: Rendered, body: bytes, media: str = JSON) -> Response:
    """``body`` with the snapshot's ETag, or 304 when the client holds it already."""
    early = not_modified(request, rendered)
    if early is not None:
        return early
    return Response(
        body, media_type=media, headers={"ETag": rendered.etag, "Cache-Control": "no-cache"}
    )


def not_modified(request: Request, rendered: Rendered) -> Response | None:
    """The 304 answer, when the client holds the snapshot's body already."""
    tags = request.headers.get("if-none-match")
    if tags is not None and rendered.etag in {tag.strip() for tag in tags.split(",")}:
        return Response(
            status_code=304, headers={"ETag": rendered.etag, "Cache-Control": "no-cache"}
        )
    return None


async def memo(rendered: Rendered, key: object, build: Callable[[], Any]) -> Any:  # noqa: ANN401 - any body
    """The value for ``key``, built once per snapshot (in a worker thread: it may block)."""
    if rendered.has(key):
        return rendered.memo(key, build)
    return await run_in_threadpool(rendered.memo, key, build)


async def openai_list(request: Request) -> Response:
    """``GET /v1/models``: OpenAI's list shape."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    if (early := not_modified(request, rendered)) is not None:
        return early

    def build() -> bytes:
        models = rendered.snapshot.list_models()
        created = catalog.created([model.model_id for model in models])
        data = [openai_model(model, created[model.model_id]) for model in models]
        return dumps({"object": "list", "data": data})

    return answer(request, rendered, await memo(rendered, "v1", build))


async def openai_model_route(request: Request) -> Response:
    """``GET /v1/models/{model_id}``: one model in OpenAI's shape (an alias resolves)."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    name: str = request.path_params["model_id"]
    key = ("v1", name)
    if not rendered.has(key):
        model = rendered.model(name)

        def build() -> bytes:
            created = catalog.created([model.model_id])[model.model_id]
            return dumps(openai_model(model, created))

        return answer(request, rendered, await memo(rendered, key, build))
    return answer(request, rendered, rendered.memo(key, bytes))


async def models(request: Request) -> Response:
    """``GET /api/models``: full records, filtered and ordered as ``find_models``, in pages."""
    rendered = catalog_of(request).rendered()
    query = models_query(request.query_params)
    if (early := not_modified(request, rendered)) is not None:
        return early

    def select() -> list[ModelConfig]:
        found = rendered.snapshot.find(query.selection)
        if query.search is not None:
            text = query.search
            found = [
                model
                for model in found
                if text in model.model_id.casefold() or text in model.display_name.casefold()
            ]
        return found

    found: list[ModelConfig] = rendered.memo(("select", query.key), select)
    positions: dict[str, int] = rendered.memo(
        ("positions", query.key), lambda: {model.model_id: n for n, model in enumerate(found)}
    )
    start = 0
    if query.cursor is not None:
        after = positions.get(query.cursor.after)
        start = query.cursor.offset if after is None else after + 1

    def page() -> bytes:
        chosen = found[start : start + query.limit]
        body: dict[str, Any] = {
            "object": "list",
            "revision": rendered.revision,
            "data": [model_json(model) for model in chosen],
        }
        if start + query.limit < len(found) and chosen:
            body["next_cursor"] = Cursor(chosen[-1].model_id, start + len(chosen)).encode()
        return dumps(body)

    return answer(request, rendered, rendered.memo(("page", query.key, start, query.limit), page))


def _split(name: str, rendered: Rendered) -> tuple[str, str]:
    """``(model name, subresource)``: a whole id first, else an id and a known suffix."""
    snapshot = rendered.snapshot
    if snapshot.get(name) is not None or snapshot.get(snapshot.resolve(name)) is not None:
        return name, ""
    for suffix in SUBRESOURCES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name.removesuffix(suffix), suffix
    return name, ""


async def model(request: Request) -> Response:
    """``GET /api/models/{model_id}`` and its ``/history``, ``/prices``, ``/prices.svg``."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    name, suffix = _split(request.path_params["model_id"], rendered)
    if suffix == "/history":  # a removed model's too: from the database (E4001 if none)
        model_id = rendered.snapshot.resolve(name)
        if (early := not_modified(request, rendered)) is not None:
            return early
        registry = catalog.registry

        def history() -> bytes:
            assert registry is not None  # noqa: S101 - the catalog is open once rendered
            revisions = registry.get_model_history(model_id)
            data = [
                revision_json(
                    revision,
                    [] if n == 0 else diff_configs(revisions[n - 1].config, revision.config),
                )
                for n, revision in enumerate(revisions)
            ]
            return dumps({"model_id": model_id, "data": data})

        return answer(request, rendered, await memo(rendered, ("history", model_id), history))
    found = rendered.model(name)  # E4001 for an unknown model
    if (early := not_modified(request, rendered)) is not None:
        return early
    model_id = found.model_id
    if suffix == "/prices":
        body = rendered.memo(
            ("prices", model_id),
            lambda: dumps(
                {
                    "model_id": model_id,
                    "data": [price_json(p) for p in rendered.snapshot.timeline(model_id)],
                }
            ),
        )
        return answer(request, rendered, body)
    if suffix == "/prices.svg":
        svg = rendered.memo(
            ("chart", model_id), lambda: price_chart(model_id, rendered.snapshot.timeline(model_id))
        )
        return answer(request, rendered, svg, "image/svg+xml")
    body = rendered.memo(("model", model_id), lambda: dumps(model_json(found)))
    return answer(request, rendered, body)


async def cost(request: Request) -> Response:
    """``GET /api/cost?model=...&input_tokens=...``: the exact estimate."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    asked = cost_query(request.query_params)
    model_id = rendered.model(asked.model).model_id
    registry = catalog.registry
    assert registry is not None  # noqa: S101 - the catalog is open once rendered
    found = await run_in_threadpool(
        registry.cost_breakdown,
        model_id,
        asked.input_tokens,
        asked.output_tokens,
        cached_input_tokens=asked.cached_input_tokens,
        cache_write_tokens=asked.cache_write_tokens,
        cache_write_ttl=asked.cache_write_ttl,
        reasoning_tokens=asked.reasoning_tokens,
        service_tier=asked.service_tier,
        at=asked.at,
    )
    body = {
        "model_id": model_id,
        "input_tokens": asked.input_tokens,
        "output_tokens": asked.output_tokens,
        "cached_input_tokens": asked.cached_input_tokens,
        "cache_write_tokens": asked.cache_write_tokens,
        "cache_write_ttl": asked.cache_write_ttl,
        "reasoning_tokens": asked.reasoning_tokens,
        "service_tier": asked.service_tier,
        "at": None if asked.at is None else asked.at.isoformat(),
        "currency": "USD",
        "cost": decimal_text(found.total),
        "breakdown": breakdown_json(found),
    }
    return answer(request, rendered, dumps(body))


async def providers(request: Request) -> Response:
    """``GET /api/providers``: providers with at least one model, and their counts."""
    rendered = catalog_of(request).rendered()
    body = rendered.memo(
        "providers",
        lambda: dumps(
            {
                "data": [
                    {"name": name, "models": count}
                    for name, count in rendered.snapshot.count_by_provider().items()
                ]
            }
        ),
    )
    return answer(request, rendered, body)


async def capabilities(request: Request) -> Response:
    """``GET /api/capabilities``: capabilities at least one model has."""
    rendered = catalog_of(request).rendered()
    body = rendered.memo(
        "capabilities", lambda: dumps({"data": rendered.snapshot.capabilities_in_use()})
    )
    return answer(request, rendered, body)


async def stats(request: Request) -> Response:
    """``GET /api/stats``: the catalog's counts and revision."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    registry = catalog.registry
    assert registry is not None  # noqa: S101 - the catalog is open once rendered

    def build() -> bytes:
        found = registry.get_stats()
        found["revision"] = rendered.revision
        return dumps(found)

    return answer(request, rendered, rendered.memo("stats", build))


def _revision(request: Request, rendered: Rendered) -> int:
    """The revision a client follows from: ``Last-Event-ID``, else ``since``, else now.

    ``Last-Event-ID`` first: a reconnecting EventSource sends it with its first URL.
    """
    text = request.headers.get("last-event-id") or request.query_params.get("since")
    if text is None:
        return rendered.revision
    if not text.isascii() or not text.isdigit():
        raise InvalidArgumentError.single("since", "must be a revision: an integer >= 0", text)
    revision = int(text)
    if revision > max(rendered.revision, catalog_of(request).changes.newest):
        raise RevisionGoneError(
            f"revision {revision} is newer than the catalog's ({rendered.revision}): the "
            "database's history was replaced; reload /api/models",
            revision=revision,
        )
    return revision


async def changes(request: Request) -> Response:
    """``GET /api/changes?since=REV&wait=30``: the changes after REV, waiting for one."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    for name in request.query_params:
        if name not in {"since", "wait"}:
            raise InvalidArgumentError.single(name, "is not a parameter of GET /api/changes")
    since = _revision(request, rendered)
    text = request.query_params.get("wait", "0")
    if not text.isascii() or not text.isdigit() or int(text) > MAX_WAIT:
        raise InvalidArgumentError.single("wait", f"must be seconds from 0 to {MAX_WAIT}", text)
    found = await catalog.changes.wait(since, float(text))
    newest = found[-1].revision if found else max(since, catalog.changes.newest)
    body = {"revision": newest, "changes": [change.to_dict() for change in found]}
    return Response(dumps(body), media_type=JSON, headers={"Cache-Control": "no-store"})


async def stream(request: Request) -> Response:
    """``GET /api/changes/stream``: Server-Sent Events, ``id`` = revision, resumable."""
    catalog = catalog_of(request)
    rendered = catalog.rendered()
    since = _revision(request, rendered)
    catalog.changes.since(since)  # E4052 (410) now, before the stream starts
    resets = catalog.changes.resets

    async def events() -> AsyncIterator[bytes]:
        last = since
        yield f"retry: 1000\nevent: hello\ndata: {dumps({'revision': last}).decode()}\n\n".encode()
        while not catalog.changes.closed:
            try:
                found: list[Change] = await catalog.changes.wait(last, HEARTBEAT_SECONDS, resets)
            except RevisionGoneError as exc:
                yield f"event: gone\ndata: {dumps(exc.to_dict()).decode()}\n\n".encode()
                return
            if not found:
                yield b": keep-alive\n\n"
                continue
            for change in found:
                data = dumps(change.to_dict()).decode()
                yield f"id: {change.revision}\nevent: change\ndata: {data}\n\n".encode()
                last = change.revision
            await asyncio.sleep(0)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
