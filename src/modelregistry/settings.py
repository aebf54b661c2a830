"""Where the catalog lives: the database URL from arguments and MODELREGISTRY_* variables.

Resolution order: the URL passed in, then ``MODELREGISTRY_DATABASE_URL``, then an embedded
SQLite file in the user data directory (``platformdirs``; on Linux
``$XDG_DATA_HOME/modelregistry/catalog.db``, by default ``~/.local/share/modelregistry``),
created on first use.
"""

from __future__ import annotations

import functools
import getpass
import os
from typing import TYPE_CHECKING, Final

from platformdirs import user_data_path

from modelregistry.errors import DatabaseError

if TYPE_CHECKING:
    from pathlib import Path

DATABASE_URL_VARIABLE: Final = "MODELREGISTRY_DATABASE_URL"
"""Environment variable naming the catalog database."""
DEFAULT_DATABASE_FILE: Final = "catalog.db"
"""File name of the embedded SQLite catalog inside the user data directory."""


def default_database_path() -> Path:
    """Return the path of the embedded SQLite catalog (not created here)."""
    return user_data_path("modelregistry", appauthor=False) / DEFAULT_DATABASE_FILE


def resolve_database_url(url: str | None = None) -> str:
    """Return the database URL to use, creating the default data directory when needed.

    Raises:
        DatabaseError: E4021, ``url`` is given but empty.
    """
    if url is not None:
        if not url.strip():
            msg = "the database URL is empty"
            raise DatabaseError(msg)
        return url
    from_environment = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if from_environment:
        return from_environment
    path = default_database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


FEED_URL_VARIABLE: Final = "MODELREGISTRY_FEED_URL"
"""Environment variable naming the change feed (``nats://host:port/stream``); unset: LISTEN."""


def resolve_feed_url(feed: str | None = None) -> str | None:
    """The change feed's URL: ``feed``, else ``MODELREGISTRY_FEED_URL``, else None (no feed)."""
    if feed is not None:
        return feed.strip() or None
    return os.environ.get(FEED_URL_VARIABLE, "").strip() or None


ACTOR_VARIABLE: Final = "MODELREGISTRY_ACTOR"
"""Environment variable naming who makes changes, when a write does not say."""


def default_actor() -> str:
    """Who makes a change when the caller does not say.

    ``MODELREGISTRY_ACTOR``, else the OS user, else ``uid:<n>`` (containers often have no user
    name for their uid).
    """
    from_environment = os.environ.get(ACTOR_VARIABLE, "").strip()
    if from_environment:
        return from_environment
    # getpass.getuser()'s order: its environment variables, then the password database,
    # which is asked once per process and uid (a lookup cost ~30 µs of every write).
    for name in _USER_VARIABLES:
        user = os.environ.get(name)
        if user:
            return user
    return _os_user(os.getuid()) if hasattr(os, "getuid") else "unknown"


_USER_VARIABLES: Final = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""The environment variables getpass.getuser() reads, in its order."""


@functools.lru_cache(maxsize=8)
def _os_user(uid: int) -> str:
    """The name of the user ``uid`` (``uid:<n>``: none in the password database)."""
    try:
        return getpass.getuser()  # (no variable set: the password database's name)
    except (OSError, KeyError):  # no name for this uid
        return f"uid:{uid}"
