"""``modelregistry serve`` as a real process on a real socket, on both engines.

OpenAI's client lists and retrieves models; ETags answer 304 and change with the catalog;
pages follow cursors; the change stream (long-poll and SSE) replays, resumes and says 410;
the token guards every route but /healthz; SIGINT and SIGTERM stop it even when SIGINT was
ignored at start.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import openai
import pytest

from cases import GPT4_TURBO, config
from modelregistry import ModelRegistry
from served import DEADLINE, Served, wait_for, write_elsewhere

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

ODD_ID = "org/model:v1@2026"


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(url: str, *args: str, **options: object) -> Served:
        served = Served(url, *args, **options)  # type: ignore[arg-type]
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()


def test_openai_client_lists_and_retrieves_ids_with_slashes_and_aliases(
    database_url: str, serve: Callable[..., Served]
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(config(model_id=ODD_ID, provider="acme"))
        registry.set_alias("fast", ODD_ID)
    served = serve(database_url)
    client = openai.OpenAI(base_url=served.base + "/v1", api_key="unused", timeout=DEADLINE)
    listed = {model.id: model for model in client.models.list()}
    assert set(listed) == {"llama3.1:8b", "llama3.2:3b", "llava-llama3:latest", ODD_ID}
    assert listed[ODD_ID].owned_by == "acme"
    assert listed[ODD_ID].object == "model"
    assert listed[ODD_ID].created > 1_600_000_000
    retrieved = client.models.retrieve(ODD_ID)
    assert (retrieved.id, retrieved.owned_by) == (ODD_ID, "acme")
    assert client.models.retrieve("fast").id == ODD_ID  # the alias resolves
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")
    status, body = served.json("/api/models/no-such-model")
    assert status == 404
    assert body["error"]["code"] == "E4001"


def test_etag_answers_304_until_the_catalog_changes_elsewhere(
    database_url: str, serve: Callable[..., Served]
) -> None:
    ModelRegistry(database_url).close()
    served = serve(database_url, "serve", "--poll-interval", "0.1")
    status, headers, _ = served.get("/v1/models/llama3.1:8b")
    etag = headers["etag"]
    assert status == 200
    assert etag.startswith('"')
    assert served.get("/v1/models/llama3.1:8b", {"If-None-Match": etag})[0] == 304
    assert served.get("/api/models", {"If-None-Match": etag})[0] == 304
    write_elsewhere(database_url, 'registry.update_model_status("llama3.1:8b", "deprecated")')
    wait_for(
        lambda: served.get("/v1/models", {"If-None-Match": etag})[0] == 200,
        "the server to see the change",
    )
    status, body = served.json("/api/models/llama3.1:8b")
    assert body["status"] == "deprecated"
    assert body["version"] == 2
    status, history = served.json("/api/models/llama3.1:8b/history")
    assert [entry["version"] for entry in history["data"]] == [1, 2]
    assert {"field": "status", "old": "active", "new": "deprecated"} in history["data"][1]["diff"]


def test_pages_follow_cursors_and_a_bad_filter_names_its_field(
    database_url: str, serve: Callable[..., Served]
) -> None:
    with ModelRegistry(database_url) as registry:
        for n in range(25):
            registry.register_model(config(model_id=f"m-{n:02}", provider="acme"))
        registry.register_model(GPT4_TURBO)
    served = serve(database_url)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        status, page = served.json(f"/api/models?providers=acme&limit=10{cursor}")
        assert status == 200
        seen += [model["model_id"] for model in page["data"]]
        pages += 1
        if "next_cursor" not in page:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == [f"m-{n:02}" for n in range(25)]
    assert pages == 3
    status, page = served.json("/api/models?order_by=-context_window&limit=1&statuses=active")
    assert page["data"][0]["context_window"] == max(
        m["context_window"] for m in served.json("/api/models?limit=1000")[1]["data"]
    )
    status, gpt = served.json(f"/api/models/{GPT4_TURBO['model_id']}")
    assert isinstance(gpt["cost_per_1m_input_tokens"], str)  # exact decimal text
    for query, field in [
        ("min_context_window=lots", "min_context_window"),
        ("limit=0", "limit"),
        ("order_by=colour", "order_by"),
        ("colour=red", "colour"),
        ("cursor=%25%25", "cursor"),
    ]:
        status, body = served.json(f"/api/models?{query}")
        assert status == 400, query
        assert body["error"]["code"] == "E4007"
        assert body["error"]["field"] == field


def _sse_events(
    served: Served, headers: dict[str, str], into: list[dict[str, Any]], ready: threading.Event
) -> None:
    connection = socket.create_connection(
        ("127.0.0.1", int(served.base.rsplit(":", 1)[1])), timeout=DEADLINE
    )
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    connection.sendall(f"GET /api/changes/stream HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode())
    with connection, connection.makefile("rb") as stream:
        event: dict[str, Any] = {}
        for raw in stream:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event: hello"):
                ready.set()
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("data: ") and "id" in event:
                event["data"] = json.loads(line[6:])
            elif not line and "data" in event:
                into.append(event)
                event = {}
                if len(into) >= 3:
                    return


def test_the_change_stream_replays_resumes_and_answers_410(
    database_url: str, serve: Callable[..., Served]
) -> None:
    ModelRegistry(database_url).close()
    served = serve(database_url, "serve", "--poll-interval", "0.1")
    start = served.json("/readyz")[1]["revision"]
    assert served.json(f"/api/changes?since={start}")[1] == {"revision": start, "changes": []}
    streamed: list[dict[str, Any]] = []
    ready = threading.Event()
    follower = threading.Thread(target=_sse_events, args=(served, {}, streamed, ready), daemon=True)
    follower.start()
    assert ready.wait(DEADLINE)
    # A long-poll waiting when the writes come in, from another process.
    polled: list[object] = []
    poller = threading.Thread(
        target=lambda: polled.append(served.json(f"/api/changes?since={start}&wait=30")[1]),
        daemon=True,
    )
    poller.start()
    write_elsewhere(
        database_url,
        'registry.update_model_status("llama3.1:8b", "deprecated")\n'
        'registry.update_model_status("llama3.2:3b", "disabled")\n'
        'registry.remove_model("llava-llama3:latest")',
    )
    poller.join(DEADLINE)
    follower.join(DEADLINE)
    assert polled
    first = polled[0]
    assert isinstance(first, dict)
    assert first["changes"][0]["model_id"] == "llama3.1:8b"
    assert [e["id"] for e in streamed] == [start + 1, start + 2, start + 3]
    assert [e["data"]["change"] for e in streamed] == [
        "status_changed",
        "status_changed",
        "removed",
    ]
    status, everything = served.json(f"/api/changes?since={start}")
    assert [c["revision"] for c in everything["changes"]] == [start + 1, start + 2, start + 3]
    assert everything["revision"] == start + 3
    # A removed model is gone from the catalog, not from its history.
    assert served.json("/api/models/llava-llama3:latest")[0] == 404
    status, history = served.json("/api/models/llava-llama3:latest/history")
    assert status == 200
    assert history["data"][-1]["change"] == "removed"
    # Resuming with Last-Event-ID replays only what came after it.
    resumed: list[dict[str, Any]] = []
    again = threading.Event()
    write_elsewhere(database_url, 'registry.update_model_status("llama3.1:8b", "active")')
    wait_for(
        lambda: served.json(f"/api/changes?since={start + 3}")[1]["changes"] != [],
        "the fourth change",
    )
    tail = threading.Thread(
        target=_sse_events,
        args=(served, {"Last-Event-ID": str(start + 1)}, resumed, again),
        daemon=True,
    )
    tail.start()
    tail.join(DEADLINE)
    assert [e["id"] for e in resumed] == [start + 2, start + 3, start + 4]
    # Older than the server can replay, or from a future it never saw: 410, reload.
    for since in (start - 1, start + 100):
        status, body = served.json(f"/api/changes?since={since}")
        assert status == 410
        assert body["error"]["code"] == "E4052"
    assert served.get("/api/changes/stream", {"Last-Event-ID": str(start - 1)})[0] == 410


def test_the_token_guards_every_route_but_healthz(
    database_url: str, serve: Callable[..., Served], tmp_path: Path
) -> None:
    ModelRegistry(database_url).close()
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-token\n")
    good = {"Authorization": "Bearer s3cret-token"}
    served = serve(database_url, "serve", "--token-file", str(token_file), ready_headers=good)
    for path in ("/v1/models", "/api/models", "/metrics", "/readyz", "/", "/openapi.json", "/nope"):
        status, body = served.json(path) if path != "/" else (served.get(path)[0], None)
        assert status == 401, path
        if body is not None:
            assert body["error"]["code"] == "E4051"
        assert served.get(path, {"Authorization": "Bearer wrong"})[0] == 401
    assert served.get("/v1/models", good)[0] == 200
    assert served.get("/healthz")[0] == 200


def test_the_token_from_the_environment(database_url: str, serve: Callable[..., Served]) -> None:
    ModelRegistry(database_url).close()
    good = {"Authorization": "Bearer from-env"}
    served = serve(database_url, env={"MODELREGISTRY_API_TOKEN": "from-env"}, ready_headers=good)
    assert served.get("/v1/models")[0] == 401
    assert served.get("/v1/models", good)[0] == 200


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_it_even_when_sigint_was_ignored_at_start(
    database_url: str, serve: Callable[..., Served], number: int
) -> None:
    ModelRegistry(database_url).close()
    served = serve(database_url, ignore_sigint=True)
    # An open event stream does not hold the stop up.
    ready = threading.Event()
    threading.Thread(target=_sse_events, args=(served, {}, [], ready), daemon=True).start()
    assert ready.wait(DEADLINE)
    assert served.stop(number) == 0
    assert served.output[-1] == "stopped\n"
    assert "Traceback" not in "".join(served.output)


def test_503_while_the_database_was_never_reachable(serve: Callable[..., Served]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/none?connect_timeout=2"
    served = serve(url, wait_ready=False)
    for path in ("/v1/models", "/api/models", "/readyz", "/api/changes?since=0"):
        status, body = served.json(path)
        assert status == 503, path
        assert body["error"]["code"] == "E4053"
        assert "E4020" in body["error"]["message"]
    assert served.get("/healthz")[0] == 503
    assert served.stop() == 0


def test_cors_is_off_unless_an_origin_is_named(
    database_url: str, serve: Callable[..., Served]
) -> None:
    ModelRegistry(database_url).close()
    origin = {"Origin": "http://app.example"}
    closed = serve(database_url)
    assert "access-control-allow-origin" not in {
        k.lower() for k in closed.get("/v1/models", origin)[1]
    }
    opened = serve(database_url, "serve", "--cors-origin", "http://app.example")
    headers = {k.lower(): v for k, v in opened.get("/v1/models", origin)[1].items()}
    assert headers["access-control-allow-origin"] == "http://app.example"
    other = {k.lower() for k in opened.get("/v1/models", {"Origin": "http://evil.example"})[1]}
    assert "access-control-allow-origin" not in other


def test_the_cli_starts_without_loading_the_http_server() -> None:
    code = (
        "import sys, modelregistry.cli\n"
        "loaded = {'starlette', 'uvicorn', 'modelregistry.server'} & set(sys.modules)\n"
        "print(sorted(loaded))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=DEADLINE
    )
    assert done.stdout.strip() == "[]"


def test_cost_gives_the_exact_breakdown_of_a_tiered_cached_request(
    database_url: str, serve: Callable[..., Served]
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(GPT4_TURBO)
        registry.set_price(
            "gpt-4-turbo",
            "2",
            "8",
            cached_input_per_1m="0.5",
            rates=[
                {"component": "cache_write_1h", "amount": "4"},
                {"component": "input", "amount": "4", "above_tokens": 200_000},
                {"component": "input", "amount": "1", "service_tier": "batch"},
                {"component": "output", "amount": "4", "service_tier": "batch"},
            ],
        )
    served = serve(database_url)
    query = (
        "/api/cost?model=gpt-4-turbo&input_tokens=200000&cache_write_tokens=1"
        "&cache_write_ttl=1h&output_tokens=10"
    )
    status, body = served.json(query)
    # 200,001 prompt tokens: the 200k tier's input, the base 1h write and output.
    assert status == 200
    assert body["cost"] == body["breakdown"]["total"] == "0.800084"
    assert body["breakdown"]["context_tier"] == 200_000
    assert [(c["component"], c["rate"], c["amount"]) for c in body["breakdown"]["components"]] == [
        ("input", "4", "0.8"),
        ("cache_write_1h", "4", "0.000004"),
        ("output", "8", "0.00008"),
    ]
    status, body = served.json(
        "/api/cost?model=gpt-4-turbo&input_tokens=10&cached_input_tokens=10&service_tier=batch"
    )
    assert (status, body["cost"]) == (200, "0.00002")  # cached -> batch input, said so
    assert body["breakdown"]["components"][1]["fallback"] == "input"
    # The batch tier has no context tier above 200k: an error, never the standard rate.
    status, body = served.json("/api/cost?model=gpt-4-turbo&input_tokens=200001&service_tier=batch")
    assert status == 404
    assert body["error"]["code"] == "E4090"
    assert (body["error"]["service_tier"], body["error"]["context_tier"]) == ("batch", 200_000)
    status, body = served.json("/api/cost?model=gpt-4-turbo&service_tier=gold")
    assert (status, body["error"]["code"]) == (400, "E4007")
    assert "service_tier" in body["error"]["message"]


def test_models_filter_by_modalities_mode_open_weights_and_tags(
    database_url: str, serve: Callable[..., Served]
) -> None:
    with ModelRegistry(database_url) as registry:
        registry.register_model(
            config(
                model_id="eu-vision",
                input_modalities=["text", "image"],
                mode="chat",
                open_weights=True,
                tags={"residency": "eu", "team": "ml"},
            )
        )
        registry.register_model(
            config(
                model_id="us-embed",
                input_modalities=["text"],
                mode="embedding",
                tags={"residency": "us"},
            )
        )
    served = serve(database_url)

    def found(query: str) -> list[str]:
        status, page = served.json(f"/api/models?{query}")
        assert status == 200, (query, page)
        return [model["model_id"] for model in page["data"]]

    assert found("input_modalities=image") == ["eu-vision"]
    assert found("input_modalities=text&tags.residency=us") == ["us-embed"]
    assert found("mode=embedding,chat&open_weights=true") == ["eu-vision"]
    assert found("tags.residency=eu&tags.team=ml") == ["eu-vision"]
    assert found("tags.residency=eu&tags.team=other") == []
    status, record = served.json("/api/models/eu-vision")
    assert record["tags"] == {"residency": "eu", "team": "ml"}
    assert record["input_modalities"] == ["image", "text"]
    for query, field in [
        ("input_modalities=smell", "input_modalities"),
        ("mode=telepathy", "mode"),
        ("open_weights=maybe", "open_weights"),
        ("tags.Bad=x", "tags"),
        ("tags.residency=eu&tags.residency=us", "tags.residency"),
    ]:
        status, body = served.json(f"/api/models?{query}")
        assert status == 400, query
        assert body["error"]["code"] == "E4007"
        assert body["error"]["field"] == field
