"""The catalog over HTTP: an ASGI application (Starlette) served by uvicorn.

Rule: read-only; answers from the registry's cache (the public registry, the snapshots it
holds and the domain's rules), never the service layer or the database; imported only by the
``serve`` commands, so the CLI starts without the ``http`` extra.
"""

from __future__ import annotations
