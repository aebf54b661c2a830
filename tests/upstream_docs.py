"""Small upstream documents in each upstream's documented format, and a local HTTP server.

The documents are built here, never downloaded: a LiteLLM map (model key -> entry), a
models.dev ``api.json`` (provider id -> provider with ``models``) and an OpenRouter
``{"data": [...]}``. :class:`UpstreamServer` serves one over a real socket with an ETag,
gzip when asked, and an optional delay, counting the requests and the 304s it answers.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from types import TracebackType


def litellm_entry(n: int, **fields: Any) -> dict[str, Any]:
    """One chat entry of LiteLLM's map."""
    return {
        "litellm_provider": "openai",
        "mode": "chat",
        "max_input_tokens": 128000,
        "max_output_tokens": 16384,
        "input_cost_per_token": 2.5e-06 + n * 1e-09,
        "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-06,
        "supports_function_calling": True,
        "supports_vision": True,
        **fields,
    }


def litellm_map(count: int, **overrides: dict[str, Any]) -> dict[str, Any]:
    """A map of ``count`` chat models ``m/0`` ... (``overrides`` replaces or adds entries by
    key; a value of ``{}`` removes that key), plus the spec entry and an embedding model."""
    document: dict[str, Any] = {
        "sample_spec": {"mode": "one of: chat, embedding", "max_input_tokens": "max input tokens"},
        "text-embedding-3-small": {
            "litellm_provider": "openai",
            "mode": "embedding",
            "max_input_tokens": 8191,
        },
    }
    document.update({f"m/{n}": litellm_entry(n) for n in range(count)})
    for key, entry in overrides.items():
        if entry:
            document[key] = entry
        else:
            document.pop(key, None)
    return document


def models_dev_api(count: int) -> dict[str, Any]:
    """An ``api.json`` with ``count`` models under provider ``acme``."""
    models = {
        f"model-{n}": {
            "id": f"model-{n}",
            "name": f"Model {n}",
            "attachment": False,
            "reasoning": n % 2 == 0,
            "tool_call": True,
            "temperature": True,
            "cost": {"input": 0.049999999999999996, "output": 0.4, "cache_read": 0.01},
            "limit": {"context": 32000, "output": 4096},
            "modalities": {"input": ["text", "image"], "output": ["text"]},
            "open_weights": True,
        }
        for n in range(count)
    }
    return {
        "acme": {
            "id": "acme",
            "name": "Acme",
            "env": ["ACME_API_KEY"],
            "npm": "@ai-sdk/acme",
            "models": models,
        }
    }


def openrouter_models(count: int) -> dict[str, Any]:
    """A ``GET /api/v1/models`` answer with ``count`` models."""
    return {
        "data": [
            {
                "id": f"acme/model-{n}",
                "name": f"Acme: Model {n}",
                "context_length": 65536,
                "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
                "pricing": {
                    "prompt": "0.0000003",
                    "completion": "0.0000012",
                    "input_cache_read": "0.00000003",
                },
                "top_provider": {"context_length": 65536, "max_completion_tokens": 8192},
                "supported_parameters": ["tools", "response_format", "reasoning"],
            }
            for n in range(count)
        ]
    }


def encoded(document: object) -> bytes:
    """``document`` as the bytes an upstream serves."""
    return json.dumps(document).encode()


class UpstreamServer:
    """A local HTTP server answering GET with one document, its ETag and If-None-Match."""

    def __init__(self, body: bytes, *, delay: float = 0.0) -> None:
        """Serve ``body`` (change it with :meth:`publish`)."""
        self.body = body
        self.delay = delay
        self.requests: list[dict[str, str]] = []
        self.not_modified = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(dict(self.headers.items()))
                    body = server.body
                if server.delay:
                    time.sleep(server.delay)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.path == "/missing":
                    self.send_response(404)
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == etag:
                    with server.lock:
                        server.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                payload = body
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Type", "application/json")
                if "gzip" in self.headers.get("Accept-Encoding", ""):
                    payload = gzip.compress(body)
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # The client may have given up (its timeout): what such a test is about.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The document's URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/catalog.json"

    def publish(self, body: bytes) -> None:
        """Serve ``body`` from now on (a new ETag)."""
        with self.lock:
            self.body = body

    def __enter__(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
