"""Fetching an upstream document: a file, or an http(s) URL with httpx.

Over HTTP: a timeout for every phase, gzip accepted (httpx decodes it), a size limit on the
decoded body (a compressed bomb stops at the limit), and ``If-None-Match`` with the ETag
remembered for the source, so an unchanged upstream costs one 304.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from modelregistry.errors import UpstreamFetchError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "Fetched", "fetch", "is_url"]

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds each phase of a request (connect, each read) may take."""
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
"""Largest upstream document accepted (decoded), in bytes."""
_HTTP_OK: Final = 200
_NOT_MODIFIED: Final = 304


@dataclass(frozen=True, slots=True)
class Fetched:
    """An upstream document as fetched (``content`` None: 304, unchanged since ``etag``)."""

    location: str
    content: bytes | None
    etag: str | None

    @property
    def not_modified(self) -> bool:
        """Whether the server answered 304 Not Modified."""
        return self.content is None

    @property
    def sha256(self) -> str:
        """The sha256 of the content, hex."""
        return hashlib.sha256(self.content or b"").hexdigest()


def is_url(location: str) -> bool:
    """Whether ``location`` is an http(s) URL (else a file path)."""
    return location.startswith(("http://", "https://"))


def fetch(
    location: str,
    *,
    etag: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[int, int | None], None] | None = None,
) -> Fetched:
    """Fetch ``location``; send ``etag`` as If-None-Match (URLs only).

    Raises:
        UpstreamFetchError: E4041, the file cannot be read, the request failed or timed out,
            the server answered an error, or the document is larger than ``max_bytes``.
    """
    if not is_url(location):
        return _read_file(location, max_bytes)
    return _get(location, etag=etag, timeout=timeout, max_bytes=max_bytes, progress=progress)


def _read_file(location: str, max_bytes: int) -> Fetched:
    path = Path(location)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UpstreamFetchError(location, f"the file is larger than {max_bytes} bytes")
        return Fetched(location, path.read_bytes(), None)
    except OSError as exc:
        raise UpstreamFetchError(location, f"cannot read the file: {exc}") from exc


def _get(
    location: str,
    *,
    etag: str | None,
    timeout: float,
    max_bytes: int,
    progress: Callable[[int, int | None], None] | None,
) -> Fetched:
    import httpx  # noqa: PLC0415 - only a sync over HTTP needs it

    headers = {"Accept-Encoding": "gzip", "Accept": "application/json"}
    if etag is not None:
        headers["If-None-Match"] = etag
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=True) as client,
            client.stream("GET", location, headers=headers) as response,
        ):
            if response.status_code == _NOT_MODIFIED:
                return Fetched(location, None, etag)
            if response.status_code != _HTTP_OK:
                problem = f"the server answered HTTP {response.status_code}"
                raise UpstreamFetchError(location, problem)
            declared = response.headers.get("Content-Length")
            total = int(declared) if declared and declared.isdigit() else None
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    problem = f"the document is larger than {max_bytes} bytes"
                    raise UpstreamFetchError(location, problem)
                chunks.append(chunk)
                if progress is not None:
                    progress(response.num_bytes_downloaded, total)
            return Fetched(location, b"".join(chunks), response.headers.get("ETag"))
    except httpx.TimeoutException as exc:
        raise UpstreamFetchError(location, f"timed out after {timeout} s") from exc
    except httpx.HTTPError as exc:
        raise UpstreamFetchError(location, f"the request failed: {exc}") from exc
